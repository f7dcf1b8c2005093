// PortFilter (src/runtime/filter.hpp) against tcpdump on the same capture: for each
// expression, the packets PortFilter passes are exactly those libpcap's own filter
// accepts, and as many as `tcpdump -r FILE EXPR` prints. The capture is netscope-gen's
// demo (MACsec, ESP, NAT-T, AH, VLAN, IPv6) plus hand-built frames (ARP, TCP SYNs, QinQ,
// fragments, truncated frames). Mbufs are built here under an EAL this binary starts;
// every third one is split into small segments so that loads cross segment boundaries.
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>

#include "../../src/runtime/filter.hpp"
#include "frames.hpp"
#include "harness.hpp"

namespace netscope::itest {
namespace {

using runtime::PortFilter;
using tf::Buf;

constexpr unsigned kBurst = 32;
constexpr unsigned kPoolSize = 16383;
constexpr std::size_t kSegmentBytes = 23;  ///< odd, so fields straddle segments

/// Starts the EAL once for the whole binary (no hugepages, no PCI, own file prefix).
class EalEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    args_ = {"test_integration_filter", "--no-huge", "--no-pci", "-m", "256", "-l", "0",
             "--file-prefix", unique_prefix() + "f", "--log-level", "lib.eal:error"};
    std::vector<char*> argv;
    for (auto& a : args_) argv.push_back(a.data());
    ASSERT_GE(rte_eal_init(static_cast<int>(argv.size()), argv.data()), 0)
        << "rte_eal_init: " << rte_strerror(rte_errno);
    pool = rte_pktmbuf_pool_create("filter_test", kPoolSize, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                   static_cast<int>(rte_socket_id()));
    ASSERT_NE(pool, nullptr) << "mempool: " << rte_strerror(rte_errno);
  }
  void TearDown() override {
    rte_mempool_free(pool);
    rte_eal_cleanup();
  }
  static inline rte_mempool* pool = nullptr;

 private:
  std::vector<std::string> args_;
};
[[maybe_unused]] const auto* const kEal = ::testing::AddGlobalTestEnvironment(new EalEnvironment);

// --- Hand-built frames the demo does not have ---------------------------------------

Buf arp_request() {
  Buf b = tf::ethernet(0x0806);
  std::fill(b.begin(), b.begin() + 6, 0xFF);
  tf::put16(b, 1);       // Ethernet
  tf::put16(b, 0x0800);  // IPv4
  tf::put8(b, 6);
  tf::put8(b, 4);
  tf::put16(b, 1);  // request
  for (std::uint8_t v : tf::kSrcMac) tf::put8(b, v);
  tf::put32(b, 0x0A000001);
  tf::put_fill(b, 6, 0);
  tf::put32(b, 0x0A000002);
  tf::put_fill(b, 18, 0);  // padding to 60 bytes
  return b;
}

