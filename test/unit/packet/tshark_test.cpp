// Generated frames checked by an independent implementation: Wireshark's dissectors
// (tshark). Every variant must dissect without malformed packets or expert warnings (IPv4,
// UDP and TCP checksums validated), carry the configured SecTAG/ESP/AH fields, and ESP
// must decrypt with the configured keys with a good ICV (Wireshark's esp_sa table).
//
// Wireshark 4.0 cannot decrypt MACsec (its PSK table arrived in a later release) nor use
// ESN; those are verified by packet_scapy. Fails, never skips, when tshark is missing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "netscope/packet/builders.hpp"
#include "netscope/packet/generator.hpp"
#include "netscope/packet/pcap_writer.hpp"
#include "netscope/packet/scenario.hpp"

namespace netscope::packet {
namespace {

const std::string kSourceDir = NETSCOPE_SOURCE_DIR;

std::string temp_pcap(const std::string& name) {
  return std::string(::testing::TempDir()) + "netscope_tshark_" + name + "_" +
         std::to_string(::getpid()) + ".pcap";
}

/// Generates `count` frames of `sc` into a pcap file; returns the frame lengths.
std::vector<std::size_t> write_pcap(const Scenario& sc, std::uint64_t count, const std::string& path,
                                    std::uint64_t seed = 1) {
  GeneratorOptions o;
  o.count = count;
  o.seed = seed;
  o.track_truth = false;
  Generator g(sc, o);
  PcapWriter w(path);
  std::vector<std::uint8_t> buf(g.max_frame_len());
  std::vector<std::size_t> lens;
  std::uint64_t ts = 0;
  while (const std::size_t len = g.next(buf, ts)) {
    w.write({buf.data(), len}, ts);
    lens.push_back(len);
  }
  w.close();
  return lens;
}

const char* const kFields[] = {
    "frame.len",  "frame.protocols", "_ws.expert.severity", "_ws.malformed", "macsec.TCI",
    "macsec.AN",  "macsec.SL",       "macsec.PN",           "macsec.SCI.system_identifier",
    "macsec.SCI.port_identifier",    "esp.spi",             "esp.sequence", "esp.icv_good",
    "ah.spi",     "ah.sequence",     "vlan.id",             "udp.dstport",  "tcp.dstport",
    "ip.dst",     "ipv6.dst",
};
constexpr std::size_t kFieldCount = sizeof(kFields) / sizeof(kFields[0]);

using Row = std::vector<std::string>;

std::size_t col(const char* name) {
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    if (std::string(kFields[i]) == name) return i;
  }
  ADD_FAILURE() << "no such column " << name;
  return 0;
}

/// Runs tshark on `path` with `extra` options; one row of kFields per frame.
std::vector<Row> tshark(const std::string& path, const std::string& extra) {
  std::string cmd =
      "tshark -n -r '" + path +
      "' -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE "
      "-o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE "
      "-T fields -E separator=/t -E occurrence=a -E aggregator=, " +
      extra;
  for (const char* f : kFields) cmd += std::string(" -e ") + f;
  cmd += " 2>/dev/null";
  std::vector<Row> rows;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "cannot run tshark";
    return rows;
  }
  std::string out;
  char chunk[65536];
  std::size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, p)) > 0) out.append(chunk, n);
  const int status = ::pclose(p);
  EXPECT_EQ(status, 0) << "tshark failed or is not installed (apt-get install tshark): " << cmd;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    Row row;
    std::size_t start = 0;
    for (;;) {
      const std::size_t tab = line.find('\t', start);
      row.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    row.resize(kFieldCount);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string esp_uat(bool ipv6, const std::string& spi, const std::string& enc,
                    const std::string& enc_key, const std::string& auth,
                    const std::string& auth_key) {
  return "-o 'uat:esp_sa:\"" + std::string(ipv6 ? "IPv6" : "IPv4") + "\",\"*\",\"*\",\"" + spi +
         "\",\"" + enc + "\",\"" + enc_key + "\",\"" + auth + "\",\"" + auth_key + "\"' ";
}

const std::string kGcm16 = "AES-GCM with 16 octet ICV [RFC4106]";
const std::string kSha256 = "HMAC-SHA-256-128 [RFC4868]";

/// The maximum expert severity in a row must stay below "warning" (Wireshark's 0x00600000).
void expect_clean(const Row& r, std::size_t frame) {
  std::stringstream sev(r[col("_ws.expert.severity")]);
  std::string item;
  while (std::getline(sev, item, ',')) {
    if (item.empty()) continue;
    EXPECT_LT(std::stoul(item, nullptr, 0), 0x00600000ul)
        << "frame " << frame << " has an expert warning/error; protocols " << r[col("frame.protocols")];
  }
  EXPECT_TRUE(r[col("_ws.malformed")].empty()) << "frame " << frame << " is malformed";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct SequenceExpect {
  std::uint64_t first = 1;
  std::uint64_t rekey_every = 0;
  /// Number and epoch of the i-th frame of an in-order flow.
  [[nodiscard]] std::pair<std::uint64_t, std::uint32_t> at(std::size_t i) const {
    if (rekey_every == 0 || i < rekey_every) return {first + i, 0};
    const auto epoch = static_cast<std::uint32_t>(i / rekey_every);
    return {1 + i % rekey_every, epoch};
  }
};

struct MacsecCase {
  const char* name;
  const char* yaml;
  std::uint64_t count;
  SequenceExpect seq;
  std::uint8_t tci;  ///< TCI bits as on the wire (bits 7..2), AN excluded
  std::uint8_t an;
  const char* sci_mac;  ///< expected SCI system identifier, nullptr without SC
  unsigned sci_port;
  const char* protocols;  ///< expected substring of frame.protocols
};

const MacsecCase kMacsecCases[] = {
    {"gcm128_sci_vlan_inside", R"(
flows:
  - protocol: macsec
    eth: {src: "02:00:00:00:10:01", dst: "02:00:00:00:10:02"}
    vlan: [{vid: 10}]
    size: {min: 64, max: 300}
    payload: random
    macsec: {sci: "02:00:00:00:10:01/1", cipher: gcm-aes-128, key: "00112233445566778899aabbccddeeff"}
)",
     60, {1, 0}, 0x2C, 0, "02:00:00:00:10:01", 1, "eth:ethertype:macsec"},
    {"gcm256_nosci_es_integrity_ipv6_tcp", R"(
flows:
  - protocol: macsec
    eth: {src: "02:00:00:00:20:01", dst: "02:00:00:00:20:02"}
    ip: {src: "2001:db8::1", dst: "2001:db8::2"}
    l4: {protocol: tcp}
    size: imix
    payload: counter
    macsec: {sc: false, es: true, e: false, cipher: gcm-aes-256,
             key: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"}
    sequence: {first: 77}
)",
     36, {77, 0}, 0x40, 0, nullptr, 0, "eth:ethertype:macsec:ethertype:ipv6:tcp"},
    {"xpn128_scb_pn_wrap_integrity_qinq", R"(
flows:
  - protocol: macsec
    vlan: [{vid: 100}, {vid: 200}]
    size: {min: 64, max: 200}
    macsec: {sci: "0x0200000030010005", scb: true, e: false, cipher: gcm-aes-xpn-128,
             key: "071b113b0ca743fecccf3d051f737382", salt: "e630e81a48de86a21c66fa6d", ssci: 3}
    sequence: {first: 0xFFFFFFF0}
)",
     40, {0xFFFFFFF0, 0}, 0x30, 0, "02:00:00:00:30:01", 5,
     "eth:ethertype:macsec:ethertype:ieee8021ad:ethertype:vlan:ethertype:ip:udp"},
    {"xpn256_encrypted_jumbo", R"(
flows:
  - protocol: macsec
    size: {min: 64, max: 9000}
    payload: random
    macsec: {cipher: gcm-aes-xpn-256, salt: "e630e81a48de86a21c66fa6d",
             key: "e3c08a8f06c6e3ad95a70557b23f75483ce33021a9c72b7025666204c69c0b72"}
)",
     30, {1, 0}, 0x2C, 0, "02:00:00:00:00:01", 1, "eth:ethertype:macsec"},
    {"rekey_an_cycles", R"(
flows:
  - protocol: macsec
    size: 100
    macsec: {an: 2, key: "00112233445566778899aabbccddeeff"}
    sequence: {first: 500, rekey_every: 5}
)",
     30, {500, 5}, 0x2C, 2, "02:00:00:00:00:01", 1, "eth:ethertype:macsec"},
    {"crypto_none_short", R"(
flows:
  - protocol: macsec
    crypto: none
    size: {min: 64, max: 96}
    macsec: {e: false}
)",
     40, {1, 0}, 0x20, 0, "02:00:00:00:00:01", 1, "eth:ethertype:macsec:ethertype:ip:udp"},
};

