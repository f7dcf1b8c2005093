// Generated MACsec, ESP and AH frames authenticated and decrypted by an independent
// implementation: scapy (Debian python3-scapy) on python3-cryptography. Covers what
// Wireshark 4.0 cannot check: MACsec ICVs and decryption for every cipher suite (XPN
// included), ESP with ESN, AH ICVs. Fails, never skips, when python3-scapy is missing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "netscope/packet/generator.hpp"
#include "netscope/packet/pcap_writer.hpp"
#include "netscope/packet/scenario.hpp"

namespace netscope::packet {
namespace {

// argv: pcap, json. Prints "VERIFIED n" and exits 0, or prints the first problem and exits 1.
constexpr const char* kScript = R"py(
import hashlib, hmac, json, struct, sys, warnings
warnings.filterwarnings("ignore")
from scapy.all import rdpcap, Ether, IP, IPv6
from scapy.contrib.macsec import MACsecSA, MACsec
from scapy.layers.ipsec import SecurityAssociation, ESP, AH, AUTH_ALGOS
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

cfg = json.load(open(sys.argv[2]))
pkts = rdpcap(sys.argv[1])

def fail(i, msg):
    print("FAIL frame %d: %s" % (i + 1, msg))
    sys.exit(1)

def check_ip(i, b, dst):
    if b[0] >> 4 == 4:
        ip = IP(b)
        c = ip.chksum
        del ip.chksum
        if IP(bytes(ip)).chksum != c:
            fail(i, "inner IPv4 header checksum")
        got = ip.dst
    else:
        got = IPv6(b).dst
    if got != dst:
        fail(i, "inner destination %s, expected %s" % (got, dst))

def check_l4(i, b):
    if struct.unpack("!H", b[2:4])[0] != cfg["dst_port"]:
        fail(i, "inner destination port")

if len(pkts) != len(cfg["frames"]):
    fail(0, "%d frames, expected %d" % (len(pkts), len(cfg["frames"])))
key = bytes.fromhex(cfg["key"])
for i, p in enumerate(pkts):
    raw = bytes(p)
    f = cfg["frames"][i]
    n, epoch = f["number"], f["epoch"]
    hi = (n >> 32) & 0xFFFFFFFF
    e = Ether(raw)
    if cfg["kind"] == "macsec":
        m = e[MACsec]
        if m.PN != n & 0xFFFFFFFF or m.AN != (cfg["an"] + epoch) % 4:
            fail(i, "PN/AN")
        sa = MACsecSA(sci=cfg["sci"], an=m.AN, pn=n, key=key, icvlen=16, encrypt=cfg["e"],
                      send_sci=cfg["sc"], xpn_en=cfg["xpn"], ssci=cfg["ssci"],
                      salt=bytes.fromhex(cfg["salt"]) if cfg["xpn"] else None)
        try:
            d = sa.decrypt(e)
        except Exception as ex:
            fail(i, "MACsec ICV rejected: %r" % ex)
        secure = struct.pack("!H", d[MACsec].type) + bytes(d[MACsec].payload)
        check_ip(i, secure[2 + 4 * cfg["tags"]:], cfg["inner_dst"])
    elif cfg["kind"] == "esp":
        esp = e[ESP]
        spi = cfg["spi"] + epoch
        if esp.spi != spi or esp.seq != n & 0xFFFFFFFF:
            fail(i, "SPI/sequence")
        if cfg["alg"] == "null-hmac":
            sa = SecurityAssociation(ESP, spi=spi, crypt_algo="NULL", auth_algo="SHA2-256-128", auth_key=key)
            body = bytes(esp)
            mac = hmac.new(key, body[:-16] + (struct.pack("!I", hi) if cfg["esn"] else b""),
                           hashlib.sha256).digest()[:16]
            if mac != body[-16:]:
                fail(i, "ESP HMAC-SHA-256-128 ICV")
        else:
            sa = SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM",
                                     crypt_key=key + bytes.fromhex(cfg["salt"]), auth_algo="NULL")
        try:
            plain = sa.crypt_algo.decrypt(sa, esp, sa.crypt_key,
                                          sa.crypt_algo.icv_size or sa.auth_algo.icv_size,
                                          esn_en=cfg["esn"], esn=hi)
        except Exception as ex:
            fail(i, "ESP rejected: %r" % ex)
        # scapy 2.5 slices the padding wrongly: check the trailer on the full plaintext.
        body = bytes(esp)
        if cfg["alg"] == "null-hmac":
            pt = body[8:-16]
        else:
            aad = body[0:4] + (struct.pack("!I", hi) if cfg["esn"] else b"") + body[4:8]
            pt = AESGCM(key).decrypt(bytes.fromhex(cfg["salt"]) + body[8:16], body[16:], aad)
        padlen = pt[-2]
        if pt[-2 - padlen:-2] != bytes(range(1, padlen + 1)) or pt[-1] != plain.nh:
            fail(i, "ESP padding is not 1, 2, 3, ... or next header differs")
        if pt[:-2 - padlen] != bytes(plain.data) or len(pt) % 4 != 0:
            fail(i, "ESP payload or alignment")
        if cfg["tunnel"]:
            if plain.nh not in (4, 41):
                fail(i, "tunnel next header %d" % plain.nh)
            check_ip(i, bytes(plain.data), cfg["inner_dst"])
        else:
            if plain.nh != cfg["l4"]:
                fail(i, "transport next header %d" % plain.nh)
            check_l4(i, bytes(plain.data))
    else:
        ip = e.payload
        ah = ip[AH]
        spi = cfg["spi"] + epoch
        if ah.spi != spi or ah.seq != n & 0xFFFFFFFF:
            fail(i, "SPI/sequence")
        inner = bytes(ah.payload)
        algo = AUTH_ALGOS["SHA2-256-128" if cfg["alg"] == "hmac-sha256-128" else "HMAC-SHA1-96"]
        try:
            algo.verify(ip, key, esn_en=cfg["esn"], esn=hi)
        except Exception as ex:
            fail(i, "AH ICV rejected: %r" % ex)
        if cfg["tunnel"]:
            check_ip(i, inner, cfg["inner_dst"])
        else:
            check_l4(i, inner)
print("VERIFIED %d" % len(pkts))
)py";

