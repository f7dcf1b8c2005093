// End-to-end: captures written here, replayed by the real netscope under EAL (net_pcap,
// --no-huge), JSON report compared with values worked out by hand from the rules in
// docs/sequence-tracking.md.
#include <gtest/gtest.h>

#include <map>

#include "frames.hpp"
#include "harness.hpp"

namespace netscope::itest {
namespace {

using Buf = tf::Buf;

std::string diag(const RunResult& r) { return "stdout:\n" + r.out + "\nstderr:\n" + r.err; }

/// Interleaves per-SA number lists round-robin into one capture.
std::vector<Frame> interleave(const std::vector<std::vector<Frame>>& lists) {
  std::vector<Frame> out;
  for (std::size_t i = 0;; ++i) {
    bool any = false;
    for (const auto& l : lists) {
      if (i < l.size()) {
        out.push_back(l[i]);
        any = true;
      }
    }
    if (!any) return out;
  }
}

std::vector<Frame> esp_seq(std::uint32_t spi, const std::vector<std::uint32_t>& seqs) {
  std::vector<Frame> f;
  for (auto s : seqs) f.push_back(esp4(spi, s));
  return f;
}

std::vector<std::uint32_t> range(std::uint32_t a, std::uint32_t b) {
  std::vector<std::uint32_t> v;
  for (std::uint64_t i = a; i <= b; ++i) v.push_back(static_cast<std::uint32_t>(i));
  return v;
}

template <typename... V>
std::vector<std::uint32_t> join(V... parts) {
  std::vector<std::uint32_t> out;
  (out.insert(out.end(), parts.begin(), parts.end()), ...);
  return out;
}

void expect_counts(const json& sa, const std::map<std::string, std::uint64_t>& want) {
  ASSERT_FALSE(sa.is_null());
  for (const auto& [k, v] : want) EXPECT_EQ(sa[k].get<std::uint64_t>(), v) << k << " in " << sa.dump();
}

TEST(Replay, EspEveryRuleExact) {
  const std::string dir = temp_dir();
  const std::vector<std::vector<Frame>> lists = {
      esp_seq(0x100, {1, 2, 3, 5, 6}),                                     // gap, 1 lost at end
      esp_seq(0x101, {1, 2, 4, 3, 5}),                                     // reordered
      esp_seq(0x102, {1, 2, 2, 3}),                                        // duplicate
      esp_seq(0x103, join(std::vector<std::uint32_t>{1}, range(3, 100), std::vector<std::uint32_t>{2})),  // lost + out_of_window
      esp_seq(0x104, {0xFFFFFFFEu, 0xFFFFFFFFu, 0, 1}),                    // rollover
      esp_seq(0x105, join(range(100000, 100010), range(5, 6))),            // reset
      esp_seq(0x106, std::vector<std::uint32_t>(10, 0)),                   // stuck at 0
      esp_seq(0x107, join(range(1, 10), range(1000, 1005))),               // big gap: 989 lost
  };
  const auto frames = interleave(lists);
  write_pcap(dir + "/esp.pcap", frames);
  const RunResult r = replay(dir, {dir + "/esp.pcap"});
  ASSERT_EQ(r.exit_code, 0) << diag(r);
  ASSERT_TRUE(r.report.is_object()) << diag(r);
  const json& rep = r.report;
  EXPECT_EQ(rep["version"], 1);
  EXPECT_EQ(rep["run"]["stop_reason"], "end_of_input");
  EXPECT_EQ(rep["totals"]["packets"].get<std::size_t>(), frames.size());
  EXPECT_EQ(rep["totals"]["protocols"]["esp"]["packets"].get<std::size_t>(), frames.size());
  EXPECT_EQ(rep["sas"].size(), 8u);
  auto sa = [&](std::uint32_t spi) { return find_sa(rep, {{"protocol", "esp"}, {"spi", spi}, {"dst", "198.51.100.2"}}); };
  expect_counts(sa(0x100), {{"packets", 5}, {"lost", 1}, {"gaps", 1}, {"duplicates", 0}, {"reordered", 0},
                            {"first_seq", 1}, {"highest_seq", 6}});
  expect_counts(sa(0x101), {{"lost", 0}, {"gaps", 1}, {"reordered", 1}, {"duplicates", 0}});
  expect_counts(sa(0x102), {{"lost", 0}, {"gaps", 0}, {"duplicates", 1}});
  expect_counts(sa(0x103), {{"lost", 1}, {"gaps", 1}, {"out_of_window", 1}, {"reordered", 0}, {"duplicates", 0}});
  expect_counts(sa(0x104), {{"lost", 0}, {"rollovers", 1}, {"resets", 0}, {"highest_seq", (1ull << 32) + 1}});
  EXPECT_EQ(sa(0x104)["extended_inferred"], true);
  expect_counts(sa(0x105), {{"lost", 0}, {"resets", 1}, {"duplicates", 0}, {"highest_seq", 6}, {"first_seq", 100000}});
  expect_counts(sa(0x106), {{"stuck", 1}, {"duplicates", 9}, {"lost", 0}});
  expect_counts(sa(0x107), {{"lost", 989}, {"gaps", 1}});
  EXPECT_EQ(sa(0x100)["udp_encap"], false);

  // Events: counts by type and one event checked field by field.
  const json& counts = rep["anomaly_counts"];
  EXPECT_EQ(counts["gap"].get<int>(), 4);  // 0x100, 0x101, 0x103, 0x107 (the rollover is gapless)
  EXPECT_EQ(counts["reordered"].get<int>(), 1);
  EXPECT_EQ(counts["duplicate"].get<int>(), 10);
  EXPECT_EQ(counts["out_of_window"].get<int>(), 1);
  EXPECT_EQ(counts["rollover"].get<int>(), 1);
  EXPECT_EQ(counts["reset"].get<int>(), 1);
  EXPECT_EQ(counts["stuck"].get<int>(), 1);
  EXPECT_EQ(rep["anomalies_total"].get<int>(), 19);
  EXPECT_EQ(rep["anomalies_left_out"].get<int>(), 0);
  bool found = false;
  for (const auto& a : rep["anomalies"]) {
    if (a["type"] == "gap" && a["spi"] == 0x100) {
      found = true;
      EXPECT_EQ(a["expected"], 4);
      EXPECT_EQ(a["got"], 5);
      EXPECT_EQ(a["count"], 1);
      // Round-robin capture: 0x100's 4th packet (number 5) is frame index 3*8 + 0.
      EXPECT_EQ(a["packet_index"], 24);
      EXPECT_EQ(a["timestamp"].get<std::uint64_t>(), (1'700'000'000'000'000ull + 24 * 10) * 1000);
      EXPECT_EQ(a["port"], 0);
    }
  }
  EXPECT_TRUE(found);
}

TEST(Replay, MacsecKeysRekeyAndXpn) {
  const std::string dir = temp_dir();
  const std::uint64_t sci_a = 0x001b21000001000aull;
  const std::uint64_t sci_rekey = 0x001b21000002000bull;
  const std::uint64_t sci_xpn = 0x001b21000003000cull;
  std::vector<Frame> f;
  for (std::uint32_t pn = 1; pn <= 5; ++pn) f.push_back(macsec(true, 0, pn, sci_a, true));
  for (std::uint32_t pn : {1u, 2u, 4u}) f.push_back(macsec(false, 2, pn, 0, false));  // SC=0, integrity-only
  for (std::uint32_t pn = 1; pn <= 100; ++pn) f.push_back(macsec(true, 0, pn, sci_rekey));
  for (std::uint32_t pn = 1; pn <= 10; ++pn) f.push_back(macsec(true, 1, pn, sci_rekey));
  for (std::uint32_t pn : {0xFFFFFFF0u, 0xFFFFFFFFu, 0u, 1u, 2u}) f.push_back(macsec(true, 3, pn, sci_xpn));
  write_pcap(dir + "/macsec.pcap", f);
  const RunResult r = replay(dir, {dir + "/macsec.pcap"}, {"--extended", "macsec:001b21000003000c"});
  ASSERT_EQ(r.exit_code, 0) << diag(r);
  const json& rep = r.report;
  EXPECT_EQ(rep["totals"]["protocols"]["macsec"]["packets"].get<std::size_t>(), f.size());
  EXPECT_EQ(rep["sas"].size(), 5u);
  expect_counts(find_sa(rep, {{"sci", "001b21000001000a"}, {"an", 0}}), {{"packets", 5}, {"lost", 0}});
  // SC=0: the SCI is the source MAC (02:00:00:00:00:01) with port 1.
  expect_counts(find_sa(rep, {{"sci", "0200000000010001"}, {"an", 2}}), {{"packets", 3}, {"lost", 1}, {"gaps", 1}});
  expect_counts(find_sa(rep, {{"sci", "001b21000002000b"}, {"an", 0}}), {{"packets", 100}, {"rekeys", 0}});
  expect_counts(find_sa(rep, {{"sci", "001b21000002000b"}, {"an", 1}}), {{"packets", 10}, {"rekeys", 1}, {"lost", 0}});
  const json xpn = find_sa(rep, {{"sci", "001b21000003000c"}, {"an", 3}});
  expect_counts(xpn, {{"rollovers", 1}, {"lost", 14}, {"gaps", 1}, {"highest_seq", (1ull << 32) + 2}});
  EXPECT_EQ(xpn["extended"], true);
  EXPECT_EQ(xpn["extended_inferred"], false);
  EXPECT_EQ(rep["anomaly_counts"]["rekey"], 1);
  // Integrity-only MACsec carries IPv4/UDP, which becomes a flow.
  bool udp_flow = false;
  for (const auto& fl : rep["flows"]) udp_flow |= fl["protocol"] == 17 && fl["b"]["port"] == 5001;
  EXPECT_TRUE(udp_flow);
}

TEST(Replay, AhIpv6NatTAndIke) {
  const std::string dir = temp_dir();
  std::vector<Frame> f;
  for (std::uint32_t s : {1u, 2u, 3u, 6u}) f.push_back(ah6(0xA0, s));
  for (std::uint32_t s : {7u, 8u, 8u, 9u}) f.push_back(esp_natt(0xB0, s));
  f.push_back(ike_natt());
  f.push_back(ike_natt());
  f.push_back(udp4(1000, 2000));
  write_pcap(dir + "/mix.pcap", f);
  const RunResult r = replay(dir, {dir + "/mix.pcap"});
  ASSERT_EQ(r.exit_code, 0) << diag(r);
  const json& rep = r.report;
  expect_counts(find_sa(rep, {{"protocol", "ah"}, {"spi", 0xA0}, {"dst", "2001:db8::2"}}),
                {{"packets", 4}, {"lost", 2}, {"gaps", 1}});
  const json natt = find_sa(rep, {{"protocol", "esp"}, {"spi", 0xB0}});
  expect_counts(natt, {{"packets", 4}, {"duplicates", 1}, {"first_seq", 7}});
  EXPECT_EQ(natt["udp_encap"], true);
  EXPECT_EQ(rep["totals"]["protocols"]["ah"]["packets"], 4);
  EXPECT_EQ(rep["totals"]["protocols"]["esp"]["packets"], 4);
  EXPECT_EQ(rep["totals"]["protocols"]["ike"]["packets"], 2);
  EXPECT_EQ(rep["totals"]["protocols"]["udp"]["packets"], 1);
  EXPECT_EQ(rep["sas"].size(), 2u);
}

TEST(Replay, SeveralPortsHavePerPortCounters) {
  const std::string dir = temp_dir();
  write_pcap(dir + "/p0.pcap", esp_seq(0x10, range(1, 50)));
  write_pcap(dir + "/p1.pcap", esp_seq(0x20, join(range(1, 9), range(11, 30))));
  write_pcap(dir + "/p2.pcap", {udp4(1, 2), udp4(1, 2), udp4(3, 4)});
  const RunResult r = replay(dir, {dir + "/p0.pcap", dir + "/p1.pcap", dir + "/p2.pcap"});
  ASSERT_EQ(r.exit_code, 0) << diag(r);
  const json& ports = r.report["ports"];
  ASSERT_EQ(ports.size(), 3u);
  const std::uint64_t want[] = {50, 29, 3};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ports[i]["id"], i);
    EXPECT_EQ(ports[i]["driver"], "net_pcap");
    EXPECT_EQ(ports[i]["rx_packets"].get<std::uint64_t>(), want[i]);
    EXPECT_EQ(ports[i]["analyzed_packets"].get<std::uint64_t>(), want[i]);
    EXPECT_EQ(ports[i]["capture_packets"].get<std::uint64_t>(), want[i]);
  }
  const json sa = find_sa(r.report, {{"spi", 0x20}});
  expect_counts(sa, {{"lost", 1}, {"port", 1}});
  EXPECT_EQ(r.report["totals"]["packets"], 82);
  EXPECT_EQ(r.report["flows_total"], 3);  // both ESP SAs share one IP pair: one flow
}

TEST(Replay, MalformedFramesAreTypedAndTheRestGoesOn) {
  const std::string dir = temp_dir();
  std::vector<Frame> f;
  f.push_back(esp4(0x55, 1));
  Buf trunc_sectag = tf::ethernet(0x88E5);
  trunc_sectag.push_back(0x2C);
  trunc_sectag.push_back(0x00);
  f.push_back(trunc_sectag);
  Buf bad_sum = esp4(0x66, 1);
  bad_sum[14 + 10] ^= 0xFF;
  f.push_back(bad_sum);
  Buf bad_ah = ah6(0x77, 1);
  bad_ah[14 + 40 + 1] = 0;  // AH payload length 0 -> 8 bytes: too short
  f.push_back(bad_ah);
  f.push_back(Buf(6, 0xFF));  // a runt: truncated Ethernet
  f.push_back(esp4(0x55, 2));
  write_pcap(dir + "/bad.pcap", f);
  const RunResult r = replay(dir, {dir + "/bad.pcap"});
  ASSERT_EQ(r.exit_code, 0) << diag(r);
  const json& m = r.report["totals"]["malformed"];
  EXPECT_EQ(m["total"], 4);
  EXPECT_EQ(m["by_reason"]["truncated_sectag"], 1);
  EXPECT_EQ(m["by_reason"]["bad_ipv4_checksum"], 1);
  EXPECT_EQ(m["by_reason"]["bad_ah_length"], 1);
  EXPECT_EQ(m["by_reason"]["truncated_ethernet"], 1);
  expect_counts(find_sa(r.report, {{"spi", 0x55}}), {{"packets", 2}, {"lost", 0}});
  EXPECT_EQ(r.report["totals"]["packets"], 6);
}

TEST(Replay, SingleLcoreControlsAndPolls) {
  const std::string dir = temp_dir();
  write_pcap(dir + "/a.pcap", esp_seq(0x1, join(range(1, 5), range(7, 10))));
  const RunResult r = replay(dir, {dir + "/a.pcap"}, {}, "0");
  ASSERT_EQ(r.exit_code, 0) << diag(r);
  expect_counts(find_sa(r.report, {{"spi", 1}}), {{"packets", 9}, {"lost", 1}});
  EXPECT_NE(r.err.find("ctl+rx"), std::string::npos) << r.err;
}

TEST(Replay, LargeCaptureEndsExactlyAtItsLastPacket) {
  const std::string dir = temp_dir();
  std::vector<Frame> f;
  std::uint64_t expected_lost = 0;
  for (std::uint32_t s = 1; s <= 200000; ++s) {
    if (s % 1000 == 0) {
      ++expected_lost;
      continue;
    }
    f.push_back(esp4(0x77 + (s % 4), s));
  }
  write_pcap(dir + "/big.pcap", f, 1'700'000'000'000'000ull, 1);
  const RunResult r = replay(dir, {dir + "/big.pcap"}, {"--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << diag(r);
  EXPECT_EQ(r.report["totals"]["packets"].get<std::size_t>(), f.size());
  EXPECT_EQ(r.report["ports"][0]["rx_nombuf"], 0);
  std::uint64_t lost = 0;
  for (const auto& sa : r.report["sas"]) lost += sa["lost"].get<std::uint64_t>();
  // Each SA sees every 4th number: its own numbering has gaps of 3; the dropped multiples
  // of 1000 add one more each.
  std::uint64_t gaps_numbers = 0;
  for (const auto& sa : r.report["sas"]) gaps_numbers += sa["highest_seq"].get<std::uint64_t>() - sa["first_seq"].get<std::uint64_t>() + 1 - sa["packets"].get<std::uint64_t>();
  EXPECT_EQ(lost, gaps_numbers);
  EXPECT_EQ(r.report["sas"].size(), 4u);
  (void)expected_lost;
}

TEST(Replay, SigintStopsDrainsAndReports) {
  const std::string dir = temp_dir();
  write_pcap(dir + "/a.pcap", esp_seq(0x9, range(1, 1000)));
  std::vector<std::string> args = eal_args({dir + "/a.pcap"});
  args.insert(args.end(), {"--", "--live", "--report-json", dir + "/report.json"});
  const RunResult r = run(binary("NETSCOPE_BIN"), args, dir, std::chrono::seconds(30), SIGINT,
                          std::chrono::milliseconds(2500), "netscope: port 0");
  ASSERT_EQ(r.exit_code, 0) << diag(r);
  const json rep = json::parse(slurp(dir + "/report.json"));
  EXPECT_EQ(rep["run"]["stop_reason"], "signal");
  EXPECT_EQ(rep["totals"]["packets"], 1000);
  EXPECT_NE(r.err.find("pps"), std::string::npos) << "progress line expected once a second:\n" << r.err;
  EXPECT_NE(r.out.find("NetScope report"), std::string::npos);
}

TEST(Replay, SigtermAlsoReports) {
  const std::string dir = temp_dir();
  write_pcap(dir + "/a.pcap", esp_seq(0x9, range(1, 10)));
  std::vector<std::string> args = eal_args({dir + "/a.pcap"});
  args.insert(args.end(), {"--", "--live", "--report-json", dir + "/report.json"});
  const RunResult r = run(binary("NETSCOPE_BIN"), args, dir, std::chrono::seconds(30), SIGTERM,
                          std::chrono::milliseconds(1200), "netscope: port 0");
  ASSERT_EQ(r.exit_code, 0) << diag(r);
  EXPECT_EQ(json::parse(slurp(dir + "/report.json"))["run"]["stop_reason"], "signal");
}

TEST(Replay, DurationStops) {
  const std::string dir = temp_dir();
  write_pcap(dir + "/a.pcap", esp_seq(0x9, range(1, 10)));
  const RunResult r = replay(dir, {dir + "/a.pcap"}, {"--live", "--duration", "0.5"});
  ASSERT_EQ(r.exit_code, 0) << diag(r);
  EXPECT_EQ(r.report["run"]["stop_reason"], "duration");
}

TEST(Replay, ConfigFileAndCommandLineOverride) {
  const std::string dir = temp_dir();
  {
    std::ofstream c(dir + "/ns.yaml");
    c << "sequence:\n  window: 32\n  stuck_threshold: 3\nlimits:\n  max_anomalies: 2\n";
  }
  write_pcap(dir + "/a.pcap", esp_seq(0x9, join(std::vector<std::uint32_t>{1}, range(3, 40), std::vector<std::uint32_t>{2, 20, 20, 20})));
  // Window 32 from the file: 2 arrives 38 behind -> out of window. --window 64 overrides it.
  RunResult r = replay(dir, {dir + "/a.pcap"}, {"--config", dir + "/ns.yaml"});
  ASSERT_EQ(r.exit_code, 0) << diag(r);
  expect_counts(find_sa(r.report, {{"spi", 9}}), {{"out_of_window", 1}, {"lost", 1}, {"duplicates", 3}, {"stuck", 1}});
  EXPECT_EQ(r.report["anomalies"].size(), 2u);
  EXPECT_EQ(r.report["anomalies_left_out"].get<int>(), r.report["anomalies_total"].get<int>() - 2);
  r = replay(dir, {dir + "/a.pcap"}, {"--config", dir + "/ns.yaml", "--window", "64"});
  ASSERT_EQ(r.exit_code, 0) << diag(r);
  expect_counts(find_sa(r.report, {{"spi", 9}}), {{"out_of_window", 0}, {"reordered", 1}, {"lost", 0}, {"stuck", 1}});
  EXPECT_EQ(r.report["run"]["window"], 64);
}

}  // namespace
}  // namespace netscope::itest

namespace netscope::itest {
namespace {

TEST(Replay, ReportMatchesJsonSchema) {
  const std::string dir = temp_dir();
  std::vector<Frame> f;
  for (std::uint32_t s : {1u, 2u, 4u, 3u, 3u, 9u}) f.push_back(esp4(0x42, s));
  for (std::uint32_t s : {1u, 3u}) f.push_back(ah6(0x43, s));
  for (std::uint32_t pn : {5u, 6u, 8u}) f.push_back(macsec(true, 1, pn, 0x0011223344550001ull));
  f.push_back(esp_natt(0x44, 1));
  f.push_back(ike_natt());
  f.push_back(udp4(7, 8));
  tf::Buf runt(10, 0xAB);
  f.push_back(runt);
  write_pcap(dir + "/mix.pcap", f);
  const RunResult r = replay(dir, {dir + "/mix.pcap"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(report_schema_errors(dir + "/report.json"), "");
  // The schema really rejects a broken report.
  json broken = r.report;
  broken["sas"][0]["lost"] = -1;
  {
    std::ofstream o(dir + "/broken.json");
    o << broken.dump();
  }
  EXPECT_NE(report_schema_errors(dir + "/broken.json"), "");
}

}  // namespace
}  // namespace netscope::itest

namespace netscope::itest {
namespace {

TEST(Replay, JumboFramesSpanningSeveralMbufs) {
  const std::string dir = temp_dir();
  std::vector<Frame> f;
  for (std::uint32_t s = 1; s <= 100; ++s) {
    if (s == 50) continue;  // one lost
    const std::size_t body = (s % 3 == 0) ? 8900 : 32;  // every third frame is a jumbo
    f.push_back(tf::cat({tf::ethernet(0x0800), tf::ipv4(50, 8 + body), tf::esp(0xE0, s), tf::payload(body)}));
  }
  for (std::uint32_t pn = 1; pn <= 10; ++pn) {
    // Integrity-only MACsec jumbo: the inner UDP is decoded across mbuf segments.
    tf::Buf inner_type;
    tf::put16(inner_type, 0x0800);
    f.push_back(tf::cat({tf::ethernet(0x88E5), tf::sectag(tf::tci::kSc, 0, 0, pn), inner_type,
                         tf::ipv4(17, 8 + 8000), tf::udp(7000, 7001, 8000), tf::payload(8000), tf::icv()}));
  }
  write_pcap(dir + "/jumbo.pcap", f);
  const RunResult r = replay(dir, {dir + "/jumbo.pcap"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.report["totals"]["packets"].get<std::size_t>(), f.size());
  EXPECT_EQ(r.report["totals"]["malformed"]["total"], 0) << r.report["totals"]["malformed"].dump();
  const json esp = find_sa(r.report, {{"protocol", "esp"}, {"spi", 0xE0}});
  ASSERT_FALSE(esp.is_null());
  EXPECT_EQ(esp["lost"], 1);
  EXPECT_EQ(esp["packets"], 99);
  std::uint64_t bytes = 0;
  for (const auto& fr : f) bytes += fr.size();
  EXPECT_EQ(r.report["totals"]["bytes"].get<std::uint64_t>(), bytes);
  bool udp = false;
  for (const auto& fl : r.report["flows"]) udp |= fl["protocol"] == 17 && fl["b"]["port"] == 7001 && fl["packets_a_to_b"] == 10;
  EXPECT_TRUE(udp) << "inner UDP of jumbo integrity-only MACsec decoded";
}

}  // namespace
}  // namespace netscope::itest

namespace netscope::itest {
namespace {

std::uint64_t tcpdump_count(const std::string& pcap, const std::string& expr) {
  const std::string cmd = "tcpdump -n -r " + pcap + " --count '" + expr + "' 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  char buf[256] = {};
  std::string out;
  while (p != nullptr && std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (p != nullptr) pclose(p);
  return std::stoull(out);  // "N packets"
}

TEST(Replay, TcpdumpFilterThroughTheBinary) {
  const std::string dir = temp_dir();
  const RunResult g = run(binary("NETSCOPE_GEN_BIN"),
                          {"--", "--builtin-demo", "--seed", "9", "--count", "5000", "--pcap-out", dir + "/demo.pcap"},
                          dir);
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const std::string expr = "esp or (udp port 4500)";
  const std::uint64_t want = tcpdump_count(dir + "/demo.pcap", expr);
  ASSERT_GT(want, 100u);
  for (const std::vector<std::string>& lcores : {std::vector<std::string>{"0-1"}, std::vector<std::string>{"0"}}) {
    const RunResult r = replay(dir, {dir + "/demo.pcap"}, {"--filter", expr}, lcores[0]);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.report["run"]["stop_reason"], "end_of_input");
    EXPECT_EQ(r.report["totals"]["packets"].get<std::uint64_t>(), want);
    EXPECT_EQ(r.report["ports"][0]["filter"], expr);
    EXPECT_EQ(r.report["ports"][0]["filter_passed"].get<std::uint64_t>(), want);
    EXPECT_EQ(r.report["ports"][0]["filter_rejected"].get<std::uint64_t>(), 5000 - want);
    EXPECT_EQ(r.report["totals"]["protocols"]["macsec"]["packets"], 0);
    EXPECT_EQ(r.report["totals"]["protocols"]["ah"]["packets"], 0);
  }
  // Anomaly packet indexes stay positions in the capture, not among the passed packets.
  const RunResult all = replay(dir, {dir + "/demo.pcap"}, {});
  const RunResult esp = replay(dir, {dir + "/demo.pcap"}, {"--port-filter", "0=esp"});
  ASSERT_EQ(esp.exit_code, 0) << esp.err;
  for (const auto& a : esp.report["anomalies"]) {
    bool same = false;
    for (const auto& b : all.report["anomalies"]) same |= a == b;
    EXPECT_TRUE(same) << a.dump();
  }
  const RunResult bad = replay(dir, {dir + "/demo.pcap"}, {"--filter", "tcp port"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("filter 'tcp port'"), std::string::npos) << bad.err;
  const RunResult badport = replay(dir, {dir + "/demo.pcap"}, {"--port-filter", "7=esp"});
  EXPECT_EQ(badport.exit_code, 2);
  EXPECT_NE(badport.err.find("--port-filter 7: no such port"), std::string::npos) << badport.err;
}

}  // namespace
}  // namespace netscope::itest
