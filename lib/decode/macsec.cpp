// MACsec SecTAG (IEEE 802.1AE-2018 9.3), validated as in clause 9.12.
#include "netscope/decode/packet.hpp"
#include "wire.hpp"

namespace netscope::decode {

namespace {
constexpr std::uint8_t kTciV = 0x80;
constexpr std::uint8_t kTciEs = 0x40;
constexpr std::uint8_t kTciSc = 0x20;
constexpr std::uint8_t kTciScb = 0x10;
constexpr std::uint8_t kTciE = 0x08;
constexpr std::uint8_t kTciC = 0x04;
constexpr std::size_t kSectagLen = 6;  // TCI/AN, SL, PN: what follows the EtherType
constexpr std::size_t kSciLen = 8;
// SL counts secure data shorter than 48 bytes; the two reserved bits above it must be
// zero, so one comparison on the whole octet checks both.
constexpr std::uint8_t kShortLengthLimit = 48;
}  // namespace

LayerResult decode_sectag(Bytes data, Sectag& out) noexcept {
  if (data.size() < kSectagLen) return {Malformed::truncated_sectag, 0};
  const std::uint8_t* p = data.data();
  const std::uint8_t tci_an = p[0];
  out.tci = static_cast<std::uint8_t>(tci_an & 0xFC);
  out.an = static_cast<std::uint8_t>(tci_an & 0x03);
  out.version = (tci_an & kTciV) != 0;
  out.es = (tci_an & kTciEs) != 0;
  out.sc = (tci_an & kTciSc) != 0;
  out.scb = (tci_an & kTciScb) != 0;
  out.encrypted = (tci_an & kTciE) != 0;
  out.changed = (tci_an & kTciC) != 0;
  out.short_length = p[1];
  out.pn = wire::load32(p + 2);
  out.has_sci = false;
  out.sci = 0;
  out.header_len = 0;
  out.secure_data_offset = 0;
  out.secure_data_len = 0;

  if (out.version) return {Malformed::bad_sectag_version, 0};
  if (out.es && out.sc) return {Malformed::bad_sectag_tci, 0};
  if (!out.encrypted && out.changed) return {Malformed::bad_sectag_tci, 0};
  if (out.short_length >= kShortLengthLimit) return {Malformed::bad_sectag_short_length, 0};

  std::size_t len = kSectagLen;
  if (out.sc) {
    if (data.size() < kSectagLen + kSciLen) return {Malformed::truncated_sectag, 0};
    out.has_sci = true;
    out.sci = wire::load64(p + kSectagLen);
    len += kSciLen;
  }
  out.header_len = static_cast<std::uint16_t>(len + wire::kEthertypeLen);
  out.secure_data_offset = static_cast<std::uint16_t>(len);

  const std::size_t room = data.size() - len;
  if (room < kMacsecIcvLen) return {Malformed::truncated_macsec_icv, 0};
  if (out.short_length != 0) {
    // Bytes after the ICV are padding added by the MAC to reach the minimum frame size.
    if (room < out.short_length + kMacsecIcvLen) return {Malformed::truncated_macsec_icv, 0};
    out.secure_data_len = out.short_length;
  } else {
    const std::size_t secure = room - kMacsecIcvLen;
    out.secure_data_len = static_cast<std::uint16_t>(secure > 0xFFFF ? 0xFFFF : secure);
  }
  return {Malformed::none, static_cast<std::uint16_t>(len)};
}

}  // namespace netscope::decode
