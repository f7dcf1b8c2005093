// Byte-order helpers and the Internet checksum, shared by the frame builders.
//
// All functions work on caller-provided memory, never allocate and never throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace netscope::packet {

/// Writes `v` big-endian at `p` (2, 4 or 8 bytes). Does not check bounds.
inline void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}
inline void store_be64(std::uint8_t* p, std::uint64_t v) noexcept {
  store_be32(p, static_cast<std::uint32_t>(v >> 32));
  store_be32(p + 4, static_cast<std::uint32_t>(v));
}

/// Reads a big-endian value at `p`. Does not check bounds.
inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
inline std::uint64_t load_be64(const std::uint8_t* p) noexcept {
  return (std::uint64_t{load_be32(p)} << 32) | load_be32(p + 4);
}

/// One's-complement sum of `data` as 16-bit big-endian words added to `sum` (RFC 1071),
/// not folded. An odd trailing byte is padded with zero, so only the last of several
/// chained chunks may have an odd length.
std::uint32_t checksum_add(std::span<const std::uint8_t> data, std::uint32_t sum = 0) noexcept;

/// Folds a partial sum to 16 bits and complements it: the value to store in a header.
std::uint16_t checksum_finish(std::uint32_t sum) noexcept;

/// Internet checksum of `data` (RFC 1071), ready to store.
inline std::uint16_t internet_checksum(std::span<const std::uint8_t> data) noexcept {
  return checksum_finish(checksum_add(data));
}

}  // namespace netscope::packet
