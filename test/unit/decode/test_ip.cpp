// IPv4 and IPv6 decoders, and IP handling in decode_frame (fragments, padding, snaplen).
#include <gtest/gtest.h>

#include "frame_builder.hpp"
#include "netscope/decode/packet.hpp"

namespace netscope::decode {
namespace {

using namespace test_frames;  // NOLINT(google-build-using-namespace)

Buf router_alert_option() { return Buf{0x94, 0x04, 0x00, 0x00}; }

TEST(DecodeIpv4, Basic) {
  const Buf b = cat(
      {ipv4(ipproto::kUdp, 8, {.options = {}, .frag = 0x4000, .id = 77, .ttl = 9}), udp(1, 2, 0)});
  Ipv4Header h;
  const LayerResult r = decode_ipv4(span(b), h);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.length, 20);
  EXPECT_EQ(h.ihl, 20);
  EXPECT_EQ(h.total_length, 28);
  EXPECT_EQ(h.id, 77);
  EXPECT_TRUE(h.dont_fragment);
  EXPECT_FALSE(h.more_fragments);
  EXPECT_EQ(h.fragment_offset, 0);
  EXPECT_EQ(h.ttl, 9);
  EXPECT_EQ(h.protocol, ipproto::kUdp);
  EXPECT_EQ(h.options_len, 0);
  EXPECT_EQ(h.src.version, 4);
  EXPECT_EQ(h.src.bytes[0], 192);
  EXPECT_EQ(h.src.bytes[3], 1);
  EXPECT_EQ(h.src.bytes[4], 0);
  EXPECT_EQ(h.dst.bytes[0], 198);
}

TEST(DecodeIpv4, OptionsAreWalked) {
  Buf opts = router_alert_option();
  opts.insert(opts.end(), {0x01, 0x07, 0x07, 0x04, 0x00, 0x00, 0x00, 0x00});  // NOP + RR(7)
  opts.insert(opts.end(), {0x00, 0x00, 0x00, 0x00});                          // EOL and padding
  const Buf b = ipv4(ipproto::kTcp, 0, {.options = opts});
  Ipv4Header h;
  const LayerResult r = decode_ipv4(span(b), h);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.length, 36);
  EXPECT_EQ(h.options_len, 16);
}

TEST(DecodeIpv4, Errors) {
  Ipv4Header h;
  Buf b = ipv4(ipproto::kUdp, 0);
  b[0] = 0x65;
  EXPECT_EQ(decode_ipv4(span(b), h).error, Malformed::bad_ipv4_version);
  b = ipv4(ipproto::kUdp, 0);
  b[0] = 0x44;
  fix_ipv4_checksum(b, 0);
  EXPECT_EQ(decode_ipv4(span(b), h).error, Malformed::bad_ipv4_header_length);
  b = ipv4(ipproto::kUdp, 0);
  b[0] = 0x46;  // claims 24 bytes, only 20 present
  EXPECT_EQ(decode_ipv4(span(b), h).error, Malformed::truncated_ipv4);
  b = ipv4(ipproto::kUdp, 0);
  wr16(b, 2, 19);
  fix_ipv4_checksum(b, 0);
  EXPECT_EQ(decode_ipv4(span(b), h).error, Malformed::bad_ipv4_total_length);
  b = ipv4(ipproto::kUdp, 0);
  b[11] ^= 1;
  EXPECT_EQ(decode_ipv4(span(b), h).error, Malformed::bad_ipv4_checksum);
  b = ipv4(ipproto::kUdp, 0, {.options = Buf{0x94, 0x05, 0x00, 0x00}});  // runs past IHL
  EXPECT_EQ(decode_ipv4(span(b), h).error, Malformed::bad_ipv4_options);
  b = ipv4(ipproto::kUdp, 0, {.options = Buf{0x01, 0x01, 0x01, 0x94}});  // no length octet
  EXPECT_EQ(decode_ipv4(span(b), h).error, Malformed::bad_ipv4_options);
  b = ipv4(ipproto::kUdp, 0, {.options = Buf{0x94, 0x01, 0x00, 0x00}});  // length < 2
  EXPECT_EQ(decode_ipv4(span(b), h).error, Malformed::bad_ipv4_options);
  for (std::size_t n = 0; n < 20; ++n) {
    EXPECT_EQ(decode_ipv4(span(b).first(n), h).error, Malformed::truncated_ipv4);
  }
}

TEST(DecodeFrameIpv4, PaddingExcludedAndSnaplenClamped) {
  const Buf u = udp(1, 2, 2);
  const Buf f = cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kUdp, 10), u, Buf{0xAA, 0xBB},
                     Buf(16, 0)});  // 16 bytes of Ethernet padding
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.payload_offset, 42);
  EXPECT_EQ(p.payload_len, 2);

  const Buf big_payload = payload(100);
  const Buf big =
      cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kUdp, 108), udp(1, 2, 100), big_payload});
  decode_frame(span(big).first(60), p);  // captured with a 60-byte snaplen
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.wire_len, 60u);
  EXPECT_EQ(p.payload_offset, 42);
  EXPECT_EQ(p.payload_len, 18);
}

