#include "netscope/seq/tracker.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

namespace netscope::seq {
namespace {

/// Drives one SA through a list of wire numbers and keeps every event.
struct Harness {
  explicit Harness(TrackerConfig c = {}, bool extended = false)
      : cfg(c), bitmap(window_words(c.window)) {
    t.init(extended);
  }
  void feed(std::uint32_t s) {
    const Observation o = t.track(s, bitmap, cfg);
    for (std::uint8_t i = 0; i < o.event_count; ++i) events.push_back({o.events[i], o.expected, o.got, o.counts[i]});
  }
  void feed(std::initializer_list<std::uint32_t> list) {
    for (auto s : list) feed(s);
  }
  void feed_range(std::uint64_t from, std::uint64_t to) {  // inclusive, 32-bit wire values
    for (std::uint64_t s = from; s <= to; ++s) feed(static_cast<std::uint32_t>(s));
  }
  std::uint64_t lost() const { return t.counters().lost + t.open_holes(bitmap, cfg); }
  std::size_t count(EventType ty) const {
    std::size_t n = 0;
    for (const auto& e : events) n += e.type == ty;
    return n;
  }
  struct Ev {
    EventType type;
    std::uint64_t expected, got, count;
  };
  TrackerConfig cfg;
  std::vector<std::uint64_t> bitmap;
  SequenceTracker t;
  std::vector<Ev> events;
};

TEST(Tracker, InOrderHasNoAnomalies) {
  Harness h;
  h.feed_range(1, 1000);
  EXPECT_EQ(h.t.counters().packets, 1000u);
  EXPECT_EQ(h.lost(), 0u);
  EXPECT_TRUE(h.events.empty());
  EXPECT_EQ(h.t.first_seq(), 1u);
  EXPECT_EQ(h.t.highest(), 1000u);
}

TEST(Tracker, GapOpensAndCountsMissingNumbersAtEnd) {
  Harness h;
  h.feed({1, 2, 3, 5, 6});
  EXPECT_EQ(h.t.counters().gaps, 1u);
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].type, EventType::gap);
  EXPECT_EQ(h.events[0].expected, 4u);
  EXPECT_EQ(h.events[0].got, 5u);
  EXPECT_EQ(h.events[0].count, 1u);
  EXPECT_EQ(h.t.counters().lost, 0u) << "still inside the window";
  EXPECT_EQ(h.lost(), 1u) << "open at the end";
}

TEST(Tracker, LateInsideWindowIsReorderedNotLost) {
  Harness h;
  h.feed({1, 2, 4, 3, 5});
  EXPECT_EQ(h.t.counters().gaps, 1u);
  EXPECT_EQ(h.t.counters().reordered, 1u);
  EXPECT_EQ(h.lost(), 0u);
}

TEST(Tracker, DuplicateOfHighestAndOfOlderNumber) {
  Harness h;
  h.feed({1, 2, 2, 3});
  EXPECT_EQ(h.t.counters().duplicates, 1u);
  Harness g;
  g.feed_range(1, 100);
  g.feed(50);
  EXPECT_EQ(g.t.counters().duplicates, 1u);
  EXPECT_EQ(g.t.counters().out_of_window, 0u);
}

TEST(Tracker, DuplicateOfReorderedPacket) {
  Harness h;
  h.feed({1, 3, 2, 2});
  EXPECT_EQ(h.t.counters().reordered, 1u);
  EXPECT_EQ(h.t.counters().duplicates, 1u);
  EXPECT_EQ(h.lost(), 0u);
}

TEST(Tracker, WindowEdges) {
  // W = 64: after highest = 100, numbers 37..100 are inside, 36 is the first outside.
  Harness inside;
  inside.feed_range(1, 36);
  inside.feed_range(38, 100);  // 37 missing, highest 100, window 37..100
  inside.feed(37);
  EXPECT_EQ(inside.t.counters().reordered, 1u);
  EXPECT_EQ(inside.lost(), 0u);

  Harness outside;
  outside.feed_range(1, 35);
  outside.feed_range(37, 100);  // 36 missing; left the window when highest reached 100
  EXPECT_EQ(outside.t.counters().lost, 1u);
  outside.feed(36);
  EXPECT_EQ(outside.t.counters().out_of_window, 1u);
  EXPECT_EQ(outside.t.counters().reordered, 0u);
  EXPECT_EQ(outside.lost(), 1u) << "out-of-window packet does not un-lose its number";
}

