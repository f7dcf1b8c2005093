// The control plane through the real binary: netscope replays a capture live with
// --api-listen and --db; the test reads /metrics (checked by promtool and scraped by a real
// Prometheus server), the REST API, pause/resume, and the SQLite file after SIGINT.
#include <gtest/gtest.h>

#include <algorithm>

#include "frames.hpp"
#include "harness.hpp"
#include "process.hpp"

namespace netscope::itest {
namespace {

TEST(Api, RealBinaryMetricsRestPrometheusAndDatabase) {
  const std::string dir = temp_dir();
  const RunResult g = run(binary("NETSCOPE_GEN_BIN"),
                          {"--", "--builtin-demo", "--seed", "3", "--pcap-out", dir + "/demo.pcap",
                           "--truth-out", dir + "/truth.json"},
                          dir);
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const json truth = json::parse(slurp(dir + "/truth.json"));
  std::uint64_t capture_packets = 0;
  for (const auto& sa : truth["sas"]) capture_packets += sa["packets"].get<std::uint64_t>();

  std::vector<std::string> args = eal_args({dir + "/demo.pcap"});
  args.insert(args.end(), {"--", "--live", "--config", binary("NETSCOPE_SOURCE_ROOT") + "/config/demo.yaml",
                           "--api-listen", "127.0.0.1:0", "--db", dir + "/ns.db", "--report-json",
                           dir + "/report.json"});
  Process ns(binary("NETSCOPE_BIN"), args, dir, "netscope");
  const std::string addr = wait_for(ns.err, std::regex(R"(API on http://([0-9.]+:[0-9]+)/)"), std::chrono::seconds(20));
  ASSERT_FALSE(addr.empty()) << slurp(ns.err);
  const std::string base = "http://" + addr;

  // The capture is replayed in well under a second; wait for a snapshot that has it all.
  json cur;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < end) {
    cur = get_json(base + "/api/v1/stats/current");
    if (cur.is_object() && cur.value("packets", std::uint64_t{0}) >= 20000) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(cur.is_object()) << "no stats/current";
  EXPECT_EQ(cur["packets"].get<std::uint64_t>(), 20000u);
  EXPECT_EQ(get_json(base + "/health").value("status", std::string()), "ok");

  // Every SA of the generator's truth is visible through the API with the same counters.
  json sas = get_json(base + "/api/v1/sas?limit=1000");
  ASSERT_TRUE(sas.is_object()) << sas.dump();
  ASSERT_EQ(sas["sas"].size(), truth["sas"].size());
  for (const auto& t : truth["sas"]) {
    bool found = false;
    for (const auto& s : sas["sas"]) {
      bool same = s["protocol"] == t["protocol"];
      for (const char* k : {"sci", "an", "spi", "dst"}) {
        if (t.contains(k)) same = same && s.contains(k) && s[k] == t[k];
      }
      if (!same) continue;
      found = true;
      for (const char* k : {"packets", "lost", "gaps", "duplicates", "reordered", "rollovers", "resets", "stuck"}) {
        EXPECT_EQ(s[k], t[k]) << k << " " << t.dump();
      }
    }
    EXPECT_TRUE(found) << t.dump();
  }

  // /metrics: promtool accepts it, and it carries the packet count.
  const std::string metrics = sh("curl -s -m 5 " + base + "/metrics");
  {
    std::ofstream(dir + "/metrics.txt") << metrics;
  }
  int rc = -1;
  const std::string lint = sh("promtool check metrics < " + dir + "/metrics.txt 2>&1", &rc);
  EXPECT_EQ(rc, 0) << lint;
  EXPECT_NE(metrics.find("netscope_build_info"), std::string::npos);

  // A real Prometheus server scrapes netscope; a query through its API returns the count.
  const std::uint16_t prom_port = free_port();
  {
    std::ofstream c(dir + "/prometheus.yml");
    c << "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: netscope\n    static_configs:\n"
         "      - targets: ['" << addr << "']\n";
  }
  Process prom("/usr/bin/prometheus",
               {"--config.file=" + dir + "/prometheus.yml", "--storage.tsdb.path=" + dir + "/tsdb",
                "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"},
               dir, "prometheus");
  double prom_packets = -1;
  const auto pend = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (std::chrono::steady_clock::now() < pend && prom_packets < 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const json q = get_json("http://127.0.0.1:" + std::to_string(prom_port) +
                            "/api/v1/query?query=sum(netscope_packets_total)");
    if (q.is_object() && q.value("status", "") == "success" && !q["data"]["result"].empty()) {
      prom_packets = std::stod(q["data"]["result"][0]["value"][1].get<std::string>());
    }
  }
  EXPECT_EQ(prom_packets, 20000.0) << slurp(prom.err);
  prom.stop(SIGTERM);

  // Pause and resume through the API show up in the next snapshot.
  sh("curl -s -m 5 -X POST " + base + "/api/v1/capture/pause");
  bool paused = false;
  for (int i = 0; i < 50 && !paused; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    paused = get_json(base + "/api/v1/stats/current").value("paused", false);
  }
  EXPECT_TRUE(paused);
  sh("curl -s -m 5 -X POST " + base + "/api/v1/capture/resume");

  // Bad requests get a JSON 4xx, never a crash.
  EXPECT_EQ(sh("curl -s -o /dev/null -w '%{http_code}' -m 5 " + base + "/api/v1/sas/notanumber"), "400");
  EXPECT_EQ(sh("curl -s -o /dev/null -w '%{http_code}' -m 5 " + base + "/api/v1/nope"), "404");

  // SIGINT: the report and the database are complete.
  EXPECT_EQ(ns.stop(SIGINT), 0) << slurp(ns.err);
  const json rep = json::parse(slurp(dir + "/report.json"));
  EXPECT_EQ(rep["totals"]["packets"], 20000);
  const std::string counts = sh("sqlite3 " + dir + "/ns.db 'select count(*) from sas; select sum(packets) from sas;'");
  EXPECT_EQ(counts, std::to_string(truth["sas"].size()) + "\n" + std::to_string(capture_packets) + "\n") << counts;
}

/// ESP SPI `spi`, numbers first..last without the ones in `missing`.
std::vector<Frame> esp_run(std::uint32_t spi, std::uint32_t first, std::uint32_t last,
                           const std::vector<std::uint32_t>& missing = {}) {
  std::vector<Frame> f;
  for (std::uint32_t s = first; s <= last; ++s) {
    if (std::find(missing.begin(), missing.end(), s) == missing.end()) f.push_back(esp4(spi, s));
  }
  return f;
}

std::string sa_id_of(const std::string& base, std::uint32_t spi) {
  const json sas = get_json(base + "/api/v1/sas?limit=1000");
  if (!sas.is_object()) return "";
  for (const auto& s : sas["sas"]) {
    if (s.value("spi", 0u) == spi) return std::to_string(s["id"].get<std::uint64_t>());
  }
  return "";
}

TEST(Api, PerSaSequenceGapsPacketTapAndReset) {
  const std::string dir = temp_dir();
  write_pcap(dir + "/esp.pcap", esp_run(0x77, 1, 300, {100, 200, 201}));
  {
    std::ofstream c(dir + "/cfg.yaml");
    c << "api:\n  packet_tap_pps: 1000000\n";  // tap every packet of this small capture
  }
  std::vector<std::string> args = eal_args({dir + "/esp.pcap"});
  args.insert(args.end(), {"--", "--live", "--config", dir + "/cfg.yaml", "--api-listen", "127.0.0.1:0"});
  Process ns(binary("NETSCOPE_BIN"), args, dir, "netscope");
  const std::string addr = wait_for(ns.err, std::regex(R"(API on http://([0-9.]+:[0-9]+)/)"), std::chrono::seconds(20));
  ASSERT_FALSE(addr.empty()) << slurp(ns.err);
  const std::string base = "http://" + addr;
  std::string id;
  json seq;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < end) {
    if (id.empty()) id = sa_id_of(base, 0x77);
    if (!id.empty()) {
      seq = get_json(base + "/api/v1/sas/" + id + "/sequence");
      if (seq.is_object() && seq.value("packets", 0u) == 297u) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_FALSE(id.empty()) << slurp(ns.err);
  ASSERT_EQ(seq.value("packets", 0u), 297u) << seq.dump();
  // The last 16 numbers, oldest first; flows/{id}/sequence is the same resource.
  std::vector<std::uint64_t> want;
  for (std::uint64_t s = 285; s <= 300; ++s) want.push_back(s);
  EXPECT_EQ(seq["recent"].get<std::vector<std::uint64_t>>(), want);
  EXPECT_EQ(get_json(base + "/api/v1/flows/" + id + "/sequence")["recent"], seq["recent"]);

  // Gaps: two (100; 200-201), with what was expected and what came.
  const json gaps = get_json(base + "/api/v1/flows/" + id + "/gaps");
  ASSERT_EQ(gaps["anomalies"].size(), 2u) << gaps.dump();
  EXPECT_EQ(gaps["anomalies"][0]["expected"], 100);
  EXPECT_EQ(gaps["anomalies"][0]["got"], 101);
  EXPECT_EQ(gaps["anomalies"][1]["count"], 2);
  EXPECT_EQ(get_json(base + "/api/v1/sas/" + id + "/anomalies")["total"], 2);
  EXPECT_EQ(sh("curl -s -o /dev/null -w '%{http_code}' -m 5 '" + base + "/api/v1/flows/" + id + "/gaps?type=gap'"), "400");
  EXPECT_EQ(sh("curl -s -o /dev/null -w '%{http_code}' -m 5 " + base + "/api/v1/flows/12345/gaps"), "404");

  // The packet tap saw every packet; newest first, with the tracker's verdicts.
  const json pk = get_json(base + "/api/v1/packets/recent?flow_id=" + id + "&count=1000");
  ASSERT_EQ(pk["packets"].size(), 297u) << pk.dump().substr(0, 500);
  EXPECT_EQ(pk["packets"][0]["seq"], 300);
  EXPECT_EQ(pk["packets"][0]["verdict"], "in_order");
  EXPECT_EQ(pk["packets"][0]["class"], "esp");
  std::size_t gap_packets = 0;
  for (const auto& p : pk["packets"]) {
    if (p["verdict"] == "gap") {
      ++gap_packets;
      EXPECT_TRUE(p["seq"] == 101 || p["seq"] == 202) << p.dump();
    }
  }
  EXPECT_EQ(gap_packets, 2u);
  EXPECT_EQ(get_json(base + "/api/v1/packets/recent?verdict=gap")["packets"].size(), 2u);
  EXPECT_EQ(sh("curl -s -o /dev/null -w '%{http_code}' -m 5 '" + base + "/api/v1/packets/recent?verdict=bogus'"), "400");

  // Reset: the SA's counters and recent numbers start again in a later snapshot.
  EXPECT_EQ(sh("curl -s -o /dev/null -w '%{http_code}' -m 5 -X POST " + base + "/api/v1/flows/" + id + "/reset"), "202");
  EXPECT_EQ(sh("curl -s -o /dev/null -w '%{http_code}' -m 5 " + base + "/api/v1/flows/" + id + "/reset"), "405");
  json after;
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    after = get_json(base + "/api/v1/sas/" + id);
    if (after.is_object() && after.value("packets", 1u) == 0u) break;
  }
  EXPECT_EQ(after.value("packets", 1u), 0u) << after.dump();
  EXPECT_EQ(after.value("gaps", 1u), 0u);
  EXPECT_TRUE(get_json(base + "/api/v1/sas/" + id + "/sequence")["recent"].empty());
  EXPECT_EQ(ns.stop(SIGINT), 0) << slurp(ns.err);
}

/// netscope replaying ESP (SPI `spi`) and UDP in a loop (net_pcap infinite_rx) with the API
/// on: traffic keeps coming while a test changes filters or rules.
struct LoopingMix {
  std::string dir = temp_dir();
  std::unique_ptr<Process> ns;
  std::string base;