TEST(Tshark, MacsecVariants) {
  for (const MacsecCase& c : kMacsecCases) {
    SCOPED_TRACE(c.name);
    const std::string path = temp_pcap(c.name);
    const auto lens = write_pcap(parse_scenario(c.yaml), c.count, path);
    const auto rows = tshark(path, "");
    ASSERT_EQ(rows.size(), lens.size());
    const bool sc = c.sci_mac != nullptr;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      expect_clean(r, i + 1);
      EXPECT_TRUE(contains(r[col("frame.protocols")], c.protocols)) << r[col("frame.protocols")];
      const auto [number, epoch] = c.seq.at(i);
      EXPECT_EQ(std::stoul(r[col("macsec.TCI")], nullptr, 0), c.tci >> 2u) << i;
      EXPECT_EQ(std::stoul(r[col("macsec.AN")], nullptr, 0), (c.an + epoch) % 4u) << i;
      EXPECT_EQ(std::stoull(r[col("macsec.PN")]), number & 0xFFFFFFFFu) << i;
      const std::size_t secure = lens[i] - kEthernetHeaderLen - (sc ? 14 : 6) - kMacsecIcvLen;
      EXPECT_EQ(std::stoul(r[col("macsec.SL")]), macsec_short_length(secure)) << i;
      if (sc) {
        EXPECT_EQ(r[col("macsec.SCI.system_identifier")], c.sci_mac);
        EXPECT_EQ(std::stoul(r[col("macsec.SCI.port_identifier")]), c.sci_port);
      } else {
        EXPECT_TRUE(r[col("macsec.SCI.system_identifier")].empty());
      }
    }
    std::remove(path.c_str());
  }
}

