#include "netscope/packet/builders.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "netscope/packet/wire.hpp"

namespace netscope::packet {
namespace {

IpAddr v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  IpAddr ip;
  ip.version = 4;
  ip.bytes = {a, b, c, d};
  return ip;
}

IpAddr v6_last(std::uint8_t last) {
  IpAddr ip;
  ip.version = 6;
  ip.bytes = {0x20, 0x01, 0x0d, 0xb8};
  ip.bytes[15] = last;
  return ip;
}

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2 (checksum 220d).
  const std::array<std::uint8_t, 8> data = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_finish(checksum_add(data)), 0x220d);
}

TEST(Checksum, OddLengthPadsWithZero) {
  const std::array<std::uint8_t, 3> data = {0x12, 0x34, 0x56};
  EXPECT_EQ(checksum_finish(checksum_add(data)), static_cast<std::uint16_t>(~(0x1234 + 0x5600)));
}

TEST(Ipv4, KnownHeaderChecksum) {
  // 45 00 00 73 00 00 40 00 40 11 [b8 61] c0 a8 00 01 c0 a8 00 c7 (a widely used example).
  IpFields ip;
  ip.src = v4(192, 168, 0, 1);
  ip.dst = v4(192, 168, 0, 199);
  ip.ttl = 64;
  ip.id = 0;
  ip.dont_fragment = true;
  std::array<std::uint8_t, 20> out{};
  ASSERT_EQ(write_ipv4(out, ip, 17, 0x73 - 20), 20u);
  const std::array<std::uint8_t, 20> want = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
                                             0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
                                             0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(out, want);
  EXPECT_EQ(internet_checksum(out), 0);
}

TEST(Ipv6, Fields) {
  IpFields ip;
  ip.src = v6_last(1);
  ip.dst = v6_last(2);
  ip.tos = 0xb8;
  ip.flow_label = 0x12345;
  ip.ttl = 7;
  std::array<std::uint8_t, 40> out{};
  ASSERT_EQ(write_ipv6(out, ip, 50, 1000), 40u);
  EXPECT_EQ(load_be32(out.data()), (6u << 28) | (0xb8u << 20) | 0x12345u);
  EXPECT_EQ(load_be16(out.data() + 4), 1000);
  EXPECT_EQ(out[6], 50);
  EXPECT_EQ(out[7], 7);
  EXPECT_EQ(out[8], 0x20);
  EXPECT_EQ(out[23], 1);
  EXPECT_EQ(out[39], 2);
}

TEST(L2, QinQChain) {
  const MacAddr dst{1, 2, 3, 4, 5, 6};
  const MacAddr src{7, 8, 9, 10, 11, 12};
  const std::array<VlanSpec, 2> tags = {VlanSpec{0x88A8, 5, true, 10}, VlanSpec{0x8100, 0, false, 4095}};
  std::array<std::uint8_t, 22> out{};
  ASSERT_EQ(write_l2(out, dst, src, tags, 0x86DD), 22u);
  const std::array<std::uint8_t, 22> want = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                             12, 0x88, 0xA8, 0xB0, 0x0A, 0x81, 0x00, 0x0F, 0xFF,
                                             0x86, 0xDD};
  EXPECT_EQ(out, want);
}

TEST(L2, TooSmallWritesNothing) {
  std::array<std::uint8_t, 13> out{};
  EXPECT_EQ(write_ethernet(out, {}, {}, 0x0800), 0u);
  EXPECT_EQ(write_l2(out, {}, {}, {}, 0x0800), 0u);
  std::array<std::uint8_t, 19> ip_out{};
  EXPECT_EQ(write_ipv4(ip_out, IpFields{}, 17, 0), 0u);
  std::array<std::uint8_t, 13> tag_out{};
  EXPECT_EQ(write_sectag(tag_out, SectagFields{}), 0u);
}

/// Verifies a UDP/TCP checksum the way a receiver does: the sum including it folds to 0.
bool l4_checksum_ok(std::span<const std::uint8_t> seg, const IpFields& ip, std::uint8_t proto) {
  const std::size_t n = ip.src.version == 6 ? 16 : 4;
  std::uint32_t sum = checksum_add({ip.src.bytes.data(), n});
  sum = checksum_add({ip.dst.bytes.data(), n}, sum);
  sum += static_cast<std::uint32_t>(seg.size()) + proto;
  sum = checksum_add(seg, sum);
  return checksum_finish(sum) == 0;
}

TEST(Udp, ChecksumIpv4AndIpv6) {
  for (const bool six : {false, true}) {
    IpFields ip;
    ip.src = six ? v6_last(1) : v4(10, 0, 0, 1);
    ip.dst = six ? v6_last(2) : v4(10, 0, 0, 2);
    std::vector<std::uint8_t> seg(8 + 37);
    ASSERT_EQ(write_udp(seg, 1024, 7, 37), 8u);
    for (std::size_t i = 8; i < seg.size(); ++i) seg[i] = static_cast<std::uint8_t>(i * 7);
    set_l4_checksum(seg, ip, 17);
    EXPECT_NE(load_be16(seg.data() + 6), 0);
    EXPECT_TRUE(l4_checksum_ok(seg, ip, 17)) << "ipv6=" << six;
    EXPECT_EQ(load_be16(seg.data() + 4), 45);
  }
}

