// IPsec ESP (RFC 4303) and AH (RFC 4302) headers.
#include "netscope/decode/packet.hpp"
#include "wire.hpp"

namespace netscope::decode {

namespace {
constexpr std::size_t kEspLen = 8;
constexpr std::size_t kAhFixedLen = 12;  // next header, length, reserved, SPI, sequence
}  // namespace

LayerResult decode_esp(Bytes data, EspHeader& out) noexcept {
  if (data.size() < kEspLen) return {Malformed::truncated_esp, 0};
  out.spi = wire::load32(data.data());
  out.seq = wire::load32(data.data() + 4);
  return {Malformed::none, kEspLen};
}

LayerResult decode_ah(Bytes data, bool ipv6, AhHeader& out) noexcept {
  if (data.size() < kAhFixedLen) return {Malformed::truncated_ah, 0};
  const std::uint8_t* p = data.data();
  out.next_header = p[0];
  out.payload_len = p[1];
  const std::size_t len = (static_cast<std::size_t>(p[1]) + 2) * 4;
  out.header_len = static_cast<std::uint16_t>(len);
  out.spi = wire::load32(p + 4);
  out.seq = wire::load32(p + 8);
  out.icv_offset = static_cast<std::uint16_t>(kAhFixedLen);
  out.icv_len = 0;
  if (len < kAhFixedLen || (ipv6 && len % 8 != 0)) return {Malformed::bad_ah_length, 0};
  if (len > data.size()) return {Malformed::truncated_ah, 0};
  out.icv_len = static_cast<std::uint16_t>(len - kAhFixedLen);
  return {Malformed::none, static_cast<std::uint16_t>(len)};
}

}  // namespace netscope::decode
