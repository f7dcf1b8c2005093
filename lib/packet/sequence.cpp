#include "netscope/packet/sequence.hpp"

#include <algorithm>
#include <utility>

namespace netscope::packet {

SequenceEngine::SequenceEngine(SequenceSpec spec, std::uint64_t seed)
    : spec_(std::move(spec)), rng_(seed), next_(spec_.first), epoch_first_(spec_.first) {
  for (auto* t : {&spec_.gaps, &spec_.duplicates, &spec_.reorder}) {
    std::sort(t->list.begin(), t->list.end());
  }
  if (spec_.gap_size == 0) spec_.gap_size = 1;
  if (spec_.reorder_distance == 0) spec_.reorder_distance = 1;
  in_order_ = !spec_.gaps.enabled() && !spec_.duplicates.enabled() && !spec_.reorder.enabled() &&
              spec_.rekey_every == 0 && !spec_.stuck_at && !spec_.restart_at;
}

bool SequenceEngine::hits(const SequenceTrigger& t, std::uint64_t n) noexcept {
  if (t.every != 0 && (n - epoch_first_ + 1) % t.every == 0) return true;
  if (!t.list.empty() && std::binary_search(t.list.begin(), t.list.end(), n)) return true;
  return rng_.chance(t.probability);
}

std::uint64_t SequenceEngine::fresh() noexcept {
  // Bounded so that a pathological pattern (gaps on every number) cannot hang a TX loop.
  constexpr int kMaxSkips = 1 << 16;
  for (int skips = 0;; ++skips) {
    const std::uint64_t n = next_++;
    if (skips >= kMaxSkips || !spec_.gaps.enabled()) return n;
    const bool listed = !spec_.gaps.list.empty() &&
                        std::binary_search(spec_.gaps.list.begin(), spec_.gaps.list.end(), n);
    if (listed) continue;
    const bool periodic = spec_.gaps.every != 0 && (n - epoch_first_ + 1) % spec_.gaps.every == 0;
    if (periodic || rng_.chance(spec_.gaps.probability)) {
      next_ += spec_.gap_size - 1;
      continue;
    }
    return n;
  }
}

SequenceSlot SequenceEngine::emit(std::uint64_t n) noexcept {
  ++in_epoch_;
  ++produced_;
  return {n, epoch_};
}

SequenceSlot SequenceEngine::next_patterned() noexcept {
  const std::uint64_t index = produced_;
  if (stuck_left_ > 0) {
    if (stuck_left_ != kForever) --stuck_left_;
    return emit(stuck_value_);
  }
  if (dup_pending_) {
    dup_pending_ = false;
    return emit(dup_value_);
  }
  const bool rekey_due = spec_.rekey_every != 0 && in_epoch_ >= spec_.rekey_every;
  if (held_count_ > 0) {
    std::size_t first = 0;
    for (std::size_t i = 1; i < held_count_; ++i) {
      if (held_[i].release < held_[first].release) first = i;
    }
    if (held_[first].release <= index || rekey_due) {
      const std::uint64_t n = held_[first].number;
      // Keep the array in hold order so that equal release indices go out oldest first.
      std::move(held_.begin() + static_cast<std::ptrdiff_t>(first) + 1,
                held_.begin() + static_cast<std::ptrdiff_t>(held_count_),
                held_.begin() + static_cast<std::ptrdiff_t>(first));
      --held_count_;
      return emit(n);
    }
  }
  if (rekey_due) {
    ++epoch_;
    next_ = epoch_first_ = spec_.rekey_first;
    in_epoch_ = 0;
  }
  if (spec_.restart_at && !restarted_ && index >= *spec_.restart_at) {
    restarted_ = true;
    next_ = epoch_first_ = spec_.restart_value;
  }
  for (;;) {
    const std::uint64_t n = fresh();
    if (spec_.stuck_at && !stuck_started_ && index >= *spec_.stuck_at) {
      stuck_started_ = true;
      stuck_value_ = n;
      stuck_left_ = spec_.stuck_count == 0 ? kForever : spec_.stuck_count - 1;
      return emit(n);
    }
    if (held_count_ < kMaxHeld && spec_.reorder.enabled() && hits(spec_.reorder, n)) {
      held_[held_count_++] = {n, index + spec_.reorder_distance};
      continue;
    }
    if (spec_.duplicates.enabled() && hits(spec_.duplicates, n)) {
      dup_pending_ = true;
      dup_value_ = n;
    }
    return emit(n);
  }
}

}  // namespace netscope::packet
