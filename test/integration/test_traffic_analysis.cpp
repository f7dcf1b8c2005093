// Per-flow analysis end to end, checked against tshark on the same capture.
//
// Linux makes the traffic: two network namespaces joined by a veth pair (GSO off), a
// python3 HTTP/1.1 server and a python3 DNS responder (UDP and TCP) in the server
// namespace, curl, a python3 DNS client and nc in the client namespace, and packet loss
// from nftables `numgen random` drop rules (this kernel has no netem) on the nc transfer
// only: the server's input drops data segments after the capture saw them
// (retransmissions), the client's output drops some before the capture (lost segments).
// tcpdump captures on the client's veth; netscope replays the capture with --flows-out
// and every flow's TCP counts, handshake RTT, HTTP and DNS fields are compared with
// tshark's tcp.analysis.*, http.* and dns.* fields for that flow.
//
// A second test builds a capture in the test: a DNS response split into IPv4 fragments
// (delivered out of order), an ICMP port unreachable quoting a UDP flow, and a TLS
// ClientHello with SNI.
//
// Needs root, ip, tcpdump, tshark, nft, curl, nc, python3. A missing tool is a failure.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "harness.hpp"

namespace netscope::itest {
namespace {

int sh(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string output_of(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

bool have(const char* tool) { return sh(std::string("command -v ") + tool + " >/dev/null 2>&1") == 0; }

bool wait_for_text(const std::string& file, const std::string& text, int seconds) {
  for (int i = 0; i < seconds * 100; ++i) {
    if (slurp(file).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

/// Two namespaces and what runs in them; the destructor removes everything.
class Lab {
 public:
  Lab() {
    static int counter = 0;
    const std::string tag = std::to_string(getpid()) + "_" + std::to_string(counter++);
    client_ = "nsta" + tag + "c";
    server_ = "nsta" + tag + "s";
    dir_ = temp_dir();
    chmod(dir_.c_str(), 0777);  // tcpdump drops privileges to write the capture
  }
  ~Lab() {
    for (pid_t pid : pids_) {
      kill(pid, SIGKILL);
      int st = 0;
      waitpid(pid, &st, 0);
    }
    for (const std::string& ns : {client_, server_}) {
      sh("ip netns pids " + ns + " 2>/dev/null | xargs -r kill -9 2>/dev/null");
      sh("ip netns del " + ns + " 2>/dev/null");
    }
    if (std::getenv("NETSCOPE_KEEP_LAB") == nullptr) sh("rm -rf '" + dir_ + "'");
  }
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  int in(const std::string& ns, const std::string& cmd) const {
    return sh("timeout 20 ip netns exec " + ns + " " + cmd);
  }
  /// Starts a shell command in `ns` in the background, output to `log`.
  pid_t start(const std::string& ns, const std::string& cmd, const std::string& log) {
    const pid_t pid = itest::spawn("/usr/bin/env", {"ip", "netns", "exec", ns, "sh", "-c", cmd + " > '" + log + "' 2>&1"},
                                   "/dev/null", "/dev/null");
    if (pid > 0) pids_.push_back(pid);
    return pid;
  }
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
  const std::string& client() const { return client_; }
  const std::string& server() const { return server_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string client_, server_, dir_;
  std::vector<pid_t> pids_;
};

constexpr const char* kClientAddr = "10.198.7.1";
constexpr const char* kServerAddr = "10.198.7.2";

// HTTP/1.1 server (keep-alive, so curl's two URLs share one connection).
constexpr const char* kHttpServer = R"(
import http.server, sys
http.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler, protocol='HTTP/1.1',
                 port=8080, bind=sys.argv[1])
)";

// DNS responder on UDP and TCP port 53: A 192.0.2.N for every name, two answers for names
// starting with "two", NXDOMAIN for names starting with "nx", no answer for AAAA.
constexpr const char* kDnsServer = R"(
import socket, struct, sys, threading
def answer(q):
    tid, flags, qd = struct.unpack('!HHH', q[:6])
    i = 12
    labels = []
    while q[i]:
        labels.append(q[i+1:i+1+q[i]].decode()); i += 1 + q[i]
    qtype = struct.unpack('!H', q[i+1:i+3])[0]
    question = q[12:i+5]
    name = '.'.join(labels)
    rcode, answers = 0, []
    if name.startswith('nx'): rcode = 3
    elif qtype == 1:
        n = 2 if name.startswith('two') else 1
        for k in range(n):
            answers.append(b'\xc0\x0c' + struct.pack('!HHIH', 1, 1, 60, 4) + bytes([192, 0, 2, 10 + k]))
    hdr = struct.pack('!HHHHHH', tid, 0x8180 | rcode, 1, len(answers), 0, 0)
    return hdr + question + b''.join(answers)
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 53))
    while True:
        q, a = s.recvfrom(2048); s.sendto(answer(q), a)
def tcp():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], 53)); s.listen(8)
    while True:
        c, _ = s.accept()
        n = struct.unpack('!H', c.recv(2))[0]; q = b''
        while len(q) < n: q += c.recv(n - len(q))
        r = answer(q); c.sendall(struct.pack('!H', len(r)) + r); c.close()
threading.Thread(target=tcp, daemon=True).start()
print('dns ready', flush=True)
udp()
)";

