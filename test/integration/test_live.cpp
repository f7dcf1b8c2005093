// Live capture without special NICs: in a network namespace this test creates, a veth pair;
// netscope captures one end through net_af_packet or net_af_xdp (--live, stopped by
// SIGINT), tcpreplay sends netscope-gen's demo into the other end. Every SA of the
// generator's truth must be in the report with exactly its counts; the only packets
// allowed beyond those sent are the few the kernel itself puts on a new link (IPv6
// router and neighbour solicitations).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <optional>
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
/// `split`: the send end lives in a second namespace, and the ends get the addresses
/// 10.201.0.1/24 (capture) and 10.201.0.2/24 (send), so that traffic between them really
/// crosses the veth and the capture namespace's kernel answers it.
class VethNamespace {
 public:
  static constexpr const char* kCaptureAddress = "10.201.0.1";

  explicit VethNamespace(bool split = false) {
    static int serial = 0;
    const std::string id = std::to_string(getpid()) + "x" + std::to_string(serial++);
    ns_ = kNamePrefix + id;
    peer_ns_ = split ? ns_ + "p" : ns_;
    a_ = "nsa" + id;  // interface names: at most 15 characters
    b_ = "nsb" + id;
    remove_stale();
    const std::string ns = quote(ns_);
    const std::string peer = quote(peer_ns_);
    std::vector<std::string> steps{"ip netns add " + ns};
    if (split) steps.push_back("ip netns add " + peer);
    steps.push_back("ip link add " + a_ + " netns " + ns + " type veth peer name " + b_ + " netns " + peer);
    steps.push_back("ip -n " + ns + " link set " + a_ + " up");
    steps.push_back("ip -n " + peer + " link set " + b_ + " up");
    if (split) {
      steps.push_back("ip -n " + ns + " link set lo up");
      steps.push_back("ip -n " + ns + " addr add " + kCaptureAddress + "/24 dev " + a_);
      steps.push_back("ip -n " + peer + " addr add 10.201.0.2/24 dev " + b_);
    }
    for (const std::string& c : steps) {
      const CmdResult r = sh(c);
      if (r.code != 0) {
        remove();
        throw std::runtime_error("cannot set up the test namespace: `" + c + "` failed: " + r.output);
      }
    }
  }
  ~VethNamespace() { remove(); }
  VethNamespace(const VethNamespace&) = delete;
  VethNamespace& operator=(const VethNamespace&) = delete;

  const std::string& ns() const { return ns_; }
  const std::string& capture_end() const { return a_; }  ///< netscope listens here
  const std::string& send_end() const { return b_; }     ///< tcpreplay sends here

  /// `command` run inside the namespace of the send end (the only one unless split).
  std::string exec(const std::string& command) const { return "ip netns exec " + quote(peer_ns_) + " " + command; }
  /// `command` run inside the namespace of the capture end.
  std::string exec_capture(const std::string& command) const {
    return "ip netns exec " + quote(ns_) + " " + command;
  }

