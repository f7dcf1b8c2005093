// Known-answer tests: NIST GCM test cases (McGrew & Viega, "The Galois/Counter Mode of
// Operation", test cases 1-4, 13, 14), HMAC (RFC 4231, RFC 2202), and the IEEE 802.1AE
// Annex C MACsec vectors (GCM-AES-128/256 and GCM-AES-XPN-128/256, integrity and
// confidentiality, with and without SCI) as reproduced in DPDK's
// app/test/test_security_inline_macsec_vectors.h.
#include "netscope/packet/crypto.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "netscope/packet/builders.hpp"
#include "netscope/packet/wire.hpp"

namespace netscope::packet {
namespace {

std::vector<std::uint8_t> hex(std::string_view s) {
  std::vector<std::uint8_t> out;
  std::string digits;
  for (char c : s) {
    if (c != ' ') digits += c;
  }
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
  }
  return out;
}

/// Every AES-GCM backend of this build: each must pass every known-answer test.
std::vector<GcmBackend> test_backends() {
  std::vector<GcmBackend> b{GcmBackend::openssl};
  if (ipsec_mb_available()) b.push_back(GcmBackend::ipsec_mb);
  return b;
}

const char* name_of(GcmBackend b) { return b == GcmBackend::ipsec_mb ? "ipsec-mb" : "openssl"; }

std::span<const std::uint8_t, kGcmIvLen> iv12(const std::vector<std::uint8_t>& v) {
  return std::span<const std::uint8_t, kGcmIvLen>(v.data(), kGcmIvLen);
}

struct GcmCase {
  const char* name;
  const char* key;
  const char* iv;
  const char* aad;
  const char* plaintext;
  const char* ciphertext;
  const char* tag;
};

const GcmCase kGcmCases[] = {
    {"tc1", "00000000000000000000000000000000", "000000000000000000000000", "", "", "",
     "58e2fccefa7e3061367f1d57a4e7455a"},
    {"tc2", "00000000000000000000000000000000", "000000000000000000000000", "",
     "00000000000000000000000000000000", "0388dace60b6a392f328c2b971b2fe78",
     "ab6e47d42cec13bdf53a67b21257bddf"},
    {"tc3", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {"tc4", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"tc13", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"tc14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
};

TEST(AesGcm, NistTestCases) {
  for (const GcmBackend b : test_backends())
  for (const GcmCase& c : kGcmCases) {
    SCOPED_TRACE(std::string(c.name) + " " + name_of(b));
    AesGcm gcm(hex(c.key), b);
    ASSERT_EQ(gcm.backend(), b);
    const auto iv = hex(c.iv);
    std::vector<std::uint8_t> data = hex(c.plaintext);
    std::array<std::uint8_t, kGcmTagLen> tag{};
    ASSERT_TRUE(gcm.seal(iv12(iv), hex(c.aad), data, tag));
    EXPECT_EQ(data, hex(c.ciphertext));
    EXPECT_EQ(std::vector<std::uint8_t>(tag.begin(), tag.end()), hex(c.tag));
    ASSERT_TRUE(gcm.open(iv12(iv), hex(c.aad), data, tag));
    EXPECT_EQ(data, hex(c.plaintext));
    tag[0] ^= 1;
    EXPECT_FALSE(gcm.open(iv12(iv), hex(c.aad), data, tag));
  }
}

TEST(AesGcm, RejectsBadKeyLength) {
  EXPECT_THROW(AesGcm(hex("0011")), std::invalid_argument);
}

TEST(Hmac, Rfc4231AndRfc2202) {
  const std::string jefe = "Jefe";
  const std::string what = "what do ya want for nothing?";
  const std::vector<std::uint8_t> jefe_key(jefe.begin(), jefe.end());
  const std::vector<std::uint8_t> what_msg(what.begin(), what.end());
  const std::vector<std::uint8_t> key_0b(20, 0x0b);
  const std::string hi = "Hi There";
  const std::vector<std::uint8_t> hi_msg(hi.begin(), hi.end());

  struct Case {
    HmacDigest digest;
    const std::vector<std::uint8_t>* key;
    const std::vector<std::uint8_t>* msg;
    const char* mac;
  };
  const Case cases[] = {
      {HmacDigest::sha256, &key_0b, &hi_msg,
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {HmacDigest::sha256, &jefe_key, &what_msg,
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {HmacDigest::sha1, &key_0b, &hi_msg, "b617318655057264e28bc0b6fb378c8ef146be00"},
      {HmacDigest::sha1, &jefe_key, &what_msg, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
  };
  for (const Case& c : cases) {
    Hmac h(c.digest, *c.key);
    const auto want = hex(c.mac);
    for (int round = 0; round < 2; ++round) {  // the key is reused across messages
      std::vector<std::uint8_t> out(want.size());
      ASSERT_TRUE(h.begin());
      // Split the message to exercise multi-part input.
      ASSERT_TRUE(h.update(std::span(*c.msg).first(3)));
      ASSERT_TRUE(h.update(std::span(*c.msg).subspan(3)));
      ASSERT_TRUE(h.finish(out));
      EXPECT_EQ(out, want);
    }
    std::vector<std::uint8_t> truncated(12);
    ASSERT_TRUE(h.begin() && h.update(*c.msg) && h.finish(truncated));
    EXPECT_TRUE(std::equal(truncated.begin(), truncated.end(), want.begin()));
  }
}

struct MacsecVector {
  const char* name;
  MacsecCipherSuite suite;
  const char* key;
  std::uint32_t ssci;
  std::uint32_t xpn_high;
  const char* salt;
  const char* da_sa;
  std::uint8_t tci_an;
  std::uint8_t sl;
  std::uint32_t pn;
  std::uint64_t sci;  ///< 0: no SCI in the SecTAG
  const char* user_data;    ///< frame after the MAC addresses, before protection
  const char* secure_data;  ///< bytes between SecTAG and ICV after protection
  const char* icv;
};

const char* kSalt = "E630E81A48DE86A21C66FA6D";

const MacsecVector kMacsecVectors[] = {
    // Integrity only (E=0): the secure data stays in clear.
    {"integrity_gcm128_54B", MacsecCipherSuite::gcm_aes_128, "AD7A2BD03EAC835A6F620FDCB506B345",
     0, 0, "", "D609B1F056637A0D46DF998D", 0x22, 0x2A, 0xB2C28465, 0x12153524C0895E81ull,
     "08000F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F30313233340001",
     "08000F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F30313233340001",
     "F09478A9B09007D06F46E9B6A1DA25DD"},
    {"integrity_gcm256_54B", MacsecCipherSuite::gcm_aes_256,
     "E3C08A8F06C6E3AD95A70557B23F75483CE33021A9C72B7025666204C69C0B72", 0, 0, "",
     "D609B1F056637A0D46DF998D", 0x22, 0x2A, 0xB2C28465, 0x12153524C0895E81ull,
     "08000F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F30313233340001",
     "08000F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F30313233340001",
     "2F0BC5AF409E06D609EA8B7D0FA5EA50"},
    {"integrity_xpn128_54B", MacsecCipherSuite::gcm_aes_xpn_128,
     "AD7A2BD03EAC835A6F620FDCB506B345", 0x7A30C118, 0xB0DF459C, kSalt,
     "D609B1F056637A0D46DF998D", 0x22, 0x2A, 0xB2C28465, 0x12153524C0895E81ull,
     "08000F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F30313233340001",
     "08000F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F30313233340001",
     "17FE1981EBDD4AFC5062697E8BAA0C23"},
    {"integrity_xpn256_54B", MacsecCipherSuite::gcm_aes_xpn_256,
     "E3C08A8F06C6E3AD95A70557B23F75483CE33021A9C72B7025666204C69C0B72", 0x7A30C118,
     0xB0DF459C, kSalt, "D609B1F056637A0D46DF998D", 0x22, 0x2A, 0xB2C28465,
     0x12153524C0895E81ull,
     "08000F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F30313233340001",
     "08000F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F30313233340001",
     "4DBD2F6A754A6CF728CC129BA6931577"},
    // No SCI in the SecTAG (ES=1): the IV uses the source MAC with port 1.
    {"integrity_gcm128_60B_nosci", MacsecCipherSuite::gcm_aes_128,
     "071B113B0CA743FECCCF3D051F737382", 0, 0, "", "E20106D7CD0DF0761E8DCD3D", 0x40, 0x00,
     0x76D457ED, 0,
     "08000F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A0003",
     "08000F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A0003",
     "0C017BC73B227DFCC9BAFA1C41ACC353"},
    {"integrity_gcm256_60B_nosci", MacsecCipherSuite::gcm_aes_256,
     "691D3EE909D7F54167FD1CA0B5D769081F2BDE1AEE655FDBAB80BD5295AE6BE7", 0, 0, "",
     "E20106D7CD0DF0761E8DCD3D", 0x40, 0x00, 0x76D457ED, 0,
     "08000F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A0003",
     "08000F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A0003",
     "35217C774BBC31B63166BCF9D4ABED07"},
    // Confidentiality (E=1, C=1).
    {"cipher_gcm128_54B_nosci", MacsecCipherSuite::gcm_aes_128,
     "071B113B0CA743FECCCF3D051F737382", 0, 0, "", "E20106D7CD0DF0761E8DCD3D", 0x4C, 0x2A,
     0x76D457ED, 0,
     "08000F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F30313233340004",
     "13B4C72B389DC5018E72A171DD85A5D3752274D3A019FBCAED09A425CD9B2E1C9B72EEE7C9DE7D52B3F3",
     "D6A5284F4A6D3FE22A5D6C2B960494C3"},
    {"cipher_gcm256_54B_nosci", MacsecCipherSuite::gcm_aes_256,
     "691D3EE909D7F54167FD1CA0B5D769081F2BDE1AEE655FDBAB80BD5295AE6BE7", 0, 0, "",
     "E20106D7CD0DF0761E8DCD3D", 0x4C, 0x2A, 0x76D457ED, 0,
     "08000F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F30313233340004",
     "C1623F55730C93533097ADDAD25664966125352B43ADACBD61C5EF3AC90B5BEE929CE4630EA79F6CE519",
     "12AF39C2D1FDC2051F8B7B3C9D397EF2"},
    {"cipher_xpn128_54B_nosci", MacsecCipherSuite::gcm_aes_xpn_128,
     "071B113B0CA743FECCCF3D051F737382", 0x7A30C118, 0xB0DF459C, kSalt,
     "E20106D7CD0DF0761E8DCD3D", 0x4C, 0x2A, 0x76D457ED, 0,
     "08000F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F30313233340004",
     "9CA46984430203ED416EBDC2FE2622BA3E5EAB6961C36383009E187E9B0C88564653B9ABD216441C6AB6",
     "F0A232E9E44C978CF7CD84D43484D101"},
    {"cipher_gcm128_60B_sci", MacsecCipherSuite::gcm_aes_128, "AD7A2BD03EAC835A6F620FDCB506B345",
     0, 0, "", "D609B1F056637A0D46DF998D", 0x2E, 0x00, 0xB2C28465, 0x12153524C0895E81ull,
     "08000F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A0002",
     "701AFA1CC039C0D765128A665DAB69243899BF7318CCDC81C9931DA17FBE8EDD7D17CB8B4C26FC81E3284F2B7FBA713D",
     "4F8D55E7D3F06FD5A13C0C29B9D5B880"},
    {"cipher_xpn256_60B_sci", MacsecCipherSuite::gcm_aes_xpn_256,
     "E3C08A8F06C6E3AD95A70557B23F75483CE33021A9C72B7025666204C69C0B72", 0x7A30C118,
     0xB0DF459C, kSalt, "D609B1F056637A0D46DF998D", 0x2E, 0x00, 0xB2C28465,
     0x12153524C0895E81ull,
     "08000F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A0002",
     "3EB04A4BBF54C6EB1222A9AEA00C38687F6C3520D976A3B694800650CE6585E620A4191917D2A605D870C78D2752CE49",
     "3B442AC0C816D7ABD70AD65C25D46413"},
};

TEST(Macsec, Ieee8021aeAnnexCVectors) {
  for (const GcmBackend b : test_backends())
  for (const MacsecVector& v : kMacsecVectors) {
    SCOPED_TRACE(std::string(v.name) + " " + name_of(b));
    const auto macs = hex(v.da_sa);
    MacAddr da{}, sa{};
    std::copy(macs.begin(), macs.begin() + 6, da.begin());
    std::copy(macs.begin() + 6, macs.end(), sa.begin());
    SectagFields tag;
    tag.es = v.tci_an & 0x40;
    tag.sc = v.tci_an & 0x20;
    tag.scb = v.tci_an & 0x10;
    tag.e = v.tci_an & 0x08;
    tag.c = v.tci_an & 0x04;
    tag.an = v.tci_an & 0x03;
    tag.short_length = v.sl;
    tag.pn = v.pn;
    tag.sci = v.sci;
    const auto user = hex(v.user_data);
    ASSERT_EQ(macsec_short_length(user.size()), v.sl);

    std::vector<std::uint8_t> frame(kEthernetHeaderLen + tag.len() + user.size() + kMacsecIcvLen);
    write_ethernet(frame, da, sa, decode::ethertype::kMacsec);
    write_sectag(std::span(frame).subspan(kEthernetHeaderLen), tag);
    const std::size_t secure_off = kEthernetHeaderLen + tag.len();
    std::copy(user.begin(), user.end(), frame.begin() + static_cast<std::ptrdiff_t>(secure_off));

    const std::uint64_t sci = tag.sc ? v.sci : implicit_sci(sa);
    const std::uint64_t pn = (std::uint64_t{v.xpn_high} << 32) | v.pn;
    MacsecProtector p(v.suite, hex(v.key), hex(v.salt), v.ssci, b);
    ASSERT_EQ(p.backend(), b);
    ASSERT_TRUE(p.protect(frame, secure_off, sci, pn, tag.e));

    std::vector<std::uint8_t> want(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(secure_off));
    for (auto b : hex(v.secure_data)) want.push_back(b);
    for (auto b : hex(v.icv)) want.push_back(b);
    EXPECT_EQ(frame, want);

    ASSERT_TRUE(p.verify(frame, secure_off, sci, pn, tag.e));
    EXPECT_TRUE(std::equal(user.begin(), user.end(), frame.begin() + static_cast<std::ptrdiff_t>(secure_off)));
    frame[3] ^= 0x01;  // the MAC addresses are always authenticated
    EXPECT_FALSE(p.verify(frame, secure_off, sci, pn, tag.e));
  }
}

TEST(Macsec, XpnUsesHighPnBitsNonXpnIgnoresThem) {
  const auto key = hex("AD7A2BD03EAC835A6F620FDCB506B345");
  std::vector<std::uint8_t> a(80, 0x5a), b(80, 0x5a);
  MacsecProtector gcm(MacsecCipherSuite::gcm_aes_128, key);
  ASSERT_TRUE(gcm.protect(a, 28, 1, 0x1'00000005ull, true));
  ASSERT_TRUE(gcm.protect(b, 28, 1, 0x5, true));
  EXPECT_EQ(a, b) << "GCM-AES-128 uses only the low 32 PN bits";
  std::vector<std::uint8_t> c(80, 0x5a), d(80, 0x5a);
  MacsecProtector xpn(MacsecCipherSuite::gcm_aes_xpn_128, key, hex(kSalt), 7);
  ASSERT_TRUE(xpn.protect(c, 28, 1, 0x1'00000005ull, true));
  ASSERT_TRUE(xpn.protect(d, 28, 1, 0x5, true));
  EXPECT_NE(c, d) << "XPN puts the high PN bits in the IV";
}

TEST(Macsec, RejectsBadParameters) {
  EXPECT_THROW(MacsecProtector(MacsecCipherSuite::gcm_aes_256, hex("AD7A2BD03EAC835A6F620FDCB506B345")),
               std::invalid_argument);
  EXPECT_THROW(MacsecProtector(MacsecCipherSuite::gcm_aes_xpn_128,
                               hex("AD7A2BD03EAC835A6F620FDCB506B345"), hex("0011")),
               std::invalid_argument);
}

std::vector<std::uint8_t> esp_packet(std::size_t iv_len, std::size_t payload) {
  std::vector<std::uint8_t> esp(kEspHeaderLen + iv_len + payload + esp_pad_len(payload) + 2 + 16);
  write_esp_header(esp, 0x1001, 0x89ABCDEF);
  for (std::size_t i = 0; i < payload; ++i) esp[kEspHeaderLen + iv_len + i] = static_cast<std::uint8_t>(i);
  write_esp_trailer(std::span(esp).subspan(kEspHeaderLen + iv_len + payload), esp_pad_len(payload), 17);
  return esp;
}

TEST(Esp, GcmRoundTripWithAndWithoutEsn) {
  for (const GcmBackend b : test_backends())
  for (const bool esn : {false, true}) {
    SCOPED_TRACE(name_of(b));
    EspProtector p(EspAlgorithm::aes_gcm_128, hex("4c80cdefbb5d10da906ac73c3613a634"), hex("2e443b68"), b);
    auto esp = esp_packet(8, 45);
    const auto plain = esp;
    ASSERT_TRUE(p.protect(esp, 0x0102030405060708ull, esn, 7));
    EXPECT_EQ(load_be64(esp.data() + 8), 0x0102030405060708ull) << "explicit IV";
    EXPECT_TRUE(std::equal(esp.begin(), esp.begin() + 8, plain.begin())) << "SPI and seq in clear";
    EXPECT_NE(esp, plain);
    auto copy = esp;
    EXPECT_EQ(p.verify(copy, esn, 8), !esn) << "the high bits matter exactly with ESN";
    ASSERT_TRUE(p.verify(esp, esn, 7));
    EXPECT_TRUE(std::equal(esp.begin() + 16, esp.end() - 16, plain.begin() + 16));
  }
}

TEST(Esp, GcmAadIsSpiSeqOrSpiSeqHiSeqLo) {
  // Rebuild the RFC 4106 computation by hand with AesGcm: nonce = salt || IV.
  const auto key = hex("abbccddef00112233445566778899aabbccddeeff0011223344556677889900a");
  const auto salt = hex("cafebabe");
  for (const GcmBackend b : test_backends()) {
  SCOPED_TRACE(name_of(b));
  EspProtector p(EspAlgorithm::aes_gcm_256, key, salt, b);
  auto esp = esp_packet(8, 20);
  auto manual = esp;
  ASSERT_TRUE(p.protect(esp, 42, true, 2));
  // The hand computation always on OpenSSL: the other backend must agree with it.
  AesGcm gcm(key, GcmBackend::openssl);
  std::vector<std::uint8_t> nonce(salt);
  for (int i = 0; i < 8; ++i) nonce.push_back(esp[8 + static_cast<std::size_t>(i)]);
  const auto aad = hex("00001001 00000002 89ABCDEF");
  std::array<std::uint8_t, 16> tag{};
  std::span<std::uint8_t> body(manual.data() + 16, manual.size() - 32);
  ASSERT_TRUE(gcm.seal(iv12(nonce), aad, body, tag));
  EXPECT_TRUE(std::equal(body.begin(), body.end(), esp.begin() + 16));
  EXPECT_TRUE(std::equal(tag.begin(), tag.end(), esp.end() - 16));
  }
}

TEST(AesGcm, IpsecMbIsUsedWhereTheCpuAllowsIt) {
#ifdef NETSCOPE_HAVE_IPSEC_MB
  // This build links intel-ipsec-mb: on a CPU with AES-NI it must be the default.
  if (__builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul")) {
    EXPECT_TRUE(ipsec_mb_available());
    EXPECT_EQ(default_gcm_backend(), GcmBackend::ipsec_mb);
    EXPECT_EQ(AesGcm(hex("00112233445566778899aabbccddeeff")).backend(), GcmBackend::ipsec_mb);
    EXPECT_NE(gcm_backend_description(GcmBackend::automatic).find("intel-ipsec-mb"),
              std::string_view::npos);
  }
#else
  EXPECT_FALSE(ipsec_mb_available());
  EXPECT_EQ(default_gcm_backend(), GcmBackend::openssl);
  EXPECT_THROW(AesGcm(hex("00112233445566778899aabbccddeeff"), GcmBackend::ipsec_mb),
               std::runtime_error);
#endif
}

TEST(AesGcm, BackendsGiveIdenticalBytesForEveryLength) {
  const auto backends = test_backends();
#ifdef NETSCOPE_HAVE_IPSEC_MB
  ASSERT_EQ(backends.size(), 2u) << "intel-ipsec-mb is linked but cannot run here";
#else
  ASSERT_EQ(backends.size(), 1u);
  return;  // nothing to compare: OpenSSL alone is covered by the known-answer tests
#endif
  std::uint64_t state = 12345;
  auto next_byte = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint8_t>(state >> 56);
  };
  for (const std::size_t key_len : {std::size_t{16}, std::size_t{32}}) {
    std::vector<std::uint8_t> key(key_len);
    for (auto& k : key) k = next_byte();
    AesGcm ossl(key, GcmBackend::openssl);
    AesGcm mb(key, GcmBackend::ipsec_mb);
    for (std::size_t aad_len = 0; aad_len <= 96; aad_len += 7) {
      for (std::size_t len = 0; len <= 1600; len += len < 80 ? 1 : 37) {
        std::vector<std::uint8_t> iv(kGcmIvLen), aad(aad_len), a(len);
        for (auto& x : iv) x = next_byte();
        for (auto& x : aad) x = next_byte();
        for (auto& x : a) x = next_byte();
        auto b = a;
        const auto plain = a;
        std::array<std::uint8_t, kGcmTagLen> ta{}, tb{};
        ASSERT_TRUE(ossl.seal(iv12(iv), aad, a, ta));
        ASSERT_TRUE(mb.seal(iv12(iv), aad, b, tb));
        ASSERT_EQ(a, b) << "key " << key_len << " aad " << aad_len << " len " << len;
        ASSERT_EQ(ta, tb) << "key " << key_len << " aad " << aad_len << " len " << len;
        // Each opens what the other sealed.
        ASSERT_TRUE(mb.open(iv12(iv), aad, a, ta));
        ASSERT_EQ(a, plain);
        ASSERT_TRUE(ossl.open(iv12(iv), aad, b, tb));
        tb[5] ^= 0x20;
        ASSERT_FALSE(mb.open(iv12(iv), aad, a, tb));
      }
    }
  }
}

TEST(Esp, NullHmacSha256IcvCoversHeaderPayloadAndEsnHigh) {
  const auto key = hex("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
  EspProtector p(EspAlgorithm::null_hmac_sha256_128, key);
  EXPECT_EQ(p.iv_len(), 0u);
  for (const bool esn : {false, true}) {
    auto esp = esp_packet(0, 30);
    const auto plain = esp;
    ASSERT_TRUE(p.protect(esp, 0, esn, 3));
    EXPECT_TRUE(std::equal(esp.begin(), esp.end() - 16, plain.begin())) << "NULL: payload in clear";
    Hmac h(HmacDigest::sha256, key);
    std::vector<std::uint8_t> icv(16);
    const std::uint8_t hi[4] = {0, 0, 0, 3};
    ASSERT_TRUE(h.begin() && h.update(std::span(plain).first(plain.size() - 16)) &&
                (!esn || h.update(hi)) && h.finish(icv));
    EXPECT_TRUE(std::equal(icv.begin(), icv.end(), esp.end() - 16));
    EXPECT_TRUE(p.verify(esp, esn, 3));
    EXPECT_EQ(p.verify(esp, esn, 4), !esn);
  }
}

std::vector<std::uint8_t> ah_packet(bool v6, AhAlgorithm alg) {
  IpFields ip;
  ip.src.version = ip.dst.version = v6 ? 6 : 4;
  ip.src.bytes[0] = 10;
  ip.dst.bytes[0] = 11;
  ip.ttl = 64;
  ip.tos = 0x10;
  ip.flow_label = 0x777;
  const std::size_t field = ah_icv_field_len(icv_len(alg), v6);
  const std::size_t payload = 16;
  std::vector<std::uint8_t> pkt(ip.header_len() + kAhFixedLen + field + payload, 0x33);
  write_ip(pkt, ip, 51, kAhFixedLen + field + payload);
  write_ah(std::span(pkt).subspan(ip.header_len()), 17, field, 0x4001, 9);
  return pkt;
}

TEST(Ah, MutableFieldsDoNotChangeIcvImmutableOnesDo) {
  for (const bool v6 : {false, true}) {
    for (const AhAlgorithm alg : {AhAlgorithm::hmac_sha256_128, AhAlgorithm::hmac_sha1_96}) {
      SCOPED_TRACE(std::string(v6 ? "ipv6 " : "ipv4 ") + (alg == AhAlgorithm::hmac_sha1_96 ? "sha1" : "sha256"));
      AhProtector p(alg, hex("fedcba9876543210fedcba9876543210"));
      const std::size_t ip_len = v6 ? 40 : 20;
      const std::size_t icv_at = ip_len + kAhFixedLen;
      auto a = ah_packet(v6, alg);
      ASSERT_TRUE(p.protect(a, ip_len, false, 0));
      const std::vector<std::uint8_t> icv(a.begin() + static_cast<std::ptrdiff_t>(icv_at),
                                          a.begin() + static_cast<std::ptrdiff_t>(icv_at + p.icv_len()));
      EXPECT_NE(icv, std::vector<std::uint8_t>(p.icv_len(), 0));
      if (v6 && alg == AhAlgorithm::hmac_sha256_128) {
        for (std::size_t i = icv_at + 16; i < icv_at + 20; ++i) EXPECT_EQ(a[i], 0) << "ICV padding";
      }
      auto b = ah_packet(v6, alg);  // different TTL/hop limit and TOS: same ICV
      b[v6 ? 7 : 8] = 1;
      b[1] ^= 0x0F;
      ASSERT_TRUE(p.protect(b, ip_len, false, 0));
      EXPECT_TRUE(std::equal(icv.begin(), icv.end(), b.begin() + static_cast<std::ptrdiff_t>(icv_at)));
      auto c = ah_packet(v6, alg);  // different destination: different ICV
      c[v6 ? 39 : 19] ^= 1;
      ASSERT_TRUE(p.protect(c, ip_len, false, 0));
      EXPECT_FALSE(std::equal(icv.begin(), icv.end(), c.begin() + static_cast<std::ptrdiff_t>(icv_at)));
      auto d = ah_packet(v6, alg);  // ESN high bits enter the ICV
      ASSERT_TRUE(p.protect(d, ip_len, true, 1));
      EXPECT_FALSE(std::equal(icv.begin(), icv.end(), d.begin() + static_cast<std::ptrdiff_t>(icv_at)));
    }
  }
}

}  // namespace
}  // namespace netscope::packet