// DNS client: each UDP query from its own socket (its own flow), one query over TCP.
constexpr const char* kDnsClient = R"(
import socket, struct, sys, random
def query(name, qtype):
    q = struct.pack('!HHHHHH', random.randrange(65536), 0x0100, 1, 0, 0, 0)
    for l in name.split('.'): q += bytes([len(l)]) + l.encode()
    return q + b'\x00' + struct.pack('!HH', qtype, 1)
for name, qtype in [('www.example.test', 1), ('nx.example.test', 1), ('two.example.test', 1), ('v6.example.test', 28)]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
    s.sendto(query(name, qtype), (sys.argv[1], 53)); s.recvfrom(2048); s.close()
s = socket.create_connection((sys.argv[1], 53), timeout=2)
q = query('tcp.example.test', 1); s.sendall(struct.pack('!H', len(q)) + q)
n = struct.unpack('!H', s.recv(2))[0]; r = b''
while len(r) < n: r += s.recv(n - len(r))
s.close()
print('dns done', flush=True)
)";

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

/// Flow identity as netscope prints it: protocol and the two endpoints in canonical order.
struct Endpoints {
  std::string key;   ///< "proto a:port b:port"
  bool forward = true;  ///< the packet went a -> b
};

Endpoints endpoints(int proto, const std::string& src, int sport, const std::string& dst, int dport) {
  in_addr s{}, d{};
  inet_pton(AF_INET, src.c_str(), &s);
  inet_pton(AF_INET, dst.c_str(), &d);
  const int cmp = std::memcmp(&s, &d, 4);
  const bool fwd = cmp < 0 || (cmp == 0 && sport <= dport);
  Endpoints e;
  e.forward = fwd;
  e.key = std::to_string(proto) + " " + (fwd ? src + ":" + std::to_string(sport) + " " + dst + ":" + std::to_string(dport)
                                              : dst + ":" + std::to_string(dport) + " " + src + ":" + std::to_string(sport));
  return e;
}

std::map<std::string, json> read_flows(const std::string& path) {
  std::map<std::string, json> flows;
  std::istringstream in(slurp(path));
  std::string line;
  while (std::getline(in, line)) {
    const json f = json::parse(line);
    const std::string key = std::to_string(f["protocol"].get<int>()) + " " + f["a"]["addr"].get<std::string>() + ":" +
                            std::to_string(f["a"]["port"].get<int>()) + " " + f["b"]["addr"].get<std::string>() + ":" +
                            std::to_string(f["b"]["port"].get<int>());
    flows[key] = f;
  }
  return flows;
}

/// tshark's per-flow TCP counts, by direction (0: a -> b).
struct TsharkTcp {
  std::array<std::map<std::string, int>, 2> counts;
  double initial_rtt = -1;
};

