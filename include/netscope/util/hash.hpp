// Fast 64-bit hashing of small fixed-size keys (table lookups on the per-packet path).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace netscope::util {

__extension__ typedef unsigned __int128 Uint128;  ///< GCC/Clang extension, silenced for -Wpedantic

/// 64x64->128 multiply folded to 64 bits (the wyhash mixing step).
inline std::uint64_t mix64(std::uint64_t a, std::uint64_t b) noexcept {
  const Uint128 r = static_cast<Uint128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

/// Hashes `n` bytes (a multiple of 8) of a trivially copyable key. One multiply per 16
/// bytes. Not cryptographic; well distributed in the low and high bits.
inline std::uint64_t hash_key(const void* key, std::size_t n) noexcept {
  constexpr std::uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                          k2 = 0x8ebc6af09c88c6e3ull;
  const auto* p = static_cast<const unsigned char*>(key);
  std::uint64_t h = k2 ^ n;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    std::uint64_t a, b;
    std::memcpy(&a, p + i, 8);
    std::memcpy(&b, p + i + 8, 8);
    h = mix64(a ^ k0 ^ h, b ^ k1);
  }
  if (i < n) {
    std::uint64_t a;
    std::memcpy(&a, p + i, 8);
    h = mix64(a ^ k0 ^ h, k1 ^ h);
  }
  return mix64(h ^ k0, h ^ k2);
}

}  // namespace netscope::util
