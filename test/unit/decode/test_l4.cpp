// TCP (with options), UDP, ICMP and ICMPv6 decoders.
#include <gtest/gtest.h>

#include "frame_builder.hpp"
#include "netscope/decode/packet.hpp"

namespace netscope::decode {
namespace {

using namespace test_frames;  // NOLINT(google-build-using-namespace)

TEST(DecodeTcp, FixedHeader) {
  const Buf b =
      tcp(443, 51000, 0x11223344, 0x55667788, tcpflag::kAck | tcpflag::kPsh | tcpflag::kCwr);
  TcpHeader h;
  const LayerResult r = decode_tcp(span(b), h);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.length, 20);
  EXPECT_EQ(h.src_port, 443);
  EXPECT_EQ(h.dst_port, 51000);
  EXPECT_EQ(h.seq, 0x11223344u);
  EXPECT_EQ(h.ack, 0x55667788u);
  EXPECT_EQ(h.data_offset, 20);
  EXPECT_EQ(h.flags, tcpflag::kAck | tcpflag::kPsh | tcpflag::kCwr);
  EXPECT_EQ(h.window, 65535);
  EXPECT_EQ(h.checksum, 0xBEEF);
  EXPECT_EQ(h.urgent, 0);
  EXPECT_EQ(h.options.mss, 0);
  EXPECT_EQ(h.options.window_scale, -1);
  EXPECT_FALSE(h.options.sack_permitted);
  EXPECT_EQ(h.options.sack_blocks, 0);
  EXPECT_FALSE(h.options.has_timestamps);
}

TEST(DecodeTcp, AllOptions) {
  const Buf b = tcp(1, 2, 3, 4, tcpflag::kSyn, all_tcp_options());
  TcpHeader h;
  const LayerResult r = decode_tcp(span(b), h);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.length, 60);
  EXPECT_EQ(h.options.mss, 1460);
  EXPECT_EQ(h.options.window_scale, 7);
  EXPECT_TRUE(h.options.sack_permitted);
  EXPECT_TRUE(h.options.has_timestamps);
  EXPECT_EQ(h.options.ts_val, 0x01020304u);
  EXPECT_EQ(h.options.ts_ecr, 0x05060708u);
  ASSERT_EQ(h.options.sack_blocks, 2);
  EXPECT_EQ(h.options.sack[0], 1000u);
  EXPECT_EQ(h.options.sack[1], 2000u);
  EXPECT_EQ(h.options.sack[2], 3000u);
  EXPECT_EQ(h.options.sack[3], 4000u);
}

TEST(DecodeTcp, FourSackBlocksAndUnknownOption) {
  Buf o{1, 1, 5, 34};
  for (std::uint32_t i = 1; i <= 8; ++i) put32(o, i * 100);
  o.insert(o.end(), {30, 2});  // MPTCP-like unknown kind, skipped by length
  const Buf b = tcp(1, 2, 3, 4, tcpflag::kAck, o);
  TcpHeader h;
  ASSERT_TRUE(decode_tcp(span(b), h).ok());
  ASSERT_EQ(h.options.sack_blocks, 4);
  EXPECT_EQ(h.options.sack[7], 800u);
}

TEST(DecodeTcp, EolStopsOptionWalk) {
  const Buf b = tcp(1, 2, 3, 4, tcpflag::kAck, Buf{0, 0xFF, 0xFF, 0xFF});
  TcpHeader h;
  EXPECT_TRUE(decode_tcp(span(b), h).ok());
}