constexpr const char* kTcpFlags[][2] = {
    {"tcp.analysis.retransmission", "retransmissions"},
    {"tcp.analysis.fast_retransmission", "fast_retransmissions"},
    {"tcp.analysis.out_of_order", "out_of_order"},
    {"tcp.analysis.duplicate_ack", "duplicate_acks"},
    {"tcp.analysis.lost_segment", "lost_segments"},
    {"tcp.analysis.zero_window", "zero_windows"},
};

std::map<std::string, TsharkTcp> tshark_tcp(const std::string& pcap) {
  std::string cmd = "tshark -n -r '" + pcap + "' -Y tcp -T fields -E separator=/t -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport -e tcp.analysis.initial_rtt";
  for (const auto& f : kTcpFlags) cmd += std::string(" -e ") + f[0];
  std::map<std::string, TsharkTcp> out;
  std::istringstream lines(output_of(cmd + " 2>/dev/null"));
  std::string line;
  while (std::getline(lines, line)) {
    const auto c = split(line, '\t');
    if (c.size() < 5 + std::size(kTcpFlags)) continue;
    const Endpoints e = endpoints(6, c[0], std::stoi(c[1]), c[2], std::stoi(c[3]));
    TsharkTcp& t = out[e.key];
    if (!c[4].empty() && t.initial_rtt < 0) t.initial_rtt = std::stod(c[4]);
    for (std::size_t i = 0; i < std::size(kTcpFlags); ++i) {
      if (!c[5 + i].empty()) t.counts[e.forward ? 0 : 1][kTcpFlags[i][1]] += 1;
    }
  }
  return out;
}

/// Compares every TCP flow of the capture with netscope's record; returns the flows seen.
int compare_tcp(const std::string& pcap, const std::map<std::string, json>& flows, int& retrans_total) {
  const auto ts = tshark_tcp(pcap);
  int n = 0;
  for (const auto& [key, t] : ts) {
    SCOPED_TRACE(key);
    EXPECT_TRUE(flows.count(key)) << "no flow record";
    if (!flows.count(key)) continue;
    const json& f = flows.at(key);
    EXPECT_TRUE(f.contains("tcp")) << f.dump();
    if (!f.contains("tcp")) continue;
    ++n;
    for (int d = 0; d < 2; ++d) {
      const json& ours = f["tcp"][d == 0 ? "a_to_b" : "b_to_a"];
      for (const auto& flag : kTcpFlags) {
        const auto it = t.counts[d].find(flag[1]);
        const int theirs = it == t.counts[d].end() ? 0 : it->second;
        EXPECT_EQ(ours[flag[1]].get<int>(), theirs) << flag[0] << (d == 0 ? " a->b" : " b->a");
        if (std::string(flag[1]) == "retransmissions") retrans_total += theirs;
      }
    }
    if (t.initial_rtt >= 0) {
      const json& tj = f["tcp"];
      const bool valid = tj["handshake_server_rtt_ns"].is_number() && tj["handshake_client_rtt_ns"].is_number();
      EXPECT_TRUE(valid) << tj.dump();
      if (!valid) continue;
      const double ours = (tj["handshake_server_rtt_ns"].get<double>() + tj["handshake_client_rtt_ns"].get<double>()) / 1e9;
      EXPECT_NEAR(ours, t.initial_rtt, 1.5e-6) << "handshake RTT (tcp.analysis.initial_rtt)";
    }
  }
  return n;
}

