// Building blocks for the analysis tables: an open-addressing index from a 64-bit hash to
// an entry number (with deletion), and a set-associative table that evicts the least
// recently used entry of a full bucket. Both allocate at construction only.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "netscope/decode/packet.hpp"

namespace netscope::analysis {

/// Maps hashes to entry numbers [0, capacity). Linear probing over a power-of-two slot
/// array at most half full; erase() shifts entries back, so there are no tombstones and
/// lookups stay short. The caller keeps the keys and supplies the equality test.
class HashIndex {
 public:
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;

  explicit HashIndex(std::uint32_t capacity)
      : slots_count_(std::bit_ceil(std::max<std::uint32_t>(capacity, 8) * 2)),
        mask_(slots_count_ - 1),
        slots_(std::make_unique<std::uint64_t[]>(slots_count_)) {}

  /// Entry number whose key satisfies `eq(entry)`, or kNone. Does not allocate.
  template <typename Eq>
  [[nodiscard]] std::uint32_t find(std::uint64_t h, Eq&& eq) const noexcept {
    const auto tag = static_cast<std::uint32_t>(h);
    for (std::uint32_t i = tag & mask_;; i = (i + 1) & mask_) {
      const std::uint64_t s = slots_[i];
      if (s == 0) return kNone;
      if (static_cast<std::uint32_t>(s >> 32) == tag) {
        const auto e = static_cast<std::uint32_t>(s) - 1;
        if (eq(e)) return e;
      }
    }
  }

  /// Adds entry `e` under hash `h`. The key must be absent and fewer than `capacity`
  /// entries present. Does not allocate.
  void insert(std::uint64_t h, std::uint32_t e) noexcept {
    const auto tag = static_cast<std::uint32_t>(h);
    std::uint32_t i = tag & mask_;
    while (slots_[i] != 0) i = (i + 1) & mask_;
    slots_[i] = (static_cast<std::uint64_t>(tag) << 32) | (static_cast<std::uint64_t>(e) + 1);
  }

  /// Removes entry `e`, inserted under hash `h`. Does nothing when absent.
  void erase(std::uint64_t h, std::uint32_t e) noexcept {
    const auto tag = static_cast<std::uint32_t>(h);
    std::uint32_t i = tag & mask_;
    for (;; i = (i + 1) & mask_) {
      const std::uint64_t s = slots_[i];
      if (s == 0) return;
      if (static_cast<std::uint32_t>(s) == e + 1) break;
    }
    // Backward shift: move later entries of the run into the hole when their home allows.
    std::uint32_t hole = i;
    for (std::uint32_t j = (hole + 1) & mask_;; j = (j + 1) & mask_) {
      const std::uint64_t s = slots_[j];
      if (s == 0) break;
      const std::uint32_t home = static_cast<std::uint32_t>(s >> 32) & mask_;
      // Movable when home is not cyclically in (hole, j].
      const bool in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!in_range) {
        slots_[hole] = s;
        hole = j;
      }
    }
    slots_[hole] = 0;
  }

  void clear() noexcept { std::fill_n(slots_.get(), slots_count_, 0); }
  [[nodiscard]] std::uint64_t memory_bytes() const noexcept { return slots_count_ * sizeof(std::uint64_t); }

 private:
  std::uint32_t slots_count_;
  std::uint32_t mask_;
  std::unique_ptr<std::uint64_t[]> slots_;
};

/// A host: address and VLAN. Zero-filled padding so that it hashes as bytes.
struct HostKey {
  std::array<std::uint8_t, 16> addr{};
  std::uint8_t version = 0;
  std::uint8_t pad_ = 0;
  std::uint16_t vlan = 0;
  std::uint32_t extra = 0;  ///< a port, or 0 (tables keyed by host and port)
  friend bool operator==(const HostKey&, const HostKey&) = default;
};
static_assert(sizeof(HostKey) == 24);

/// Two hosts (ordered as the table using it defines) and a VLAN.
struct HostPairKey {
  std::array<std::uint8_t, 16> a{};
  std::array<std::uint8_t, 16> b{};
  std::uint8_t version = 0;
  std::uint8_t pad_ = 0;
  std::uint16_t vlan = 0;
  std::uint32_t pad2_ = 0;
  friend bool operator==(const HostPairKey&, const HostPairKey&) = default;
};
static_assert(sizeof(HostPairKey) == 40);

inline HostKey host_key(const decode::IpAddr& ip, std::uint16_t vlan = 0, std::uint32_t extra = 0) noexcept {
  HostKey k;
  k.addr = ip.bytes;
  k.version = ip.version;
  k.vlan = vlan;
  k.extra = extra;
  return k;
}

inline decode::IpAddr ip_of(const HostKey& k) noexcept {
  decode::IpAddr ip;
  ip.bytes = k.addr;
  ip.version = k.version;
  return ip;
}

/// util::hash_key of `n` bytes (`n` a multiple of 8): the hash the flow table uses.
[[nodiscard]] std::uint64_t hash_bytes(const void* p, std::size_t n) noexcept;
[[nodiscard]] inline std::uint64_t hash(const HostKey& k) noexcept { return hash_bytes(&k, sizeof k); }
[[nodiscard]] inline std::uint64_t hash(const HostPairKey& k) noexcept { return hash_bytes(&k, sizeof k); }

