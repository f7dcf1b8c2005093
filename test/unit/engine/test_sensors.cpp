// SensorMerger on records as two workers send them: partial counts out of step, deltas of
// one second, the baseline learned from completed seconds, scans merged across workers.
#include <gtest/gtest.h>

#include "netscope/engine/sensors.hpp"
#include "netscope/engine/worker.hpp"

namespace netscope::engine {
namespace {

constexpr std::uint64_t kSec = 1'000'000'000ull;
constexpr std::uint64_t kT0 = 1'700'000'000ull;  // seconds

decode::IpAddr v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  decode::IpAddr ip;
  ip.version = 4;
  ip.bytes[0] = a;
  ip.bytes[1] = b;
  ip.bytes[2] = c;
  ip.bytes[3] = d;
  return ip;
}

SensorRecord dest_second(std::uint16_t worker, std::uint64_t sec, std::uint64_t packets, std::uint64_t attempts = 0,
                         std::uint64_t completed = 0, std::uint64_t first_sec = kT0) {
  SensorRecord r;
  r.kind = SensorRecordKind::destination_second;
  r.worker = worker;
  r.b = v4(10, 0, 0, 1);
  r.a = v4(172, 16, 0, 9);
  r.port = 80;
  r.time_ns = sec * kSec;
  r.v0 = packets;
  r.v1 = attempts;
  r.v2 = completed;
  r.v3 = first_sec * kSec;
  return r;
}

SensorConfig config() {
  SensorConfig c;
  c.detection.ddos_min_pps = 1000;
  c.detection.ddos_factor = 5;
  c.detection.ddos_warmup_s = 3;
  c.detection.syn_flood_half_open = 100;
  return c;
}

TEST(SensorMerger, SynFloodSummedOverWorkersAndDeltas) {
  SensorMerger m(config(), 2);
  // Worker 0 reports second 0 in two deltas; worker 1 reports it after worker 0 moved on.
  m.on_record(dest_second(0, kT0, 50, 40, 5));
  m.on_record(dest_second(0, kT0 + 1, 10, 0, 0));
  EXPECT_TRUE(m.take_alerts().empty());
  m.on_record(dest_second(0, kT0, 10, 20, 0));  // 60 attempts - 5 completed so far
  EXPECT_TRUE(m.take_alerts().empty());
  m.on_record(dest_second(1, kT0, 50, 50, 5));  // 110 - 10 = 100: crosses
  const auto alerts = m.take_alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].source, AnomalySource::detection);
  EXPECT_EQ(alerts[0].alert, analysis::AlertType::syn_flood);
  EXPECT_EQ(alerts[0].count, 100u);
  EXPECT_EQ(alerts[0].victim, v4(10, 0, 0, 1));
  EXPECT_EQ(alerts[0].attacker, v4(172, 16, 0, 9));
  EXPECT_EQ(alerts[0].target_port, 80);
  EXPECT_EQ(alerts[0].severity, analysis::Severity::high);
  // Holdoff: more in the same second raises nothing new.
  m.on_record(dest_second(1, kT0, 0, 500, 0));
  EXPECT_TRUE(m.take_alerts().empty());
  EXPECT_EQ(m.alert_counts()[static_cast<std::size_t>(analysis::AlertType::syn_flood)], 1u);
}

TEST(SensorMerger, DdosOverBaselineAfterWarmupAndLatePartials) {
  SensorMerger m(config(), 2);
  // 300 packets/s split over two workers for 20 s: baseline 300, threshold max(1000, 1500).
  // Each worker then says it sent every second before the next one (sweep_done).
  const auto done = [&](std::uint16_t w, std::uint64_t before) {
    SensorRecord r;
    r.kind = SensorRecordKind::sweep_done;
    r.worker = w;
    r.time_ns = before * kSec;
    m.on_record(r);
  };
  for (std::uint64_t s = 0; s < 20; ++s) {
    m.on_record(dest_second(0, kT0 + s, 100));
    m.on_record(dest_second(1, kT0 + s, 200));
    done(0, kT0 + s + 1);
    done(1, kT0 + s + 1);
  }
  EXPECT_TRUE(m.take_alerts().empty());
  m.on_record(dest_second(0, kT0 + 20, 700));
  m.on_record(dest_second(1, kT0 + 20, 700));  // 1400 < 1500
  EXPECT_TRUE(m.take_alerts().empty());
  m.on_record(dest_second(1, kT0 + 20, 200));  // 1600
  const auto alerts = m.take_alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].alert, analysis::AlertType::ddos);
  EXPECT_EQ(alerts[0].count, 1600u);
  EXPECT_EQ(alerts[0].baseline, 300u);
  EXPECT_EQ(alerts[0].threshold, 1500u);
  EXPECT_EQ(alerts[0].attacker.version, 0);
  // A partial for a second already in the baseline is ignored and counted.
  m.on_record(dest_second(0, kT0 + 2, 5000));
  EXPECT_TRUE(m.take_alerts().empty());
  EXPECT_EQ(m.view(0).late_partials, 1u);
}