TEST(Tracker, LostWhenHoleLeavesWindowAndOutOfWindowLater) {
  Harness h;
  h.feed(1);
  h.feed_range(3, 100);
  h.feed(2);
  EXPECT_EQ(h.lost(), 1u);
  EXPECT_EQ(h.t.counters().gaps, 1u);
  EXPECT_EQ(h.t.counters().out_of_window, 1u);
}

TEST(Tracker, BigGapLargerThanWindow) {
  Harness h;
  h.feed({1, 2, 3, 1000});
  EXPECT_EQ(h.t.counters().gaps, 1u);
  EXPECT_EQ(h.events[0].count, 996u);
  EXPECT_EQ(h.lost(), 996u);
  EXPECT_EQ(h.t.counters().lost, 996u - 63u) << "63 holes are still inside the window";
}

TEST(Tracker, ConfigurableWindow) {
  TrackerConfig c;
  c.window = 4096;
  Harness h(c);
  h.feed(1);
  h.feed_range(3, 4000);
  h.feed(2);  // 3998 behind: inside a 4096 window
  EXPECT_EQ(h.t.counters().reordered, 1u);
  EXPECT_EQ(h.lost(), 0u);
  TrackerConfig small;
  small.window = 32;
  Harness s(small);
  s.feed(1);
  s.feed_range(3, 40);
  s.feed(2);  // 38 behind
  EXPECT_EQ(s.t.counters().out_of_window, 1u);
  EXPECT_EQ(s.lost(), 1u);
}

TEST(Tracker, RolloverWithoutExtendedNumbering) {
  Harness h;
  h.feed({0xFFFFFFFEu, 0xFFFFFFFFu, 0u, 1u});
  EXPECT_EQ(h.t.counters().rollovers, 1u);
  EXPECT_EQ(h.lost(), 0u);
  EXPECT_EQ(h.t.highest(), (1ull << 32) | 1u);
  EXPECT_TRUE(h.t.extended_inferred());
  EXPECT_EQ(h.count(EventType::rollover), 1u);
}

TEST(Tracker, RolloverWithGapAcrossBoundary) {
  Harness h;
  h.feed({0xFFFFFFFDu, 2u});  // missing FFFFFFFE, FFFFFFFF, 0, 1
  EXPECT_EQ(h.t.counters().rollovers, 1u);
  EXPECT_EQ(h.t.counters().gaps, 1u);
  EXPECT_EQ(h.lost(), 4u);
}

TEST(Tracker, ReorderedAcrossBoundary) {
  Harness h;
  h.feed({0xFFFFFFFEu, 0u, 1u, 0xFFFFFFFFu});
  EXPECT_EQ(h.t.counters().rollovers, 1u);
  EXPECT_EQ(h.t.counters().reordered, 1u);
  EXPECT_EQ(h.lost(), 0u);
}

TEST(Tracker, FarCrossingWithoutExtendedIsReset) {
  Harness h;
  h.feed({0xFFF00000u, 0xFFF00001u, 5u});  // forward 0x100004 across 2^32: not "near zero"
  EXPECT_EQ(h.t.counters().rollovers, 0u);
  EXPECT_EQ(h.t.counters().resets, 1u);
  EXPECT_EQ(h.lost(), 0u);
  EXPECT_EQ(h.t.highest(), 5u);
}

TEST(Tracker, ExtendedNumberingRollsOverAndReconstructsHighBits) {
  Harness h({}, true);
  h.feed({0xFFFFFFF0u, 0xFFFFFFFFu});  // gap of 14
  h.feed_range(0, 10);
  EXPECT_EQ(h.t.counters().rollovers, 1u);
  EXPECT_EQ(h.t.highest(), (1ull << 32) | 10u);
  EXPECT_EQ(h.lost(), 14u);
  EXPECT_TRUE(h.t.extended());
  EXPECT_FALSE(h.t.extended_inferred());
  // A late packet from the previous epoch inside the window.
  Harness g({}, true);
  g.feed({0xFFFFFFFEu, 0u, 1u, 0xFFFFFFFFu});
  EXPECT_EQ(g.t.counters().reordered, 1u);
  EXPECT_EQ(g.lost(), 0u);
}

