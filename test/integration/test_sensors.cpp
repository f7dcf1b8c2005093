// Measures, detections and topology end to end: synthetic attacks (SYN flood, vertical
// port scan, host scan, DDoS burst over a learned baseline) and quiet traffic (a TCP/UDP
// mix and a busy but legitimate server) built here, replayed by the real netscope with two
// workers (pipeline: flows sharded across them, so the control side must merge), checked
// in the JSON report; one run live with the REST API, /metrics and SQLite.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "../unit/analysis/frames.hpp"
#include "frames.hpp"
#include "harness.hpp"
#include "process.hpp"

namespace netscope::itest {
namespace {

constexpr std::uint64_t kT0 = 1'700'000'000'000'000ull;  // a whole second, in us
constexpr std::uint8_t kSyn = 0x02, kRst = 0x04, kAck = 0x10, kFin = 0x01, kPsh = 0x08;

std::string ip_text(std::uint32_t v) {
  return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 255) + "." + std::to_string((v >> 8) & 255) + "." +
         std::to_string(v & 255);
}

/// A capture under construction: frames with their times.
struct Capture {
  std::vector<Frame> frames;
  std::vector<std::uint64_t> times;
  void add(std::uint64_t t_us, Frame f) {
    frames.push_back(std::move(f));
    times.push_back(t_us);
  }
  /// A complete TCP conversation: handshake, `data` request bytes and a response, FIN both ways.
  void tcp_session(std::uint64_t t, std::uint32_t c, std::uint32_t s, std::uint16_t cport, std::uint16_t sport,
                   std::size_t data = 100) {
    add(t, ipv4_between(c, s, 6, cport, sport, kSyn));
    add(t + 100, ipv4_between(s, c, 6, sport, cport, kSyn | kAck));
    add(t + 200, ipv4_between(c, s, 6, cport, sport, kAck));
    add(t + 300, ipv4_between(c, s, 6, cport, sport, kAck | kPsh, data));
    add(t + 400, ipv4_between(s, c, 6, sport, cport, kAck | kPsh, data * 4));
    add(t + 500, ipv4_between(c, s, 6, cport, sport, kFin | kAck));
    add(t + 600, ipv4_between(s, c, 6, sport, cport, kFin | kAck));
    add(t + 700, ipv4_between(c, s, 6, cport, sport, kAck));
  }
  /// Sorted by time (the capture is in time order, as a tap would record it).
  void write(const std::string& path) {
    std::vector<std::size_t> order(frames.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return times[a] < times[b]; });
    std::vector<Frame> f;
    std::vector<std::uint64_t> t;
    for (std::size_t i : order) {
      f.push_back(frames[i]);
      t.push_back(times[i]);
    }
    write_pcap(path, f, 0, 0, &t);
  }
};

std::vector<std::string> sensor_eal(const std::string& pcap) {
  // One RX lcore and two workers (pipeline): conversations spread over both.
  return {"--no-huge", "--no-pci", "-m", "512", "--file-prefix", unique_prefix(), "--log-level", "lib.eal:error",
          "--lcores", "0@0,(1-3)@1", "--vdev=net_pcap0,rx_pcap=" + pcap};
}

RunResult run_sensors(const std::string& dir, Capture& cap, const std::string& yaml) {
  cap.write(dir + "/c.pcap");
  std::ofstream(dir + "/sensors.yaml") << yaml;
  std::vector<std::string> args = sensor_eal(dir + "/c.pcap");
  args.insert(args.end(), {"--", "--mode", "pipeline", "--no-progress", "--config", dir + "/sensors.yaml",
                           "--report-json", dir + "/report.json"});
  RunResult r = run(binary("NETSCOPE_BIN"), args, dir, std::chrono::seconds(120));
  const std::string text = slurp(dir + "/report.json");
  if (!text.empty()) r.report = json::parse(text, nullptr, false);
  return r;
}

std::string diag(const RunResult& r) { return "stderr:\n" + r.err; }

std::vector<json> alerts(const json& report, const std::string& type = "") {
  std::vector<json> out;
  for (const auto& a : report["anomalies"]) {
    if (a.value("source", "") == "detection" && (type.empty() || a["type"] == type)) out.push_back(a);
  }
  return out;
}

