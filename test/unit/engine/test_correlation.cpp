#include <set>
#include "netscope/engine/correlation.hpp"

#include <gtest/gtest.h>

#include "frame_builder.hpp"
#include "netscope/engine/worker.hpp"

namespace netscope::engine {
namespace {

namespace tf = decode::test_frames;

constexpr std::uint16_t kA = 0;
constexpr std::uint16_t kB = 3;
constexpr std::uint64_t kMs = 1'000'000;

CorrelationConfig config(std::uint32_t max_pending = 1024, std::uint64_t window = 10 * kMs) {
  CorrelationConfig c;
  c.pairs = {{kA, kB}};
  c.window_ns = window;
  c.max_pending = max_pending;
  c.max_sas = 16;
  return c;
}

CorrelationTotals totals(const Correlator& c) {
  CorrelationTotals t;
  t.add(c.pair(0));
  return t;
}

TEST(CorrelationBuckets, EveryValueLiesInItsBucket) {
  for (std::int64_t v : {0LL, 1LL, 7LL, 8LL, 9LL, 15LL, 16LL, 17LL, 150'000LL, 150'001LL, 999'999LL, 1'000'000'000LL,
                         (1LL << 39) + 5}) {
    const std::size_t b = latency_bucket(v);
    ASSERT_LT(b, kLatencyBuckets);
    EXPECT_LE(latency_bucket_low(b), v) << v;
    EXPECT_GT(latency_bucket_high(b), v) << v;
  }
  EXPECT_EQ(latency_bucket(-5), 0u);
  EXPECT_EQ(latency_bucket(1LL << 50), kLatencyBuckets - 1);
  // Buckets are at most 1/8 of their value wide.
  const std::size_t b = latency_bucket(150'000);
  EXPECT_LE(latency_bucket_high(b) - latency_bucket_low(b), 150'000 / 8 + 1);
}

TEST(Correlator, MatchesInOrderWithExactLatencyAndLoss) {
  Correlator c(config());
  // 100 packets 1 ms apart on a; b sees them 150 us + (i % 5) us later, except 7 of them.
  const std::set<std::uint64_t> dropped = {3, 10, 11, 12, 40, 77, 99};
  for (std::uint64_t i = 0; i < 100; ++i) {
    const std::uint64_t t = 1'000 * kMs + i * kMs;
    c.on_identity(kA, t, 1000 + i, nullptr);
    if (!dropped.contains(i)) c.on_identity(kB, t + 150'000 + (i % 5) * 1000, 1000 + i, nullptr);
  }
  CorrelationTotals t = totals(c);
  EXPECT_EQ(t.matched, 93u);
  // The other side's clock passed all but the last drop's window already.
  EXPECT_EQ(t.lost_a_to_b, 6u);
  EXPECT_EQ(t.pending, 1u);
  c.flush();
  t = totals(c);
  EXPECT_EQ(t.lost_a_to_b, 7u);
  EXPECT_EQ(t.lost_b_to_a, 0u);
  EXPECT_EQ(t.pending, 0u);
  EXPECT_EQ(t.latency.count, 93u);
  EXPECT_EQ(t.latency.min, 150'000);
  EXPECT_EQ(t.latency.max, 154'000);
  EXPECT_EQ(t.latency.negative, 0u);
  EXPECT_GE(t.latency.quantile(0.5), 150'000);
  EXPECT_LE(t.latency.quantile(0.99), 154'000);
  EXPECT_NEAR(t.latency.mean(), 152'000, 200);
}

TEST(Correlator, MatchesWhenBIsProcessedFirst) {
  Correlator c(config());
  // All of b before any of a (two captures read one after the other); b lacks id 5, a lacks id 8.
  for (std::uint64_t i = 0; i < 20; ++i) {
    if (i != 5) c.on_identity(kB, i * kMs + 200'000, i, nullptr);
  }
  for (std::uint64_t i = 0; i < 20; ++i) {
    if (i != 8) c.on_identity(kA, i * kMs, i, nullptr);
  }
  c.flush();
  const CorrelationTotals t = totals(c);
  EXPECT_EQ(t.matched, 18u);
  EXPECT_EQ(t.lost_a_to_b, 1u);
  EXPECT_EQ(t.lost_b_to_a, 1u);
  EXPECT_EQ(t.latency.min, 200'000);
  EXPECT_EQ(t.latency.max, 200'000);
}

TEST(Correlator, ExpiresByTheOtherPortsClockOnly) {
  Correlator c(config(1024, 10 * kMs));
  c.on_identity(kA, 0, 42, nullptr);
  // Port a's own clock runs far ahead (a capture read faster): 42 keeps waiting.
  for (std::uint64_t i = 1; i <= 50; ++i) c.on_identity(kA, i * 100 * kMs, 1000 + i, nullptr);
  c.expire(1000);
  EXPECT_EQ(totals(c).lost_a_to_b, 0u);
  EXPECT_EQ(totals(c).pending, 51u);
  c.on_identity(kB, 3 * kMs, 42, nullptr);
  EXPECT_EQ(totals(c).matched, 1u);
  EXPECT_EQ(totals(c).latency.max, static_cast<std::int64_t>(3 * kMs));
  // Port b's clock passing 100 ms + window expires a's packet of 100 ms, not the later ones.
  c.on_identity(kB, 110 * kMs + 1, 7, nullptr);
  EXPECT_EQ(totals(c).lost_a_to_b, 1u);
  EXPECT_EQ(totals(c).pending, 50u);  // 49 of a, 1 of b
}

TEST(Correlator, CopiesFurtherApartThanTheWindowNeverMatchInEitherOrder) {
  for (const bool a_first : {true, false}) {
    Correlator c(config(1024, 10 * kMs));
    if (a_first) {
      c.on_identity(kA, 0, 9, nullptr);
      c.on_identity(kB, 10 * kMs + 1, 9, nullptr);
    } else {
      c.on_identity(kB, 10 * kMs + 1, 9, nullptr);
      c.on_identity(kA, 0, 9, nullptr);
    }
    c.flush();
    const CorrelationTotals t = totals(c);
    EXPECT_EQ(t.matched, 0u) << a_first;
    EXPECT_EQ(t.lost_a_to_b, 1u) << a_first;
    EXPECT_EQ(t.lost_b_to_a, 1u) << a_first;
  }
  // Exactly the window apart still matches.
  Correlator c(config(1024, 10 * kMs));
  c.on_identity(kA, 0, 9, nullptr);
  c.on_identity(kB, 10 * kMs, 9, nullptr);
  EXPECT_EQ(totals(c).matched, 1u);
}

TEST(Correlator, NegativeLatencyIsCountedAndKept) {
  Correlator c(config());
  c.on_identity(kB, 1'000'000, 1, nullptr);
  c.on_identity(kA, 1'000'500, 1, nullptr);
  c.on_identity(kA, 2'000'000, 2, nullptr);
  c.on_identity(kB, 2'000'300, 2, nullptr);
  const CorrelationTotals t = totals(c);
  EXPECT_EQ(t.matched, 2u);
  EXPECT_EQ(t.latency.min, -500);
  EXPECT_EQ(t.latency.max, 300);
  EXPECT_EQ(t.latency.negative, 1u);
  EXPECT_EQ(t.latency.sum, -200);
}

TEST(Correlator, FullTableCountsAndDoesNotTrack) {
  Correlator c(config(4));
  for (std::uint64_t i = 0; i < 6; ++i) c.on_identity(kA, i * 1000, i, nullptr);
  EXPECT_EQ(totals(c).pending, 4u);
  EXPECT_EQ(totals(c).untracked_full, 2u);
  for (std::uint64_t i = 0; i < 6; ++i) c.on_identity(kB, i * 1000 + 100, i, nullptr);
  c.flush();
  const CorrelationTotals t = totals(c);
  EXPECT_EQ(t.matched, 4u);
  // The two a packets never tracked: their b copies wait in vain.
  EXPECT_EQ(t.lost_b_to_a, 2u);
  EXPECT_EQ(t.lost_a_to_b, 0u);
  EXPECT_EQ(t.untracked_full, 2u);
}

TEST(Correlator, DuplicatesOnOnePortAreCountedSeparately) {
  Correlator c(config());
  c.on_identity(kA, 1000, 5, nullptr);
  c.on_identity(kA, 1100, 5, nullptr);
  c.on_identity(kB, 1500, 5, nullptr);
  c.on_identity(kB, 2000, 6, nullptr);
  c.on_identity(kB, 2100, 6, nullptr);
  c.on_identity(kA, 1900, 6, nullptr);
  c.flush();
  const CorrelationTotals t = totals(c);
  EXPECT_EQ(t.duplicates, 2u);
  EXPECT_EQ(t.matched, 2u);
  EXPECT_EQ(t.lost_a_to_b + t.lost_b_to_a, 0u);
  EXPECT_EQ(t.latency.min, 100);
  EXPECT_EQ(t.latency.max, 500);
}

TEST(Correlator, FlushCountsEveryWaitingPacketOnce) {
  Correlator c(config());
  c.on_identity(kA, 1, 1, nullptr);
  c.on_identity(kA, 2, 2, nullptr);
  c.on_identity(kB, 3, 3, nullptr);
  c.flush();
  c.flush();
  const CorrelationTotals t = totals(c);
  EXPECT_EQ(t.lost_a_to_b, 2u);
  EXPECT_EQ(t.lost_b_to_a, 1u);
  EXPECT_EQ(t.pending, 0u);
}

tf::Buf udp_frame(std::uint8_t ttl, std::uint16_t sport, std::uint8_t seed, bool vlan = false) {
  tf::Ipv4Opts o;
  o.ttl = ttl;
  tf::Buf ip = tf::ipv4(17, 8 + 24, o);
  if (vlan) return tf::cat({tf::ethernet(0x8100), tf::vlan_tag(10, 0x0800), ip, tf::udp(sport, 53, 24), tf::payload(24, seed)});
  return tf::cat({tf::ethernet(0x0800), ip, tf::udp(sport, 53, 24), tf::payload(24, seed)});
}

std::uint64_t identity_of(const tf::Buf& f) {
  decode::DecodedPacket p;
  decode::decode_frame(f, p);
  std::uint64_t id = 0;
  EXPECT_TRUE(correlation_identity(p, f, nullptr, 0, id));
  return id;
}

TEST(CorrelationIdentity, IgnoresWhatRoutersRewrite) {
  const std::uint64_t base = identity_of(udp_frame(64, 1000, 1));
  EXPECT_EQ(identity_of(udp_frame(63, 1000, 1)), base);         // TTL and IP checksum
  EXPECT_EQ(identity_of(udp_frame(64, 1000, 1, true)), base);   // a VLAN tag on one tap
  EXPECT_NE(identity_of(udp_frame(64, 1001, 1)), base);         // another port
  EXPECT_NE(identity_of(udp_frame(64, 1000, 2)), base);         // another payload
  // Non-IP frames have no identity.
  const tf::Buf arp = tf::cat({tf::ethernet(0x0806), tf::payload(28)});
  decode::DecodedPacket p;
  decode::decode_frame(arp, p);
  std::uint64_t id = 0;
  EXPECT_FALSE(correlation_identity(p, arp, nullptr, 0, id));
}

/// Through the Worker: ESP SAs and plain UDP on ports 0 and 3, per-SA results.
TEST(CorrelationWorker, PerSaResultsAndSideBNotSequenceTracked) {
  EngineConfig ec;
  ec.max_sas = 64;
  ec.max_flows = 1024;
  ec.correlation = config();
  CollectingSink sink(1024, 1024);
  Worker w(ec, sink);
  auto esp = [](std::uint32_t spi, std::uint32_t seq) {
    return tf::cat({tf::ethernet(0x0800), tf::ipv4(50, 8 + 16), tf::esp(spi, seq), tf::payload(16)});
  };
  std::uint64_t t = 5'000 * kMs;
  for (std::uint32_t s = 1; s <= 20; ++s, t += kMs) {
    const tf::Buf e7 = esp(7, s);
    const tf::Buf e8 = esp(8, s);
    const tf::Buf u = udp_frame(64, static_cast<std::uint16_t>(2000 + s), 3);
    w.process(e7, static_cast<std::uint32_t>(e7.size()), t, kA, s);
    w.process(e8, static_cast<std::uint32_t>(e8.size()), t, kA, s);
    w.process(u, static_cast<std::uint32_t>(u.size()), t, kA, s);
    if (s != 4 && s != 9) w.process(e7, static_cast<std::uint32_t>(e7.size()), t + 250'000, kB, s);
    w.process(e8, static_cast<std::uint32_t>(e8.size()), t + 300'000, kB, s);
    if (s != 13) w.process(u, static_cast<std::uint32_t>(u.size()), t + 100'000, kB, s);
  }
  const tf::Buf arp = tf::cat({tf::ethernet(0x0806), tf::payload(28)});
  w.process(arp, static_cast<std::uint32_t>(arp.size()), t, kB, 99);
  w.flush();
  const CorrelationView v = merge_correlation({w.correlator()});
  ASSERT_EQ(v.pairs.size(), 1u);
  const CorrelationTotals& pt = v.pairs[0].totals;
  EXPECT_EQ(pt.matched, 60u - 3u);
  EXPECT_EQ(pt.lost_a_to_b, 3u);
  EXPECT_EQ(pt.lost_b_to_a, 0u);
  EXPECT_EQ(pt.untracked_non_ip, 1u);
  EXPECT_EQ(pt.latency.min, 100'000);
  EXPECT_EQ(pt.latency.max, 300'000);
  ASSERT_EQ(v.pairs[0].sas.size(), 2u);
  for (const CorrelationSaView& s : v.pairs[0].sas) {
    ASSERT_TRUE(s.key.spi == 7 || s.key.spi == 8);
    EXPECT_EQ(s.totals.matched, s.key.spi == 7 ? 18u : 20u);
    EXPECT_EQ(s.totals.lost_a_to_b, s.key.spi == 7 ? 2u : 0u);
    EXPECT_EQ(s.totals.latency.min, s.key.spi == 7 ? 250'000 : 300'000);
    EXPECT_EQ(s.totals.latency.max, s.key.spi == 7 ? 250'000 : 300'000);
  }
  // The b copies are not a second sequence space: no duplicate events.
  EXPECT_EQ(w.counters().events[static_cast<std::size_t>(seq::EventType::duplicate)].value(), 0u);
}

TEST(CorrelationMerge, SumsWorkers) {
  Correlator c1(config());
  Correlator c2(config());
  c1.on_identity(kA, 0, 1, nullptr);
  c1.on_identity(kB, 100, 1, nullptr);
  c2.on_identity(kA, 0, 2, nullptr);
  c2.on_identity(kB, 900, 2, nullptr);
  c2.on_identity(kA, 1000, 3, nullptr);
  c2.flush();
  const CorrelationView v = merge_correlation({&c1, &c2});
  ASSERT_EQ(v.pairs.size(), 1u);
  EXPECT_EQ(v.pairs[0].totals.matched, 2u);
  EXPECT_EQ(v.pairs[0].totals.lost_a_to_b, 1u);
  EXPECT_EQ(v.pairs[0].totals.latency.min, 100);
  EXPECT_EQ(v.pairs[0].totals.latency.max, 900);
  EXPECT_EQ(v.pairs[0].totals.latency.sum, 1000);
  EXPECT_EQ(v.window_ns, 10 * kMs);
}

}  // namespace
}  // namespace netscope::engine

namespace netscope::engine {
namespace {

TEST(LatencySummary, QuantilesInterpolateInsideABucket) {
  // 150..160 us in 1 us steps, 100 of each: all in one log bucket (147.5..163.8 us).
  LatencyStats s;
  for (int k = 0; k < 100; ++k) {
    for (std::int64_t us = 150; us <= 160; ++us) s.add(us * 1000);
  }
  LatencySummary l;
  l.add(s);
  EXPECT_EQ(l.count, 1100u);
  EXPECT_NEAR(static_cast<double>(l.quantile(0.5)), 155'000, 1000);
  EXPECT_NEAR(static_cast<double>(l.quantile(0.9)), 159'000, 1000);
  EXPECT_NEAR(static_cast<double>(l.quantile(0.99)), 160'000, 1000);
  EXPECT_EQ(l.quantile(1.0), 160'000);
  EXPECT_GE(l.quantile(0.001), 150'000);
  // Spread over many buckets: within a bucket width (1/8) of the exact value.
  LatencyStats w;
  for (std::int64_t v = 1; v <= 10000; ++v) w.add(v * 100);
  LatencySummary lw;
  lw.add(w);
  EXPECT_NEAR(static_cast<double>(lw.quantile(0.5)), 500'000, 500'000 / 8.0);
  EXPECT_NEAR(static_cast<double>(lw.quantile(0.99)), 990'000, 990'000 / 8.0);
}

}  // namespace
}  // namespace netscope::engine
