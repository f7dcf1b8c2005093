// Two-port correlation (issue 8 point 4) through the real binaries: netscope-gen writes a
// capture with MACsec, ESP, UDP and TCP flows; the test derives the two taps of one path
// from it (port a loses a known set, port b another known set, and sees every packet a
// known delay later: 150 us plus a jitter pattern), replays both through two net_pcap
// ports with the pair correlated, and checks the report's correlation section against
// what it dropped and delayed, per direction and per SA, with one and with two workers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "harness.hpp"

namespace netscope::itest {
namespace {

constexpr std::uint64_t kDelayUs = 150;

struct Record {
  std::uint64_t ts_us = 0;
  Frame frame;
};

/// Reads a classic pcap (micro- or nanosecond magic, little-endian as netscope-gen writes).
std::vector<Record> read_pcap(const std::string& path) {
  const std::string data = slurp(path);
  if (data.size() < 24) throw std::runtime_error("short pcap " + path);
  auto u32 = [&](std::size_t off) {
    std::uint32_t v;
    std::memcpy(&v, data.data() + off, 4);
    return v;
  };
  const std::uint32_t magic = u32(0);
  if (magic != 0xa1b2c3d4u && magic != 0xa1b23c4du) throw std::runtime_error("not a little-endian pcap");
  const bool nano = magic == 0xa1b23c4du;
  std::vector<Record> out;
  for (std::size_t off = 24; off + 16 <= data.size();) {
    const std::uint64_t sec = u32(off);
    const std::uint64_t frac = u32(off + 4);
    const std::uint32_t caplen = u32(off + 8);
    off += 16;
    if (off + caplen > data.size()) throw std::runtime_error("truncated pcap");
    out.push_back({sec * 1'000'000 + (nano ? frac / 1000 : frac),
                   Frame(data.begin() + static_cast<std::ptrdiff_t>(off),
                         data.begin() + static_cast<std::ptrdiff_t>(off + caplen))});
    off += caplen;
  }
  return out;
}

/// The SA a generated frame belongs to, as the report names it ("esp:256", "macsec:<sci>"),
/// or "" for plain IP.
std::string sa_of(const Frame& f) {
  if (f.size() > 30 && f[12] == 0x88 && f[13] == 0xE5) {
    // SecTAG after the EtherType: TCI/AN, SL, PN (4), SCI (8).
    char sci[17];
    std::snprintf(sci, sizeof sci, "%02x%02x%02x%02x%02x%02x%02x%02x", f[20], f[21], f[22], f[23], f[24], f[25],
                  f[26], f[27]);
    return std::string("macsec:") + sci;
  }
  if (f.size() > 38 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 50) {
    const std::size_t l4 = 14 + static_cast<std::size_t>(f[14] & 0x0F) * 4;
    const std::uint32_t spi = (std::uint32_t{f[l4]} << 24) | (std::uint32_t{f[l4 + 1]} << 16) |
                              (std::uint32_t{f[l4 + 2]} << 8) | f[l4 + 3];
    return "esp:" + std::to_string(spi);
  }
  return "";
}

std::string sa_of(const json& sa) {
  if (sa["protocol"] == "macsec") return "macsec:" + sa["sci"].get<std::string>();
  return sa["protocol"].get<std::string>() + ":" + std::to_string(sa["spi"].get<std::uint32_t>());
}

struct Expected {
  std::uint64_t matched = 0, lost_a_to_b = 0, lost_b_to_a = 0;
  std::int64_t min_ns = INT64_MAX, max_ns = INT64_MIN;
  std::vector<std::int64_t> latencies;
  /// The q-quantile of the injected latencies (nearest rank).
  std::int64_t quantile(double q) const {
    std::vector<std::int64_t> v = latencies;
    std::sort(v.begin(), v.end());
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::max<std::size_t>(rank, 1) - 1];
  }
};

struct Captures {
  std::string a, b;
  Expected pair;
  std::map<std::string, Expected> sas;
  std::size_t frames = 0;
};

/// Generates the traffic and derives the two taps; computes what the correlation must find.
Captures make_captures(const std::string& dir) {
  const std::string flows = dir + "/flows.yaml";
  std::ofstream(flows) << R"(count: 3000
rate_pps: 100000
flows:
  - name: macsec
    protocol: macsec
    weight: 2
    eth: {src: "02:00:00:00:10:01", dst: "02:00:00:00:10:02"}
    ip: {src: 10.10.0.1, dst: 10.10.0.2}
    size: 200
    payload: random
    macsec: {sci: "02:00:00:00:10:01/1", cipher: gcm-aes-128, key: "00112233445566778899aabbccddeeff"}
  - name: esp1
    protocol: esp
    weight: 2
    ip: {src: 192.0.2.1, dst: 192.0.2.2}
    size: 300
    esp: {spi: 0x100, algorithm: aes-gcm-128, key: "4c80cdefbb5d10da906ac73c3613a634", salt: "2e443b68"}
  - name: esp2
    protocol: esp
    weight: 1
    ip: {src: 192.0.2.3, dst: 192.0.2.4}
    size: 120
    esp: {spi: 0x200, algorithm: aes-gcm-128, key: "4c80cdefbb5d10da906ac73c3613a634", salt: "2e443b68"}
  - name: udp
    protocol: udp
    weight: 2
    ip: {src: 10.0.0.1, dst: 10.0.0.2}
    l4: {protocol: udp, src_port: 1024, dst_port: 7}
    size: 100
    payload: random
  - name: tcp
    protocol: tcp
    weight: 1
    ip: {src: 10.0.0.3, dst: 10.0.0.4}
    l4: {protocol: tcp, src_port: 40000, dst_port: 7}
    size: 150
    payload: random
)";
  const std::string gen = dir + "/gen.pcap";
  const RunResult g = run(binary("NETSCOPE_GEN_BIN"), {"--", "--config", flows, "--seed", "7", "--pcap-out", gen}, dir);
  if (g.exit_code != 0) throw std::runtime_error("netscope-gen failed: " + g.err);
  const std::vector<Record> in = read_pcap(gen);