TEST(DecodeFrameIpv4, Fragments) {
  const Buf t = tcp(1, 2, 3, 4, tcpflag::kAck);
  DecodedPacket p;
  // First fragment: MF set, offset 0, L4 decoded.
  const Buf first =
      cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kTcp, t.size(), {.frag = 0x2000}), t});
  decode_frame(span(first), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv4 | kLayerIpFragment | kLayerTcp);
  EXPECT_TRUE(p.ipv4.more_fragments);
  // Later fragment: offset 185*8, no L4 even though the bytes look like TCP.
  const Buf later =
      cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kTcp, t.size(), {.frag = 185}), t});
  decode_frame(span(later), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv4 | kLayerIpFragment);
  EXPECT_EQ(p.ipv4.fragment_offset, 1480);
  EXPECT_FALSE(p.ipv4.more_fragments);
  EXPECT_EQ(p.l4_protocol, ipproto::kTcp);
  EXPECT_EQ(p.l4_offset, 34);
  EXPECT_EQ(p.payload_offset, 34);
  EXPECT_EQ(p.payload_len, t.size());
  // A later fragment too short for any L4 header is fine.
  const Buf tiny =
      cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kTcp, 3, {.frag = 0x2001}), payload(3)});
  decode_frame(span(tiny), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.payload_len, 3);
}

TEST(DecodeFrameIpv4, IpInIpSetsInnerIp) {
  const Buf inner = ipv4(ipproto::kUdp, 0);
  const Buf f = cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kIpip, inner.size()), inner});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv4 | kLayerInnerIp);
  EXPECT_EQ(p.payload_offset, 34);
}

TEST(DecodeIpv6, Basic) {
  const Buf b = cat({ipv6(ipproto::kUdp, 8), udp(1, 2, 0)});
  Ipv6Header h;
  const LayerResult r = decode_ipv6(span(b), h);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.length, 40);
  EXPECT_EQ(h.traffic_class, 0x01);
  EXPECT_EQ(h.flow_label, 0x2345Fu);
  EXPECT_EQ(h.payload_length, 8);
  EXPECT_EQ(h.next_header, ipproto::kUdp);
  EXPECT_EQ(h.upper_protocol, ipproto::kUdp);
  EXPECT_EQ(h.hop_limit, 64);
  EXPECT_EQ(h.ext_count, 0);
  EXPECT_FALSE(h.fragment);
  EXPECT_EQ(h.header_chain_len, 40);
  EXPECT_EQ(h.src.version, 6);
  EXPECT_EQ(h.src.bytes[0], 0x20);
  EXPECT_EQ(h.src.bytes[15], 1);
  EXPECT_EQ(h.dst.bytes[15], 2);
}

TEST(DecodeIpv6, ExtensionChain) {
  const Buf chain =
      cat({ipv6_ext(ipproto::kRouting, 0), ipv6_ext(ipproto::kFragment, 1),
           ipv6_fragment(ipproto::kDestOpts, 0, true, 0xCAFE), ipv6_ext(ipproto::kTcp, 0)});
  const Buf b =
      cat({ipv6(ipproto::kHopByHop, chain.size() + 20), chain, tcp(1, 2, 3, 4, tcpflag::kSyn)});
  Ipv6Header h;
  const LayerResult r = decode_ipv6(span(b), h);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.length, 40 + 8 + 16 + 8 + 8);
  EXPECT_EQ(h.header_chain_len, r.length);
  ASSERT_EQ(h.ext_count, 4);
  EXPECT_EQ(h.ext_types[0], ipproto::kHopByHop);
  EXPECT_EQ(h.ext_types[1], ipproto::kRouting);
  EXPECT_EQ(h.ext_types[2], ipproto::kFragment);
  EXPECT_EQ(h.ext_types[3], ipproto::kDestOpts);
  EXPECT_EQ(h.upper_protocol, ipproto::kTcp);
  EXPECT_TRUE(h.fragment);
  EXPECT_TRUE(h.more_fragments);
  EXPECT_EQ(h.fragment_offset, 0);
  EXPECT_EQ(h.fragment_id, 0xCAFEu);
}

TEST(DecodeIpv6, StopsAtEspAhNoNextAndLaterFragment) {
  Ipv6Header h;
  for (std::uint8_t stop : {ipproto::kEsp, ipproto::kAh, ipproto::kNoNext}) {
    const Buf b = cat({ipv6(ipproto::kDestOpts, 8 + 16), ipv6_ext(stop, 0), payload(16)});
    const LayerResult r = decode_ipv6(span(b), h);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.length, 48);
    EXPECT_EQ(h.upper_protocol, stop);
  }
  const Buf later =
      cat({ipv6(ipproto::kFragment, 8 + 16), ipv6_fragment(ipproto::kHopByHop, 1448, false, 1),
           payload(16, 0)});  // zero bytes would read as a hop-by-hop header
  const LayerResult r = decode_ipv6(span(later), h);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.length, 48);
  EXPECT_EQ(h.fragment_offset, 1448);
  EXPECT_EQ(h.upper_protocol, ipproto::kHopByHop);
}