struct IpsecCase {
  const char* name;
  const char* yaml;
  std::uint64_t count;
  SequenceExpect seq;
  std::uint32_t spi;
  bool ah;
  std::string uat;        ///< esp_sa entries: decryption and ICV check expected when set
  const char* protocols;  ///< expected substring of frame.protocols (after decryption)
  const char* inner_dst;  ///< must appear among ip.dst/ipv6.dst (decrypted tunnel), or nullptr
};

std::vector<IpsecCase> ipsec_cases() {
  const std::string gcm128 = "0x4c80cdefbb5d10da906ac73c3613a634" "2e443b68";
  const std::string gcm256 = "0xabbccddef00112233445566778899aabbccddeeff0011223344556677889900a" "cafebabe";
  const std::string hmac = "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
  return {
      {"esp_gcm128_transport_v4", R"(
flows:
  - protocol: esp
    ip: {src: 192.0.2.1, dst: 192.0.2.2}
    size: {min: 64, max: 1518}
    payload: random
    esp: {spi: 0x100, algorithm: aes-gcm-128, key: "4c80cdefbb5d10da906ac73c3613a634", salt: "2e443b68"}
)",
       60, {1, 0}, 0x100, false, esp_uat(false, "0x00000100", kGcm16, gcm128, "NULL", ""),
       "eth:ethertype:ip:esp:udp", nullptr},
      {"esp_gcm256_tunnel_v4_in_v6_jumbo", R"(
flows:
  - protocol: esp
    ip: {src: 10.0.1.1, dst: 10.0.2.1}
    size: {min: 64, max: 9000}
    esp:
      spi: 0x200
      mode: tunnel
      outer: {src: "2001:db8:a::1", dst: "2001:db8:b::1"}
      algorithm: aes-gcm-256
      key: "abbccddef00112233445566778899aabbccddeeff0011223344556677889900a"
      salt: "cafebabe"
    sequence: {first: 0xFFFFFFF8}
)",
       30, {0xFFFFFFF8, 0}, 0x200, false, esp_uat(true, "*", kGcm16, gcm256, "NULL", ""),
       "eth:ethertype:ipv6:esp:ip:udp", "10.0.2.1"},
      {"esp_udp_null_hmac_tunnel_v4_rekey", R"(
flows:
  - protocol: esp-udp
    vlan: [{vid: 42}]
    ip: {src: 10.3.0.1, dst: 10.4.0.1}
    size: 300
    esp:
      spi: 0x3001
      mode: tunnel
      outer: {src: 198.51.100.1, dst: 198.51.100.2}
      algorithm: null-hmac-sha256-128
      key: "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
    sequence: {rekey_every: 7}
)",
       30, {1, 7}, 0x3001, false, esp_uat(false, "*", "NULL", "", kSha256, hmac),
       "eth:ethertype:vlan:ethertype:ip:udp:udpencap:esp:ip:udp", "10.4.0.1"},
      {"esp_udp_gcm128_transport_v6_tcp", R"(
flows:
  - protocol: esp-udp
    ip: {src: "2001:db8:c::1", dst: "2001:db8:d::1"}
    l4: {protocol: tcp}
    size: {min: 100, max: 700}
    payload: random
    esp: {spi: 0x300, algorithm: aes-gcm-128, key: "4c80cdefbb5d10da906ac73c3613a634", salt: "2e443b68"}
)",
       40, {1, 0}, 0x300, false, esp_uat(true, "0x00000300", kGcm16, gcm128, "NULL", ""),
       "eth:ethertype:ipv6:udp:udpencap:esp:tcp", nullptr},
      {"esp_null_hmac_transport_v6", R"(
flows:
  - protocol: esp
    ip: {src: "2001:db8:e::1", dst: "2001:db8:f::1"}
    size: {min: 64, max: 400}
    esp: {spi: 0x400, algorithm: null-hmac-sha256-128,
          key: "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"}
)",
       40, {1, 0}, 0x400, false, esp_uat(true, "0x00000400", "NULL", "", kSha256, hmac),
       "eth:ethertype:ipv6:esp:udp", nullptr},
      {"esp_esn_structure_only", R"(
flows:
  - protocol: esp
    size: 200
    esp: {spi: 0x500, esn: true, algorithm: aes-gcm-128, key: "4c80cdefbb5d10da906ac73c3613a634", salt: "2e443b68"}
    sequence: {first: 0x1FFFFFFFE}
)",
       10, {0x1FFFFFFFE, 0}, 0x500, false, "", "eth:ethertype:ip:esp", nullptr},
      {"esp_crypto_none", R"(
flows:
  - {protocol: esp, crypto: none, size: 128, esp: {spi: 0x600}}
)",
       10, {1, 0}, 0x600, false, "", "eth:ethertype:ip:esp", nullptr},
      {"ah_sha256_transport_v4", R"(
flows:
  - protocol: ah
    ip: {src: 10.5.0.1, dst: 10.6.0.1}
    size: {min: 64, max: 1518}
    ah: {spi: 0x4001, algorithm: hmac-sha256-128, key: "fedcba9876543210fedcba9876543210"}
)",
       30, {1, 0}, 0x4001, true, "", "eth:ethertype:ip:ah:udp", nullptr},
      {"ah_sha256_transport_v6_icv_padding", R"(
flows:
  - protocol: ah
    ip: {src: "2001:db8:1::1", dst: "2001:db8:2::1"}
    l4: {protocol: tcp}
    size: 300
    ah: {spi: 0x4002, algorithm: hmac-sha256-128, key: "fedcba9876543210fedcba9876543210"}
    sequence: {rekey_every: 4}
)",
       20, {1, 4}, 0x4002, true, "", "eth:ethertype:ipv6:ah:tcp", nullptr},
      {"ah_sha1_tunnel_v6_in_v4", R"(
flows:
  - protocol: ah
    ip: {src: "2001:db8:30::1", dst: "2001:db8:40::1"}
    size: 400
    ah:
      spi: 0x5001
      mode: tunnel
      outer: {src: 198.51.100.7, dst: 198.51.100.8}
      algorithm: hmac-sha1-96
      key: "000102030405060708090a0b0c0d0e0f10111213"
)",
       20, {1, 0}, 0x5001, true, "", "eth:ethertype:ip:ah:ipv6:udp", "2001:db8:40::1"},
  };
}

