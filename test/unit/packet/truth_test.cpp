// The truth model against docs/sequence-tracking.md: its examples table (W = 64) and the
// other rules (stuck, rekey, extension, window size).
#include "netscope/packet/truth.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

namespace netscope::packet {
namespace {

SaCounters run(const std::vector<std::uint32_t>& seqs, TruthConfig cfg = {}) {
  SequenceTruth t(cfg);
  for (std::uint32_t s : seqs) t.observe(s, 100);
  t.finish();
  return t.counters();
}

std::vector<std::uint32_t> range(std::uint32_t from, std::uint32_t to) {  // inclusive
  std::vector<std::uint32_t> v;
  for (std::uint64_t i = from; i <= to; ++i) v.push_back(static_cast<std::uint32_t>(i));
  return v;
}

struct Row {
  const char* input;
  std::vector<std::uint32_t> seqs;
  std::uint64_t lost, gaps, duplicates, reordered, out_of_window, rollovers, resets;
};

std::vector<Row> examples_table() {
  std::vector<Row> rows;
  rows.push_back({"1 2 3 5 6", {1, 2, 3, 5, 6}, 1, 1, 0, 0, 0, 0, 0});
  rows.push_back({"1 2 4 3 5", {1, 2, 4, 3, 5}, 0, 1, 0, 1, 0, 0, 0});
  rows.push_back({"1 2 2 3", {1, 2, 2, 3}, 0, 0, 1, 0, 0, 0, 0});
  auto r4 = range(1, 100);
  r4.push_back(50);
  rows.push_back({"1 .. 100, 50", r4, 0, 0, 1, 0, 0, 0, 0});
  std::vector<std::uint32_t> r5 = {1};
  for (auto s : range(3, 100)) r5.push_back(s);
  r5.push_back(2);
  rows.push_back({"1, 3 .. 100, 2", r5, 1, 1, 0, 0, 1, 0, 0});
  rows.push_back({"0xFFFFFFFE 0xFFFFFFFF 0 1", {0xFFFFFFFE, 0xFFFFFFFF, 0, 1}, 0, 0, 0, 0, 0, 1, 0});
  auto r7 = range(100000, 100010);
  r7.push_back(5);
  rows.push_back({"100000 ... 100010, 5", r7, 0, 0, 0, 0, 0, 0, 1});
  return rows;
}

TEST(Truth, DocExamplesTable) {
  for (const Row& r : examples_table()) {
    SCOPED_TRACE(r.input);
    const SaCounters c = run(r.seqs);
    EXPECT_EQ(c.packets, r.seqs.size());
    EXPECT_EQ(c.bytes, 100 * r.seqs.size());
    EXPECT_EQ(c.lost, r.lost);
    EXPECT_EQ(c.gaps, r.gaps);
    EXPECT_EQ(c.duplicates, r.duplicates);
    EXPECT_EQ(c.reordered, r.reordered);
    EXPECT_EQ(c.out_of_window, r.out_of_window);
    EXPECT_EQ(c.rollovers, r.rollovers);
    EXPECT_EQ(c.resets, r.resets);
    EXPECT_EQ(c.stuck, 0u);
    EXPECT_EQ(c.rekeys, 0u);
  }
}

TEST(Truth, RolloverExtendsTo64Bits) {
  const SaCounters c = run({0xFFFFFFFE, 0xFFFFFFFF, 0, 1});
  EXPECT_EQ(c.first_seq, 0xFFFFFFFEu);
  EXPECT_EQ(c.highest_seq, 0x100000001ull);
}

TEST(Truth, GapAcrossTheBoundaryIsAGapNotLoss) {
  const SaCounters c = run({0xFFFFFFFD, 0xFFFFFFFE, 2, 3});
  EXPECT_EQ(c.rollovers, 1u);
  EXPECT_EQ(c.gaps, 1u);
  EXPECT_EQ(c.lost, 3u);  // 0xFFFFFFFF, 0 and 1 never came: holes at the end
  EXPECT_EQ(c.highest_seq, 0x100000003ull);
}

TEST(Truth, LateNumberFromBeforeTheBoundary) {
  const SaCounters c = run({0xFFFFFFFE, 0, 1, 0xFFFFFFFF, 2});
  EXPECT_EQ(c.rollovers, 1u);
  EXPECT_EQ(c.gaps, 1u);
  EXPECT_EQ(c.reordered, 1u);
  EXPECT_EQ(c.lost, 0u);
}

TEST(Truth, LargeCrossingWithoutExtensionIsAReset) {
  // 0xC0000000 then 0x10: the closest candidate is 2^32 + 0x10, 1 GiB ahead: not a restart
  // near zero, so a reset rather than a rollover.
  const SaCounters c = run({0xC0000000, 0x10});
  EXPECT_EQ(c.resets, 1u);
  EXPECT_EQ(c.rollovers, 0u);
}

TEST(Truth, ForwardJumpOfHalfTheSpaceIsAReset) {
  const SaCounters c = run({1, 2, 0x80000002});
  EXPECT_EQ(c.resets, 1u);
  EXPECT_EQ(c.gaps, 0u);
  EXPECT_EQ(c.lost, 0u);
  EXPECT_EQ(run({1, 0x80000000}).resets, 0u) << "just below 2^31 ahead is still a gap";
}

TEST(Truth, StuckCountsAnyRepeatedNumber) {
  // A number repeated behind the highest one: duplicates, and stuck after S in a row.
  std::vector<std::uint32_t> seqs = {10, 11, 12};
  for (int i = 0; i < 8; ++i) seqs.push_back(5);  // out of nothing: below first, then dups
  const SaCounters c = run(seqs);
  EXPECT_EQ(c.stuck, 1u);
  EXPECT_EQ(c.reordered, 1u);
  EXPECT_EQ(c.duplicates, 7u);
}

TEST(Truth, ResetCountsOpenHolesAsLost) {
  SequenceTruth t;
  for (std::uint32_t s : {100000u, 100002u, 5u, 6u}) t.observe(s, 100);
  t.finish();
  const SaCounters& c = t.counters();
  EXPECT_EQ(c.resets, 1u);
  EXPECT_EQ(c.gaps, 1u);
  EXPECT_EQ(c.lost, 1u);  // 100001, open when the SA was re-baselined
  EXPECT_EQ(c.first_seq, 5u) << "the window's floor moves to the new baseline";
  EXPECT_EQ(t.reported_first(), 100000u) << "the reported first_seq stays the SA's first number";
  EXPECT_EQ(c.highest_seq, 6u);
}

TEST(Truth, BelowFirstIsReordered) {
  const SaCounters c = run({3, 4, 2, 5});
  EXPECT_EQ(c.reordered, 1u);
  EXPECT_EQ(c.first_seq, 2u);
  EXPECT_EQ(c.lost, 0u);
}

TEST(Truth, StuckAfterSConsecutiveCarryingTheSameNumber) {
  std::vector<std::uint32_t> seqs(7, 0);  // 7 packets: below S = 8
  EXPECT_EQ(run(seqs).stuck, 0u);
  seqs.push_back(0);  // the 8th
  SaCounters c = run(seqs);
  EXPECT_EQ(c.stuck, 1u);
  EXPECT_EQ(c.duplicates, 7u);
  for (int i = 0; i < 20; ++i) seqs.push_back(0);
  EXPECT_EQ(run(seqs).stuck, 1u) << "once per run of the same number";
  seqs.push_back(1);
  for (int i = 0; i < 8; ++i) seqs.push_back(1);
  EXPECT_EQ(run(seqs).stuck, 2u) << "a second run is a second event";
  TruthConfig cfg;
  cfg.stuck_threshold = 3;
  EXPECT_EQ(run({5, 5, 5}, cfg).stuck, 1u);
}

TEST(Truth, WindowSizeDecidesOutOfWindow) {
  std::vector<std::uint32_t> seqs = {1};
  for (auto s : range(3, 40)) seqs.push_back(s);
  seqs.push_back(2);  // 38 behind
  EXPECT_EQ(run(seqs).reordered, 1u);
  TruthConfig small;
  small.window = 32;
  const SaCounters c = run(seqs, small);
  EXPECT_EQ(c.out_of_window, 1u);
  EXPECT_EQ(c.lost, 1u);
}

TEST(Truth, LostCountsLargeJumpsArithmetically) {
  const SaCounters c = run({1, 1000001});
  EXPECT_EQ(c.gaps, 1u);
  EXPECT_EQ(c.lost, 999999u);
}

SaId macsec_sa(std::uint64_t sci, std::uint8_t an) {
  SaId id;
  id.protocol = SaProtocol::macsec;
  id.sci = sci;
  id.an = an;
  return id;
}

TEST(TruthModel, MacsecRekeyOnNewAnWithLowerPn) {
  TruthModel m;
  const std::size_t a0 = m.sa(macsec_sa(0x0200000001010001ull, 0));
  const std::size_t a1 = m.sa(macsec_sa(0x0200000001010001ull, 1));
  const std::size_t other = m.sa(macsec_sa(0x0200000009090001ull, 0));
  EXPECT_EQ(m.sa(macsec_sa(0x0200000001010001ull, 0)), a0) << "same key, same index";
  for (std::uint32_t pn = 1; pn <= 10; ++pn) m.observe(a0, pn, 60);
  m.observe(other, 1, 60);  // another SCI: never a rekey
  m.observe(a1, 1, 60);
  m.observe(a1, 2, 60);
  m.finish();
  EXPECT_EQ(m.counters(a0).rekeys, 0u);
  EXPECT_EQ(m.counters(a1).rekeys, 1u);
  EXPECT_EQ(m.counters(other).rekeys, 0u);
}

TEST(TruthModel, RekeyComparesWithTheMostRecentlySeenAn) {
  TruthModel m;
  const std::uint64_t sci = 0x0200000001010001ull;
  const std::size_t a0 = m.sa(macsec_sa(sci, 0));
  const std::size_t a1 = m.sa(macsec_sa(sci, 1));
  const std::size_t a2 = m.sa(macsec_sa(sci, 2));
  for (std::uint32_t pn = 1; pn <= 100; ++pn) m.observe(a0, pn, 60);
  for (std::uint32_t pn = 1; pn <= 3; ++pn) m.observe(a1, pn, 60);  // rekey: 1 < 100
  m.observe(a2, 50, 60);  // AN 1 (highest 3) is the latest: 50 is not lower, no rekey
  EXPECT_EQ(m.counters(a1).rekeys, 1u);
  EXPECT_EQ(m.counters(a2).rekeys, 0u);
}

TEST(TruthModel, JsonHasTheAnalyzerKeys) {
  TruthModel m;
  const std::size_t mac = m.sa(macsec_sa(0x0200000001010001ull, 2));
  SaId esp;
  esp.protocol = SaProtocol::esp;
  esp.spi = 0x1001;
  esp.dst.version = 6;
  esp.dst.bytes = {0x20, 0x01, 0x0d, 0xb8};
  esp.dst.bytes[15] = 1;
  esp.udp_encap = true;
  const std::size_t e = m.sa(esp, /*absolute_seq=*/false);
  SaId ah;
  ah.protocol = SaProtocol::ah;
  ah.spi = 7;
  ah.dst.version = 4;
  ah.dst.bytes = {10, 6, 0, 1};
  const std::size_t a = m.sa(ah);
  m.observe(mac, 5, 100);
  m.observe(e, 9, 200);
  m.observe(a, 1, 300);
  m.observe(a, 3, 300);
  m.finish();
  const auto j = nlohmann::json::parse(m.to_json());
  EXPECT_EQ(j["version"], 1);
  ASSERT_EQ(j["sas"].size(), 3u);
  const auto& s0 = j["sas"][0];
  EXPECT_EQ(s0["protocol"], "macsec");
  EXPECT_EQ(s0["sci"], "0200000001010001");
  EXPECT_EQ(s0["an"], 2);
  EXPECT_EQ(s0["first_seq"], 5);
  EXPECT_EQ(s0["highest_seq"], 5);
  const auto& s1 = j["sas"][1];
  EXPECT_EQ(s1["protocol"], "esp");
  EXPECT_EQ(s1["spi"], 0x1001);
  EXPECT_EQ(s1["dst"], "2001:db8::1");
  EXPECT_EQ(s1["udp_encap"], true);
  EXPECT_FALSE(s1.contains("first_seq"));
  EXPECT_FALSE(s1.contains("highest_seq"));
  const auto& s2 = j["sas"][2];
  EXPECT_EQ(s2["protocol"], "ah");
  EXPECT_EQ(s2["dst"], "10.6.0.1");
  EXPECT_FALSE(s2.contains("udp_encap"));
  EXPECT_EQ(s2["packets"], 2);
  EXPECT_EQ(s2["bytes"], 600);
  EXPECT_EQ(s2["gaps"], 1);
  EXPECT_EQ(s2["lost"], 1);
  for (const char* key : {"packets", "bytes", "lost", "gaps", "duplicates", "reordered",
                          "out_of_window", "rollovers", "resets", "rekeys", "stuck"}) {
    for (const auto& sa : j["sas"]) EXPECT_TRUE(sa.contains(key)) << key;
  }
}

}  // namespace
}  // namespace netscope::packet