TEST(SensorMerger, NoRelativeAlertDuringWarmup) {
  SensorMerger m(config(), 1);
  m.on_record(dest_second(0, kT0, 900));
  m.on_record(dest_second(0, kT0 + 1, 5000));  // nothing learned yet
  EXPECT_TRUE(m.take_alerts().empty());
}

TEST(SensorMerger, PortScanFromFailuresOfBothWorkersOutOfOrder) {
  SensorMerger m(config(), 2);
  for (std::uint16_t p = 1; p <= 15; ++p) {
    SensorRecord r;
    r.kind = SensorRecordKind::connection_failed;
    r.worker = p % 2;
    r.a = v4(10, 0, 0, 66);
    r.b = v4(10, 0, 0, 10);
    r.port = p;
    // Worker 1's records are older than worker 0's: time steps back between them.
    r.time_ns = (kT0 + (p % 2 == 0 ? 10 : 0)) * kSec + p;
    m.on_record(r);
  }
  const auto alerts = m.take_alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].alert, analysis::AlertType::port_scan);
  EXPECT_EQ(alerts[0].count, 15u);
  EXPECT_EQ(alerts[0].attacker, v4(10, 0, 0, 66));
}

TEST(SensorMerger, HostsEdgesTopFlowsAndBindings) {
  SensorMerger m(config(), 2);
  const auto host = [](std::uint16_t w, decode::IpAddr ip, std::uint64_t sent, std::uint64_t received) {
    SensorRecord r;
    r.kind = SensorRecordKind::host;
    r.worker = w;
    r.a = ip;
    r.v0 = sent;
    r.v1 = received;
    r.time_ns = 5;
    r.v4 = 1;
    return r;
  };
  m.on_record(host(0, v4(10, 0, 0, 1), 100, 10));
  m.on_record(host(1, v4(10, 0, 0, 1), 50, 0));
  m.on_record(host(1, v4(10, 0, 0, 1), 60, 0));  // worker 1's newer totals replace its old ones
  m.on_record(host(0, v4(10, 0, 0, 2), 10, 160));
  SensorRecord b;
  b.kind = SensorRecordKind::binding;
  b.a = v4(10, 0, 0, 1);
  b.mac = {2, 0, 0, 0, 0, 1};
  m.on_record(b);
  b.mac = {2, 0, 0, 0, 0, 2};
  b.worker = 1;
  m.on_record(b);
  const auto alerts = m.take_alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].alert, analysis::AlertType::mac_ip_change);
  EXPECT_EQ(alerts[0].victim, v4(10, 0, 0, 1));
  SensorRecord sweep;
  sweep.kind = SensorRecordKind::sweep;
  m.on_record(sweep);
  SensorRecord tf;
  tf.kind = SensorRecordKind::top_flow;
  tf.flow.ip_version = 4;
  tf.flow.port_a = 1;
  tf.v0 = 1000;
  m.on_record(tf);
  const TrafficView v = m.view(10 * kSec);
  ASSERT_EQ(v.hosts.size(), 2u);
  EXPECT_EQ(v.hosts[0].ip, v4(10, 0, 0, 1));
  EXPECT_EQ(v.hosts[0].bytes_sent, 160u);
  EXPECT_EQ(v.hosts[0].bytes_received, 10u);
  EXPECT_TRUE(v.hosts[0].mac_known);
  EXPECT_EQ(v.hosts[0].mac_changes, 1);
  ASSERT_EQ(v.top_flows.size(), 1u);
  EXPECT_EQ(v.top_flows[0].bytes, 1000u);
  EXPECT_EQ(v.alerts[static_cast<std::size_t>(analysis::AlertType::mac_ip_change)], 1u);
}

}  // namespace
}  // namespace netscope::engine