TEST(DecodeTcp, OptionErrors) {
  TcpHeader h;
  const Buf bad[] = {
      Buf{2, 3, 0x05, 0},                       // MSS with length 3
      Buf{3, 4, 7, 0},                          // window scale with length 4
      Buf{4, 3, 0, 0},                          // SACK-permitted with length 3
      Buf{8, 8, 0, 0, 0, 0, 0, 0},              // timestamps with length 8
      Buf{5, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},  // SACK not a multiple of 8
      Buf{5, 2, 0, 0},                          // SACK without blocks
      Buf{30, 1, 0, 0},                         // length below 2
      Buf{30, 0, 0, 0},                         // length 0 (would loop forever if accepted)
      Buf{1, 1, 30, 8},                         // runs past the option area
      Buf{1, 1, 1, 30},                         // kind without a length octet
  };
  for (const Buf& o : bad) {
    const Buf b = tcp(1, 2, 3, 4, tcpflag::kAck, o);
    EXPECT_EQ(decode_tcp(span(b), h).error, Malformed::bad_tcp_options)
        << static_cast<int>(o[0]) << "/" << static_cast<int>(o[1]);
  }
}

TEST(DecodeTcp, DataOffsetErrors) {
  TcpHeader h;
  Buf b = tcp(1, 2, 3, 4, tcpflag::kAck);
  b[12] = 0x40;  // 16 bytes
  EXPECT_EQ(decode_tcp(span(b), h).error, Malformed::bad_tcp_data_offset);
  b[12] = 0x60;  // 24 bytes, 20 captured
  EXPECT_EQ(decode_tcp(span(b), h).error, Malformed::bad_tcp_data_offset);
  for (std::size_t n = 0; n < 20; ++n) {
    EXPECT_EQ(decode_tcp(span(b).first(n), h).error, Malformed::truncated_tcp);
  }
}

TEST(DecodeUdp, HeaderAndErrors) {
  Buf b = udp(53, 33000, 12);
  UdpHeader h;
  const LayerResult r = decode_udp(span(b), h);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.length, 8);
  EXPECT_EQ(h.src_port, 53);
  EXPECT_EQ(h.dst_port, 33000);
  EXPECT_EQ(h.length, 20);
  wr16(b, 4, 7);
  EXPECT_EQ(decode_udp(span(b), h).error, Malformed::bad_udp_length);
  for (std::size_t n = 0; n < 8; ++n)
    EXPECT_EQ(decode_udp(span(b).first(n), h).error, Malformed::truncated_udp);
}

TEST(DecodeFrameUdp, LengthBoundsPayload) {
  // UDP length says 4 payload bytes; the IP datagram carries 10.
  const Buf f =
      cat({ethernet(ethertype::kIpv4), ipv4(ipproto::kUdp, 18), udp(7, 9, 4), payload(10)});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.payload_offset, 42);
  EXPECT_EQ(p.payload_len, 4);
}

TEST(DecodeIcmp, Both) {
  const Buf b = icmp(3, 4, 0x000005DC);
  IcmpHeader h;
  ASSERT_TRUE(decode_icmp(span(b), h).ok());
  EXPECT_EQ(h.type, 3);
  EXPECT_EQ(h.code, 4);
  EXPECT_EQ(h.checksum, 0x1234);
  EXPECT_EQ(h.rest, 0x5DCu);
  ASSERT_TRUE(decode_icmpv6(span(b), h).ok());
  EXPECT_EQ(decode_icmp(span(b).first(7), h).error, Malformed::truncated_icmp);
  EXPECT_EQ(decode_icmpv6(span(b).first(7), h).error, Malformed::truncated_icmpv6);
}

TEST(DecodeFrameTcp, AllOptionsOverIpv4WithOptions) {
  const Buf t = cat({tcp(40000, 80, 1000, 0, tcpflag::kSyn, all_tcp_options()), payload(5)});
  const Buf f = cat({ethernet(ethertype::kIpv4),
                     ipv4(ipproto::kTcp, t.size(), {.options = Buf{0x94, 4, 0, 0}}), t});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerIpv4 | kLayerTcp);
  EXPECT_EQ(p.ipv4.options_len, 4);
  EXPECT_EQ(p.l4_offset, 38);
  EXPECT_EQ(p.l4_protocol, ipproto::kTcp);
  EXPECT_EQ(p.payload_offset, 98);
  EXPECT_EQ(p.payload_len, 5);
  EXPECT_EQ(p.tcp.options.window_scale, 7);
}

}  // namespace
}  // namespace netscope::decode
