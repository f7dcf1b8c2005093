#include "netscope/flow/flow_table.hpp"

#include <gtest/gtest.h>

#include "../decode/frame_builder.hpp"

#include <map>
#include <random>
#include <vector>

namespace netscope::flow {
namespace {

FlowKey key(std::uint32_t i) {
  FlowKey k;
  k.ip_version = 4;
  k.protocol = 17;
  k.addr_a = {10, 0, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
  k.addr_b = {10, 1, 0, 1};
  k.port_a = static_cast<std::uint16_t>(i);
  k.port_b = 53;
  return k;
}

struct Table {
  explicit Table(std::uint32_t cap) : t(cap) {}
  FlowEntry* add(std::uint32_t i, std::uint64_t now) {
    bool created = false, did_evict = false;
    FlowEntry victim;
    FlowEntry* e = t.find_or_insert(key(i), hash(key(i)), created, victim, did_evict);
    if (did_evict) evicted.push_back(victim.key.port_a);
    t.touch(*e, now);
    return e;
  }
  FlowTable t;
  std::vector<std::uint16_t> evicted;
};

TEST(FlowTable, InsertFindTouch) {
  Table tb(16);
  for (std::uint32_t i = 0; i < 16; ++i) tb.add(i, i);
  EXPECT_EQ(tb.t.size(), 16u);
  for (std::uint32_t i = 0; i < 16; ++i) {
    FlowEntry* e = tb.t.find(key(i), hash(key(i)));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->key, key(i));
  }
  EXPECT_EQ(tb.t.find(key(99), hash(key(99))), nullptr);
  EXPECT_TRUE(tb.evicted.empty());
}

TEST(FlowTable, EvictsLeastRecentlyUsedWhenFull) {
  Table tb(16);
  for (std::uint32_t i = 0; i < 16; ++i) tb.add(i, 100 + i);
  tb.add(0, 200);  // 0 becomes the most recent; 1 is now the oldest
  tb.add(100, 201);
  ASSERT_EQ(tb.evicted.size(), 1u);
  EXPECT_EQ(tb.evicted[0], 1u);
  tb.add(101, 202);
  EXPECT_EQ(tb.evicted[1], 2u);
  EXPECT_EQ(tb.t.size(), 16u);
  EXPECT_EQ(tb.t.find(key(1), hash(key(1))), nullptr);
  EXPECT_NE(tb.t.find(key(0), hash(key(0))), nullptr);
}

TEST(FlowTable, ClosedFlowsAreEvictedFirst) {
  Table tb(16);
  for (std::uint32_t i = 0; i < 16; ++i) tb.add(i, 100 + i);
  tb.t.mark_closed(*tb.t.find(key(10), hash(key(10))));
  tb.add(200, 300);
  ASSERT_EQ(tb.evicted.size(), 1u);
  EXPECT_EQ(tb.evicted[0], 10u);
}

TEST(FlowTable, ExpiryIsBoundedAndOrdered) {
  Table tb(64);
  for (std::uint32_t i = 0; i < 40; ++i) tb.add(i, 1000 + i);
  FlowTimeouts to;
  to.idle_ns = 100;
  to.closed_ns = 10;
  std::vector<std::uint16_t> expired;
  auto cb = [&](const FlowEntry& e) { expired.push_back(e.key.port_a); };
  EXPECT_EQ(tb.t.expire(1100, to, 1000, cb), 1u);  // only flow 0 (last seen 1000) is idle >= 100
  EXPECT_EQ(expired, std::vector<std::uint16_t>{0});
  expired.clear();
  EXPECT_EQ(tb.t.expire(1130, to, 5, cb), 5u) << "bounded work per call";
  EXPECT_EQ(expired, (std::vector<std::uint16_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(tb.t.expire(1130, to, 100, cb), 25u);  // 6..30
  EXPECT_EQ(tb.t.size(), 9u);
  // A closed flow expires after the shorter timeout.
  FlowEntry* c = tb.t.find(key(35), hash(key(35)));
  tb.t.mark_closed(*c);
  expired.clear();
  EXPECT_EQ(tb.t.expire(1046, to, 100, cb), 1u);
  EXPECT_EQ(expired, std::vector<std::uint16_t>{35});
}

TEST(FlowTable, DrainEmptiesAndSlotsAreReused) {
  Table tb(32);
  for (std::uint32_t i = 0; i < 32; ++i) tb.add(i, i);
  std::size_t n = 0;
  EXPECT_EQ(tb.t.drain([&](const FlowEntry&) { ++n; }, 10), 10u);
  EXPECT_EQ(tb.t.drain([&](const FlowEntry&) { ++n; }), 22u);
  EXPECT_EQ(n, 32u);
  EXPECT_EQ(tb.t.size(), 0u);
  for (std::uint32_t i = 100; i < 132; ++i) tb.add(i, i);
  EXPECT_EQ(tb.t.size(), 32u);
  EXPECT_TRUE(tb.evicted.empty());
}

// Random inserts, touches and expiries against a std::map model: the index stays
// consistent through backward-shift deletions.
TEST(FlowTable, RandomOperationsMatchModel) {
  std::mt19937 rng(7);
  Table tb(256);
  std::map<std::uint32_t, std::uint64_t> model;  // key -> last seen
  std::uint64_t now = 0;
  FlowTimeouts to;
  to.idle_ns = 500;
  to.closed_ns = 500;
  for (int step = 0; step < 200000; ++step) {
    now += 1;
    const std::uint32_t k = rng() % 400;
    if (model.size() < 256 || model.count(k)) {
      tb.add(k, now);
      model[k] = now;
    }
    if (step % 97 == 0) {
      tb.t.expire(now, to, 1000, [&](const FlowEntry& e) {
        const std::uint32_t id = e.key.port_a;
        ASSERT_TRUE(model.count(id));
        ASSERT_LE(model[id] + 500, now);
        model.erase(id);
      });
    }
    ASSERT_EQ(tb.t.size(), model.size());
  }
  for (const auto& [k, seen] : model) {
    FlowEntry* e = tb.t.find(key(k), hash(key(k)));
    ASSERT_NE(e, nullptr) << k;
    EXPECT_EQ(e->last_seen_ns, seen);
  }
}

namespace tf = decode::test_frames;

/// Decodes a frame and builds its key both ways (with and without the hash).
FlowKey key_of(const tf::Buf& frame, bool& forward, std::uint64_t& h) {
  decode::DecodedPacket p;
  decode::decode_frame({frame.data(), frame.size()}, p);
  FlowKey k2;
  bool fwd2 = false;
  EXPECT_TRUE(flow_key_of(p, k2, fwd2));
  FlowKey k;
  EXPECT_TRUE(flow_key_of(p, k, forward, h));
  EXPECT_TRUE(k == k2);
  EXPECT_EQ(forward, fwd2);
  EXPECT_EQ(h, hash(k)) << "the hash computed with the key must be hash(key)";
  return k;
}

/// Swaps source and destination address and port of an IPv4/UDP frame built by tf.
tf::Buf reversed_ipv4_udp(tf::Buf f, std::size_t l3) {
  for (int i = 0; i < 4; ++i) std::swap(f[l3 + 12 + i], f[l3 + 16 + i]);
  const std::size_t l4 = l3 + 20;
  std::swap(f[l4], f[l4 + 2]);
  std::swap(f[l4 + 1], f[l4 + 3]);
  return f;
}

TEST(FlowKeyOf, BothDirectionsOneKeyWithItsHash) {
  const tf::Buf out = tf::cat({tf::ethernet(0x0800), tf::ipv4(17, 8 + 4), tf::udp(40000, 53, 4), tf::payload(4)});
  const tf::Buf back = reversed_ipv4_udp(out, 14);
  bool f1 = false, f2 = true;
  std::uint64_t h1 = 0, h2 = 0;
  const FlowKey k1 = key_of(out, f1, h1);
  const FlowKey k2 = key_of(back, f2, h2);
  EXPECT_TRUE(k1 == k2);
  EXPECT_EQ(h1, h2);
  EXPECT_NE(f1, f2);
  // 192.0.2.1 < 198.51.100.2: the sender of `out` is endpoint a.
  EXPECT_TRUE(f1);
  EXPECT_EQ(k1.addr_a[0], 192);
  EXPECT_EQ(k1.addr_b[0], 198);
  EXPECT_EQ(k1.port_a, 40000);
  EXPECT_EQ(k1.port_b, 53);
  EXPECT_EQ(k1.protocol, 17);
  EXPECT_EQ(k1.ip_version, 4);
  EXPECT_EQ(k1.vlan, 0);
}

TEST(FlowKeyOf, VlanAndIpv6AreInTheKey) {
  const tf::Buf tagged = tf::cat({tf::ethernet(0x8100), tf::vlan_tag(42, 0x0800), tf::ipv4(17, 8 + 4), tf::udp(1, 2, 4), tf::payload(4)});
  const tf::Buf plain = tf::cat({tf::ethernet(0x0800), tf::ipv4(17, 8 + 4), tf::udp(1, 2, 4), tf::payload(4)});
  bool f = false;
  std::uint64_t ht = 0, hp = 0;
  const FlowKey kt = key_of(tagged, f, ht);
  const FlowKey kp = key_of(plain, f, hp);
  EXPECT_EQ(kt.vlan, 42);
  EXPECT_FALSE(kt == kp);
  EXPECT_NE(ht, hp);
  const tf::Buf v6 = tf::cat({tf::ethernet(0x86DD), tf::ipv6(6, 20), tf::tcp(443, 50000, 1, 0, 0x10, {})});
  std::uint64_t h6 = 0;
  const FlowKey k6 = key_of(v6, f, h6);
  EXPECT_EQ(k6.ip_version, 6);
  EXPECT_EQ(k6.protocol, 6);
  EXPECT_TRUE(f);  // 2001:db8::1 < 2001:db8::2
  EXPECT_EQ(k6.addr_a[15], 1);
  EXPECT_EQ(k6.addr_b[15], 2);
  EXPECT_EQ(k6.port_a, 443);
  EXPECT_EQ(k6.port_b, 50000);
}

TEST(FlowTable, MemoryBudget) {
  FlowTable t(1u << 20);
  EXPECT_LE(t.memory_bytes() / (1u << 20), 256u) << "flow tables <= 256 bytes per flow";
}

}  // namespace
}  // namespace netscope::flow