bool in_net(const json& ip, const std::string& prefix) {
  return ip.is_string() && ip.get<std::string>().rfind(prefix, 0) == 0;
}

TEST(Sensors, SynFloodAgainstOneServer) {
  const std::string dir = temp_dir();
  Capture cap;
  const std::uint32_t victim = ip4(10, 0, 0, 100);
  // 800 spoofed SYNs in half a second, each answered by a SYN-ACK that is never acknowledged.
  for (std::uint32_t i = 0; i < 800; ++i) {
    const std::uint32_t src = ip4(172, 16, static_cast<std::uint8_t>(i / 250), static_cast<std::uint8_t>(i % 250 + 1));
    const auto sport = static_cast<std::uint16_t>(1024 + i);
    cap.add(kT0 + i * 600, ipv4_between(src, victim, 6, sport, 80, kSyn));
    cap.add(kT0 + i * 600 + 50, ipv4_between(victim, src, 6, 80, sport, kSyn | kAck));
  }
  // Real clients meanwhile complete their handshakes.
  for (std::uint32_t i = 0; i < 20; ++i) cap.tcp_session(kT0 + 1000 + i * 20000, ip4(10, 0, 0, 5 + static_cast<std::uint8_t>(i)), victim, 40000, 80);
  const RunResult r = run_sensors(dir, cap, "detection:\n  syn_flood:\n    half_open: 500\n");
  ASSERT_EQ(r.exit_code, 0) << diag(r);
  const auto syn = alerts(r.report, "syn_flood");
  ASSERT_EQ(syn.size(), 1u) << r.report["anomalies"].dump();
  const json& a = syn[0];
  EXPECT_EQ(a["victim"], "10.0.0.100");
  EXPECT_TRUE(in_net(a["attacker"], "172.16.")) << a.dump();
  EXPECT_EQ(a["severity"], "high");
  EXPECT_EQ(a["count"], 800) << "820 attempts, 20 completed, in one second";
  EXPECT_EQ(a["threshold"], 500);
  EXPECT_EQ(a["target_port"], 80);
  EXPECT_EQ(alerts(r.report).size(), 1u) << "no other alert: " << r.report["anomalies"].dump();
  EXPECT_EQ(r.report["anomaly_counts"]["syn_flood"], 1);
}

TEST(Sensors, VerticalPortScanAndHostScan) {
  const std::string dir = temp_dir();
  Capture cap;
  // 10.0.0.66 tries ports 1..100 of 10.0.0.10: closed ones answer RST (Zeek REJ), 22 and 80 accept.
  const std::uint32_t scanner = ip4(10, 0, 0, 66), target = ip4(10, 0, 0, 10);
  for (std::uint16_t p = 1; p <= 100; ++p) {
    const std::uint64_t t = kT0 + p * 2000;
    const auto sport = static_cast<std::uint16_t>(50000 + p);
    cap.add(t, ipv4_between(scanner, target, 6, sport, p, kSyn));
    if (p == 22 || p == 80) {
      cap.add(t + 100, ipv4_between(target, scanner, 6, p, sport, kSyn | kAck));
      cap.add(t + 200, ipv4_between(scanner, target, 6, sport, p, kRst));
    } else {
      cap.add(t + 100, ipv4_between(target, scanner, 6, p, sport, kRst | kAck));
    }
  }
  // 10.0.0.77 sweeps port 445 over 40 absent hosts: nothing answers (Zeek S0).
  const std::uint32_t sweeper = ip4(10, 0, 0, 77);
  for (std::uint8_t h = 1; h <= 40; ++h) {
    cap.add(kT0 + 300000 + h * 1000, ipv4_between(sweeper, ip4(10, 0, 1, h), 6, 40000, 445, kSyn));
  }
  const RunResult r = run_sensors(dir, cap, "detection:\n  host_scan:\n    severity: high\n");
  ASSERT_EQ(r.exit_code, 0) << diag(r);
  const auto ps = alerts(r.report, "port_scan");
  ASSERT_EQ(ps.size(), 1u) << r.report["anomalies"].dump();
  EXPECT_EQ(ps[0]["attacker"], "10.0.0.66");
  EXPECT_EQ(ps[0]["victim"], "10.0.0.10");
  EXPECT_EQ(ps[0]["severity"], "medium");
  EXPECT_EQ(ps[0]["count"], 15) << "Zeek's default: 15 ports";
  EXPECT_EQ(ps[0]["threshold"], 15);
  const auto hs = alerts(r.report, "host_scan");
  ASSERT_EQ(hs.size(), 1u) << r.report["anomalies"].dump();
  EXPECT_EQ(hs[0]["attacker"], "10.0.0.77");
  EXPECT_TRUE(in_net(hs[0]["victim"], "10.0.1.")) << hs[0].dump();
  EXPECT_EQ(hs[0]["target_port"], 445);
  EXPECT_EQ(hs[0]["count"], 25) << "Zeek's default: 25 hosts";
  EXPECT_EQ(hs[0]["severity"], "high") << "severity from the YAML";
  EXPECT_EQ(alerts(r.report).size(), 2u) << r.report["anomalies"].dump();
  EXPECT_EQ(r.report["traffic"]["detection_inputs"]["connection_failures"], 98 + 40);
}