TEST(Tcp, HeaderAndChecksum) {
  IpFields ip;
  ip.src = v4(10, 0, 0, 1);
  ip.dst = v4(10, 0, 0, 2);
  TcpFields t;
  t.src_port = 33000;
  t.dst_port = 7;
  t.seq = 0xdeadbeef;
  t.ack = 1;
  std::vector<std::uint8_t> seg(20 + 10, 0xab);
  ASSERT_EQ(write_tcp(seg, t), 20u);
  set_l4_checksum(seg, ip, 6);
  EXPECT_EQ(load_be32(seg.data() + 4), 0xdeadbeefu);
  EXPECT_EQ(seg[12], 0x50);
  EXPECT_EQ(seg[13], 0x18);  // PSH ACK
  EXPECT_EQ(load_be16(seg.data() + 14), 65535);
  EXPECT_TRUE(l4_checksum_ok(seg, ip, 6));
}

TEST(Sectag, TciBitsAndFields) {
  SectagFields t;
  t.es = true;
  t.sc = true;
  t.scb = true;
  t.e = true;
  t.c = true;
  t.an = 3;
  t.short_length = 47;
  t.pn = 0x01020304;
  t.sci = 0x1122334455660001ull;
  std::array<std::uint8_t, 14> out{};
  ASSERT_EQ(write_sectag(out, t), 14u);
  EXPECT_EQ(out[0], 0x7F);  // ES SC SCB E C AN=3, V=0
  EXPECT_EQ(out[1], 47);
  EXPECT_EQ(load_be32(out.data() + 2), 0x01020304u);
  EXPECT_EQ(load_be64(out.data() + 6), 0x1122334455660001ull);

  SectagFields plain;
  plain.sc = false;
  plain.e = false;
  plain.c = false;
  plain.an = 1;
  std::array<std::uint8_t, 6> short_out{};
  ASSERT_EQ(write_sectag(short_out, plain), 6u);
  EXPECT_EQ(short_out[0], 0x01);
}

TEST(Sectag, ShortLength) {
  EXPECT_EQ(macsec_short_length(0), 0);
  EXPECT_EQ(macsec_short_length(1), 1);
  EXPECT_EQ(macsec_short_length(47), 47);
  EXPECT_EQ(macsec_short_length(48), 0);
  EXPECT_EQ(macsec_short_length(1500), 0);
}

TEST(Sectag, ImplicitSci) {
  EXPECT_EQ(implicit_sci({0xF0, 0x76, 0x1E, 0x8D, 0xCD, 0x3D}), 0xF0761E8DCD3D0001ull);
}

TEST(Esp, PaddingAndTrailer) {
  EXPECT_EQ(esp_pad_len(0), 2u);
  EXPECT_EQ(esp_pad_len(1), 1u);
  EXPECT_EQ(esp_pad_len(2), 0u);
  EXPECT_EQ(esp_pad_len(3), 3u);
  for (std::size_t n = 0; n < 64; ++n) EXPECT_EQ((n + esp_pad_len(n) + 2) % 4, 0u);
  std::array<std::uint8_t, 5> out{};
  ASSERT_EQ(write_esp_trailer(out, 3, 4), 5u);
  const std::array<std::uint8_t, 5> want = {1, 2, 3, 3, 4};
  EXPECT_EQ(out, want);
  std::array<std::uint8_t, 8> hdr{};
  ASSERT_EQ(write_esp_header(hdr, 0x1001, 0xFFFFFFFF), 8u);
  EXPECT_EQ(load_be32(hdr.data()), 0x1001u);
  EXPECT_EQ(load_be32(hdr.data() + 4), 0xFFFFFFFFu);
}

TEST(Ah, IcvFieldAlignment) {
  EXPECT_EQ(ah_icv_field_len(16, false), 16u);  // 28 bytes: a multiple of 4
  EXPECT_EQ(ah_icv_field_len(16, true), 20u);   // 28 -> 32 for IPv6
  EXPECT_EQ(ah_icv_field_len(12, false), 12u);
  EXPECT_EQ(ah_icv_field_len(12, true), 12u);   // 24 is a multiple of 8
}

TEST(Ah, Header) {
  std::array<std::uint8_t, 32> out;
  out.fill(0xee);
  ASSERT_EQ(write_ah(out, 17, 20, 0x5001, 42), 32u);
  EXPECT_EQ(out[0], 17);
  EXPECT_EQ(out[1], 32 / 4 - 2);
  EXPECT_EQ(out[2], 0);
  EXPECT_EQ(out[3], 0);
  EXPECT_EQ(load_be32(out.data() + 4), 0x5001u);
  EXPECT_EQ(load_be32(out.data() + 8), 42u);
  for (std::size_t i = 12; i < 32; ++i) EXPECT_EQ(out[i], 0) << i;
  EXPECT_EQ(write_ah(out, 17, 18, 1, 1), 0u) << "AH length must be a multiple of 4";
}

}  // namespace
}  // namespace netscope::packet