  Captures c;
  c.frames = in.size();
  std::vector<Frame> fa, fb;
  std::vector<std::uint64_t> ta, tb;
  std::vector<std::pair<std::uint64_t, std::size_t>> b_order;  // b sorted by its own timestamps
  for (std::size_t i = 0; i < in.size(); ++i) {
    const bool on_a = i % 101 != 17;           // lost before tap a: seen on b only
    const bool on_b = i % 53 != 3 && i % 211 != 100;  // lost between a and b
    const std::uint64_t jitter = (i * 7) % 11;  // 0..10 us
    const std::uint64_t tsb = in[i].ts_us + kDelayUs + jitter;
    if (on_a) {
      fa.push_back(in[i].frame);
      ta.push_back(in[i].ts_us);
    }
    if (on_b) b_order.emplace_back(tsb, i);
    const std::string sa = sa_of(in[i].frame);
    for (Expected* e : {&c.pair, sa.empty() ? nullptr : &c.sas[sa]}) {
      if (e == nullptr) continue;
      if (on_a && on_b) {
        ++e->matched;
        const auto lat = static_cast<std::int64_t>((kDelayUs + jitter) * 1000);
        e->min_ns = std::min(e->min_ns, lat);
        e->max_ns = std::max(e->max_ns, lat);
        e->latencies.push_back(lat);
      }
      if (on_a && !on_b) ++e->lost_a_to_b;
      if (!on_a && on_b) ++e->lost_b_to_a;
    }
  }
  std::stable_sort(b_order.begin(), b_order.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  for (const auto& [t, i] : b_order) {
    fb.push_back(in[i].frame);
    tb.push_back(t);
  }
  c.a = dir + "/tap_a.pcap";
  c.b = dir + "/tap_b.pcap";
  write_pcap(c.a, fa, 0, 0, &ta);
  write_pcap(c.b, fb, 0, 0, &tb);
  return c;
}

void check(const RunResult& r, const Captures& c, const std::string& what) {
  ASSERT_EQ(r.exit_code, 0) << what << "\n" << r.err;
  ASSERT_TRUE(r.report.is_object()) << what;
  const json& corr = r.report["correlation"];
  ASSERT_TRUE(corr.is_object()) << what;
  EXPECT_EQ(corr["window_ns"], 1'000'000'000u);
  ASSERT_EQ(corr["pairs"].size(), 1u) << what;
  const json& p = corr["pairs"][0];
  EXPECT_EQ(p["a"]["name"], "net_pcap0");
  EXPECT_EQ(p["b"]["name"], "net_pcap1");
  EXPECT_EQ(p["timestamps"], "capture");
  EXPECT_EQ(p["matched"].get<std::uint64_t>(), c.pair.matched) << what;
  EXPECT_EQ(p["lost_a_to_b"].get<std::uint64_t>(), c.pair.lost_a_to_b) << what;
  EXPECT_EQ(p["lost_b_to_a"].get<std::uint64_t>(), c.pair.lost_b_to_a) << what;
  EXPECT_EQ(p["duplicates"], 0u) << what;
  EXPECT_EQ(p["pending"], 0u) << what;
  EXPECT_EQ(p["untracked"]["table_full"], 0u) << what;
  EXPECT_EQ(p["untracked"]["non_ip"], 0u) << what;
  const json& lat = p["latency_ns"];
  EXPECT_EQ(lat["count"].get<std::uint64_t>(), c.pair.matched) << what;
  EXPECT_NEAR(lat["min"].get<double>(), static_cast<double>(c.pair.min_ns), 1000) << what;
  EXPECT_NEAR(lat["max"].get<double>(), static_cast<double>(c.pair.max_ns), 1000) << what;
  EXPECT_EQ(lat["negative"], 0u);
  // Quantiles from the log histogram: the injected jitter is uniform over 150..160 us, so
  // interpolation inside a bucket lands within 1 us of the exact order statistic.
  for (const auto& [name, q] : {std::pair{"p50", 0.5}, std::pair{"p90", 0.9}, std::pair{"p99", 0.99}}) {
    EXPECT_NEAR(lat[name].get<double>(), static_cast<double>(c.pair.quantile(q)), 1000) << what << " " << name;
  }
  EXPECT_GT(lat["mean"].get<double>(), static_cast<double>(c.pair.min_ns));
  EXPECT_LT(lat["mean"].get<double>(), static_cast<double>(c.pair.max_ns));

  std::set<std::string> seen;
  for (const json& s : p["sas"]) {
    const std::string key = sa_of(s);
    seen.insert(key);
    const auto it = c.sas.find(key);
    ASSERT_NE(it, c.sas.end()) << what << ": unexpected SA " << key;
    const Expected& e = it->second;
    EXPECT_EQ(s["matched"].get<std::uint64_t>(), e.matched) << what << " " << key;
    EXPECT_EQ(s["lost_a_to_b"].get<std::uint64_t>(), e.lost_a_to_b) << what << " " << key;
    EXPECT_EQ(s["lost_b_to_a"].get<std::uint64_t>(), e.lost_b_to_a) << what << " " << key;
    EXPECT_NEAR(s["latency_ns"]["min"].get<double>(), static_cast<double>(e.min_ns), 1000) << what << " " << key;
    EXPECT_NEAR(s["latency_ns"]["max"].get<double>(), static_cast<double>(e.max_ns), 1000) << what << " " << key;
  }
  EXPECT_EQ(seen.size(), c.sas.size()) << what;
  EXPECT_EQ(c.sas.size(), 3u);  // one MACsec SC and two ESP SAs

  // Port b repeats port a's SAs: their numbers are tracked once (port a), so port b's
  // copies raise no duplicate anomalies.
  for (const json& s : r.report["sas"]) {
    EXPECT_EQ(s["duplicates"], 0u) << what << " " << s.dump();
  }
  // The text report has the section too.
  EXPECT_NE(r.out.find("Correlation (window 1.000 s)"), std::string::npos) << what;
}

class Correlation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = temp_dir();
    caps_ = make_captures(dir_);
  }
  static std::string dir_;
  static Captures caps_;
};
std::string Correlation::dir_;
Captures Correlation::caps_;

