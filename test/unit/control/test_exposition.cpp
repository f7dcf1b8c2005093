// The Prometheus text exposition module: escaping, ordering, validation, values; and
// `promtool check metrics` on the hub's real /metrics page.
#include <gtest/gtest.h>

#include <fstream>

#include "netscope/control/exposition.hpp"
#include "netscope/control/metrics.hpp"
#include "support.hpp"

namespace netscope::control {
namespace {

TEST(Exposition, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escape_label_value(R"(a\b"c)" "\n" "d"), R"(a\\b\"c\nd)");
  EXPECT_EQ(escape_help("x\\y\nz \"q\""), "x\\\\y\\nz \"q\"");  // quotes stay in HELP
  Exposition x;
  x.family("t_total", "Help with \\ and\nnewline.", MetricType::counter);
  x.sample("t_total", {{"path", "C:\\dir\n\"q\""}}, std::uint64_t{1});
  EXPECT_EQ(x.text(),
            "# HELP t_total Help with \\\\ and\\nnewline.\n"
            "# TYPE t_total counter\n"
            "t_total{path=\"C:\\\\dir\\n\\\"q\\\"\"} 1\n");
}

TEST(Exposition, SortsFamiliesKeepsSampleOrder) {
  Exposition x;
  x.family("zeta", "Z.", MetricType::gauge);
  x.family("alpha_total", "A.", MetricType::counter);
  x.sample("zeta", {{"port", "1"}}, std::uint64_t{5});
  x.sample("zeta", {{"port", "0"}}, std::uint64_t{4});
  x.sample("alpha_total", {}, std::uint64_t{18446744073709551615ull});
  EXPECT_EQ(x.text(),
            "# HELP alpha_total A.\n# TYPE alpha_total counter\nalpha_total 18446744073709551615\n"
            "# HELP zeta Z.\n# TYPE zeta gauge\nzeta{port=\"1\"} 5\nzeta{port=\"0\"} 4\n");
  // Same input, same output.
  Exposition y;
  y.family("alpha_total", "A.", MetricType::counter);
  y.family("zeta", "Z.", MetricType::gauge);
  y.sample("zeta", {{"port", "1"}}, std::uint64_t{5});
  y.sample("zeta", {{"port", "0"}}, std::uint64_t{4});
  y.sample("alpha_total", {}, std::uint64_t{18446744073709551615ull});
  EXPECT_EQ(x.text(), y.text());
}

TEST(Exposition, FormatsValues) {
  EXPECT_EQ(format_value(0.5), "0.5");
  EXPECT_EQ(format_value(1e21), "1e+21");
  EXPECT_EQ(format_value(3), "3");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(Exposition, RejectsBadNamesAndDuplicates) {
  EXPECT_TRUE(valid_metric_name("netscope_x:y_1"));
  EXPECT_FALSE(valid_metric_name("1abc"));
  EXPECT_FALSE(valid_metric_name("a-b"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_TRUE(valid_label_name("port"));
  EXPECT_FALSE(valid_label_name("__reserved"));
  EXPECT_FALSE(valid_label_name("a:b"));
  Exposition x;
  EXPECT_THROW(x.family("packets", "Counter without _total.", MetricType::counter), std::invalid_argument);
  EXPECT_THROW(x.family("bad-name", "H.", MetricType::gauge), std::invalid_argument);
  EXPECT_THROW(x.family("no_help", "", MetricType::gauge), std::invalid_argument);
  x.family("g", "G.", MetricType::gauge);
  EXPECT_THROW(x.family("g", "Again.", MetricType::gauge), std::invalid_argument);
  EXPECT_THROW(x.sample("undeclared", {}, 1.0), std::invalid_argument);
  EXPECT_THROW(x.sample("g", {{"bad-label", "x"}}, 1.0), std::invalid_argument);
  EXPECT_THROW(x.sample("g", {{"a", "1"}, {"a", "2"}}, 1.0), std::invalid_argument);
  x.sample("g", {{"a", "1"}}, 1.0);
  EXPECT_THROW(x.sample("g", {{"a", "1"}}, 2.0), std::invalid_argument);
}

TEST(Exposition, HubPageFollowsConventions) {
  HubState st(HubConfig{});
  st.set_published(make_published(test::snapshot(test::now_ns(), 1000), nullptr, test::now_ns()));
  const std::string page = render_metrics(st);
  EXPECT_NE(page.find("netscope_build_info{version=\""), std::string::npos);
  EXPECT_NE(page.find("netscope_packets_total{proto=\"esp\"} 1000\n"), std::string::npos);
  EXPECT_NE(page.find("netscope_sa_lost_packets{proto=\"esp\"} 7\n"), std::string::npos);
  EXPECT_NE(page.find("netscope_lcore_busy_seconds_total{lcore=\"1\",role=\"rx+worker\"} 0.0015\n"), std::string::npos);
  EXPECT_NE(page.find("netscope_malformed_packets_total{reason=\"truncated_esp\"} 3\n"), std::string::npos);
  EXPECT_NE(page.find("netscope_port_rx_missed_packets_total{port=\"0\"} 1\n"), std::string::npos);
  // Every line is a comment or starts with the prefix; no SA or flow ids as labels.
  std::size_t pos = 0;
  while (pos < page.size()) {
    const std::size_t eol = page.find('\n', pos);
    const std::string line = page.substr(pos, eol - pos);
    EXPECT_TRUE(line.starts_with("# HELP netscope_") || line.starts_with("# TYPE netscope_") ||
                line.starts_with("netscope_"))
        << line;
    EXPECT_EQ(line.find("spi="), std::string::npos);
    EXPECT_EQ(line.find("sci="), std::string::npos);
    EXPECT_EQ(line.find("id="), std::string::npos);
    pos = eol + 1;
  }
  EXPECT_EQ(page, render_metrics(st));  // stable
}

TEST(Exposition, PromtoolAcceptsHubPage) {
  const auto [rc, where] = test::run("command -v promtool");
  ASSERT_EQ(rc, 0) << "promtool is required (Debian package prometheus): " << where;
  HubState st(HubConfig{});
  auto first = make_published(test::snapshot(test::now_ns() - 1'000'000'000ull, 500), nullptr, test::now_ns());
  st.set_published(make_published(test::snapshot(test::now_ns(), 1000), first.get(), test::now_ns()));
  st.db_enabled = true;
  const std::string dir = test::temp_dir();
  {
    std::ofstream f(dir + "/metrics.txt");
    f << render_metrics(st);
  }
  const auto [code, out] = test::run("promtool check metrics < " + dir + "/metrics.txt");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "") << out;
  test::run("rm -rf " + dir);
}

}  // namespace
}  // namespace netscope::control