TEST(Tracker, ResetOnLargeBackwardJump) {
  Harness h;
  h.feed_range(100000, 100010);
  h.feed(5);
  h.feed_range(6, 20);
  EXPECT_EQ(h.t.counters().resets, 1u);
  EXPECT_EQ(h.t.counters().duplicates, 0u);
  EXPECT_EQ(h.lost(), 0u);
  EXPECT_EQ(h.t.highest(), 20u);
  EXPECT_EQ(h.t.first_seq(), 100000u);
}

TEST(Tracker, ResetClosesOpenHolesAsLost) {
  Harness h;
  h.feed({100000, 100002});  // 100001 open
  h.feed(1);
  EXPECT_EQ(h.t.counters().resets, 1u);
  EXPECT_EQ(h.lost(), 1u);
}

TEST(Tracker, ConfigurableResetThreshold) {
  TrackerConfig c;
  c.reset_threshold = 1000;
  Harness h(c);
  h.feed_range(2000, 2010);
  h.feed(1500);  // 510 behind: out of window, not reset
  h.feed(500);   // 1510 behind: reset
  EXPECT_EQ(h.t.counters().out_of_window, 1u);
  EXPECT_EQ(h.t.counters().resets, 1u);
}

TEST(Tracker, HugeForwardJumpIsReset) {
  Harness h;
  h.feed({5u, 0xF0000000u});
  EXPECT_EQ(h.t.counters().resets, 1u);
  EXPECT_EQ(h.t.counters().gaps, 0u);
  EXPECT_EQ(h.lost(), 0u);
}

TEST(Tracker, StuckAfterThresholdOncePerRun) {
  Harness h;
  for (int i = 0; i < 20; ++i) h.feed(0);
  EXPECT_EQ(h.t.counters().stuck, 1u);
  EXPECT_EQ(h.t.counters().duplicates, 19u);
  EXPECT_EQ(h.count(EventType::stuck), 1u);
  // The stuck event fires on the 8th packet of the run.
  std::size_t dup_before_stuck = 0;
  for (const auto& e : h.events) {
    if (e.type == EventType::stuck) break;
    dup_before_stuck += e.type == EventType::duplicate;
  }
  EXPECT_EQ(dup_before_stuck, 7u);
  h.feed_range(1, 3);
  for (int i = 0; i < 8; ++i) h.feed(3);  // a second run of 9 packets carrying 3
  EXPECT_EQ(h.t.counters().stuck, 2u);
}

TEST(Tracker, ShortRunIsNotStuck) {
  Harness h;
  for (int i = 0; i < 7; ++i) h.feed(9);
  EXPECT_EQ(h.t.counters().stuck, 0u);
  EXPECT_EQ(h.t.counters().duplicates, 6u);
}

TEST(Tracker, LatePacketBelowFirstNumber) {
  Harness h;
  h.feed({10, 11, 12, 8});
  EXPECT_EQ(h.t.counters().reordered, 1u);
  EXPECT_EQ(h.t.counters().duplicates, 0u);
  EXPECT_EQ(h.t.first_seq(), 8u);
  EXPECT_EQ(h.lost(), 1u) << "9 was sent too and never arrived";
  h.feed(9);
  EXPECT_EQ(h.t.counters().reordered, 2u);
  EXPECT_EQ(h.lost(), 0u);
  h.feed(8);
  EXPECT_EQ(h.t.counters().duplicates, 1u);
}

TEST(Tracker, DocExamplesTable) {
  struct Row {
    std::vector<std::uint32_t> in;
    std::uint64_t lost, gaps, dups, reord, oow, roll, resets;
  };
  std::vector<std::uint32_t> big;
  for (std::uint32_t i = 1; i <= 100; ++i) big.push_back(i);
  auto with = [](std::vector<std::uint32_t> v, std::uint32_t x) { v.push_back(x); return v; };
  std::vector<std::uint32_t> skip2{1};
  for (std::uint32_t i = 3; i <= 100; ++i) skip2.push_back(i);
  std::vector<std::uint32_t> reset;
  for (std::uint32_t i = 100000; i <= 100010; ++i) reset.push_back(i);
  const std::vector<Row> rows = {
      {{1, 2, 3, 5, 6}, 1, 1, 0, 0, 0, 0, 0},
      {{1, 2, 4, 3, 5}, 0, 1, 0, 1, 0, 0, 0},
      {{1, 2, 2, 3}, 0, 0, 1, 0, 0, 0, 0},
      {with(big, 50), 0, 0, 1, 0, 0, 0, 0},
      {with(skip2, 2), 1, 1, 0, 0, 1, 0, 0},
      {{0xFFFFFFFEu, 0xFFFFFFFFu, 0, 1}, 0, 0, 0, 0, 0, 1, 0},
      {with(reset, 5), 0, 0, 0, 0, 0, 0, 1},
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    Harness h;
    for (auto s : rows[i].in) h.feed(s);
    const auto& c = h.t.counters();
    EXPECT_EQ(h.lost(), rows[i].lost) << "row " << i;
    EXPECT_EQ(c.gaps, rows[i].gaps) << "row " << i;
    EXPECT_EQ(c.duplicates, rows[i].dups) << "row " << i;
    EXPECT_EQ(c.reordered, rows[i].reord) << "row " << i;
    EXPECT_EQ(c.out_of_window, rows[i].oow) << "row " << i;
    EXPECT_EQ(c.rollovers, rows[i].roll) << "row " << i;
    EXPECT_EQ(c.resets, rows[i].resets) << "row " << i;
  }
}

