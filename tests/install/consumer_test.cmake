# Installs the build into a new temporary prefix, then builds and runs the consumer program two
# ways a user would: a CMake project with find_package(etcdpp), and one g++ line with
# pkg-config. Neither sets LD_LIBRARY_PATH: what is installed runs from where it is.
#   cmake -DBUILD_DIR=<build> -DSOURCE_DIR=<tests/install> -DWORK_DIR=<scratch>
#         -DCXX=<compiler> [-DLAUNCHER=ccache] -P consumer_test.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

run("cmake --install" ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")

set(launcher "")
if(LAUNCHER)
  set(launcher "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()
run("configuring the find_package consumer" ${CMAKE_COMMAND} -S "${SOURCE_DIR}"
    -B "${WORK_DIR}/cmake" -G Ninja "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_CXX_COMPILER=${CXX}"
    ${launcher})
run("building the find_package consumer" ${CMAKE_COMMAND} --build "${WORK_DIR}/cmake")
run("running the find_package consumer"
    ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH "${WORK_DIR}/cmake/consumer")
message(STATUS "find_package consumer: ${last_output}")

file(GLOB_RECURSE pc_files "${prefix}/*/etcdpp.pc")
list(GET pc_files 0 pc_file)
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
run("pkg-config" ${CMAKE_COMMAND} -E env "PKG_CONFIG_PATH=${pc_dir}"
    pkg-config --cflags --libs etcdpp)
string(STRIP "${last_output}" flags)
separate_arguments(flags UNIX_COMMAND "${flags}")
run("building the pkg-config consumer"
    ${CXX} "${SOURCE_DIR}/main.cpp" -o "${WORK_DIR}/pc_consumer" ${flags})
run("running the pkg-config consumer"
    ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH "${WORK_DIR}/pc_consumer")
message(STATUS "pkg-config consumer: ${last_output}")
file(REMOVE_RECURSE "${WORK_DIR}")
