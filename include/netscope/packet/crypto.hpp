// Real MACsec, ESP and AH protection: AES-GCM on intel-ipsec-mb (direct API, key schedule
// and GHASH keys precomputed per SA) when the build has it and the CPU has AES-NI, else on
// OpenSSL EVP; HMAC on OpenSSL.
//
// Every object prepares its keys (AES schedule, GHASH powers, HMAC pads) once, in the
// constructor, which may allocate and throws std::invalid_argument on a bad key length or
// std::runtime_error when the library refuses. The per-packet calls only run the cipher:
// they do not allocate, do not throw, and return false only if the library reports an
// error. An object holds mutable cipher state: use one per thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

struct evp_cipher_ctx_st;

namespace netscope::packet {

inline constexpr std::size_t kGcmIvLen = 12;
inline constexpr std::size_t kGcmTagLen = 16;

/// Which library computes AES-GCM. Both give identical bytes (tested against each other
/// and against the IEEE 802.1AE and RFC 4106 vectors).
enum class GcmBackend : std::uint8_t {
  automatic,  ///< default_gcm_backend()
  openssl,    ///< OpenSSL EVP (always available)
  ipsec_mb,   ///< intel-ipsec-mb; throws std::runtime_error when unavailable
};

/// intel-ipsec-mb when the build links it and the CPU has AES-NI and PCLMULQDQ, else OpenSSL.
/// The first call initializes the library (allocates); then thread-safe.
[[nodiscard]] GcmBackend default_gcm_backend() noexcept;

/// True when GcmBackend::ipsec_mb can be used here.
[[nodiscard]] bool ipsec_mb_available() noexcept;

/// For messages: "intel-ipsec-mb 1.3.0 (avx512, VAES)" or "OpenSSL 3.0.x".
[[nodiscard]] std::string_view gcm_backend_description(GcmBackend backend) noexcept;

/// AES-GCM with a fixed key and a 16-byte tag.
class AesGcm {
 public:
  /// `key` is 16 (AES-128) or 32 (AES-256) bytes.
  explicit AesGcm(std::span<const std::uint8_t> key, GcmBackend backend = GcmBackend::automatic);
  ~AesGcm();
  AesGcm(AesGcm&& other) noexcept;
  AesGcm& operator=(AesGcm&& other) noexcept;
  AesGcm(const AesGcm&) = delete;
  AesGcm& operator=(const AesGcm&) = delete;

  /// Authenticates `aad`, encrypts `data` in place (empty for GMAC) and writes the tag.
  bool seal(std::span<const std::uint8_t, kGcmIvLen> iv, std::span<const std::uint8_t> aad,
            std::span<std::uint8_t> data, std::span<std::uint8_t, kGcmTagLen> tag) noexcept;

  /// Decrypts `data` in place and checks `tag`; false on mismatch.
  bool open(std::span<const std::uint8_t, kGcmIvLen> iv, std::span<const std::uint8_t> aad,
            std::span<std::uint8_t> data, std::span<const std::uint8_t, kGcmTagLen> tag) noexcept;

  /// The library this object uses (never automatic).
  [[nodiscard]] GcmBackend backend() const noexcept { return backend_; }

 private:
  void release() noexcept;

  GcmBackend backend_ = GcmBackend::openssl;
  bool aes256_ = false;
  evp_cipher_ctx_st* enc_ = nullptr;
  evp_cipher_ctx_st* dec_ = nullptr;
  void* mb_key_ = nullptr;  ///< intel-ipsec-mb gcm_key_data (64-byte aligned)
  using ErasedFn = void (*)();
  ErasedFn mb_enc_ = nullptr;  ///< intel-ipsec-mb's GCM encrypt for this key size, taken once
  ErasedFn mb_dec_ = nullptr;  ///< ... and decrypt
};

enum class HmacDigest : std::uint8_t { sha1, sha256 };

/// HMAC (RFC 2104) with a fixed key; begin/update/finish per message. The keyed inner and
/// outer digest states are computed once, so a message costs only its own hashing.
class Hmac {
 public:
  Hmac(HmacDigest digest, std::span<const std::uint8_t> key);

  bool begin() noexcept;
  bool update(std::span<const std::uint8_t> data) noexcept;
  /// Writes the first out.size() bytes of the MAC (truncation as in RFC 2404 / RFC 4868).
  bool finish(std::span<std::uint8_t> out) noexcept;

 private:
  /// Room for an OpenSSL SHA_CTX or SHA256_CTX (checked in the .cpp).
  using State = std::array<std::uint64_t, 16>;
  HmacDigest digest_;
  State inner_{};  ///< after absorbing key XOR ipad
  State outer_{};  ///< after absorbing key XOR opad
  State work_{};   ///< the message being hashed
};

/// MACsec cipher suites (IEEE 802.1AE-2018 14.5, 14.6).
enum class MacsecCipherSuite : std::uint8_t { gcm_aes_128, gcm_aes_256, gcm_aes_xpn_128, gcm_aes_xpn_256 };

[[nodiscard]] constexpr bool is_xpn(MacsecCipherSuite s) noexcept {
  return s == MacsecCipherSuite::gcm_aes_xpn_128 || s == MacsecCipherSuite::gcm_aes_xpn_256;
}
[[nodiscard]] constexpr std::size_t key_len(MacsecCipherSuite s) noexcept {
  return s == MacsecCipherSuite::gcm_aes_128 || s == MacsecCipherSuite::gcm_aes_xpn_128 ? 16 : 32;
}

/// One MACsec SA's transmit protection.
///
/// IV: SCI(8) || PN(4) for GCM-AES; (SSCI(4) || PN(8)) XOR salt(12) for the XPN suites.
/// Confidentiality (E=1, C=1): AAD is the frame up to the end of the SecTAG and the secure
/// data is encrypted. Integrity only: the whole frame before the ICV is AAD (GMAC).
class MacsecProtector {
 public:
  /// `salt` (12 bytes) and `ssci` are used by the XPN suites only.
  MacsecProtector(MacsecCipherSuite suite, std::span<const std::uint8_t> key,
                  std::span<const std::uint8_t> salt = {}, std::uint32_t ssci = 0,
                  GcmBackend backend = GcmBackend::automatic);

