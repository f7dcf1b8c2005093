// Bidirectional L3/L4 flows in a fixed-capacity table, one per lcore (single writer), with
// O(1) LRU eviction and incremental idle expiry.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "netscope/util/large_array.hpp"
#include <string_view>

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
  /// Word-wise comparison: the key has no padding, and every builder zero-fills it.
  friend bool operator==(const FlowKey& a, const FlowKey& b) noexcept {
    std::uint64_t x[5], y[5];
    std::memcpy(x, &a, sizeof x);
    std::memcpy(y, &b, sizeof y);
    std::uint64_t d = 0;
    for (int i = 0; i < 5; ++i) d |= x[i] ^ y[i];
    return d == 0;
  }
};
static_assert(sizeof(FlowKey) == 40);

[[nodiscard]] std::uint64_t hash(const FlowKey& k) noexcept;

/// Builds the canonical key of an IP packet. `forward` tells whether the packet goes from
/// endpoint a to b. Returns false for frames without IP.
bool flow_key_of(const decode::DecodedPacket& p, FlowKey& key, bool& forward) noexcept;
/// The same, with `h` = hash(key) computed on the way (the per-packet path).
bool flow_key_of(const decode::DecodedPacket& p, FlowKey& key, bool& forward, std::uint64_t& h) noexcept;

struct FlowDirection {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
};

/// Why a flow record left its table.
enum class EndReason : std::uint8_t { idle_timeout, table_full, shutdown };
std::string_view to_string(EndReason r) noexcept;

struct alignas(64) FlowEntry {
  // First cache line: everything a packet reads before it knows what to do (the key, the
  // recency stamp, the flags). The second line holds what a packet only adds to (the
  // counters) and what expiry and eviction use (link time, list links, hash).
  FlowKey key;
  std::uint64_t last_seen_ns = 0;
  std::uint32_t hash = 0;      ///< low 32 bits of hash(key)
  std::uint8_t tcp_flags = 0;  ///< union of TCP flags seen
  std::uint8_t list = 0;       ///< 0 active, 1 closed (TCP FIN/RST seen)
  bool initiator_is_a = true;  ///< the first packet went a -> b
  bool used = false;
  bool analysis_idle = false;  ///< per-flow analysis has nothing left to do (engine::FlowAnalyzer::idle_after)
  bool stamped = false;        ///< a packet has set last_seen_ns and linked_ns
  FlowDirection a_to_b;
  FlowDirection b_to_a;
  std::uint64_t first_seen_ns = 0;
  std::uint64_t linked_ns = 0;  ///< last_seen when the entry was (re)linked at its list head
  std::uint32_t lru_prev = 0;  ///< index + 1, 0 = none
  std::uint32_t lru_next = 0;
};
static_assert(sizeof(FlowEntry) <= 128, "keep flows small: <= 256 bytes per flow in all");
static_assert(offsetof(FlowEntry, stamped) < 64, "the per-packet fields share the first cache line");

struct FlowTimeouts {
  std::uint64_t idle_ns = 60'000'000'000ull;   ///< any flow without packets this long
  std::uint64_t closed_ns = 5'000'000'000ull;  ///< TCP flow after FIN or RST
};

/// Open-addressing index plus two LRU lists; all memory allocated at construction.
/// One writer; not thread-safe. Never allocates after construction.
class FlowTable {
 public:
  explicit FlowTable(std::uint32_t capacity);

  /// Prefetches the index slot of hash `h` (call a few packets ahead of the lookup).
  void prefetch(std::uint64_t h) const noexcept { __builtin_prefetch(&index_[static_cast<std::uint32_t>(h) & mask_]); }

  /// Prefetches the entries whose index slot carries `h`'s tag (second prefetch round),
  /// without reading them: comparing keys here would wait for the very line being
  /// prefetched. A tag match of another key only costs a useless prefetch.
  void prefetch_entry(std::uint64_t h) const noexcept {
    const auto tag = static_cast<std::uint32_t>(h);
    for (std::uint32_t i = tag & mask_;; i = (i + 1) & mask_) {
      const std::uint64_t s = index_[i];
      if (s == 0) return;
      if (static_cast<std::uint32_t>(s >> 32) == tag) {
        const FlowEntry* e = &entries_[static_cast<std::uint32_t>(s) - 1];
        __builtin_prefetch(e);
        __builtin_prefetch(reinterpret_cast<const char*>(e) + 64);
      }
    }
  }

  /// Finds `key`; nullptr when absent. Does not change recency.
  [[nodiscard]] FlowEntry* find(const FlowKey& key, std::uint64_t h) noexcept;

  /// Finds or inserts. When the table is full the least recently used flow (closed ones
  /// first) is evicted: it is copied to `evicted` and `did_evict` is set. Never fails.
  FlowEntry* find_or_insert(const FlowKey& key, std::uint64_t h, bool& created,
                            FlowEntry& evicted, bool& did_evict) noexcept;

