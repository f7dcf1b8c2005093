// Round trip: netscope-gen writes a capture with real crypto and every sequence pattern
// plus the truth the analyzer must report; netscope replays it; every truth field must
// match the report exactly.
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

void round_trip(const std::string& seed) {
  const std::string dir = temp_dir();
  const RunResult g = run(binary("NETSCOPE_GEN_BIN"),
                          {"--", "--builtin-demo", "--seed", seed, "--pcap-out", dir + "/demo.pcap",
                           "--truth-out", dir + "/truth.json"},
                          dir);
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const json truth = json::parse(slurp(dir + "/truth.json"));
  const std::string cfg = binary("NETSCOPE_SOURCE_ROOT") + "/config/demo.yaml";
  const RunResult r = replay(dir, {dir + "/demo.pcap"}, {"--config", cfg, "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(r.report.is_object());
  ASSERT_GE(truth["sas"].size(), 8u);
  EXPECT_EQ(r.report["sas"].size(), truth["sas"].size());
  std::uint64_t anomalies = 0;
  for (const auto& t : truth["sas"]) {
    const json ours = find_sa(r.report, sa_identity(t));
    ASSERT_FALSE(ours.is_null()) << "SA missing from the report: " << t.dump();
    for (const auto& [k, v] : t.items()) {
      EXPECT_EQ(ours[k], v) << "seed " << seed << " field " << k << " of " << sa_identity(t).dump();
    }
    for (const char* k : {"lost", "duplicates", "reordered", "rollovers", "resets", "rekeys", "stuck"}) {
      anomalies += t.value(k, std::uint64_t{0});
    }
  }
  EXPECT_GT(anomalies, 20u) << "the demo should exercise the anomaly rules";
  EXPECT_EQ(r.report["totals"]["malformed"]["total"], 0);
}

TEST(RoundTrip, BuiltinDemoSeed1) { round_trip("1"); }
TEST(RoundTrip, BuiltinDemoSeed2) { round_trip("2"); }
TEST(RoundTrip, BuiltinDemoSeed3) { round_trip("777"); }

}  // namespace
}  // namespace netscope::itest