/// 60 clients send 10 UDP packets/s each to `server` for `seconds` seconds from kT0.
void steady_udp(Capture& cap, std::uint32_t server, int seconds, int per_client_pps, int clients = 60) {
  for (int s = 0; s < seconds; ++s) {
    for (int c = 0; c < clients; ++c) {
      for (int k = 0; k < per_client_pps; ++k) {
        const std::uint64_t t = kT0 + static_cast<std::uint64_t>(s) * 1'000'000 +
                                static_cast<std::uint64_t>(k) * (1'000'000 / per_client_pps) + static_cast<std::uint64_t>(c) * 7;
        cap.add(t, ipv4_between(ip4(10, 0, 2, static_cast<std::uint8_t>(c + 1)), server, 17,
                                static_cast<std::uint16_t>(20000 + c), 53, 0, 40));
      }
    }
  }
}

TEST(Sensors, DdosBurstOverLearnedBaseline) {
  const std::string dir = temp_dir();
  Capture cap;
  const std::uint32_t victim = ip4(10, 0, 0, 200);
  steady_udp(cap, victim, 14, 10);  // 600 packets/s for 14 s: the baseline
  // Second 14: 8000 packets from 200 sources.
  for (int i = 0; i < 8000; ++i) {
    cap.add(kT0 + 14'000'000 + static_cast<std::uint64_t>(i) * 100,
            ipv4_between(ip4(198, 18, static_cast<std::uint8_t>(i % 200 / 100), static_cast<std::uint8_t>(i % 100 + 1)),
                         victim, 17, static_cast<std::uint16_t>(1000 + i % 200), 80, 0, 100));
  }
  steady_udp(cap, ip4(10, 0, 0, 201), 15, 1, 5);  // a quiet neighbour
  const RunResult r = run_sensors(dir, cap, "detection:\n  ddos:\n    min_pps: 2000\n    factor: 10\n    warmup: 5\n");
  ASSERT_EQ(r.exit_code, 0) << diag(r);
  const auto d = alerts(r.report, "ddos");
  ASSERT_EQ(d.size(), 1u) << r.report["anomalies"].dump();
  EXPECT_EQ(d[0]["victim"], "10.0.0.200");
  EXPECT_TRUE(d[0]["attacker"].is_null());
  EXPECT_EQ(d[0]["severity"], "high");
  EXPECT_EQ(d[0]["count"], 8000);
  EXPECT_EQ(d[0]["baseline"], 600);
  EXPECT_EQ(d[0]["threshold"], 6000) << "10 x the baseline, above min_pps";
  EXPECT_EQ(d[0]["first_seen"].get<std::uint64_t>(), (kT0 + 14'000'000) * 1000);
  EXPECT_EQ(r.report["traffic"]["detection_inputs"]["late_partials"], 0);
  EXPECT_EQ(alerts(r.report).size(), 1u) << r.report["anomalies"].dump();
}

