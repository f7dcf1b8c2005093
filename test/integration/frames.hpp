// Whole frames for integration captures, built on the decoder tests' hand builders.
#pragma once

#include "../unit/decode/frame_builder.hpp"

namespace netscope::itest {

namespace tf = netscope::decode::test_frames;

/// ESP over IPv4 (192.0.2.1 -> 198.51.100.2) with a 32-byte body.
inline tf::Buf esp4(std::uint32_t spi, std::uint32_t seq) {
  return tf::cat({tf::ethernet(0x0800), tf::ipv4(50, 8 + 32), tf::esp(spi, seq), tf::payload(32)});
}

/// ESP in UDP 4500 (NAT-T).
inline tf::Buf esp_natt(std::uint32_t spi, std::uint32_t seq) {
  return tf::cat({tf::ethernet(0x0800), tf::ipv4(17, 8 + 8 + 32), tf::udp(4500, 4500, 8 + 32),
                  tf::esp(spi, seq), tf::payload(32)});
}

/// IKE in UDP 4500: the non-ESP marker.
inline tf::Buf ike_natt() {
  tf::Buf marker(4, 0);
  return tf::cat({tf::ethernet(0x0800), tf::ipv4(17, 8 + 4 + 28), tf::udp(4500, 4500, 4 + 28), marker,
                  tf::payload(28)});
}

/// AH over IPv6 (2001:db8::1 -> 2001:db8::2) protecting TCP.
inline tf::Buf ah6(std::uint32_t spi, std::uint32_t seq) {
  const tf::Buf t = tf::tcp(1234, 80, 1, 1, 0x18);
  const tf::Buf a = tf::ah(6, spi, seq, 12);
  return tf::cat({tf::ethernet(0x86DD), tf::ipv6(51, a.size() + t.size() + 16), a, t, tf::payload(16)});
}

/// MACsec: SecTAG (with SCI when sc), then either an encrypted body or, integrity-only,
/// an inner IPv4/UDP packet; 16-byte ICV.
inline tf::Buf macsec(bool sc, std::uint8_t an, std::uint32_t pn, std::uint64_t sci = tf::kSci,
                      bool encrypted = true) {
  const std::uint8_t bits = static_cast<std::uint8_t>((sc ? tf::tci::kSc : 0) |
                                                      (encrypted ? tf::tci::kE | tf::tci::kC : 0));
  tf::Buf body;
  if (encrypted) {
    body = tf::payload(60);
  } else {
    tf::Buf inner_type;
    tf::put16(inner_type, 0x0800);
    body = tf::cat({inner_type, tf::ipv4(17, 8 + 24), tf::udp(5000, 5001, 24), tf::payload(24)});
  }
  return tf::cat({tf::ethernet(0x88E5), tf::sectag(bits, an, 0, pn, sci), body, tf::icv()});
}

/// Plain UDP background traffic.
inline tf::Buf udp4(std::uint16_t sport, std::uint16_t dport) {
  return tf::cat({tf::ethernet(0x0800), tf::ipv4(17, 8 + 20), tf::udp(sport, dport, 20), tf::payload(20)});
}

}  // namespace netscope::itest

namespace netscope::itest {

/// TCP over IPv4 between 192.0.2.1:sport and 198.51.100.2:dport; `reverse` sends it the
/// other way (addresses and ports swapped).
inline tf::Buf tcp4(std::uint16_t sport, std::uint16_t dport, std::uint8_t flags, bool reverse,
                    std::uint32_t seq = 1) {
  const tf::Buf t = tf::tcp(sport, dport, seq, 1, flags);
  tf::Buf f = tf::cat({tf::ethernet(0x0800), tf::ipv4(6, t.size() + 10), t, tf::payload(10)});
  if (reverse) {
    for (int i = 0; i < 4; ++i) std::swap(f[14 + 12 + i], f[14 + 16 + i]);
    std::swap(f[34], f[36]);
    std::swap(f[35], f[37]);
    tf::fix_ipv4_checksum(f, 14);
  }
  return f;
}

}  // namespace netscope::itest

namespace netscope::itest {

/// An IPv4 address a.b.c.d as the number ipv4_between() takes.
constexpr std::uint32_t ip4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return static_cast<std::uint32_t>(a) << 24 | static_cast<std::uint32_t>(b) << 16 | static_cast<std::uint32_t>(c) << 8 | d;
}

/// TCP (protocol 6, `tcp_flags`) or UDP (17) over IPv4 between any two hosts, with
/// `payload` bytes of data.
inline tf::Buf ipv4_between(std::uint32_t src, std::uint32_t dst, std::uint8_t protocol, std::uint16_t sport,
                            std::uint16_t dport, std::uint8_t tcp_flags = 0, std::size_t payload = 0) {
  const tf::Buf l4 = protocol == 6 ? tf::tcp(sport, dport, 1000, tcp_flags & 0x10 ? 1 : 0, tcp_flags)
                                   : tf::udp(sport, dport, payload);
  tf::Buf f = tf::cat({tf::ethernet(0x0800), tf::ipv4(protocol, l4.size() + payload), l4, tf::payload(payload)});
  for (int i = 0; i < 4; ++i) {
    f[14 + 12 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(src >> (24 - 8 * i));
    f[14 + 16 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(dst >> (24 - 8 * i));
  }
  tf::fix_ipv4_checksum(f, 14);
  return f;
}

}  // namespace netscope::itest
