// Cross-port correlation on the control plane: /metrics (checked by promtool) and
// GET /api/v1/correlation from a real Correlator's results through the real hub.
#include <gtest/gtest.h>

#include <fstream>

#include "netscope/control/metrics.hpp"
#include "support.hpp"

namespace netscope::control {
namespace {

/// Pair net_pcap0 -> net_pcap1: 3 matched (100, 200, 300 us; one ESP SA has two of them),
/// 1 lost a->b, 1 lost b->a, 1 duplicate.
std::shared_ptr<const engine::CorrelationView> view() {
  engine::CorrelationConfig cc;
  cc.pairs = {{0, 1}};
  engine::Correlator c(cc);
  const seq::SaKey k = test::esp_key(0x100);
  c.on_identity(0, 1'000'000, 1, &k);
  c.on_identity(1, 1'100'000, 1, &k);
  c.on_identity(0, 2'000'000, 2, &k);
  c.on_identity(1, 2'200'000, 2, &k);
  c.on_identity(0, 3'000'000, 3, nullptr);
  c.on_identity(0, 3'000'500, 3, nullptr);
  c.on_identity(1, 3'300'000, 3, nullptr);
  c.on_identity(0, 4'000'000, 4, nullptr);
  c.on_identity(1, 5'000'000, 5, nullptr);
  c.flush();
  auto v = std::make_shared<engine::CorrelationView>(engine::merge_correlation({&c}));
  v->pairs[0].name_a = "net_pcap0";
  v->pairs[0].name_b = "net_pcap1";
  v->pairs[0].timestamps = "capture";
  return v;
}

TEST(CorrelationControl, MetricsPassPromtool) {
  const auto [rc, where] = test::run("command -v promtool");
  ASSERT_EQ(rc, 0) << "promtool is required (Debian package prometheus): " << where;
  HubState st(HubConfig{});
  auto snap = test::snapshot(test::now_ns(), 1000);
  snap->correlation = view();
  st.set_published(make_published(snap, nullptr, test::now_ns()));
  const std::string page = render_metrics(st);
  const std::string dir = test::temp_dir();
  std::ofstream(dir + "/metrics.txt") << page;
  const auto [code, out] = test::run("promtool check metrics < " + dir + "/metrics.txt");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "") << out;
  const std::string pair = "pair=\"net_pcap0-net_pcap1\"";
  for (const std::string& line : std::vector<std::string>{
           "netscope_correlation_packets_total{" + pair + ",a=\"net_pcap0\",b=\"net_pcap1\",result=\"matched\"} 3",
        "netscope_correlation_packets_total{" + pair + ",a=\"net_pcap0\",b=\"net_pcap1\",result=\"lost_a_to_b\"} 1",
        "netscope_correlation_packets_total{" + pair + ",a=\"net_pcap0\",b=\"net_pcap1\",result=\"lost_b_to_a\"} 1",
        "netscope_correlation_packets_total{" + pair + ",a=\"net_pcap0\",b=\"net_pcap1\",result=\"duplicate\"} 1",
        std::string("# TYPE netscope_correlation_latency_seconds summary"),
        "netscope_correlation_latency_seconds_count{" + pair + "} 3",
        "netscope_correlation_pending{" + pair + "} 0"}) {
    EXPECT_NE(page.find(line + "\n"), std::string::npos) << line;
  }
  EXPECT_NE(page.find("netscope_correlation_latency_seconds{" + pair + ",quantile=\"0.5\"}"), std::string::npos);
  // Doubles in shortest form (maybe "6e-04"): compare the values.
  auto value = [&](const std::string& series) {
    const auto at = page.find("\n" + series + " ");
    if (at == std::string::npos) return -1.0;
    return std::stod(page.substr(at + series.size() + 2, page.find('\n', at + 1) - at - series.size() - 2));
  };
  EXPECT_DOUBLE_EQ(value("netscope_correlation_latency_seconds_sum{" + pair + "}"), 0.0006);
  EXPECT_DOUBLE_EQ(value("netscope_correlation_latency_min_seconds{" + pair + "}"), 0.0001);
  EXPECT_DOUBLE_EQ(value("netscope_correlation_latency_max_seconds{" + pair + "}"), 0.0003);
  test::run("rm -rf " + dir);
}

TEST(CorrelationControl, RestEndpoint) {
  HubConfig cfg;
  cfg.api_listen = "127.0.0.1:0";
  Hub hub(cfg);
  hub.start();
  const std::string addr = hub.bound_address();
  hub.publish(test::snapshot(test::now_ns(), 100));
  ASSERT_TRUE(hub.sync(std::chrono::seconds(5)));
  const auto off = test::get(addr, "/api/v1/correlation");
  EXPECT_EQ(off.status, 404);
  EXPECT_EQ(off.json_body()["error"], "correlation_disabled") << off.body;

  auto snap = test::snapshot(test::now_ns(), 200);
  snap->correlation = view();
  hub.publish(snap);
  ASSERT_TRUE(hub.sync(std::chrono::seconds(5)));
  const auto r = test::get(addr, "/api/v1/correlation");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = r.json_body();
  ASSERT_EQ(j["pairs"].size(), 1u);
  const auto& p = j["pairs"][0];
  EXPECT_EQ(p["a"]["name"], "net_pcap0");
  EXPECT_EQ(p["matched"], 3);
  EXPECT_EQ(p["lost_a_to_b"], 1);
  EXPECT_EQ(p["lost_b_to_a"], 1);
  EXPECT_EQ(p["duplicates"], 1);
  EXPECT_EQ(p["latency_ns"]["min"], 100000);
  EXPECT_EQ(p["latency_ns"]["max"], 300000);
  ASSERT_EQ(p["sas"].size(), 1u);
  EXPECT_EQ(p["sas"][0]["spi"], 0x100);
  EXPECT_EQ(p["sas"][0]["matched"], 2);
  EXPECT_EQ(p["sas"][0]["latency_ns"]["max"], 200000);
  EXPECT_EQ(test::get(addr, "/api/v1/correlation?x=1").status, 400);
  hub.stop();
}

}  // namespace
}  // namespace netscope::control
