// Fixed-capacity table of security associations, one per lcore (single writer).
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>

#include "netscope/util/large_array.hpp"
#include <span>
#include <string>

#include "netscope/decode/packet.hpp"
#include "netscope/seq/tracker.hpp"

namespace netscope::seq {

enum class SaProtocol : std::uint8_t { macsec = 1, esp = 2, ah = 3 };

/// Stable lower-case name ("macsec", "esp", "ah").
std::string_view to_string(SaProtocol p) noexcept;

/// Identity of a sequence space. MACsec: (sci, an). ESP/AH: (protocol, dst, spi).
struct SaKey {
  std::uint64_t sci = 0;
  std::array<std::uint8_t, 16> dst{};  ///< destination address, IPv4 in the first 4 bytes
  std::uint32_t spi = 0;
  SaProtocol protocol = SaProtocol::macsec;
  std::uint8_t an = 0;
  std::uint8_t ip_version = 0;
  std::uint8_t udp_encap = 0;  ///< ESP in UDP 4500; part of the key (a different path)
  /// Word-wise comparison: the key has no padding, and every builder zero-fills it.
  friend bool operator==(const SaKey& a, const SaKey& b) noexcept {
    std::uint64_t x[4], y[4];
    std::memcpy(x, &a, sizeof x);
    std::memcpy(y, &b, sizeof y);
    std::uint64_t d = 0;
    for (int i = 0; i < 4; ++i) d |= x[i] ^ y[i];
    return d == 0;
  }
};
static_assert(sizeof(SaKey) == 32);

/// 64-bit hash of a key; also used to pick the owning lcore.
[[nodiscard]] std::uint64_t hash(const SaKey& k) noexcept;

/// Builds the SA key of a decoded packet, if it carries a MACsec SecTAG, ESP or AH header.
/// For MACsec with SC=0 the SCI is the source MAC with port 1. The sequence number goes
/// to `seq32`. Returns false for packets without a sequence space.
bool sa_key_of(const decode::DecodedPacket& p, SaKey& key, std::uint32_t& seq32) noexcept;

/// "sci" text: 16 lower-case hex digits.
std::string sci_text(std::uint64_t sci);
/// Destination address text ("10.0.0.2", "2001:db8::1").
std::string ip_text(const std::array<std::uint8_t, 16>& addr, std::uint8_t version);

struct SaEntry {
  SaKey key;
  SequenceTracker tracker;
  std::uint64_t bytes = 0;
  std::uint64_t first_seen_ns = 0;
  std::uint64_t last_seen_ns = 0;
  std::uint16_t port = 0;  ///< port of the first packet
  bool used = false;
  std::uint8_t recent_head = 0;   ///< next slot of the recent-numbers ring
  std::uint8_t recent_count = 0;  ///< numbers in it (at most kRecentSeq)
};

/// Sequence numbers remembered per SA for the API (flows/{id}/sequence).
inline constexpr std::uint32_t kRecentSeq = 16;

/// Open-addressing SA table with all memory allocated at construction.
/// Not thread-safe: one lcore writes it; others read it only after that lcore stopped.
class SaTable {
 public:
  /// Allocates `capacity` (rounded up to a power of two) entries and their windows.
  SaTable(std::uint32_t capacity, const TrackerConfig& cfg);

  /// Finds or inserts the SA. Returns nullptr when the table is full (caller counts it).
  /// `created` is set when the entry is new. Does not allocate.
  SaEntry* find_or_insert(const SaKey& key, std::uint64_t h, bool& created) noexcept;

  /// Finds the SA without inserting; nullptr when absent. Entries never move or go away,
  /// so the pointer stays valid for the table's lifetime. Does not allocate.
  SaEntry* lookup(const SaKey& key, std::uint64_t h) noexcept {
    return const_cast<SaEntry*>(find(key, h));
  }

  /// Prefetches an entry and its window (call before tracking it).
  void prefetch_entry(const SaEntry& e) const noexcept {
    __builtin_prefetch(&e);
    __builtin_prefetch(reinterpret_cast<const char*>(&e) + 64);
    __builtin_prefetch(reinterpret_cast<const char*>(&e) + 128);
    __builtin_prefetch(bitmaps_.get() + static_cast<std::size_t>(&e - entries_.get()) * words_);
    __builtin_prefetch(recent_.get() + index_of(e) * kRecentSeq);
  }

  /// MACsec only: the most recently seen other AN of the same SCI, or nullptr.
  [[nodiscard]] const SaEntry* previous_an(const SaKey& key) const noexcept;

  /// Remembers the extended number of a packet of `e` in its recent ring. O(1).
  void note_recent(SaEntry& e, std::uint64_t seq) noexcept {
    recent_[index_of(e) * kRecentSeq + e.recent_head] = seq;
    e.recent_head = static_cast<std::uint8_t>((e.recent_head + 1) % kRecentSeq);
    if (e.recent_count < kRecentSeq) ++e.recent_count;
  }
  /// Copies the recent numbers of `e`, oldest first, into `out`; returns how many.
  std::uint32_t recent(const SaEntry& e, std::span<std::uint64_t, kRecentSeq> out) const noexcept;

  /// Forgets the sequence state of `e` (counters, window, recent numbers): its next
  /// packet starts it again. Key, port and first-seen time stay.
  void reset(SaEntry& e, bool extended) noexcept;

  std::span<std::uint64_t> bitmap(const SaEntry& e) noexcept;
  [[nodiscard]] std::span<const std::uint64_t> bitmap(const SaEntry& e) const noexcept;

  [[nodiscard]] std::uint32_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint32_t capacity() const noexcept { return max_size_; }
  [[nodiscard]] const TrackerConfig& config() const noexcept { return cfg_; }

  /// The entry in slot `i` (0..slots()-1), or nullptr when free. For incremental walks.
  [[nodiscard]] const SaEntry* slot(std::uint32_t i) const noexcept {
    return i < size_ ? &entries_[i] : nullptr;
  }
  [[nodiscard]] std::uint32_t slots() const noexcept { return max_size_; }

  /// Prefetches the index slot of hash `h` (call a few packets ahead of the lookup).
  void prefetch(std::uint64_t h) const noexcept { __builtin_prefetch(&index_[h & mask_]); }

  /// Visits every used entry (control side, after the writer stopped).
  template <typename F>
  void for_each(F&& f) const {
    for (std::uint32_t i = 0; i < size_; ++i) f(entries_[i]);
  }

 private:
  [[nodiscard]] const SaEntry* find(const SaKey& key, std::uint64_t h) const noexcept;
  [[nodiscard]] std::size_t index_of(const SaEntry& e) const noexcept {
    return static_cast<std::size_t>(&e - entries_.get());
  }

  TrackerConfig cfg_;
  std::uint32_t capacity_ = 0;  ///< index slots
  std::uint32_t mask_ = 0;
  std::uint32_t size_ = 0;
  std::uint32_t max_size_ = 0;  ///< load limit that keeps probes short
  std::uint32_t words_ = 0;
  util::LargeArray<SaEntry> entries_;    ///< dense, in insertion order
  util::LargeArray<std::uint64_t> index_;  ///< (hash32 << 32) | (entry index + 1); 0 empty
  util::LargeArray<std::uint64_t> bitmaps_;
  util::LargeArray<std::uint64_t> recent_;  ///< kRecentSeq numbers per entry
};

}  // namespace netscope::seq
