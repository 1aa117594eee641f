# Generates C++ for etcd's v3 API protos (and the gogoproto / google.api protos they import) at
# build time. The generated code is a private object library folded into etcdpp; it never enters
# git and no public header includes it.

set(_etcdpp_proto_out "${PROJECT_BINARY_DIR}/proto")
# etcdpp's own: what etcd 3.5 added to its API, which the 3.4 protos lack.
set(_etcdpp_own_proto_root "${PROJECT_SOURCE_DIR}/src/proto")
set(_etcdpp_proto_roots
  "${ETCDPP_ETCD_PROTO_ROOT}" "${ETCDPP_GOGO_PROTO_ROOT}" "${ETCDPP_GOOGLEAPIS_ROOT}"
  "${_etcdpp_own_proto_root}")
# Each entry: <root>|<path below the root, as the imports spell it>.
set(_etcdpp_protos
  "${ETCDPP_GOGO_PROTO_ROOT}|gogoproto/gogo.proto"
  "${ETCDPP_GOOGLEAPIS_ROOT}|google/api/http.proto"
  "${ETCDPP_GOOGLEAPIS_ROOT}|google/api/annotations.proto"
  "${ETCDPP_ETCD_PROTO_ROOT}|etcd/mvcc/mvccpb/kv.proto"
  "${ETCDPP_ETCD_PROTO_ROOT}|etcd/auth/authpb/auth.proto"
  "${ETCDPP_ETCD_PROTO_ROOT}|etcd/etcdserver/etcdserverpb/rpc.proto"
  "${ETCDPP_ETCD_PROTO_ROOT}|etcd/etcdserver/api/v3lock/v3lockpb/v3lock.proto"
  "${ETCDPP_ETCD_PROTO_ROOT}|etcd/etcdserver/api/v3election/v3electionpb/v3election.proto"
  "${_etcdpp_own_proto_root}|etcd_3_5.proto")

set(_etcdpp_proto_include_args)
foreach(root IN LISTS _etcdpp_proto_roots)
  list(APPEND _etcdpp_proto_include_args "-I${root}")
endforeach()
# descriptor.proto, imported by gogo.proto and annotations.proto, comes with protobuf itself.
foreach(dir IN LISTS Protobuf_INCLUDE_DIRS)
  list(APPEND _etcdpp_proto_include_args "-I${dir}")
endforeach()

set(_etcdpp_proto_sources)
set(_etcdpp_proto_inputs)
foreach(entry IN LISTS _etcdpp_protos)
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 root)
  list(GET parts 1 rel)
  if(NOT EXISTS "${root}/${rel}")
    message(FATAL_ERROR "etcdpp: ${root}/${rel} not found. Install the Debian packages "
      "golang-etcd-server-dev, golang-github-gogo-protobuf-dev and "
      "golang-github-gogo-googleapis-dev (scripts/setup does), or set ETCDPP_ETCD_PROTO_ROOT, "
      "ETCDPP_GOGO_PROTO_ROOT and ETCDPP_GOOGLEAPIS_ROOT.")
  endif()
  list(APPEND _etcdpp_proto_inputs "${root}/${rel}")
  string(REGEX REPLACE "\\.proto$" "" stem "${rel}")
  list(APPEND _etcdpp_proto_sources "${_etcdpp_proto_out}/${stem}.pb.cc")
  set(_etcdpp_proto_outputs_${stem} "${_etcdpp_proto_out}/${stem}.pb.cc" "${_etcdpp_proto_out}/${stem}.pb.h")
  add_custom_command(
    OUTPUT "${_etcdpp_proto_out}/${stem}.pb.cc" "${_etcdpp_proto_out}/${stem}.pb.h"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${_etcdpp_proto_out}"
    COMMAND protobuf::protoc ${_etcdpp_proto_include_args} "--cpp_out=${_etcdpp_proto_out}" "${rel}"
    DEPENDS "${root}/${rel}" protobuf::protoc
    WORKING_DIRECTORY "${root}"
    COMMENT "Generating C++ from ${rel}"
    VERBATIM)
endforeach()

add_library(etcdpp_protos OBJECT ${_etcdpp_proto_sources})
target_include_directories(etcdpp_protos PUBLIC "$<BUILD_INTERFACE:${_etcdpp_proto_out}>")
target_link_libraries(etcdpp_protos PUBLIC protobuf::libprotobuf)
target_compile_features(etcdpp_protos PUBLIC cxx_std_20)
set_target_properties(etcdpp_protos PROPERTIES
  POSITION_INDEPENDENT_CODE ON
  CXX_VISIBILITY_PRESET hidden
  VISIBILITY_INLINES_HIDDEN ON)
