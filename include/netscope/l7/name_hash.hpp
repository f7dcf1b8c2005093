// Byte spans and the 32-bit FNV-1a name hash shared by the L7 parsers.
//
// The parsers hash names (HTTP Host, request-target, DNS question name) incrementally, one
// byte at a time, so the hash of a value split across TCP segments equals the hash of the
// whole value. Callers compute the same hash of a known name with these functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace netscope::l7 {

using Bytes = std::span<const std::uint8_t>;

inline constexpr std::uint32_t kNameHashSeed = 2166136261u;  ///< FNV-1a 32-bit offset basis
inline constexpr std::uint32_t kNameHashPrime = 16777619u;   ///< FNV-1a 32-bit prime

/// ASCII lower case; other bytes unchanged.
[[nodiscard]] constexpr std::uint8_t ascii_lower(std::uint8_t c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<std::uint8_t>(c | 0x20) : c;
}

/// One FNV-1a step.
[[nodiscard]] constexpr std::uint32_t name_hash_step(std::uint32_t h, std::uint8_t c) noexcept {
  return (h ^ c) * kNameHashPrime;
}

/// Exact hash of a byte string (HTTP request-target).
[[nodiscard]] constexpr std::uint32_t name_hash(std::string_view s) noexcept {
  std::uint32_t h = kNameHashSeed;
  for (const char c : s) h = name_hash_step(h, static_cast<std::uint8_t>(c));
  return h;
}

/// Hash with ASCII letters folded to lower case (HTTP Host, DNS names in dotted form).
[[nodiscard]] constexpr std::uint32_t name_hash_nocase(std::string_view s) noexcept {
  std::uint32_t h = kNameHashSeed;
  for (const char c : s) h = name_hash_step(h, ascii_lower(static_cast<std::uint8_t>(c)));
  return h;
}

}  // namespace netscope::l7
