// netscope-gen through DPDK ports: exact counts into net_pcap, generator -> analyzer over
// net_memif (two processes), pacing accuracy on net_null, clean stop on a signal, the
// truth after frames were given up on, and one-line usage errors.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>

#include "harness.hpp"

namespace netscope::itest {
namespace {

/// EAL options of one test process (its own file prefix, no hugepages, no PCI).
std::vector<std::string> eal(const std::vector<std::string>& vdevs,
                             const std::string& lcores = "-l",
                             const std::string& lcore_list = "0-1") {
  std::vector<std::string> a{"--no-huge",     "--no-pci",      "-m",   "512",      "--no-telemetry",
                             "--file-prefix", unique_prefix(), lcores, lcore_list, "--log-level",
                             "lib.eal:error"};
  for (const std::string& v : vdevs) a.push_back("--vdev=" + v);
  return a;
}

std::vector<std::string> cat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string subdir(const std::string& dir, const std::string& name) {
  const std::string d = dir + "/" + name;
  mkdir(d.c_str(), 0755);
  return d;
}

RunResult gen(const std::string& dir, const std::vector<std::string>& args,
              std::chrono::milliseconds timeout = std::chrono::seconds(60), int sig = 0,
              std::chrono::milliseconds after = {}) {
  // A signal is sent only once the generator reports its port (its handler is installed).
  return run(binary("NETSCOPE_GEN_BIN"), args, dir, timeout, sig, after, sig != 0 ? "netscope-gen: port " : "");
}

json read_json(const std::string& path) {
  const std::string text = slurp(path);
  return text.empty() ? json() : json::parse(text, nullptr, false);
}

/// Frames of a classic pcap file (micro- or nanosecond, little-endian), read without libpcap.
std::vector<Frame> read_pcap(const std::string& path) {
  const std::string d = slurp(path);
  std::vector<Frame> out;
  auto u32 = [&](std::size_t o) {
    std::uint32_t v = 0;
    std::memcpy(&v, d.data() + o, 4);
    return v;
  };
  if (d.size() < 24 || (u32(0) != 0xa1b2c3d4 && u32(0) != 0xa1b23c4d)) {
    ADD_FAILURE() << path << " is not a little-endian pcap file";
    return out;
  }
  std::size_t o = 24;
  while (o + 16 <= d.size()) {
    const std::uint32_t caplen = u32(o + 8);
    EXPECT_EQ(caplen, u32(o + 12)) << "truncated record in " << path;
    if (o + 16 + caplen > d.size()) {
      ADD_FAILURE() << "short record in " << path;
      break;
    }
    out.emplace_back(d.begin() + static_cast<std::ptrdiff_t>(o + 16),
                     d.begin() + static_cast<std::ptrdiff_t>(o + 16 + caplen));
    o += 16 + caplen;
  }
  EXPECT_EQ(o, d.size()) << "trailing bytes in " << path;
  return out;
}

/// Frames tshark (Wireshark's reader, independent of ours) counts in a capture.
std::size_t tshark_count(const std::string& path) {
  const std::string cmd =
      "tshark -n -r '" + path + "' -T fields -e frame.number 2>/dev/null | wc -l";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return 0;
  std::size_t n = 0;
  if (std::fscanf(p, "%zu", &n) != 1) n = 0;
  pclose(p);
  return n;
}

json sa_identity(const json& sa) {
  json id = {{"protocol", sa["protocol"]}};
  for (const char* k : {"sci", "an", "spi", "dst", "udp_encap"}) {
    if (sa.contains(k)) id[k] = sa[k];
  }
  return id;
}

/// Every field of every truth SA equals the analyzer's, and there are no other SAs.
void expect_report_equals_truth(const json& report, const json& truth) {
  ASSERT_TRUE(report.is_object());
  ASSERT_TRUE(truth.is_object());
  ASSERT_GE(truth["sas"].size(), 6u);
  EXPECT_EQ(report["sas"].size(), truth["sas"].size());
  for (const auto& t : truth["sas"]) {
    const json ours = find_sa(report, sa_identity(t));
    ASSERT_FALSE(ours.is_null()) << "SA missing from the report: " << t.dump();
    for (const auto& [k, v] : t.items()) {
      EXPECT_EQ(ours[k], v) << "field " << k << " of " << sa_identity(t).dump();
    }
  }
  EXPECT_EQ(report["totals"]["malformed"]["total"], 0);
}

std::uint64_t truth_packets(const json& truth) {
  std::uint64_t n = 0;
  for (const auto& sa : truth["sas"]) n += sa["packets"].get<std::uint64_t>();
  return n;
}

std::string demo_config() { return binary("NETSCOPE_SOURCE_ROOT") + "/config/demo.yaml"; }

/// Lines of `err` that start with "netscope-gen:".
std::vector<std::string> gen_lines(const std::string& err) {
  std::vector<std::string> out;
  std::stringstream s(err);
  std::string line;
  while (std::getline(s, line)) {
    if (line.rfind("netscope-gen:", 0) == 0) out.push_back(line);
  }
  return out;
}

void expect_within(double value, double target, double fraction, const std::string& what) {
  EXPECT_GE(value, target * (1.0 - fraction)) << what;
  EXPECT_LE(value, target * (1.0 + fraction)) << what;
}

// ---- (1) net_pcap tx_pcap: exact count, replay equals the truth --------------------------

TEST(GenDpdk, PcapCountIsExactAndReplayEqualsTruth) {
  const std::string dir = temp_dir();
  const std::string out = dir + "/tx.pcap";
  constexpr std::uint64_t kCount = 3001;
  const RunResult g =
      gen(subdir(dir, "gen"),
          cat(eal({"net_pcap0,tx_pcap=" + out}),
              {"--", "--builtin-demo", "--seed", "11", "--count", std::to_string(kCount),
               "--truth-out", dir + "/truth.json", "--stats-json", dir + "/stats.json"}));
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const json stats = read_json(dir + "/stats.json");
  ASSERT_TRUE(stats.is_object()) << g.err;
  EXPECT_EQ(stats["packets"], kCount);
  EXPECT_EQ(stats["drops"], 0);
  EXPECT_EQ(stats["stop_reason"], "count");
  EXPECT_EQ(stats["ports"][0]["opackets"], kCount);

  const std::vector<Frame> frames = read_pcap(out);
  ASSERT_EQ(frames.size(), kCount);
  EXPECT_EQ(tshark_count(out), kCount);
  std::uint64_t bytes = 0;
  for (const Frame& f : frames) bytes += f.size();
  EXPECT_EQ(stats["bytes"], bytes);

  const json truth = read_json(dir + "/truth.json");
  const RunResult r =
      replay(subdir(dir, "replay"), {out}, {"--config", demo_config(), "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_report_equals_truth(r.report, truth);
  EXPECT_EQ(r.report["totals"]["packets"], kCount);

  // One TX lcore sends exactly the frames (and truth) of the same seed's --pcap-out.
  const RunResult ref =
      gen(subdir(dir, "ref"),
          {"--", "--builtin-demo", "--seed", "11", "--count", std::to_string(kCount), "--pcap-out",
           dir + "/ref.pcap", "--truth-out", dir + "/ref_truth.json"});
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  EXPECT_TRUE(read_pcap(dir + "/ref.pcap") == frames) << "DPDK frames differ from the pcap output";
  EXPECT_EQ(slurp(dir + "/ref_truth.json"), slurp(dir + "/truth.json"));
}

TEST(GenDpdk, TwoTxLcoresShareFlowsNotSequenceCounters) {
  const std::string dir = temp_dir();
  const std::string a = dir + "/q0.pcap";
  const std::string b = dir + "/q1.pcap";
  constexpr std::uint64_t kCount = 4001;
  // Three lcores on two CPUs: main (reports, sleeps), two TX lcores, one TX queue each.
  const RunResult g =
      gen(subdir(dir, "gen"),
          cat(eal({"net_pcap0,tx_pcap=" + a + ",tx_pcap=" + b}, "--lcores", "0@0,1@1,2@0"),
              {"--", "--builtin-demo", "--seed", "5", "--count", std::to_string(kCount),
               "--truth-out", dir + "/truth.json", "--stats-json", dir + "/stats.json"}));
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const json stats = read_json(dir + "/stats.json");
  ASSERT_TRUE(stats.is_object()) << g.err;
  ASSERT_EQ(stats["lcores"].size(), 2u);
  const std::vector<Frame> fa = read_pcap(a);
  const std::vector<Frame> fb = read_pcap(b);
  EXPECT_EQ(fa.size() + fb.size(), kCount);
  EXPECT_GT(fa.size(), kCount / 4);
  EXPECT_GT(fb.size(), kCount / 4);
  for (const auto& l : stats["lcores"]) {
    EXPECT_EQ(l["packets"], l["queue"] == 0 ? fa.size() : fb.size());
    EXPECT_GT(l["flows"].get<int>(), 0);
  }
  EXPECT_EQ(stats["packets"], kCount);

  // Each SA's frames are in one file, so two replay queues see each SA in generator order.
  const json truth = read_json(dir + "/truth.json");
  const RunResult r =
      replay(subdir(dir, "replay"), {a, b}, {"--config", demo_config(), "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_report_equals_truth(r.report, truth);
  EXPECT_EQ(r.report["totals"]["packets"], kCount);
}

// ---- (2) generator -> analyzer over net_memif, two processes ------------------------------

struct Process {
  pid_t pid = -1;
  std::string dir;
};

Process spawn(const std::string& exe, const std::vector<std::string>& args,
              const std::string& dir) {
  Process p;
  p.dir = dir;
  std::vector<std::string> argv_s{exe};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  p.pid = fork();
  if (p.pid == 0) {
    const int o = open((dir + "/stdout.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open((dir + "/stderr.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  return p;
}

/// Sends `sig` (if non-zero) and waits; kills after `timeout`.
RunResult finish(const Process& p, int sig, std::chrono::milliseconds timeout) {
  RunResult r;
  if (sig != 0) kill(p.pid, sig);
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  while (waitpid(p.pid, &status, WNOHANG) != p.pid) {
    if (std::chrono::steady_clock::now() - start > timeout) {
      kill(p.pid, SIGKILL);
      waitpid(p.pid, &status, 0);
      r.err = slurp(p.dir + "/stderr.txt") + "\n[test: killed after timeout]";
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = slurp(p.dir + "/stdout.txt");
  r.err = slurp(p.dir + "/stderr.txt");
  return r;
}

bool wait_for_file(const std::string& path, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  struct stat st {};
  while (stat(path.c_str(), &st) != 0) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

TEST(GenDpdk, MemifGeneratorToAnalyzerEveryPacketAnalyzed) {
  const std::string dir = temp_dir();
  const std::string sock = dir + "/memif.sock";
  const std::string memif = "socket=" + sock + ",socket-abstract=no";
  constexpr std::uint64_t kCount = 20000;
  // The analyzer (memif server) polls on CPU 0, the generator's TX lcore runs on CPU 1.
  const std::string an_dir = subdir(dir, "analyzer");
  const Process analyzer =
      spawn(binary("NETSCOPE_BIN"),
            cat(eal({"net_memif0,role=server," + memif}, "--lcores", "0@1,1@0"),
                {"--", "--live", "--config", demo_config(), "--no-progress", "--no-report",
                 "--report-json", an_dir + "/report.json"}),
            an_dir);
  // The socket appears at probe time; wait until the analyzer has started its port too.
  bool started = wait_for_file(sock, std::chrono::seconds(30));
  for (int i = 0; started && i < 3000 && slurp(an_dir + "/stderr.txt").find("netscope: port 0") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!started || slurp(an_dir + "/stderr.txt").find("netscope: port 0") == std::string::npos) {
    const RunResult a = finish(analyzer, SIGKILL, std::chrono::seconds(10));
    FAIL() << "the analyzer did not start its memif port " << sock << ": " << a.err;
  }
  const RunResult g =
      gen(subdir(dir, "gen"),
          cat(eal({"net_memif0,role=client," + memif}),
              {"--", "--builtin-demo", "--seed", "21", "--count", std::to_string(kCount),
               "--truth-out", dir + "/truth.json", "--stats-json", dir + "/stats.json"}),
          std::chrono::seconds(90));
  // The sender has left (PLATFORM.md: stop the sender first); now the analyzer.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const RunResult a = finish(analyzer, SIGINT, std::chrono::seconds(60));
  ASSERT_EQ(g.exit_code, 0) << g.err;
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const json stats = read_json(dir + "/stats.json");
  ASSERT_TRUE(stats.is_object()) << g.err;
  EXPECT_EQ(stats["packets"], kCount);
  EXPECT_EQ(stats["drops"], 0);

  const json report = read_json(an_dir + "/report.json");
  ASSERT_TRUE(report.is_object()) << a.err;
  EXPECT_EQ(report["totals"]["packets"], kCount) << "not every generated packet was analyzed";
  expect_report_equals_truth(report, read_json(dir + "/truth.json"));
}

// ---- (3) pacing on net_null ----------------------------------------------------------------

json paced_run(const std::vector<std::string>& opts) {
  const std::string dir = temp_dir();
  const RunResult g =
      gen(subdir(dir, "gen"), cat(cat(eal({"net_null0"}), {"--", "--builtin-demo", "--seed", "3"}),
                                  cat(opts, {"--stats-json", dir + "/stats.json"})));
  EXPECT_EQ(g.exit_code, 0) << g.err;
  const std::vector<std::string> lines = gen_lines(g.err);
  json stats = read_json(dir + "/stats.json");
  EXPECT_TRUE(stats.is_object()) << g.err;
  EXPECT_FALSE(lines.empty());
  if (!lines.empty() && stats.is_object()) {
    // The final line says achieved against requested (or that there was no limit).
    EXPECT_EQ(lines.back().rfind("netscope-gen: sent ", 0), 0u) << g.err;
    EXPECT_NE(lines.back().find(stats["requested"].is_null() ? "no rate limit" : "achieved"),
              std::string::npos)
        << g.err;
  }
  if (stats.is_object()) {
    EXPECT_EQ(stats["ports"][0]["opackets"], stats["packets"]);
    EXPECT_EQ(stats["drops"], 0);
  }
  return stats;
}

TEST(GenDpdk, ConstantRatePpsWithinFivePercent) {
  const json s = paced_run({"--rate-pps", "20000", "--duration", "2"});
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s["stop_reason"], "duration");
  EXPECT_EQ(s["requested"]["value"], 20000.0);
  expect_within(s["achieved"]["pps"].get<double>(), 20000, 0.05, "achieved pps");
  expect_within(s["requested"]["achieved"].get<double>(), 20000, 0.05, "achieved pps");
  expect_within(s["packets"].get<double>(), 40000, 0.05, "frames in 2 s");
  expect_within(s["seconds"].get<double>(), 2.0, 0.05, "run time");
}

TEST(GenDpdk, PoissonRatePpsWithinFivePercent) {
  const json s = paced_run({"--rate-pps", "20000", "--duration", "2", "--pacing", "poisson"});
  ASSERT_TRUE(s.is_object());
  expect_within(s["achieved"]["pps"].get<double>(), 20000, 0.05, "achieved pps");
}

TEST(GenDpdk, BitRateL2AndPercentOfLinkL1) {
  const json l2 = paced_run({"--rate-bps", "40e6", "--rate-layer", "l2", "--duration", "2"});
  ASSERT_TRUE(l2.is_object());
  EXPECT_EQ(l2["requested"]["layer"], "l2");
  expect_within(l2["achieved"]["bps_l2"].get<double>(), 40e6, 0.05, "achieved L2 bit/s");
  // L2 counts frame + FCS bits: recompute from the frame bytes.
  const double l2_bits = 8.0 * (l2["bytes"].get<double>() + 4.0 * l2["packets"].get<double>());
  EXPECT_NEAR(l2["achieved"]["bps_l2"].get<double>(), l2_bits / l2["seconds"].get<double>(), 1.0);

  // net_null reports a 10 Gbit/s link: 0.5 % is 50 Mbit/s on the wire (L1: +20 bytes).
  const json pct = paced_run({"--rate-percent", "0.5", "--duration", "2"});
  ASSERT_TRUE(pct.is_object());
  EXPECT_EQ(pct["requested"]["value"], 50e6);
  EXPECT_EQ(pct["requested"]["layer"], "l1");
  expect_within(pct["achieved"]["bps_l1"].get<double>(), 50e6, 0.05, "achieved L1 bit/s");
  const double l1_bits = 8.0 * (pct["bytes"].get<double>() + 24.0 * pct["packets"].get<double>());
  EXPECT_NEAR(pct["achieved"]["bps_l1"].get<double>(), l1_bits / pct["seconds"].get<double>(), 1.0);
}

TEST(GenDpdk, PerFlowRatesAndAchievedVersusRequestedEverySecond) {
  const std::string dir = temp_dir();
  const std::string yaml = dir + "/flows.yaml";
  {
    std::ofstream f(yaml);
    f << "flows:\n"
         "  - {name: fast, protocol: udp, rate_pps: 15000, l4: {src_port: 1}}\n"
         "  - {name: slow, protocol: udp, rate_pps: 5000, l4: {src_port: 2}}\n"
         "  - name: sa\n"
         "    protocol: macsec\n"
         "    rate_pps: 2500\n"
         "    macsec: {sci: 0x0200000000010001, key: \"00112233445566778899aabbccddeeff\"}\n";
  }
  // Two TX lcores (sharing one CPU): the flows are split and each lane paces its own.
  const RunResult g = gen(subdir(dir, "gen"),
                          cat(eal({"net_null0"}, "--lcores", "0@0,1@1,2@1"),
                              {"--", "--config", yaml, "--seed", "4", "--duration", "2.5",
                               "--stats-json", dir + "/stats.json"}));
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const json s = read_json(dir + "/stats.json");
  ASSERT_TRUE(s.is_object()) << g.err;
  EXPECT_EQ(s["requested"]["unit"], "pps");
  EXPECT_EQ(s["requested"]["value"], 22500.0);
  expect_within(s["achieved"]["pps"].get<double>(), 22500, 0.05, "port pps");
  ASSERT_EQ(s["flows"].size(), 3u);
  std::map<std::string, double> want = {{"fast", 15000}, {"slow", 5000}, {"sa", 2500}};
  for (const json& f : s["flows"]) {
    const std::string name = f["name"];
    ASSERT_TRUE(want.count(name)) << name;
    EXPECT_EQ(f["requested_pps"], want[name]);
    expect_within(f["pps"].get<double>(), want[name], 0.05, "flow " + name + " pps");
  }
  // Once a second: the rate of that second and the average against the requested rate.
  int per_second = 0;
  for (const std::string& line : gen_lines(g.err)) {
    if (line.find("this second") != std::string::npos &&
        line.find("requested (") != std::string::npos) {
      ++per_second;
    }
  }
  EXPECT_GE(per_second, 2) << g.err;
  EXPECT_NE(g.err.find("flow fast: "), std::string::npos) << g.err;

  // A port-wide rate contradicts the flows' own rates: a usage error.
  const RunResult bad = gen(subdir(dir, "bad"), cat(eal({"net_null0"}),
                                                    {"--", "--config", yaml, "--rate-pps", "10",
                                                     "--duration", "1"}));
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("rate_pps"), std::string::npos) << bad.err;
}

TEST(GenDpdk, CountIsExact) {
  const json fast = paced_run({"--count", "123457", "--pacing", "burst", "--no-crypto"});
  ASSERT_TRUE(fast.is_object());
  EXPECT_EQ(fast["packets"], 123457);
  EXPECT_EQ(fast["stop_reason"], "count");
  EXPECT_TRUE(fast["requested"].is_null());

  // A paced count lasts count / rate.
  const json paced = paced_run({"--count", "10000", "--rate-pps", "10000"});
  ASSERT_TRUE(paced.is_object());
  EXPECT_EQ(paced["packets"], 10000);
  EXPECT_EQ(paced["stop_reason"], "count");
  expect_within(paced["seconds"].get<double>(), 1.0, 0.05, "run time");
  expect_within(paced["achieved"]["pps"].get<double>(), 10000, 0.05, "achieved pps");
}

// ---- (4) a signal stops an unbounded run cleanly ------------------------------------------

void stop_by_signal(int sig) {
  const std::string dir = temp_dir();
  const RunResult g =
      gen(subdir(dir, "gen"),
          cat(eal({"net_null0"}), {"--", "--builtin-demo", "--count", "0", "--no-crypto",
                                   "--stats-json", dir + "/stats.json"}),
          std::chrono::seconds(30), sig, std::chrono::milliseconds(1500));
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const std::vector<std::string> lines = gen_lines(g.err);
  ASSERT_FALSE(lines.empty()) << g.err;
  EXPECT_EQ(lines.back().rfind("netscope-gen: sent ", 0), 0u) << g.err;
  EXPECT_NE(lines.back().find("(stop: signal)"), std::string::npos) << g.err;
  const json stats = read_json(dir + "/stats.json");
  ASSERT_TRUE(stats.is_object()) << g.err;
  EXPECT_EQ(stats["stop_reason"], "signal");
  EXPECT_GT(stats["packets"].get<std::uint64_t>(), 1000u);
  EXPECT_EQ(stats["ports"][0]["opackets"], stats["packets"]);
  EXPECT_EQ(stats["drops"], 0);
}

TEST(GenDpdk, SigintStopsUnboundedRun) { stop_by_signal(SIGINT); }
TEST(GenDpdk, SigtermStopsUnboundedRun) { stop_by_signal(SIGTERM); }

// ---- frames given up on are not in the truth -----------------------------------------------

TEST(GenDpdk, TruthExcludesFramesGivenUpOn) {
  // net_ring with nobody reading: the ring fills, the TX lcore waits for it until the
  // duration ends, then gives up on the burst it holds after the drain timeout.
  const std::string dir = temp_dir();
  const RunResult g =
      gen(subdir(dir, "gen"),
          cat(eal({"net_ring0"}), {"--", "--builtin-demo", "--seed", "9", "--count", "100000",
                                   "--duration", "1", "--drain-timeout", "0.2", "--truth-out",
                                   dir + "/truth.json", "--stats-json", dir + "/stats.json"}));
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const json stats = read_json(dir + "/stats.json");
  ASSERT_TRUE(stats.is_object()) << g.err;
  const std::uint64_t sent = stats["packets"].get<std::uint64_t>();
  EXPECT_GT(sent, 100u);
  EXPECT_LT(sent, 100000u);
  EXPECT_GT(stats["drops"].get<std::uint64_t>(), 0u);
  EXPECT_GT(stats["retries"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(stats["ports"][0]["opackets"], sent);
  // The truth is that of exactly the first `sent` frames of the same seed.
  const RunResult ref =
      gen(subdir(dir, "ref"),
          {"--", "--builtin-demo", "--seed", "9", "--count", std::to_string(sent), "--pcap-out",
           dir + "/ref.pcap", "--truth-out", dir + "/ref_truth.json"});
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const json truth = read_json(dir + "/truth.json");
  EXPECT_EQ(truth, read_json(dir + "/ref_truth.json"));
  EXPECT_GT(truth_packets(truth), 0u);
  EXPECT_LT(truth_packets(truth), sent + 1);
}

// ---- (5) usage errors: one line, exit 2 ----------------------------------------------------

void expect_usage_error(const std::vector<std::string>& args, const std::string& phrase) {
  const std::string dir = temp_dir();
  const RunResult g = gen(dir, args, std::chrono::seconds(30));
  EXPECT_EQ(g.exit_code, 2) << g.err;
  const std::vector<std::string> lines = gen_lines(g.err);
  ASSERT_EQ(lines.size(), 1u) << g.err;
  EXPECT_NE(lines[0].find(phrase), std::string::npos) << lines[0];
}

TEST(GenDpdk, UnknownPort) {
  expect_usage_error(cat(eal({"net_null0"}), {"--", "--builtin-demo", "--port", "7"}),
                     "--port 7: no such port (ports: 0 (net_null0))");
}

TEST(GenDpdk, RatePercentWithoutLinkSpeed) {
  // A memif server with no client: its link is down, so there is no speed to take a
  // percentage of.
  const std::string dir = temp_dir();
  expect_usage_error(
      cat(eal({"net_memif0,role=server,socket=" + dir + "/m.sock,socket-abstract=no"}),
          {"--", "--builtin-demo", "--rate-percent", "10", "--link-wait", "0.2"}),
      "--rate-percent: port 0 (net_memif0) reports no link speed");
}

TEST(GenDpdk, BadConfig) {
  const std::string dir = temp_dir();
  {
    std::ofstream f(dir + "/bad.yaml");
    f << "flows:\n  - protocol: macsec\n    macsec: {key: \"0011\"}\n";
  }
  expect_usage_error(cat(eal({"net_null0"}), {"--", "--config", dir + "/bad.yaml"}),
                     "config error: flows[0].macsec.key");
  expect_usage_error(cat(eal({"net_null0"}), {"--", "--config", dir + "/missing.yaml"}),
                     "config error");
}

TEST(GenDpdk, OtherUsageErrors) {
  expect_usage_error(cat(eal({"net_null0"}, "-l", "0"), {"--", "--builtin-demo"}), "TX lcores");
  expect_usage_error(cat(eal({}), {"--", "--builtin-demo"}), "no ports");
  expect_usage_error(
      cat(eal({"net_null0"}), {"--", "--builtin-demo", "--pacing", "burst", "--rate-pps", "5"}),
      "takes no --rate");
  expect_usage_error(
      cat(eal({"net_null0"}), {"--", "--builtin-demo", "--rate-pps", "5", "--rate-bps", "5"}),
      "at most one of");
  expect_usage_error(cat(eal({"net_null0", "net_null1"}, "--lcores", "0@0,1@1,2@1"),
                         {"--", "--builtin-demo", "--truth-out", "/dev/null"}),
                     "--port N");
}

}  // namespace
}  // namespace netscope::itest
