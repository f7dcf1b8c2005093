#include "netscope/analysis/topology.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "frames.hpp"

namespace netscope::analysis {
namespace {

using namespace test_frames;  // NOLINT(google-build-using-namespace)

constexpr std::uint64_t kSecond = 1'000'000'000ull;

decode::IpAddr v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  decode::IpAddr ip;
  ip.version = 4;
  ip.bytes[0] = a;
  ip.bytes[1] = b;
  ip.bytes[2] = c;
  ip.bytes[3] = d;
  return ip;
}

bool feed_arp(Topology& t, const Buf& frame, std::uint64_t now) {
  decode::DecodedPacket p;
  decode::decode_frame(decode::Bytes{frame.data(), frame.size()}, p);
  return t.observe_arp(decode::Bytes{frame.data(), frame.size()}, p, now);
}

TEST(Topology, ArpBindingsAndAChange) {
  AlertRing ring(8);
  Topology t({}, ring);
  ASSERT_TRUE(feed_arp(t, arp(1, kMacA, {10, 0, 0, 1}, {10, 0, 0, 254}), kSecond));
  ASSERT_TRUE(feed_arp(t, arp(2, kMacA, {10, 0, 0, 1}, {10, 0, 0, 254}), 2 * kSecond));  // same: quiet
  EXPECT_EQ(ring.size(), 0u);
  const HostInfo* h = t.find_host(v4(10, 0, 0, 1), 0);
  ASSERT_NE(h, nullptr);
  EXPECT_TRUE(h->mac_known);
  EXPECT_EQ(h->mac, kMacA);
  EXPECT_EQ(h->mac_seen_ns, 2 * kSecond);
  // Someone else answers for 10.0.0.1 (ARP spoofing, or a replaced NIC).
  ASSERT_TRUE(feed_arp(t, arp(2, kMacB, {10, 0, 0, 1}, {10, 0, 0, 254}), 3 * kSecond));
  Alert a;
  ASSERT_TRUE(ring.pop(a));
  EXPECT_EQ(a.type, AlertType::mac_ip_change);
  EXPECT_EQ(a.severity, Severity::medium);
  EXPECT_EQ(a.victim, v4(10, 0, 0, 1));
  EXPECT_EQ(a.mac_old, kMacA);
  EXPECT_EQ(a.mac_new, kMacB);
  EXPECT_EQ(a.first_ns, 2 * kSecond);
  EXPECT_EQ(a.last_ns, 3 * kSecond);
  EXPECT_EQ(t.find_host(v4(10, 0, 0, 1), 0)->mac, kMacB);
  EXPECT_EQ(t.find_host(v4(10, 0, 0, 1), 0)->mac_changes, 1u);
  EXPECT_EQ(t.counters().mac_changes.value(), 1u);
  EXPECT_EQ(t.counters().bindings.value(), 3u);
}

TEST(Topology, ArpProbesAndOtherFrames) {
  AlertRing ring(8);
  Topology t({}, ring);
  EXPECT_TRUE(feed_arp(t, arp(1, kMacA, {0, 0, 0, 0}, {10, 0, 0, 7}), 1));  // probe: no binding
  EXPECT_EQ(t.host_count(), 0u);
  EXPECT_FALSE(feed_arp(t, ipv4_fragment(V4{}, 0, false, udp_datagram(10)), 2));
  Buf truncated = arp(1, kMacA, {10, 0, 0, 1}, {10, 0, 0, 2});
  truncated.resize(30);
  EXPECT_FALSE(feed_arp(t, truncated, 3));
  EXPECT_EQ(t.counters().bad_arp.value(), 1u);
}

TEST(Topology, VlansKeepBindingsApart) {
  AlertRing ring(8);
  Topology t({}, ring);
  ASSERT_TRUE(feed_arp(t, arp(1, kMacA, {10, 0, 0, 1}, {10, 0, 0, 2}, 10), 1));
  ASSERT_TRUE(feed_arp(t, arp(1, kMacB, {10, 0, 0, 1}, {10, 0, 0, 2}, 20), 2));
  EXPECT_EQ(ring.size(), 0u);
  EXPECT_EQ(t.find_host(v4(10, 0, 0, 1), 10)->mac, kMacA);
  EXPECT_EQ(t.find_host(v4(10, 0, 0, 1), 20)->mac, kMacB);
}

TEST(Topology, HostsAndEdgesWithByteCounts) {
  AlertRing ring(8);
  Topology t({}, ring);
  const decode::IpAddr a = v4(10, 0, 0, 1);
  const decode::IpAddr b = v4(10, 0, 0, 2);
  const decode::IpAddr c = v4(8, 8, 8, 8);
  t.observe_traffic(a, b, 0, 1000, 1, 10);
  t.observe_traffic(b, a, 0, 300, 1, 20);
  t.observe_traffic(a, b, 0, 500, 1, 30);
  t.observe_traffic(a, c, 0, 64, 2, 40);
  EXPECT_EQ(t.host_count(), 3u);
  EXPECT_EQ(t.edge_count(), 2u);
  const HostInfo* ha = t.find_host(a, 0);
  ASSERT_NE(ha, nullptr);
  EXPECT_EQ(ha->bytes_sent, 1564u);
  EXPECT_EQ(ha->bytes_received, 300u);
  EXPECT_EQ(ha->packets_sent, 4u);
  EXPECT_EQ(ha->first_ns, 10u);
  EXPECT_EQ(ha->last_ns, 40u);
  EXPECT_FALSE(ha->mac_known);
  const EdgeInfo* ab = t.find_edge(b, a, 0);  // either order finds it
  ASSERT_NE(ab, nullptr);
  EXPECT_EQ(ab->bytes_ab, 1500u);  // a (10.0.0.1) is the lower address
  EXPECT_EQ(ab->bytes_ba, 300u);
  EXPECT_EQ(ab->packets_ab, 2u);
  const EdgeInfo* ac = t.find_edge(a, c, 0);
  ASSERT_NE(ac, nullptr);
  EXPECT_EQ(ac->bytes_ab, 0u);  // c (8.8.8.8) is the lower address
  EXPECT_EQ(ac->bytes_ba, 64u);
  EXPECT_EQ(t.find_edge(b, c, 0), nullptr);
  std::uint64_t total = 0;
  t.for_each_edge([&](const EdgeInfo& e) { total += e.bytes_ab + e.bytes_ba; });
  EXPECT_EQ(total, 1864u);
}

TEST(Topology, TablesAreBounded) {
  AlertRing ring(8);
  TopologyConfig cfg;
  cfg.max_hosts = 64;
  cfg.max_edges = 64;
  Topology t(cfg, ring);
  for (std::uint32_t i = 0; i < 1000; ++i) {
    t.observe_traffic(v4(10, 1, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)), v4(10, 2, 0, 1), 0,
                      100, 1, i);
  }
  EXPECT_LE(t.host_count(), 64u);
  EXPECT_LE(t.edge_count(), 64u);
  EXPECT_GE(t.counters().host_evictions.value(), 1000u - 64u);
  EXPECT_GE(t.counters().edge_evictions.value(), 1000u - 64u);
  EXPECT_LT(t.memory_bytes(), 64u * 1024u);
}

}  // namespace
}  // namespace netscope::analysis
