// Ethernet, VLAN and MPLS single-layer decoders, and their use by decode_frame.
#include <gtest/gtest.h>

#include "frame_builder.hpp"
#include "netscope/decode/packet.hpp"

namespace netscope::decode {
namespace {

using namespace test_frames;  // NOLINT(google-build-using-namespace)

TEST(DecodeEthernet, ParsesMacsAndEthertype) {
  const Buf b = ethernet(ethertype::kIpv4);
  EthernetHeader h;
  const LayerResult r = decode_ethernet(span(b), h);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.length, 14);
  EXPECT_EQ(h.dst, (MacAddr{0x02, 0, 0, 0, 0, 0x02}));
  EXPECT_EQ(h.src, (MacAddr{0x02, 0, 0, 0, 0, 0x01}));
  EXPECT_EQ(h.ethertype, ethertype::kIpv4);
}

TEST(DecodeEthernet, ShortIsTruncated) {
  const Buf b = ethernet(ethertype::kIpv4);
  EthernetHeader h;
  for (std::size_t n = 0; n < b.size(); ++n) {
    EXPECT_EQ(decode_ethernet(span(b).first(n), h).error, Malformed::truncated_ethernet) << n;
  }
}

TEST(DecodeVlan, ParsesTci) {
  const Buf b = vlan_tag(0xABC, ethertype::kIpv6, 5, true);
  VlanTag t;
  std::uint16_t next = 0;
  const LayerResult r = decode_vlan(span(b), ethertype::kQinQ, t, next);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.length, 4);
  EXPECT_EQ(t.tpid, ethertype::kQinQ);
  EXPECT_EQ(t.pcp, 5);
  EXPECT_TRUE(t.dei);
  EXPECT_EQ(t.vid, 0xABC);
  EXPECT_EQ(next, ethertype::kIpv6);
  for (std::size_t n = 0; n < b.size(); ++n) {
    EXPECT_EQ(decode_vlan(span(b).first(n), ethertype::kVlan, t, next).error,
              Malformed::truncated_vlan);
  }
}

TEST(DecodeMpls, ParsesEntry) {
  const Buf b = mpls_entry(0xFEDCB, true, 5, 200);
  MplsEntry e;
  const LayerResult r = decode_mpls(span(b), e);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.length, 4);
  EXPECT_EQ(e.label, 0xFEDCBu);
  EXPECT_EQ(e.tc, 5);
  EXPECT_TRUE(e.bottom);
  EXPECT_EQ(e.ttl, 200);
  EXPECT_EQ(decode_mpls(span(b).first(3), e).error, Malformed::truncated_mpls);
}

TEST(DecodeFrameL2, QinQCarryingIpv4Udp) {
  const Buf udp_part = cat({udp(1234, 53, 4), payload(4)});
  const Buf f = cat({ethernet(ethertype::kQinQ), vlan_tag(100, ethertype::kVlan, 3),
                     vlan_tag(200, ethertype::kIpv4, 1, true), ipv4(ipproto::kUdp, udp_part.size()),
                     udp_part});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerVlan | kLayerIpv4 | kLayerUdp);
  ASSERT_EQ(p.vlan_count, 2);
  EXPECT_EQ(p.vlans[0].tpid, ethertype::kQinQ);
  EXPECT_EQ(p.vlans[0].vid, 100);
  EXPECT_EQ(p.vlans[0].pcp, 3);
  EXPECT_EQ(p.vlans[1].tpid, ethertype::kVlan);
  EXPECT_EQ(p.vlans[1].vid, 200);
  EXPECT_TRUE(p.vlans[1].dei);
  EXPECT_EQ(p.eth.ethertype, ethertype::kQinQ);
  EXPECT_EQ(p.ethertype, ethertype::kIpv4);
  EXPECT_EQ(p.l2_len, 22);
  EXPECT_EQ(p.l3_offset, 22);
  EXPECT_EQ(p.l4_offset, 42);
  EXPECT_EQ(p.payload_offset, 50);
  EXPECT_EQ(p.payload_len, 4);
  EXPECT_EQ(p.udp.dst_port, 53);
}

TEST(DecodeFrameL2, OldQinQTpidAccepted) {
  const Buf f = cat({ethernet(ethertype::kQinQOld), vlan_tag(7, ethertype::kArp), payload(28)});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerVlan | kLayerArp);
  EXPECT_EQ(p.vlans[0].tpid, ethertype::kQinQOld);
  EXPECT_EQ(p.ethertype, ethertype::kArp);
  EXPECT_EQ(p.l3_offset, 18);
  EXPECT_EQ(p.payload_offset, 18);
  EXPECT_EQ(p.payload_len, 28);
}

TEST(DecodeFrameL2, VlanDepthLimit) {
  Buf f = ethernet(ethertype::kVlan);
  for (std::size_t i = 0; i < kMaxVlanTags; ++i) {
    f = cat({f, vlan_tag(static_cast<std::uint16_t>(i + 1),
                         i + 1 < kMaxVlanTags ? ethertype::kVlan : ethertype::kArp)});
  }
  f = cat({f, payload(28)});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.vlan_count, kMaxVlanTags);

  Buf deep = ethernet(ethertype::kVlan);
  for (std::size_t i = 0; i <= kMaxVlanTags; ++i) deep = cat({deep, vlan_tag(1, ethertype::kVlan)});
  decode_frame(span(deep), p);
  EXPECT_EQ(p.malformed, Malformed::vlan_depth_exceeded);
  EXPECT_EQ(p.vlan_count, kMaxVlanTags);
  EXPECT_TRUE(p.has(kLayerVlan));
}

