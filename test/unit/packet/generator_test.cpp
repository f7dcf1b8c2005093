#include "netscope/packet/generator.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "netscope/packet/crypto.hpp"
#include "netscope/packet/wire.hpp"

// Counts heap allocations so that a test can prove that next() allocates nothing. Normal
// builds interpose malloc/calloc/realloc (C++ and OpenSSL allocations alike). Under ASan,
// which owns malloc, the C++ operator new is counted instead; OpenSSL's allocations are
// then covered by the normal build only.
namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NETSCOPE_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define NETSCOPE_TEST_ASAN 1
#endif

#ifdef NETSCOPE_TEST_ASAN
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop
#else
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* malloc(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
}
#endif

namespace netscope::packet {
namespace {

struct Frame {
  std::vector<std::uint8_t> bytes;
  std::uint64_t ts = 0;
};

std::vector<Frame> generate(const Scenario& sc, GeneratorOptions opt) {
  Generator g(sc, opt);
  std::vector<std::uint8_t> buf(g.max_frame_len());
  std::vector<Frame> out;
  std::uint64_t ts = 0;
  while (const std::size_t len = g.next(buf, ts)) {
    out.push_back({std::vector<std::uint8_t>(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(len)), ts});
  }
  return out;
}

GeneratorOptions with_count(std::uint64_t n, std::uint64_t seed = 1) {
  GeneratorOptions o;
  o.count = n;
  o.seed = seed;
  return o;
}

TEST(Generator, SameSeedSameBytesOtherSeedOtherBytes) {
  const Scenario demo = builtin_demo_scenario();
  const auto a = generate(demo, with_count(3000, 5));
  const auto b = generate(demo, with_count(3000, 5));
  const auto c = generate(demo, with_count(3000, 6));
  ASSERT_EQ(a.size(), 3000u);
  bool all_same = true, any_diff = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    all_same = all_same && a[i].bytes == b[i].bytes && a[i].ts == b[i].ts;
    any_diff = any_diff || a[i].bytes != c[i].bytes;
  }
  EXPECT_TRUE(all_same);
  EXPECT_TRUE(any_diff);
}

TEST(Generator, CountIsSplitByWeight) {
  Scenario sc = parse_scenario(R"(
flows:
  - {protocol: udp, weight: 1, l4: {src_port: 1}}
  - {protocol: udp, weight: 3, l4: {src_port: 2}}
  - {protocol: tcp, weight: 6, l4: {src_port: 3}}
)");
  Generator g(sc, with_count(1000));
  std::vector<std::uint8_t> buf(g.max_frame_len());
  std::uint64_t ts;
  while (g.next(buf, ts) != 0) {
  }
  EXPECT_EQ(g.produced(), 1000u);
  EXPECT_EQ(g.flow_packets(0), 100u);
  EXPECT_EQ(g.flow_packets(1), 300u);
  EXPECT_EQ(g.flow_packets(2), 600u);
}

TEST(Generator, ConstantPacingAndDuration) {
  const Scenario sc = parse_scenario("flows:\n  - protocol: udp\n");
  GeneratorOptions o;
  o.rate_pps = 1000;
  o.duration_ns = 10'000'000;  // 10 ms at 1000 pps: 10 frames
  o.start_time_ns = 5'000'000'000ull;
  const auto frames = generate(sc, o);
  ASSERT_EQ(frames.size(), 10u);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].ts, 5'000'000'000ull + i * 1'000'000ull);
  }
}

TEST(Generator, PoissonPacingHasTheRequestedMeanRate) {
  const Scenario sc = parse_scenario("flows:\n  - protocol: udp\n");
  GeneratorOptions o = with_count(20000);
  o.rate_pps = 1e5;
  o.pacing = Pacing::poisson;
  const auto frames = generate(sc, o);
  const double span = static_cast<double>(frames.back().ts - frames.front().ts) / 1e9;
  EXPECT_NEAR(static_cast<double>(frames.size() - 1) / span, 1e5, 3e3);
  for (std::size_t i = 1; i < frames.size(); ++i) ASSERT_GE(frames[i].ts, frames[i - 1].ts);
}

