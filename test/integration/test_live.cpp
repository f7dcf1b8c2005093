// Live capture without special NICs: in a network namespace this test creates, a veth pair;
// netscope captures one end through net_af_packet or net_af_xdp (--live, stopped by
// SIGINT), tcpreplay sends netscope-gen's demo into the other end. Every SA of the
// generator's truth must be in the report with exactly its counts; the only packets
// allowed beyond those sent are the few the kernel itself puts on a new link (IPv6
// router and neighbour solicitations).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <regex>

#include "harness.hpp"

namespace netscope::itest {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kDemoPackets = 2000;
constexpr std::uint64_t kKernelExtra = 32;  ///< kernel-originated frames tolerated
constexpr const char* kNamePrefix = "nsnetscope";
constexpr auto kStartTimeout = 30s;
constexpr auto kReplayTimeout = 60s;
constexpr auto kDrainTimeout = 15s;
constexpr auto kStopTimeout = 30s;

std::string diag(const std::string& what, const std::string& text) { return "\n--- " + what + " ---\n" + text; }

struct CmdResult {
  int code = -1;
  std::string output;
};

/// Runs a shell command to completion (bounded); stdout and stderr together.
CmdResult sh(const std::string& command, std::chrono::milliseconds timeout = 30s) {
  static const std::string dir = temp_dir();
  const RunResult r = run("/bin/sh", {"-c", command + " 2>&1"}, dir, timeout);
  return {r.exit_code, r.out + r.err};
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// A network namespace holding one veth pair, both ends up; deleted (with the pair) on
/// destruction. Names carry the test's pid, so parallel test processes never meet, and
/// namespaces left by a test process that died are removed on the next construction.
class VethNamespace {
 public:
  VethNamespace() {
    static int serial = 0;
    const std::string id = std::to_string(getpid()) + "x" + std::to_string(serial++);
    ns_ = kNamePrefix + id;
    a_ = "nsa" + id;  // interface names: at most 15 characters
    b_ = "nsb" + id;
    remove_stale();
    const std::string ns = quote(ns_);
    const std::vector<std::string> steps{
        "ip netns add " + ns,
        "ip link add " + a_ + " netns " + ns + " type veth peer name " + b_ + " netns " + ns,
        "ip -n " + ns + " link set " + a_ + " up",
        "ip -n " + ns + " link set " + b_ + " up",
    };
    for (const std::string& c : steps) {
      const CmdResult r = sh(c);
      if (r.code != 0) {
        sh("ip netns delete " + ns);
        throw std::runtime_error("cannot set up the test namespace: `" + c + "` failed: " + r.output);
      }
    }
  }
  ~VethNamespace() { sh("ip netns delete " + quote(ns_)); }
  VethNamespace(const VethNamespace&) = delete;
  VethNamespace& operator=(const VethNamespace&) = delete;

  const std::string& ns() const { return ns_; }
  const std::string& capture_end() const { return a_; }  ///< netscope listens here
  const std::string& send_end() const { return b_; }     ///< tcpreplay sends here

  /// `command` run inside the namespace.
  std::string exec(const std::string& command) const { return "ip netns exec " + quote(ns_) + " " + command; }

  /// The kernel's own counters for one end (`ip -s link`).
  std::string link_stats(const std::string& ifname) const {
    return sh("ip -n " + quote(ns_) + " -s link show " + ifname).output;
  }

 private:
  static void remove_stale() {
    const CmdResult list = sh("ip netns list");
    std::istringstream in(list.output);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(kNamePrefix, 0) != 0) continue;
      const std::string name = line.substr(0, line.find(' '));
      const long pid = std::strtol(name.c_str() + std::strlen(kNamePrefix), nullptr, 10);
      if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) sh("ip netns delete " + quote(name));
    }
  }

  std::string ns_, a_, b_;
};

