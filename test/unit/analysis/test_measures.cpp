#include "netscope/analysis/measures.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

namespace netscope::analysis {
namespace {

constexpr std::uint64_t kSecond = 1'000'000'000ull;
constexpr std::uint64_t kT0 = 1'700'000'000ull * kSecond;

TEST(RateWindow, SteadyRate) {
  RateWindow<61> w;
  // 1000 packets of 100 bytes in each of 10 seconds.
  for (std::uint64_t s = 0; s < 10; ++s) {
    for (std::uint64_t i = 0; i < 1000; ++i) w.add(kT0 + s * kSecond + i * 1'000'000, 100);
  }
  const Rate r1 = w.rate(kT0 + 10 * kSecond + kSecond / 2, 1);
  EXPECT_DOUBLE_EQ(r1.packets_per_second, 1000.0);
  EXPECT_DOUBLE_EQ(r1.bits_per_second, 800'000.0);
  const Rate r10 = w.rate(kT0 + 10 * kSecond, 10);
  EXPECT_DOUBLE_EQ(r10.packets_per_second, 1000.0);
  // 60 s window: 10 busy seconds among 60.
  const Rate r60 = w.rate(kT0 + 10 * kSecond, 60);
  EXPECT_NEAR(r60.packets_per_second, 10000.0 / 60, 1e-9);
  // The current second is partial and left out.
  w.add(kT0 + 10 * kSecond + 1, 1'000'000);
  EXPECT_DOUBLE_EQ(w.rate(kT0 + 10 * kSecond + 2, 1).packets_per_second, 1000.0);
  EXPECT_EQ(w.current_bytes(kT0 + 10 * kSecond + 3), 1'000'000u);
}

TEST(RateWindow, QuietSecondsAndJumps) {
  RateWindow<8> w;
  w.add(kT0, 1000, 10);
  w.add(kT0 + 3 * kSecond, 3000, 30);  // seconds 1 and 2 had nothing
  const Rate r = w.rate(kT0 + 4 * kSecond, 4);
  EXPECT_DOUBLE_EQ(r.packets_per_second, 40.0 / 4);
  EXPECT_DOUBLE_EQ(r.bits_per_second, 4000.0 * 8 / 4);
  // Long after the last packet everything reads zero, and a jump clears old buckets.
  EXPECT_DOUBLE_EQ(w.rate(kT0 + 100 * kSecond, 7).packets_per_second, 0.0);
  w.add(kT0 + 100 * kSecond, 500, 5);
  EXPECT_DOUBLE_EQ(w.rate(kT0 + 101 * kSecond, 7).packets_per_second, 5.0 / 7);
  // The window is clamped to Seconds - 1.
  EXPECT_DOUBLE_EQ(w.rate(kT0 + 101 * kSecond, 1000).packets_per_second, 5.0 / 7);
}

TEST(RateWindow, PerFlowIsSmall) {
  static_assert(std::is_trivially_copyable_v<FlowRate>);
  FlowRate f;
  for (int i = 0; i < 50; ++i) f.add(kT0 + static_cast<std::uint64_t>(i) * 10'000'000, 1500);
  EXPECT_DOUBLE_EQ(f.rate(kT0 + kSecond, 1).packets_per_second, 50.0);
  EXPECT_DOUBLE_EQ(f.rate(kT0 + kSecond, 1).bits_per_second, 50.0 * 1500 * 8);
  EXPECT_DOUBLE_EQ(f.rate(kT0 + 2 * kSecond, 1).packets_per_second, 0.0);
}

flow::FlowKey flow_key(std::uint32_t i) {
  flow::FlowKey k;
  k.ip_version = 4;
  k.protocol = 6;
  k.addr_a = {10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
  k.addr_b = {192, 168, 0, 1};
  k.port_a = static_cast<std::uint16_t>(1024 + i % 50000);
  k.port_b = 443;
  return k;
}

TEST(SpaceSaving, FindsTheHeavyHittersOfAKnownDistribution) {
  // 10 elephants (1 MB down to 100 kB each) hidden among 20000 mice (10..100 bytes),
  // interleaved at random, in a 128-entry sketch: every elephant is above total/128,
  // so it must be monitored, and 100 kB apart, more than the error bound, so the
  // order must be right.
  std::mt19937 rng(12345);
  std::vector<std::pair<std::uint32_t, std::uint64_t>> packets;
  std::map<std::uint32_t, std::uint64_t> truth;
  for (std::uint32_t e = 0; e < 10; ++e) {
    const std::uint64_t total = 1'000'000 - e * 100'000;
    for (std::uint64_t sent = 0; sent < total; sent += 1000) packets.emplace_back(e, 1000);
    truth[e] = total;
  }
  std::uniform_int_distribution<std::uint64_t> size(10, 100);
  for (std::uint32_t m = 0; m < 20000; ++m) {
    const std::uint64_t b = size(rng);
    packets.emplace_back(1000 + m, b);
    truth[1000 + m] = b;
  }
  std::shuffle(packets.begin(), packets.end(), rng);
  SpaceSaving<flow::FlowKey> ss(128);
  std::uint64_t total = 0;
  for (const auto& [id, bytes] : packets) {
    const flow::FlowKey k = flow_key(id);
    ss.add(k, flow::hash(k), bytes);
    total += bytes;
  }
  EXPECT_EQ(ss.total(), total);
  EXPECT_EQ(ss.size(), 128u);
  std::vector<SpaceSaving<flow::FlowKey>::Entry> top(10);
  ASSERT_EQ(ss.top(top), 10u);
  for (std::uint32_t e = 0; e < 10; ++e) {
    EXPECT_EQ(top[e].key, flow_key(e)) << "rank " << e;
    // Bounds: count - error <= true <= count, and error <= total / capacity.
    EXPECT_LE(top[e].count - top[e].error, truth[e]);
    EXPECT_GE(top[e].count, truth[e]);
    EXPECT_LE(top[e].error, total / 128);
  }
  // Every monitored key obeys the bounds.
  std::vector<SpaceSaving<flow::FlowKey>::Entry> all(200);
  const std::size_t n = ss.top(all);
  EXPECT_EQ(n, 128u);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t id = (static_cast<std::uint32_t>(all[i].key.addr_a[1]) << 16) |
                             (static_cast<std::uint32_t>(all[i].key.addr_a[2]) << 8) | all[i].key.addr_a[3];
    EXPECT_LE(all[i].count - all[i].error, truth[id]);
    EXPECT_GE(all[i].count, truth[id]);
    if (i > 0) {
      EXPECT_GE(all[i - 1].count, all[i].count);
    }
  }
  const flow::FlowKey e0 = flow_key(0);
  ASSERT_NE(ss.find(e0, flow::hash(e0)), nullptr);
  ss.clear();
  EXPECT_EQ(ss.size(), 0u);
  EXPECT_EQ(ss.find(e0, flow::hash(e0)), nullptr);
}

TEST(SpaceSaving, ExactWhileUnderCapacity) {
  SpaceSaving<HostKey> ss(8);
  decode::IpAddr ip;
  ip.version = 4;
  for (std::uint8_t i = 1; i <= 5; ++i) {
    ip.bytes[3] = i;
    const HostKey k = host_key(ip);
    for (int n = 0; n < i; ++n) ss.add(k, hash(k), 100);
  }
  std::array<SpaceSaving<HostKey>::Entry, 8> out{};
  ASSERT_EQ(ss.top(out), 5u);
  for (std::size_t r = 0; r < 5; ++r) {
    EXPECT_EQ(out[r].key.addr[3], 5 - r);
    EXPECT_EQ(out[r].count, (5 - r) * 100u);
    EXPECT_EQ(out[r].error, 0u);
  }
}

TEST(TopTalkers, CreditsBothHosts) {
  TopTalkers t(16, 16);
  decode::IpAddr a;
  a.version = 4;
  a.bytes[0] = 10;
  a.bytes[3] = 1;
  decode::IpAddr b = a;
  b.bytes[3] = 2;
  decode::IpAddr c = a;
  c.bytes[3] = 3;
  const flow::FlowKey f1 = flow_key(1);
  const flow::FlowKey f2 = flow_key(2);
  t.add(f1, flow::hash(f1), a, b, 0, 1000);
  t.add(f1, flow::hash(f1), b, a, 0, 500);
  t.add(f2, flow::hash(f2), a, c, 0, 200);
  std::array<TopTalkers::HostEntry, 4> hosts{};
  ASSERT_EQ(t.top_hosts(hosts), 3u);
  EXPECT_EQ(hosts[0].key, host_key(a));
  EXPECT_EQ(hosts[0].count, 1700u);
  EXPECT_EQ(hosts[1].key, host_key(b));
  EXPECT_EQ(hosts[1].count, 1500u);
  EXPECT_EQ(hosts[2].count, 200u);
  std::array<TopTalkers::FlowEntry, 1> flows{};
  ASSERT_EQ(t.top_flows(flows), 1u);
  EXPECT_EQ(flows[0].key, f1);
  EXPECT_EQ(flows[0].count, 1500u);
  EXPECT_GT(t.memory_bytes(), 0u);
}

}  // namespace
}  // namespace netscope::analysis