  /// Marks use at `now`. Lazy LRU: only the timestamp is written here (no list writes on
  /// the per-packet path); a touched entry is moved to the head when it reaches the tail
  /// (expiry or eviction), so lists stay ordered by the time entries were linked. O(1).
  void touch(FlowEntry& e, std::uint64_t now) noexcept {
    if (!e.stamped) [[unlikely]] {
      e.stamped = true;
      e.linked_ns = now;  // the first packet stamps the link time
      e.last_seen_ns = now;
    } else if (now > e.last_seen_ns) {
      e.last_seen_ns = now;
    }
  }

  /// Moves a flow to the closed list (shorter timeout). O(1).
  void mark_closed(FlowEntry& e) noexcept;

  /// Expires at most `max_work` idle flows at time `now`, oldest first; calls
  /// `on_expired(const FlowEntry&)` for each before removing it. Returns the number expired.
  template <typename F>
  std::uint32_t expire(std::uint64_t now, const FlowTimeouts& t, std::uint32_t max_work, F&& on_expired) noexcept {
    std::uint32_t n = 0;
    for (std::uint8_t l = 0; l < 2; ++l) {
      const std::uint64_t timeout = l == 0 ? t.idle_ns : t.closed_ns;
      std::uint32_t work = 0;
      while (n < max_work && work < 4 * max_work && tail_[l] != 0) {
        FlowEntry& e = entries_[tail_[l] - 1];
        ++work;
        // The list is ordered by link time and last_seen >= linked_ns: while the tail was
        // linked less than a timeout ago, no flow of the list can be idle yet. Stopping
        // here keeps active flows from being relinked on every call (at 1M flows each
        // relink is a few cache misses); a flow is relinked at most once per timeout.
        if (!e.stamped || e.linked_ns + timeout > now) break;
        if (e.last_seen_ns + timeout > now) {
          relink(e);  // used since linked: to the head
          continue;
        }
        on_expired(static_cast<const FlowEntry&>(e));
        remove(e);
        ++n;
      }
    }
    return n;
  }

  /// Removes up to `max` flows (all by default), calling `f(const FlowEntry&)` for each
  /// (shutdown flush). Returns how many were removed.
  template <typename F>
  std::uint32_t drain(F&& f, std::uint32_t max = 0xFFFFFFFFu) noexcept {
    std::uint32_t n = 0;
    for (std::uint8_t l = 0; l < 2; ++l) {
      while (tail_[l] != 0 && n < max) {
        FlowEntry& e = entries_[tail_[l] - 1];
        f(static_cast<const FlowEntry&>(e));
        remove(e);
        ++n;
      }
    }
    return n;
  }

  /// Visits every flow in the table (control side, after the writer stopped).
  template <typename F>
  void for_each(F&& f) const {
    for (std::uint32_t i = 0; i < capacity_; ++i) {
      if (entries_[i].used) f(entries_[i]);
    }
  }

  /// Slot of `e` in [0, capacity()): stable while the flow is in the table, so callers can
  /// keep per-flow state in an array parallel to the table. A slot is reused only through
  /// find_or_insert (created == true), and an insertion that evicts reuses the victim's slot.
  [[nodiscard]] std::uint32_t slot_of(const FlowEntry& e) const noexcept { return index_of(e); }

  [[nodiscard]] std::uint32_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint32_t capacity() const noexcept { return capacity_; }
  /// Bytes of memory held, for the memory budget (entries plus index).
  [[nodiscard]] std::uint64_t memory_bytes() const noexcept;

 private:
  void remove(FlowEntry& e) noexcept;
  void relink(FlowEntry& e) noexcept;
  void unlink(FlowEntry& e) noexcept;
  void push_front(FlowEntry& e, std::uint8_t list) noexcept;
  [[nodiscard]] std::uint32_t index_of(const FlowEntry& e) const noexcept {
    return static_cast<std::uint32_t>(&e - entries_.get());
  }

  std::uint32_t capacity_ = 0;
  std::uint32_t slots_ = 0;  ///< index slots: a power of two >= 2 * capacity
  std::uint32_t mask_ = 0;
  std::uint32_t size_ = 0;
  std::uint32_t free_head_ = 0;  ///< free entries, linked through lru_next (index + 1)
  std::array<std::uint32_t, 2> head_{};  ///< most recent, per list (index + 1)
  std::array<std::uint32_t, 2> tail_{};  ///< least recent
  util::LargeArray<FlowEntry> entries_;
  util::LargeArray<std::uint64_t> index_;  ///< (hash32 << 32) | (entry index + 1); 0 empty
};

}  // namespace netscope::flow