std::string temp(const std::string& name, const char* ext) {
  return std::string(::testing::TempDir()) + "netscope_scapy_" + name + "_" +
         std::to_string(::getpid()) + ext;
}

struct Case {
  const char* name;
  const char* yaml;
  std::uint64_t count;
  nlohmann::json cfg;  ///< kind and keys; "frames" is filled in from the flow
};

/// In-order numbering with optional rekey, as the flows below use.
nlohmann::json frames(const FlowSpec& f, std::uint64_t count) {
  nlohmann::json out = nlohmann::json::array();
  const std::uint64_t n = f.sequence.rekey_every;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (n == 0 || i < n) {
      out.push_back({{"number", f.sequence.first + i}, {"epoch", 0}});
    } else {
      out.push_back({{"number", 1 + i % n}, {"epoch", i / n}});
    }
  }
  return out;
}

void run_case(const Case& c) {
  SCOPED_TRACE(c.name);
  const Scenario sc = parse_scenario(c.yaml);
  const std::string pcap = temp(c.name, ".pcap");
  const std::string json = temp(c.name, ".json");
  const std::string script = temp("verify", ".py");
  {
    GeneratorOptions o;
    o.count = c.count;
    o.track_truth = false;
    Generator g(sc, o);
    PcapWriter w(pcap);
    std::vector<std::uint8_t> buf(g.max_frame_len());
    std::uint64_t ts;
    while (const std::size_t len = g.next(buf, ts)) w.write({buf.data(), len}, ts);
    w.close();
  }
  nlohmann::json cfg = c.cfg;
  cfg["frames"] = frames(sc.flows[0], c.count);
  cfg["dst_port"] = sc.flows[0].dst_port;
  cfg["l4"] = sc.flows[0].l4_protocol;
  std::ofstream(json) << cfg.dump();
  std::ofstream(script) << kScript;
  const std::string cmd = "/usr/bin/python3 '" + script + "' '" + pcap + "' '" + json + "' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char chunk[4096];
  std::size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, p)) > 0) out.append(chunk, n);
  const int status = ::pclose(p);
  EXPECT_EQ(status, 0) << "scapy verification failed (python3-scapy installed?):\n" << out;
  EXPECT_NE(out.find("VERIFIED " + std::to_string(c.count)), std::string::npos) << out;
  std::remove(pcap.c_str());
  std::remove(json.c_str());
  std::remove(script.c_str());
}

