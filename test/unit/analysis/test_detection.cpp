// Synthetic traffic crossing each detection threshold, and staying just under it.
#include "netscope/analysis/detection.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace netscope::analysis {
namespace {

constexpr std::uint64_t kSecond = 1'000'000'000ull;
constexpr std::uint64_t kT0 = 1'700'000'000ull * kSecond;

decode::IpAddr v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  decode::IpAddr ip;
  ip.version = 4;
  ip.bytes[0] = a;
  ip.bytes[1] = b;
  ip.bytes[2] = c;
  ip.bytes[3] = d;
  return ip;
}

struct Lab {
  explicit Lab(DetectionConfig cfg = {}) : ring(64), det(cfg, ring) {}
  std::vector<Alert> drain() {
    std::vector<Alert> out(ring.size());
    out.resize(ring.pull(out));
    return out;
  }
  AlertRing ring;
  Detector det;
};

const decode::IpAddr kVictim = v4(192, 168, 1, 10);
const decode::IpAddr kScanner = v4(203, 0, 113, 66);

TEST(SynFlood, JustUnderTheThresholdEverySecond) {
  DetectionConfig cfg;
  cfg.syn_flood_half_open = 100;
  Lab lab(cfg);
  for (std::uint64_t s = 0; s < 5; ++s) {
    for (std::uint32_t i = 0; i < 99; ++i) {
      lab.det.on_connection_attempt(v4(10, 0, static_cast<std::uint8_t>(i), 1), kVictim, 80, 0,
                                    kT0 + s * kSecond + i * 1'000'000);
    }
  }
  EXPECT_TRUE(lab.drain().empty());
}

TEST(SynFlood, CrossingRaisesOneAlertPerHoldoff) {
  DetectionConfig cfg;
  cfg.syn_flood_half_open = 100;
  cfg.holdoff_ns = 10 * kSecond;
  Lab lab(cfg);
  for (std::uint32_t i = 0; i < 100; ++i) {
    lab.det.on_connection_attempt(v4(10, 0, static_cast<std::uint8_t>(i), 2), kVictim, 80, 0, kT0 + i * 1'000'000);
  }
  std::vector<Alert> a = lab.drain();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].type, AlertType::syn_flood);
  EXPECT_EQ(a[0].severity, Severity::high);
  EXPECT_EQ(a[0].victim, kVictim);
  EXPECT_EQ(a[0].attacker, v4(10, 0, 99, 2));
  EXPECT_EQ(a[0].count, 100u);
  EXPECT_EQ(a[0].threshold, 100u);
  EXPECT_EQ(a[0].port, 80u);
  EXPECT_EQ(a[0].first_ns, kT0);
  EXPECT_EQ(a[0].last_ns, kT0 + 99 * 1'000'000);
  // The flood goes on: nothing new within the holdoff, one more after it.
  for (std::uint64_t s = 1; s < 12; ++s) {
    for (std::uint32_t i = 0; i < 150; ++i) {
      lab.det.on_connection_attempt(v4(10, 1, static_cast<std::uint8_t>(i), 2), kVictim, 80, 0,
                                    kT0 + s * kSecond + i * 1'000'000);
    }
  }
  a = lab.drain();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].first_ns, kT0 + 10 * kSecond);
  EXPECT_EQ(lab.det.counters().alerts[static_cast<std::size_t>(AlertType::syn_flood)].value(), 2u);
}

TEST(SynFlood, CompletedHandshakesAreNotHalfOpen) {
  DetectionConfig cfg;
  cfg.syn_flood_half_open = 100;
  Lab lab(cfg);
  for (std::uint32_t i = 0; i < 500; ++i) {
    const decode::IpAddr client = v4(10, 2, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i));
    lab.det.on_connection_attempt(client, kVictim, 443, 0, kT0 + i * 1'000'000);
    lab.det.on_connection_established(client, kVictim, 443, 0, kT0 + i * 1'000'000 + 500'000);
  }
  EXPECT_TRUE(lab.drain().empty());
  // Other destinations are counted apart.
  for (std::uint32_t i = 0; i < 99; ++i) {
    lab.det.on_connection_attempt(v4(10, 3, 0, static_cast<std::uint8_t>(i)), v4(192, 168, 1, 11), 80, 0,
                                  kT0 + i * 1000);
    lab.det.on_connection_attempt(v4(10, 3, 1, static_cast<std::uint8_t>(i)), v4(192, 168, 1, 12), 80, 0,
                                  kT0 + i * 1000);
  }
  EXPECT_TRUE(lab.drain().empty());
}

