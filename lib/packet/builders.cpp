#include "netscope/packet/builders.hpp"

#include <cstring>

#include "netscope/packet/wire.hpp"

namespace netscope::packet {

std::uint64_t implicit_sci(const MacAddr& src) noexcept {
  std::uint64_t sci = 0;
  for (std::uint8_t b : src) sci = (sci << 8) | b;
  return (sci << 16) | 1u;
}

std::size_t write_ethernet(std::span<std::uint8_t> out, const MacAddr& dst, const MacAddr& src,
                           std::uint16_t ethertype) noexcept {
  if (out.size() < kEthernetHeaderLen) return 0;
  std::memcpy(out.data(), dst.data(), 6);
  std::memcpy(out.data() + 6, src.data(), 6);
  store_be16(out.data() + 12, ethertype);
  return kEthernetHeaderLen;
}

std::size_t write_vlan(std::span<std::uint8_t> out, const VlanSpec& tag,
                       std::uint16_t next_ethertype) noexcept {
  if (out.size() < kVlanTagLen) return 0;
  const auto tci = static_cast<std::uint16_t>(((tag.pcp & 7u) << 13) | (tag.dei ? 0x1000u : 0u) |
                                              (tag.vid & 0x0FFFu));
  store_be16(out.data(), tci);
  store_be16(out.data() + 2, next_ethertype);
  return kVlanTagLen;
}

std::size_t write_tag_chain(std::span<std::uint8_t> out, std::span<const VlanSpec> tags,
                            std::uint16_t ethertype) noexcept {
  const std::size_t len = 2 + tags.size() * kVlanTagLen;
  if (out.size() < len) return 0;
  store_be16(out.data(), tags.empty() ? ethertype : tags[0].tpid);
  std::size_t off = 2;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const std::uint16_t next = i + 1 < tags.size() ? tags[i + 1].tpid : ethertype;
    off += write_vlan(out.subspan(off), tags[i], next);
  }
  return len;
}

std::size_t write_l2(std::span<std::uint8_t> out, const MacAddr& dst, const MacAddr& src,
                     std::span<const VlanSpec> tags, std::uint16_t ethertype) noexcept {
  const std::size_t len = kMacAddressesLen + 2 + tags.size() * kVlanTagLen;
  if (out.size() < len) return 0;
  std::memcpy(out.data(), dst.data(), 6);
  std::memcpy(out.data() + 6, src.data(), 6);
  write_tag_chain(out.subspan(kMacAddressesLen), tags, ethertype);
  return len;
}

std::size_t write_ipv4(std::span<std::uint8_t> out, const IpFields& ip, std::uint8_t protocol,
                       std::size_t payload_len) noexcept {
  if (out.size() < kIpv4HeaderLen) return 0;
  std::uint8_t* p = out.data();
  p[0] = 0x45;
  p[1] = ip.tos;
  store_be16(p + 2, static_cast<std::uint16_t>(kIpv4HeaderLen + payload_len));
  store_be16(p + 4, ip.id);
  store_be16(p + 6, ip.dont_fragment ? 0x4000 : 0);
  p[8] = ip.ttl;
  p[9] = protocol;
  store_be16(p + 10, 0);
  std::memcpy(p + 12, ip.src.bytes.data(), 4);
  std::memcpy(p + 16, ip.dst.bytes.data(), 4);
  store_be16(p + 10, internet_checksum({p, kIpv4HeaderLen}));
  return kIpv4HeaderLen;
}

std::size_t write_ipv6(std::span<std::uint8_t> out, const IpFields& ip, std::uint8_t next_header,
                       std::size_t payload_len) noexcept {
  if (out.size() < kIpv6HeaderLen) return 0;
  std::uint8_t* p = out.data();
  store_be32(p, (6u << 28) | (std::uint32_t{ip.tos} << 20) | (ip.flow_label & 0xFFFFFu));
  store_be16(p + 4, static_cast<std::uint16_t>(payload_len));
  p[6] = next_header;
  p[7] = ip.ttl;
  std::memcpy(p + 8, ip.src.bytes.data(), 16);
  std::memcpy(p + 24, ip.dst.bytes.data(), 16);
  return kIpv6HeaderLen;
}

std::size_t write_ip(std::span<std::uint8_t> out, const IpFields& ip, std::uint8_t protocol,
                     std::size_t payload_len) noexcept {
  return ip.src.version == 6 ? write_ipv6(out, ip, protocol, payload_len)
                             : write_ipv4(out, ip, protocol, payload_len);
}