nlohmann::json macsec(std::uint64_t sci, const char* key, bool e, bool sc, bool xpn,
                      std::uint32_t ssci, const char* salt, int tags, const char* inner_dst,
                      int an = 0) {
  return {{"kind", "macsec"}, {"sci", sci},   {"key", key},   {"e", e},
          {"sc", sc},         {"xpn", xpn},   {"ssci", ssci}, {"salt", salt},
          {"tags", tags},     {"an", an},     {"inner_dst", inner_dst}};
}

TEST(Scapy, MacsecEverySuiteDecryptsAndAuthenticates) {
  const char* k128 = "ad7a2bd03eac835a6f620fdcb506b345";
  const char* k256 = "e3c08a8f06c6e3ad95a70557b23f75483ce33021a9c72b7025666204c69c0b72";
  const char* salt = "e630e81a48de86a21c66fa6d";
  const Case cases[] = {
      {"gcm128_encrypted_sci_vlan", R"(
flows:
  - protocol: macsec
    vlan: [{vid: 10}]
    size: {min: 64, max: 1518}
    payload: random
    macsec: {sci: "0x0200000000010007", key: "ad7a2bd03eac835a6f620fdcb506b345"}
)",
       40, macsec(0x0200000000010007ull, k128, true, true, false, 0, "", 1, "10.0.0.2")},
      {"gcm256_integrity_nosci", R"(
flows:
  - protocol: macsec
    eth: {src: "f0:76:1e:8d:cd:3d"}
    ip: {src: "2001:db8::1", dst: "2001:db8::2"}
    size: imix
    macsec: {sc: false, es: true, e: false, cipher: gcm-aes-256,
             key: "e3c08a8f06c6e3ad95a70557b23f75483ce33021a9c72b7025666204c69c0b72"}
)",
       24, macsec(0xF0761E8DCD3D0001ull, k256, false, false, false, 0, "", 0, "2001:db8::2")},
      {"gcm256_encrypted_nosci_rekey", R"(
flows:
  - protocol: macsec
    eth: {src: "02:00:00:00:00:09"}
    size: 200
    macsec: {sc: false, cipher: gcm-aes-256, an: 3,
             key: "e3c08a8f06c6e3ad95a70557b23f75483ce33021a9c72b7025666204c69c0b72"}
    sequence: {first: 0xFFFFFFFE, rekey_every: 6}
)",
       20, macsec(0x0200000000090001ull, k256, true, false, false, 0, "", 0, "10.0.0.2", 3)},
      {"xpn128_encrypted_crosses_2_32", R"(
flows:
  - protocol: macsec
    vlan: [{vid: 1}, {vid: 2}]
    size: {min: 64, max: 600}
    payload: counter
    macsec: {sci: "0x0200000000010001", cipher: gcm-aes-xpn-128, ssci: 0x7a30c118,
             key: "ad7a2bd03eac835a6f620fdcb506b345", salt: "e630e81a48de86a21c66fa6d"}
    sequence: {first: 0xFFFFFFF0}
)",
       40, macsec(0x0200000000010001ull, k128, true, true, true, 0x7a30c118, salt, 2, "10.0.0.2")},
      {"xpn256_integrity_high_bits", R"(
flows:
  - protocol: macsec
    size: {min: 64, max: 300}
    macsec: {sci: "0x0200000000010001", cipher: gcm-aes-xpn-256, e: false, ssci: 1,
             key: "e3c08a8f06c6e3ad95a70557b23f75483ce33021a9c72b7025666204c69c0b72",
             salt: "e630e81a48de86a21c66fa6d"}
    sequence: {first: 0xB0DF459CB2C28460}
)",
       20, macsec(0x0200000000010001ull, k256, false, true, true, 1, salt, 0, "10.0.0.2")},
  };
  for (const Case& c : cases) run_case(c);
}

nlohmann::json ipsec(const char* kind, std::uint32_t spi, const char* alg, const char* key,
                     const char* salt, bool esn, bool tunnel, const char* inner_dst) {
  return {{"kind", kind}, {"spi", spi},       {"alg", alg},       {"key", key},
          {"salt", salt}, {"esn", esn},       {"tunnel", tunnel}, {"inner_dst", inner_dst}};
}

