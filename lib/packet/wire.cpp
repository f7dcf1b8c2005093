#include "netscope/packet/wire.hpp"

namespace netscope::packet {

std::uint32_t checksum_add(std::span<const std::uint8_t> data, std::uint32_t sum) noexcept {
  // 64-bit accumulator: no carry folding inside the loop even for 9000-byte frames.
  std::uint64_t acc = sum;
  std::size_t i = 0;
  const std::size_t n = data.size();
  for (; i + 8 <= n; i += 8) {
    acc += load_be16(&data[i]);
    acc += load_be16(&data[i + 2]);
    acc += load_be16(&data[i + 4]);
    acc += load_be16(&data[i + 6]);
  }
  for (; i + 2 <= n; i += 2) acc += load_be16(&data[i]);
  if (i < n) acc += std::uint32_t{data[i]} << 8;
  while (acc >> 32) acc = (acc & 0xFFFFFFFFu) + (acc >> 32);
  return static_cast<std::uint32_t>(acc);
}

std::uint16_t checksum_finish(std::uint32_t sum) noexcept {
  while (sum >> 16) sum = (sum & 0xFFFFu) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace netscope::packet
