// IPv4 (with options and header checksum) and IPv6 (with the extension header chain).
#include "netscope/decode/packet.hpp"
#include "wire.hpp"

namespace netscope::decode {

namespace {

constexpr std::size_t kIpv4MinLen = 20;
constexpr std::size_t kIpv6Len = 40;
constexpr std::size_t kIpv6FragmentLen = 8;
constexpr std::uint8_t kIpv4OptEnd = 0;
constexpr std::uint8_t kIpv4OptNop = 1;

void set_ipv4_addr(IpAddr& a, const std::uint8_t* p) noexcept {
  a.bytes = {};
  for (std::size_t i = 0; i < 4; ++i) a.bytes[i] = p[i];
  a.version = 4;
}

void set_ipv6_addr(IpAddr& a, const std::uint8_t* p) noexcept {
  for (std::size_t i = 0; i < 16; ++i) a.bytes[i] = p[i];
  a.version = 6;
}

[[nodiscard]] bool ipv4_checksum_ok(const std::uint8_t* p, std::size_t len) noexcept {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < len; i += 2) sum += wire::load16(p + i);
  sum = (sum & 0xFFFF) + (sum >> 16);
  sum = (sum & 0xFFFF) + (sum >> 16);
  return sum == 0xFFFF;
}

/// Options are TLVs except End (0) and No-Op (1); End makes the rest padding (RFC 791).
[[nodiscard]] bool ipv4_options_ok(const std::uint8_t* p, std::size_t len) noexcept {
  std::size_t i = 0;
  while (i < len) {
    const std::uint8_t type = p[i];
    if (type == kIpv4OptEnd) return true;
    if (type == kIpv4OptNop) {
      ++i;
      continue;
    }
    if (i + 1 >= len) return false;
    const std::uint8_t opt_len = p[i + 1];
    if (opt_len < 2 || opt_len > len - i) return false;
    i += opt_len;
  }
  return true;
}

}  // namespace

LayerResult decode_ipv4(Bytes data, Ipv4Header& out) noexcept {
  if (data.size() < kIpv4MinLen) return {Malformed::truncated_ipv4, 0};
  const std::uint8_t* p = data.data();
  if ((p[0] >> 4) != 4) return {Malformed::bad_ipv4_version, 0};
  const std::size_t ihl = static_cast<std::size_t>(p[0] & 0x0F) * 4;
  out.ihl = static_cast<std::uint8_t>(ihl);
  out.tos = p[1];
  out.total_length = wire::load16(p + 2);
  out.id = wire::load16(p + 4);
  const std::uint16_t frag = wire::load16(p + 6);
  out.dont_fragment = (frag & 0x4000) != 0;
  out.more_fragments = (frag & 0x2000) != 0;
  out.fragment_offset = static_cast<std::uint16_t>((frag & 0x1FFF) << 3);
  out.ttl = p[8];
  out.protocol = p[9];
  out.checksum = wire::load16(p + 10);
  set_ipv4_addr(out.src, p + 12);
  set_ipv4_addr(out.dst, p + 16);
  out.options_len = 0;

  if (ihl < kIpv4MinLen) return {Malformed::bad_ipv4_header_length, 0};
  if (data.size() < ihl) return {Malformed::truncated_ipv4, 0};
  if (out.total_length < ihl) return {Malformed::bad_ipv4_total_length, 0};
  if (!ipv4_checksum_ok(p, ihl)) return {Malformed::bad_ipv4_checksum, 0};
  out.options_len = static_cast<std::uint8_t>(ihl - kIpv4MinLen);
  if (!ipv4_options_ok(p + kIpv4MinLen, out.options_len)) return {Malformed::bad_ipv4_options, 0};
  return {Malformed::none, static_cast<std::uint16_t>(ihl)};
}

LayerResult decode_ipv6(Bytes data, Ipv6Header& out) noexcept {
  if (data.size() < kIpv6Len) return {Malformed::truncated_ipv6, 0};
  const std::uint8_t* p = data.data();
  const std::uint32_t first = wire::load32(p);
  if ((first >> 28) != 6) return {Malformed::bad_ipv6_version, 0};
  out.traffic_class = static_cast<std::uint8_t>(first >> 20);
  out.flow_label = first & 0xFFFFF;
  out.payload_length = wire::load16(p + 4);
  out.next_header = p[6];
  out.hop_limit = p[7];
  set_ipv6_addr(out.src, p + 8);
  set_ipv6_addr(out.dst, p + 24);
  out.ext_count = 0;
  out.fragment = false;
  out.fragment_id = 0;
  out.fragment_offset = 0;
  out.more_fragments = false;

  // Payload length 0 after a hop-by-hop header is a jumbogram (RFC 2675): the length is
  // in the option, so the chain is bounded by the captured bytes only.
  const bool jumbo = out.payload_length == 0 && out.next_header == ipproto::kHopByHop;
  const std::size_t declared_end = jumbo ? data.size() : kIpv6Len + out.payload_length;
  const std::size_t size = data.size();

  std::uint8_t nh = out.next_header;
  std::size_t off = kIpv6Len;
  Malformed error = Malformed::none;
  // Each pass consumes one extension header; the depth check bounds the loop.
  for (;;) {
    std::size_t len = 0;
    if (nh == ipproto::kHopByHop || nh == ipproto::kRouting || nh == ipproto::kDestOpts) {
      len = 2;  // enough to read the length octet
    } else if (nh == ipproto::kFragment) {
      len = kIpv6FragmentLen;
    } else {
      break;  // upper layer, ESP, AH, No Next Header or unknown: the walk ends
    }
    if (out.ext_count == kMaxIpv6ExtHeaders) {
      error = Malformed::ipv6_ext_depth_exceeded;
      break;
    }
    if (off + len > declared_end) {
      error = Malformed::bad_ipv6_payload_length;
      break;
    }
    if (off + len > size) {
      error = Malformed::truncated_ipv6_ext;
      break;
    }
    if (nh != ipproto::kFragment) {
      len = (static_cast<std::size_t>(p[off + 1]) + 1) * 8;
      if (off + len > declared_end) {
        error = Malformed::bad_ipv6_payload_length;
        break;
      }
      if (off + len > size) {
        error = Malformed::truncated_ipv6_ext;
        break;
      }
    }
    out.ext_types[out.ext_count++] = nh;
    const std::uint8_t next = p[off];
    if (nh == ipproto::kFragment) {
      const std::uint16_t field = wire::load16(p + off + 2);
      out.fragment = true;
      out.fragment_offset = static_cast<std::uint16_t>(field & 0xFFF8);
      out.more_fragments = (field & 0x0001) != 0;
      out.fragment_id = wire::load32(p + off + 4);
      off += len;
      nh = next;
      if (out.fragment_offset != 0) break;  // what follows is the middle of a datagram
      continue;
    }
    off += len;
    nh = next;
  }
  out.upper_protocol = nh;
  out.header_chain_len = static_cast<std::uint16_t>(off);
  if (error != Malformed::none) return {error, 0};
  return {Malformed::none, static_cast<std::uint16_t>(off)};
}

}  // namespace netscope::decode