/// TCP over IPv4 with the given addresses (tcp4 from frames.hpp, addresses rewritten).
Buf tcp_between(std::uint32_t src, std::uint32_t dst, std::uint16_t sport, std::uint16_t dport,
                std::uint8_t flags) {
  Buf f = tcp4(sport, dport, flags, false);
  for (int i = 0; i < 4; ++i) {
    f[26 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(src >> (24 - 8 * i));
    f[30 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(dst >> (24 - 8 * i));
  }
  tf::fix_ipv4_checksum(f, 14);
  return f;
}

/// A SYN in 10/8 behind 8 bytes of IPv4 options: TCP fields are not at a fixed offset.
Buf syn_with_ip_options() {
  tf::Ipv4Opts o;
  o.options = {1, 1, 1, 1, 1, 1, 1, 0};  // NOPs and end of list
  const Buf t = tf::tcp(40100, 443, 7, 0, 0x02);
  Buf f = tf::cat({tf::ethernet(0x0800), tf::ipv4(6, t.size(), o), t});
  f[26] = 10;  // source 10.0.2.1
  tf::fix_ipv4_checksum(f, 14);
  return f;
}

Buf vlan_udp(std::uint16_t vid, std::uint16_t dport) {
  return tf::cat({tf::ethernet(0x8100), tf::vlan_tag(vid, 0x0800), tf::ipv4(17, 8 + 20), tf::udp(1000, dport, 20),
                  tf::payload(20)});
}

Buf vlan_esp(std::uint16_t vid, std::uint32_t spi, std::uint32_t seq) {
  return tf::cat({tf::ethernet(0x8100), tf::vlan_tag(vid, 0x0800), tf::ipv4(50, 8 + 32), tf::esp(spi, seq),
                  tf::payload(32)});
}

Buf qinq_udp() {
  return tf::cat({tf::ethernet(0x88A8), tf::vlan_tag(10, 0x8100), tf::vlan_tag(20, 0x0800), tf::ipv4(17, 8 + 20),
                  tf::udp(1000, 4500, 20), tf::payload(20)});
}

Buf esp6(std::uint32_t spi, std::uint32_t seq) {
  return tf::cat({tf::ethernet(0x86DD), tf::ipv6(50, 8 + 40), tf::esp(spi, seq), tf::payload(40)});
}

/// ESP behind a hop-by-hop options header: `ip6 proto` does not look past it.
Buf esp6_hop_by_hop(std::uint32_t spi, std::uint32_t seq) {
  return tf::cat({tf::ethernet(0x86DD), tf::ipv6(0, 8 + 8 + 40), tf::ipv6_ext(50), tf::esp(spi, seq),
                  tf::payload(40)});
}

Buf ah4(std::uint32_t spi, std::uint32_t seq) {
  const Buf t = tf::tcp(1234, 443, 1, 1, 0x02);
  const Buf a = tf::ah(6, spi, seq, 12);
  return tf::cat({tf::ethernet(0x0800), tf::ipv4(51, a.size() + t.size()), a, t});
}

/// A non-first IPv4 fragment whose payload happens to look like UDP 4500.
Buf udp4500_fragment() {
  tf::Ipv4Opts o;
  o.frag = 0x2003;  // MF, offset 24 bytes
  return tf::cat({tf::ethernet(0x0800), tf::ipv4(17, 8 + 20, o), tf::udp(4500, 4500, 20), tf::payload(20)});
}

/// Cut short inside the IPv4 header: every load past the end fails the filter.
Buf truncated_ipv4() {
  Buf f = esp4(0x999, 1);
  f.resize(14 + 12);
  return f;
}

std::vector<Buf> hand_built() {
  std::vector<Buf> f;
  for (int i = 0; i < 3; ++i) f.push_back(arp_request());
  const std::uint32_t ten_a = 0x0A010203, ten_b = 0x0A090807, doc_a = 0xC0000201, doc_b = 0xC6336402;
  f.push_back(tcp_between(ten_a, ten_b, 40000, 443, 0x02));  // SYN in 10/8
  f.push_back(tcp_between(ten_b, ten_a, 443, 40000, 0x12));  // SYN-ACK in 10/8
  f.push_back(tcp_between(ten_a, ten_b, 40000, 443, 0x10));  // ACK in 10/8
  f.push_back(tcp_between(ten_a, doc_b, 40001, 22, 0x02));   // SYN from 10/8 to 198.51.100.2
  f.push_back(tcp_between(doc_a, doc_b, 40002, 443, 0x02));  // SYN outside 10/8
  f.push_back(tcp_between(doc_b, doc_a, 443, 40002, 0x18));  // PSH-ACK back
  f.push_back(tcp4(5555, 8443, 0x02, false));                // not port 443
  f.push_back(syn_with_ip_options());
  for (std::uint16_t vid : {100, 200, 4095}) f.push_back(vlan_udp(vid, 53));
  f.push_back(vlan_udp(300, 4500));
  f.push_back(vlan_esp(100, 0x500, 1));
  f.push_back(qinq_udp());
  for (std::uint32_t s = 1; s <= 4; ++s) f.push_back(esp6(0x600, s));
  f.push_back(esp6_hop_by_hop(0x601, 1));
  for (std::uint32_t s = 1; s <= 3; ++s) f.push_back(ah6(0x700, s));
  f.push_back(ah4(0x701, 1));
  for (std::uint32_t s = 1; s <= 3; ++s) f.push_back(esp4(0x800, s));
  for (std::uint32_t s = 1; s <= 2; ++s) f.push_back(esp_natt(0x900, s));
  f.push_back(ike_natt());
  f.push_back(udp4500_fragment());
  for (std::uint32_t pn = 1; pn <= 3; ++pn) f.push_back(macsec(true, 0, pn));
  f.push_back(macsec(false, 1, 7, 0, false));
  f.push_back(udp4(5000, 5001));
  f.push_back(truncated_ipv4());
  f.push_back(Buf(10, 0xEE));  // shorter than an Ethernet header
  return f;
}

// --- Capture, tcpdump and libpcap oracles ----------------------------------------------

struct Capture {
  std::string dir;
  std::string path;
  std::vector<Frame> frames;
};

std::vector<Frame> read_pcap(const std::string& path) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  if (p == nullptr) throw std::runtime_error("cannot open " + path + ": " + err);
  std::vector<Frame> out;
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(p, &hdr, &data) == 1) out.emplace_back(data, data + hdr->caplen);
  pcap_close(p);
  return out;
}

