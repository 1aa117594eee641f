# Configures, builds and runs tests/subdir (etcdpp as a static library through add_subdirectory).
#   cmake -DSOURCE_DIR=<etcdpp> -DWORK_DIR=<scratch> -DCXX=<compiler> [-DLAUNCHER=ccache]
#         [-DBUILD_TYPE=...] -P subdir_test.cmake
set(launcher "")
if(LAUNCHER)
  set(launcher "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()
foreach(step configure build run)
  if(step STREQUAL "configure")
    set(cmd ${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/subdir" -B "${WORK_DIR}" -G Ninja
        "-DETCDPP_SOURCE_DIR=${SOURCE_DIR}" "-DCMAKE_CXX_COMPILER=${CXX}"
        "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}" ${launcher})
  elseif(step STREQUAL "build")
    set(cmd ${CMAKE_COMMAND} --build "${WORK_DIR}" --target consumer -j2)
  else()
    set(cmd "${WORK_DIR}/consumer")
  endif()
  execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${step} of the add_subdirectory consumer failed (${rc}):\n${out}${err}")
  endif()
endforeach()
message(STATUS "static add_subdirectory consumer: ${out}")
