// ESP and AH decoders, NAT-T, and AH continuing into the protected payload.
#include <gtest/gtest.h>

#include "frame_builder.hpp"
#include "netscope/decode/packet.hpp"

namespace netscope::decode {
namespace {

using namespace test_frames;  // NOLINT(google-build-using-namespace)

TEST(DecodeEsp, Header) {
  const Buf b = cat({esp(0x01020304, 0xFFFFFFFE), payload(16)});
  EspHeader h;
  const LayerResult r = decode_esp(span(b), h);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.length, 8);
  EXPECT_EQ(h.spi, 0x01020304u);
  EXPECT_EQ(h.seq, 0xFFFFFFFEu);
  for (std::size_t n = 0; n < 8; ++n)
    EXPECT_EQ(decode_esp(span(b).first(n), h).error, Malformed::truncated_esp);
}

TEST(DecodeAh, Header) {
  const Buf b = ah(ipproto::kTcp, 0xAABBCCDD, 17, 12);
  AhHeader h;
  const LayerResult r = decode_ah(span(b), false, h);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.length, 24);
  EXPECT_EQ(h.next_header, ipproto::kTcp);
  EXPECT_EQ(h.payload_len, 4);
  EXPECT_EQ(h.header_len, 24);
  EXPECT_EQ(h.spi, 0xAABBCCDDu);
  EXPECT_EQ(h.seq, 17u);
  EXPECT_EQ(h.icv_offset, 12);
  EXPECT_EQ(h.icv_len, 12);
  EXPECT_TRUE(decode_ah(span(b), true, h).ok());  // 24 is a multiple of 8 too
}

TEST(DecodeAh, LengthRules) {
  AhHeader h;
  const Buf ipv4_only = ah(ipproto::kTcp, 1, 1, 16);  // 28 bytes: fine for IPv4 only
  EXPECT_TRUE(decode_ah(span(ipv4_only), false, h).ok());
  EXPECT_EQ(decode_ah(span(ipv4_only), true, h).error, Malformed::bad_ah_length);
  Buf zero = ah(ipproto::kTcp, 1, 1, 0);  // 12 bytes, no ICV: minimum
  EXPECT_TRUE(decode_ah(span(zero), false, h).ok());
  zero[1] = 0;  // (0 + 2) * 4 = 8 < 12
  EXPECT_EQ(decode_ah(span(zero), false, h).error, Malformed::bad_ah_length);
  const Buf b = ah(ipproto::kTcp, 1, 1, 12);
  for (std::size_t n = 0; n < b.size(); ++n) {
    EXPECT_EQ(decode_ah(span(b).first(n), false, h).error, Malformed::truncated_ah) << n;
  }
}

TEST(DecodeFrameIpsec, EspOverIpv4) {
  const Buf e = cat({esp(0x1000, 5), payload(40)});
  const Buf f = cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kEsp, e.size()), e});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv4 | kLayerEsp);
  EXPECT_EQ(p.l4_protocol, ipproto::kEsp);
  EXPECT_EQ(p.l4_offset, 34);
  EXPECT_EQ(p.esp.spi, 0x1000u);
  EXPECT_EQ(p.esp.seq, 5u);
  EXPECT_EQ(p.payload_offset, 42);
  EXPECT_EQ(p.payload_len, 40);
}

TEST(DecodeFrameIpsec, EspOverIpv6AfterDestOpts) {
  const Buf e = cat({esp(0x2000, 6), payload(24)});
  const Buf f = cat({ethernet(ethertype::kIpv6), ipv6(ipproto::kDestOpts, 8 + e.size()),
                     ipv6_ext(ipproto::kEsp, 0), e});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv6 | kLayerEsp);
  EXPECT_EQ(p.ipv6.upper_protocol, ipproto::kEsp);
  EXPECT_EQ(p.l4_protocol, ipproto::kEsp);
  EXPECT_EQ(p.l4_offset, 62);
  EXPECT_EQ(p.esp.spi, 0x2000u);
  EXPECT_EQ(p.payload_len, 24);
}

TEST(DecodeFrameIpsec, EspInUdp4500EitherPort) {
  for (const auto& [sport, dport] :
       {std::pair<std::uint16_t, std::uint16_t>{4500, 4500}, {4500, 50000}, {50000, 4500}}) {
    const Buf e = cat({esp(0x3000, 7), payload(32)});
    const Buf f = cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kUdp, 8 + e.size()),
                       udp(sport, dport, e.size()), e});
    DecodedPacket p;
    decode_frame(span(f), p);
    EXPECT_EQ(p.malformed, Malformed::none);
    EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv4 | kLayerUdp | kLayerEsp | kLayerNatT);
    EXPECT_EQ(p.l4_protocol, ipproto::kUdp);
    EXPECT_EQ(p.esp.spi, 0x3000u);
    EXPECT_EQ(p.esp.seq, 7u);
    EXPECT_EQ(p.payload_offset, 50);
    EXPECT_EQ(p.payload_len, 32);
  }
}

TEST(DecodeFrameIpsec, EspInUdp4500OverIpv6) {
  const Buf e = cat({esp(0x3001, 8), payload(16)});
  const Buf f = cat({ethernet(ethertype::kIpv6), ipv6(ipproto::kUdp, 8 + e.size()),
                     udp(4500, 4500, e.size()), e});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv6 | kLayerUdp | kLayerEsp | kLayerNatT);
}

