// The `correlation:` section and --correlate parsing (docs/configuration.md).
#include <gtest/gtest.h>

#include <string>

#include "netscope/config/config.hpp"

namespace netscope::config {
namespace {

Config loaded(const std::string& yaml) {
  Config c = load_yaml_text(yaml);
  validate(c);
  return c;
}

/// The ConfigError text for `yaml`, or "" when it loads.
std::string error_of(const std::string& yaml) {
  try {
    loaded(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(CorrelationConfig, DefaultsAndValues) {
  const Config d = loaded("");
  EXPECT_TRUE(d.correlation_pairs.empty());
  EXPECT_EQ(d.engine.correlation.window_ns, 1'000'000'000u);
  EXPECT_EQ(d.engine.correlation.max_pending, 65536u);

  const Config c = loaded(
      "correlation:\n"
      "  pairs:\n"
      "    - {a: net_pcap0, b: net_pcap1}\n"
      "    - {a: 2, b: 3}\n"
      "  window: 0.25\n"
      "  max_pending: 1000\n"
      "  max_sas: 50\n");
  ASSERT_EQ(c.correlation_pairs.size(), 2u);
  EXPECT_EQ(c.correlation_pairs[0].first, "net_pcap0");
  EXPECT_EQ(c.correlation_pairs[0].second, "net_pcap1");
  EXPECT_EQ(c.correlation_pairs[1].first, "2");
  EXPECT_EQ(c.engine.correlation.window_ns, 250'000'000u);
  EXPECT_EQ(c.engine.correlation.max_pending, 1000u);
  EXPECT_EQ(c.engine.correlation.max_sas, 50u);
}

TEST(CorrelationConfig, BadInputNamesTheField) {
  EXPECT_NE(error_of("correlation:\n  pairs:\n    - {a: 0}\n").find("correlation.pairs[0]: needs both a and b"),
            std::string::npos);
  EXPECT_NE(error_of("correlation:\n  pairs:\n    - {a: 0, b: 0}\n").find("same port"), std::string::npos);
  EXPECT_NE(error_of("correlation:\n  pairs:\n    - {a: 0, b: 1}\n    - {a: 1, b: 2}\n").find("already in pair 0"),
            std::string::npos);
  EXPECT_NE(error_of("correlation:\n  pairs:\n    - {a: 0, b: 1, c: 2}\n").find("correlation.pairs[0].c: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of("correlation:\n  window: 0\n").find("correlation.window"), std::string::npos);
  EXPECT_NE(error_of("correlation:\n  window: abc\n").find("correlation.window"), std::string::npos);
  EXPECT_NE(error_of("correlation:\n  max_pending: 0\n").find("correlation.max_pending"), std::string::npos);
  EXPECT_NE(error_of("correlation:\n  pairs: net_pcap0\n").find("expected a list"), std::string::npos);
  EXPECT_NE(error_of("correlation:\n  typo: 1\n").find("correlation.typo: unknown key"), std::string::npos);
}

TEST(CorrelationConfig, CommandLinePair) {
  const auto p = parse_correlation_pair("net_pcap0,1", "--correlate");
  EXPECT_EQ(p.first, "net_pcap0");
  EXPECT_EQ(p.second, "1");
  for (const char* bad : {"0", "0,", ",1", "0,1,2", ""}) {
    EXPECT_THROW(parse_correlation_pair(bad, "--correlate"), ConfigError) << bad;
  }
}

}  // namespace
}  // namespace netscope::config
