// Header writers for the frames netscope-gen emits: Ethernet, VLAN/QinQ tags, IPv4, IPv6,
// UDP, TCP, the MACsec SecTAG, ESP header and trailer, AH header.
//
// Each writer fills a caller-provided span and returns the number of bytes written, or 0
// when the span is too small (nothing is written then). None allocates or throws; all may
// be called from any thread on distinct buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "netscope/decode/packet.hpp"

namespace netscope::packet {

using decode::IpAddr;
using decode::MacAddr;

inline constexpr std::size_t kEthernetHeaderLen = 14;  ///< DA, SA, EtherType
inline constexpr std::size_t kMacAddressesLen = 12;    ///< DA, SA
inline constexpr std::size_t kVlanTagLen = 4;
inline constexpr std::size_t kMaxVlanTags = 2;  ///< QinQ: one S-tag and one C-tag
inline constexpr std::size_t kIpv4HeaderLen = 20;  ///< no options
inline constexpr std::size_t kIpv6HeaderLen = 40;  ///< no extension headers
inline constexpr std::size_t kUdpHeaderLen = 8;
inline constexpr std::size_t kTcpHeaderLen = 20;   ///< no options
inline constexpr std::size_t kSectagLen = 6;       ///< TCI/AN, SL, PN (after the EtherType)
inline constexpr std::size_t kSectagSciLen = 14;   ///< the same plus the 8-byte SCI
inline constexpr std::size_t kMacsecIcvLen = decode::kMacsecIcvLen;
inline constexpr std::size_t kEspHeaderLen = 8;    ///< SPI, sequence number
inline constexpr std::size_t kEspTrailerLen = 2;   ///< pad length, next header
inline constexpr std::size_t kAhFixedLen = 12;     ///< next header .. sequence number
inline constexpr std::size_t kFcsLen = 4;          ///< counted in frame sizes, never written
inline constexpr std::size_t kMinFrameSize = 64;   ///< smallest Ethernet frame, FCS included
inline constexpr std::size_t kMaxFrameSize = 9000; ///< largest jumbo frame, FCS included
/// Largest number of bytes a builder writes for one frame (the FCS is not written).
inline constexpr std::size_t kMaxFrameLen = kMaxFrameSize - kFcsLen;
/// Frames shorter than this (without FCS) are padded by the MAC; generated frames never are.
inline constexpr std::size_t kMinFrameLen = kMinFrameSize - kFcsLen;

/// One 802.1Q C-tag or 802.1ad S-tag.
struct VlanSpec {
  std::uint16_t tpid = decode::ethertype::kVlan;  ///< 0x8100, 0x88A8 or 0x9100
  std::uint8_t pcp = 0;                           ///< priority, 0..7
  bool dei = false;
  std::uint16_t vid = 0;                          ///< 0..4095
};

/// Fields of an IPv4 or IPv6 header; the version is taken from `src.version`.
struct IpFields {
  IpAddr src;
  IpAddr dst;
  std::uint8_t tos = 0;          ///< IPv4 TOS / IPv6 traffic class
  std::uint8_t ttl = 64;         ///< IPv4 TTL / IPv6 hop limit
  std::uint16_t id = 0;          ///< IPv4 identification
  bool dont_fragment = true;     ///< IPv4 DF bit
  std::uint32_t flow_label = 0;  ///< IPv6, 20 bits
  [[nodiscard]] std::size_t header_len() const noexcept {
    return src.version == 6 ? kIpv6HeaderLen : kIpv4HeaderLen;
  }
};

struct TcpFields {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = decode::tcpflag::kAck | decode::tcpflag::kPsh;
  std::uint16_t window = 65535;
};

/// The SecTAG after the 0x88E5 EtherType (IEEE 802.1AE-2018 clause 9.3).
struct SectagFields {
  bool es = false;   ///< end station
  bool sc = true;    ///< SCI present
  bool scb = false;  ///< single copy broadcast
  bool e = true;     ///< encrypted
  bool c = true;     ///< changed text
  std::uint8_t an = 0;            ///< association number, 0..3
  std::uint8_t short_length = 0;  ///< SL: secure data length when below 48, else 0
  std::uint32_t pn = 0;           ///< packet number (low 32 bits for XPN)
  std::uint64_t sci = 0;          ///< written only when `sc`
  [[nodiscard]] std::size_t len() const noexcept { return sc ? kSectagSciLen : kSectagLen; }
};

/// SL value for a secure data length (802.1AE 9.7): the length when below 48, else 0.
[[nodiscard]] constexpr std::uint8_t macsec_short_length(std::size_t secure_data_len) noexcept {
  return secure_data_len < 48 ? static_cast<std::uint8_t>(secure_data_len) : 0;
}

/// The SCI a receiver uses when the SecTAG carries none: source MAC and port 1.
[[nodiscard]] std::uint64_t implicit_sci(const MacAddr& src) noexcept;

/// Padding that makes `plaintext_len` + pad + 2 trailer bytes a multiple of `align`
/// (RFC 4303 2.4: 4 for AES-GCM and NULL).
[[nodiscard]] constexpr std::size_t esp_pad_len(std::size_t plaintext_len,
                                                std::size_t align = 4) noexcept {
  return (align - (plaintext_len + kEspTrailerLen) % align) % align;
}

/// Length of the AH ICV field: the ICV padded to 4 bytes of AH for IPv4 and 8 for IPv6
/// (RFC 4302 2.6: the whole AH must be a multiple of 32 or 64 bits).
[[nodiscard]] constexpr std::size_t ah_icv_field_len(std::size_t icv_len, bool ipv6) noexcept {
  const std::size_t align = ipv6 ? 8 : 4;
  const std::size_t total = kAhFixedLen + icv_len;
  return (total + align - 1) / align * align - kAhFixedLen;
}

/// DA, SA and the EtherType (the first VLAN TPID when tags follow). Writes 14 bytes.
std::size_t write_ethernet(std::span<std::uint8_t> out, const MacAddr& dst, const MacAddr& src,
                           std::uint16_t ethertype) noexcept;

/// One tag's TCI and the EtherType that follows it. Writes 4 bytes.
std::size_t write_vlan(std::span<std::uint8_t> out, const VlanSpec& tag,
                       std::uint16_t next_ethertype) noexcept;

/// What follows the MAC addresses: each tag's TPID and TCI (outermost first), then
/// `ethertype`. Writes 2 + 4 * tags.size() bytes. MACsec secure data starts with this.
std::size_t write_tag_chain(std::span<std::uint8_t> out, std::span<const VlanSpec> tags,
                            std::uint16_t ethertype) noexcept;

/// Ethernet header and `tags` (outermost first), ending with `ethertype`.
std::size_t write_l2(std::span<std::uint8_t> out, const MacAddr& dst, const MacAddr& src,
                     std::span<const VlanSpec> tags, std::uint16_t ethertype) noexcept;

/// IPv4 header without options, header checksum computed. Writes 20 bytes.
std::size_t write_ipv4(std::span<std::uint8_t> out, const IpFields& ip, std::uint8_t protocol,
                       std::size_t payload_len) noexcept;

/// IPv6 header without extension headers. Writes 40 bytes.
std::size_t write_ipv6(std::span<std::uint8_t> out, const IpFields& ip, std::uint8_t next_header,
                       std::size_t payload_len) noexcept;

/// write_ipv4 or write_ipv6 according to `ip.src.version`.
std::size_t write_ip(std::span<std::uint8_t> out, const IpFields& ip, std::uint8_t protocol,
                     std::size_t payload_len) noexcept;

/// UDP header with checksum 0 (see set_l4_checksum). Writes 8 bytes.
std::size_t write_udp(std::span<std::uint8_t> out, std::uint16_t src_port, std::uint16_t dst_port,
                      std::size_t payload_len) noexcept;

/// TCP header without options, checksum 0 (see set_l4_checksum). Writes 20 bytes.
std::size_t write_tcp(std::span<std::uint8_t> out, const TcpFields& tcp) noexcept;

/// Computes and stores the UDP or TCP checksum of `segment` (header and payload, checksum
/// field ignored) with the pseudo-header of `ip`. A UDP result of 0 is stored as 0xFFFF.
void set_l4_checksum(std::span<std::uint8_t> segment, const IpFields& ip,
                     std::uint8_t protocol) noexcept;

/// The SecTAG after the EtherType. Writes 6 bytes, or 14 with the SCI.
std::size_t write_sectag(std::span<std::uint8_t> out, const SectagFields& tag) noexcept;

/// ESP SPI and sequence number. Writes 8 bytes.
std::size_t write_esp_header(std::span<std::uint8_t> out, std::uint32_t spi,
                             std::uint32_t seq) noexcept;

/// Monotonic padding 1, 2, 3 ... (RFC 4303 2.4), pad length and next header.
/// Writes pad_len + 2 bytes.
std::size_t write_esp_trailer(std::span<std::uint8_t> out, std::size_t pad_len,
                              std::uint8_t next_header) noexcept;

/// AH header with a zeroed ICV field of `icv_field_len` bytes. Writes 12 + icv_field_len.
std::size_t write_ah(std::span<std::uint8_t> out, std::uint8_t next_header,
                     std::size_t icv_field_len, std::uint32_t spi, std::uint32_t seq) noexcept;

}  // namespace netscope::packet
