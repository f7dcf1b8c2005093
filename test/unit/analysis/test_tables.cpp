// The table building blocks: HashIndex against a reference map under random inserts and
// erases (with forced hash collisions), and BucketTable's LRU eviction.
#include "netscope/analysis/hash_index.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace netscope::analysis {
namespace {

TEST(HashIndex, MatchesAReferenceMapUnderChurn) {
  constexpr std::uint32_t kCapacity = 256;
  HashIndex index(kCapacity);
  std::vector<std::uint64_t> keys(kCapacity);  // entry -> key
  std::vector<bool> used(kCapacity, false);
  std::map<std::uint64_t, std::uint32_t> ref;  // key -> entry
  std::mt19937_64 rng(7);
  // 64 home slots at the end of the 512-slot array: long probe runs that wrap around to
  // the start, and many backward shifts.
  const auto hash_of = [](std::uint64_t key) {
    const std::uint64_t x = key * 0x9E3779B97F4A7C15ull;
    return (x & 0xFFFF000000000000ull) | 0x1C0u | (x & 0x3Fu);
  };
  for (int step = 0; step < 200000; ++step) {
    const std::uint64_t key = rng() % 1000;
    const std::uint64_t h = hash_of(key);
    const std::uint32_t found = index.find(h, [&](std::uint32_t e) { return used[e] && keys[e] == key; });
    const auto it = ref.find(key);
    ASSERT_EQ(found == HashIndex::kNone, it == ref.end()) << "step " << step;
    if (it != ref.end()) {
      ASSERT_EQ(found, it->second);
      if (rng() % 2 == 0) {
        index.erase(h, found);
        used[found] = false;
        ref.erase(it);
      }
    } else if (ref.size() < kCapacity) {
      std::uint32_t e = 0;
      while (used[e]) ++e;
      used[e] = true;
      keys[e] = key;
      index.insert(h, e);
      ref[key] = e;
    }
  }
  for (const auto& kv : ref) {
    const std::uint64_t key = kv.first;
    EXPECT_EQ(index.find(hash_of(key), [&](std::uint32_t x) { return used[x] && keys[x] == key; }), kv.second);
  }
}

struct Item {
  HostKey key;
  std::uint64_t last_ns = 0;
  std::uint32_t value = 0;
};

TEST(BucketTable, EvictsTheLeastRecentlyUsedOfAFullBucket) {
  BucketTable<HostKey, Item> t(8);  // one bucket of 8 ways
  ASSERT_EQ(t.capacity(), 8u);
  bool created = false;
  bool evicted = false;
  for (std::uint32_t i = 0; i < 8; ++i) {
    HostKey k;
    k.extra = i;
    Item* it = t.find_or_insert(k, hash(k), 100 + i, created, evicted);
    EXPECT_TRUE(created);
    EXPECT_FALSE(evicted);
    it->value = i;
  }
  HostKey k0;
  k0.extra = 0;
  t.find_or_insert(k0, hash(k0), 200, created, evicted);  // 0 is now the most recent; 1 the oldest
  EXPECT_FALSE(created);
  HostKey k9;
  k9.extra = 9;
  Item victim;
  Item* it = t.find_or_insert(k9, hash(k9), 201, created, evicted, &victim);
  EXPECT_TRUE(created);
  EXPECT_TRUE(evicted);
  EXPECT_EQ(victim.key.extra, 1u);
  EXPECT_EQ(it->value, 0u);  // a fresh entry
  EXPECT_EQ(t.size(), 8u);
  HostKey k1;
  k1.extra = 1;
  EXPECT_EQ(t.find(k1, hash(k1)), nullptr);
  ASSERT_NE(t.find(k0, hash(k0)), nullptr);
  EXPECT_EQ(t.find(k0, hash(k0))->value, 0u);
  t.erase(t.find(k0, hash(k0)));
  EXPECT_EQ(t.size(), 7u);
  EXPECT_EQ(t.find(k0, hash(k0)), nullptr);
  std::uint32_t n = 0;
  t.for_each([&](const Item&) { ++n; });
  EXPECT_EQ(n, 7u);
}

}  // namespace
}  // namespace netscope::analysis
