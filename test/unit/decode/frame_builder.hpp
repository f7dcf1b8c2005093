// Hand-built frames for the decoder tests. Header-only, depends on nothing but the STL, so
// the tests do not depend on lib/packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

namespace netscope::decode::test_frames {

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
inline void put64(Buf& b, std::uint64_t v) {
  put32(b, static_cast<std::uint32_t>(v >> 32));
  put32(b, static_cast<std::uint32_t>(v));
}
inline void put_fill(Buf& b, std::size_t n, std::uint8_t v) { b.insert(b.end(), n, v); }

inline Buf cat(std::initializer_list<Buf> parts) {
  Buf out;
  for (const Buf& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline std::uint16_t rd16(const Buf& b, std::size_t off) {
  return static_cast<std::uint16_t>((b[off] << 8) | b[off + 1]);
}
inline void wr16(Buf& b, std::size_t off, std::uint16_t v) {
  b[off] = static_cast<std::uint8_t>(v >> 8);
  b[off + 1] = static_cast<std::uint8_t>(v);
}

inline constexpr std::uint8_t kDstMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
inline constexpr std::uint8_t kSrcMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

/// Ethernet II header: fixed locally administered MACs.
inline Buf ethernet(std::uint16_t ethertype) {
  Buf b;
  for (std::uint8_t v : kDstMac) put8(b, v);
  for (std::uint8_t v : kSrcMac) put8(b, v);
  put16(b, ethertype);
  return b;
}

/// A tag's TCI and the EtherType that follows it (the TPID is the previous EtherType).
inline Buf vlan_tag(std::uint16_t vid, std::uint16_t next_ethertype, std::uint8_t pcp = 0,
                    bool dei = false) {
  Buf b;
  put16(b, static_cast<std::uint32_t>(pcp) << 13 | (dei ? 0x1000u : 0u) | (vid & 0x0FFFu));
  put16(b, next_ethertype);
  return b;
}

inline Buf mpls_entry(std::uint32_t label, bool bottom, std::uint8_t tc = 0,
                      std::uint8_t ttl = 64) {
  Buf b;
  put32(b, label << 12 | static_cast<std::uint32_t>(tc) << 9 | (bottom ? 0x100u : 0u) | ttl);
  return b;
}

inline std::uint16_t ones_complement(const std::uint8_t* p, std::size_t len) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < len; i += 2)
    sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  if (len % 2) sum += static_cast<std::uint32_t>(p[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

struct Ipv4Opts {
  Buf options{};                ///< padded by the caller to a multiple of 4
  std::uint16_t frag = 0x4000;  ///< flags and offset field (DF by default)
  std::uint16_t id = 0x1234;
  std::uint8_t ttl = 64;
};

/// IPv4 header with a valid checksum. total_length = header + payload_len.
inline Buf ipv4(std::uint8_t proto, std::size_t payload_len, const Ipv4Opts& o = {}) {
  Buf b;
  const std::size_t ihl = 20 + o.options.size();
  put8(b, 0x40 | (ihl / 4));
  put8(b, 0);
  put16(b, static_cast<std::uint32_t>(ihl + payload_len));
  put16(b, o.id);
  put16(b, o.frag);
  put8(b, o.ttl);
  put8(b, proto);
  put16(b, 0);
  put32(b, 0xC0000201);  // 192.0.2.1
  put32(b, 0xC6336402);  // 198.51.100.2
  b.insert(b.end(), o.options.begin(), o.options.end());
  wr16(b, 10, ones_complement(b.data(), b.size()));
  return b;
}

/// Recomputes the checksum of the IPv4 header starting at `off`.
inline void fix_ipv4_checksum(Buf& b, std::size_t off) {
  const std::size_t ihl = static_cast<std::size_t>(b[off] & 0x0F) * 4;
  wr16(b, off + 10, 0);
  wr16(b, off + 10, ones_complement(b.data() + off, ihl));
}

/// IPv6 fixed header; src 2001:db8::1, dst 2001:db8::2.
inline Buf ipv6(std::uint8_t next_header, std::size_t payload_len) {
  Buf b;
  put32(b, 0x6012345Fu);  // version 6, traffic class 0x01, flow label 0x2345F
  put16(b, static_cast<std::uint32_t>(payload_len));
  put8(b, next_header);
  put8(b, 64);
  put32(b, 0x20010DB8);
  put32(b, 0);
  put32(b, 0);
  put32(b, 1);
  put32(b, 0x20010DB8);
  put32(b, 0);
  put32(b, 0);
  put32(b, 2);
  return b;
}

/// Hop-by-hop / routing / destination options header of (units + 1) * 8 bytes, padded
/// with a PadN option.
inline Buf ipv6_ext(std::uint8_t next_header, std::uint8_t units = 0) {
  Buf b;
  put8(b, next_header);
  put8(b, units);
  const std::size_t pad = (static_cast<std::size_t>(units) + 1) * 8 - 2;
  put8(b, 1);  // PadN
  put8(b, pad - 2);
  put_fill(b, pad - 2, 0);
  return b;
}

inline Buf ipv6_fragment(std::uint8_t next_header, std::uint16_t offset_bytes, bool more,
                         std::uint32_t id) {
  Buf b;
  put8(b, next_header);
  put8(b, 0);
  put16(b, (offset_bytes & 0xFFF8u) | (more ? 1u : 0u));
  put32(b, id);
  return b;
}

/// TCP header; options are padded with EOL to a multiple of 4.
inline Buf tcp(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint32_t ack,
               std::uint8_t flags, Buf options = {}) {
  while (options.size() % 4) options.push_back(0);
  Buf b;
  put16(b, sport);
  put16(b, dport);
  put32(b, seq);
  put32(b, ack);
  put8(b, ((20 + options.size()) / 4) << 4);
  put8(b, flags);
  put16(b, 65535);
  put16(b, 0xBEEF);
  put16(b, 0);
  b.insert(b.end(), options.begin(), options.end());
  return b;
}

/// MSS 1460, NOP, WS 7, SACK-permitted, timestamps, SACK with 2 blocks: 36 bytes of options.
inline Buf all_tcp_options() {
  Buf o;
  for (std::uint8_t v : {2, 4, 0x05, 0xB4}) put8(o, v);  // MSS 1460
  put8(o, 1);                                            // NOP
  for (std::uint8_t v : {3, 3, 7}) put8(o, v);           // window scale 7
  for (std::uint8_t v : {4, 2}) put8(o, v);              // SACK permitted
  put8(o, 8);                                            // timestamps
  put8(o, 10);
  put32(o, 0x01020304);
  put32(o, 0x05060708);
  put8(o, 5);  // SACK, 2 blocks
  put8(o, 18);
  for (std::uint32_t edge : {1000u, 2000u, 3000u, 4000u}) put32(o, edge);
  return o;
}

inline Buf udp(std::uint16_t sport, std::uint16_t dport, std::size_t payload_len) {
  Buf b;
  put16(b, sport);
  put16(b, dport);
  put16(b, static_cast<std::uint32_t>(8 + payload_len));
  put16(b, 0);
  return b;
}

inline Buf icmp(std::uint8_t type, std::uint8_t code, std::uint32_t rest) {
  Buf b;
  put8(b, type);
  put8(b, code);
  put16(b, 0x1234);
  put32(b, rest);
  return b;
}

inline Buf esp(std::uint32_t spi, std::uint32_t seq) {
  Buf b;
  put32(b, spi);
  put32(b, seq);
  return b;
}

/// AH with an ICV of icv_len zero bytes; the length field is (12 + icv_len) / 4 - 2.
inline Buf ah(std::uint8_t next_header, std::uint32_t spi, std::uint32_t seq,
              std::size_t icv_len = 12) {
  Buf b;
  put8(b, next_header);
  put8(b, (12 + icv_len) / 4 - 2);
  put16(b, 0);
  put32(b, spi);
  put32(b, seq);
  put_fill(b, icv_len, 0xA5);
  return b;
}

inline Buf payload(std::size_t n, std::uint8_t seed = 0x30) {
  Buf b;
  for (std::size_t i = 0; i < n; ++i) put8(b, seed + i);
  return b;
}

namespace tci {
inline constexpr std::uint8_t kV = 0x80, kEs = 0x40, kSc = 0x20, kScb = 0x10, kE = 0x08, kC = 0x04;
}

inline constexpr std::uint64_t kSci = 0x0200000000010001ull;  // src MAC, port 1

/// SecTAG after the 0x88E5 EtherType: TCI|AN, SL, PN and the SCI when tci has SC.
inline Buf sectag(std::uint8_t tci_bits, std::uint8_t an, std::uint8_t sl, std::uint32_t pn,
                  std::uint64_t sci = kSci) {
  Buf b;
  put8(b, tci_bits | (an & 3));
  put8(b, sl);
  put32(b, pn);
  if (tci_bits & tci::kSc) put64(b, sci);
  return b;
}

inline Buf icv() { return Buf(16, 0x1C); }

inline std::span<const std::uint8_t> span(const Buf& b) { return {b.data(), b.size()}; }

}  // namespace netscope::decode::test_frames
