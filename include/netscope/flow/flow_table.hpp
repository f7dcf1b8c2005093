// Bidirectional L3/L4 flows in a fixed-capacity table, one per lcore (single writer).
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "netscope/decode/packet.hpp"

namespace netscope::flow {

/// A flow key with the two endpoints in canonical order (lower address/port first), so
/// both directions of a conversation map to one key. VLAN-aware (outer VLAN ID).
struct FlowKey {
  std::array<std::uint8_t, 16> addr_a{};
  std::array<std::uint8_t, 16> addr_b{};
  std::uint16_t port_a = 0;
  std::uint16_t port_b = 0;
  std::uint16_t vlan = 0;  ///< outer VLAN ID, 0 when untagged
  std::uint8_t protocol = 0;
  std::uint8_t ip_version = 0;
  friend bool operator==(const FlowKey&, const FlowKey&) = default;
};
static_assert(sizeof(FlowKey) == 40);

[[nodiscard]] std::uint64_t hash(const FlowKey& k) noexcept;

/// Builds the canonical key of an IP packet. `forward` tells whether the packet goes from
/// endpoint a to b. Returns false for frames without IP.
bool flow_key_of(const decode::DecodedPacket& p, FlowKey& key, bool& forward) noexcept;

struct FlowDirection {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
};

struct FlowEntry {
  FlowKey key;
  FlowDirection a_to_b;
  FlowDirection b_to_a;
  std::uint64_t first_seen_ns = 0;
  std::uint64_t last_seen_ns = 0;
  std::uint8_t tcp_flags = 0;       ///< union of TCP flags seen
  bool initiator_is_a = true;       ///< the first packet went a -> b
  bool used = false;
};

/// Open-addressing flow table, all memory allocated at construction. One writer.
class FlowTable {
 public:
  explicit FlowTable(std::uint32_t capacity);

  /// Finds or inserts; nullptr when full (the caller counts it). Does not allocate.
  FlowEntry* find_or_insert(const FlowKey& key, std::uint64_t h, bool& created) noexcept;

  [[nodiscard]] std::uint32_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint32_t capacity() const noexcept { return max_size_; }

  /// Visits every used entry (control side, after the writer stopped).
  template <typename F>
  void for_each(F&& f) const {
    for (std::uint32_t i = 0; i < slots_; ++i) {
      if (entries_[i].used) {
        f(entries_[i]);
      }
    }
  }

 private:
  std::uint32_t slots_ = 0;
  std::uint32_t mask_ = 0;
  std::uint32_t size_ = 0;
  std::uint32_t max_size_ = 0;
  std::unique_ptr<FlowEntry[]> entries_;
};

}  // namespace netscope::flow