/// Fixed-capacity map in buckets of kWays entries. A key lives in the bucket its hash
/// selects; when that bucket is full, the entry used least recently is evicted (the
/// caller counts it). Lookup and insert visit one bucket: bounded work. Entry must have
/// `Key key` and `std::uint64_t last_ns`. Single writer.
template <typename Key, typename Entry>
class BucketTable {
 public:
  static constexpr std::uint32_t kWays = 8;

  explicit BucketTable(std::uint32_t capacity)
      : buckets_(std::bit_ceil(std::max<std::uint32_t>((capacity + kWays - 1) / kWays, 1))),
        entries_(std::make_unique<Entry[]>(static_cast<std::size_t>(buckets_) * kWays)),
        tags_(std::make_unique<std::uint32_t[]>(static_cast<std::size_t>(buckets_) * kWays)) {}

  /// The entry of `key`, or nullptr. Does not change recency.
  [[nodiscard]] Entry* find(const Key& key, std::uint64_t h) noexcept {
    const std::uint32_t base = bucket_of(h) * kWays;
    const std::uint32_t tag = tag_of(h);
    for (std::uint32_t i = base; i < base + kWays; ++i) {
      if (tags_[i] == tag && entries_[i].key == key) return &entries_[i];
    }
    return nullptr;
  }

  /// Finds or inserts `key`. A new entry is value-initialised with its key set;
  /// `created` tells. When the bucket was full, its least recently used entry is
  /// replaced: `evicted` is set and, when `victim` is not null, the old entry copied
  /// there first. Sets last_ns = now. Never fails; does not allocate.
  Entry* find_or_insert(const Key& key, std::uint64_t h, std::uint64_t now, bool& created,
                        bool& evicted, Entry* victim = nullptr) noexcept {
    created = false;
    evicted = false;
    const std::uint32_t base = bucket_of(h) * kWays;
    const std::uint32_t tag = tag_of(h);
    std::uint32_t free_way = kNoWay;
    std::uint32_t oldest = base;
    for (std::uint32_t i = base; i < base + kWays; ++i) {
      if (tags_[i] == tag && entries_[i].key == key) {
        entries_[i].last_ns = std::max(entries_[i].last_ns, now);
        return &entries_[i];
      }
      if (tags_[i] == 0) {
        if (free_way == kNoWay) free_way = i;
      } else if (entries_[i].last_ns < entries_[oldest].last_ns || tags_[oldest] == 0) {
        oldest = i;
      }
    }
    std::uint32_t way = free_way;
    if (way == kNoWay) {
      way = oldest;
      evicted = true;
      if (victim != nullptr) *victim = entries_[way];
    } else {
      ++size_;
    }
    entries_[way] = Entry{};
    entries_[way].key = key;
    entries_[way].last_ns = now;
    tags_[way] = tag;
    created = true;
    return &entries_[way];
  }

  /// Removes the entry `e` points to (from find/find_or_insert).
  void erase(Entry* e) noexcept {
    const auto i = static_cast<std::size_t>(e - entries_.get());
    if (tags_[i] != 0) --size_;
    tags_[i] = 0;
    entries_[i] = Entry{};
  }

  /// Position of an entry in [0, capacity()), stable while it stays in the table.
  [[nodiscard]] std::uint32_t index_of(const Entry* e) const noexcept {
    return static_cast<std::uint32_t>(e - entries_.get());
  }

  /// The entry in slot `i` (< capacity()), or nullptr when the slot is free. For
  /// incremental walks over the table (a few slots per call).
  [[nodiscard]] const Entry* at(std::size_t i) const noexcept { return tags_[i] != 0 ? &entries_[i] : nullptr; }
  [[nodiscard]] Entry* at(std::size_t i) noexcept { return tags_[i] != 0 ? &entries_[i] : nullptr; }

  /// Calls f(const Entry&) for each entry (owner's thread, or after it stopped).
  template <typename F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < capacity(); ++i) {
      if (tags_[i] != 0) f(static_cast<const Entry&>(entries_[i]));
    }
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return static_cast<std::size_t>(buckets_) * kWays; }
  [[nodiscard]] std::uint32_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint64_t memory_bytes() const noexcept {
    return capacity() * (sizeof(Entry) + sizeof(std::uint32_t));
  }

 private:
  static constexpr std::uint32_t kNoWay = 0xFFFFFFFFu;
  [[nodiscard]] std::uint32_t bucket_of(std::uint64_t h) const noexcept {
    return static_cast<std::uint32_t>(h) & (buckets_ - 1);
  }
  static std::uint32_t tag_of(std::uint64_t h) noexcept {
    return static_cast<std::uint32_t>(h >> 32) | 1u;  // never 0: 0 marks a free way
  }

  std::uint32_t buckets_;
  std::uint32_t size_ = 0;
  std::unique_ptr<Entry[]> entries_;
  std::unique_ptr<std::uint32_t[]> tags_;
};

}  // namespace netscope::analysis