TEST(Generator, FrameSizesExcludeTheFcs) {
  for (const char* proto : {"udp", "tcp", "macsec", "ah"}) {
    SCOPED_TRACE(proto);
    const Scenario sc = parse_scenario(std::string("flows:\n  - protocol: ") + proto +
                                       "\n    crypto: none\n    size: 300\n");
    for (const Frame& f : generate(sc, with_count(20))) EXPECT_EQ(f.bytes.size(), 296u);
  }
  // ESP keeps payload + trailer a multiple of 4: up to 3 bytes shorter.
  for (std::uint32_t size = 200; size < 208; ++size) {
    const Scenario sc = parse_scenario("flows:\n  - protocol: esp\n    crypto: none\n    size: " +
                                       std::to_string(size) + "\n");
    for (const Frame& f : generate(sc, with_count(8))) {
      EXPECT_LE(f.bytes.size(), size - 4u);
      EXPECT_GE(f.bytes.size(), size - 7u);
    }
  }
}

TEST(Generator, ImixRatioAndRangeBounds) {
  const Scenario imix = parse_scenario("flows:\n  - {protocol: udp, size: imix}\n");
  std::map<std::size_t, int> sizes;
  for (const Frame& f : generate(imix, with_count(1200))) ++sizes[f.bytes.size()];
  EXPECT_EQ(sizes[60], 700);
  EXPECT_EQ(sizes[566], 400);
  EXPECT_EQ(sizes[1514], 100);
  const Scenario range = parse_scenario("flows:\n  - {protocol: udp, size: {min: 100, max: 110}}\n");
  std::map<std::size_t, int> seen;
  for (const Frame& f : generate(range, with_count(2000))) ++seen[f.bytes.size()];
  EXPECT_EQ(seen.size(), 11u);
  EXPECT_EQ(seen.begin()->first, 96u);
  EXPECT_EQ(seen.rbegin()->first, 106u);
}

TEST(Generator, SmallSizesGrowToFitTheHeaders) {
  const Scenario sc = parse_scenario(R"(
flows:
  - protocol: esp
    crypto: none
    size: 64
    ip: {src: "2001:db8::1", dst: "2001:db8::2"}
    esp: {mode: tunnel, outer: {src: "2001:db8::a", dst: "2001:db8::b"}}
)");
  for (const Frame& f : generate(sc, with_count(4))) {
    // 14 + 40 + 8 + 8 + (40 + 8 inner + 2 trailer, rounded to 52) + 16 ICV
    EXPECT_EQ(f.bytes.size(), 138u);
  }
}

TEST(Generator, JumboFrames) {
  const Scenario sc = parse_scenario(R"(
flows:
  - {protocol: macsec, size: 9000, macsec: {key: "000102030405060708090a0b0c0d0e0f"}}
)");
  Generator g(sc, with_count(3));
  EXPECT_EQ(g.max_frame_len(), 8996u);
  for (const Frame& f : generate(sc, with_count(3))) EXPECT_EQ(f.bytes.size(), 8996u);
}

TEST(Generator, BufferTooSmallYieldsNothing) {
  const Scenario sc = parse_scenario("flows:\n  - {protocol: udp, size: 1518}\n");
  Generator g(sc, with_count(3));
  std::vector<std::uint8_t> buf(100);
  std::uint64_t ts;
  EXPECT_EQ(g.next(buf, ts), 0u);
  EXPECT_EQ(g.produced(), 0u);
}

TEST(Generator, PlainFramesHaveValidIpv4Checksums) {
  const Scenario sc = parse_scenario(
      "flows:\n  - {protocol: udp, vlan: [{vid: 5}], size: {min: 64, max: 1518}, payload: random}\n");
  for (const Frame& f : generate(sc, with_count(200))) {
    ASSERT_EQ(load_be16(f.bytes.data() + 12), 0x8100);
    ASSERT_EQ(load_be16(f.bytes.data() + 16), 0x0800);
    const std::span<const std::uint8_t> ip(f.bytes.data() + 18, 20);
    EXPECT_EQ(internet_checksum(ip), 0);
    EXPECT_EQ(load_be16(ip.data() + 2), f.bytes.size() - 18);
  }
}