TEST(PortScan, FourteenPortsThenFifteen) {
  Lab lab;  // Zeek's defaults: 15 ports, 25 hosts, 5 minutes
  for (std::uint16_t p = 1; p <= 14; ++p) {
    lab.det.on_connection_failed(kScanner, kVictim, p, 0, kT0 + p * kSecond);
    lab.det.on_connection_failed(kScanner, kVictim, p, 0, kT0 + p * kSecond + 1);  // repeats do not count
  }
  EXPECT_TRUE(lab.drain().empty());
  lab.det.on_connection_failed(kScanner, kVictim, 15, 0, kT0 + 20 * kSecond);
  std::vector<Alert> a = lab.drain();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].type, AlertType::port_scan);
  EXPECT_EQ(a[0].attacker, kScanner);
  EXPECT_EQ(a[0].victim, kVictim);
  EXPECT_EQ(a[0].count, 15u);
  EXPECT_EQ(a[0].threshold, 15u);
  EXPECT_EQ(a[0].first_ns, kT0 + kSecond);
  EXPECT_EQ(a[0].last_ns, kT0 + 20 * kSecond);
  EXPECT_EQ(a[0].severity, Severity::medium);
  // Once per window.
  for (std::uint16_t p = 16; p <= 40; ++p) lab.det.on_connection_failed(kScanner, kVictim, p, 0, kT0 + 30 * kSecond);
  EXPECT_TRUE(lab.drain().empty());
}

TEST(PortScan, SlowScanSpreadOverWindowsStaysQuiet) {
  Lab lab;
  // 14 ports, then 14 more after the 5-minute window restarted.
  for (std::uint16_t p = 1; p <= 14; ++p) lab.det.on_connection_failed(kScanner, kVictim, p, 0, kT0);
  for (std::uint16_t p = 15; p <= 28; ++p) {
    lab.det.on_connection_failed(kScanner, kVictim, p, 0, kT0 + 300 * kSecond + p);
  }
  EXPECT_TRUE(lab.drain().empty());
  // One host per (scanner, port): no host scan either.
  EXPECT_EQ(lab.det.counters().alerts[static_cast<std::size_t>(AlertType::host_scan)].value(), 0u);
}

TEST(HostScan, TwentyFourHostsThenTwentyFive) {
  Lab lab;
  for (std::uint8_t h = 1; h <= 24; ++h) {
    lab.det.on_connection_failed(kScanner, v4(192, 168, 2, h), 22, 0, kT0 + h * kSecond);
    lab.det.on_connection_failed(kScanner, v4(192, 168, 2, h), 23, 0, kT0 + h * kSecond);  // another port
  }
  EXPECT_TRUE(lab.drain().empty());
  lab.det.on_connection_failed(kScanner, v4(192, 168, 2, 25), 22, 0, kT0 + 60 * kSecond);
  std::vector<Alert> a = lab.drain();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].type, AlertType::host_scan);
  EXPECT_EQ(a[0].attacker, kScanner);
  EXPECT_EQ(a[0].port, 22u);
  EXPECT_EQ(a[0].count, 25u);
  EXPECT_EQ(a[0].threshold, 25u);
  EXPECT_EQ(a[0].victim, v4(192, 168, 2, 25));
}

DetectionConfig ddos_config() {
  DetectionConfig cfg;
  cfg.ddos_min_pps = 500;
  cfg.ddos_factor = 10;
  cfg.ddos_warmup_s = 10;
  cfg.ddos_alpha = 0.1;
  return cfg;
}

/// `pps` packets to `dst` spread over second `s`.
void packets(Detector& d, const decode::IpAddr& dst, std::uint64_t s, std::uint32_t pps) {
  for (std::uint32_t i = 0; i < pps; ++i) {
    d.on_packet(v4(10, 9, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)), dst, 0,
                kT0 + s * kSecond + (kSecond / pps) * i);
  }
}

TEST(Ddos, JustUnderTenTimesTheBaseline) {
  Lab lab(ddos_config());
  for (std::uint64_t s = 0; s < 20; ++s) packets(lab.det, kVictim, s, 100);  // baseline 100 pps
  packets(lab.det, kVictim, 20, 999);                                        // threshold 1000
  packets(lab.det, kVictim, 21, 100);
  EXPECT_TRUE(lab.drain().empty());
}

