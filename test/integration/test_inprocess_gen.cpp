// netscope generating and analyzing in one process: TX lcores run the generator on a
// port (net_ring: its TX ring is its RX ring), RX/worker lcores analyze it, and the report
// must equal the generator's truth of what the port accepted.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace netscope::itest {
namespace {

json sa_identity(const json& sa) {
  json id = {{"protocol", sa["protocol"]}};
  for (const char* k : {"sci", "an", "spi", "dst", "udp_encap"}) {
    if (sa.contains(k)) id[k] = sa[k];
  }
  return id;
}

void check(const std::vector<std::string>& lcore_args, const std::vector<std::string>& extra) {
  const std::string lcores = lcore_args.back();
  const std::string dir = temp_dir();
  std::vector<std::string> args = {"--no-huge", "--no-pci", "-m", "1024", "--file-prefix", unique_prefix(),
                                   "--log-level", "lib.eal:error", lcore_args[0], lcore_args[1], "--vdev=net_ring0", "--",
                                   "--gen", "builtin-demo", "--tx-port", "0", "--tx-count", "20000",
                                   "--tx-truth-out", dir + "/truth.json", "--report-json", dir + "/report.json",
                                   "--config", binary("NETSCOPE_SOURCE_ROOT") + "/config/demo.yaml", "-q"};
  args.insert(args.end(), extra.begin(), extra.end());
  const RunResult r = run(binary("NETSCOPE_BIN"), args, dir, std::chrono::seconds(120));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json rep = json::parse(slurp(dir + "/report.json"));
  const json truth = json::parse(slurp(dir + "/truth.json"));
  EXPECT_EQ(rep["run"]["stop_reason"], "generator_done");
  EXPECT_EQ(rep["generator_tx"]["packets"], 20000);
  EXPECT_EQ(rep["totals"]["packets"], 20000);
  ASSERT_EQ(rep["sas"].size(), truth["sas"].size());
  for (const auto& t : truth["sas"]) {
    const json ours = find_sa(rep, sa_identity(t));
    ASSERT_FALSE(ours.is_null()) << t.dump();
    for (const auto& [k, v] : t.items()) EXPECT_EQ(ours[k], v) << lcores << " " << k << " " << sa_identity(t).dump();
  }
}

TEST(InProcessGenerator, OneTxLcoreMainAnalyzes) { check({"-l", "0-1"}, {}); }
TEST(InProcessGenerator, TxLcoreAndWorkerLcorePaced) {
  // Three lcores on two CPUs: control, one RX+worker, one TX.
  check({"--lcores", "0@0,(1-2)@1"}, {"--tx-rate-pps", "100000", "--mode", "rtc"});
}

TEST(InProcessGenerator, BadGeneratorSettings) {
  const std::string dir = temp_dir();
  const RunResult r = run(binary("NETSCOPE_BIN"),
                          {"--no-huge", "--no-pci", "-m", "512", "--file-prefix", unique_prefix(), "-l", "0-1",
                           "--vdev=net_ring0", "--", "--gen", "builtin-demo", "--tx-port", "3"},
                          dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("generator.port 3: no such port"), std::string::npos) << r.err;
  const RunResult r2 = run(binary("NETSCOPE_BIN"),
                           {"--no-huge", "--no-pci", "-m", "512", "--file-prefix", unique_prefix(), "-l", "0",
                            "--vdev=net_ring0", "--", "--gen", "builtin-demo", "--tx-port", "0"},
                           dir);
  EXPECT_EQ(r2.exit_code, 2);
  EXPECT_NE(r2.err.find("TX lcore"), std::string::npos) << r2.err;
}

}  // namespace
}  // namespace netscope::itest
