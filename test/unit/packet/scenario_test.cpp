#include "netscope/packet/scenario.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace netscope::packet {
namespace {

const std::string kSourceDir = NETSCOPE_SOURCE_DIR;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Scenario, MinimalFlowGetsDefaults) {
  const Scenario sc = parse_scenario("flows:\n  - protocol: udp\n");
  ASSERT_EQ(sc.flows.size(), 1u);
  const FlowSpec& f = sc.flows[0];
  EXPECT_EQ(f.protocol, FlowProtocol::udp);
  EXPECT_EQ(f.weight, 1u);
  EXPECT_EQ(f.ip.src.version, 4);
  EXPECT_EQ(f.ip.dst.bytes[3], 2);
  EXPECT_EQ(f.size.kind, FrameSize::Kind::fixed);
  EXPECT_FALSE(sc.count.has_value());
}

TEST(Scenario, FullMacsecFlow) {
  const Scenario sc = parse_scenario(R"(
count: 500
rate_pps: 2.5e6
flows:
  - name: m
    protocol: macsec
    weight: 3
    eth: {src: "02:aa:bb:cc:dd:ee", dst: "02:00:00:00:00:02"}
    vlan: [{vid: 10, pcp: 1}, {vid: 20, dei: true}]
    ip: {src: "2001:db8::1", dst: "2001:db8::2", ttl: 9}
    l4: {protocol: tcp, src_port: 1, dst_port: 2}
    size: {min: 64, max: 200}
    payload: {pattern: "c0ffee"}
    macsec:
      sci: "02:aa:bb:cc:dd:ee/7"
      an: 2
      scb: true
      e: false
      cipher: gcm-aes-xpn-256
      key: "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f"
      salt: "e630e81a48de86a21c66fa6d"
      ssci: 0x10
    sequence:
      first: 0x1FFFFFFF0
      gaps: {every: 10, size: 2, list: [3], probability: 0.5}
      duplicates: {list: [7]}
      reorder: {every: 5, distance: 4}
      rekey_every: 100
      stuck: {at: 3, count: 9}
      restart: {at: 50, value: 2}
)");
  EXPECT_EQ(sc.count, 500u);
  EXPECT_DOUBLE_EQ(*sc.rate_pps, 2.5e6);
  const FlowSpec& f = sc.flows[0];
  EXPECT_EQ(f.name, "m");
  EXPECT_EQ(f.weight, 3u);
  ASSERT_EQ(f.vlans.size(), 2u);
  EXPECT_EQ(f.vlans[0].tpid, 0x88A8) << "outer tag of a pair is an S-tag";
  EXPECT_EQ(f.vlans[1].tpid, 0x8100);
  EXPECT_TRUE(f.vlans[1].dei);
  EXPECT_EQ(f.ip.src.version, 6);
  EXPECT_EQ(f.ip.ttl, 9);
  EXPECT_EQ(f.l4_protocol, 6);
  EXPECT_EQ(f.size.kind, FrameSize::Kind::range);
  EXPECT_EQ(f.payload.pattern, (std::vector<std::uint8_t>{0xc0, 0xff, 0xee}));
  EXPECT_EQ(f.macsec.sci, 0x02aabbccddee0007ull);
  EXPECT_EQ(f.macsec.an, 2);
  EXPECT_TRUE(f.macsec.scb);
  EXPECT_FALSE(f.macsec.e);
  EXPECT_FALSE(f.macsec.c) << "c follows e unless given";
  EXPECT_EQ(f.macsec.cipher, MacsecCipherSuite::gcm_aes_xpn_256);
  EXPECT_EQ(f.macsec.ssci, 0x10u);
  EXPECT_TRUE(f.extended_numbering());
  EXPECT_EQ(f.sequence.first, 0x1FFFFFFF0ull);
  EXPECT_EQ(f.sequence.gaps.every, 10u);
  EXPECT_EQ(f.sequence.gap_size, 2u);
  EXPECT_EQ(f.sequence.gaps.list, (std::vector<std::uint64_t>{3}));
  EXPECT_DOUBLE_EQ(f.sequence.gaps.probability, 0.5);
  EXPECT_EQ(f.sequence.reorder_distance, 4u);
  EXPECT_EQ(f.sequence.rekey_every, 100u);
  EXPECT_EQ(*f.sequence.stuck_at, 3u);
  EXPECT_EQ(f.sequence.stuck_count, 9u);
  EXPECT_EQ(*f.sequence.restart_at, 50u);
  EXPECT_EQ(f.sequence.restart_value, 2u);
}

TEST(Scenario, ImplicitSciWithoutSciKey) {
  const Scenario sc = parse_scenario(
      "flows:\n  - protocol: macsec\n    eth: {src: \"f0:76:1e:8d:cd:3d\"}\n    crypto: none\n");
  EXPECT_EQ(sc.flows[0].macsec.sci, 0xF0761E8DCD3D0001ull);
}

struct BadCase {
  const char* yaml;
  const char* message_start;
};