TEST(Ddos, CrossingTenTimesTheBaseline) {
  Lab lab(ddos_config());
  for (std::uint64_t s = 0; s < 20; ++s) packets(lab.det, kVictim, s, 100);
  packets(lab.det, kVictim, 20, 1000);
  std::vector<Alert> a = lab.drain();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].type, AlertType::ddos);
  EXPECT_EQ(a[0].victim, kVictim);
  EXPECT_EQ(a[0].attacker.version, 0u);  // many sources: no single attacker
  EXPECT_EQ(a[0].count, 1000u);
  EXPECT_EQ(a[0].threshold, 1000u);
  EXPECT_EQ(a[0].baseline, 100u);
  EXPECT_EQ(a[0].first_ns, kT0 + 20 * kSecond);
  // The attack seconds stay out of the baseline: after the 10 s holdoff (from 20.999 s)
  // it is still an attack, raised again in the first second crossing after it.
  for (std::uint64_t s = 21; s < 40; ++s) packets(lab.det, kVictim, s, 2000);
  a = lab.drain();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].first_ns, kT0 + 31 * kSecond);  // 30 s crossed at 30.4995 s, inside the holdoff
  EXPECT_EQ(a[0].baseline, 100u);
  EXPECT_EQ(lab.det.counters().alerts[static_cast<std::size_t>(AlertType::ddos)].value(), 2u);
}

TEST(Ddos, NoAlertBeforeTheBaselineIsLearnedUnlessAbsolute) {
  Lab lab(ddos_config());
  packets(lab.det, kVictim, 0, 5000);  // first second seen: no baseline yet
  EXPECT_TRUE(lab.drain().empty());
  DetectionConfig cfg = ddos_config();
  cfg.ddos_absolute_pps = 4000;
  Lab abs(cfg);
  packets(abs.det, kVictim, 0, 3999);
  EXPECT_TRUE(abs.drain().empty());
  packets(abs.det, kVictim, 1, 4000);
  std::vector<Alert> a = abs.drain();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].threshold, 4000u);
}

TEST(Ddos, QuietTimeLowersTheBaseline) {
  // Baseline 400 pps (threshold 4000); a minute of silence decays it (0.9^60): the floor,
  // 500 pps, applies.
  Lab under(ddos_config());
  for (std::uint64_t s = 0; s < 20; ++s) packets(under.det, kVictim, s, 400);
  packets(under.det, kVictim, 80, 499);
  EXPECT_TRUE(under.drain().empty());
  Lab over(ddos_config());
  for (std::uint64_t s = 0; s < 20; ++s) packets(over.det, kVictim, s, 400);
  packets(over.det, kVictim, 80, 500);
  std::vector<Alert> a = over.drain();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].threshold, 500u);
  EXPECT_EQ(a[0].baseline, 1u);  // 400 * 0.9^60 = 0.72
}

TEST(Detector, TablesAreBoundedAndCountEvictions) {
  DetectionConfig cfg;
  cfg.syn_destinations = 16;
  cfg.port_scan_pairs = 16;
  cfg.host_scan_keys = 16;
  cfg.ddos_destinations = 16;
  AlertRing ring(4);
  Detector det(cfg, ring);
  for (std::uint32_t i = 0; i < 1000; ++i) {
    const decode::IpAddr dst = v4(172, 16, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i));
    det.on_packet(kScanner, dst, 0, kT0 + i);
    det.on_connection_attempt(kScanner, dst, 80, 0, kT0 + i);
    det.on_connection_failed(dst, kVictim, static_cast<std::uint16_t>(i), 0, kT0 + i);
  }
  EXPECT_GE(det.counters().ddos_evictions.value(), 1000u - 16u);
  EXPECT_GE(det.counters().syn_evictions.value(), 1000u - 16u);
  EXPECT_GE(det.counters().port_scan_evictions.value(), 1000u - 16u);
  EXPECT_GE(det.counters().host_scan_evictions.value(), 1000u - 16u);
  EXPECT_LT(det.memory_bytes(), 64u * 1024u);
}

TEST(AlertRing, FifoAndDropsWhenFull) {
  AlertRing ring(2);
  Alert a;
  a.count = 1;
  EXPECT_TRUE(ring.push(a));
  a.count = 2;
  EXPECT_TRUE(ring.push(a));
  a.count = 3;
  EXPECT_FALSE(ring.push(a));
  EXPECT_EQ(ring.dropped(), 1u);
  EXPECT_EQ(ring.pushed(), 3u);
  Alert out;
  ASSERT_TRUE(ring.pop(out));
  EXPECT_EQ(out.count, 1u);
  a.count = 4;
  EXPECT_TRUE(ring.push(a));
  std::array<Alert, 4> all{};
  ASSERT_EQ(ring.pull(all), 2u);
  EXPECT_EQ(all[0].count, 2u);
  EXPECT_EQ(all[1].count, 4u);
  EXPECT_FALSE(ring.pop(out));
  EXPECT_EQ(to_string(AlertType::host_scan), "host_scan");
  EXPECT_EQ(to_string(Severity::critical), "critical");
}

}  // namespace
}  // namespace netscope::analysis