TEST(Generator, MacsecFramesVerifyWithTheirKeyIncludingXpnHighBits) {
  const Scenario sc = parse_scenario(R"(
flows:
  - protocol: macsec
    size: {min: 64, max: 200}
    payload: random
    macsec:
      cipher: gcm-aes-xpn-128
      key: "071b113b0ca743fecccf3d051f737382"
      salt: "e630e81a48de86a21c66fa6d"
      ssci: 5
      sci: "0x0102030405060007"
    sequence: {first: 0x2FFFFFFF0}
)");
  MacsecProtector rx(MacsecCipherSuite::gcm_aes_xpn_128, std::vector<std::uint8_t>{
      0x07, 0x1b, 0x11, 0x3b, 0x0c, 0xa7, 0x43, 0xfe, 0xcc, 0xcf, 0x3d, 0x05, 0x1f, 0x73, 0x73, 0x82},
      std::vector<std::uint8_t>{0xe6, 0x30, 0xe8, 0x1a, 0x48, 0xde, 0x86, 0xa2, 0x1c, 0x66, 0xfa, 0x6d}, 5);
  std::uint64_t pn = 0x2FFFFFFF0ull;
  for (Frame& f : generate(sc, with_count(40))) {
    ASSERT_EQ(load_be16(f.bytes.data() + 12), 0x88E5);
    EXPECT_EQ(load_be32(f.bytes.data() + 16), static_cast<std::uint32_t>(pn));
    const std::size_t secure = f.bytes.size() - 14 - 14 - 16;
    EXPECT_EQ(f.bytes[15], secure < 48 ? secure : 0) << "SL";
    EXPECT_TRUE(rx.verify(f.bytes, 28, 0x0102030405060007ull, pn, true)) << std::hex << pn;
    EXPECT_EQ(load_be16(f.bytes.data() + 28), 0x0800) << "decrypted secure data starts with the EtherType";
    ++pn;
  }
}

TEST(Generator, CryptoNoneWritesZeroIcv) {
  const Scenario sc = parse_scenario(R"(
flows:
  - {protocol: macsec, crypto: none, size: 128}
)");
  for (const Frame& f : generate(sc, with_count(3))) {
    for (std::size_t i = f.bytes.size() - 16; i < f.bytes.size(); ++i) EXPECT_EQ(f.bytes[i], 0);
  }
}

TEST(Generator, NoCryptoOverrideMatchesCryptoNone) {
  const Scenario real = parse_scenario(R"(
flows:
  - {protocol: macsec, size: 128, macsec: {key: "000102030405060708090a0b0c0d0e0f"}}
)");
  const Scenario none = parse_scenario("flows:\n  - {protocol: macsec, size: 128, crypto: none}\n");
  GeneratorOptions o = with_count(5);
  o.force_no_crypto = true;
  const auto a = generate(real, o);
  const auto b = generate(none, with_count(5));
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].bytes, b[i].bytes);
}

TEST(Generator, NextDoesNotAllocate) {
  const Scenario demo = builtin_demo_scenario();
  GeneratorOptions o = with_count(0);
  o.track_truth = false;
  Generator g(demo, o);
  std::vector<std::uint8_t> buf(g.max_frame_len());
  std::uint64_t ts;
  for (int i = 0; i < 100; ++i) ASSERT_GT(g.next(buf, ts), 0u);  // warm up OpenSSL
  const std::uint64_t control = g_allocations.load();
  auto* p = new std::vector<std::uint8_t>(64);
  asm volatile("" : : "r"(p) : "memory");  // keep the allocation from being elided
  delete p;
  ASSERT_GT(g_allocations.load(), control) << "the allocation counter must work";
  const std::uint64_t before = g_allocations.load();
  for (int i = 0; i < 20000; ++i) ASSERT_GT(g.next(buf, ts), 0u);
  EXPECT_EQ(g_allocations.load() - before, 0u);
}

