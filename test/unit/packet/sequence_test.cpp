#include "netscope/packet/sequence.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace netscope::packet {
namespace {

std::vector<std::uint64_t> numbers(const SequenceSpec& spec, std::size_t n, std::uint64_t seed = 1) {
  SequenceEngine e(spec, seed);
  std::vector<std::uint64_t> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(e.next().number);
  return out;
}

using V = std::vector<std::uint64_t>;

TEST(Sequence, InOrderFromOne) {
  EXPECT_EQ(numbers({}, 5), (V{1, 2, 3, 4, 5}));
}

TEST(Sequence, StartNear32BitWrapKeeps64Bits) {
  SequenceSpec s;
  s.first = 0xFFFFFFFEull;
  EXPECT_EQ(numbers(s, 4), (V{0xFFFFFFFE, 0xFFFFFFFF, 0x100000000, 0x100000001}));
}

TEST(Sequence, StartNear64BitWrap) {
  SequenceSpec s;
  s.first = 0xFFFFFFFFFFFFFFFFull;
  EXPECT_EQ(numbers(s, 3), (V{0xFFFFFFFFFFFFFFFFull, 0, 1}));
}

TEST(Sequence, GapsEveryN) {
  SequenceSpec s;
  s.gaps.every = 3;
  EXPECT_EQ(numbers(s, 6), (V{1, 2, 4, 5, 7, 8}));
  s.gap_size = 2;  // every 3rd number starts a gap of 2: 3 4, 6 7, 9 10
  EXPECT_EQ(numbers(s, 5), (V{1, 2, 5, 8, 11}));
}

TEST(Sequence, GapsList) {
  SequenceSpec s;
  s.gaps.list = {6, 3, 4};
  EXPECT_EQ(numbers(s, 5), (V{1, 2, 5, 7, 8}));
}

TEST(Sequence, GapsProbabilityIsSeededAndProportional) {
  SequenceSpec s;
  s.gaps.probability = 0.1;
  const V a = numbers(s, 10000, 7);
  EXPECT_EQ(a, numbers(s, 10000, 7));
  EXPECT_NE(a, numbers(s, 10000, 8));
  const double skipped = static_cast<double>(a.back() - a.size());
  EXPECT_NEAR(skipped / static_cast<double>(a.back()), 0.1, 0.02);
  for (std::size_t i = 1; i < a.size(); ++i) ASSERT_GT(a[i], a[i - 1]);
}

TEST(Sequence, DuplicatesEveryNAndList) {
  SequenceSpec s;
  s.duplicates.every = 2;
  EXPECT_EQ(numbers(s, 7), (V{1, 2, 2, 3, 4, 4, 5}));
  SequenceSpec l;
  l.duplicates.list = {3};
  EXPECT_EQ(numbers(l, 5), (V{1, 2, 3, 3, 4}));
}

TEST(Sequence, ReorderHoldsAPacketDPacketsLater) {
  SequenceSpec s;
  s.reorder.list = {3};
  s.reorder_distance = 2;
  EXPECT_EQ(numbers(s, 6), (V{1, 2, 4, 5, 3, 6}));
  s.reorder_distance = 1;
  EXPECT_EQ(numbers(s, 5), (V{1, 2, 4, 3, 5}));
}

TEST(Sequence, ReorderEveryN) {
  SequenceSpec s;
  s.reorder.every = 4;
  s.reorder_distance = 3;
  // 4 is held at packet index 3 and sent at index 6; 8 likewise three packets later.
  EXPECT_EQ(numbers(s, 12), (V{1, 2, 3, 5, 6, 7, 4, 9, 10, 11, 8, 13}));
}

TEST(Sequence, RekeyStartsNewEpochsAtOne) {
  SequenceSpec s;
  s.first = 100;
  s.rekey_every = 3;
  SequenceEngine e(s, 1);
  std::vector<SequenceSlot> out;
  for (int i = 0; i < 8; ++i) out.push_back(e.next());
  const V want_n = {100, 101, 102, 1, 2, 3, 1, 2};
  const std::vector<std::uint32_t> want_e = {0, 0, 0, 1, 1, 1, 2, 2};
  for (std::size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].number, want_n[i]) << i;
    EXPECT_EQ(out[i].epoch, want_e[i]) << i;
  }
}

TEST(Sequence, HeldPacketsAreFlushedBeforeARekey) {
  SequenceSpec s;
  s.rekey_every = 4;
  s.reorder.list = {4};
  s.reorder_distance = 10;
  SequenceEngine e(s, 1);
  std::vector<SequenceSlot> out;
  for (int i = 0; i < 7; ++i) out.push_back(e.next());
  // 4 is held; 1 2 3 5 fill the epoch, 4 is flushed in the old epoch, then epoch 1.
  EXPECT_EQ(out[4].number, 4u);
  EXPECT_EQ(out[4].epoch, 0u);
  EXPECT_EQ(out[5].number, 1u);
  EXPECT_EQ(out[5].epoch, 1u);
}

TEST(Sequence, StuckForKPacketsThenResumes) {
  SequenceSpec s;
  s.first = 0;
  s.stuck_at = 0;
  s.stuck_count = 4;
  EXPECT_EQ(numbers(s, 7), (V{0, 0, 0, 0, 1, 2, 3}));
  SequenceSpec mid;
  mid.stuck_at = 2;
  mid.stuck_count = 3;
  EXPECT_EQ(numbers(mid, 7), (V{1, 2, 3, 3, 3, 4, 5}));
  SequenceSpec forever;
  forever.stuck_at = 1;
  EXPECT_EQ(numbers(forever, 5), (V{1, 2, 2, 2, 2}));
}

TEST(Sequence, RestartJumpsBack) {
  SequenceSpec s;
  s.first = 200000;
  s.restart_at = 2;
  s.restart_value = 1;
  EXPECT_EQ(numbers(s, 5), (V{200000, 200001, 1, 2, 3}));
}

TEST(Sequence, PatternsCombineDeterministically) {
  SequenceSpec s;
  s.gaps.probability = 0.01;
  s.duplicates.probability = 0.01;
  s.reorder.probability = 0.01;
  s.reorder_distance = 5;
  s.rekey_every = 1000;
  const V a = numbers(s, 5000, 42);
  EXPECT_EQ(a, numbers(s, 5000, 42));
  EXPECT_EQ(a.size(), 5000u);
}

TEST(Sequence, GapOnEveryNumberDoesNotHang) {
  SequenceSpec s;
  s.gaps.list.resize(100000);
  for (std::size_t i = 0; i < s.gaps.list.size(); ++i) s.gaps.list[i] = i + 1;
  SequenceEngine e(s, 1);
  (void)e.next();  // returns after a bounded number of skips
  SUCCEED();
}

}  // namespace
}  // namespace netscope::packet
