// Cross-check of the TCP analyzer against Linux and Wireshark. The test builds three network
// namespaces (client - router - server, two veth pairs), drops packets with nftables
// `numgen inc` rules (this kernel has no netem), lets Linux transfer data over TCP,
// captures at the client with tcpdump, then runs the capture through decode_frame() and
// on_segment() and compares every frame's flags with tshark's tcp.analysis.* fields.
//
// Two losses: the router drops every 10th data segment (the capture never sees it: lost
// segments, then retransmissions), and the client's input chain drops every 13th after
// the capture saw it (retransmissions of captured data). The client starts with a small
// receive buffer and does not read at first, so the server meets a zero window.
//
// Needs root, ip, tcpdump, tshark, nft, python3 (Debian: iproute2 tcpdump tshark nftables
// python3). A missing tool is a failure, not a skip. Everything it creates is removed
// even when an assertion fails (the guard's destructor).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "netscope/analysis/tcp.hpp"
#include "netscope/decode/packet.hpp"
#include "netscope/flow/flow_table.hpp"

extern char** environ;

namespace netscope::analysis {
namespace {

constexpr int kPort = 5001;
constexpr int kTransferBytes = 1'500'000;

int sh(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string output_of(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  pclose(p);
  return out;
}

bool have(const char* tool) { return sh(std::string("command -v ") + tool + " >/dev/null 2>&1") == 0; }

/// Namespaces, processes and files of one run; the destructor removes them all.
class Lab {
 public:
  Lab() {
    static int counter = 0;
    const std::string tag = std::to_string(getpid()) + "_" + std::to_string(counter++);
    client_ = "nsan" + tag + "c";
    router_ = "nsan" + tag + "r";
    server_ = "nsan" + tag + "s";
    char tmpl[] = "/tmp/netscope-analysis-XXXXXX";
    const char* d = mkdtemp(tmpl);
    dir_ = d != nullptr ? d : "/tmp";
    chmod(dir_.c_str(), 0777);  // tcpdump drops privileges to write the capture
  }

  ~Lab() {
    for (pid_t pid : pids_) {
      kill(pid, SIGKILL);
      int st = 0;
      waitpid(pid, &st, 0);
    }
    for (const std::string& ns : {client_, router_, server_}) {
      sh("ip netns pids " + ns + " 2>/dev/null | xargs -r kill -9 2>/dev/null");
      sh("ip netns del " + ns + " 2>/dev/null");
    }
    if (dir_ != "/tmp") sh("rm -rf '" + dir_ + "'");
  }
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  /// Runs a command inside namespace `ns`; returns its exit status.
  int in(const std::string& ns, const std::string& cmd) const {
    return sh("timeout 20 ip netns exec " + ns + " " + cmd);
  }

  /// Starts `argv` inside `ns` in the background, stdout and stderr to `log`.
  pid_t spawn(const std::string& ns, std::vector<std::string> argv, const std::string& log) {
    argv.insert(argv.begin(), {"ip", "netns", "exec", ns});
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return -1;
    pids_.push_back(pid);
    return pid;
  }

  /// Stops a process started by spawn() with `sig` and waits (at most ~5 s) for it.
  bool stop(pid_t pid, int sig) {
    kill(pid, sig);
    for (int i = 0; i < 500; ++i) {
      int st = 0;
      if (waitpid(pid, &st, WNOHANG) == pid) {
        pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end());
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  bool wait_exit(pid_t pid, int seconds) {
    for (int i = 0; i < seconds * 100; ++i) {
      int st = 0;
      if (waitpid(pid, &st, WNOHANG) == pid) {
        pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end());
        return WIFEXITED(st) && WEXITSTATUS(st) == 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  const std::string& client() const { return client_; }
  const std::string& router() const { return router_; }
  const std::string& server() const { return server_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string client_, router_, server_, dir_;
  std::vector<pid_t> pids_;
};

bool wait_for_text(const std::string& file, const std::string& text, int seconds) {
  for (int i = 0; i < seconds * 100; ++i) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

/// The flags both tools report, in the order of the tshark -e list below.
struct Compared {
  const char* tshark_field;
  TcpEvent event;
};
constexpr Compared kCompared[] = {
    {"tcp.analysis.retransmission", TcpEvent::retransmission},
    {"tcp.analysis.fast_retransmission", TcpEvent::fast_retransmission},
    {"tcp.analysis.spurious_retransmission", TcpEvent::spurious_retransmission},
    {"tcp.analysis.out_of_order", TcpEvent::out_of_order},
    {"tcp.analysis.duplicate_ack", TcpEvent::duplicate_ack},
    {"tcp.analysis.lost_segment", TcpEvent::lost_segment},
    {"tcp.analysis.zero_window", TcpEvent::zero_window},
    {"tcp.analysis.zero_window_probe", TcpEvent::zero_window_probe},
    {"tcp.analysis.window_update", TcpEvent::window_update},
    {"tcp.analysis.keep_alive", TcpEvent::keep_alive},
};
constexpr std::size_t kComparedCount = std::size(kCompared);

struct TsharkFrame {
  std::array<bool, kComparedCount> flags{};
  double initial_rtt = -1;
  double ack_rtt = -1;
};

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = line.find(sep, start);
    out.push_back(line.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

std::vector<TsharkFrame> run_tshark(const std::string& pcap) {
  std::string cmd = "timeout 120 tshark -n -r '" + pcap + "' -T fields -E separator=/t -e frame.number";
  for (const Compared& c : kCompared) cmd += std::string(" -e ") + c.tshark_field;
  cmd += " -e tcp.analysis.initial_rtt -e tcp.analysis.ack_rtt 2>/dev/null";
  std::vector<TsharkFrame> frames;
  std::istringstream lines(output_of(cmd));
  std::string line;
  while (std::getline(lines, line)) {
    const std::vector<std::string> cols = split(line, '\t');
    if (cols.size() < kComparedCount + 3) continue;
    TsharkFrame f;
    for (std::size_t i = 0; i < kComparedCount; ++i) f.flags[i] = !cols[1 + i].empty();
    if (!cols[kComparedCount + 1].empty()) f.initial_rtt = std::stod(cols[kComparedCount + 1]);
    if (!cols[kComparedCount + 2].empty()) f.ack_rtt = std::stod(cols[kComparedCount + 2]);
    frames.push_back(f);
  }
  return frames;
}

struct OurFrame {
  bool tcp = false;
  TcpSegmentResult result;
};

/// Reads the capture with libpcap and analyses every TCP segment of its one flow.
std::vector<OurFrame> run_ours(const std::string& pcap, TcpState& state, std::string& error) {
  std::vector<OurFrame> frames;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline_with_tstamp_precision(pcap.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (p == nullptr) {
    error = errbuf;
    return frames;
  }
  bool have_flow = false;
  flow::FlowKey first_key;
  bool initiator_is_a = true;
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(p, &hdr, &data) == 1) {
    OurFrame f;
    decode::DecodedPacket pkt;
    decode::decode_frame(decode::Bytes{data, hdr->caplen}, pkt);
    flow::FlowKey key;
    bool forward = true;
    if (pkt.has(decode::kLayerTcp) && flow::flow_key_of(pkt, key, forward)) {
      if (!have_flow) {
        have_flow = true;
        first_key = key;
        initiator_is_a = forward;
      }
      if (key == first_key) {
        const std::uint64_t ts =
            static_cast<std::uint64_t>(hdr->ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(hdr->ts.tv_usec);
        f.tcp = true;
        f.result = on_segment(state, pkt.tcp, forward == initiator_is_a, tcp_payload_length(pkt), ts);
      }
    }
    frames.push_back(f);
  }
  pcap_close(p);
  return frames;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

TEST(TcpAnalysisLinux, MatchesTsharkOnALossyTransferMadeByLinux) {
  ASSERT_EQ(geteuid(), 0u) << "needs root to create network namespaces";
  for (const char* tool : {"ip", "tcpdump", "tshark", "nft", "python3", "timeout"}) {
    ASSERT_TRUE(have(tool)) << tool << " is missing (Debian: iproute2 tcpdump tshark nftables python3)";
  }
  Lab lab;
  const std::string& C = lab.client();
  const std::string& R = lab.router();
  const std::string& S = lab.server();
  const std::string dir = lab.dir();

  // client 10.199.1.1 -- 10.199.1.254 router 10.199.2.254 -- 10.199.2.1 server
  for (const std::string& ns : {C, R, S}) ASSERT_EQ(sh("ip netns add " + ns), 0) << ns;
  ASSERT_EQ(sh("ip link add vc netns " + C + " type veth peer name vrc netns " + R), 0);
  ASSERT_EQ(sh("ip link add vs netns " + S + " type veth peer name vrs netns " + R), 0);
  const auto setup = [&](const std::string& ns, const std::string& dev, const std::string& addr) {
    ASSERT_EQ(lab.in(ns, "ip link set lo up"), 0);
    ASSERT_EQ(lab.in(ns, "ip addr add " + addr + " dev " + dev), 0);
    // One MTU-sized segment per frame on the wire (no GSO super-packets in the capture).
    ASSERT_EQ(lab.in(ns, "ip link set " + dev + " gso_max_segs 1 up"), 0);
  };
  setup(C, "vc", "10.199.1.1/24");
  setup(R, "vrc", "10.199.1.254/24");
  setup(R, "vrs", "10.199.2.254/24");
  setup(S, "vs", "10.199.2.1/24");
  if (HasFatalFailure()) return;
  ASSERT_EQ(lab.in(C, "ip route add default via 10.199.1.254"), 0);
  ASSERT_EQ(lab.in(S, "ip route add default via 10.199.2.254"), 0);
  ASSERT_EQ(lab.in(R, "sysctl -qw net.ipv4.ip_forward=1"), 0);

  const std::string data_match = "tcp sport " + std::to_string(kPort) + " ip length '>' 100";
  ASSERT_EQ(lab.in(R, "nft add table inet lab"), 0);
  ASSERT_EQ(lab.in(R, "nft add chain inet lab relay '{ type filter hook forward priority 0 ; }'"), 0);
  ASSERT_EQ(lab.in(R, "nft add rule inet lab relay " + data_match + " numgen inc mod 10 == 5 drop"), 0);
  ASSERT_EQ(lab.in(C, "nft add table inet lab"), 0);
  ASSERT_EQ(lab.in(C, "nft add chain inet lab inbound '{ type filter hook input priority 0 ; }'"), 0);
  ASSERT_EQ(lab.in(C, "nft add rule inet lab inbound " + data_match + " numgen inc mod 13 == 7 drop"), 0);

  const std::string pcap = dir + "/capture.pcap";
  const pid_t tcpdump = lab.spawn(C, {"tcpdump", "-i", "vc", "-n", "-U", "--immediate-mode", "-B", "65536", "-s", "0", "--time-stamp-precision=nano",
                                      "-w", pcap, "tcp", "port", std::to_string(kPort)},
                                  dir + "/tcpdump.log");
  ASSERT_GT(tcpdump, 0);
  ASSERT_TRUE(wait_for_text(dir + "/tcpdump.log", "listening on", 10)) << "tcpdump did not start";

  {
    std::ofstream srv(dir + "/server.py");
    srv << "import socket, sys\n"
           "s = socket.socket()\n"
           "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
           "s.bind(('10.199.2.1', " << kPort << "))\n"
           "s.listen(1)\n"
           "print('ready', flush=True)\n"
           "c, _ = s.accept()\n"
           "c.sendall(b'x' * " << kTransferBytes << ")\n"
           "c.shutdown(socket.SHUT_WR)\n"
           "while c.recv(65536):\n"
           "    pass\n"
           "c.close()\n";
    std::ofstream cli(dir + "/client.py");
    cli << "import socket, time\n"
           "s = socket.socket()\n"
           "s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)\n"
           "s.connect(('10.199.2.1', " << kPort << "))\n"
           "time.sleep(0.3)\n"  // let the server fill the small window: zero window
           "n = 0\n"
           "while True:\n"
           "    b = s.recv(65536)\n"
           "    if not b:\n"
           "        break\n"
           "    n += len(b)\n"
           "print(n)\n"
           "s.close()\n";
  }
  const pid_t server = lab.spawn(S, {"python3", dir + "/server.py"}, dir + "/server.log");
  ASSERT_GT(server, 0);
  ASSERT_TRUE(wait_for_text(dir + "/server.log", "ready", 10)) << "server did not start";
  const std::string received =
      output_of("timeout 60 ip netns exec " + C + " python3 " + dir + "/client.py 2>&1");
  EXPECT_EQ(received, std::to_string(kTransferBytes) + "\n") << "the transfer did not complete";
  EXPECT_TRUE(lab.wait_exit(server, 10)) << "server did not finish";
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(lab.stop(tcpdump, SIGINT)) << "tcpdump did not stop";
  ASSERT_TRUE(wait_for_text(dir + "/tcpdump.log", "\n0 packets dropped by kernel", 1))
      << "tcpdump lost packets: " << output_of("cat " + dir + "/tcpdump.log");

  TcpState state;
  std::string error;
  const std::vector<OurFrame> ours = run_ours(pcap, state, error);
  ASSERT_TRUE(error.empty()) << error;
  const std::vector<TsharkFrame> theirs = run_tshark(pcap);
  ASSERT_GT(ours.size(), 1000u);
  ASSERT_EQ(ours.size(), theirs.size()) << "tshark and libpcap disagree on the frame count";

  std::array<std::uint32_t, kComparedCount> our_count{};
  std::array<std::uint32_t, kComparedCount> their_count{};
  std::vector<std::string> mismatches;
  std::vector<double> our_rtt;
  std::vector<double> their_rtt;
  double initial_rtt = -1;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    ASSERT_TRUE(ours[i].tcp) << "frame " << i + 1 << " was not analysed";
    const TcpSegmentResult& r = ours[i].result;
    for (std::size_t k = 0; k < kComparedCount; ++k) {
      const bool mine = r.has(kCompared[k].event);
      our_count[k] += mine ? 1 : 0;
      their_count[k] += theirs[i].flags[k] ? 1 : 0;
      if (mine != theirs[i].flags[k] && mismatches.size() < 30) {
        mismatches.push_back("frame " + std::to_string(i + 1) + ": " + kCompared[k].tshark_field +
                             (mine ? " only ours" : " only tshark"));
      }
    }
    if (r.has(TcpEvent::rtt_sample)) our_rtt.push_back(static_cast<double>(r.rtt_ns) / 1e9);
    if (theirs[i].ack_rtt >= 0) their_rtt.push_back(theirs[i].ack_rtt);
    if (theirs[i].initial_rtt >= 0) initial_rtt = theirs[i].initial_rtt;
  }
  std::string summary;
  for (std::size_t k = 0; k < kComparedCount; ++k) {
    summary += std::string(kCompared[k].tshark_field) + " ours " + std::to_string(our_count[k]) + " tshark " +
               std::to_string(their_count[k]) + "\n";
  }
  std::string list;
  for (const std::string& m : mismatches) list += m + "\n";
  // Keep the capture of a failed comparison (or on request) for a look with Wireshark.
  const char* keep = std::getenv("NETSCOPE_KEEP_CAPTURE");
  if (keep != nullptr || !mismatches.empty()) {
    const std::string to = keep != nullptr ? keep : "/tmp/netscope-analysis-mismatch-" + std::to_string(getpid()) + ".pcap";
    sh("cp '" + pcap + "' '" + to + "'");
    list += "capture kept in " + to + "\n";
  }
  EXPECT_TRUE(mismatches.empty()) << summary << list;
  for (std::size_t k = 0; k < kComparedCount; ++k) {
    EXPECT_EQ(our_count[k], their_count[k]) << kCompared[k].tshark_field;
  }
  // The run must exercise what it checks.
  const auto count_of = [&](TcpEvent e) {
    for (std::size_t k = 0; k < kComparedCount; ++k) {
      if (kCompared[k].event == e) return our_count[k];
    }
    return 0u;
  };
  EXPECT_GT(count_of(TcpEvent::retransmission), 10u) << summary;
  EXPECT_GT(count_of(TcpEvent::lost_segment), 10u) << summary;
  EXPECT_GT(count_of(TcpEvent::duplicate_ack), 10u) << summary;
  EXPECT_GT(count_of(TcpEvent::zero_window), 0u) << summary;

  // Handshake RTT: same definition as tcp.analysis.initial_rtt, to the tick (128 ns).
  const TcpHandshakeRtt hs = state.handshake_rtt();
  ASSERT_TRUE(hs.server_valid && hs.client_valid);
  ASSERT_GT(initial_rtt, 0);
  const double ours_initial = static_cast<double>(hs.server_ns + hs.client_ns) / 1e9;
  EXPECT_NEAR(ours_initial, initial_rtt, 1e-6) << "server " << hs.server_ns << " ns, client " << hs.client_ns << " ns";
  // Data RTT: ours is TSval/TSecr-based (Linux sends timestamps), tshark's ack_rtt is per
  // segment; the medians must be of the same order of magnitude.
  EXPECT_TRUE(state.timestamps());
  ASSERT_FALSE(our_rtt.empty());
  ASSERT_FALSE(their_rtt.empty());
  const double m_ours = median(our_rtt);
  const double m_theirs = median(their_rtt);
  EXPECT_GT(m_ours, m_theirs / 10) << "ours " << m_ours << " s, tshark " << m_theirs << " s";
  EXPECT_LT(m_ours, m_theirs * 10) << "ours " << m_ours << " s, tshark " << m_theirs << " s";
  // The whole conversation was seen: handshake, both FINs, the last ACK.
  EXPECT_EQ(state.history().view().substr(0, 3), "ShA");
  EXPECT_EQ(state.state(), TcpConnState::closed) << to_string(state.state());
  RecordProperty("summary", summary);
  std::printf("%s", summary.c_str());
  std::printf("history %s, initial rtt ours %.9f tshark %.9f, data rtt median ours %.6f tshark %.6f\n",
              std::string(state.history().view()).c_str(), ours_initial, initial_rtt, m_ours, m_theirs);
}

}  // namespace
}  // namespace netscope::analysis
