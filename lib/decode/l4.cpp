// TCP (with options), UDP, ICMP and ICMPv6.
#include <algorithm>

#include "netscope/decode/packet.hpp"
#include "wire.hpp"

namespace netscope::decode {

namespace {

constexpr std::size_t kTcpMinLen = 20;
constexpr std::size_t kUdpLen = 8;
constexpr std::size_t kIcmpLen = 8;

namespace tcpopt {
constexpr std::uint8_t kEnd = 0;
constexpr std::uint8_t kNop = 1;
constexpr std::uint8_t kMss = 2;
constexpr std::uint8_t kWindowScale = 3;
constexpr std::uint8_t kSackPermitted = 4;
constexpr std::uint8_t kSack = 5;
constexpr std::uint8_t kTimestamps = 8;
}  // namespace tcpopt

/// Walks the option area (at most 40 bytes, so the loop is bounded). Known kinds must have
/// their fixed length; unknown kinds are skipped by their length octet.
[[nodiscard]] bool parse_tcp_options(const std::uint8_t* p, std::size_t len,
                                     TcpOptions& out) noexcept {
  std::size_t i = 0;
  while (i < len) {
    const std::uint8_t kind = p[i];
    if (kind == tcpopt::kEnd) return true;
    if (kind == tcpopt::kNop) {
      ++i;
      continue;
    }
    if (i + 1 >= len) return false;
    const std::size_t opt_len = p[i + 1];
    if (opt_len < 2 || opt_len > len - i) return false;
    const std::uint8_t* v = p + i + 2;
    switch (kind) {
      case tcpopt::kMss:
        if (opt_len != 4) return false;
        out.mss = wire::load16(v);
        break;
      case tcpopt::kWindowScale:
        if (opt_len != 3) return false;
        out.window_scale = v[0];
        break;
      case tcpopt::kSackPermitted:
        if (opt_len != 2) return false;
        out.sack_permitted = true;
        break;
      case tcpopt::kSack: {
        if (opt_len < 10 || (opt_len - 2) % 8 != 0) return false;
        const std::size_t blocks = std::min((opt_len - 2) / 8, kMaxSackBlocks);
        for (std::size_t b = 0; b < blocks; ++b) {
          out.sack[2 * b] = wire::load32(v + 8 * b);
          out.sack[2 * b + 1] = wire::load32(v + 8 * b + 4);
        }
        out.sack_blocks = static_cast<std::uint8_t>(blocks);
        break;
      }
      case tcpopt::kTimestamps:
        if (opt_len != 10) return false;
        out.has_timestamps = true;
        out.ts_val = wire::load32(v);
        out.ts_ecr = wire::load32(v + 4);
        break;
      default:
        break;
    }
    i += opt_len;
  }
  return true;
}

}  // namespace

LayerResult decode_tcp(Bytes data, TcpHeader& out) noexcept {
  if (data.size() < kTcpMinLen) return {Malformed::truncated_tcp, 0};
  const std::uint8_t* p = data.data();
  out.src_port = wire::load16(p);
  out.dst_port = wire::load16(p + 2);
  out.seq = wire::load32(p + 4);
  out.ack = wire::load32(p + 8);
  const std::size_t data_offset = static_cast<std::size_t>(p[12] >> 4) * 4;
  out.data_offset = static_cast<std::uint8_t>(data_offset);
  out.flags = p[13];
  out.window = wire::load16(p + 14);
  out.checksum = wire::load16(p + 16);
  out.urgent = wire::load16(p + 18);
  out.options.mss = 0;
  out.options.window_scale = -1;
  out.options.sack_permitted = false;
  out.options.sack_blocks = 0;
  out.options.has_timestamps = false;
  out.options.ts_val = 0;
  out.options.ts_ecr = 0;

  if (data_offset < kTcpMinLen || data_offset > data.size()) {
    return {Malformed::bad_tcp_data_offset, 0};
  }
  if (!parse_tcp_options(p + kTcpMinLen, data_offset - kTcpMinLen, out.options)) {
    return {Malformed::bad_tcp_options, 0};
  }
  return {Malformed::none, static_cast<std::uint16_t>(data_offset)};
}

LayerResult decode_udp(Bytes data, UdpHeader& out) noexcept {
  if (data.size() < kUdpLen) return {Malformed::truncated_udp, 0};
  const std::uint8_t* p = data.data();
  out.src_port = wire::load16(p);
  out.dst_port = wire::load16(p + 2);
  out.length = wire::load16(p + 4);
  out.checksum = wire::load16(p + 6);
  if (out.length < kUdpLen) return {Malformed::bad_udp_length, 0};
  return {Malformed::none, kUdpLen};
}

namespace {
void fill_icmp(const std::uint8_t* p, IcmpHeader& out) noexcept {
  out.type = p[0];
  out.code = p[1];
  out.checksum = wire::load16(p + 2);
  out.rest = wire::load32(p + 4);
}
}  // namespace

LayerResult decode_icmp(Bytes data, IcmpHeader& out) noexcept {
  if (data.size() < kIcmpLen) return {Malformed::truncated_icmp, 0};
  fill_icmp(data.data(), out);
  return {Malformed::none, kIcmpLen};
}

LayerResult decode_icmpv6(Bytes data, IcmpHeader& out) noexcept {
  if (data.size() < kIcmpLen) return {Malformed::truncated_icmpv6, 0};
  fill_icmp(data.data(), out);
  return {Malformed::none, kIcmpLen};
}

}  // namespace netscope::decode
