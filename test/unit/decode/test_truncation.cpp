// Every valid frame of the catalog, cut at every length: the typed reason must name the
// header the cut falls in, and no decoder may read past the cut (ASan builds check that:
// each cut is copied into a buffer of exactly that size).
#include <gtest/gtest.h>

#include <memory>

#include "frame_catalog.hpp"

namespace netscope::decode {
namespace {

using namespace test_frames;  // NOLINT(google-build-using-namespace)

void check_invariants(const DecodedPacket& p, std::size_t len) {
  EXPECT_EQ(p.wire_len, len);
  EXPECT_LE(p.l2_len, len);
  EXPECT_LE(p.l3_offset, len);
  EXPECT_LE(p.l4_offset, len);
  EXPECT_LE(std::size_t{p.payload_offset} + p.payload_len, len);
  EXPECT_LT(static_cast<std::size_t>(p.malformed), kMalformedCount);
  if (p.has(kLayerMacsec)) {
    EXPECT_LE(std::size_t{p.sectag.secure_data_offset} + p.sectag.secure_data_len + kMacsecIcvLen,
              len);
  }
  EXPECT_LE(p.vlan_count, kMaxVlanTags);
  EXPECT_LE(p.mpls_count, kMaxMplsLabels);
}

class Truncation : public ::testing::TestWithParam<CatalogFrame> {};

TEST_P(Truncation, WholeFrameDecodes) {
  const CatalogFrame& f = GetParam();
  DecodedPacket p;
  decode_frame(span(f.bytes), p);
  EXPECT_EQ(p.malformed, Malformed::none) << to_string(p.malformed);
  EXPECT_EQ(p.layers, f.layers);
  check_invariants(p, f.bytes.size());
}

TEST_P(Truncation, EveryCutHasTheExpectedReason) {
  const CatalogFrame& f = GetParam();
  auto p = std::make_unique<DecodedPacket>();
  for (std::size_t len = 0; len < f.bytes.size(); ++len) {
    const Buf cut(f.bytes.begin(), f.bytes.begin() + static_cast<std::ptrdiff_t>(len));
    decode_frame(span(cut), *p);
    const Malformed want = f.expected(len);
    EXPECT_EQ(p->malformed, want) << "cut at " << len << ": got " << to_string(p->malformed)
                                  << ", want " << to_string(want);
    check_invariants(*p, len);
    // The layers decoded before the cut are a subset of the whole frame's.
    EXPECT_EQ(p->layers & ~f.layers, 0u) << "cut at " << len;
  }
}

std::string frame_name(const ::testing::TestParamInfo<CatalogFrame>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Catalog, Truncation, ::testing::ValuesIn(frame_catalog()), frame_name);

TEST(TruncationCatalog, CoversEveryKind) {
  std::uint32_t all = 0;
  for (const CatalogFrame& f : frame_catalog()) all |= f.layers;
  const std::uint32_t expected_layers = kLayerEthernet | kLayerVlan | kLayerMpls | kLayerMacsec |
                                        kLayerIpv4 | kLayerIpv6 | kLayerAh | kLayerEsp | kLayerTcp |
                                        kLayerUdp | kLayerIcmp | kLayerIcmpv6 | kLayerArp |
                                        kLayerIpFragment | kLayerNatT | kLayerIkeNatT;
  EXPECT_EQ(all & expected_layers, expected_layers);
}

}  // namespace
}  // namespace netscope::decode