TEST(Sensors, QuietTrafficAndBusyServerRaiseNothing) {
  const std::string dir = temp_dir();
  Capture cap;
  // A busy server: 2100 UDP packets/s for 12 s (above ddos min_pps, but constant: its own
  // baseline), and 600 complete TCP connections per second for 3 s.
  steady_udp(cap, ip4(10, 0, 0, 53), 12, 35);
  for (int s = 0; s < 3; ++s) {
    for (int i = 0; i < 600; ++i) {
      cap.tcp_session(kT0 + static_cast<std::uint64_t>(s) * 1'000'000 + static_cast<std::uint64_t>(i) * 1500,
                      ip4(10, 0, 3, static_cast<std::uint8_t>(i % 200 + 1)), ip4(10, 0, 0, 80),
                      static_cast<std::uint16_t>(30000 + s * 1000 + i), 443);
    }
  }
  // A client using 12 services of one host, and a few refused connections.
  for (std::uint16_t p = 0; p < 12; ++p) cap.tcp_session(kT0 + 5000 + p * 3000, ip4(10, 0, 0, 9), ip4(10, 0, 0, 10), 45000, 8000 + p);
  for (std::uint16_t p = 0; p < 3; ++p) {
    cap.add(kT0 + 90000 + p * 1000, ipv4_between(ip4(10, 0, 0, 9), ip4(10, 0, 0, 10), 6, 46000, 9000 + p, kSyn));
    cap.add(kT0 + 90100 + p * 1000, ipv4_between(ip4(10, 0, 0, 10), ip4(10, 0, 0, 9), 6, 9000 + p, 46000, kRst | kAck));
  }
  const RunResult r = run_sensors(dir, cap,
                                  "detection:\n  syn_flood:\n    half_open: 500\n  ddos:\n    min_pps: 2000\n    warmup: 5\n");
  ASSERT_EQ(r.exit_code, 0) << diag(r);
  EXPECT_TRUE(alerts(r.report).empty()) << r.report["anomalies"].dump();
  // The busy UDP server is the top host by bytes; the measures saw every packet.
  const json& t = r.report["traffic"];
  ASSERT_FALSE(t["top_hosts"].empty());
  EXPECT_EQ(t["top_hosts"][0]["ip"], "10.0.0.53") << t["top_hosts"].dump();
  EXPECT_EQ(t["top_hosts"][0]["packets_received"], 12 * 60 * 35);
  EXPECT_EQ(t["detection_inputs"]["connection_failures"], 3);
}

