// The SHA block functions are deprecated in OpenSSL 3 but are the only allocation-free
// way to restart an HMAC from precomputed pads: EVP_MAC_init() and EVP_MD_CTX_copy_ex()
// duplicate the provider context (a heap allocation) on every message in OpenSSL 3.0.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "netscope/packet/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#ifdef NETSCOPE_HAVE_IPSEC_MB
// Without this the header's 0.53 compatibility macros rename OpenSSL's SHA1() and others.
#define NO_COMPAT_IMB_API_053 1
#include <intel-ipsec-mb.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "netscope/packet/builders.hpp"
#include "netscope/packet/wire.hpp"

namespace netscope::packet {
namespace {

int as_int(std::size_t n) noexcept { return static_cast<int>(n); }

#ifdef NETSCOPE_HAVE_IPSEC_MB
/// One manager for the process: the direct GCM API only reads its function pointers, so
/// every thread may share it.
struct MbState {
  IMB_MGR* mgr = nullptr;
  IMB_ARCH arch = IMB_ARCH_NONE;
  std::string description;
  MbState() {
    mgr = alloc_mb_mgr(0);
    if (mgr == nullptr) return;
    const std::uint64_t need = IMB_FEATURE_AESNI | IMB_FEATURE_PCLMULQDQ;
    if ((mgr->features & need) != need) {
      free_mb_mgr(mgr);
      mgr = nullptr;
      return;
    }
    init_mb_mgr_auto(mgr, &arch);
    if (imb_get_errno(mgr) != 0 || arch == IMB_ARCH_NONE || arch == IMB_ARCH_NOAESNI) {
      free_mb_mgr(mgr);
      mgr = nullptr;
      return;
    }
    const char* names[] = {"none", "no-aesni", "sse", "avx", "avx2", "avx512"};
    // The avx512 manager runs the VAES/VPCLMULQDQ GCM code when the CPU has both.
    const std::uint64_t vaes = IMB_FEATURE_VAES | IMB_FEATURE_VPCLMULQDQ;
    const bool wide = arch == IMB_ARCH_AVX512 && (mgr->features & vaes) == vaes;
    description = std::string("intel-ipsec-mb ") + imb_get_version_str() + " (" +
                  (arch < IMB_ARCH_NUM ? names[arch] : "?") + (wide ? ", VAES" : "") + ")";
  }
};

const MbState& mb_state() {
  static const MbState state;
  return state;
}
#endif

}  // namespace

bool ipsec_mb_available() noexcept {
#ifdef NETSCOPE_HAVE_IPSEC_MB
  try {
    return mb_state().mgr != nullptr;
  } catch (...) {
    return false;
  }
#else
  return false;
#endif
}

GcmBackend default_gcm_backend() noexcept {
  return ipsec_mb_available() ? GcmBackend::ipsec_mb : GcmBackend::openssl;
}

std::string_view gcm_backend_description(GcmBackend backend) noexcept {
  if (backend == GcmBackend::automatic) backend = default_gcm_backend();
#ifdef NETSCOPE_HAVE_IPSEC_MB
  if (backend == GcmBackend::ipsec_mb && ipsec_mb_available()) return mb_state().description;
#endif
  if (backend == GcmBackend::ipsec_mb) return "intel-ipsec-mb (unavailable)";
  return OpenSSL_version(OPENSSL_VERSION);
}

// --- AesGcm -------------------------------------------------------------------------------

AesGcm::AesGcm(std::span<const std::uint8_t> key, GcmBackend backend) {
  if (key.size() != 16 && key.size() != 32) {
    throw std::invalid_argument("AES-GCM key must be 16 or 32 bytes, got " +
                                std::to_string(key.size()));
  }
  aes256_ = key.size() == 32;
  backend_ = backend == GcmBackend::automatic ? default_gcm_backend() : backend;
  if (backend_ == GcmBackend::ipsec_mb) {
#ifdef NETSCOPE_HAVE_IPSEC_MB
    if (!ipsec_mb_available()) {
      throw std::runtime_error("intel-ipsec-mb cannot run on this CPU (needs AES-NI)");
    }
    IMB_MGR* mgr = mb_state().mgr;
    constexpr std::size_t kAlign = 64;
    const std::size_t size = (sizeof(gcm_key_data) + kAlign - 1) / kAlign * kAlign;
    mb_key_ = std::aligned_alloc(kAlign, size);
    if (mb_key_ == nullptr) throw std::bad_alloc();
    auto* k = static_cast<gcm_key_data*>(mb_key_);
    if (aes256_) {
      IMB_AES256_GCM_PRE(mgr, key.data(), k);
    } else {
      IMB_AES128_GCM_PRE(mgr, key.data(), k);
    }
    // The per-packet calls go straight to the arch's function: no manager or key-size lookup.
    mb_enc_ = reinterpret_cast<ErasedFn>(aes256_ ? mgr->gcm256_enc : mgr->gcm128_enc);
    mb_dec_ = reinterpret_cast<ErasedFn>(aes256_ ? mgr->gcm256_dec : mgr->gcm128_dec);
    return;
#else
    throw std::runtime_error("this build has no intel-ipsec-mb (install libipsec-mb-dev)");
#endif
  }
  const EVP_CIPHER* cipher = key.size() == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
  enc_ = EVP_CIPHER_CTX_new();
  dec_ = EVP_CIPHER_CTX_new();
  const bool ok =
      enc_ != nullptr && dec_ != nullptr &&
      EVP_EncryptInit_ex(enc_, cipher, nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(enc_, EVP_CTRL_GCM_SET_IVLEN, as_int(kGcmIvLen), nullptr) == 1 &&
      EVP_EncryptInit_ex(enc_, nullptr, nullptr, key.data(), nullptr) == 1 &&
      EVP_DecryptInit_ex(dec_, cipher, nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(dec_, EVP_CTRL_GCM_SET_IVLEN, as_int(kGcmIvLen), nullptr) == 1 &&
      EVP_DecryptInit_ex(dec_, nullptr, nullptr, key.data(), nullptr) == 1;
  if (!ok) {
    EVP_CIPHER_CTX_free(enc_);
    EVP_CIPHER_CTX_free(dec_);
    throw std::runtime_error("OpenSSL refused to set up AES-GCM");
  }
}

void AesGcm::release() noexcept {
  EVP_CIPHER_CTX_free(enc_);
  EVP_CIPHER_CTX_free(dec_);
  std::free(mb_key_);
  enc_ = dec_ = nullptr;
  mb_key_ = nullptr;
}

AesGcm::~AesGcm() { release(); }

AesGcm::AesGcm(AesGcm&& other) noexcept
    : backend_(other.backend_),
      aes256_(other.aes256_),
      enc_(std::exchange(other.enc_, nullptr)),
      dec_(std::exchange(other.dec_, nullptr)),
      mb_key_(std::exchange(other.mb_key_, nullptr)),
      mb_enc_(other.mb_enc_),
      mb_dec_(other.mb_dec_) {}

AesGcm& AesGcm::operator=(AesGcm&& other) noexcept {
  if (this != &other) {
    release();
    backend_ = other.backend_;
    aes256_ = other.aes256_;
    enc_ = std::exchange(other.enc_, nullptr);
    dec_ = std::exchange(other.dec_, nullptr);
    mb_key_ = std::exchange(other.mb_key_, nullptr);
    mb_enc_ = other.mb_enc_;
    mb_dec_ = other.mb_dec_;
  }
  return *this;
}

namespace {

// Kept out of line so that AesGcm::seal, which protect() calls per frame, stays small.
[[gnu::noinline]] bool seal_evp(evp_cipher_ctx_st* enc, const std::uint8_t* iv,
                                std::span<const std::uint8_t> aad, std::span<std::uint8_t> data,
                                std::uint8_t* tag) noexcept {
  int len = 0;
  // Only the IV changes per packet: the key schedule set in the constructor is kept.
  if (EVP_EncryptInit_ex(enc, nullptr, nullptr, nullptr, iv) != 1) return false;
  if (!aad.empty() &&
      EVP_EncryptUpdate(enc, nullptr, &len, aad.data(), as_int(aad.size())) != 1) {
    return false;
  }
  if (!data.empty() &&
      EVP_EncryptUpdate(enc, data.data(), &len, data.data(), as_int(data.size())) != 1) {
    return false;
  }
  std::uint8_t tail[16];
  if (EVP_EncryptFinal_ex(enc, tail, &len) != 1) return false;
  return EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_GCM_GET_TAG, as_int(kGcmTagLen), tag) == 1;
}

}  // namespace

bool AesGcm::seal(std::span<const std::uint8_t, kGcmIvLen> iv, std::span<const std::uint8_t> aad,
                  std::span<std::uint8_t> data, std::span<std::uint8_t, kGcmTagLen> tag) noexcept {
#ifdef NETSCOPE_HAVE_IPSEC_MB
  if (mb_key_ != nullptr) {
    gcm_context_data ctx;
    reinterpret_cast<aes_gcm_enc_dec_t>(mb_enc_)(
        static_cast<const gcm_key_data*>(mb_key_), &ctx, data.data(), data.data(), data.size(),
        iv.data(), aad.data(), aad.size(), tag.data(), kGcmTagLen);
    return true;
  }
#endif
  return seal_evp(enc_, iv.data(), aad, data, tag.data());
}

bool AesGcm::open(std::span<const std::uint8_t, kGcmIvLen> iv, std::span<const std::uint8_t> aad,
                  std::span<std::uint8_t> data,
                  std::span<const std::uint8_t, kGcmTagLen> tag) noexcept {
#ifdef NETSCOPE_HAVE_IPSEC_MB
  if (mb_key_ != nullptr) {
    gcm_context_data ctx;
    std::uint8_t computed[kGcmTagLen];
    reinterpret_cast<aes_gcm_enc_dec_t>(mb_dec_)(
        static_cast<const gcm_key_data*>(mb_key_), &ctx, data.data(), data.data(), data.size(),
        iv.data(), aad.data(), aad.size(), computed, kGcmTagLen);
    return CRYPTO_memcmp(computed, tag.data(), kGcmTagLen) == 0;
  }
#endif
  int len = 0;
  if (EVP_DecryptInit_ex(dec_, nullptr, nullptr, nullptr, iv.data()) != 1) return false;
  if (!aad.empty() &&
      EVP_DecryptUpdate(dec_, nullptr, &len, aad.data(), as_int(aad.size())) != 1) {
    return false;
  }
  if (!data.empty() &&
      EVP_DecryptUpdate(dec_, data.data(), &len, data.data(), as_int(data.size())) != 1) {
    return false;
  }
  std::uint8_t expected[kGcmTagLen];
  std::memcpy(expected, tag.data(), kGcmTagLen);
  if (EVP_CIPHER_CTX_ctrl(dec_, EVP_CTRL_GCM_SET_TAG, as_int(kGcmTagLen), expected) != 1) {
    return false;
  }
  std::uint8_t tail[16];
  return EVP_DecryptFinal_ex(dec_, tail, &len) == 1;
}

// --- Hmac ---------------------------------------------------------------------------------

namespace {

constexpr std::size_t kHmacBlock = 64;  // SHA-1 and SHA-256

template <typename Ctx>
Ctx& as_ctx(std::array<std::uint64_t, 16>& s) noexcept {
  static_assert(sizeof(Ctx) <= sizeof(s) && alignof(Ctx) <= alignof(std::uint64_t));
  return *reinterpret_cast<Ctx*>(s.data());
}

}  // namespace

Hmac::Hmac(HmacDigest digest, std::span<const std::uint8_t> key) : digest_(digest) {
  if (key.empty()) throw std::invalid_argument("HMAC key must not be empty");
  std::uint8_t k0[kHmacBlock] = {};
  if (key.size() > kHmacBlock) {
    if (digest == HmacDigest::sha1) {
      SHA1(key.data(), key.size(), k0);
    } else {
      SHA256(key.data(), key.size(), k0);
    }
  } else {
    std::memcpy(k0, key.data(), key.size());
  }
  std::uint8_t ipad[kHmacBlock];
  std::uint8_t opad[kHmacBlock];
  for (std::size_t i = 0; i < kHmacBlock; ++i) {
    ipad[i] = static_cast<std::uint8_t>(k0[i] ^ 0x36);
    opad[i] = static_cast<std::uint8_t>(k0[i] ^ 0x5c);
  }
  bool ok = false;
  if (digest == HmacDigest::sha1) {
    ok = SHA1_Init(&as_ctx<SHA_CTX>(inner_)) == 1 &&
         SHA1_Update(&as_ctx<SHA_CTX>(inner_), ipad, kHmacBlock) == 1 &&
         SHA1_Init(&as_ctx<SHA_CTX>(outer_)) == 1 &&
         SHA1_Update(&as_ctx<SHA_CTX>(outer_), opad, kHmacBlock) == 1;
  } else {
    ok = SHA256_Init(&as_ctx<SHA256_CTX>(inner_)) == 1 &&
         SHA256_Update(&as_ctx<SHA256_CTX>(inner_), ipad, kHmacBlock) == 1 &&
         SHA256_Init(&as_ctx<SHA256_CTX>(outer_)) == 1 &&
         SHA256_Update(&as_ctx<SHA256_CTX>(outer_), opad, kHmacBlock) == 1;
  }
  if (!ok) throw std::runtime_error("OpenSSL refused to set up HMAC");
}

bool Hmac::begin() noexcept {
  work_ = inner_;
  return true;
}

bool Hmac::update(std::span<const std::uint8_t> data) noexcept {
  if (data.empty()) return true;
  return digest_ == HmacDigest::sha1
             ? SHA1_Update(&as_ctx<SHA_CTX>(work_), data.data(), data.size()) == 1
             : SHA256_Update(&as_ctx<SHA256_CTX>(work_), data.data(), data.size()) == 1;
}

bool Hmac::finish(std::span<std::uint8_t> out) noexcept {
  std::uint8_t inner_hash[SHA256_DIGEST_LENGTH];
  std::uint8_t mac[SHA256_DIGEST_LENGTH];
  std::size_t len = 0;
  State outer = outer_;
  if (digest_ == HmacDigest::sha1) {
    len = SHA_DIGEST_LENGTH;
    if (SHA1_Final(inner_hash, &as_ctx<SHA_CTX>(work_)) != 1 ||
        SHA1_Update(&as_ctx<SHA_CTX>(outer), inner_hash, len) != 1 ||
        SHA1_Final(mac, &as_ctx<SHA_CTX>(outer)) != 1) {
      return false;
    }
  } else {
    len = SHA256_DIGEST_LENGTH;
    if (SHA256_Final(inner_hash, &as_ctx<SHA256_CTX>(work_)) != 1 ||
        SHA256_Update(&as_ctx<SHA256_CTX>(outer), inner_hash, len) != 1 ||
        SHA256_Final(mac, &as_ctx<SHA256_CTX>(outer)) != 1) {
      return false;
    }
  }
  if (out.size() > len) return false;
  std::memcpy(out.data(), mac, out.size());
  return true;
}

// --- MACsec -------------------------------------------------------------------------------

MacsecProtector::MacsecProtector(MacsecCipherSuite suite, std::span<const std::uint8_t> key,
                                 std::span<const std::uint8_t> salt, std::uint32_t ssci,
                                 GcmBackend backend)
    : suite_(suite), gcm_(key, backend), ssci_(ssci) {
  if (key.size() != key_len(suite)) {
    throw std::invalid_argument("MACsec key must be " + std::to_string(key_len(suite)) +
                                " bytes for this cipher suite");
  }
  if (is_xpn(suite)) {
    if (salt.size() != kGcmIvLen) throw std::invalid_argument("XPN salt must be 12 bytes");
    std::copy(salt.begin(), salt.end(), salt_.begin());
  }
}

[[gnu::always_inline]] inline void MacsecProtector::make_iv(
    std::uint64_t sci, std::uint64_t pn, std::span<std::uint8_t, kGcmIvLen> iv) const noexcept {
  if (is_xpn(suite_)) {
    store_be32(iv.data(), ssci_);
    store_be64(iv.data() + 4, pn);
    for (std::size_t i = 0; i < kGcmIvLen; ++i) iv[i] ^= salt_[i];
  } else {
    store_be64(iv.data(), sci);
    store_be32(iv.data() + 8, static_cast<std::uint32_t>(pn));
  }
}

bool MacsecProtector::protect(std::span<std::uint8_t> frame, std::size_t secure_offset,
                              std::uint64_t sci, std::uint64_t pn, bool encrypt) noexcept {
  if (frame.size() < secure_offset + kMacsecIcvLen) return false;
  std::array<std::uint8_t, kGcmIvLen> iv;
  make_iv(sci, pn, iv);
  const std::size_t icv_off = frame.size() - kMacsecIcvLen;
  auto icv = frame.subspan(icv_off).first<kGcmTagLen>();
  if (encrypt) {
    return gcm_.seal(iv, frame.first(secure_offset),
                     frame.subspan(secure_offset, icv_off - secure_offset), icv);
  }
  return gcm_.seal(iv, frame.first(icv_off), {}, icv);
}

bool MacsecProtector::verify(std::span<std::uint8_t> frame, std::size_t secure_offset,
                             std::uint64_t sci, std::uint64_t pn, bool encrypted) noexcept {
  if (frame.size() < secure_offset + kMacsecIcvLen) return false;
  std::array<std::uint8_t, kGcmIvLen> iv;
  make_iv(sci, pn, iv);
  const std::size_t icv_off = frame.size() - kMacsecIcvLen;
  std::span<const std::uint8_t, kGcmTagLen> icv = frame.subspan(icv_off).first<kGcmTagLen>();
  if (encrypted) {
    return gcm_.open(iv, frame.first(secure_offset),
                     frame.subspan(secure_offset, icv_off - secure_offset), icv);
  }
  return gcm_.open(iv, frame.first(icv_off), {}, icv);
}

// --- ESP ----------------------------------------------------------------------------------

EspProtector::EspProtector(EspAlgorithm algorithm, std::span<const std::uint8_t> key,
                           std::span<const std::uint8_t> salt, GcmBackend backend)
    : algorithm_(algorithm) {
  switch (algorithm) {
    case EspAlgorithm::aes_gcm_128:
    case EspAlgorithm::aes_gcm_256: {
      const std::size_t want = algorithm == EspAlgorithm::aes_gcm_128 ? 16 : 32;
      if (key.size() != want) {
        throw std::invalid_argument("ESP AES-GCM key must be " + std::to_string(want) + " bytes");
      }
      if (salt.size() != salt_.size()) throw std::invalid_argument("ESP AES-GCM salt must be 4 bytes");
      std::copy(salt.begin(), salt.end(), salt_.begin());
      gcm_.emplace(key, backend);
      break;
    }
    case EspAlgorithm::null_hmac_sha256_128:
      hmac_.emplace(HmacDigest::sha256, key);
      break;
  }
}

namespace {

// AAD of RFC 4106 5: SPI || seq, or SPI || seq_hi || seq_lo with ESN. Returns its length.
std::size_t esp_aad(std::span<const std::uint8_t> esp, bool esn, std::uint32_t seq_hi,
                    std::uint8_t (&aad)[12]) noexcept {
  std::memcpy(aad, esp.data(), 4);
  if (!esn) {
    std::memcpy(aad + 4, esp.data() + 4, 4);
    return 8;
  }
  store_be32(aad + 4, seq_hi);
  std::memcpy(aad + 8, esp.data() + 4, 4);
  return 12;
}

}  // namespace

bool EspProtector::protect(std::span<std::uint8_t> esp, std::uint64_t iv, bool esn,
                           std::uint32_t seq_hi) noexcept {
  const std::size_t head = kEspHeaderLen + iv_len();
  if (esp.size() < head + kEspTrailerLen + icv_len()) return false;
  const std::size_t icv_off = esp.size() - icv_len();
  if (aead()) {
    store_be64(esp.data() + kEspHeaderLen, iv);
    std::array<std::uint8_t, kGcmIvLen> nonce;
    std::memcpy(nonce.data(), salt_.data(), 4);
    std::memcpy(nonce.data() + 4, esp.data() + kEspHeaderLen, 8);
    std::uint8_t aad[12];
    const std::size_t aad_len = esp_aad(esp, esn, seq_hi, aad);
    return gcm_->seal(nonce, {aad, aad_len}, esp.subspan(head, icv_off - head),
                      esp.subspan(icv_off).first<kGcmTagLen>());
  }
  std::uint8_t hi[4];
  store_be32(hi, seq_hi);
  return hmac_->begin() && hmac_->update(esp.first(icv_off)) &&
         (!esn || hmac_->update(hi)) && hmac_->finish(esp.subspan(icv_off, icv_len()));
}

bool EspProtector::verify(std::span<std::uint8_t> esp, bool esn, std::uint32_t seq_hi) noexcept {
  const std::size_t head = kEspHeaderLen + iv_len();
  if (esp.size() < head + kEspTrailerLen + icv_len()) return false;
  const std::size_t icv_off = esp.size() - icv_len();
  if (aead()) {
    std::array<std::uint8_t, kGcmIvLen> nonce;
    std::memcpy(nonce.data(), salt_.data(), 4);
    std::memcpy(nonce.data() + 4, esp.data() + kEspHeaderLen, 8);
    std::uint8_t aad[12];
    const std::size_t aad_len = esp_aad(esp, esn, seq_hi, aad);
    std::span<const std::uint8_t, kGcmTagLen> tag = esp.subspan(icv_off).first<kGcmTagLen>();
    return gcm_->open(nonce, {aad, aad_len}, esp.subspan(head, icv_off - head), tag);
  }
  std::uint8_t hi[4];
  store_be32(hi, seq_hi);
  std::uint8_t icv[16];
  if (!(hmac_->begin() && hmac_->update(esp.first(icv_off)) && (!esn || hmac_->update(hi)) &&
        hmac_->finish(icv))) {
    return false;
  }
  return std::memcmp(icv, esp.data() + icv_off, icv_len()) == 0;
}

// --- AH -----------------------------------------------------------------------------------

AhProtector::AhProtector(AhAlgorithm algorithm, std::span<const std::uint8_t> key)
    : algorithm_(algorithm),
      hmac_(algorithm == AhAlgorithm::hmac_sha1_96 ? HmacDigest::sha1 : HmacDigest::sha256, key) {}

bool AhProtector::compute(std::span<const std::uint8_t> packet, std::size_t ah_offset, bool esn,
                          std::uint32_t seq_hi, std::span<std::uint8_t> icv) noexcept {
  if (packet.empty()) return false;
  const bool v6 = (packet[0] >> 4) == 6;
  const std::size_t ip_len = v6 ? kIpv6HeaderLen : kIpv4HeaderLen;
  if (ah_offset != ip_len || packet.size() < ah_offset + kAhFixedLen + icv_len()) return false;
  // RFC 4302 3.3.3.1: mutable fields enter the ICV as zero.
  std::uint8_t ip[kIpv6HeaderLen];
  std::memcpy(ip, packet.data(), ip_len);
  if (v6) {
    ip[0] = 0x60;  // traffic class and flow label
    ip[1] = ip[2] = ip[3] = 0;
    ip[7] = 0;  // hop limit
  } else {
    ip[1] = 0;          // TOS
    ip[6] = ip[7] = 0;  // flags, fragment offset
    ip[8] = 0;          // TTL
    ip[10] = ip[11] = 0;  // header checksum
  }
  std::uint8_t hi[4];
  store_be32(hi, seq_hi);
  return hmac_.begin() && hmac_.update({ip, ip_len}) && hmac_.update(packet.subspan(ip_len)) &&
         (!esn || hmac_.update(hi)) && hmac_.finish(icv);
}

bool AhProtector::protect(std::span<std::uint8_t> packet, std::size_t ah_offset, bool esn,
                          std::uint32_t seq_hi) noexcept {
  if (packet.size() < ah_offset + kAhFixedLen) return false;
  const std::size_t ah_len = (std::size_t{packet[ah_offset + 1]} + 2) * 4;
  if (ah_len < kAhFixedLen + icv_len() || packet.size() < ah_offset + ah_len) return false;
  std::memset(packet.data() + ah_offset + kAhFixedLen, 0, ah_len - kAhFixedLen);
  std::uint8_t icv[16];
  const std::span<std::uint8_t> out{icv, icv_len()};
  if (!compute(packet, ah_offset, esn, seq_hi, out)) return false;
  std::memcpy(packet.data() + ah_offset + kAhFixedLen, icv, out.size());
  return true;
}

}  // namespace netscope::packet
