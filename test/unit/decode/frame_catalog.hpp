// One valid frame of each kind, with the malformed reason expected when the capture is cut
// at any length: the truncation test walks every cut, the robustness test mutates them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "frame_builder.hpp"
#include "netscope/decode/packet.hpp"

namespace netscope::decode::test_frames {

/// Cuts shorter than `end` (and not matched by an earlier segment) fail with `why`.
struct Segment {
  std::size_t end;
  Malformed why;
};

struct CatalogFrame {
  std::string name;
  Buf bytes;
  std::uint32_t layers;        ///< layers of the whole frame
  std::vector<Segment> outer;  ///< evaluated on the cut length
  /// Integrity-only MACsec without SL: the last 16 captured bytes are taken as the ICV, so
  /// the inner headers see the cut length minus the ICV. `inner` uses offsets in the frame
  /// as built (ICV excluded) and is evaluated on cut - icv_shift.
  std::size_t icv_shift = 0;
  std::vector<Segment> inner;

  [[nodiscard]] Malformed expected(std::size_t cut) const {
    for (const Segment& s : outer) {
      if (cut < s.end) return s.why;
    }
    for (const Segment& s : inner) {
      if (cut - icv_shift < s.end) return s.why;
    }
    return Malformed::none;
  }
};

inline std::vector<CatalogFrame> frame_catalog() {
  using M = Malformed;
  std::vector<CatalogFrame> c;
  constexpr std::uint32_t kEth = kLayerEthernet;

  {
    const Buf u = cat({udp(1000, 53, 12), payload(12)});
    c.push_back({"ipv4_udp",
                 cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kUdp, u.size()), u}),
                 kEth | kLayerIpv4 | kLayerUdp,
                 {{14, M::truncated_ethernet}, {34, M::truncated_ipv4}, {42, M::truncated_udp}}});
  }
  {
    const Buf u = cat({udp(1000, 53, 4), payload(4)});
    c.push_back({"qinq_ipv4_udp",
                 cat({ethernet(ethertype::kQinQ), vlan_tag(10, ethertype::kVlan),
                      vlan_tag(20, ethertype::kIpv4), ipv4(ipproto::kUdp, u.size()), u}),
                 kEth | kLayerVlan | kLayerIpv4 | kLayerUdp,
                 {{14, M::truncated_ethernet},
                  {18, M::truncated_vlan},
                  {22, M::truncated_vlan},
                  {42, M::truncated_ipv4},
                  {50, M::truncated_udp}}});
  }
  {
    const Buf t = cat({tcp(40000, 443, 1, 2, tcpflag::kAck), payload(6)});
    c.push_back({"mpls2_ipv6_tcp",
                 cat({ethernet(ethertype::kMplsUnicast), mpls_entry(16, false),
                      mpls_entry(17, true), ipv6(ipproto::kTcp, t.size()), t}),
                 kEth | kLayerMpls | kLayerIpv6 | kLayerTcp,
                 {{14, M::truncated_ethernet},
                  {18, M::truncated_mpls},
                  {22, M::truncated_mpls},
                  {23, M::truncated_mpls},  // stack complete, no byte to tell the payload
                  {62, M::truncated_ipv6},
                  {82, M::truncated_tcp}}});
  }
  {
    const Buf u = cat({udp(1, 2, 8), payload(8)});
    const Buf chain =
        cat({ipv6_ext(ipproto::kFragment, 0), ipv6_fragment(ipproto::kDestOpts, 0, true, 77),
             ipv6_ext(ipproto::kUdp, 0)});
    c.push_back({"ipv6_hbh_frag_dstopts_udp",
                 cat({ethernet(ethertype::kIpv6), ipv6(ipproto::kHopByHop, chain.size() + u.size()),
                      chain, u}),
                 kEth | kLayerIpv6 | kLayerIpFragment | kLayerUdp,
                 {{14, M::truncated_ethernet},
                  {54, M::truncated_ipv6},
                  {62, M::truncated_ipv6_ext},
                  {70, M::truncated_ipv6_ext},
                  {78, M::truncated_ipv6_ext},
                  {86, M::truncated_udp}}});
  }
  {
    const Buf t = cat({tcp(40000, 80, 1000, 0, tcpflag::kSyn, all_tcp_options()), payload(3)});
    c.push_back({"ipv4opts_tcp_all_options",
                 cat({ethernet(ethertype::kIpv4),
                      ipv4(ipproto::kTcp, t.size(), {.options = Buf{0x94, 4, 0, 0}}), t}),
                 kEth | kLayerIpv4 | kLayerTcp,
                 {{14, M::truncated_ethernet},
                  {38, M::truncated_ipv4},
                  {58, M::truncated_tcp},
                  {98, M::bad_tcp_data_offset}}});
  }
  {
    const Buf i = cat({icmp(8, 0, 0x00070001), payload(16)});
    c.push_back({"ipv4_icmp",
                 cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kIcmp, i.size()), i}),
                 kEth | kLayerIpv4 | kLayerIcmp,
                 {{14, M::truncated_ethernet}, {34, M::truncated_ipv4}, {42, M::truncated_icmp}}});
  }
  {
    const Buf i = cat({icmp(135, 0, 0), payload(16)});
    c.push_back(
        {"ipv6_icmpv6",
         cat({ethernet(ethertype::kIpv6), ipv6(ipproto::kIcmpv6, i.size()), i}),
         kEth | kLayerIpv6 | kLayerIcmpv6,
         {{14, M::truncated_ethernet}, {54, M::truncated_ipv6}, {62, M::truncated_icmpv6}}});
  }
  c.push_back({"arp",
               cat({ethernet(ethertype::kArp), payload(28)}),
               kEth | kLayerArp,
               {{14, M::truncated_ethernet}}});
  {
    const Buf t = tcp(1, 2, 3, 4, 0);
    c.push_back(
        {"ipv4_later_fragment",
         cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kTcp, t.size(), {.frag = 0x0010}), t}),
         kEth | kLayerIpv4 | kLayerIpFragment,
         {{14, M::truncated_ethernet}, {34, M::truncated_ipv4}}});
  }
  c.push_back(
      {"macsec_sci_encrypted",
       cat({ethernet(ethertype::kMacsec), sectag(tci::kSc | tci::kE | tci::kC, 1, 0, 100),
            payload(64), icv()}),
       kEth | kLayerMacsec,
       {{14, M::truncated_ethernet}, {28, M::truncated_sectag}, {44, M::truncated_macsec_icv}}});
  c.push_back(
      {"macsec_encrypted",
       cat({ethernet(ethertype::kMacsec), sectag(tci::kEs | tci::kE | tci::kC, 0, 0, 101),
            payload(64), icv()}),
       kEth | kLayerMacsec,
       {{14, M::truncated_ethernet}, {20, M::truncated_sectag}, {36, M::truncated_macsec_icv}}});
  {
    const Buf u = cat({udp(5000, 6000, 24), payload(24)});
    const Buf inner = cat({Buf{0x08, 0x00}, ipv4(ipproto::kUdp, u.size()), u});
    c.push_back(
        {"macsec_integrity_ipv4_udp",
         cat({ethernet(ethertype::kMacsec), sectag(0, 0, 0, 102), inner, icv()}),
         kEth | kLayerMacsec | kLayerIpv4 | kLayerUdp,
         {{14, M::truncated_ethernet}, {20, M::truncated_sectag}, {36, M::truncated_macsec_icv}},
         16,
         {{22, M::truncated_ethernet}, {42, M::truncated_ipv4}, {50, M::truncated_udp}}});
    c.push_back(
        {"macsec_sci_integrity_ipv4_udp",
         cat({ethernet(ethertype::kMacsec), sectag(tci::kSc, 2, 0, 103), inner, icv()}),
         kEth | kLayerMacsec | kLayerIpv4 | kLayerUdp,
         {{14, M::truncated_ethernet}, {28, M::truncated_sectag}, {44, M::truncated_macsec_icv}},
         16,
         {{30, M::truncated_ethernet}, {50, M::truncated_ipv4}, {58, M::truncated_udp}}});
  }
  c.push_back(
      {"macsec_short_sl_arp",
       cat({ethernet(ethertype::kMacsec), sectag(0, 0, 30, 104), Buf{0x08, 0x06}, payload(28),
            icv(), Buf(8, 0)}),
       kEth | kLayerMacsec | kLayerArp,
       {{14, M::truncated_ethernet}, {20, M::truncated_sectag}, {66, M::truncated_macsec_icv}}});
  {
    const Buf e = cat({esp(0x1001, 1), payload(32)});
    c.push_back({"esp_ipv4",
                 cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kEsp, e.size()), e}),
                 kEth | kLayerIpv4 | kLayerEsp,
                 {{14, M::truncated_ethernet}, {34, M::truncated_ipv4}, {42, M::truncated_esp}}});
    c.push_back({"esp_ipv6",
                 cat({ethernet(ethertype::kIpv6), ipv6(ipproto::kEsp, e.size()), e}),
                 kEth | kLayerIpv6 | kLayerEsp,
                 {{14, M::truncated_ethernet}, {54, M::truncated_ipv6}, {62, M::truncated_esp}}});
    c.push_back({"esp_udp4500",
                 cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kUdp, 8 + e.size()),
                      udp(4500, 4500, e.size()), e}),
                 kEth | kLayerIpv4 | kLayerUdp | kLayerEsp | kLayerNatT,
                 {{14, M::truncated_ethernet},
                  {34, M::truncated_ipv4},
                  {42, M::truncated_udp},
                  {43, M::none},  // empty UDP payload: nothing to classify
                  {50, M::truncated_esp}}});
  }
  {
    const Buf ike = cat({Buf(4, 0), payload(28)});
    c.push_back({"ike_udp4500",
                 cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kUdp, 8 + ike.size()),
                      udp(500, 4500, ike.size()), ike}),
                 kEth | kLayerIpv4 | kLayerUdp | kLayerIkeNatT,
                 {{14, M::truncated_ethernet},
                  {34, M::truncated_ipv4},
                  {42, M::truncated_udp},
                  {43, M::none},
                  {46, M::truncated_esp}}});  // too short to see the whole zero marker
  }
  {
    const Buf t = cat({tcp(22, 50022, 100, 200, tcpflag::kAck), payload(10)});
    const Buf a = ah(ipproto::kTcp, 0x4000, 99, 12);
    c.push_back({"ah_ipv4_tcp",
                 cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kAh, a.size() + t.size()), a, t}),
                 kEth | kLayerIpv4 | kLayerAh | kLayerTcp,
                 {{14, M::truncated_ethernet},
                  {34, M::truncated_ipv4},
                  {58, M::truncated_ah},
                  {78, M::truncated_tcp}}});
  }
  {
    const Buf t =
        cat({tcp(179, 40000, 1, 1, tcpflag::kAck, Buf{8, 10, 0, 0, 0, 1, 0, 0, 0, 2}), payload(4)});
    const Buf a = ah(ipproto::kTcp, 0x4001, 3, 20);
    c.push_back({"ah_ipv6_tcp",
                 cat({ethernet(ethertype::kIpv6), ipv6(ipproto::kHopByHop, 8 + a.size() + t.size()),
                      ipv6_ext(ipproto::kAh, 0), a, t}),
                 kEth | kLayerIpv6 | kLayerAh | kLayerTcp,
                 {{14, M::truncated_ethernet},
                  {54, M::truncated_ipv6},
                  {62, M::truncated_ipv6_ext},
                  {94, M::truncated_ah},
                  {114, M::truncated_tcp},
                  {126, M::bad_tcp_data_offset}}});
  }
  return c;
}

}  // namespace netscope::decode::test_frames