TEST(Generator, ShardsPartitionFlows) {
  const Scenario demo = builtin_demo_scenario();
  GeneratorOptions o;
  o.shard_count = 3;
  std::size_t total = 0;
  for (std::uint32_t s = 0; s < 3; ++s) {
    o.shard_index = s;
    total += Generator(demo, o).flow_count();
  }
  EXPECT_EQ(total, demo.flows.size());
  o.shard_index = 3;
  EXPECT_THROW(Generator(demo, o), ConfigError);
}

TEST(Generator, DemoTruthCoversEveryAnomalyKind) {
  Generator g(builtin_demo_scenario(), with_count(20000, 1));
  std::vector<std::uint8_t> buf(g.max_frame_len());
  std::uint64_t ts;
  while (g.next(buf, ts) != 0) {
  }
  const auto j = nlohmann::json::parse(g.finish_truth());
  std::map<std::string, std::uint64_t> totals;
  std::uint64_t packets = 0;
  bool omitted = false;
  for (const auto& sa : j["sas"]) {
    for (const char* k : {"lost", "gaps", "duplicates", "reordered", "out_of_window", "rollovers",
                          "resets", "rekeys", "stuck"}) {
      totals[k] += sa[k].get<std::uint64_t>();
    }
    packets += sa["packets"].get<std::uint64_t>();
    omitted = omitted || !sa.contains("highest_seq");
  }
  for (const auto& [k, v] : totals) EXPECT_GT(v, 0u) << k;
  EXPECT_TRUE(omitted) << "the ESN flow starting with high bits omits first/highest_seq";
  EXPECT_EQ(packets, 16000u) << "all but the 4000 plain UDP/TCP packets belong to an SA";
  // The exact demo truth for seed 1, count 20000: a regression guard for the whole chain.
  std::map<std::string, std::uint64_t> want = {{"lost", 15}, {"gaps", 22}, {"duplicates", 33},
                                               {"reordered", 9}, {"out_of_window", 2},
                                               {"rollovers", 3}, {"resets", 1}, {"rekeys", 2},
                                               {"stuck", 1}};
  EXPECT_EQ(totals, want);
}

}  // namespace
}  // namespace netscope::packet

namespace netscope::packet {
namespace {

// The template path must write exactly what the field-by-field path writes, for every
// protocol variant, payload kind, size kind and sequence pattern, including IP id wrap.
void expect_templates_match_reference(const Scenario& sc, std::uint64_t count) {
  GeneratorOptions fast = with_count(count, 9);
  GeneratorOptions slow = fast;
  slow.templates = false;
  const auto a = generate(sc, fast);
  const auto b = generate(sc, slow);
  ASSERT_EQ(a.size(), count);
  ASSERT_EQ(b.size(), count);
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].bytes, b[i].bytes) << "frame " << i;
    ASSERT_EQ(a[i].ts, b[i].ts) << "frame " << i;
  }
}

TEST(GeneratorTemplates, DemoMatchesTheReferencePath) {
  expect_templates_match_reference(builtin_demo_scenario(), 20000);
}

