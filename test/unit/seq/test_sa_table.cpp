#include "netscope/seq/sa_table.hpp"

#include <gtest/gtest.h>

namespace netscope::seq {
namespace {

SaKey esp_key(std::uint32_t spi) {
  SaKey k;
  k.protocol = SaProtocol::esp;
  k.spi = spi;
  k.ip_version = 4;
  k.dst = {10, 0, 0, 2};
  return k;
}

TEST(SaTable, InsertFindAndFull) {
  SaTable t(100, TrackerConfig{});
  bool created = false;
  for (std::uint32_t i = 0; i < 100; ++i) {
    SaEntry* e = t.find_or_insert(esp_key(i), hash(esp_key(i)), created);
    ASSERT_NE(e, nullptr);
    EXPECT_TRUE(created);
  }
  EXPECT_EQ(t.size(), 100u);
  SaEntry* again = t.find_or_insert(esp_key(7), hash(esp_key(7)), created);
  ASSERT_NE(again, nullptr);
  EXPECT_FALSE(created);
  EXPECT_EQ(again->key.spi, 7u);
  EXPECT_EQ(t.find_or_insert(esp_key(1000), hash(esp_key(1000)), created), nullptr);
}

TEST(SaTable, BitmapsAreDistinctPerEntry) {
  TrackerConfig cfg;
  cfg.window = 256;
  SaTable t(4, cfg);
  bool created = false;
  SaEntry* a = t.find_or_insert(esp_key(1), hash(esp_key(1)), created);
  SaEntry* b = t.find_or_insert(esp_key(2), hash(esp_key(2)), created);
  EXPECT_EQ(t.bitmap(*a).size(), 4u);
  EXPECT_NE(t.bitmap(*a).data(), t.bitmap(*b).data());
}

TEST(SaTable, PreviousAnOfSameSci) {
  SaTable t(16, TrackerConfig{});
  SaKey k;
  k.protocol = SaProtocol::macsec;
  k.sci = 0x0200000000010001ull;
  k.an = 0;
  bool created = false;
  SaEntry* a = t.find_or_insert(k, hash(k), created);
  a->last_seen_ns = 5;
  SaKey k1 = k;
  k1.an = 1;
  EXPECT_EQ(t.previous_an(k1), a);
  SaKey other = k1;
  other.sci = 99;
  EXPECT_EQ(t.previous_an(other), nullptr);
}

TEST(SaTable, SciAndIpText) {
  EXPECT_EQ(sci_text(0x0011223344550001ull), "0011223344550001");
  EXPECT_EQ(ip_text({10, 0, 0, 2}, 4), "10.0.0.2");
  std::array<std::uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8};
  v6[15] = 1;
  EXPECT_EQ(ip_text(v6, 6), "2001:db8::1");
}

}  // namespace
}  // namespace netscope::seq