TEST(Scapy, EspAndAhAuthenticateIncludingEsn) {
  const char* g128 = "4c80cdefbb5d10da906ac73c3613a634";
  const char* g256 = "abbccddef00112233445566778899aabbccddeeff0011223344556677889900a";
  const char* hk = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
  const Case cases[] = {
      {"esp_gcm128_transport_v4", R"(
flows:
  - protocol: esp
    size: {min: 64, max: 1518}
    payload: random
    esp: {spi: 0x100, key: "4c80cdefbb5d10da906ac73c3613a634", salt: "2e443b68"}
)",
       40, ipsec("esp", 0x100, "gcm", g128, "2e443b68", false, false, "")},
      {"esp_gcm256_tunnel_v6_esn_crosses_2_32", R"(
flows:
  - protocol: esp
    ip: {src: 10.0.1.1, dst: 10.0.2.1}
    size: {min: 64, max: 1400}
    esp:
      spi: 0x200
      mode: tunnel
      outer: {src: "2001:db8:a::1", dst: "2001:db8:b::1"}
      esn: true
      algorithm: aes-gcm-256
      key: "abbccddef00112233445566778899aabbccddeeff0011223344556677889900a"
      salt: "cafebabe"
    sequence: {first: 0x2FFFFFFF0}
)",
       40, ipsec("esp", 0x200, "gcm", g256, "cafebabe", true, true, "10.0.2.1")},
      {"esp_udp_null_hmac_esn_rekey", R"(
flows:
  - protocol: esp-udp
    ip: {src: "2001:db8:c::1", dst: "2001:db8:d::1"}
    l4: {protocol: tcp}
    size: {min: 64, max: 800}
    esp:
      spi: 0x300
      esn: true
      algorithm: null-hmac-sha256-128
      key: "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
    sequence: {first: 0x1FFFFFFFA, rekey_every: 9}
)",
       30, ipsec("esp", 0x300, "null-hmac", hk, "", true, false, "")},
      {"ah_sha256_transport_v4_esn", R"(
flows:
  - protocol: ah
    size: {min: 64, max: 1518}
    ah: {spi: 0x400, esn: true, key: "fedcba9876543210fedcba9876543210"}
    sequence: {first: 0x5FFFFFFFC}
)",
       20, ipsec("ah", 0x400, "hmac-sha256-128", "fedcba9876543210fedcba9876543210", "", true, false, "")},
      {"ah_sha256_transport_v6_padded_icv", R"(
flows:
  - protocol: ah
    ip: {src: "2001:db8:1::1", dst: "2001:db8:2::1"}
    size: 300
    ah: {spi: 0x401, key: "fedcba9876543210fedcba9876543210"}
)",
       10, ipsec("ah", 0x401, "hmac-sha256-128", "fedcba9876543210fedcba9876543210", "", false, false, "")},
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
       10, ipsec("ah", 0x5001, "hmac-sha1-96", "000102030405060708090a0b0c0d0e0f10111213", "", false,
                 true, "2001:db8:40::1")},
  };
  for (const Case& c : cases) run_case(c);
}

TEST(Scapy, WrongKeyIsRejected) {
  // Control: the script does fail when the ICV does not match.
  const Scenario sc = parse_scenario(R"(
flows:
  - {protocol: macsec, size: 100, macsec: {key: "ad7a2bd03eac835a6f620fdcb506b345"}}
)");
  const std::string pcap = temp("wrong", ".pcap");
  const std::string json = temp("wrong", ".json");
  const std::string script = temp("wrong", ".py");
  {
    GeneratorOptions o;
    o.count = 2;
    Generator g(sc, o);
    PcapWriter w(pcap);
    std::vector<std::uint8_t> buf(g.max_frame_len());
    std::uint64_t ts;
    while (const std::size_t len = g.next(buf, ts)) w.write({buf.data(), len}, ts);
    w.close();
  }
  nlohmann::json cfg = macsec(0x0200000000010001ull, "ad7a2bd03eac835a6f620fdcb506b346", true,
                              true, false, 0, "", 0, "10.0.0.2");
  cfg["frames"] = frames(sc.flows[0], 2);
  cfg["dst_port"] = 7;
  cfg["l4"] = 17;
  std::ofstream(json) << cfg.dump();
  std::ofstream(script) << kScript;
  const std::string cmd = "/usr/bin/python3 '" + script + "' '" + pcap + "' '" + json + "' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char chunk[4096];
  std::size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, p)) > 0) out.append(chunk, n);
  EXPECT_NE(::pclose(p), 0);
  EXPECT_NE(out.find("MACsec ICV rejected"), std::string::npos) << out;
  std::remove(pcap.c_str());
  std::remove(json.c_str());
  std::remove(script.c_str());
}

}  // namespace
}  // namespace netscope::packet