/// HTTP: the first request and response of each flow, and the request count.
int compare_http(const std::string& pcap, const std::map<std::string, json>& flows) {
  struct Http {
    int requests = 0;
    std::string method, host, uri, status, content_length;
  };
  std::map<std::string, Http> th;
  std::istringstream lines(output_of("tshark -n -r '" + pcap + "' -Y http -T fields -E separator=/t -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport"
                                     " -e http.request.method -e http.host -e http.request.uri -e http.response.code -e http.content_length_header 2>/dev/null"));
  std::string line;
  while (std::getline(lines, line)) {
    const auto c = split(line, '\t');
    if (c.size() < 9) continue;
    Http& h = th[endpoints(6, c[0], std::stoi(c[1]), c[2], std::stoi(c[3])).key];
    // Several messages in one frame (pipelining) give comma-separated values.
    const auto first = [](const std::string& v) { return v.substr(0, v.find(',')); };
    if (!c[4].empty()) {
      if (h.requests == 0) {
        h.method = first(c[4]);
        h.host = first(c[5]);
        h.uri = first(c[6]);
      }
      h.requests += static_cast<int>(split(c[4], ',').size());
    }
    if (!c[7].empty() && h.status.empty()) {
      h.status = first(c[7]);
      h.content_length = first(c[8]);
    }
  }
  for (const auto& [key, h] : th) {
    SCOPED_TRACE(key);
    EXPECT_TRUE(flows.count(key));
    if (!flows.count(key)) continue;
    const json& f = flows.at(key);
    EXPECT_EQ(f["app"], "http");
    EXPECT_TRUE(f.contains("http")) << f.dump();
    if (!f.contains("http")) continue;
    const json& o = f["http"];
    EXPECT_EQ(o["requests"].get<int>(), h.requests);
    EXPECT_EQ(o.value("method", ""), h.method);
    EXPECT_EQ(o.value("host", ""), h.host);
    EXPECT_EQ(o.value("uri", ""), h.uri);
    EXPECT_EQ(std::to_string(o.value("status", 0)), h.status);
    EXPECT_EQ(o.contains("content_length") ? std::to_string(o["content_length"].get<std::uint64_t>()) : "",
              h.content_length);
  }
  return static_cast<int>(th.size());
}

/// DNS: the first query and its response per flow (UDP and TCP).
int compare_dns(const std::string& pcap, const std::map<std::string, json>& flows) {
  struct Dns {
    std::string qname, qtype, rcode, answers;
    double time = -1;
  };
  std::map<std::string, Dns> td;
  std::istringstream lines(output_of("tshark -n -r '" + pcap + "' -Y dns -T fields -E separator=/t -e ip.src -e udp.srcport -e tcp.srcport -e ip.dst -e udp.dstport -e tcp.dstport"
                                     " -e dns.flags.response -e dns.qry.name -e dns.qry.type -e dns.flags.rcode -e dns.count.answers -e dns.time 2>/dev/null"));
  std::string line;
  while (std::getline(lines, line)) {
    const auto c = split(line, '\t');
    if (c.size() < 12) continue;
    const bool udp = !c[1].empty();
    const Endpoints e = endpoints(udp ? 17 : 6, c[0], std::stoi(udp ? c[1] : c[2]), c[3], std::stoi(udp ? c[4] : c[5]));
    Dns& d = td[e.key];
    if (d.qname.empty()) {
      d.qname = c[7];
      d.qtype = c[8];
    }
    if (c[6] == "1" || c[6] == "True") {
      d.rcode = c[9];
      d.answers = c[10];
      if (!c[11].empty()) d.time = std::stod(c[11]);
    }
  }
  for (const auto& [key, d] : td) {
    SCOPED_TRACE(key);
    EXPECT_TRUE(flows.count(key));
    if (!flows.count(key)) continue;
    const json& f = flows.at(key);
    EXPECT_EQ(f["app"], "dns");
    EXPECT_TRUE(f.contains("dns")) << f.dump();
    if (!f.contains("dns")) continue;
    const json& o = f["dns"];
    EXPECT_EQ(o["qname"], d.qname);
    EXPECT_EQ(std::to_string(o["qtype"].get<int>()), d.qtype);
    EXPECT_EQ(std::to_string(o.value("rcode", -1)), d.rcode);
    EXPECT_EQ(std::to_string(o.value("answers", -1)), d.answers);
    if (d.time >= 0) {
      EXPECT_TRUE(o.contains("response_time_ns")) << o.dump();
      if (o.contains("response_time_ns")) { EXPECT_NEAR(o["response_time_ns"].get<double>() / 1e9, d.time, 1.5e-6) << "dns.time"; }
    }
  }
  return static_cast<int>(td.size());
}


// ---- Frames built in the test -------------------------------------------------------------

void put16(Frame& f, std::size_t at, std::uint16_t v) {
  f[at] = static_cast<std::uint8_t>(v >> 8);
  f[at + 1] = static_cast<std::uint8_t>(v);
}