// Randomized check against a brute-force model of the documented rules (set of seen
// numbers, no bitmap): drop/duplicate/reorder a long stream and compare every counter.
TEST(Tracker, MatchesBruteForceModel) {
  std::uint64_t rng = 12345;
  auto next = [&] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  for (int round = 0; round < 50; ++round) {
    TrackerConfig cfg;
    cfg.window = 32u << (round % 4);
    std::vector<std::uint32_t> stream;
    std::uint32_t s = 1 + static_cast<std::uint32_t>(next() % 1000);
    for (int i = 0; i < 3000; ++i, ++s) {
      const auto r = next() % 100;
      if (r < 5) continue;                               // drop
      if (r < 8) stream.push_back(s);                    // duplicate
      if (r < 12 && !stream.empty()) {                   // reorder by up to 80
        const std::size_t d = 1 + next() % 80;
        stream.insert(stream.end() - static_cast<std::ptrdiff_t>(std::min(d, stream.size())), s);
        continue;
      }
      stream.push_back(s);
    }
    // Model.
    std::vector<bool> seen(10000, false);
    std::uint64_t highest = stream[0], first = stream[0];
    std::uint64_t lost = 0, gaps = 0, dups = 0, reord = 0, oow = 0;
    seen[stream[0]] = true;
    const std::uint64_t W = cfg.window;
    auto close_below = [&](std::uint64_t old_high, std::uint64_t new_high) {
      // numbers n with old_high - W < n <= new_high - W leave the window
      for (std::uint64_t n = (old_high >= W ? old_high - W + 1 : 0); n + W <= new_high; ++n) {
        if (n >= first && !seen[n]) ++lost;
      }
    };
    for (std::size_t i = 1; i < stream.size(); ++i) {
      const std::uint64_t x = stream[i];
      if (x > highest) {
        if (x > highest + 1) ++gaps;
        close_below(highest, x);
        highest = x;
        seen[x] = true;
      } else if (x == highest) {
        ++dups;
      } else if (highest - x < W) {
        if (x < first) {
          ++reord;
          first = x;
          seen[x] = true;
        } else if (seen[x]) {
          ++dups;
        } else {
          ++reord;
          seen[x] = true;
        }
      } else {
        ++oow;
      }
    }
    for (std::uint64_t n = (highest >= W ? highest - W + 1 : 0); n <= highest; ++n) {
      if (n >= first && !seen[n]) ++lost;
    }
    Harness h(cfg);
    for (auto v : stream) h.feed(v);
    const auto& c = h.t.counters();
    ASSERT_EQ(c.gaps, gaps) << "round " << round;
    ASSERT_EQ(c.duplicates, dups) << "round " << round;
    ASSERT_EQ(c.reordered, reord) << "round " << round;
    ASSERT_EQ(c.out_of_window, oow) << "round " << round;
    ASSERT_EQ(h.lost(), lost) << "round " << round;
  }
}

TEST(Tracker, EventNamesAreStable) {
  EXPECT_EQ(to_string(EventType::gap), "gap");
  EXPECT_EQ(to_string(EventType::out_of_window), "out_of_window");
  EXPECT_EQ(to_string(EventType::stuck), "stuck");
  EXPECT_EQ(window_words(64), 1u);
  EXPECT_EQ(window_words(65), 2u);
  EXPECT_EQ(window_words(4096), 64u);
  EXPECT_EQ(window_words(32), 1u);
}

}  // namespace
}  // namespace netscope::seq
