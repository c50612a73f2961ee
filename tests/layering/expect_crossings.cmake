# Runs check_layers.cmake on tests/fixtures/layering, a tree with three known crossings, and fails
# unless the check fails and names each of them: the guard can fail.
#   cmake -DROOT=<fixture tree> -DCHECK=<check_layers.cmake> -P expect_crossings.cmake
execute_process(COMMAND "${CMAKE_COMMAND}" -DROOT=${ROOT} -P "${CHECK}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "check_layers passed a tree with crossings:\n${out}${err}")
endif()
foreach(expected
    "harness/src/core.cpp:4 includes \"task.hpp\" from tasks/"
    "plugins/good/good.cpp:4 includes \"beir.hpp\" from datasets/"
    "plugins/good/good.cpp:5 includes \"other.hpp\" from plugins/")
  string(FIND "${err}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "check_layers did not report: ${expected}\n${err}")
  endif()
endforeach()
string(FIND "${err}" "good.cpp:2" own)
if(NOT own EQUAL -1)
  message(FATAL_ERROR "check_layers refused a plugin's own header:\n${err}")
endif()
message(STATUS "check_layers found the three crossings and nothing else")