Scenario every_variant_scenario() {
  return parse_scenario(R"(
flows:
  - {protocol: udp, size: 64}
  - {protocol: udp, size: imix, payload: counter, l4: {checksum: true}}
  - {protocol: tcp, size: 200, payload: random, l4: {protocol: tcp}}
  - {protocol: udp, size: 100, payload: {pattern: "a1b2c3"}, ip: {src: "2001:db8::1", dst: "2001:db8::2"}}
  - {protocol: udp, size: 128, vlan: [{tpid: 0x88a8, vid: 10}, {vid: 20}], payload: random, l4: {checksum: true}}
  - name: macsec-vlan
    protocol: macsec
    size: imix
    vlan: [{vid: 7}]
    macsec: {sci: 0x0011223344550001, key: "00112233445566778899aabbccddeeff"}
    sequence: {rekey_every: 50, gaps: {every: 7}}
  - name: macsec-xpn-integrity
    protocol: macsec
    size: 90
    macsec: {sci: 0x0011223344550002, e: false, c: false, cipher: gcm-aes-xpn-256,
             key: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
             salt: "000102030405060708090a0b", ssci: 7}
    sequence: {first: 0xfffffff0}
  - name: macsec-nosci
    protocol: macsec
    crypto: none
    size: 64
    macsec: {sc: false}
  - name: esp-tunnel
    protocol: esp
    size: 64
    ip: {src: 192.168.10.1, dst: 192.168.20.1}
    esp: {mode: tunnel, spi: 0x100, outer: {src: 203.0.113.1, dst: 203.0.113.2},
          key: "00112233445566778899aabbccddeeff", salt: "01020304"}
    sequence: {rekey_every: 30, duplicates: {every: 5}, reorder: {every: 9}}
  - name: esp-transport-v6-null
    protocol: esp
    size: imix
    ip: {src: "2001:db8::1", dst: "2001:db8::2"}
    esp: {spi: 0x200, algorithm: null-hmac-sha256-128, key: "0011223344556677", esn: true}
    sequence: {first: 0xffffffff00}
  - name: esp-udp-v6
    protocol: esp-udp
    size: 150
    ip: {src: "2001:db8::1", dst: "2001:db8::2"}
    esp: {spi: 0x300, key: "00112233445566778899aabbccddeeff", salt: "01020304"}
  - name: esp-udp-v4-tcp
    protocol: esp-udp
    size: 150
    l4: {protocol: tcp}
    esp: {spi: 0x310, key: "00112233445566778899aabbccddeeff", salt: "01020304"}
  - name: ah-tunnel
    protocol: ah
    size: 120
    ah: {mode: tunnel, spi: 0x400, outer: {src: 203.0.113.1, dst: 203.0.113.2},
         algorithm: hmac-sha1-96, key: "00112233445566778899"}
  - name: ah-v6
    protocol: ah
    size: imix
    ip: {src: "2001:db8::1", dst: "2001:db8::2"}
    ah: {spi: 0x500, key: "0011223344556677"}
)");
}

TEST(GeneratorTemplates, EveryVariantMatchesTheReferencePath) {
  // 70000 frames: every flow's IPv4 id wraps past 65535 at least once for the busiest ones.
  expect_templates_match_reference(every_variant_scenario(), 14 * 70000 / 10);
}

TEST(GeneratorTemplates, IpIdWrapsWithValidChecksums) {
  const Scenario sc = parse_scenario("flows:\n  - {protocol: udp, size: 64}\n");
  expect_templates_match_reference(sc, 70000);
}

// next_burst writes a batch of frames, then runs their ciphers: the bytes must not change.
// Without truth tracking a one-flow scenario takes next_burst's one-flow loop.
void expect_bursts_match_next(const Scenario& sc, std::uint64_t count, std::size_t burst,
                              bool truth = true) {
  const auto ref = generate(sc, with_count(count, 3));
  GeneratorOptions o = with_count(count, 3);
  o.track_truth = truth;
  Generator g(sc, o);
  std::vector<std::vector<std::uint8_t>> store(burst, std::vector<std::uint8_t>(g.max_frame_len()));
  std::vector<std::uint8_t*> bufs(burst);
  for (std::size_t i = 0; i < burst; ++i) bufs[i] = store[i].data();
  std::vector<std::uint32_t> lens(burst);
  std::size_t k = 0;
  while (const std::size_t n = g.next_burst(bufs.data(), lens.data(), burst)) {
    for (std::size_t i = 0; i < n; ++i, ++k) {
      ASSERT_LT(k, ref.size());
      ASSERT_EQ(std::vector<std::uint8_t>(store[i].begin(), store[i].begin() + lens[i]),
                ref[k].bytes)
          << "frame " << k << ", bursts of " << burst;
    }
  }
  EXPECT_EQ(k, count);
}