/// netscope-gen's demo followed by the hand-built frames, written once.
const Capture& capture() {
  static const Capture c = [] {
    Capture k;
    k.dir = temp_dir();
    const std::string demo = k.dir + "/demo.pcap";
    const RunResult g = run(binary("NETSCOPE_GEN_BIN"), {"--", "--builtin-demo", "--seed", "1", "--pcap-out", demo},
                            k.dir, std::chrono::seconds(60));
    if (g.exit_code != 0) throw std::runtime_error("netscope-gen failed:\n" + g.err);
    k.frames = read_pcap(demo);
    for (Buf& f : hand_built()) k.frames.push_back(std::move(f));
    k.path = k.dir + "/mixed.pcap";
    write_pcap(k.path, k.frames);
    return k;
  }();
  return c;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// What tcpdump prints for `expr`, one line per packet (-q: MACsec frames otherwise get
/// hex dump lines), checked against tcpdump's own --count.
std::size_t tcpdump_count(const std::string& dir, const std::string& file, const std::string& expr) {
  const std::string q = shell_quote(expr);
  const RunResult lines = run("/bin/sh", {"-c", "tcpdump -n -q -r " + file + " " + q + " | wc -l"}, dir,
                              std::chrono::seconds(60));
  if (lines.exit_code != 0) throw std::runtime_error("tcpdump failed: " + lines.err);
  const std::size_t n = std::stoul(lines.out);
  const RunResult counted = run("/bin/sh", {"-c", "tcpdump -n --count -r " + file + " " + q}, dir,
                                std::chrono::seconds(60));
  if (counted.exit_code != 0 || counted.out.find(std::to_string(n) + " packet") != 0) {
    throw std::runtime_error("tcpdump printed " + std::to_string(n) + " lines but --count says: " + counted.out +
                             counted.err);
  }
  return n;
}

/// libpcap's own verdict for every frame (bpf_filter over the same classic program).
std::vector<bool> libpcap_verdicts(const std::vector<Frame>& frames, const std::string& expr) {
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
  bpf_program code{};
  if (pcap_compile(dead, &code, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    const std::string e = pcap_geterr(dead);
    pcap_close(dead);
    throw std::runtime_error("pcap_compile: " + e);
  }
  std::vector<bool> out;
  for (const Frame& f : frames) {
    pcap_pkthdr h{};
    h.caplen = h.len = static_cast<bpf_u_int32>(f.size());
    out.push_back(pcap_offline_filter(&code, &h, f.data()) != 0);
  }
  pcap_freecode(&code);
  pcap_close(dead);
  return out;
}

/// An mbuf holding `f`, either in one segment or chained in kSegmentBytes pieces.
rte_mbuf* to_mbuf(const Frame& f, bool segmented) {
  rte_mempool* pool = EalEnvironment::pool;
  rte_mbuf* head = nullptr;
  const std::size_t step = segmented ? kSegmentBytes : f.size();
  std::size_t off = 0;
  do {
    const std::size_t len = std::min(step, f.size() - off);
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) throw std::runtime_error("mbuf pool exhausted");
    char* dst = rte_pktmbuf_append(m, static_cast<std::uint16_t>(len));
    if (dst == nullptr) throw std::runtime_error("frame too long for one mbuf");
    std::memcpy(dst, f.data() + off, len);
    if (head == nullptr) {
      head = m;
    } else if (rte_pktmbuf_chain(head, m) != 0) {
      throw std::runtime_error("too many segments");
    }
    off += len;
  } while (off < f.size());
  return head;
}

/// Runs `filter` over every frame in bursts of `burst`; returns per-frame verdicts from
/// the mbufs apply() kept (it must keep them in order and free the rest).
std::vector<bool> run_filter(PortFilter& filter, const std::vector<Frame>& frames, unsigned burst) {
  std::vector<bool> passed(frames.size(), false);
  std::vector<rte_mbuf*> bufs(burst);
  for (std::size_t base = 0; base < frames.size(); base += burst) {
    const auto n = static_cast<std::uint16_t>(std::min<std::size_t>(burst, frames.size() - base));
    std::map<rte_mbuf*, std::size_t> index;
    for (std::uint16_t i = 0; i < n; ++i) {
      bufs[i] = to_mbuf(frames[base + i], (base + i) % 3 == 2);
      index[bufs[i]] = base + i;
    }
    const std::uint16_t kept = filter.apply(bufs.data(), n);
    EXPECT_LE(kept, n);
    std::size_t last = 0;
    for (std::uint16_t i = 0; i < kept; ++i) {
      const auto it = index.find(bufs[i]);
      EXPECT_NE(it, index.end()) << "apply() returned an mbuf it was not given";
      if (it == index.end()) continue;
      EXPECT_TRUE(i == 0 || it->second > last) << "apply() reordered the accepted mbufs";
      last = it->second;
      passed[it->second] = true;
    }
    rte_pktmbuf_free_bulk(bufs.data(), kept);
  }
  return passed;
}

std::size_t count_true(const std::vector<bool>& v) {
  return static_cast<std::size_t>(std::count(v.begin(), v.end(), true));
}

// --- Tests -----------------------------------------------------------------------------

class FilterVsTcpdump : public ::testing::TestWithParam<const char*> {};

TEST_P(FilterVsTcpdump, SamePacketsAsLibpcapAndTcpdump) {
  const std::string expr = GetParam();
  const Capture& c = capture();
  const std::size_t total = c.frames.size();
  const std::size_t want = tcpdump_count(c.dir, c.path, expr);
  // The capture must exercise both outcomes, or the comparison proves little.
  ASSERT_GT(want, 0u) << expr;
  ASSERT_LT(want, total) << expr;
  const std::vector<bool> oracle = libpcap_verdicts(c.frames, expr);
  ASSERT_EQ(count_true(oracle), want) << "libpcap's bpf_filter disagrees with tcpdump on '" << expr << "'";

  PortFilter jit(expr);
  PortFilter interp(expr, PortFilter::Engine::interpreter);
#if defined(__x86_64__)
  EXPECT_TRUE(jit.jit()) << "rte_bpf has a JIT on x86-64; expected it for '" << expr << "'";
#endif
  EXPECT_FALSE(interp.jit());
  EXPECT_EQ(jit.expression(), expr);
  EXPECT_GT(jit.instructions(), 0u);

  const std::vector<bool> got_jit = run_filter(jit, c.frames, kBurst);
  const std::vector<bool> got_interp = run_filter(interp, c.frames, kBurst);
  EXPECT_EQ(count_true(got_jit), want) << expr;
  EXPECT_EQ(count_true(got_interp), want) << expr;
  std::size_t shown = 0;
  for (std::size_t i = 0; i < total; ++i) {
    if ((got_jit[i] != oracle[i] || got_interp[i] != oracle[i]) && shown++ < 10) {
      ADD_FAILURE() << "'" << expr << "' frame " << i << " (" << c.frames[i].size() << " bytes"
                    << (i % 3 == 2 ? ", segmented" : "") << "): libpcap " << oracle[i] << ", JIT " << got_jit[i]
                    << ", interpreter " << got_interp[i];
    }
  }
  EXPECT_EQ(jit.passed(), want);
  EXPECT_EQ(jit.filtered(), total - want);
  EXPECT_EQ(interp.passed(), want);
  EXPECT_EQ(interp.filtered(), total - want);
  EXPECT_EQ(rte_mempool_in_use_count(EalEnvironment::pool), 0u) << "mbufs leaked";
}

INSTANTIATE_TEST_SUITE_P(
    Expressions, FilterVsTcpdump,
    ::testing::Values("esp", "ether proto 0x88e5", "tcp port 443", "vlan and udp", "ip6 and esp", "ah",
                      "udp port 4500", "not arp", "host 198.51.100.2",
                      "net 10.0.0.0/8 and tcp[tcpflags] & tcp-syn != 0",
                      // Beyond the list: VLAN ID, packet length, fragments, MACs, byte offsets.
                      "vlan 100 and esp", "greater 1000", "ip[6:2] & 0x1fff != 0", "ether src 02:00:00:00:00:01",
                      "ether[0] & 1 != 0", "udp[8:4] = 0 and udp port 4500", "vlan and vlan and ip6 and tcp"),
    [](const ::testing::TestParamInfo<const char*>& i) {
      std::string name = "e";
      name += std::to_string(i.index);
      name += '_';
      for (const char* c = i.param; *c != '\0'; ++c) name += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
      return name;
    });

TEST(Filter, BadExpressionNamesItAndGivesLibpcapsReason) {
  for (const std::string expr : {"xyz", "tcp port", "ether proto 0x88e5 and and esp", "udp port 99999"}) {
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
    bpf_program code{};
    ASSERT_NE(pcap_compile(dead, &code, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN), 0) << expr;
    const std::string reason = pcap_geterr(dead);
    pcap_close(dead);
    ASSERT_FALSE(reason.empty());
    try {
      PortFilter f(expr);
      ADD_FAILURE() << "'" << expr << "' was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), "filter '" + expr + "': " + reason);
    }
  }
}

TEST(Filter, EmptyExpressionPassesEverything) {
  const Capture& c = capture();
  PortFilter f("");
  const std::vector<bool> got = run_filter(f, c.frames, kBurst);
  EXPECT_EQ(count_true(got), c.frames.size());
  EXPECT_EQ(f.filtered(), 0u);
}

TEST(Filter, AnyBurstSize) {
  // Bursts of 1, of the chunk size and around it, and one larger than any RX burst.
  const Capture& c = capture();
  const std::vector<bool> oracle = libpcap_verdicts(c.frames, "esp or arp");
  for (unsigned burst : {1u, 63u, 64u, 65u, 512u, 1000u}) {
    PortFilter f("esp or arp");
    EXPECT_TRUE(run_filter(f, c.frames, burst) == oracle) << "burst " << burst;
    EXPECT_EQ(f.passed() + f.filtered(), c.frames.size());
  }
  PortFilter f("esp");
  EXPECT_EQ(f.apply(nullptr, 0), 0u);
  EXPECT_EQ(f.passed() + f.filtered(), 0u);
  EXPECT_EQ(rte_mempool_in_use_count(EalEnvironment::pool), 0u) << "mbufs leaked";
}

}  // namespace
}  // namespace netscope::itest