TEST(Sensors, TopologyTopTalkersAndMacChange) {
  const std::string dir = temp_dir();
  Capture cap;
  namespace af = netscope::analysis::test_frames;
  const std::uint32_t a = ip4(10, 0, 0, 1), b = ip4(10, 0, 0, 2), c = ip4(10, 0, 0, 3);
  std::map<std::string, std::uint64_t> sent, received;
  std::map<std::pair<std::string, std::string>, std::uint64_t> edge;  // (lower, upper) -> bytes both ways
  std::map<std::string, std::uint64_t> flow_bytes;
  auto send = [&](std::uint64_t t, std::uint32_t s, std::uint32_t d, std::uint8_t proto, std::uint16_t sp, std::uint16_t dp,
                  std::size_t payload) {
    Frame f = ipv4_between(s, d, proto, sp, dp, proto == 6 ? kAck : 0, payload);
    sent[ip_text(s)] += f.size();
    received[ip_text(d)] += f.size();
    edge[{ip_text(std::min(s, d)), ip_text(std::max(s, d))}] += f.size();
    flow_bytes[ip_text(std::min(s, d)) + "-" + ip_text(std::max(s, d)) + "-" + std::to_string(proto)] += f.size();
    cap.add(t, std::move(f));
  };
  for (int i = 0; i < 50; ++i) send(kT0 + i * 100, a, b, 17, 5000, 6000, 1000);  // the top flow
  for (int i = 0; i < 20; ++i) send(kT0 + 10 + i * 100, b, a, 17, 6000, 5000, 100);
  for (int i = 0; i < 30; ++i) send(kT0 + 20 + i * 100, a, c, 6, 7000, 22, 200);
  for (int i = 0; i < 5; ++i) send(kT0 + 30 + i * 100, c, b, 17, 123, 123, 48);
  const std::array<std::uint8_t, 6> mac1 = {0x02, 0, 0, 0, 0, 0x01}, mac2 = {0x02, 0, 0, 0, 0, 0x02},
                                    mac3 = {0x02, 0, 0, 0, 0, 0x99};
  cap.add(kT0 + 1, af::arp(2, mac1, {10, 0, 0, 1}, {10, 0, 0, 2}));
  cap.add(kT0 + 2, af::arp(2, mac2, {10, 0, 0, 2}, {10, 0, 0, 1}));
  cap.add(kT0 + 9000, af::arp(2, mac3, {10, 0, 0, 1}, {10, 0, 0, 2}));  // 10.0.0.1 moves
  const RunResult r = run_sensors(dir, cap, "sensors:\n  top_k: 5\n");
  ASSERT_EQ(r.exit_code, 0) << diag(r);
  const auto mc = alerts(r.report, "mac_ip_change");
  ASSERT_EQ(mc.size(), 1u) << r.report["anomalies"].dump();
  EXPECT_EQ(mc[0]["victim"], "10.0.0.1");
  EXPECT_EQ(mc[0]["mac_old"], "02:00:00:00:00:01");
  EXPECT_EQ(mc[0]["mac_new"], "02:00:00:00:00:99");
  EXPECT_EQ(mc[0]["severity"], "medium");

  const json& topo = r.report["traffic"]["topology"];
  ASSERT_EQ(topo["hosts"].size(), 3u) << topo.dump();
  for (const auto& h : topo["hosts"]) {
    const std::string ip = h["ip"];
    EXPECT_EQ(h["bytes_sent"], sent[ip]) << ip;
    EXPECT_EQ(h["bytes_received"], received[ip]) << ip;
    if (ip == "10.0.0.1") {
      EXPECT_EQ(h["mac"], "02:00:00:00:00:99");
    } else if (ip == "10.0.0.2") {
      EXPECT_EQ(h["mac"], "02:00:00:00:00:02");
    } else {
      EXPECT_TRUE(h["mac"].is_null());
    }
  }
  ASSERT_EQ(topo["edges"].size(), edge.size()) << topo.dump();
  for (const auto& e : topo["edges"]) {
    EXPECT_EQ(e["bytes"], (edge[{e["a"].get<std::string>(), e["b"].get<std::string>()}])) << e.dump();
  }
  EXPECT_EQ(topo["bindings"].size(), 2u);
  // Top flows by bytes: exact (fewer flows than the sketch monitors), largest first.
  const json& top = r.report["traffic"]["top_flows"];
  ASSERT_EQ(top.size(), flow_bytes.size()) << top.dump();
  std::uint64_t prev = ~0ull;
  for (const auto& f : top) {
    const std::string k = f["addr_a"].get<std::string>() + "-" + f["addr_b"].get<std::string>() + "-" +
                          std::to_string(f["protocol"].get<int>());
    EXPECT_EQ(f["bytes"], flow_bytes[k]) << k;
    EXPECT_EQ(f["bytes_error"], 0);
    EXPECT_LE(f["bytes"].get<std::uint64_t>(), prev);
    prev = f["bytes"].get<std::uint64_t>();
  }
  EXPECT_EQ(r.report["traffic"]["top_hosts"][0]["ip"], "10.0.0.1");
  // The report with a detection and the traffic section follows docs/report-schema.json.
  EXPECT_EQ(report_schema_errors(dir + "/report.json"), "");
}