TEST(GeneratorTemplates, NextBurstGivesTheFramesOfNext) {
  expect_bursts_match_next(builtin_demo_scenario(), 1000, 32);
  // Bursts longer than one sealing batch, and odd ones that end mid-batch.
  expect_bursts_match_next(every_variant_scenario(), 5000, 64);
  expect_bursts_match_next(every_variant_scenario(), 1001, 7);
  // One flow of each protocol, through the one-flow loop (no truth) and the general one.
  const Scenario every = every_variant_scenario();
  for (const FlowSpec& flow : every.flows) {
    Scenario one = every;
    one.flows = {flow};
    for (const bool truth : {false, true}) {
      SCOPED_TRACE(flow.name + (truth ? " with truth" : " without truth"));
      expect_bursts_match_next(one, 333, 50, truth);
      expect_bursts_match_next(one, 100, 32, truth);
    }
  }
}

TEST(GeneratorFlowRates, EachFlowKeepsItsOwnConstantRate) {
  const Scenario sc = parse_scenario(R"(
flows:
  - {protocol: udp, rate_pps: 1000, l4: {src_port: 1}}
  - {protocol: udp, rate_pps: 250, l4: {src_port: 2}}
  - {protocol: udp, rate_pps: 3000.5, l4: {src_port: 3}}
)");
  GeneratorOptions o;
  o.duration_ns = 2'000'000'000;  // 2 s
  Generator probe(sc, o);
  EXPECT_DOUBLE_EQ(probe.requested_pps(), 4250.5);
  const auto frames = generate(sc, o);
  std::map<std::uint16_t, std::vector<std::uint64_t>> ts;
  std::uint64_t last = 0;
  for (const Frame& f : frames) {
    ASSERT_GE(f.ts, last) << "timestamps must not go back";
    last = f.ts;
    ts[load_be16(f.bytes.data() + 14 + 20)].push_back(f.ts - kDefaultStartTimeNs);
  }
  const std::map<std::uint16_t, double> rate = {{1, 1000}, {2, 250}, {3, 3000.5}};
  for (const auto& [port, r] : rate) {
    const auto& t = ts[port];
    // Frames at k / r seconds for every k with k / r < 2 s.
    ASSERT_EQ(t.size(), static_cast<std::size_t>(std::ceil(2 * r))) << "port " << port;
    for (std::size_t k = 0; k < t.size(); ++k) {
      ASSERT_NEAR(static_cast<double>(t[k]), static_cast<double>(k) * 1e9 / r, 1.0)
          << "port " << port << " frame " << k;
    }
  }
}

TEST(GeneratorFlowRates, PoissonPerFlowMeanRates) {
  const Scenario sc = parse_scenario(R"(
flows:
  - {protocol: udp, rate_pps: 20000, l4: {src_port: 1}}
  - {protocol: udp, rate_pps: 5000, l4: {src_port: 2}}
)");
  GeneratorOptions o;
  o.duration_ns = 4'000'000'000;
  o.pacing = Pacing::poisson;
  const auto frames = generate(sc, o);
  std::map<std::uint16_t, std::size_t> n;
  for (const Frame& f : frames) ++n[load_be16(f.bytes.data() + 14 + 20)];
  // 80000 and 20000 expected; 5 standard deviations of a Poisson count.
  EXPECT_NEAR(static_cast<double>(n[1]), 80000.0, 5 * std::sqrt(80000.0));
  EXPECT_NEAR(static_cast<double>(n[2]), 20000.0, 5 * std::sqrt(20000.0));
}

TEST(GeneratorFlowRates, AllOrNoneAndPositive) {
  EXPECT_THROW(parse_scenario(R"(
flows:
  - {protocol: udp, rate_pps: 10}
  - {protocol: udp}
)"),
               ConfigError);
  EXPECT_THROW(parse_scenario("flows:\n  - {protocol: udp, rate_pps: 0}\n"), ConfigError);
  EXPECT_THROW(parse_scenario("rate_pps: 5\nflows:\n  - {protocol: udp, rate_pps: 10}\n"),
               ConfigError);
  try {
    parse_scenario("flows:\n  - {protocol: udp}\n  - {protocol: udp, rate_pps: 3}\n");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("flows[1].rate_pps"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace netscope::packet