std::size_t write_udp(std::span<std::uint8_t> out, std::uint16_t src_port, std::uint16_t dst_port,
                      std::size_t payload_len) noexcept {
  if (out.size() < kUdpHeaderLen) return 0;
  store_be16(out.data(), src_port);
  store_be16(out.data() + 2, dst_port);
  store_be16(out.data() + 4, static_cast<std::uint16_t>(kUdpHeaderLen + payload_len));
  store_be16(out.data() + 6, 0);
  return kUdpHeaderLen;
}

std::size_t write_tcp(std::span<std::uint8_t> out, const TcpFields& tcp) noexcept {
  if (out.size() < kTcpHeaderLen) return 0;
  std::uint8_t* p = out.data();
  store_be16(p, tcp.src_port);
  store_be16(p + 2, tcp.dst_port);
  store_be32(p + 4, tcp.seq);
  store_be32(p + 8, tcp.ack);
  p[12] = static_cast<std::uint8_t>((kTcpHeaderLen / 4) << 4);
  p[13] = tcp.flags;
  store_be16(p + 14, tcp.window);
  store_be16(p + 16, 0);
  store_be16(p + 18, 0);
  return kTcpHeaderLen;
}

void set_l4_checksum(std::span<std::uint8_t> segment, const IpFields& ip,
                     std::uint8_t protocol) noexcept {
  const std::size_t csum_off = protocol == decode::ipproto::kTcp ? 16 : 6;
  if (segment.size() < csum_off + 2) return;
  store_be16(segment.data() + csum_off, 0);
  const std::size_t addr_len = ip.src.version == 6 ? 16 : 4;
  std::uint32_t sum = checksum_add({ip.src.bytes.data(), addr_len});
  sum = checksum_add({ip.dst.bytes.data(), addr_len}, sum);
  const auto len = static_cast<std::uint32_t>(segment.size());
  sum += (len >> 16) + (len & 0xFFFFu) + protocol;
  sum = checksum_add(segment, sum);
  std::uint16_t csum = checksum_finish(sum);
  if (csum == 0 && protocol == decode::ipproto::kUdp) csum = 0xFFFF;
  store_be16(segment.data() + csum_off, csum);
}

std::size_t write_sectag(std::span<std::uint8_t> out, const SectagFields& tag) noexcept {
  const std::size_t len = tag.len();
  if (out.size() < len) return 0;
  std::uint8_t* p = out.data();
  p[0] = static_cast<std::uint8_t>((tag.es ? 0x40 : 0) | (tag.sc ? 0x20 : 0) |
                                   (tag.scb ? 0x10 : 0) | (tag.e ? 0x08 : 0) |
                                   (tag.c ? 0x04 : 0) | (tag.an & 3u));
  p[1] = tag.short_length & 0x3Fu;
  store_be32(p + 2, tag.pn);
  if (tag.sc) store_be64(p + 6, tag.sci);
  return len;
}

std::size_t write_esp_header(std::span<std::uint8_t> out, std::uint32_t spi,
                             std::uint32_t seq) noexcept {
  if (out.size() < kEspHeaderLen) return 0;
  store_be32(out.data(), spi);
  store_be32(out.data() + 4, seq);
  return kEspHeaderLen;
}

std::size_t write_esp_trailer(std::span<std::uint8_t> out, std::size_t pad_len,
                              std::uint8_t next_header) noexcept {
  if (pad_len > 255 || out.size() < pad_len + kEspTrailerLen) return 0;
  for (std::size_t i = 0; i < pad_len; ++i) out[i] = static_cast<std::uint8_t>(i + 1);
  out[pad_len] = static_cast<std::uint8_t>(pad_len);
  out[pad_len + 1] = next_header;
  return pad_len + kEspTrailerLen;
}

std::size_t write_ah(std::span<std::uint8_t> out, std::uint8_t next_header,
                     std::size_t icv_field_len, std::uint32_t spi, std::uint32_t seq) noexcept {
  const std::size_t len = kAhFixedLen + icv_field_len;
  if (out.size() < len || len % 4 != 0) return 0;
  std::uint8_t* p = out.data();
  p[0] = next_header;
  p[1] = static_cast<std::uint8_t>(len / 4 - 2);
  p[2] = 0;
  p[3] = 0;
  store_be32(p + 4, spi);
  store_be32(p + 8, seq);
  std::memset(p + kAhFixedLen, 0, icv_field_len);
  return len;
}

}  // namespace netscope::packet