TEST(DecodeIpv6, Errors) {
  Ipv6Header h;
  Buf b = ipv6(ipproto::kUdp, 0);
  b[0] = 0x40;
  EXPECT_EQ(decode_ipv6(span(b), h).error, Malformed::bad_ipv6_version);
  for (std::size_t n = 0; n < 40; ++n) {
    EXPECT_EQ(decode_ipv6(span(b).first(n), h).error, Malformed::truncated_ipv6);
  }
  // Extension header longer than the payload length says.
  b = cat({ipv6(ipproto::kDestOpts, 8), ipv6_ext(ipproto::kUdp, 1)});
  EXPECT_EQ(decode_ipv6(span(b), h).error, Malformed::bad_ipv6_payload_length);
  b = cat({ipv6(ipproto::kRouting, 0), ipv6_ext(ipproto::kUdp, 0)});
  EXPECT_EQ(decode_ipv6(span(b), h).error, Malformed::bad_ipv6_payload_length);
  // Capture ends inside the extension header.
  b = cat({ipv6(ipproto::kDestOpts, 16), ipv6_ext(ipproto::kUdp, 1)});
  EXPECT_EQ(decode_ipv6(span(b).first(41), h).error, Malformed::truncated_ipv6_ext);
  EXPECT_EQ(decode_ipv6(span(b).first(50), h).error, Malformed::truncated_ipv6_ext);
  // Too many extension headers.
  Buf chain;
  for (std::size_t i = 0; i <= kMaxIpv6ExtHeaders; ++i)
    chain = cat({chain, ipv6_ext(ipproto::kDestOpts, 0)});
  b = cat({ipv6(ipproto::kDestOpts, chain.size()), chain});
  EXPECT_EQ(decode_ipv6(span(b), h).error, Malformed::ipv6_ext_depth_exceeded);
  EXPECT_EQ(h.ext_count, kMaxIpv6ExtHeaders);
}

TEST(DecodeIpv6, JumbogramBoundedByCapture) {
  const Buf hbh = Buf{ipproto::kUdp, 0, 0xC2, 4, 0, 1, 0, 0};  // Jumbo Payload option
  const Buf b = cat({ipv6(ipproto::kHopByHop, 0), hbh, udp(1, 2, 0)});
  Ipv6Header h;
  const LayerResult r = decode_ipv6(span(b), h);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.length, 48);
  DecodedPacket p;
  const Buf f = cat({ethernet(ethertype::kIpv6), b});
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_TRUE(p.has(kLayerUdp));
}

TEST(DecodeFrameIpv6, HopByHopFragmentDestOptsUdp) {
  const Buf u = cat({udp(546, 547, 6), payload(6)});
  const Buf chain =
      cat({ipv6_ext(ipproto::kFragment, 0), ipv6_fragment(ipproto::kDestOpts, 0, true, 9),
           ipv6_ext(ipproto::kUdp, 0)});
  const Buf f = cat({ethernet(ethertype::kIpv6), ipv6(ipproto::kHopByHop, chain.size() + u.size()),
                     chain, u, Buf(4, 0)});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv6 | kLayerIpFragment | kLayerUdp);
  EXPECT_EQ(p.ipv6.ext_count, 3);
  EXPECT_EQ(p.l3_offset, 14);
  EXPECT_EQ(p.l4_offset, 14 + 40 + 24);
  EXPECT_EQ(p.l4_protocol, ipproto::kUdp);
  EXPECT_EQ(p.payload_offset, 14 + 40 + 24 + 8);
  EXPECT_EQ(p.payload_len, 6);  // padding after the IPv6 payload excluded
}

TEST(DecodeFrameIpv6, LaterFragmentHasNoL4) {
  const Buf f = cat({ethernet(ethertype::kIpv6), ipv6(ipproto::kFragment, 8 + 24),
                     ipv6_fragment(ipproto::kTcp, 8, false, 3), payload(24)});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv6 | kLayerIpFragment);
  EXPECT_EQ(p.l4_protocol, ipproto::kTcp);
  EXPECT_EQ(p.payload_offset, 62);
  EXPECT_EQ(p.payload_len, 24);
}

TEST(DecodeFrameIpv6, Icmpv6) {
  const Buf i = icmp(128, 0, 0x00010001);
  const Buf f =
      cat({ethernet(ethertype::kIpv6), ipv6(ipproto::kIcmpv6, i.size() + 4), i, payload(4)});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv6 | kLayerIcmpv6);
  EXPECT_EQ(p.icmp.type, 128);
  EXPECT_EQ(p.icmp.rest, 0x00010001u);
  EXPECT_EQ(p.payload_len, 4);
}

}  // namespace
}  // namespace netscope::decode
