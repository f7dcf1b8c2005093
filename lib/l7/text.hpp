// Private to lib/l7: byte classes and network-order loads. Callers check bounds first.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace netscope::l7::text {

/// RFC 9110 5.6.2 tchar: "!#$%&'*+-.^_`|~", digits, letters.
inline constexpr std::array<bool, 256> kTchar = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (const char c : std::array{'!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_',
                                 '`', '|', '~'}) {
    t[static_cast<std::uint8_t>(c)] = true;
  }
  return t;
}();

[[nodiscard]] inline bool is_tchar(std::uint8_t c) noexcept { return kTchar[c]; }
[[nodiscard]] inline bool is_digit(std::uint8_t c) noexcept { return c >= '0' && c <= '9'; }
[[nodiscard]] inline bool is_ows(std::uint8_t c) noexcept { return c == ' ' || c == '\t'; }
/// Control characters other than HT, and DEL: never valid in a field value or reason.
[[nodiscard]] inline bool is_ctl(std::uint8_t c) noexcept {
  return (c < 0x20 && c != '\t') || c == 0x7F;
}

/// Hex digit value, or -1.
[[nodiscard]] inline int hex_value(std::uint8_t c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  const std::uint8_t l = static_cast<std::uint8_t>(c | 0x20);
  if (l >= 'a' && l <= 'f') return l - 'a' + 10;
  return -1;
}

/// Index of the first control byte (is_ctl) in p[0, n), or n. The OR pass vectorizes; the
/// search runs only on a hit.
[[nodiscard]] inline std::size_t find_ctl(const std::uint8_t* p, std::size_t n) noexcept {
  unsigned bad = 0;
  for (std::size_t k = 0; k < n; ++k) bad |= static_cast<unsigned>(is_ctl(p[k]));
  if (bad == 0) return n;
  std::size_t k = 0;
  while (!is_ctl(p[k])) ++k;
  return k;
}

[[nodiscard]] inline std::uint16_t load16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

[[nodiscard]] inline std::uint32_t load24(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8) | std::uint32_t{p[2]};
}

[[nodiscard]] inline std::uint32_t load32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

}  // namespace netscope::l7::text
