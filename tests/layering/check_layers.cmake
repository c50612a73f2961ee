# The layers read bottom-up; this script fails on any quoted #include that reaches a layer it must not.
#
#   harness/include (the SDK) and harness/src (the core library): the SDK and the core only
#   results/   the results model: the SDK
#   datasets/  data readers: the SDK
#   tasks/     task types and the suite: the SDK, datasets/, results/
#   reports/   reports, compare, regress: the SDK, results/ (no task type, no LibTorch header)
#   plugins/X  a plugin: the SDK and its own folder only (what a third party has)
#   harness/cli the executable: everything but a plugin's private files
#
# An include is resolved as the compiler would: next to the including file, then in the SDK
# (harness/include), then in every layer folder (the include paths of the targets); the first folder
# that has the file names the layer it comes from.
#
#   cmake -DROOT=<source tree> -P check_layers.cmake
cmake_minimum_required(VERSION 3.24)
if(NOT ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<source tree> -P check_layers.cmake")
endif()

set(layers harness/include harness/src harness/cli results datasets tasks reports plugins)
set(allowed_harness/include harness/include)
set(allowed_harness/src harness/include harness/src)
set(allowed_harness/cli harness/include harness/src harness/cli results datasets tasks reports)
set(allowed_results harness/include results)
set(allowed_datasets harness/include datasets)
set(allowed_tasks harness/include datasets results tasks)
set(allowed_reports harness/include results reports)
set(allowed_plugins harness/include plugins)  # and only the plugin's own folder: checked below

# The layer of a path relative to ROOT ("" outside every layer).
function(layer_of rel out)
  foreach(l IN LISTS layers)
    string(LENGTH "${l}/" n)
    string(SUBSTRING "${rel}" 0 ${n} head)
    if(head STREQUAL "${l}/")
      set(${out} "${l}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out} "" PARENT_SCOPE)
endfunction()

# Every folder under the layers that holds a header: where a bare include may come from.
file(GLOB_RECURSE headers RELATIVE "${ROOT}" "${ROOT}/harness/*.hpp" "${ROOT}/results/*.hpp" "${ROOT}/datasets/*.hpp"
     "${ROOT}/tasks/*.hpp" "${ROOT}/reports/*.hpp" "${ROOT}/plugins/*.hpp")
set(search_dirs "")
foreach(h IN LISTS headers)
  get_filename_component(d "${h}" DIRECTORY)
  list(APPEND search_dirs "${d}")
endforeach()
list(REMOVE_DUPLICATES search_dirs)
list(SORT search_dirs)

file(GLOB_RECURSE sources RELATIVE "${ROOT}" "${ROOT}/harness/*.cpp" "${ROOT}/harness/*.hpp" "${ROOT}/results/*.cpp"
     "${ROOT}/results/*.hpp" "${ROOT}/datasets/*.cpp" "${ROOT}/datasets/*.hpp" "${ROOT}/tasks/*.cpp" "${ROOT}/tasks/*.hpp"
     "${ROOT}/reports/*.cpp" "${ROOT}/reports/*.hpp" "${ROOT}/plugins/*.cpp" "${ROOT}/plugins/*.hpp")
set(violations 0)
foreach(src IN LISTS sources)
  layer_of("${src}" from)
  if(from STREQUAL "")
    continue()
  endif()
  get_filename_component(src_dir "${src}" DIRECTORY)
  file(STRINGS "${ROOT}/${src}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  file(STRINGS "${ROOT}/${src}" all_lines)
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*$" "\\1" inc "${line}")
    set(found "")
    if(EXISTS "${ROOT}/${src_dir}/${inc}")
      set(found "${src_dir}/${inc}")
    elseif(EXISTS "${ROOT}/harness/include/${inc}")
      set(found "harness/include/${inc}")
    else()
      foreach(d IN LISTS search_dirs)
        if(EXISTS "${ROOT}/${d}/${inc}")
          set(found "${d}/${inc}")
          break()
        endif()
      endforeach()
    endif()
    if(found STREQUAL "")
      continue()  # a system or generated header
    endif()
    file(RELATIVE_PATH found "${ROOT}" "${ROOT}/${found}")
    layer_of("${found}" to)
    set(ok FALSE)
    if(to IN_LIST allowed_${from})
      set(ok TRUE)
    endif()
    # A plugin reaches only the SDK and its own folder, not another plugin's.
    if(from STREQUAL "plugins" AND to STREQUAL "plugins")
      string(REGEX MATCH "^plugins/[^/]+/" own "${src}")
      string(REGEX MATCH "^plugins/[^/]+/" theirs "${found}")
      if(NOT own STREQUAL theirs)
        set(ok FALSE)
      endif()
    endif()
    if(NOT ok)
      list(FIND all_lines "${line}" index)
      math(EXPR number "${index} + 1")
      message("layer violation: ${src}:${number} includes \"${inc}\" from ${to}/ (${found}); ${from}/ may include only: ${allowed_${from}}")
      math(EXPR violations "${violations} + 1")
    endif()
  endforeach()
endforeach()
list(LENGTH sources checked)
if(violations GREATER 0)
  message(FATAL_ERROR "${violations} include(s) cross the layers (checked ${checked} files under ${ROOT})")
endif()
message(STATUS "layers hold: ${checked} files checked, no include crosses a layer")
