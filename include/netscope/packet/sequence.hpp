// Sequence-number patterns per flow: which MACsec PN / ESP or AH sequence number each
// generated packet carries, deterministic for a seed.
//
// Numbers are 64-bit; only their low 32 bits go on the wire (the high bits reach the
// crypto with XPN/ESN). Every rekey starts a new epoch: a new AN (MACsec) or SPI (ESP/AH)
// whose numbers restart at `rekey_first`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "netscope/packet/rng.hpp"

namespace netscope::packet {

/// Which numbers a pattern applies to; the three ways combine (any of them triggers).
struct SequenceTrigger {
  /// Every N-th number of an epoch: (number - epoch's first number + 1) % N == 0. 0: off.
  std::uint64_t every = 0;
  double probability = 0.0;         ///< independently per number, from the flow's seeded stream
  std::vector<std::uint64_t> list;  ///< explicit numbers, in any epoch
  [[nodiscard]] bool enabled() const noexcept {
    return every != 0 || probability > 0.0 || !list.empty();
  }
};

/// A flow's sequence pattern. The default is plain in-order numbering from 1.
struct SequenceSpec {
  std::uint64_t first = 1;           ///< first number of the flow (near 2^32 or 2^64 to roll over)
  SequenceTrigger gaps;              ///< numbers never sent
  std::uint32_t gap_size = 1;        ///< numbers skipped per every/probability gap (a list skips each listed number)
  SequenceTrigger duplicates;        ///< numbers sent twice in a row
  SequenceTrigger reorder;           ///< numbers held back and sent `reorder_distance` packets later
  std::uint32_t reorder_distance = 1;
  std::uint64_t rekey_every = 0;     ///< packets per epoch (at least: held packets are flushed first); 0: never
  std::uint64_t rekey_first = 1;     ///< first number of every epoch after the first
  std::optional<std::uint64_t> stuck_at;  ///< packet index (0-based) from which the number stops advancing
  std::uint64_t stuck_count = 0;     ///< packets carrying the stuck number; 0: until the end
  std::optional<std::uint64_t> restart_at;  ///< packet index at which the sender restarts numbering (same SA)
  std::uint64_t restart_value = 1;   ///< number it restarts from (a large backward jump is a reset)
};

/// The number one packet carries and the epoch it belongs to (0 before the first rekey).
struct SequenceSlot {
  std::uint64_t number = 0;
  std::uint32_t epoch = 0;
};

/// Produces the numbers of one flow, packet by packet. next() does not allocate.
///
/// Per packet, in this order: the rest of a stuck run; a pending duplicate; a held packet
/// whose delay is over (or every held packet when a rekey is due); then the rekey; then the
/// restart; then a fresh number, skipping gaps, which may start the stuck run, be held back for
/// reordering (another fresh number is drawn for this packet), or be marked for duplication.
class SequenceEngine {
 public:
  /// Most packets held back at once; further reorder triggers are ignored while full.
  static constexpr std::size_t kMaxHeld = 64;

  SequenceEngine(SequenceSpec spec, std::uint64_t seed);

  SequenceSlot next() noexcept {
    if (in_order_) {  // no pattern: the common line-rate case, kept inline
      ++produced_;
      return {next_++, 0};
    }
    return next_patterned();
  }

  /// Packets produced so far.
  [[nodiscard]] std::uint64_t produced() const noexcept { return produced_; }

 private:
  struct Held {
    std::uint64_t number;
    std::uint64_t release;  ///< packet index at which it is sent
  };
  static constexpr std::uint64_t kForever = ~0ull;

  bool hits(const SequenceTrigger& t, std::uint64_t n) noexcept;
  std::uint64_t fresh() noexcept;
  SequenceSlot emit(std::uint64_t n) noexcept;
  SequenceSlot next_patterned() noexcept;

  SequenceSpec spec_;
  Rng rng_;
  std::uint64_t next_;         ///< next fresh number
  std::uint64_t epoch_first_;  ///< first number of the current epoch
  std::uint32_t epoch_ = 0;
  std::uint64_t in_epoch_ = 0;  ///< packets produced in the current epoch
  std::uint64_t produced_ = 0;
  bool in_order_ = false;  ///< no gap, duplicate, reorder, rekey, stuck run or restart
  bool dup_pending_ = false;
  std::uint64_t dup_value_ = 0;
  bool stuck_started_ = false;
  bool restarted_ = false;
  std::uint64_t stuck_left_ = 0;
  std::uint64_t stuck_value_ = 0;
  std::array<Held, kMaxHeld> held_{};
  std::size_t held_count_ = 0;
};

}  // namespace netscope::packet