TEST(Tshark, EspAndAhVariantsDecryptAndCarryTheirFields) {
  for (const IpsecCase& c : ipsec_cases()) {
    SCOPED_TRACE(c.name);
    const std::string path = temp_pcap(c.name);
    const auto lens = write_pcap(parse_scenario(c.yaml), c.count, path);
    const auto rows = tshark(path, c.uat);
    ASSERT_EQ(rows.size(), lens.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      expect_clean(r, i + 1);
      EXPECT_TRUE(contains(r[col("frame.protocols")], c.protocols))
          << i << ": " << r[col("frame.protocols")];
      const auto [number, epoch] = c.seq.at(i);
      const char* spi_col = c.ah ? "ah.spi" : "esp.spi";
      const char* seq_col = c.ah ? "ah.sequence" : "esp.sequence";
      EXPECT_EQ(std::stoul(r[col(spi_col)], nullptr, 0), c.spi + epoch) << i;
      EXPECT_EQ(std::stoull(r[col(seq_col)]), number & 0xFFFFFFFFu) << i;
      if (!c.uat.empty()) {
        EXPECT_EQ(r[col("esp.icv_good")], "1") << "frame " << i + 1 << ": Wireshark rejects the ICV";
      }
      if (c.inner_dst != nullptr) {
        EXPECT_TRUE(contains(r[col("ip.dst")] + "," + r[col("ipv6.dst")], c.inner_dst));
      }
    }
    std::remove(path.c_str());
  }
}

