// Include/exclude rules on decoded fields, on hand-built frames decoded by decode_frame.
#include <gtest/gtest.h>

#include "frame_builder.hpp"
#include "netscope/decode/field_rules.hpp"

namespace netscope::decode {
namespace {

using namespace test_frames;

DecodedPacket decoded(const Buf& frame) {
  DecodedPacket p;
  decode_frame(span(frame), p);
  return p;
}

// 192.0.2.1 -> 198.51.100.2 (frame_builder's IPv4 addresses), 2001:db8::1 -> 2001:db8::2.
Buf esp4(std::uint32_t spi) { return cat({ethernet(0x0800), ipv4(50, 8 + 40), esp(spi, 7), payload(40)}); }
Buf natt4(std::uint32_t spi) {
  return cat({ethernet(0x0800), ipv4(17, 8 + 8 + 40), udp(4500, 4500, 8 + 40), esp(spi, 7), payload(40)});
}
Buf ah6(std::uint32_t spi) { return cat({ethernet(0x86DD), ipv6(51, 24 + 20), ah(59, spi, 3), payload(20)}); }
Buf tcp4(std::uint16_t sport, std::uint16_t dport) {
  return cat({ethernet(0x0800), ipv4(6, 20), tcp(sport, dport, 1, 0, 0x02)});
}
Buf macsec(std::uint64_t sci) {
  return cat({ethernet(0x88E5), sectag(tci::kSc | tci::kE | tci::kC, 0, 0, 5, sci), payload(48), icv()});
}

bool accept(const std::vector<std::string>& rules, const Buf& frame) {
  std::vector<FieldRule> parsed;
  for (const std::string& r : rules) parsed.push_back(parse_field_rule(r));
  return FieldRules(std::move(parsed)).accept(decoded(frame));
}

TEST(FieldRules, FramesDecodeAsBuilt) {
  EXPECT_TRUE(decoded(esp4(1)).has(kLayerEsp));
  EXPECT_TRUE(decoded(natt4(1)).has(kLayerNatT));
  EXPECT_TRUE(decoded(ah6(1)).has(kLayerAh));
  EXPECT_TRUE(decoded(tcp4(1, 2)).has(kLayerTcp));
  EXPECT_TRUE(decoded(macsec(kSci)).has(kLayerMacsec));
}

TEST(FieldRules, NoRulesAcceptEverything) {
  EXPECT_TRUE(FieldRules().accept(decoded(esp4(1))));
  EXPECT_TRUE(FieldRules().accept(decoded(tcp4(1, 2))));
}

TEST(FieldRules, ProtocolIncludeAndExclude) {
  EXPECT_TRUE(accept({"include protocol=esp"}, esp4(1)));
  EXPECT_TRUE(accept({"include protocol=esp"}, natt4(1)));  // ESP in UDP is ESP
  EXPECT_FALSE(accept({"include protocol=esp"}, tcp4(1, 2)));
  EXPECT_FALSE(accept({"include protocol=esp"}, ah6(1)));
  EXPECT_TRUE(accept({"include protocol=esp", "include protocol=macsec"}, macsec(kSci)));
  EXPECT_FALSE(accept({"exclude protocol=tcp"}, tcp4(1, 2)));
  EXPECT_TRUE(accept({"exclude protocol=tcp"}, esp4(1)));
  EXPECT_FALSE(accept({"exclude protocol=udp"}, natt4(1)));
  EXPECT_TRUE(accept({"include proto=ipv6"}, ah6(1)));
}

TEST(FieldRules, ExcludeWinsOverInclude) {
  const std::vector<std::string> rules{"include protocol=esp", "exclude spi=0x10"};
  EXPECT_TRUE(accept(rules, esp4(0x11)));
  EXPECT_FALSE(accept(rules, esp4(0x10)));
  EXPECT_FALSE(accept(rules, natt4(16)));
  EXPECT_FALSE(accept(rules, tcp4(1, 2)));
}

TEST(FieldRules, SpiMatchesEspAndAh) {
  EXPECT_TRUE(accept({"include spi=42"}, ah6(42)));
  EXPECT_TRUE(accept({"include spi=42"}, esp4(42)));
  EXPECT_FALSE(accept({"include spi=42"}, esp4(43)));
  EXPECT_FALSE(accept({"include spi=42"}, tcp4(42, 42)));
  EXPECT_TRUE(accept({"include protocol=ah spi=42"}, ah6(42)));
  EXPECT_FALSE(accept({"include protocol=ah spi=42"}, esp4(42)));  // fields AND together
}

TEST(FieldRules, Sci) {
  EXPECT_TRUE(accept({"include sci=0200000000010001"}, macsec(kSci)));
  EXPECT_FALSE(accept({"include sci=0200000000010001"}, macsec(kSci + 1)));
  EXPECT_FALSE(accept({"include sci=0200000000010001"}, esp4(1)));
  EXPECT_FALSE(accept({"exclude sci=0x0200000000010002"}, macsec(kSci + 1)));
}

TEST(FieldRules, Macs) {
  EXPECT_TRUE(accept({"include src_mac=02:00:00:00:00:01"}, esp4(1)));
  EXPECT_FALSE(accept({"include dst_mac=02:00:00:00:00:01"}, esp4(1)));
  EXPECT_TRUE(accept({"include mac=02:00:00:00:00:02"}, esp4(1)));
  EXPECT_FALSE(accept({"exclude mac=02-00-00-00-00-02"}, macsec(kSci)));
  EXPECT_TRUE(accept({"exclude mac=02:00:00:00:00:99"}, macsec(kSci)));
}

TEST(FieldRules, AddressesAndPrefixes) {
  EXPECT_TRUE(accept({"include ip=198.51.100.2"}, esp4(1)));
  EXPECT_TRUE(accept({"include ip=192.0.2.0/24"}, esp4(1)));
  EXPECT_TRUE(accept({"include src_ip=192.0.2.1/32"}, esp4(1)));
  EXPECT_FALSE(accept({"include dst_ip=192.0.2.1"}, esp4(1)));
  EXPECT_FALSE(accept({"include ip=10.0.0.0/8"}, esp4(1)));
  EXPECT_TRUE(accept({"include ip=198.51.96.0/20"}, esp4(1)));  // 96..111 holds 100
  EXPECT_FALSE(accept({"include ip=198.51.112.0/20"}, esp4(1)));
  EXPECT_TRUE(accept({"include ip=2001:db8::/32"}, ah6(1)));
  EXPECT_TRUE(accept({"include dst_ip=2001:db8::2"}, ah6(1)));
  EXPECT_FALSE(accept({"include ip=2001:db8::/32"}, esp4(1)));  // family must match
  EXPECT_FALSE(accept({"include ip=192.0.2.0/24"}, macsec(kSci)));  // no IP header
  EXPECT_TRUE(accept({"include ip=0.0.0.0/0"}, tcp4(1, 2)));
}

TEST(FieldRules, Ports) {
  EXPECT_TRUE(accept({"include port=443"}, tcp4(50000, 443)));
  EXPECT_TRUE(accept({"include port=443"}, tcp4(443, 50000)));
  EXPECT_FALSE(accept({"include src_port=443"}, tcp4(50000, 443)));
  EXPECT_TRUE(accept({"include dst_port=443"}, tcp4(50000, 443)));
  EXPECT_TRUE(accept({"include port=4500"}, natt4(1)));
  EXPECT_FALSE(accept({"include port=4500"}, esp4(1)));
  EXPECT_FALSE(accept({"exclude protocol=tcp dst_port=22"}, tcp4(40000, 22)));
  EXPECT_TRUE(accept({"exclude protocol=tcp dst_port=22"}, tcp4(22, 40000)));
}

TEST(FieldRules, BadRulesNameTheProblem) {
  auto error_of = [](const std::string& text) {
    try {
      parse_field_rule(text);
    } catch (const RuleError& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_NE(error_of("").find("empty rule"), std::string::npos);
  EXPECT_NE(error_of("drop protocol=esp").find("include or exclude"), std::string::npos);
  EXPECT_NE(error_of("include").find("at least one"), std::string::npos);
  EXPECT_NE(error_of("include protocol=gre").find("protocol=gre"), std::string::npos);
  EXPECT_NE(error_of("include spi=0x1FFFFFFFF").find("spi="), std::string::npos);
  EXPECT_NE(error_of("include port=65536").find("port=65536"), std::string::npos);
  EXPECT_NE(error_of("include mac=02:00:00:00:00").find("MAC address"), std::string::npos);
  EXPECT_NE(error_of("include ip=300.1.1.1").find("ip=300.1.1.1"), std::string::npos);
  EXPECT_NE(error_of("include ip=10.0.0.0/33").find("up to 32"), std::string::npos);
  EXPECT_NE(error_of("include colour=red").find("unknown key"), std::string::npos);
  EXPECT_NE(error_of("include port=1 port=2").find("twice"), std::string::npos);
  EXPECT_NE(error_of("include port").find("KEY=VALUE"), std::string::npos);
}

}  // namespace
}  // namespace netscope::decode
