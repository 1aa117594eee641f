// SPDX-License-Identifier: Apache-2.0
// A lease's time to live as etcd's answers give it, without a server.
#include <gtest/gtest.h>

#include "detail/convert.hpp"

namespace etcdpp {
namespace {

detail::pb::LeaseTimeToLiveResponse answer(std::int64_t ttl, std::int64_t granted) {
  detail::pb::LeaseTimeToLiveResponse r;
  r.set_id(0x1234);
  r.set_ttl(ttl);
  r.set_grantedttl(granted);
  r.add_keys("k");
  return r;
}

TEST(LeaseTimeToLiveTest, AnExpiredLeaseHasTtlMinusOneWhetherOrNotEtcdRevokedItYet) {
  // Not revoked yet: etcd counts the seconds since expiry below zero.
  const LeaseTimeToLiveResult late = detail::from_proto(answer(-4, 10));
  EXPECT_EQ(late.ttl, std::chrono::seconds(-1));
  EXPECT_EQ(late.granted_ttl, std::chrono::seconds(10));
  EXPECT_EQ(late.id, LeaseId{0x1234});
  EXPECT_EQ(late.keys, std::vector<std::string>{"k"});
  // Gone: etcd's own -1.
  const LeaseTimeToLiveResult gone = detail::from_proto(answer(-1, 0));
  EXPECT_EQ(gone.ttl, std::chrono::seconds(-1));
  EXPECT_EQ(gone.granted_ttl, std::chrono::seconds(0));
  // Alive, down to its last second.
  EXPECT_EQ(detail::from_proto(answer(7, 10)).ttl, std::chrono::seconds(7));
  EXPECT_EQ(detail::from_proto(answer(0, 10)).ttl, std::chrono::seconds(0));
}

}  // namespace
}  // namespace etcdpp