TEST(Tshark, WrongEspKeyIsDetected) {
  // Control for the test above: Wireshark does check the ICV.
  const std::string path = temp_pcap("wrong_key");
  write_pcap(parse_scenario(R"(
flows:
  - protocol: esp
    esp: {spi: 0x100, algorithm: aes-gcm-128, key: "4c80cdefbb5d10da906ac73c3613a634", salt: "2e443b68"}
)"),
             5, path);
  const auto rows = tshark(path, esp_uat(false, "*", kGcm16, "0x4c80cdefbb5d10da906ac73c3613a6342e443b69",
                                         "NULL", ""));
  ASSERT_EQ(rows.size(), 5u);
  for (const Row& r : rows) EXPECT_NE(r[col("esp.icv_good")], "1");
  std::remove(path.c_str());
}

TEST(Tshark, PlainBackgroundFlows) {
  const std::string path = temp_pcap("plain");
  const auto lens = write_pcap(parse_scenario(R"(
flows:
  - {protocol: udp, vlan: [{vid: 7}], l4: {checksum: true}, size: imix, payload: random}
  - {protocol: udp, ip: {src: "2001:db8::1", dst: "2001:db8::2"}, size: {min: 64, max: 9000}, payload: random}
  - {protocol: tcp, vlan: [{vid: 1}, {vid: 2}], size: {min: 64, max: 1518}, payload: {pattern: "deadbeef"}}
  - {protocol: tcp, ip: {src: "2001:db8::1", dst: "2001:db8::2"}, size: 1518, payload: counter}
)"),
                               80, path);
  const auto rows = tshark(path, "");
  ASSERT_EQ(rows.size(), lens.size());
  const char* chains[] = {"eth:ethertype:vlan:ethertype:ip:udp", "eth:ethertype:ipv6:udp",
                          "eth:ethertype:ieee8021ad:ethertype:vlan:ethertype:ip:tcp",
                          "eth:ethertype:ipv6:tcp"};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    expect_clean(rows[i], i + 1);
    EXPECT_TRUE(contains(rows[i][col("frame.protocols")], chains[i % 4])) << rows[i][col("frame.protocols")];
    EXPECT_EQ(std::stoul(rows[i][col("frame.len")]), lens[i]);
  }
  std::remove(path.c_str());
}

TEST(Tshark, WholeDemoDissectsCleanlyAndItsEspDecrypts) {
  const std::string path = temp_pcap("demo");
  const auto lens = write_pcap(builtin_demo_scenario(), 20000, path);
  // The demo's anomalies are on purpose: ESP sequence analysis would flag them.
  const std::string uat =
      "-o esp.do_esp_sequence_analysis:FALSE " +
      esp_uat(false, "0x00001001", kGcm16, "0x4c80cdefbb5d10da906ac73c3613a634" "2e443b68", "NULL", "") +
      esp_uat(false, "*", "NULL", "", kSha256,
              "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
  const auto rows = tshark(path, uat);
  ASSERT_EQ(rows.size(), lens.size());
  std::size_t decrypted = 0, esp = 0, macsec = 0, ah = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    expect_clean(r, i + 1);
    if (!r[col("macsec.PN")].empty()) ++macsec;
    if (!r[col("ah.spi")].empty()) ++ah;
    if (r[col("esp.spi")].empty()) continue;
    ++esp;
    if (r[col("esp.spi")] == "0x00002001") continue;  // ESN: Wireshark 4.0 cannot check it
    EXPECT_EQ(r[col("esp.icv_good")], "1") << "frame " << i + 1;
    decrypted += r[col("esp.icv_good")] == "1";
  }
  EXPECT_EQ(macsec, 7000u);
  EXPECT_EQ(esp, 7000u);
  EXPECT_EQ(ah, 2000u);
  EXPECT_EQ(decrypted, 5000u);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace netscope::packet