TEST_F(Correlation, OneWorkerCountsLossPerDirectionAndLatency) {
  ASSERT_GT(caps_.frames, 2900u);
  ASSERT_GT(caps_.pair.lost_a_to_b, 50u);
  ASSERT_GT(caps_.pair.lost_b_to_a, 20u);
  const std::string d = temp_dir();
  const RunResult r = replay(d, {caps_.a, caps_.b}, {"--correlate", "net_pcap0,net_pcap1"}, "0");
  check(r, caps_, "single lcore");
  // The report with its correlation section follows docs/report-schema.json.
  EXPECT_EQ(report_schema_errors(d + "/report.json"), "");
}

/// Replays both taps with an EAL --lcores mapping (lcores sharing this machine's 2 CPUs).
RunResult replay_mapped(const std::string& d, const Captures& c, const std::string& lcores,
                        const std::vector<std::string>& app_args) {
  std::vector<std::string> args = eal_args({c.a, c.b});
  const auto l = std::find(args.begin(), args.end(), "-l");
  args.erase(l, l + 2);
  args.insert(args.end(), {"--lcores", lcores, "--", "--report-json", d + "/report.json"});
  args.insert(args.end(), app_args.begin(), app_args.end());
  RunResult r = run(binary("NETSCOPE_BIN"), args, d);
  const std::string text = slurp(d + "/report.json");
  if (!text.empty()) r.report = json::parse(text, nullptr, false);
  return r;
}

