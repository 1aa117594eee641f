# Installs the build into a new temporary prefix and runs the installed etcdpp program there
# with no LD_LIBRARY_PATH: an installed program must find its library from any prefix.
#   cmake -DBUILD_DIR=<build> -DWORK_DIR=<scratch> -P installed_tool_test.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/some prefix")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}"
  OUTPUT_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install into ${prefix} failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH "${prefix}/bin/etcdpp" version
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
file(REMOVE_RECURSE "${WORK_DIR}")
if(NOT rc EQUAL 0 OR NOT out MATCHES "etcdpp version: ")
  message(FATAL_ERROR "the installed etcdpp did not run (exit ${rc}):\n${out}${err}")
endif()
message(STATUS "installed etcdpp runs from ${prefix}: ${out}")
