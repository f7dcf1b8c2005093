// MACsec SecTAG decoder and MACsec frames through decode_frame.
#include <gtest/gtest.h>

#include "frame_builder.hpp"
#include "netscope/decode/packet.hpp"

namespace netscope::decode {
namespace {

using namespace test_frames;  // NOLINT(google-build-using-namespace)

TEST(DecodeSectag, WithSci) {
  const Buf b = cat({sectag(tci::kSc | tci::kE | tci::kC, 2, 0, 0xDEADBEEF), payload(60), icv()});
  Sectag s;
  const LayerResult r = decode_sectag(span(b), s);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.length, 14);
  EXPECT_EQ(s.tci, tci::kSc | tci::kE | tci::kC);
  EXPECT_EQ(s.an, 2);
  EXPECT_FALSE(s.version);
  EXPECT_FALSE(s.es);
  EXPECT_TRUE(s.sc);
  EXPECT_FALSE(s.scb);
  EXPECT_TRUE(s.encrypted);
  EXPECT_TRUE(s.changed);
  EXPECT_FALSE(s.integrity_only());
  EXPECT_EQ(s.short_length, 0);
  EXPECT_EQ(s.pn, 0xDEADBEEFu);
  EXPECT_TRUE(s.has_sci);
  EXPECT_EQ(s.sci, kSci);
  EXPECT_EQ(s.header_len, 16);
  EXPECT_EQ(s.secure_data_offset, 14);
  EXPECT_EQ(s.secure_data_len, 60);
}

TEST(DecodeSectag, WithoutSci) {
  const Buf b = cat({sectag(tci::kEs | tci::kScb, 1, 0, 7), payload(50), icv()});
  Sectag s;
  const LayerResult r = decode_sectag(span(b), s);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.length, 6);
  EXPECT_TRUE(s.es);
  EXPECT_TRUE(s.scb);
  EXPECT_FALSE(s.has_sci);
  EXPECT_EQ(s.sci, 0u);
  EXPECT_EQ(s.an, 1);
  EXPECT_EQ(s.pn, 7u);
  EXPECT_EQ(s.header_len, 8);
  EXPECT_EQ(s.secure_data_offset, 6);
  EXPECT_EQ(s.secure_data_len, 50);
  EXPECT_TRUE(s.integrity_only());
}

TEST(DecodeSectag, ShortLengthFixesIcvPositionAndIgnoresPadding) {
  const Buf b = cat({sectag(0, 0, 10, 1), payload(10), icv(), Buf(20, 0)});
  Sectag s;
  ASSERT_TRUE(decode_sectag(span(b), s).ok());
  EXPECT_EQ(s.short_length, 10);
  EXPECT_EQ(s.secure_data_len, 10);
  // One byte short of the ICV.
  EXPECT_EQ(decode_sectag(span(b).first(6 + 10 + 15), s).error, Malformed::truncated_macsec_icv);
}

TEST(DecodeSectag, Errors) {
  Sectag s;
  const Buf body = cat({payload(60), icv()});
  EXPECT_EQ(decode_sectag(span(cat({sectag(tci::kV, 0, 0, 1), body})), s).error,
            Malformed::bad_sectag_version);
  EXPECT_EQ(decode_sectag(span(cat({sectag(tci::kEs | tci::kSc, 0, 0, 1), body})), s).error,
            Malformed::bad_sectag_tci);
  EXPECT_EQ(decode_sectag(span(cat({sectag(tci::kC, 0, 0, 1), body})), s).error,
            Malformed::bad_sectag_tci);
  EXPECT_EQ(decode_sectag(span(cat({sectag(0, 0, 48, 1), body})), s).error,
            Malformed::bad_sectag_short_length);
  // The two bits above SL are reserved and must be zero.
  EXPECT_EQ(decode_sectag(span(cat({sectag(0, 0, 0x41, 1), body})), s).error,
            Malformed::bad_sectag_short_length);
  EXPECT_EQ(decode_sectag(span(cat({sectag(0, 0, 47, 1), body})), s).error, Malformed::none);
  // E without C is the KaY's "not modified" marking: valid, not decodable.
  EXPECT_EQ(decode_sectag(span(cat({sectag(tci::kE, 0, 0, 1), body})), s).error, Malformed::none);
  EXPECT_FALSE(s.integrity_only());
}

TEST(DecodeSectag, Truncation) {
  const Buf with_sci = sectag(tci::kSc, 0, 0, 1);
  Sectag s;
  for (std::size_t n = 0; n < with_sci.size(); ++n) {
    EXPECT_EQ(decode_sectag(span(with_sci).first(n), s).error, Malformed::truncated_sectag) << n;
  }
  const Buf b = cat({with_sci, icv()});
  for (std::size_t n = with_sci.size(); n < b.size(); ++n) {
    EXPECT_EQ(decode_sectag(span(b).first(n), s).error, Malformed::truncated_macsec_icv) << n;
  }
  const LayerResult r = decode_sectag(span(b), s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(s.secure_data_len, 0);
}

TEST(DecodeFrameMacsec, EncryptedWithSci) {
  const Buf f = cat({ethernet(ethertype::kMacsec), sectag(tci::kSc | tci::kE | tci::kC, 3, 0, 42),
                     payload(64), icv()});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerMacsec);
  EXPECT_EQ(p.sectag.pn, 42u);
  EXPECT_EQ(p.sectag.an, 3);
  EXPECT_EQ(p.sectag.sci, kSci);
  EXPECT_EQ(p.ethertype, ethertype::kMacsec);
  EXPECT_EQ(p.sectag.secure_data_offset, 14 + 14);
  EXPECT_EQ(p.sectag.secure_data_len, 64);
  EXPECT_EQ(p.l2_len, 28);
  EXPECT_EQ(p.l3_offset, 0);
  EXPECT_EQ(p.payload_offset, 28);
  EXPECT_EQ(p.payload_len, 64);
}

