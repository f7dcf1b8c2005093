#include "netscope/seq/tracker.hpp"

#include <algorithm>
#include <bit>

namespace netscope::seq {

namespace {

constexpr std::uint64_t kEpoch = 1ull << 32;
constexpr std::uint64_t kMaxForward = 1ull << 31;  // a larger forward jump is a reset

/// Counts set bits of bitmap positions [a, b), 0 <= a < b <= bits.
std::uint64_t count_ones_linear(std::span<const std::uint64_t> bm, std::uint64_t a,
                                std::uint64_t b) noexcept {
  std::uint64_t ones = 0;
  while (a < b) {
    const std::uint64_t word = a >> 6;
    const std::uint64_t bit = a & 63;
    const std::uint64_t take = std::min<std::uint64_t>(64 - bit, b - a);
    const std::uint64_t mask = (take == 64 ? ~0ull : ((1ull << take) - 1)) << bit;
    ones += static_cast<std::uint64_t>(std::popcount(bm[word] & mask));
    a += take;
  }
  return ones;
}

void fill_linear(std::span<std::uint64_t> bm, std::uint64_t a, std::uint64_t b,
                 bool value) noexcept {
  while (a < b) {
    const std::uint64_t word = a >> 6;
    const std::uint64_t bit = a & 63;
    const std::uint64_t take = std::min<std::uint64_t>(64 - bit, b - a);
    const std::uint64_t mask = (take == 64 ? ~0ull : ((1ull << take) - 1)) << bit;
    if (value) {
      bm[word] |= mask;
    } else {
      bm[word] &= ~mask;
    }
    a += take;
  }
}

/// Zero bits among the `len` numbers starting at `from` (len <= bitmap bits).
std::uint64_t count_zeros(std::span<const std::uint64_t> bm, std::uint64_t from,
                          std::uint64_t len) noexcept {
  const std::uint64_t bits = bm.size() * 64;
  const std::uint64_t a = from & (bits - 1);
  if (a + len <= bits) {
    return len - count_ones_linear(bm, a, a + len);
  }
  return len - count_ones_linear(bm, a, bits) - count_ones_linear(bm, 0, a + len - bits);
}

void fill(std::span<std::uint64_t> bm, std::uint64_t from, std::uint64_t len, bool value) noexcept {
  const std::uint64_t bits = bm.size() * 64;
  if (len >= bits) {
    std::fill(bm.begin(), bm.end(), value ? ~0ull : 0ull);
    return;
  }
  const std::uint64_t a = from & (bits - 1);
  if (a + len <= bits) {
    fill_linear(bm, a, a + len, value);
  } else {
    fill_linear(bm, a, bits, value);
    fill_linear(bm, 0, a + len - bits, value);
  }
}

bool test_bit(std::span<const std::uint64_t> bm, std::uint64_t n) noexcept {
  const std::uint64_t i = n & (bm.size() * 64 - 1);
  return (bm[i >> 6] >> (i & 63)) & 1u;
}

void set_bit(std::span<std::uint64_t> bm, std::uint64_t n) noexcept {
  const std::uint64_t i = n & (bm.size() * 64 - 1);
  bm[i >> 6] |= 1ull << (i & 63);
}

void add_event(Observation& o, EventType t, std::uint64_t count) noexcept {
  if (o.event_count < o.events.size()) {
    o.events[o.event_count] = t;
    o.counts[o.event_count] = count;
    ++o.event_count;
  }
}

}  // namespace

std::string_view to_string(EventType t) noexcept {
  switch (t) {
#define NETSCOPE_X(name) \
  case EventType::name:  \
    return #name;
    NETSCOPE_EVENT_TYPES(NETSCOPE_X)
#undef NETSCOPE_X
    case EventType::count_:
      break;
  }
  return "unknown";
}

std::uint32_t window_words(std::uint32_t window) noexcept {
  const std::uint32_t w = std::clamp(window, kMinWindow, kMaxWindow);
  return std::bit_ceil(std::max<std::uint32_t>(w, 64)) / 64;
}

void SequenceTracker::init(bool extended) noexcept {
  *this = SequenceTracker{};
  extended_ = extended;
}

void SequenceTracker::restore(const SequenceCounters& c, std::uint64_t first_seq,
                              std::uint64_t highest, bool extended, bool extended_inferred,
                              std::span<std::uint64_t> bitmap) noexcept {
  *this = SequenceTracker{};
  extended_ = extended && !extended_inferred;
  inferred_extended_ = extended_inferred;
  baseline(highest, bitmap);
  started_ = true;
  first_seq_ = first_seq;
  counters_ = c;
}

void SequenceTracker::baseline(std::uint64_t seq, std::span<std::uint64_t> bitmap) noexcept {
  floor_ = seq;
  highest_ = seq;
  last_ = seq;
  run_ = 1;
  stuck_reported_ = false;
  std::fill(bitmap.begin(), bitmap.end(), ~0ull);  // everything up to seq counts as seen
}

std::uint64_t SequenceTracker::extend(std::uint32_t seq32) const noexcept {
  const std::uint64_t hi = highest_ >> 32;
  const std::uint64_t same = (hi << 32) | seq32;
  std::uint64_t best = same;
  std::uint64_t best_dist = same > highest_ ? same - highest_ : highest_ - same;
  if (hi > 0) {
    const std::uint64_t below = same - kEpoch;  // always < highest
    if (highest_ - below < best_dist) {
      best = below;
      best_dist = highest_ - below;
    }
  }
  if (hi < 0xFFFFFFFFull) {
    const std::uint64_t above = same + kEpoch;  // always > highest
    if (above - highest_ < best_dist) {
      best = above;
    }
  }
  return best;
}

Observation SequenceTracker::track(std::uint32_t seq32, std::span<std::uint64_t> bitmap,
                                   const TrackerConfig& cfg) noexcept {
  Observation obs;
  ++counters_.packets;
  if (!started_) [[unlikely]] {
    started_ = true;
    first_seq_ = seq32;
    baseline(seq32, bitmap);
    obs.expected = seq32;
    obs.got = seq32;
    return obs;
  }

  const std::uint64_t window = std::clamp(cfg.window, kMinWindow, kMaxWindow);
  std::uint64_t ext = extend(seq32);
  obs.expected = highest_ + 1;
  obs.got = ext;

  bool reset = false;
  if (ext > highest_) {
    const std::uint64_t delta = ext - highest_;
    const bool crossing = (ext >> 32) > (highest_ >> 32);
    if (delta >= kMaxForward) {
      reset = true;
    } else if (crossing && !extended() && delta >= cfg.reset_threshold) {
      // Not a restart near zero: the SA restarted. Keep it in the current epoch.
      reset = true;
      ext = (highest_ & ~(kEpoch - 1)) | seq32;
      obs.got = ext;
    } else {
      if (crossing) {
        ++counters_.rollovers;
        add_event(obs, EventType::rollover, 1);
        if (!extended_) {
          inferred_extended_ = true;
        }
      }
      if (delta > 1) {
        ++counters_.gaps;
        add_event(obs, EventType::gap, delta - 1);
      }
      // Numbers leaving the window [highest-W+1, ext-W] unseen are lost.
      const std::uint64_t leaving = std::min(delta, window);
      std::uint64_t lost = count_zeros(bitmap, highest_ - window + 1, leaving);
      if (delta > window) {
        lost += delta - window;  // skipped numbers that never entered the window
      }
      counters_.lost += lost;
      const std::uint64_t bits = bitmap.size() * 64;
      const std::uint64_t fresh = std::min<std::uint64_t>(delta, bits);
      fill(bitmap, ext - fresh + 1, fresh, false);
      set_bit(bitmap, ext);
      highest_ = ext;
    }
  } else if (ext == highest_) {
    ++counters_.duplicates;
    add_event(obs, EventType::duplicate, 1);
  } else {
    const std::uint64_t back = highest_ - ext;
    if (back < window) {
      if (ext < floor_) {
        // Late from before the first packet: the numbers between it and the old baseline
        // were sent too, so they become holes. Its own bit is already set.
        fill(bitmap, ext + 1, floor_ - ext - 1, false);
        if (first_seq_ == floor_) first_seq_ = ext;
        floor_ = ext;
        ++counters_.reordered;
        add_event(obs, EventType::reordered, 1);
      } else if (test_bit(bitmap, ext)) {
        ++counters_.duplicates;
        add_event(obs, EventType::duplicate, 1);
      } else {
        set_bit(bitmap, ext);
        ++counters_.reordered;
        add_event(obs, EventType::reordered, 1);
      }
    } else if (back < cfg.reset_threshold) {
      ++counters_.out_of_window;
      add_event(obs, EventType::out_of_window, 1);
    } else {
      reset = true;
    }
  }

  if (reset) {
    counters_.lost += open_holes(bitmap, cfg);
    ++counters_.resets;
    add_event(obs, EventType::reset, 1);
    baseline(ext, bitmap);
    return obs;
  }

  if (ext == last_) {
    ++run_;
    if (run_ >= cfg.stuck_threshold && !stuck_reported_) {
      stuck_reported_ = true;
      ++counters_.stuck;
      add_event(obs, EventType::stuck, 1);
    }
  } else {
    last_ = ext;
    run_ = 1;
    stuck_reported_ = false;
  }
  return obs;
}

std::uint64_t SequenceTracker::open_holes(std::span<const std::uint64_t> bitmap,
                                          const TrackerConfig& cfg) const noexcept {
  if (!started_) {
    return 0;
  }
  const std::uint64_t window = std::clamp(cfg.window, kMinWindow, kMaxWindow);
  return count_zeros(bitmap, highest_ - window + 1, window);
}

}  // namespace netscope::seq