/// Ethernet + IPv4 around an L4 payload (`l4` starts at the transport header, or is a
/// fragment of it). `frag_field`: IPv4 flags/offset word (offset in 8-byte units).
Frame ipv4_frame(std::uint32_t src, std::uint32_t dst, std::uint8_t proto, const Frame& l4, std::uint16_t id = 1,
                 std::uint16_t frag_field = 0x4000) {
  Frame f = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00};
  const std::size_t ip = f.size();
  f.resize(ip + 20);
  f[ip] = 0x45;
  put16(f, ip + 2, static_cast<std::uint16_t>(20 + l4.size()));
  put16(f, ip + 4, id);
  put16(f, ip + 6, frag_field);
  f[ip + 8] = 64;
  f[ip + 9] = proto;
  for (int i = 0; i < 4; ++i) {
    f[ip + 12 + i] = static_cast<std::uint8_t>(src >> (24 - 8 * i));
    f[ip + 16 + i] = static_cast<std::uint8_t>(dst >> (24 - 8 * i));
  }
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 20; i += 2) sum += (f[ip + i] << 8) | f[ip + i + 1];
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  put16(f, ip + 10, static_cast<std::uint16_t>(~sum));
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

Frame udp_segment(std::uint16_t sport, std::uint16_t dport, const Frame& payload) {
  Frame u(8);
  put16(u, 0, sport);
  put16(u, 2, dport);
  put16(u, 4, static_cast<std::uint16_t>(8 + payload.size()));
  u.insert(u.end(), payload.begin(), payload.end());
  return u;
}

Frame tcp_segment(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                  const std::string& payload = "") {
  Frame t(20);
  put16(t, 0, sport);
  put16(t, 2, dport);
  for (int i = 0; i < 4; ++i) {
    t[4 + i] = static_cast<std::uint8_t>(seq >> (24 - 8 * i));
    t[8 + i] = static_cast<std::uint8_t>(ack >> (24 - 8 * i));
  }
  t[12] = 0x50;
  t[13] = flags;
  put16(t, 14, 65535);
  t.insert(t.end(), payload.begin(), payload.end());
  return t;
}

Frame dns_message(std::uint16_t id, bool response, const std::string& name, std::uint16_t qtype, int answers) {
  Frame m(12);
  put16(m, 0, id);
  put16(m, 2, response ? 0x8180 : 0x0100);
  put16(m, 4, 1);
  put16(m, 6, static_cast<std::uint16_t>(answers));
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    m.push_back(static_cast<std::uint8_t>(dot - start));
    m.insert(m.end(), name.begin() + static_cast<std::ptrdiff_t>(start), name.begin() + static_cast<std::ptrdiff_t>(dot));
    start = dot + 1;
  }
  m.push_back(0);
  m.insert(m.end(), {static_cast<std::uint8_t>(qtype >> 8), static_cast<std::uint8_t>(qtype), 0, 1});
  for (int i = 0; i < answers; ++i) {
    m.insert(m.end(), {0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 51, 100, static_cast<std::uint8_t>(i)});
  }
  return m;
}

std::string tls_client_hello(const std::string& sni) {
  std::string ext;
  const auto be16 = [](std::size_t v) { return std::string{static_cast<char>(v >> 8), static_cast<char>(v & 0xFF)}; };
  const std::string entry = std::string(1, '\0') + be16(sni.size()) + sni;
  ext += be16(0) + be16(entry.size() + 2) + be16(entry.size()) + entry;  // server_name
  std::string body = std::string("\x03\x03", 2) + std::string(32, '\x11') + std::string(1, '\0') + be16(2) +
                     std::string("\x13\x01", 2) + std::string("\x01\x00", 2) + be16(ext.size()) + ext;
  const std::string hs = std::string(1, '\x01') + std::string(1, '\0') + be16(body.size()) + body;
  return std::string("\x16\x03\x01", 3) + be16(hs.size()) + hs;
}

constexpr std::uint32_t kA = 0x0A010001;  // 10.1.0.1
constexpr std::uint32_t kB = 0x0A010002;  // 10.1.0.2