  /// `frame` runs from the DA through the ICV (its last 16 bytes, overwritten); the secure
  /// data starts at `secure_offset`. `pn` is the full packet number (64 bits for XPN).
  bool protect(std::span<std::uint8_t> frame, std::size_t secure_offset, std::uint64_t sci,
               std::uint64_t pn, bool encrypt) noexcept;

  /// The receive side of protect(): checks the ICV and decrypts in place. For tests.
  bool verify(std::span<std::uint8_t> frame, std::size_t secure_offset, std::uint64_t sci,
              std::uint64_t pn, bool encrypted) noexcept;

  [[nodiscard]] MacsecCipherSuite suite() const noexcept { return suite_; }
  [[nodiscard]] GcmBackend backend() const noexcept { return gcm_.backend(); }

 private:
  void make_iv(std::uint64_t sci, std::uint64_t pn, std::span<std::uint8_t, kGcmIvLen> iv) const noexcept;

  MacsecCipherSuite suite_;
  AesGcm gcm_;
  std::array<std::uint8_t, kGcmIvLen> salt_{};
  std::uint32_t ssci_ = 0;
};

/// ESP transforms.
enum class EspAlgorithm : std::uint8_t {
  aes_gcm_128,           ///< RFC 4106, 16-byte ICV
  aes_gcm_256,           ///< RFC 4106, 16-byte ICV
  null_hmac_sha256_128,  ///< NULL encryption (RFC 2410) with HMAC-SHA-256-128 (RFC 4868)
};

/// One ESP SA's transmit protection.
class EspProtector {
 public:
  /// AES-GCM: `key` 16 or 32 bytes and a 4-byte `salt`. NULL/HMAC: `key` is the HMAC key.
  EspProtector(EspAlgorithm algorithm, std::span<const std::uint8_t> key,
               std::span<const std::uint8_t> salt = {},
               GcmBackend backend = GcmBackend::automatic);

  [[nodiscard]] std::size_t iv_len() const noexcept { return aead() ? 8 : 0; }
  [[nodiscard]] std::size_t icv_len() const noexcept { return 16; }
  [[nodiscard]] bool aead() const noexcept { return algorithm_ != EspAlgorithm::null_hmac_sha256_128; }

  /// `esp` runs from the SPI through the ICV: SPI, sequence number, IV (written here from
  /// `iv`), payload, padding, pad length, next header, ICV (written here). With `esn` the
  /// high sequence bits `seq_hi` enter the AAD (GCM) or the ICV input (HMAC), not the wire.
  bool protect(std::span<std::uint8_t> esp, std::uint64_t iv, bool esn,
               std::uint32_t seq_hi) noexcept;

  /// Checks the ICV and decrypts in place. For tests.
  bool verify(std::span<std::uint8_t> esp, bool esn, std::uint32_t seq_hi) noexcept;

 private:
  EspAlgorithm algorithm_;
  std::optional<AesGcm> gcm_;  ///< AES-GCM transforms
  std::optional<Hmac> hmac_;   ///< NULL/HMAC transform
  std::array<std::uint8_t, 4> salt_{};
};

/// AH transforms.
enum class AhAlgorithm : std::uint8_t {
  hmac_sha256_128,  ///< RFC 4868, 16-byte ICV
  hmac_sha1_96,     ///< RFC 2404, 12-byte ICV
};

[[nodiscard]] constexpr std::size_t icv_len(AhAlgorithm a) noexcept {
  return a == AhAlgorithm::hmac_sha256_128 ? 16 : 12;
}

/// One AH SA's transmit protection (RFC 4302 3.3.3: mutable IP fields count as zero).
class AhProtector {
 public:
  AhProtector(AhAlgorithm algorithm, std::span<const std::uint8_t> key);

  [[nodiscard]] std::size_t icv_len() const noexcept { return packet::icv_len(algorithm_); }

  /// `packet` runs from the IP header (IPv4 without options or IPv6 without extension
  /// headers) to the end; the AH header at `ah_offset` has a zeroed ICV field, which is
  /// written here. With `esn`, `seq_hi` is appended to the ICV input.
  bool protect(std::span<std::uint8_t> packet, std::size_t ah_offset, bool esn,
               std::uint32_t seq_hi) noexcept;

 private:
  bool compute(std::span<const std::uint8_t> packet, std::size_t ah_offset, bool esn,
               std::uint32_t seq_hi, std::span<std::uint8_t> icv) noexcept;

  AhAlgorithm algorithm_;
  Hmac hmac_;
};

}  // namespace netscope::packet
