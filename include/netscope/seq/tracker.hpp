// Per-SA sequence tracking: loss, duplicates, reordering, window, rollover, reset, stuck.
//
// Semantics are specified in docs/sequence-tracking.md. Plain integers, no DPDK, no
// allocation: the window bitmap lives in storage owned by the caller (the SA table).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace netscope::seq {

/// Anomaly kinds. Names are stable: used as metric labels, JSON values and SQL values.
#define NETSCOPE_EVENT_TYPES(X) \
  X(gap)                        \
  X(duplicate)                  \
  X(reordered)                  \
  X(out_of_window)              \
  X(rollover)                   \
  X(reset)                      \
  X(rekey)                      \
  X(stuck)

enum class EventType : std::uint8_t {
#define NETSCOPE_X(name) name,
  NETSCOPE_EVENT_TYPES(NETSCOPE_X)
#undef NETSCOPE_X
      count_
};
inline constexpr std::size_t kEventTypeCount = static_cast<std::size_t>(EventType::count_);

/// Stable snake_case name ("out_of_window"). Never null.
std::string_view to_string(EventType t) noexcept;

inline constexpr std::uint32_t kMinWindow = 32;
inline constexpr std::uint32_t kMaxWindow = 4096;

struct TrackerConfig {
  std::uint32_t window = 64;                   ///< replay window W, kMinWindow..kMaxWindow
  std::uint64_t reset_threshold = 1ull << 16;  ///< backward jump R that re-baselines an SA
  std::uint32_t stuck_threshold = 8;           ///< S packets with one number make a stuck event
};

/// Words of bitmap storage one SA needs for `window` (a power of two, at least one word).
[[nodiscard]] std::uint32_t window_words(std::uint32_t window) noexcept;

/// What one packet did to its SA. Up to two events per packet (rollover + gap,
/// duplicate + stuck).
struct Observation {
  std::uint64_t expected = 0;  ///< highest + 1 before this packet
  std::uint64_t got = 0;       ///< the extended number of this packet
  std::uint8_t event_count = 0;
  std::array<EventType, 2> events{};
  std::array<std::uint64_t, 2> counts{};  ///< missing numbers for a gap, otherwise 1
};

struct SequenceCounters {
  std::uint64_t packets = 0;
  std::uint64_t lost = 0;  ///< closed holes only; add SequenceTracker::open_holes() for a total
  std::uint64_t gaps = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t reordered = 0;
  std::uint64_t out_of_window = 0;
  std::uint64_t rollovers = 0;
  std::uint64_t resets = 0;
  std::uint64_t rekeys = 0;
  std::uint64_t stuck = 0;
};

/// The sequence state of one SA. Trivially copyable; the bitmap is external.
/// One writer (the lcore owning the SA); not thread-safe.
class SequenceTracker {
 public:
  /// Starts empty. `extended` pre-declares ESN/XPN numbering for this SA.
  void init(bool extended) noexcept;

  /// Tracks one packet's 32-bit wire number. `bitmap` must hold window_words(cfg.window)
  /// words and stay with this SA. Does not allocate.
  Observation track(std::uint32_t seq32, std::span<std::uint64_t> bitmap,
                    const TrackerConfig& cfg) noexcept;

  /// Continues an SA saved earlier (restart with the same database): everything up to
  /// `highest` counts as seen, counters carry on. Holes open when it was saved were
  /// already counted as lost in `c`.
  void restore(const SequenceCounters& c, std::uint64_t first_seq, std::uint64_t highest,
               bool extended, bool extended_inferred, std::span<std::uint64_t> bitmap) noexcept;

  /// Missing numbers still open inside the window (lost if the SA ends now). O(W/64).
  [[nodiscard]] std::uint64_t open_holes(std::span<const std::uint64_t> bitmap,
                                         const TrackerConfig& cfg) const noexcept;

  [[nodiscard]] const SequenceCounters& counters() const noexcept { return counters_; }
  SequenceCounters& counters() noexcept { return counters_; }
  [[nodiscard]] bool started() const noexcept { return started_; }
  [[nodiscard]] std::uint64_t first_seq() const noexcept { return first_seq_; }
  [[nodiscard]] std::uint64_t highest() const noexcept { return highest_; }
  [[nodiscard]] bool extended() const noexcept { return extended_ || inferred_extended_; }
  [[nodiscard]] bool extended_inferred() const noexcept { return inferred_extended_; }

 private:
  void baseline(std::uint64_t seq, std::span<std::uint64_t> bitmap) noexcept;
  std::uint64_t extend(std::uint32_t seq32) const noexcept;

  std::uint64_t first_seq_ = 0;  ///< first number of the SA (reported)
  std::uint64_t floor_ = 0;      ///< numbers below this count as seen (baseline)
  std::uint64_t highest_ = 0;
  std::uint64_t last_ = 0;       ///< number of the previous packet, for stuck runs
  std::uint32_t run_ = 0;        ///< consecutive packets carrying last_
  bool started_ = false;
  bool extended_ = false;
  bool inferred_extended_ = false;
  bool stuck_reported_ = false;
  SequenceCounters counters_;
};

}  // namespace netscope::seq
