// Random and mutated input, every typed error reachable, reuse of a DecodedPacket, names.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>

#include "frame_catalog.hpp"

namespace netscope::decode {
namespace {

using namespace test_frames;  // NOLINT(google-build-using-namespace)

constexpr std::uint32_t kSeed = 20240611;

void check_invariants(const DecodedPacket& p, std::size_t len) {
  ASSERT_EQ(p.wire_len, len);
  ASSERT_LE(p.l2_len, len);
  ASSERT_LE(p.l3_offset, len);
  ASSERT_LE(p.l4_offset, len);
  ASSERT_LE(std::size_t{p.payload_offset} + p.payload_len, len);
  ASSERT_LT(static_cast<std::size_t>(p.malformed), kMalformedCount);
  ASSERT_LE(p.vlan_count, kMaxVlanTags);
  ASSERT_LE(p.mpls_count, kMaxMplsLabels);
  if (p.has(kLayerIpv6)) {
    ASSERT_LE(p.ipv6.ext_count, kMaxIpv6ExtHeaders);
  }
  if (p.has(kLayerMacsec)) {
    ASSERT_LE(std::size_t{p.sectag.secure_data_offset} + p.sectag.secure_data_len + kMacsecIcvLen,
              len);
  }
  if (p.malformed == Malformed::none) {
    ASSERT_TRUE(p.has(kLayerEthernet));
  }
}

/// Decodes a copy of exactly `len` bytes so that ASan sees any read past the end.
void decode_exact(const std::uint8_t* data, std::size_t len, DecodedPacket& p) {
  const Buf copy(data, data + len);
  decode_frame(span(copy), p);
  check_invariants(p, len);
}

TEST(Robustness, RandomBytes) {
  std::mt19937 rng(kSeed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 200);
  // Random bytes rarely get past Ethernet; half the frames get a plausible EtherType.
  const std::uint16_t types[] = {ethertype::kIpv4, ethertype::kIpv6,        ethertype::kVlan,
                                 ethertype::kQinQ, ethertype::kMplsUnicast, ethertype::kMacsec};
  auto p = std::make_unique<DecodedPacket>();
  std::size_t clean = 0;
  for (int i = 0; i < 100000; ++i) {
    Buf b(length(rng));
    for (auto& v : b) v = static_cast<std::uint8_t>(byte(rng));
    if (i % 2 == 0 && b.size() >= 15) {
      wr16(b, 12, types[static_cast<std::size_t>(i / 2) % std::size(types)]);
      if (i % 4 == 0 && (b[14] >> 4) != 6) b[14] = 0x45;  // IPv4 with IHL 5 after the tag/type
    }
    decode_exact(b.data(), b.size(), *p);
    if (p->malformed == Malformed::none) ++clean;
  }
  EXPECT_GT(clean, 0u);
}

TEST(Robustness, MutatedCatalogFrames) {
  const auto catalog = frame_catalog();
  std::mt19937 rng(kSeed + 1);
  auto p = std::make_unique<DecodedPacket>();
  std::set<Malformed> seen;
  for (int i = 0; i < 100000; ++i) {
    Buf b = catalog[static_cast<std::size_t>(i) % catalog.size()].bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k)
      b[rng() % b.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    std::size_t len = b.size();
    if (rng() % 4 == 0) len = rng() % (len + 1);
    decode_exact(b.data(), len, *p);
    seen.insert(p->malformed);
  }
  // Bit flips reach many distinct reasons; a regression that short-circuits decoding
  // would collapse this.
  EXPECT_GT(seen.size(), 15u);
}

TEST(Robustness, SingleLayerDecodersOnRandomBytes) {
  std::mt19937 rng(kSeed + 2);
  for (int i = 0; i < 50000; ++i) {
    Buf b(rng() % 80);
    for (auto& v : b) v = static_cast<std::uint8_t>(rng());
    const Bytes s = span(b);
    const auto check = [&](LayerResult r) {
      if (r.ok()) {
        ASSERT_LE(r.length, s.size());
        ASSERT_GT(r.length, 0);
      } else {
        ASSERT_EQ(r.length, 0);
      }
    };
    EthernetHeader eth;
    VlanTag tag;
    std::uint16_t next = 0;
    MplsEntry mpls;
    Sectag st;
    Ipv4Header v4;
    Ipv6Header v6;
    TcpHeader tcp_h;
    UdpHeader udp_h;
    IcmpHeader icmp_h;
    EspHeader esp_h;
    AhHeader ah_h;
    check(decode_ethernet(s, eth));
    check(decode_vlan(s, ethertype::kVlan, tag, next));
    check(decode_mpls(s, mpls));
    const LayerResult sr = decode_sectag(s, st);
    check(sr);
    if (sr.ok()) {
      ASSERT_LE(std::size_t{st.secure_data_offset} + st.secure_data_len + 16, s.size());
    }
    check(decode_ipv4(s, v4));
    check(decode_ipv6(s, v6));
    check(decode_tcp(s, tcp_h));
    check(decode_udp(s, udp_h));
    check(decode_icmp(s, icmp_h));
    check(decode_icmpv6(s, icmp_h));
    check(decode_esp(s, esp_h));
    check(decode_ah(s, false, ah_h));
    check(decode_ah(s, true, ah_h));
  }
}

/// One frame per typed reason, through decode_frame.
std::vector<std::pair<Malformed, Buf>> one_frame_per_reason() {
  using M = Malformed;
  std::vector<std::pair<Malformed, Buf>> v;
  const Buf eth4 = ethernet(ethertype::kIpv4);
  const Buf eth6 = ethernet(ethertype::kIpv6);
  const Buf ethm = ethernet(ethertype::kMacsec);
  const auto ip4 = [&](std::uint8_t proto, const Buf& l4) {
    return cat({eth4, ipv4(proto, l4.size()), l4});
  };
  const auto ip6 = [&](std::uint8_t proto, const Buf& l4) {
    return cat({eth6, ipv6(proto, l4.size()), l4});
  };

  v.emplace_back(M::truncated_ethernet, Buf(13, 0));
  v.emplace_back(M::truncated_vlan, cat({ethernet(ethertype::kVlan), Buf{0, 1, 8}}));
  {
    Buf f = ethernet(ethertype::kQinQ);
    for (std::size_t i = 0; i <= kMaxVlanTags; ++i) f = cat({f, vlan_tag(1, ethertype::kVlan)});
    v.emplace_back(M::vlan_depth_exceeded, f);
  }
  v.emplace_back(M::truncated_mpls,
                 cat({ethernet(ethertype::kMplsUnicast), mpls_entry(1, false), Buf{0}}));
  {
    Buf f = ethernet(ethertype::kMplsUnicast);
    for (std::size_t i = 0; i <= kMaxMplsLabels; ++i) f = cat({f, mpls_entry(1, false)});
    v.emplace_back(M::mpls_depth_exceeded, f);
  }
  v.emplace_back(M::bad_mpls_payload,
                 cat({ethernet(ethertype::kMplsUnicast), mpls_entry(1, true), Buf(8, 0x10)}));
  v.emplace_back(M::truncated_ipv4, cat({eth4, Buf(19, 0x45)}));
  {
    Buf f = ip4(ipproto::kUdp, udp(1, 2, 0));
    f[14] = 0x55;
    v.emplace_back(M::bad_ipv4_version, f);
    f = ip4(ipproto::kUdp, udp(1, 2, 0));
    f[14] = 0x43;
    fix_ipv4_checksum(f, 14);
    v.emplace_back(M::bad_ipv4_header_length, f);
    f = ip4(ipproto::kUdp, udp(1, 2, 0));
    wr16(f, 16, 0);
    fix_ipv4_checksum(f, 14);
    v.emplace_back(M::bad_ipv4_total_length, f);
    f = ip4(ipproto::kUdp, udp(1, 2, 0));
    f[22] ^= 0x01;  // TTL changed, checksum not
    v.emplace_back(M::bad_ipv4_checksum, f);
  }
  v.emplace_back(
      M::bad_ipv4_options,
      cat({eth4, ipv4(ipproto::kUdp, 8, {.options = Buf{0x07, 0x09, 0, 0}}), udp(1, 2, 0)}));
  v.emplace_back(M::truncated_ipv6, cat({eth6, Buf(39, 0x60)}));
  {
    Buf f = ip6(ipproto::kUdp, udp(1, 2, 0));
    f[14] = 0x40;
    v.emplace_back(M::bad_ipv6_version, f);
  }
  v.emplace_back(M::bad_ipv6_payload_length, cat({eth6, ipv6(ipproto::kDestOpts, 4),
                                                  ipv6_ext(ipproto::kUdp, 0), udp(1, 2, 0)}));
  v.emplace_back(M::truncated_ipv6_ext,
                 cat({eth6, ipv6(ipproto::kRouting, 64), Buf{ipproto::kUdp, 3, 0, 0, 0, 0, 0, 0}}));
  {
    Buf chain;
    for (std::size_t i = 0; i <= kMaxIpv6ExtHeaders; ++i)
      chain = cat({chain, ipv6_ext(ipproto::kDestOpts, 0)});
    v.emplace_back(M::ipv6_ext_depth_exceeded, ip6(ipproto::kDestOpts, chain));
  }
  v.emplace_back(M::truncated_tcp, ip4(ipproto::kTcp, Buf(19, 0)));
  {
    Buf t = tcp(1, 2, 3, 4, tcpflag::kAck);
    t[12] = 0x30;
    v.emplace_back(M::bad_tcp_data_offset, ip4(ipproto::kTcp, t));
  }
  v.emplace_back(M::bad_tcp_options,
                 ip6(ipproto::kTcp, tcp(1, 2, 3, 4, tcpflag::kSyn, Buf{2, 5, 0, 0})));
  v.emplace_back(M::truncated_udp, ip6(ipproto::kUdp, Buf(7, 0)));
  {
    Buf u = udp(1, 2, 0);
    wr16(u, 4, 4);
    v.emplace_back(M::bad_udp_length, ip4(ipproto::kUdp, u));
  }
  v.emplace_back(M::truncated_icmp, ip4(ipproto::kIcmp, Buf(7, 0)));
  v.emplace_back(M::truncated_icmpv6, ip6(ipproto::kIcmpv6, Buf(7, 0)));
  v.emplace_back(M::truncated_sectag, cat({ethm, Buf{0x20, 0, 0, 0, 0, 1, 2, 3}}));
  v.emplace_back(M::bad_sectag_version, cat({ethm, sectag(tci::kV, 0, 0, 1), payload(64), icv()}));
  v.emplace_back(
      M::bad_sectag_tci,
      cat({ethm, sectag(tci::kEs | tci::kSc | tci::kE | tci::kC, 0, 0, 1), payload(64), icv()}));
  v.emplace_back(M::bad_sectag_short_length, cat({ethm, sectag(0, 0, 50, 1), payload(50), icv()}));
  v.emplace_back(M::truncated_macsec_icv,
                 cat({ethm, sectag(0, 0, 20, 1), payload(20), Buf(15, 0)}));
  v.emplace_back(M::truncated_esp, ip6(ipproto::kEsp, Buf{0, 0, 1, 0, 0, 0, 0}));
  v.emplace_back(M::truncated_ah, ip4(ipproto::kAh, Buf(11, 0)));
  {
    const Buf a = ah(ipproto::kTcp, 1, 1, 8);  // 20 bytes: fine for IPv4, not for IPv6
    v.emplace_back(M::bad_ah_length, ip6(ipproto::kAh, cat({a, tcp(1, 2, 3, 4, 0)})));
  }
  return v;
}

TEST(Robustness, EveryTypedErrorIsReachable) {
  std::set<Malformed> covered;
  DecodedPacket p;
  for (const auto& [reason, frame] : one_frame_per_reason()) {
    decode_exact(frame.data(), frame.size(), p);
    EXPECT_EQ(p.malformed, reason)
        << "want " << to_string(reason) << ", got " << to_string(p.malformed);
    covered.insert(reason);
  }
  for (std::size_t i = 1; i < kMalformedCount; ++i) {
    EXPECT_TRUE(covered.count(static_cast<Malformed>(i))) << to_string(static_cast<Malformed>(i));
  }
}

/// The fields a consumer may read: the bookkeeping, and each header whose layer is set.
std::string summary(const DecodedPacket& p) {
  std::string s;
  const auto add = [&s](auto... v) { ((s += std::to_string(+v) + ","), ...); };
  add(p.layers, static_cast<int>(p.malformed), p.wire_len, p.vlan_count, p.mpls_count);
  add(p.ethertype, p.ip_version, p.l4_protocol, p.l2_len, p.l3_offset, p.l4_offset);
  add(p.payload_offset, p.payload_len);
  for (std::size_t i = 0; i < p.vlan_count; ++i) add(p.vlans[i].vid, p.vlans[i].tpid);
  for (std::size_t i = 0; i < p.mpls_count; ++i) add(p.mpls[i].label, p.mpls[i].bottom);
  if (p.has(kLayerMacsec)) {
    const Sectag& t = p.sectag;
    add(t.pn, t.sci, t.has_sci, t.an, t.secure_data_offset, t.secure_data_len, t.header_len);
  }
  if (p.has(kLayerIpv4)) add(p.ipv4.total_length, p.ipv4.fragment_offset, p.ipv4.src.bytes[3]);
  if (p.has(kLayerIpv6)) {
    add(p.ipv6.ext_count, p.ipv6.upper_protocol, p.ipv6.fragment, p.ipv6.header_chain_len);
  }
  if (p.has(kLayerAh)) add(p.ah.spi, p.ah.seq, p.ah.header_len);
  if (p.has(kLayerEsp)) add(p.esp.spi, p.esp.seq);
  if (p.has(kLayerTcp)) {
    const TcpOptions& o = p.tcp.options;
    add(p.tcp.seq, o.mss, o.window_scale, o.sack_blocks, o.has_timestamps);
  }
  if (p.has(kLayerUdp)) add(p.udp.src_port, p.udp.length);
  if (p.has(kLayerIcmp) || p.has(kLayerIcmpv6)) add(p.icmp.type);
  return s;
}

TEST(Robustness, ReusedPacketMatchesFreshOne) {
  const auto catalog = frame_catalog();
  std::mt19937 rng(kSeed + 3);
  auto reused = std::make_unique<DecodedPacket>();
  for (int i = 0; i < 20000; ++i) {
    Buf b = catalog[rng() % catalog.size()].bytes;
    if (i % 2) b[rng() % b.size()] ^= static_cast<std::uint8_t>(rng());
    const std::size_t len = i % 3 ? b.size() : rng() % (b.size() + 1);
    const Bytes s = span(b).first(len);
    auto fresh = std::make_unique<DecodedPacket>();
    decode_frame(s, *fresh);
    decode_frame(s, *reused);
    ASSERT_EQ(summary(*fresh), summary(*reused)) << i;
  }
}

TEST(MalformedNames, MatchTheEnum) {
  EXPECT_EQ(to_string(Malformed::none), "none");
  EXPECT_EQ(to_string(Malformed::truncated_sectag), "truncated_sectag");
  EXPECT_EQ(to_string(Malformed::bad_ah_length), "bad_ah_length");
  EXPECT_EQ(to_string(Malformed::count_), "unknown");
  EXPECT_EQ(to_string(static_cast<Malformed>(250)), "unknown");
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < kMalformedCount; ++i) {
    const std::string_view n = to_string(static_cast<Malformed>(i));
    EXPECT_FALSE(n.empty());
    EXPECT_EQ(n.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_"), std::string_view::npos)
        << n;
    names.insert(n);
  }
  EXPECT_EQ(names.size(), kMalformedCount);
}

}  // namespace
}  // namespace netscope::decode
