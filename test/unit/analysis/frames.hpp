// Hand-built frames for the analysis tests: Ethernet, optional VLAN tag, IPv4 or IPv6
// (with fragment fields), ARP. Header-only, STL only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace netscope::analysis::test_frames {

using Buf = std::vector<std::uint8_t>;

inline void put8(Buf& b, std::uint32_t v) { b.push_back(static_cast<std::uint8_t>(v)); }
inline void put16(Buf& b, std::uint32_t v) {
  put8(b, v >> 8);
  put8(b, v);
}
inline void put32(Buf& b, std::uint32_t v) {
  put16(b, v >> 16);
  put16(b, v);
}
inline void put_bytes(Buf& b, std::span<const std::uint8_t> s) {
  for (const std::uint8_t v : s) b.push_back(v);  // (vector::insert trips a GCC 12 false -Wstringop-overflow)
}

inline constexpr std::array<std::uint8_t, 6> kMacA = {0x02, 0, 0, 0, 0, 0x0A};
inline constexpr std::array<std::uint8_t, 6> kMacB = {0x02, 0, 0, 0, 0, 0x0B};

/// Ethernet header (dst kMacB, src `src`), with an 802.1Q tag when vlan != 0.
inline Buf ethernet(std::uint16_t ethertype, std::uint16_t vlan = 0,
                    const std::array<std::uint8_t, 6>& src = kMacA) {
  Buf b;
  put_bytes(b, kMacB);
  put_bytes(b, src);
  if (vlan != 0) {
    put16(b, 0x8100);
    put16(b, vlan);
  }
  put16(b, ethertype);
  return b;
}

inline std::uint16_t checksum(const std::uint8_t* p, std::size_t n) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

struct V4 {
  std::array<std::uint8_t, 4> src = {10, 0, 0, 1};
  std::array<std::uint8_t, 4> dst = {10, 0, 0, 2};
  std::uint16_t id = 0x1234;
  std::uint8_t protocol = 17;
  std::uint16_t vlan = 0;
};

/// An IPv4 fragment: `payload` is the fragment's part of the datagram payload.
inline Buf ipv4_fragment(const V4& v, std::uint32_t offset, bool more, std::span<const std::uint8_t> payload) {
  Buf b = ethernet(0x0800, v.vlan);
  const std::size_t ip = b.size();
  put8(b, 0x45);
  put8(b, 0);
  put16(b, static_cast<std::uint32_t>(20 + payload.size()));
  put16(b, v.id);
  put16(b, (more ? 0x2000u : 0u) | ((offset / 8) & 0x1FFF));
  put8(b, 64);
  put8(b, v.protocol);
  put16(b, 0);
  put_bytes(b, v.src);
  put_bytes(b, v.dst);
  const std::uint16_t c = checksum(b.data() + ip, 20);
  b[ip + 10] = static_cast<std::uint8_t>(c >> 8);
  b[ip + 11] = static_cast<std::uint8_t>(c);
  put_bytes(b, payload);
  return b;
}

struct V6 {
  std::array<std::uint8_t, 16> src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::array<std::uint8_t, 16> dst = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  std::uint32_t id = 0xCAFE0001;
  std::uint8_t protocol = 17;
  bool dest_opts = false;  ///< a Destination Options header before the Fragment header
};

/// An IPv6 fragment (Fragment header after the fixed header, or after Destination Options).
inline Buf ipv6_fragment(const V6& v, std::uint32_t offset, bool more, std::span<const std::uint8_t> payload) {
  Buf b = ethernet(0x86DD);
  const std::size_t ext = v.dest_opts ? 8 : 0;
  put32(b, 0x60000000);
  put16(b, static_cast<std::uint32_t>(ext + 8 + payload.size()));
  put8(b, v.dest_opts ? 60 : 44);
  put8(b, 64);
  put_bytes(b, v.src);
  put_bytes(b, v.dst);
  if (v.dest_opts) {
    put8(b, 44);  // next: Fragment
    put8(b, 0);   // 8 bytes
    put8(b, 1);   // PadN, 4 bytes of padding
    put8(b, 4);
    put32(b, 0);
  }
  put8(b, v.protocol);
  put8(b, 0);
  put16(b, (offset & 0xFFF8) | (more ? 1u : 0u));
  put32(b, v.id);
  put_bytes(b, payload);
  return b;
}

/// A UDP datagram (header + `data_len` pattern bytes) as the payload to fragment.
inline Buf udp_datagram(std::size_t data_len, std::uint8_t seed = 1) {
  Buf b;
  put16(b, 40000);
  put16(b, 9999);
  put16(b, static_cast<std::uint32_t>(8 + data_len));
  put16(b, 0);  // no checksum (IPv4); the decoders do not verify it
  for (std::size_t i = 0; i < data_len; ++i) b.push_back(static_cast<std::uint8_t>(seed + i * 7));
  return b;
}

inline std::span<const std::uint8_t> slice(const Buf& b, std::size_t from, std::size_t to) {
  return std::span<const std::uint8_t>(b).subspan(from, to - from);
}

/// An Ethernet/IPv4 ARP packet from (sender_mac, sender_ip).
inline Buf arp(std::uint16_t op, const std::array<std::uint8_t, 6>& sender_mac,
               const std::array<std::uint8_t, 4>& sender_ip, const std::array<std::uint8_t, 4>& target_ip,
               std::uint16_t vlan = 0) {
  Buf b = ethernet(0x0806, vlan, sender_mac);
  put16(b, 1);
  put16(b, 0x0800);
  put8(b, 6);
  put8(b, 4);
  put16(b, op);
  put_bytes(b, sender_mac);
  put_bytes(b, sender_ip);
  for (int i = 0; i < 6; ++i) put8(b, 0);
  put_bytes(b, target_ip);
  return b;
}

}  // namespace netscope::analysis::test_frames
