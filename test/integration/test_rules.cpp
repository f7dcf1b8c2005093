// Include/exclude rules on decoded fields through the real binary: netscope-gen's demo
// replayed with rules from YAML and from --rule; what is analyzed must be exactly the
// generator's truth for the SAs the rules keep, and the rest counted as excluded.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "harness.hpp"

namespace netscope::itest {
namespace {

using namespace std::chrono_literals;

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

struct Demo {
  std::string dir, pcap;
  json truth;
};

const Demo& demo() {
  static const Demo d = [] {
    Demo k;
    k.dir = temp_dir();
    k.pcap = k.dir + "/demo.pcap";
    const RunResult g = run(binary("NETSCOPE_GEN_BIN"),
                            {"--", "--builtin-demo", "--seed", "1", "--count", "2000", "--pcap-out", k.pcap,
                             "--truth-out", k.dir + "/truth.json"},
                            k.dir, 60s);
    if (g.exit_code != 0) throw std::runtime_error("netscope-gen failed:\n" + g.err);
    k.truth = json::parse(slurp(k.dir + "/truth.json"));
    return k;
  }();
  return d;
}

json replay(const std::vector<std::string>& app_args, RunResult* result = nullptr) {
  const std::string dir = temp_dir();
  std::vector<std::string> args{"--no-huge", "--no-pci", "-m", "512", "--file-prefix", unique_prefix(), "-l", "0",
                                "--log-level", "lib.eal:error", "--vdev=net_pcap0,rx_pcap=" + demo().pcap, "--",
                                "-q", "--no-report", "--report-json", dir + "/report.json"};
  args.insert(args.end(), app_args.begin(), app_args.end());
  const RunResult r = run(binary("NETSCOPE_BIN"), args, dir, 60s);
  if (result != nullptr) *result = r;
  if (r.exit_code != 0) return json();
  return json::parse(slurp(dir + "/report.json"));
}

/// The truth's SAs that `keep` selects, and their packets in total.
std::pair<std::vector<json>, std::uint64_t> kept(const std::function<bool(const json&)>& keep) {
  std::vector<json> sas;
  std::uint64_t packets = 0;
  for (const json& sa : demo().truth["sas"]) {
    if (!keep(sa)) continue;
    sas.push_back(sa);
    packets += sa["packets"].get<std::uint64_t>();
  }
  return {sas, packets};
}

void expect_exactly(const json& rep, const std::vector<json>& want, std::uint64_t want_packets) {
  ASSERT_FALSE(rep.is_null());
  const std::uint64_t rx = rep["ports"][0]["rx_packets"].get<std::uint64_t>();
  EXPECT_EQ(rep["totals"]["packets"].get<std::uint64_t>(), want_packets);
  EXPECT_EQ(rep["totals"]["rules_excluded"].get<std::uint64_t>(), rx - want_packets);
  EXPECT_EQ(rep["sas"].size(), want.size()) << rep["sas"].dump(1);
  for (const json& w : want) {
    json key = json::object();
    for (const char* k : {"protocol", "sci", "an", "spi", "dst", "udp_encap"}) {
      if (w.contains(k)) key[k] = w[k];
    }
    const json got = find_sa(rep, key);
    ASSERT_FALSE(got.is_null()) << "SA " << key.dump() << " missing";
    EXPECT_EQ(got["packets"], w["packets"]) << key.dump();
    EXPECT_EQ(got["lost"], w["lost"]) << key.dump();
  }
}

TEST(Rules, NoRulesExcludeNothing) {
  const json rep = replay({});
  ASSERT_FALSE(rep.is_null());
  EXPECT_EQ(rep["totals"]["rules_excluded"], 0);
  EXPECT_EQ(rep["totals"]["packets"], rep["ports"][0]["rx_packets"]);
}

TEST(Rules, YamlIncludeProtocolsExcludeOneSpi) {
  // The demo's first ESP SA (by truth order) is left out by SPI; AH and plain traffic by
  // not being included.
  std::uint32_t spi = 0;
  for (const json& sa : demo().truth["sas"]) {
    if (sa["protocol"] == "esp") {
      spi = sa["spi"].get<std::uint32_t>();
      break;
    }
  }
  ASSERT_NE(spi, 0u);
  const std::string dir = temp_dir();
  write_file(dir + "/rules.yaml", "capture:\n  rules:\n    - include protocol=esp\n"
                                  "    - {action: include, protocol: macsec}\n"
                                  "    - {action: exclude, spi: " + std::to_string(spi) + "}\n");
  const auto [want, packets] = kept([&](const json& sa) {
    return sa["protocol"] == "macsec" || (sa["protocol"] == "esp" && sa["spi"].get<std::uint32_t>() != spi);
  });
  ASSERT_GT(packets, 0u);
  expect_exactly(replay({"-c", dir + "/rules.yaml"}), want, packets);
}

TEST(Rules, CommandLineExcludePortAndProtocol) {
  // ESP in UDP 4500 has port 4500: excluding it removes the NAT-T SA, and AH goes by
  // protocol. (A rule matches what a packet contains: an integrity-only MACsec frame that
  // carries UDP is udp too, so "exclude protocol=udp" would take MACsec SAs with it.)
  const auto [want, packets] =
      kept([](const json& sa) { return !sa.value("udp_encap", false) && sa["protocol"] != "ah"; });
  const json rep = replay({"--rule", "exclude port=4500", "--rule", "exclude protocol=ah"});
  ASSERT_FALSE(rep.is_null());
  EXPECT_EQ(rep["totals"]["protocols"]["ah"]["packets"], 0);
  EXPECT_EQ(rep["totals"]["rules_excluded"].get<std::uint64_t>(),
            rep["ports"][0]["rx_packets"].get<std::uint64_t>() - rep["totals"]["packets"].get<std::uint64_t>());
  std::uint64_t sa_packets = 0;
  for (const json& sa : rep["sas"]) {
    EXPECT_FALSE(sa.value("udp_encap", false)) << sa.dump();
    sa_packets += sa["packets"].get<std::uint64_t>();
  }
  EXPECT_EQ(sa_packets, packets);
  EXPECT_EQ(rep["sas"].size(), want.size());
}

TEST(Rules, BadRuleIsAStartupError) {
  RunResult r;
  EXPECT_TRUE(replay({"--rule", "exclude spi=banana"}, &r).is_null());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--rule 'exclude spi=banana': spi=banana"), std::string::npos) << r.err;
  const std::string dir = temp_dir();
  write_file(dir + "/bad.yaml", "capture:\n  rules:\n    - {protocol: esp}\n");
  EXPECT_TRUE(replay({"-c", dir + "/bad.yaml"}, &r).is_null());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("capture.rules[0].action: missing"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace netscope::itest