TEST(DecodeFrameIpsec, IkeMarkerAndKeepalive) {
  const Buf ike = cat({Buf(4, 0), payload(28)});
  const Buf f = cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kUdp, 8 + ike.size()),
                     udp(4500, 4500, ike.size()), ike});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv4 | kLayerUdp | kLayerIkeNatT);
  EXPECT_EQ(p.payload_offset, 46);  // after the non-ESP marker: the IKE header
  EXPECT_EQ(p.payload_len, 28);

  const Buf ka =
      cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kUdp, 9), udp(4500, 4500, 1), Buf{0xFF}});
  decode_frame(span(ka), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv4 | kLayerUdp);
  EXPECT_EQ(p.payload_len, 1);

  const Buf short_esp = cat(
      {ethernet(ethertype::kIpv4), ipv4(ipproto::kUdp, 12), udp(4500, 4500, 4), Buf{0, 0, 0, 1}});
  decode_frame(span(short_esp), p);
  EXPECT_EQ(p.malformed, Malformed::truncated_esp);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv4 | kLayerUdp);
  EXPECT_EQ(p.payload_offset, 42);
}

TEST(DecodeFrameIpsec, AhOverIpv4IntoTcp) {
  const Buf t = cat({tcp(22, 50022, 100, 200, tcpflag::kAck | tcpflag::kPsh), payload(10)});
  const Buf a = ah(ipproto::kTcp, 0x4000, 99, 12);
  const Buf f = cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kAh, a.size() + t.size()), a, t});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv4 | kLayerAh | kLayerTcp);
  EXPECT_EQ(p.l4_protocol, ipproto::kAh);
  EXPECT_EQ(p.l4_offset, 34);
  EXPECT_EQ(p.ah.spi, 0x4000u);
  EXPECT_EQ(p.ah.seq, 99u);
  EXPECT_EQ(p.tcp.src_port, 22);
  EXPECT_EQ(p.payload_offset, 34 + 24 + 20);
  EXPECT_EQ(p.payload_len, 10);
}

TEST(DecodeFrameIpsec, AhOverIpv6IntoTcp) {
  const Buf t = tcp(179, 40000, 1, 1, tcpflag::kAck, Buf{8, 10, 0, 0, 0, 1, 0, 0, 0, 2});
  const Buf a = ah(ipproto::kTcp, 0x4001, 3, 20);  // 32 bytes: a multiple of 8
  const Buf f = cat({ethernet(ethertype::kIpv6), ipv6(ipproto::kHopByHop, 8 + a.size() + t.size()),
                     ipv6_ext(ipproto::kAh, 0), a, t});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv6 | kLayerAh | kLayerTcp);
  EXPECT_EQ(p.ipv6.upper_protocol, ipproto::kAh);
  EXPECT_EQ(p.l4_protocol, ipproto::kAh);
  EXPECT_EQ(p.l4_offset, 62);
  EXPECT_EQ(p.ah.icv_len, 20);
  EXPECT_TRUE(p.tcp.options.has_timestamps);
  EXPECT_EQ(p.payload_offset, 62 + 32 + 32);
  EXPECT_EQ(p.payload_len, 0);
}

TEST(DecodeFrameIpsec, AhIntoUdpIcmpEspAndTunnel) {
  DecodedPacket p;
  const Buf u = udp(1, 2, 0);
  Buf a = ah(ipproto::kUdp, 1, 1);
  Buf f = cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kAh, a.size() + u.size()), a, u});
  decode_frame(span(f), p);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv4 | kLayerAh | kLayerUdp);

  const Buf i = icmp(0, 0, 1);
  a = ah(ipproto::kIcmp, 1, 2);
  f = cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kAh, a.size() + i.size()), a, i});
  decode_frame(span(f), p);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv4 | kLayerAh | kLayerIcmp);

  const Buf e = cat({esp(5, 6), payload(8)});
  a = ah(ipproto::kEsp, 1, 3);
  f = cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kAh, a.size() + e.size()), a, e});
  decode_frame(span(f), p);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv4 | kLayerAh | kLayerEsp);
  EXPECT_EQ(p.l4_protocol, ipproto::kAh);
  EXPECT_EQ(p.esp.spi, 5u);

  for (std::uint8_t inner_proto : {ipproto::kIpip, ipproto::kIpv6}) {
    const Buf inner =
        inner_proto == ipproto::kIpip ? ipv4(ipproto::kTcp, 0) : ipv6(ipproto::kTcp, 0);
    a = ah(inner_proto, 1, 4, 20);
    f = cat({ethernet(ethertype::kIpv6), ipv6(ipproto::kAh, a.size() + inner.size()), a, inner});
    decode_frame(span(f), p);
    EXPECT_EQ(p.malformed, Malformed::none);
    EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv6 | kLayerAh | kLayerInnerIp);
    EXPECT_EQ(p.payload_offset, 54 + 32);
    EXPECT_EQ(p.payload_len, inner.size());
  }
}

TEST(DecodeFrameIpsec, AhErrorsThroughFrame) {
  DecodedPacket p;
  const Buf a = ah(ipproto::kTcp, 1, 1, 16);  // 28 bytes: bad under IPv6
  const Buf f = cat({ethernet(ethertype::kIpv6), ipv6(ipproto::kAh, a.size()), a});
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::bad_ah_length);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv6);
  EXPECT_EQ(p.l4_protocol, ipproto::kAh);
  EXPECT_EQ(p.payload_offset, 54);

  const Buf a4 = ah(ipproto::kTcp, 1, 1, 12);
  const Buf g = cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kAh, a4.size()), a4});
  decode_frame(span(g), p);
  EXPECT_EQ(p.malformed, Malformed::truncated_tcp);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv4 | kLayerAh);
}

}  // namespace
}  // namespace netscope::decode