TEST(DecodeFrameMacsec, IntegrityOnlyIpv4UdpNoSci) {
  const Buf u = cat({udp(5000, 6000, 20), payload(20)});
  const Buf inner = cat({Buf{0x08, 0x00}, ipv4(ipproto::kUdp, u.size()), u});
  const Buf f = cat({ethernet(ethertype::kMacsec), sectag(0, 0, 0, 1000), inner, icv()});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerMacsec | kLayerIpv4 | kLayerUdp);
  EXPECT_EQ(p.eth.ethertype, ethertype::kMacsec);
  EXPECT_EQ(p.ethertype, ethertype::kIpv4);
  EXPECT_TRUE(p.sectag.integrity_only());
  EXPECT_EQ(p.sectag.pn, 1000u);
  EXPECT_EQ(p.sectag.secure_data_offset, 20);
  EXPECT_EQ(p.sectag.secure_data_len, inner.size());
  EXPECT_EQ(p.l2_len, 22);
  EXPECT_EQ(p.l3_offset, 22);
  EXPECT_EQ(p.l4_offset, 42);
  EXPECT_EQ(p.payload_offset, 50);
  EXPECT_EQ(p.payload_len, 20);  // the ICV is not payload
  EXPECT_EQ(p.udp.src_port, 5000);
}

TEST(DecodeFrameMacsec, IntegrityOnlyWithSciAndVlanInside) {
  const Buf t = tcp(1, 2, 3, 4, tcpflag::kSyn, Buf{2, 4, 5, 0xB4});
  const Buf inner =
      cat({Buf{0x81, 0x00}, vlan_tag(30, ethertype::kIpv4), ipv4(ipproto::kTcp, t.size()), t});
  const Buf f = cat({ethernet(ethertype::kMacsec), sectag(tci::kSc, 1, 0, 5), inner, icv()});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerMacsec | kLayerVlan | kLayerIpv4 | kLayerTcp);
  EXPECT_EQ(p.vlans[0].vid, 30);
  EXPECT_EQ(p.l3_offset, 14 + 14 + 2 + 4);
  EXPECT_EQ(p.tcp.options.mss, 1460);
  EXPECT_EQ(p.payload_len, 0);
}

TEST(DecodeFrameMacsec, ShortFrameWithSlAndPadding) {
  const Buf inner = cat({Buf{0x08, 0x06}, payload(28)});  // ARP, 30 bytes of secure data
  const Buf f = cat({ethernet(ethertype::kMacsec), sectag(0, 0, 30, 9), inner, icv(), Buf(6, 0)});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.layers, kLayerEthernet | kLayerMacsec | kLayerArp);
  EXPECT_EQ(p.sectag.secure_data_len, 30);
  EXPECT_EQ(p.payload_offset, 22);
  EXPECT_EQ(p.payload_len, 28);
}

TEST(DecodeFrameMacsec, IntegrityOnlyTooShortForEthertype) {
  const Buf f = cat({ethernet(ethertype::kMacsec), sectag(0, 0, 1, 9), Buf{0x08}, icv()});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::truncated_ethernet);
  EXPECT_TRUE(p.has(kLayerMacsec));
}

TEST(DecodeFrameMacsec, NestedSectagIsNotDecodedTwice) {
  const Buf f = cat({ethernet(ethertype::kMacsec), sectag(0, 0, 0, 1), Buf{0x88, 0xE5},
                     sectag(0, 0, 0, 2), payload(40), icv()});
  DecodedPacket p;
  decode_frame(span(f), p);
  EXPECT_EQ(p.malformed, Malformed::none);
  EXPECT_EQ(p.ethertype, ethertype::kMacsec);
  EXPECT_EQ(p.sectag.pn, 1u);
  EXPECT_EQ(p.payload_offset, 22);
}

TEST(DecodeFrameMacsec, ErrorsReportedThroughFrame) {
  DecodedPacket p;
  const Buf bad_v =
      cat({ethernet(ethertype::kMacsec), sectag(tci::kV, 0, 0, 1), payload(40), icv()});
  decode_frame(span(bad_v), p);
  EXPECT_EQ(p.malformed, Malformed::bad_sectag_version);
  EXPECT_EQ(p.layers, kLayerEthernet);
  EXPECT_EQ(p.payload_offset, 14);
  const Buf short_f = cat({ethernet(ethertype::kMacsec), sectag(tci::kSc, 0, 0, 1)});
  decode_frame(span(short_f).first(short_f.size() - 1), p);
  EXPECT_EQ(p.malformed, Malformed::truncated_sectag);
  decode_frame(span(short_f), p);
  EXPECT_EQ(p.malformed, Malformed::truncated_macsec_icv);
}

}  // namespace
}  // namespace netscope::decode
