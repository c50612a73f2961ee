# sentbench_add_plugin(<name> SOURCES <files...> [LIBRARIES <targets...>] [OUTPUT_DIR <dir>] [NO_INSTALL])
#
# Builds a sentbench plugin: a MODULE library named sentbench-<name>.so with hidden visibility (only the
# two BOOST_DLL_ALIAS symbols are exported), linked against libsentbench. Used in tree and, after
# `cmake --install`, by third parties through find_package(sentbench).
function(sentbench_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL;PCH" "OUTPUT_DIR" "SOURCES;LIBRARIES" ${ARGN})
  set(target sentbench_plugin_${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE sentbench::sentbench ${ARG_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME "sentbench-${name}" PREFIX ""
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON)
  if(ARG_PCH)
    target_precompile_headers(${target} PRIVATE <torch/torch.h>)
  endif()
  if(ARG_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR})
  elseif(DEFINED SENTBENCH_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${SENTBENCH_PLUGIN_OUTPUT_DIR})
  endif()
  if(NOT ARG_NO_INSTALL)
    if(NOT DEFINED SENTBENCH_PLUGIN_INSTALL_DIR)
      set(SENTBENCH_PLUGIN_INSTALL_DIR lib/sentbench/plugins)
    endif()
    install(TARGETS ${target} LIBRARY DESTINATION ${SENTBENCH_PLUGIN_INSTALL_DIR})
  endif()
endfunction()