TEST(Scenario, ErrorsNameTheField) {
  const BadCase cases[] = {
      {"flows: []\n", "flows: at least one flow"},
      {"flow: []\n", "flow: unknown key"},
      {"flows:\n  - protocol: sctp\n", "flows[0].protocol: expected macsec"},
      {"flows:\n  - weight: 1\n", "flows[0].protocol: required"},
      {"flows:\n  - protocol: udp\n    colour: red\n", "flows[0].colour: unknown key"},
      {"flows:\n  - protocol: udp\n  - protocol: macsec\n    macsec: {key: \"0011\"}\n",
       "flows[1].macsec.key: expected 32 hex digits"},
      {"flows:\n  - protocol: macsec\n    macsec: {key: \"xyz\"}\n", "flows[0].macsec.key: expected hex digits"},
      {"flows:\n  - protocol: macsec\n    macsec: {an: 4}\n", "flows[0].macsec.an: must be at most 3"},
      {"flows:\n  - protocol: macsec\n    macsec: {cipher: gcm-aes-xpn-128, key: \"000102030405060708090a0b0c0d0e0f\"}\n",
       "flows[0].macsec.salt: XPN cipher suites need"},
      {"flows:\n  - protocol: esp\n    esp: {key: \"000102030405060708090a0b0c0d0e0f\"}\n",
       "flows[0].esp.salt: AES-GCM needs"},
      {"flows:\n  - protocol: esp\n    esp: {algorithm: aes-cbc}\n", "flows[0].esp.algorithm: expected aes-gcm-128"},
      {"flows:\n  - protocol: ah\n    esp: {spi: 1}\n", "flows[0].esp: not allowed with protocol: ah"},
      {"flows:\n  - protocol: ah\n", "flows[0].ah.key: the HMAC key is required"},
      {"flows:\n  - protocol: udp\n    size: 63\n", "flows[0].size: frame sizes must satisfy"},
      {"flows:\n  - protocol: udp\n    size: 9001\n", "flows[0].size: must be at most 9000"},
      {"flows:\n  - protocol: udp\n    size: {min: 500, max: 100}\n", "flows[0].size: frame sizes"},
      {"flows:\n  - protocol: udp\n    ip: {src: 10.0.0.1, dst: \"::1\"}\n", "flows[0].ip: src and dst must be the same"},
      {"flows:\n  - protocol: udp\n    ip: {src: 10.0.0.300}\n", "flows[0].ip.src: expected an IPv4 or IPv6"},
      {"flows:\n  - protocol: udp\n    eth: {src: 02:00}\n", "flows[0].eth.src: expected a MAC"},
      {"flows:\n  - protocol: udp\n    vlan: [{vid: 1}, {vid: 2}, {vid: 3}]\n", "flows[0].vlan: at most 2"},
      {"flows:\n  - protocol: udp\n    vlan: [{vid: 4096}]\n", "flows[0].vlan[0].vid: must be at most 4095"},
      {"flows:\n  - protocol: udp\n    sequence: {first: 1}\n", "flows[0].sequence: only macsec"},
      {"flows:\n  - protocol: esp\n    crypto: none\n    sequence: {first: 0x100000000}\n",
       "flows[0].sequence.first: above 2^32-1 needs extended"},
      {"flows:\n  - protocol: esp\n    crypto: none\n    sequence: {gaps: {probability: 1.0}}\n",
       "flows[0].sequence.gaps.probability: must be in [0, 1)"},
      {"flows:\n  - protocol: esp\n    crypto: none\n    sequence: {gaps: {every: 1}}\n",
       "flows[0].sequence.gaps.every: 1 would skip"},
      {"flows:\n  - protocol: esp\n    crypto: none\n    sequence: {stuck: {count: 3}}\n",
       "flows[0].sequence.stuck.at: required"},
      {"flows:\n  - protocol: udp\n    weight: -1\n", "flows[0].weight: expected a non-negative integer"},
      {"flows:\n  - protocol: udp\n    crypto: fake\n", "flows[0].crypto: expected real or none"},
      {"flows:\n  - protocol: udp\n    payload: ones\n", "flows[0].payload: expected zero"},
      {"flows: [\n", "config: line"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.yaml);
    try {
      parse_scenario(c.yaml);
      ADD_FAILURE() << "accepted";
    } catch (const ConfigError& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(c.message_start, 0), 0u) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
    }
  }
}

TEST(Scenario, MissingFileNamesIt) {
  try {
    load_scenario("/nonexistent/flows.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("/nonexistent/flows.yaml: cannot read", 0), 0u);
  }
}

TEST(Scenario, BuiltinDemoIsTheConfigFile) {
  EXPECT_EQ(read_file(kSourceDir + "/config/gen-demo.yaml"), std::string(builtin_demo_yaml()))
      << "config/gen-demo.yaml must hold exactly the built-in demo text";
  const Scenario demo = builtin_demo_scenario();
  EXPECT_EQ(demo.count, 20000u);
  EXPECT_GE(demo.flows.size(), 10u);
}

TEST(Scenario, ExampleConfigsParse) {
  for (const char* name : {"gen-demo.yaml", "gen-macsec.yaml", "gen-esp.yaml"}) {
    SCOPED_TRACE(name);
    const Scenario sc = load_scenario(kSourceDir + "/config/" + name);
    EXPECT_FALSE(sc.flows.empty());
  }
}

TEST(Scenario, ProtocolNames) {
  EXPECT_EQ(to_string(FlowProtocol::esp_udp), "esp-udp");
  EXPECT_EQ(to_string(FlowProtocol::macsec), "macsec");
}

}  // namespace
}  // namespace netscope::packet
