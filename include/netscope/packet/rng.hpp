// Small deterministic random number generator: the same seed gives the same stream on
// every platform, which makes generated captures byte-identical for one --seed.
#pragma once

#include <cstdint>

namespace netscope::packet {

__extension__ typedef unsigned __int128 Uint128;  // GCC/Clang builtin; __extension__ for -Wpedantic

/// SplitMix64 step (Steele, Lea, Flood 2014): advances `state`, returns a mixed value.
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Seed of an independent stream `stream` derived from a run seed.
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) noexcept {
  std::uint64_t s = seed ^ (stream * 0xD1B54A32D192ED03ull);
  return splitmix64(s);
}

/// xoshiro256** (Blackman, Vigna). Not cryptographic. Does not allocate.
class Rng {
 public:
  explicit constexpr Rng(std::uint64_t seed = 0) noexcept {
    std::uint64_t s = seed;
    for (auto& word : s_) word = splitmix64(s);
  }

  constexpr std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform double in [0, 1).
  constexpr double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// Uniform integer in [0, n); 0 when n is 0. Lemire's multiply-shift (bias below 2^-64 n).
  constexpr std::uint64_t below(std::uint64_t n) noexcept {
    return static_cast<std::uint64_t>((static_cast<Uint128>(next()) * n) >> 64);
  }

  /// True with probability p (p <= 0: never, p >= 1: always; no draw in either case).
  constexpr bool chance(double p) noexcept {
    if (p <= 0.0) return false;
    if (p >= 1.0) return true;
    return uniform() < p;
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
  }
  std::uint64_t s_[4]{};
};

}  // namespace netscope::packet