TEST(Sensors, AlertsThroughRestMetricsAndSqlite) {
  const std::string dir = temp_dir();
  Capture cap;
  const std::uint32_t scanner = ip4(10, 0, 0, 66), target = ip4(10, 0, 0, 10);
  for (std::uint16_t p = 1; p <= 30; ++p) {
    cap.add(kT0 + p * 2000, ipv4_between(scanner, target, 6, 50000, p, kSyn));
    cap.add(kT0 + p * 2000 + 100, ipv4_between(target, scanner, 6, p, 50000, kRst | kAck));
  }
  for (int i = 0; i < 10; ++i) cap.tcp_session(kT0 + 100000 + i * 1000, ip4(10, 0, 0, 5), ip4(10, 0, 0, 80), 40000 + i, 443);
  cap.write(dir + "/c.pcap");
  const std::size_t packets = cap.frames.size();
  std::vector<std::string> args = sensor_eal(dir + "/c.pcap");
  args.insert(args.end(), {"--", "--mode", "pipeline", "--live", "--no-progress", "--api-listen", "127.0.0.1:0", "--db",
                           dir + "/ns.db", "--report-json", dir + "/report.json"});
  Process ns(binary("NETSCOPE_BIN"), args, dir, "netscope");
  const std::string addr = wait_for(ns.err, std::regex(R"(API on http://([0-9.]+:[0-9]+)/)"), std::chrono::seconds(20));
  ASSERT_FALSE(addr.empty()) << slurp(ns.err);
  const std::string base = "http://" + addr;
  json list;
  json topo;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < end) {
    list = get_json(base + "/api/v1/anomalies?type=port_scan");
    topo = get_json(base + "/api/v1/topology");
    if (list.is_object() && !list["anomalies"].empty() && topo.is_object() && topo["edges"].size() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(list.is_object()) << slurp(ns.err);
  ASSERT_EQ(list["anomalies"].size(), 1u) << list.dump();
  const json& a = list["anomalies"][0];
  EXPECT_EQ(a["type"], "port_scan");
  EXPECT_EQ(a["source"], "detection");
  EXPECT_EQ(a["attacker"], "10.0.0.66");
  EXPECT_EQ(a["victim"], "10.0.0.10");
  EXPECT_EQ(a["severity"], "medium");
  EXPECT_FALSE(a.contains("sa_id"));
  // By id too; a bad type is a 400.
  EXPECT_EQ(get_json(base + "/api/v1/anomalies/" + std::to_string(a["id"].get<std::uint64_t>()))["victim"], "10.0.0.10");
  EXPECT_EQ(sh("curl -s -o /dev/null -w '%{http_code}' -m 5 '" + base + "/api/v1/anomalies?type=nope'"), "400");
  // Topology and top talkers.
  ASSERT_TRUE(topo.is_object());
  EXPECT_EQ(topo["edges"].size(), 2u) << topo.dump();
  EXPECT_EQ(topo["hosts"].size(), 4u) << topo.dump();
  json top;
  std::uint64_t proto_packets = 0;
  for (int i = 0; i < 50; ++i) {
    top = get_json(base + "/api/v1/top");
    proto_packets = 0;
    if (top.is_object()) {
      for (const auto& p : top["protocols"]) proto_packets += p["packets"].get<std::uint64_t>();
    }
    if (proto_packets == packets && top["top_flows"].size() == 20u && top["alerts"]["port_scan"] == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(top.is_object());
  EXPECT_EQ(top["alerts"]["port_scan"], 1);
  EXPECT_EQ(top["top_flows"].size(), 20u) << "top_k";
  EXPECT_EQ(proto_packets, packets) << "protocol distribution covers every packet";
  // /metrics: alerts by type.
  const std::string metrics = sh("curl -s -m 5 " + base + "/metrics");
  EXPECT_NE(metrics.find("netscope_alerts_total{type=\"port_scan\"} 1"), std::string::npos) << metrics.substr(0, 400);
  // SQLite after SIGINT: the alert with its attacker and victim.
  EXPECT_EQ(ns.stop(SIGINT), 0) << slurp(ns.err);
  const std::string row = sh("sqlite3 " + dir +
                             "/ns.db \"select type, source, severity, attacker, victim from anomalies where source = 'detection';\"");
  EXPECT_EQ(row, "port_scan|detection|medium|10.0.0.66|10.0.0.10\n");
  EXPECT_EQ(sh("sqlite3 " + dir + "/ns.db 'select count(*) from anomalies;'"), "1\n") << "nothing else stored";
}

}  // namespace
}  // namespace netscope::itest
