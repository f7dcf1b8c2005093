// The control plane through the real binary: netscope replays a capture live with
// --api-listen and --db; the test reads /metrics (checked by promtool and scraped by a real
// Prometheus server), the REST API, pause/resume, and the SQLite file after SIGINT.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace netscope::itest