TEST(TrafficAnalysis, LinuxTrafficMatchesTshark) {
  for (const char* tool : {"ip", "tcpdump", "tshark", "nft", "curl", "nc", "python3", "timeout"}) {
    ASSERT_TRUE(have(tool)) << tool << " is missing (Debian: iproute2 tcpdump tshark nftables curl netcat-openbsd python3)";
  }
  Lab lab;
  const std::string& C = lab.client();
  const std::string& S = lab.server();
  const std::string& dir = lab.dir();
  for (const std::string& ns : {C, S}) ASSERT_EQ(sh("ip netns add " + ns), 0) << ns;
  ASSERT_EQ(sh("ip link add vc netns " + C + " type veth peer name vs netns " + S), 0);
  for (const auto& [ns, dev, addr] : {std::tuple{C, "vc", kClientAddr}, std::tuple{S, "vs", kServerAddr}}) {
    ASSERT_EQ(lab.in(ns, "ip link set lo up"), 0);
    ASSERT_EQ(lab.in(ns, std::string("ip addr add ") + addr + "/24 dev " + dev), 0);
    // One wire segment per skb, so the capture shows what the wire carries.
    ASSERT_EQ(lab.in(ns, std::string("ip link set ") + dev + " gso_max_segs 1 up"), 0);
  }
  // Loss on the nc transfer (port 5001) only: data segments, never the handshake.
  const std::string data = "tcp dport 5001 ip length gt 200";
  ASSERT_EQ(lab.in(S, "nft add table inet lab"), 0);
  ASSERT_EQ(lab.in(S, "nft add chain inet lab in '{ type filter hook input priority 0 ; }'"), 0);
  ASSERT_EQ(lab.in(S, "nft add rule inet lab in " + data + " numgen random mod 12 == 0 drop"), 0);
  ASSERT_EQ(lab.in(C, "nft add table inet lab"), 0);
  ASSERT_EQ(lab.in(C, "nft add chain inet lab out '{ type filter hook output priority 0 ; }'"), 0);
  ASSERT_EQ(lab.in(C, "nft add rule inet lab out " + data + " numgen random mod 12 == 0 drop"), 0);

  // Servers.
  sh("mkdir -p '" + dir + "/www' && printf 'hello netscope\\n' > '" + dir + "/www/index.html' && head -c 20000 /dev/zero > '" + dir + "/www/data.bin'");
  { std::ofstream(dir + "/web_server.py") << kHttpServer; }
  { std::ofstream(dir + "/dns.py") << kDnsServer; }
  { std::ofstream(dir + "/dnsc.py") << kDnsClient; }
  ASSERT_GT(lab.start(S, "cd '" + dir + "/www' && exec python3 -u ../web_server.py " + kServerAddr, dir + "/http.log"), 0);
  ASSERT_GT(lab.start(S, "exec python3 -u '" + dir + "/dns.py' " + kServerAddr, dir + "/dns.log"), 0);
  ASSERT_GT(lab.start(S, std::string("exec nc -l ") + kServerAddr + " 5001 > /dev/null", dir + "/nc.log"), 0);
  ASSERT_TRUE(wait_for_text(dir + "/http.log", "Serving HTTP", 10)) << slurp(dir + "/http.log");
  ASSERT_TRUE(wait_for_text(dir + "/dns.log", "dns ready", 10)) << slurp(dir + "/dns.log");

  const std::string pcap = dir + "/lab.pcap";
  const pid_t tcpdump = lab.start(C, "exec tcpdump -i vc -n -U --immediate-mode -B 65536 -s 0 -w '" + pcap + "'", dir + "/tcpdump.log");
  ASSERT_GT(tcpdump, 0);
  ASSERT_TRUE(wait_for_text(dir + "/tcpdump.log", "listening on", 10)) << "tcpdump did not start";

  const std::string url = std::string("http://") + kServerAddr + ":8080/";
  EXPECT_EQ(lab.in(C, "curl -s -o /dev/null -o /dev/null " + url + "index.html " + url + "data.bin"), 0);
  EXPECT_EQ(lab.in(C, "curl -s -o /dev/null " + url + "missing?x=1"), 0);
  EXPECT_EQ(lab.in(C, "python3 '" + dir + "/dnsc.py' " + kServerAddr), 0);
  EXPECT_EQ(lab.in(C, std::string("sh -c 'head -c 300000 /dev/urandom | nc -N -w 10 ") + kServerAddr + " 5001'"), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(lab.stop(tcpdump, SIGINT)) << "tcpdump did not stop";
  ASSERT_TRUE(wait_for_text(dir + "/tcpdump.log", "\n0 packets dropped by kernel", 2)) << slurp(dir + "/tcpdump.log");

  const RunResult r = replay(dir, {pcap}, {"--flows-out", dir + "/flows.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto flows = read_flows(dir + "/flows.jsonl");
  ASSERT_FALSE(flows.empty());

  int retrans = 0;
  const int tcp = compare_tcp(pcap, flows, retrans);
  EXPECT_GE(tcp, 4);       // 2 HTTP, 1 DNS over TCP, 1 nc
  EXPECT_GT(retrans, 0);   // the loss rules worked: the comparison covered retransmissions
  EXPECT_EQ(compare_http(pcap, flows), 2);
  EXPECT_EQ(compare_dns(pcap, flows), 5);
  if (HasFailure()) {
    sh("cp '" + pcap + "' /tmp/netscope-traffic-analysis-failed.pcap");
    ADD_FAILURE() << "capture kept in /tmp/netscope-traffic-analysis-failed.pcap";
  }
}


TEST(TrafficAnalysis, BuiltCaptureMatchesTshark) {
  ASSERT_TRUE(have("tshark"));
  const std::string dir = temp_dir();
  std::vector<Frame> frames;
  // 1. DNS over UDP whose response comes in three IPv4 fragments, out of order.
  frames.push_back(ipv4_frame(kA, kB, 17, udp_segment(40000, 53, dns_message(0x1234, false, "frag.example.test", 1, 0))));
  const Frame big = udp_segment(53, 40000, dns_message(0x1234, true, "frag.example.test", 1, 60));
  ASSERT_GT(big.size(), 900u);
  const std::size_t cut1 = 400, cut2 = 800;  // multiples of 8
  const auto piece = [&](std::size_t from, std::size_t to) { return Frame(big.begin() + static_cast<std::ptrdiff_t>(from), big.begin() + static_cast<std::ptrdiff_t>(to)); };
  frames.push_back(ipv4_frame(kB, kA, 17, piece(cut2, big.size()), 77, static_cast<std::uint16_t>(cut2 / 8)));
  frames.push_back(ipv4_frame(kB, kA, 17, piece(0, cut1), 77, 0x2000));
  frames.push_back(ipv4_frame(kB, kA, 17, piece(cut1, cut2), 77, static_cast<std::uint16_t>(0x2000 | (cut1 / 8))));
  // 2. A UDP datagram to a closed port and the ICMP port unreachable that quotes it.
  const Frame probe = ipv4_frame(kA, kB, 17, udp_segment(40001, 9999, {'h', 'i'}), 5);
  frames.push_back(probe);
  Frame icmp = {3, 3, 0, 0, 0, 0, 0, 0};
  icmp.insert(icmp.end(), probe.begin() + 14, probe.begin() + 14 + 28);
  frames.push_back(ipv4_frame(kB, kA, 1, icmp, 6));
  // 3. TLS ClientHello with SNI.
  const std::string hello = tls_client_hello("secure.example.test");
  frames.push_back(ipv4_frame(kA, kB, 6, tcp_segment(40002, 443, 1000, 0, 0x02)));
  frames.push_back(ipv4_frame(kB, kA, 6, tcp_segment(443, 40002, 5000, 1001, 0x12)));
  frames.push_back(ipv4_frame(kA, kB, 6, tcp_segment(40002, 443, 1001, 5001, 0x10)));
  frames.push_back(ipv4_frame(kA, kB, 6, tcp_segment(40002, 443, 1001, 5001, 0x18, hello)));
  // 4. Two pipelined HTTP requests in one segment, answered in one segment; then a
  //    retransmission of the requests (must not count twice).
  const std::string reqs = "GET /first HTTP/1.1\r\nHost: www.example.test\r\n\r\nGET /second HTTP/1.1\r\nHost: www.example.test\r\n\r\n";
  const std::string resps = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  frames.push_back(ipv4_frame(kA, kB, 6, tcp_segment(40003, 80, 2000, 0, 0x02)));
  frames.push_back(ipv4_frame(kB, kA, 6, tcp_segment(80, 40003, 7000, 2001, 0x12)));
  frames.push_back(ipv4_frame(kA, kB, 6, tcp_segment(40003, 80, 2001, 7001, 0x10)));
  frames.push_back(ipv4_frame(kA, kB, 6, tcp_segment(40003, 80, 2001, 7001, 0x18, reqs)));
  frames.push_back(ipv4_frame(kA, kB, 6, tcp_segment(40003, 80, 2001, 7001, 0x18, reqs)));
  frames.push_back(ipv4_frame(kB, kA, 6, tcp_segment(80, 40003, 7001, 2001 + static_cast<std::uint32_t>(reqs.size()), 0x18, resps)));
  const std::string pcap = dir + "/built.pcap";
  write_pcap(pcap, frames, 1'700'000'000'000'000ull, 250);

  const RunResult r = replay(dir, {pcap}, {"--flows-out", dir + "/flows.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto flows = read_flows(dir + "/flows.jsonl");

  EXPECT_EQ(compare_dns(pcap, flows), 1);
  EXPECT_EQ(compare_http(pcap, flows), 1);
  int retrans = 0;
  EXPECT_EQ(compare_tcp(pcap, flows, retrans), 2);
  EXPECT_EQ(retrans, 1);
  // The fragmented response counts as one packet of its flow, reassembled.
  const json& dns = flows.at(endpoints(17, "10.1.0.1", 40000, "10.1.0.2", 53).key);
  EXPECT_EQ(dns["packets_b_to_a"], 1);
  EXPECT_EQ(dns["dns"]["answers"], 60);

  // ICMP errors: tshark shows the quoted datagram's ports; the flow it names has them.
  std::istringstream icmp_lines(output_of("tshark -n -r '" + pcap + "' -Y 'icmp.type==3' -T fields -E separator=/t -e icmp.code -e udp.srcport -e udp.dstport 2>/dev/null"));
  std::string line;
  int icmp_errors = 0;
  while (std::getline(icmp_lines, line)) {
    const auto c = split(line, '\t');
    ASSERT_EQ(c.size(), 3u) << line;
    ++icmp_errors;
    const json& f = flows.at(endpoints(17, "10.1.0.1", std::stoi(c[1]), "10.1.0.2", std::stoi(c[2])).key);
    EXPECT_EQ(f["icmp_errors"], 1);
    EXPECT_EQ(std::to_string(f["icmp_last"]["code"].get<int>()), c[0]);
  }
  EXPECT_EQ(icmp_errors, 1);

  // TLS SNI.
  const std::string sni = output_of("tshark -n -r '" + pcap + "' -Y tls.handshake.type==1 -T fields -e tls.handshake.extensions_server_name 2>/dev/null");
  EXPECT_EQ(sni, "secure.example.test\n");
  const json& tls = flows.at(endpoints(6, "10.1.0.1", 40002, "10.1.0.2", 443).key);
  EXPECT_EQ(tls["app"], "tls");
  EXPECT_EQ(tls["tls"]["sni"].get<std::string>() + "\n", sni);

  // The same fields in the JSON report.
  bool found = false;
  for (const json& f : r.report["flows"]) {
    if (f["b"]["port"] == 443) {
      found = true;
      EXPECT_EQ(f["tls"]["sni"], "secure.example.test");
      EXPECT_EQ(f["tcp"]["history"], "ShAD");
    }
  }
  EXPECT_TRUE(found);
  if (!HasFailure()) sh("rm -rf '" + dir + "'");
}

}  // namespace
}  // namespace netscope::itest