TEST_F(Correlation, TwoPipelineWorkersGiveTheSameNumbers) {
  const std::string d = temp_dir();
  // The pair from the YAML file by port ids.
  const std::string yaml = d + "/corr.yaml";
  std::ofstream(yaml) << "correlation:\n  pairs:\n    - {a: 0, b: 1}\n  window: 1\n";
  // Control on CPU 0; 2 RX lcores (one per port) and 2 workers share CPU 1.
  const RunResult r = replay_mapped(d, caps_, "0@0,(1-4)@1", {"--mode", "pipeline", "--config", yaml});
  check(r, caps_, "pipeline, 2 workers");
  ASSERT_EQ(r.report["run"]["workers"], 2u);
  EXPECT_NE(r.err.find("2 worker lcore(s)"), std::string::npos) << r.err;
}

TEST_F(Correlation, AutoModePicksPipelineAndRtcWithSeveralWorkersIsRefused) {
  const std::string d = temp_dir();
  // Two ports, two lcores besides the main one: auto would poll one port per lcore (rtc),
  // which splits a packet's copies; correlation takes the software shard instead.
  const RunResult r = replay_mapped(d, caps_, "0@0,(1-2)@1", {"--correlate", "0,1"});
  EXPECT_NE(r.err.find("mode pipeline"), std::string::npos) << r.err;
  check(r, caps_, "auto with 2 lcores");

  const std::string d2 = temp_dir();
  const RunResult bad = replay_mapped(d2, caps_, "0@0,(1-2)@1", {"--correlate", "0,1", "--mode", "rtc"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("cannot correlate ports"), std::string::npos) << bad.err;

  const RunResult unknown = replay(d2, {caps_.a, caps_.b}, {"--correlate", "0,net_pcap7"}, "0");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("no such port 'net_pcap7'"), std::string::npos) << unknown.err;
}

}  // namespace
}  // namespace netscope::itest