  explicit LoopingMix(std::uint32_t spi, std::uint16_t udp_port0) {
    std::vector<Frame> frames = esp_run(spi, 1, 100);
    for (std::uint16_t i = 0; i < 100; ++i) frames.push_back(udp4(static_cast<std::uint16_t>(udp_port0 + i), 53));
    write_pcap(dir + "/mix.pcap", frames);
    std::vector<std::string> args{"--no-huge", "--no-pci", "-m", "512", "--file-prefix", unique_prefix(), "-l", "0-1",
                                  "--log-level", "lib.eal:error", "--vdev=net_pcap0,rx_pcap=" + dir + "/mix.pcap,infinite_rx=1",
                                  "--", "--live", "--api-listen", "127.0.0.1:0", "--grpc-listen", "off"};
    ns = std::make_unique<Process>(binary("NETSCOPE_BIN"), args, dir, "netscope");
    const std::string addr = wait_for(ns->err, std::regex(R"(API on http://([0-9.]+:[0-9]+)/)"), std::chrono::seconds(20));
    if (!addr.empty()) base = "http://" + addr;
  }
  /// Packets of a traffic class in the latest snapshot.
  std::uint64_t proto(const char* name) const {
    const json c = get_json(base + "/api/v1/stats/current");
    if (!c.is_object() || !c["protocols"].contains(name)) return 0;
    return c["protocols"][name]["packets"].get<std::uint64_t>();
  }
  /// True when the class's count grows within 15 s (snapshots come every second; on a
  /// loaded CI machine the first ones can come late).
  bool grows(const char* name) const {
    const std::uint64_t before = proto(name);
    for (int i = 0; i < 30; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      if (proto(name) > before) return true;
    }
    return false;
  }
  /// True when the class's count stays put over 2.5 s while `other` grows meanwhile (so
  /// the data plane and the snapshots are running).
  bool stays(const char* name, const char* other) const {
    const std::uint64_t before = proto(name);
    const std::uint64_t other_before = proto(other);
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    const std::uint64_t after = proto(name);
    return after == before && grows_since(other, other_before);
  }
  bool grows_since(const char* name, std::uint64_t before) const {
    for (int i = 0; i < 30; ++i) {
      if (proto(name) > before) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return false;
  }
};

TEST(Api, FiltersSetThroughTheApiApplyToTheDataPlaneAtOnce) {
  const LoopingMix mix(0x33, 1000);
  ASSERT_FALSE(mix.base.empty()) << slurp(mix.ns->err);
  const std::string& base = mix.base;
  Process& ns = *mix.ns;
  const auto grows = [&](const char* name) { return mix.grows(name); };
  ASSERT_TRUE(grows("esp"));
  ASSERT_TRUE(grows("udp"));
  // A bad expression is refused at once, with libpcap's reason.
  const std::string bad = sh("curl -s -m 5 -X POST -d '{\"expression\": \"udp and and\"}' " + base + "/api/v1/config/filters");
  EXPECT_NE(bad.find("bad_filter"), std::string::npos) << bad;
  // "udp": ESP stops, UDP goes on; the port shows the effective filter and its drops.
  const json added = json::parse(sh("curl -s -m 5 -X POST -d '{\"expression\": \"udp\"}' " + base + "/api/v1/config/filters"));
  ASSERT_TRUE(added.contains("id")) << added.dump();
  EXPECT_NE(wait_for(ns.err, std::regex(R"((API filter [0-9]+ applied))"), std::chrono::seconds(10)), "") << slurp(ns.err);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // a snapshot after the swap
  EXPECT_TRUE(mix.stays("esp", "udp"));
  const json port = get_json(base + "/api/v1/stats/current")["ports"][0];
  EXPECT_EQ(port["filter"], "(udp)");
  EXPECT_GT(port["filter_rejected"].get<std::uint64_t>(), 0u);
  // Removed: ESP comes back.
  const std::string id = std::to_string(added["id"].get<std::uint64_t>());
  EXPECT_EQ(sh("curl -s -o /dev/null -w '%{http_code}' -m 5 -X DELETE " + base + "/api/v1/config/filters/" + id), "200");
  EXPECT_NE(wait_for(ns.err, std::regex(R"((API filter [0-9]+ removed))"), std::chrono::seconds(10)), "");
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_TRUE(grows("esp"));
  EXPECT_EQ(get_json(base + "/api/v1/stats/current")["ports"][0]["filter"], "");
  EXPECT_EQ(ns.stop(SIGINT), 0) << slurp(ns.err);
}

// Include/exclude rules on decoded fields changed live: POST excludes ESP at once, the
// rule is listed, a rule that does not parse is a 400, DELETE brings ESP back.
TEST(Api, FieldRulesChangedThroughTheApiApplyAtOnce) {
  const LoopingMix mix(0x44, 2000);
  ASSERT_FALSE(mix.base.empty()) << slurp(mix.ns->err);
  const std::string& base = mix.base;
  Process& ns = *mix.ns;
  const auto grows = [&](const char* name) { return mix.grows(name); };
  ASSERT_TRUE(grows("esp"));
  const std::string bad = sh("curl -s -m 5 -X POST -d '{\"rule\": \"exclude colour=red\"}' " + base + "/api/v1/config/rules");
  EXPECT_NE(bad.find("bad_rule"), std::string::npos) << bad;
  const json added = json::parse(sh("curl -s -m 5 -X POST -d '{\"rule\": \"exclude protocol=esp\"}' " + base +
                                    "/api/v1/config/rules"), nullptr, false);
  ASSERT_TRUE(added.is_object() && added.contains("id")) << added.dump();
  EXPECT_NE(wait_for(ns.err, std::regex(R"((API rule [0-9]+ applied))"), std::chrono::seconds(10)), "") << slurp(ns.err);
  const json listed = get_json(base + "/api/v1/config/rules");
  ASSERT_EQ(listed["rules"].size(), 1u) << listed.dump();
  EXPECT_EQ(listed["rules"][0]["rule"], "exclude protocol=esp");
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // a snapshot after the swap
  EXPECT_TRUE(mix.stays("esp", "udp"));
  const std::string metrics = sh("curl -s -m 5 " + base + "/metrics");
  const auto at = metrics.find("\nnetscope_rules_excluded_packets_total ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_GT(std::stoull(metrics.substr(at + 39)), 0u) << metrics.substr(at, 60);
  const std::string id = std::to_string(added["id"].get<std::uint64_t>());
  EXPECT_EQ(sh("curl -s -o /dev/null -w '%{http_code}' -m 5 -X DELETE " + base + "/api/v1/config/rules/" + id), "200");
  EXPECT_EQ(sh("curl -s -o /dev/null -w '%{http_code}' -m 5 -X DELETE " + base + "/api/v1/config/rules/" + id), "404");
  EXPECT_NE(wait_for(ns.err, std::regex(R"((API rule [0-9]+ removed))"), std::chrono::seconds(10)), "");
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_TRUE(grows("esp"));
  EXPECT_TRUE(get_json(base + "/api/v1/config/rules")["rules"].empty());
  EXPECT_EQ(ns.stop(SIGINT), 0) << slurp(ns.err);
}

TEST(Api, LiveRunsServeOnTheDefaultAddressUnlessOff) {
  const std::string dir = temp_dir();
  write_pcap(dir + "/esp.pcap", esp_run(0x12, 1, 10));
  {
    std::vector<std::string> args = eal_args({dir + "/esp.pcap"});
    args.insert(args.end(), {"--", "--live", "--grpc-listen", "off"});
    Process ns(binary("NETSCOPE_BIN"), args, dir, "default");
    // 127.0.0.1:8080, or, when another process holds it, a warning and no API.
    const std::string said = wait_for(ns.err, std::regex(R"((API on http://127\.0\.0\.1:8080/|127\.0\.0\.1:8080.*API disabled))"),
                                      std::chrono::seconds(20));
    EXPECT_FALSE(said.empty()) << slurp(ns.err);
    EXPECT_EQ(wait_for(ns.err, std::regex(R"((sas 1))"), std::chrono::seconds(20)), "sas 1") << slurp(ns.err);
    EXPECT_EQ(ns.stop(SIGINT), 0) << slurp(ns.err);
  }
  std::vector<std::string> args = eal_args({dir + "/esp.pcap"});
  args.insert(args.end(), {"--", "--live", "--api-listen", "off", "--duration", "1"});
  const RunResult r = run(binary("NETSCOPE_BIN"), args, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("API"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("gRPC"), std::string::npos) << r.err;
}

TEST(Api, SigkillThenRestartOnTheSameDatabaseContinuesTracking) {
  const std::string dir = temp_dir();
  // Part one ends at 1000 with 500 missing; part two continues at 1001.
  write_pcap(dir + "/one.pcap", esp_run(0x51, 1, 1000, {500}));
  write_pcap(dir + "/two.pcap", esp_run(0x51, 1001, 2000), 1'700'000'100'000'000ull);
  {
    std::ofstream c(dir + "/cfg.yaml");
    c << "database:\n  flush_interval: 0.2\n";
  }
  {
    std::vector<std::string> args = eal_args({dir + "/one.pcap"});
    args.insert(args.end(), {"--", "--live", "--config", dir + "/cfg.yaml", "--db", dir + "/ns.db"});
    Process ns(binary("NETSCOPE_BIN"), args, dir, "first");
    std::string row;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < end) {
      row = sh("sqlite3 " + dir + "/ns.db 'select packets, highest_seq, lost from sas' 2>/dev/null");
      if (row == "999|1000|1\n") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(row, "999|1000|1\n") << slurp(ns.err);
    const std::string gaps = sh("sqlite3 " + dir + "/ns.db 'select count(*) from anomalies' 2>/dev/null");
    ASSERT_EQ(gaps, "1\n");
    EXPECT_EQ(ns.stop(SIGKILL, std::chrono::seconds(5)), -1);
  }
  // Everything flushed before the kill is there.
  EXPECT_EQ(sh("sqlite3 " + dir + "/ns.db 'pragma integrity_check; select count(*) from anomalies;'"), "ok\n1\n");
  // The restart continues the SA: no false gap, duplicate or reset at 1001.
  const RunResult r = replay(dir, {dir + "/two.pcap"}, {"--config", dir + "/cfg.yaml", "--db", dir + "/ns.db"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("restored 1 of 1 SAs"), std::string::npos) << r.err;
  const json sa = find_sa(r.report, {{"spi", 0x51}});
  ASSERT_TRUE(sa.is_object()) << r.report.dump();
  EXPECT_EQ(sa["packets"], 1999);
  EXPECT_EQ(sa["lost"], 1);
  EXPECT_EQ(sa["gaps"], 1);
  EXPECT_EQ(sa["duplicates"], 0);
  EXPECT_EQ(sa["resets"], 0);
  EXPECT_EQ(sa["highest_seq"], 2000);
  EXPECT_EQ(sh("sqlite3 " + dir + "/ns.db 'select count(*) from anomalies; select packets from sas;'"), "1\n1999\n");

  // Offline: `netscope report --db` gives the same SA and anomalies as the run's report.
  {
    const RunResult rep = run(binary("NETSCOPE_BIN"), {"report", "--db", dir + "/ns.db", "--json", "-o", dir + "/db.json"}, dir);
    ASSERT_EQ(rep.exit_code, 0) << rep.err;
    const json db = json::parse(slurp(dir + "/db.json"));
    const json dsa = find_sa(db, {{"spi", 0x51}});
    ASSERT_TRUE(dsa.is_object()) << db.dump();
    for (const char* k : {"protocol", "spi", "dst", "packets", "bytes", "first_seq", "highest_seq", "lost", "gaps",
                          "duplicates", "reordered", "resets", "first_seen", "last_seen"}) {
      EXPECT_EQ(dsa[k], sa[k]) << k;
    }
    EXPECT_EQ(db["anomalies_total"], 1);
    ASSERT_EQ(db["anomalies"].size(), 1u);
    EXPECT_EQ(db["anomalies"][0]["type"], "gap");
    EXPECT_EQ(db["anomalies"][0]["expected"], 500);
    EXPECT_EQ(db["totals"]["sas"]["esp"]["lost"], 1);
    const RunResult text = run(binary("NETSCOPE_BIN"), {"report", "--db", dir + "/ns.db"}, dir);
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("Security associations: 1"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("Anomalies: 1 (gap 1)"), std::string::npos) << text.out;
    // Not a database: one clear line, exit 2.
    std::ofstream(dir + "/junk.db") << "not sqlite";
    const RunResult bad = run(binary("NETSCOPE_BIN"), {"report", "--db", dir + "/junk.db"}, dir);
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("netscope report:"), std::string::npos) << bad.err;
    const RunResult missing = run(binary("NETSCOPE_BIN"), {"report", "--db", dir + "/nope.db"}, dir);
    EXPECT_EQ(missing.exit_code, 2);
  }

  // database.restore: false starts afresh (the same numbers again are a reset).
  {
    std::ofstream c(dir + "/fresh.yaml");
    c << "database:\n  restore: false\n";
  }
  const RunResult f = replay(dir, {dir + "/two.pcap"}, {"--config", dir + "/fresh.yaml", "--db", dir + "/ns.db"});
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_EQ(f.err.find("restored"), std::string::npos);
  EXPECT_EQ(find_sa(f.report, {{"spi", 0x51}})["packets"], 1000);
}

}  // namespace
}  // namespace netscope::itest