TEST(DecodeFrameL2, MplsTwoLabelsThenIpv6Tcp) {
  const Buf t = tcp(40000, 443, 1, 2, tcpflag::kAck);
  const Buf f =
      cat({ethernet(ethertype::kMplsUnicast), mpls_entry(16, false, 1, 255),
           mpls_entry(17, true, 2, 254), ipv6(ipproto::kTcp, t.size() + 3), t, payload(3)});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerMpls | kLayerIpv6 | kLayerTcp);
  ASSERT_EQ(p.mpls_count, 2);
  EXPECT_EQ(p.mpls[0].label, 16u);
  EXPECT_FALSE(p.mpls[0].bottom);
  EXPECT_EQ(p.mpls[1].label, 17u);
  EXPECT_TRUE(p.mpls[1].bottom);
  EXPECT_EQ(p.mpls[1].ttl, 254);
  EXPECT_EQ(p.ethertype, ethertype::kMplsUnicast);
  EXPECT_EQ(p.ip_version, 6);
  EXPECT_EQ(p.l2_len, 22);
  EXPECT_EQ(p.l3_offset, 22);
  EXPECT_EQ(p.l4_offset, 62);
  EXPECT_EQ(p.l4_protocol, ipproto::kTcp);
  EXPECT_EQ(p.payload_offset, 82);
  EXPECT_EQ(p.payload_len, 3);
}

TEST(DecodeFrameL2, MplsMulticastIpv4) {
  const Buf i = icmp(8, 0, 0x00010002);
  const Buf f = cat({ethernet(ethertype::kMplsMulticast), mpls_entry(100, true),
                     ipv4(ipproto::kIcmp, i.size()), i});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerMpls | kLayerIpv4 | kLayerIcmp);
  EXPECT_EQ(p.icmp.type, 8);
}

TEST(DecodeFrameL2, MplsPayloadNibble) {
  const Buf f = cat({ethernet(ethertype::kMplsUnicast), mpls_entry(16, true), payload(20, 0)});
  DecodedPacket p;
  decode_frame(span(f), p);  // first nibble 0: a pseudowire control word, not IP
  EXPECT_EQ(p.malformed, Malformed::bad_mpls_payload);
  EXPECT_EQ(p.payload_offset, 18);
  EXPECT_EQ(p.mpls_count, 1);
}

TEST(DecodeFrameL2, MplsDepthLimit) {
  Buf f = ethernet(ethertype::kMplsUnicast);
  for (std::size_t i = 0; i < kMaxMplsLabels; ++i) f = cat({f, mpls_entry(20, false)});
  f = cat({f, mpls_entry(21, true), ipv4(ipproto::kUdp, 0)});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::mpls_depth_exceeded);
  EXPECT_EQ(p.mpls_count, kMaxMplsLabels);

  Buf ok = ethernet(ethertype::kMplsUnicast);
  for (std::size_t i = 0; i + 1 < kMaxMplsLabels; ++i) ok = cat({ok, mpls_entry(20, false)});
  const Buf u = udp(1, 2, 0);
  ok = cat({ok, mpls_entry(21, true), ipv4(ipproto::kUdp, u.size()), u});
  decode_frame(span(ok), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.mpls_count, kMaxMplsLabels);
}

TEST(DecodeFrameL2, UnknownEthertypeIsPayload) {
  const Buf f = cat({ethernet(0x88CC), payload(30)});  // LLDP
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet);
  EXPECT_EQ(p.ethertype, 0x88CC);
  EXPECT_EQ(p.l2_len, 14);
  EXPECT_EQ(p.l3_offset, 0);
  EXPECT_EQ(p.payload_offset, 14);
  EXPECT_EQ(p.payload_len, 30);
  EXPECT_EQ(p.wire_len, f.size());
}

TEST(DecodeFrameL2, OversizedFrameDecodesFirst64KiB) {
  // Offsets are 16 bits: bytes past 65535 are not decoded, wire_len still counts them.
  const Buf u = udp(1, 2, 65535 - 28);
  Buf f = cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kUdp, 65535 - 20), u});
  f.resize(70000, 0xEE);
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.wire_len, 70000u);
  EXPECT_EQ(p.payload_offset, 42);
  EXPECT_EQ(p.payload_len, 65535 - 42);
}

TEST(DecodeFrameL2, ReusedPacketIsReset) {
  const Buf t = tcp(1, 2, 3, 4, tcpflag::kSyn);
  const Buf full = cat({ethernet(ethertype::kVlan), vlan_tag(5, ethertype::kIpv4),
                        ipv4(ipproto::kTcp, t.size()), t});
  const Buf arp = cat({ethernet(ethertype::kArp), payload(28)});
  DecodedPacket p;
  decode_frame(span(full), p);
  ASSERT_TRUE(p.has(kLayerTcp));
  decode_frame(span(arp), p);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerArp);
  EXPECT_EQ(p.vlan_count, 0);
  EXPECT_EQ(p.ip_version, 0);
  EXPECT_EQ(p.l4_protocol, 0);
  EXPECT_EQ(p.l4_offset, 0);
}

}  // namespace
}  // namespace netscope::decode