/// A child process running in the background, output to files; killed (SIGKILL) and
/// reaped on destruction if still running.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::string& out, const std::string& err)
      : err_path_(err) {
    pid_ = fork();
    if (pid_ == 0) {
      const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(o, 1);
      dup2(e, 2);
      std::vector<std::string> copy = argv;
      std::vector<char*> args;
      for (auto& s : copy) args.push_back(s.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    if (pid_ < 0) throw std::runtime_error("fork failed");
  }
  ~Background() {
    if (running()) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status_, 0);
    }
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  bool running() {
    if (done_) return false;
    if (waitpid(pid_, &status_, WNOHANG) == pid_) done_ = true;
    return !done_;
  }
  std::string err() const { return slurp(err_path_); }

  /// Waits until stderr satisfies `ready`; false if the process exits or time runs out.
  template <typename Pred>
  bool wait_for(Pred ready, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (ready(err())) return true;
      if (!running()) return false;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  /// Sends `sig` and waits for the exit; returns the exit code, or -1 when it had to be
  /// killed or died of a signal.
  int stop(int sig, std::chrono::milliseconds timeout) {
    if (running()) kill(pid_, sig);
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (running() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(20ms);
    if (running()) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status_, 0);
      done_ = true;
      return -1;
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool done_ = false;
  std::string err_path_;
};

/// The last "packets N" of netscope's once-a-second progress line, or 0.
std::uint64_t progress_packets(const std::string& err) {
  static const std::regex re(R"(packets (\d+) \()");
  std::uint64_t last = 0;
  for (auto it = std::sregex_iterator(err.begin(), err.end(), re); it != std::sregex_iterator(); ++it) {
    last = std::stoull((*it)[1].str());
  }
  return last;
}

/// netscope-gen's demo capture and its truth, generated once per process.
struct Demo {
  std::string dir, pcap, truth_path;
  json truth;
};

const Demo& demo() {
  static const Demo d = [] {
    Demo k;
    k.dir = temp_dir();
    k.pcap = k.dir + "/demo.pcap";
    k.truth_path = k.dir + "/truth.json";
    const RunResult g = run(binary("NETSCOPE_GEN_BIN"),
                            {"--", "--builtin-demo", "--seed", "1", "--count", std::to_string(kDemoPackets),
                             "--pcap-out", k.pcap, "--truth-out", k.truth_path},
                            k.dir, 60s);
    if (g.exit_code != 0) throw std::runtime_error("netscope-gen failed:\n" + g.err);
    k.truth = json::parse(slurp(k.truth_path));
    return k;
  }();
  return d;
}

struct LiveCase {
  std::string vdev;                    ///< "--vdev=...": {IF} becomes the capture end
  std::vector<std::string> lcores;     ///< EAL lcore options
  std::vector<std::string> app_args;   ///< extra netscope options
  std::string driver;                  ///< expected in the report
};

/// One live run: namespace, netscope on the capture end, tcpreplay on the other, SIGINT,
/// then the report against the generator's truth.
void run_live(const LiveCase& lc) {
  const Demo& d = demo();
  ASSERT_EQ(d.truth["sas"].size(), 8u) << "the demo's SAs changed: update this test";
  VethNamespace veth;
  const std::string dir = temp_dir();
  const std::string report = dir + "/report.json";

  std::string vdev = lc.vdev;
  vdev.replace(vdev.find("{IF}"), 4, veth.capture_end());
  std::vector<std::string> args{"--no-huge", "--no-pci", "-m", "512", "--file-prefix", unique_prefix(),
                                "--log-level", "lib.eal:error", vdev};
  args.insert(args.end(), lc.lcores.begin(), lc.lcores.end());
  for (const char* a : {"--", "--live", "--report-json", report.c_str(), "--no-report", "--rx-ring", "4096"}) {
    args.emplace_back(a);
  }
  args.insert(args.end(), lc.app_args.begin(), lc.app_args.end());
  std::string command = "exec " + quote(binary("NETSCOPE_BIN"));
  for (const std::string& a : args) {
    command += ' ';
    command += quote(a);
  }
  // ip netns exec gives the process a fresh /sys without bpffs, which libxdp wants for
  // its program pins; mount it in that private mount namespace first.
  Background netscope({"/usr/sbin/ip", "netns", "exec", veth.ns(), "/bin/sh", "-c",
                       "mount -t bpf bpf /sys/fs/bpf 2>/dev/null; " + command},
                      dir + "/netscope.out", dir + "/netscope.err");
  const bool started = netscope.wait_for(
      [](const std::string& err) { return err.find("netscope: port 0 ") != std::string::npos; }, kStartTimeout);
  ASSERT_TRUE(started) << lc.driver << " did not start on " << veth.capture_end() << " in namespace " << veth.ns()
                       << " (" << (netscope.running() ? "no port line within the timeout" : "netscope exited")
                       << ")" << diag("netscope stderr", netscope.err()) << diag("command", command);

  const CmdResult replay = sh(veth.exec("tcpreplay -i " + veth.send_end() + " --pps 10000 " + quote(d.pcap)),
                              kReplayTimeout);
  ASSERT_EQ(replay.code, 0) << diag("tcpreplay", replay.output);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(replay.output, m, std::regex(R"(Successful packets:\s+(\d+))")))
      << diag("tcpreplay", replay.output);
  const std::uint64_t sent = std::stoull(m[1].str());
  ASSERT_EQ(sent, kDemoPackets) << "tcpreplay could not send every frame" << diag("tcpreplay", replay.output);

  // Let the PMD hand over what the kernel queued, then stop as an operator would.
  netscope.wait_for([&](const std::string& err) { return progress_packets(err) >= sent; }, kDrainTimeout);
  const int code = netscope.stop(SIGINT, kStopTimeout);
  const std::string kernel = diag("ip -s link (capture end)", veth.link_stats(veth.capture_end())) +
                             diag("ip -s link (send end)", veth.link_stats(veth.send_end()));
  ASSERT_EQ(code, 0) << "netscope did not exit cleanly on SIGINT" << diag("netscope stderr", netscope.err())
                     << kernel;
  const std::string text = slurp(report);
  ASSERT_FALSE(text.empty()) << "no report" << diag("netscope stderr", netscope.err());
  const json rep = json::parse(text);
  const std::string context = diag("netscope stderr", netscope.err()) + kernel + diag("ports", rep["ports"].dump(1));

  EXPECT_EQ(rep["run"]["stop_reason"], "signal");
  ASSERT_EQ(rep["ports"].size(), 1u) << context;
  EXPECT_EQ(rep["ports"][0]["driver"], lc.driver);
  const auto total = rep["totals"]["packets"].get<std::uint64_t>();
  EXPECT_GE(total, sent) << "packets lost between tcpreplay and netscope" << context;
  EXPECT_LE(total, sent + kKernelExtra) << "more packets than sent plus kernel chatter" << context;
  EXPECT_EQ(rep["ports"][0]["rx_packets"].get<std::uint64_t>(), total) << context;

  // Every generated SA, exactly: kernel-originated frames never belong to one.
  const std::vector<std::string> identity{"protocol", "sci", "an", "spi", "dst", "udp_encap"};
  for (const json& want : d.truth["sas"]) {
    json key = json::object();
    for (const std::string& k : identity) {
      if (want.contains(k)) key[k] = want[k];
    }
    const json got = find_sa(rep, key);
    ASSERT_FALSE(got.is_null()) << "SA " << key.dump() << " missing" << context;
    for (const auto& [field, value] : want.items()) {
      if (key.contains(field)) continue;
      EXPECT_EQ(got[field], value) << "SA " << key.dump() << " field " << field;
    }
  }
  EXPECT_EQ(rep["sas"].size(), d.truth["sas"].size()) << context;
}

TEST(Live, AfPacket) {
  run_live({"--vdev=net_af_packet0,iface={IF},framecnt=4096", {"-l", "0-1"}, {}, "net_af_packet"});
}

TEST(Live, AfPacketTwoQueuesTwoWorkers) {
  // Kernel fanout spreads flows over the two sockets; each worker polls one of them.
  run_live({"--vdev=net_af_packet0,iface={IF},qpairs=2,framecnt=4096",
            {"--lcores", "0@0,1@0,2@1"},
            {"--mode", "rtc"},
            "net_af_packet"});
}

TEST(Live, AfPacketTwoQueuesOneWorker) {
  // net_af_packet opens all qpairs sockets in the fanout group when the vdev is probed,
  // whatever number of queues the port is configured with: the kernel hands a share of
  // the flows to every socket, so netscope must poll all of them even with one worker.
  run_live({"--vdev=net_af_packet0,iface={IF},qpairs=2,framecnt=4096", {"-l", "0-1"}, {}, "net_af_packet"});
}

TEST(Live, AfXdp) {
  // Copy mode: veth has no zero-copy support. If AF_XDP cannot start here, this fails.
  run_live({"--vdev=net_af_xdp0,iface={IF}", {"-l", "0-1"}, {}, "net_af_xdp"});
}

}  // namespace
}  // namespace netscope::itest
