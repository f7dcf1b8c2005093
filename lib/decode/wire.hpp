// Private to lib/decode: network-byte-order loads. Callers check bounds first.
#pragma once

#include <cstddef>
#include <cstdint>

namespace netscope::decode::wire {

inline constexpr std::size_t kEthertypeLen = 2;

[[nodiscard]] inline std::uint16_t load16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

[[nodiscard]] inline std::uint32_t load32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

[[nodiscard]] inline std::uint64_t load64(const std::uint8_t* p) noexcept {
  return (std::uint64_t{load32(p)} << 32) | load32(p + 4);
}

}  // namespace netscope::decode::wire