  /// The kernel's own counters for one end (`ip -s link`).
  std::string link_stats(const std::string& ifname) const {
    return sh("ip -n " + quote(ifname == a_ ? ns_ : peer_ns_) + " -s link show " + ifname).output;
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

  void remove() const {
    sh("ip netns delete " + quote(ns_));
    if (peer_ns_ != ns_) sh("ip netns delete " + quote(peer_ns_));
  }

  std::string ns_, peer_ns_, a_, b_;
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

/// Frames of `pcap` that NetScope's XDP pre-filter sends to NetScope with the default
/// classes, counted by tcpdump: MACsec, ESP, AH, UDP port 4500, untagged or behind one or
/// two VLAN tags (three disjoint expressions: `vlan` moves libpcap's offsets).
std::uint64_t tcpdump_wanted(const std::string& pcap) {
  const std::string e = "(ether proto 0x88e5 or esp or ah or udp port 4500)";
  std::uint64_t n = 0;
  for (const std::string& expr : {e, "vlan and " + e, "vlan and vlan and " + e}) {
    // --count prints "N packets" on stdout (the rest of tcpdump's talk goes to stderr).
    const CmdResult r = sh("tcpdump --count -nn -r " + quote(pcap) + " " + quote(expr) + " 2>/dev/null");
    std::smatch m;
    if (r.code != 0 || !std::regex_search(r.output, m, std::regex(R"((\d+) packets)"))) {
      throw std::runtime_error("tcpdump failed: " + r.output);
    }
    n += std::stoull(m[1].str());
  }
  return n;
}

/// A sample of netscope's /metrics (label text as printed, e.g. `port="0",action="passed"`),
/// or nullopt when absent.
std::optional<std::uint64_t> metric(const std::string& page, const std::string& name, const std::string& labels) {
  const std::string key = name + "{" + labels + "} ";
  const auto at = page.find(key);
  if (at == std::string::npos) return std::nullopt;
  return std::stoull(page.substr(at + key.size()));
}

TEST(Live, AfXdpPrefilterKernelKeepsTheRest) {
  // NetScope's own XDP program on the capture end: MACsec/ESP/AH/NAT-T frames go to the
  // AF_XDP socket, everything else to the kernel, which must still answer ping there.
  const Demo& d = demo();
  const std::uint64_t wanted = tcpdump_wanted(d.pcap);
  std::uint64_t sa_packets = 0;
  for (const json& sa : d.truth["sas"]) sa_packets += sa["packets"].get<std::uint64_t>();
  ASSERT_EQ(wanted, sa_packets) << "the demo's SA frames should be exactly its MACsec/ESP/AH/NAT-T frames";
  ASSERT_LT(wanted, kDemoPackets) << "the demo needs frames the pre-filter leaves to the kernel";

  VethNamespace veth(true);
  const std::string dir = temp_dir();
  const std::string report = dir + "/report.json";
  std::string command = "exec " + quote(binary("NETSCOPE_BIN"));
  for (const std::string& a :
       {std::string("--no-huge"), std::string("--no-pci"), std::string("-m"), std::string("512"),
        std::string("--file-prefix"), unique_prefix(), std::string("--log-level"), std::string("lib.eal:error"),
        "--vdev=net_af_xdp0,iface=" + veth.capture_end(), std::string("-l"), std::string("0-1"), std::string("--"),
        std::string("--live"), std::string("--xdp-prefilter"), std::string("macsec,esp,ah,nat-t"),
        std::string("--report-json"), report, std::string("--no-report"), std::string("--rx-ring"),
        std::string("4096"), std::string("--api-listen"), std::string("127.0.0.1:0")}) {
    command += ' ';
    command += quote(a);
  }
  Background netscope({"/usr/sbin/ip", "netns", "exec", veth.ns(), "/bin/sh", "-c",
                       "mount -t bpf bpf /sys/fs/bpf 2>/dev/null; " + command},
                      dir + "/netscope.out", dir + "/netscope.err");
  const bool started = netscope.wait_for(
      [](const std::string& err) {
        return err.find("netscope: port 0 ") != std::string::npos && err.find("API on http://") != std::string::npos;
      },
      kStartTimeout);
  ASSERT_TRUE(started) << "netscope with the XDP pre-filter did not start" << diag("netscope stderr", netscope.err())
                       << diag("command", command);
  std::smatch m;
  const std::string err = netscope.err();
  ASSERT_TRUE(std::regex_search(err, m, std::regex(R"(API on (http://[0-9.:]+)/)"))) << err;
  const std::string metrics_url = m[1].str() + "/metrics";
  EXPECT_NE(err.find("XDP pre-filter (program "), std::string::npos) << err;
  const std::string link = sh("ip -n " + quote(veth.ns()) + " link show " + veth.capture_end()).output;
  EXPECT_NE(link.find("prog/xdp"), std::string::npos) << "no XDP program on the capture end" << diag("ip link", link);

  // The kernel behind the pre-filter: ARP and ICMP are not wanted, so they reach it.
  const CmdResult ping = sh(veth.exec(std::string("ping -c 3 -i 0.2 -W 2 ") + VethNamespace::kCaptureAddress), 20s);
  EXPECT_EQ(ping.code, 0) << "the kernel did not answer ping with the pre-filter loaded" << diag("ping", ping.output);
  EXPECT_NE(ping.output.find("3 received"), std::string::npos) << diag("ping", ping.output);

  const CmdResult replay = sh(veth.exec("tcpreplay -i " + veth.send_end() + " --pps 10000 " + quote(d.pcap)),
                              kReplayTimeout);
  ASSERT_EQ(replay.code, 0) << diag("tcpreplay", replay.output);
  ASSERT_TRUE(std::regex_search(replay.output, m, std::regex(R"(Successful packets:\s+(\d+))")))
      << diag("tcpreplay", replay.output);
  ASSERT_EQ(std::stoull(m[1].str()), kDemoPackets) << diag("tcpreplay", replay.output);
  netscope.wait_for([&](const std::string& e) { return progress_packets(e) >= wanted; }, kDrainTimeout);

  // The program's own counters, through /metrics (snapshots are published once a second).
  std::string page;
  std::optional<std::uint64_t> redirected, passed, no_socket, rx;
  const auto until = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < until) {
    page = sh(veth.exec_capture("curl -sS --max-time 5 " + quote(metrics_url))).output;
    redirected = metric(page, "netscope_port_xdp_packets_total", R"(port="0",action="redirected")");
    passed = metric(page, "netscope_port_xdp_packets_total", R"(port="0",action="passed")");
    no_socket = metric(page, "netscope_port_xdp_packets_total", R"(port="0",action="no_socket")");
    rx = metric(page, "netscope_port_rx_packets_total", R"(port="0")");
    if (redirected && *redirected >= wanted && rx && *rx >= wanted) break;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(redirected && passed && no_socket) << diag("/metrics", page);
  EXPECT_EQ(*redirected, wanted) << diag("/metrics", page);
  // The demo's other frames, the ping (3 requests, ARP) and the kernel's own chatter.
  EXPECT_GE(*passed, kDemoPackets - wanted + 3) << diag("/metrics", page);
  EXPECT_EQ(*no_socket, 0u) << diag("/metrics", page);
  EXPECT_EQ(rx.value_or(0), wanted) << diag("/metrics", page);
  EXPECT_EQ(metric(page, "netscope_port_filter_packets_total", R"(port="0",result="passed")"), wanted)
      << diag("/metrics", page);

  const int code = netscope.stop(SIGINT, kStopTimeout);
  ASSERT_EQ(code, 0) << diag("netscope stderr", netscope.err());
  const json rep = json::parse(slurp(report));
  const std::string context = diag("netscope stderr", netscope.err()) + diag("ports", rep["ports"].dump(1));
  // Exactly the wanted frames: nothing the kernel says on the link is MACsec/ESP/AH/NAT-T.
  EXPECT_EQ(rep["totals"]["packets"].get<std::uint64_t>(), wanted) << context;
  ASSERT_TRUE(rep["ports"][0].contains("xdp_prefilter")) << context;
  EXPECT_EQ(rep["ports"][0]["xdp_prefilter"]["redirected"].get<std::uint64_t>(), wanted) << context;
  for (const json& want : d.truth["sas"]) {
    json key = json::object();
    for (const char* k : {"protocol", "sci", "an", "spi", "dst", "udp_encap"}) {
      if (want.contains(k)) key[k] = want[k];
    }
    const json got = find_sa(rep, key);
    ASSERT_FALSE(got.is_null()) << "SA " << key.dump() << " missing" << context;
    EXPECT_EQ(got["packets"], want["packets"]) << "SA " << key.dump();
    EXPECT_EQ(got["lost"], want["lost"]) << "SA " << key.dump();
  }
  // The PMD detaches the program when the port closes: the interface is the kernel's again.
  const std::string after = sh("ip -n " + quote(veth.ns()) + " link show " + veth.capture_end()).output;
  EXPECT_EQ(after.find("prog/xdp"), std::string::npos) << diag("ip link after exit", after);
}

TEST(Live, XdpPrefilterRefusesAnOccupiedInterface) {
  // One XDP program per interface: a program already there is a clear start-up error.
  VethNamespace veth;
  const std::string obj = std::string(std::getenv("NETSCOPE_XDP_OBJECT") ? std::getenv("NETSCOPE_XDP_OBJECT") : "");
  ASSERT_FALSE(obj.empty()) << "NETSCOPE_XDP_OBJECT not set by meson";
  const CmdResult load = sh("ip -n " + quote(veth.ns()) + " link set dev " + veth.capture_end() + " xdp obj " +
                            quote(obj) + " sec xdp");
  ASSERT_EQ(load.code, 0) << diag("ip link set xdp", load.output);
  const std::string dir = temp_dir();
  std::string command = "exec " + quote(binary("NETSCOPE_BIN"));
  for (const std::string& a : {std::string("--no-huge"), std::string("--no-pci"), std::string("-m"),
                               std::string("256"), std::string("--file-prefix"), unique_prefix(),
                               "--vdev=net_af_xdp0,iface=" + veth.capture_end(), std::string("--"),
                               std::string("--live"), std::string("--xdp-prefilter"), std::string("esp")}) {
    command += ' ';
    command += quote(a);
  }
  const CmdResult r = sh("ip netns exec " + quote(veth.ns()) + " /bin/sh -c " + quote(command), 30s);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("already runs an XDP program"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace netscope::itest
