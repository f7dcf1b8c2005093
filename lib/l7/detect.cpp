// First-payload signatures and well-known ports.
#include "netscope/l7/detect.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>

#include "netscope/l7/dns.hpp"
#include "text.hpp"

namespace netscope::l7 {

namespace {

constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::size_t kScanLimit = 256;  // bytes of a banner line looked at

constexpr std::uint8_t kTlsHandshake = 0x16;
constexpr std::uint8_t kTlsClientHello = 1;
constexpr std::uint8_t kTlsServerHello = 2;
constexpr std::size_t kTlsRecordHeader = 5;
constexpr std::size_t kTlsHandshakeHeader = 4;
constexpr std::size_t kTlsMaxRecord = 16384 + 2048;  // TLSCiphertext bound (RFC 8446 5.2)
constexpr std::uint16_t kTlsExtServerName = 0;
constexpr std::uint8_t kSniHostName = 0;

constexpr std::array<std::string_view, 9> kHttpMethods = {
    "GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "CONNECT ", "OPTIONS ", "TRACE ", "PATCH "};

std::string_view as_text(std::span<const std::uint8_t> p) noexcept {
  return {reinterpret_cast<const char*>(p.data()), std::min(p.size(), kScanLimit)};
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) noexcept {
  if (s.size() < prefix.size()) return false;
  for (std::size_t k = 0; k < prefix.size(); ++k) {
    if (ascii_lower(static_cast<std::uint8_t>(s[k])) != static_cast<std::uint8_t>(prefix[k])) {
      return false;
    }
  }
  return true;
}

/// `needle` (upper case) occurs in the first line of s, ignoring case.
bool first_line_contains(std::string_view s, std::string_view needle) noexcept {
  const std::size_t eol = std::min(s.find('\n'), s.size());
  const std::string_view line = s.substr(0, eol);
  for (std::size_t k = 0; k + needle.size() <= line.size(); ++k) {
    bool hit = true;
    for (std::size_t j = 0; j < needle.size() && hit; ++j) {
      hit = (static_cast<std::uint8_t>(line[k + j]) & 0xDF) == static_cast<std::uint8_t>(needle[j]);
    }
    if (hit) return true;
  }
  return false;
}

bool either_port(std::uint16_t sport, std::uint16_t dport,
                 std::initializer_list<std::uint16_t> ports) noexcept {
  return std::any_of(ports.begin(), ports.end(),
                     [&](std::uint16_t p) { return p == sport || p == dport; });
}

bool is_tls_record_start(std::span<const std::uint8_t> p) noexcept {
  if (p.size() < kTlsRecordHeader) return false;
  if (p[0] != kTlsHandshake || p[1] != 3 || p[2] > 4) return false;
  const std::size_t len = text::load16(p.data() + 3);
  if (len < kTlsHandshakeHeader || len > kTlsMaxRecord) return false;
  return p.size() == kTlsRecordHeader || p[5] == kTlsClientHello || p[5] == kTlsServerHello;
}

bool is_http(std::string_view s) noexcept {
  if (s.starts_with("HTTP/1.") || s.starts_with("PRI * HTTP/2.0")) return true;
  return std::any_of(kHttpMethods.begin(), kHttpMethods.end(),
                     [&](std::string_view m) { return s.starts_with(m); });
}

/// "220 ", "220-", ...: a three-digit reply code as FTP (RFC 959) and SMTP (RFC 5321) use.
bool is_reply_banner(std::string_view s) noexcept {
  return s.size() >= 4 && s[0] >= '1' && s[0] <= '5' && text::is_digit(static_cast<std::uint8_t>(s[1])) &&
         text::is_digit(static_cast<std::uint8_t>(s[2])) && (s[3] == ' ' || s[3] == '-');
}

AppProtocol detect_banner(std::string_view s, std::uint16_t sport, std::uint16_t dport) noexcept {
  if (either_port(sport, dport, {21, 990})) return AppProtocol::ftp;
  if (either_port(sport, dport, {25, 465, 587, 2525})) return AppProtocol::smtp;
  if (first_line_contains(s, "SMTP")) return AppProtocol::smtp;
  if (first_line_contains(s, "FTP")) return AppProtocol::ftp;
  return AppProtocol::unknown;
}

AppProtocol detect_client_command(std::string_view s, std::uint16_t sport,
                                  std::uint16_t dport) noexcept {
  if (starts_with_nocase(s, "ehlo ") || starts_with_nocase(s, "helo ")) return AppProtocol::smtp;
  if (either_port(sport, dport, {110})) return AppProtocol::unknown;  // POP3 has USER too
  if (starts_with_nocase(s, "user ") || starts_with_nocase(s, "auth tls") ||
      starts_with_nocase(s, "auth ssl")) {
    return AppProtocol::ftp;
  }
  return AppProtocol::unknown;
}

/// A DNS header that a resolver or server would send: known opcode, at most a few
/// questions, Z bit clear.
bool plausible_dns_header(std::span<const std::uint8_t> p) noexcept {
  if (p.size() < kDnsHeaderLen) return false;
  const std::uint16_t flags = text::load16(p.data() + 2);
  const unsigned opcode = (flags >> 11) & 0xF;
  const std::uint16_t qdcount = text::load16(p.data() + 4);
  return (opcode <= 2 || opcode == 4 || opcode == 5) && (flags & 0x0040) == 0 && qdcount <= 4;
}

bool known_quic_version(std::uint32_t v) noexcept {
  return v == 0x00000001u || v == 0x6B3343CFu || (v >= 0xFF00001Du && v <= 0xFF000022u) || v == 0;
}

}  // namespace

AppProtocol protocol_by_port(std::uint16_t sport, std::uint16_t dport, std::uint8_t ip_proto) noexcept {
  const std::array<std::uint16_t, 2> ports = {std::min(sport, dport), std::max(sport, dport)};
  for (const std::uint16_t p : ports) {
    if (ip_proto == kProtoTcp) {
      switch (p) {
        case 80:
        case 8080:
          return AppProtocol::http;
        case 443:
        case 8443:
        case 853:
          return AppProtocol::tls;
        case 22:
          return AppProtocol::ssh;
        case 25:
        case 465:
        case 587:
          return AppProtocol::smtp;
        case 21:
          return AppProtocol::ftp;
        case 53:
          return AppProtocol::dns;
        default:
          break;
      }
    } else if (ip_proto == kProtoUdp) {
      switch (p) {
        case 53:
        case 5353:
        case 5355:
          return AppProtocol::dns;
        case 443:
          return AppProtocol::quic;
        default:
          break;
      }
    }
  }
  return AppProtocol::unknown;
}

AppProtocol detect(std::span<const std::uint8_t> payload, std::uint16_t sport, std::uint16_t dport,
                   std::uint8_t ip_proto) noexcept {
  if (payload.empty()) return protocol_by_port(sport, dport, ip_proto);
  const std::string_view s = as_text(payload);
  if (ip_proto == kProtoTcp) {
    if (is_tls_record_start(payload)) return AppProtocol::tls;
    if (s.starts_with("SSH-2.0-") || s.starts_with("SSH-1.")) return AppProtocol::ssh;
    if (is_http(s)) return AppProtocol::http;
    if (is_reply_banner(s)) return detect_banner(s, sport, dport);
    if (const AppProtocol p = detect_client_command(s, sport, dport); p != AppProtocol::unknown) {
      return p;
    }
    if (either_port(sport, dport, {kDnsPort}) && payload.size() >= 2 + kDnsHeaderLen &&
        text::load16(payload.data()) >= kDnsHeaderLen && plausible_dns_header(payload.subspan(2))) {
      return AppProtocol::dns;
    }
    return AppProtocol::unknown;
  }
  if (ip_proto == kProtoUdp) {
    if (either_port(sport, dport, {kDnsPort, 5353, 5355}) && plausible_dns_header(payload)) {
      return AppProtocol::dns;
    }
    QuicLongHeader q;
    if (quic_long_header(payload, q) && q.known_version) return AppProtocol::quic;
  }
  return AppProtocol::unknown;
}

bool tls_sni(std::span<const std::uint8_t> payload, std::span<char> out, std::size_t& len) noexcept {
  len = 0;
  const std::uint8_t* p = payload.data();
  std::size_t end = payload.size();
  if (end < kTlsRecordHeader + kTlsHandshakeHeader) return false;
  if (p[0] != kTlsHandshake || p[1] != 3) return false;
  end = std::min(end, kTlsRecordHeader + text::load16(p + 3));
  if (p[5] != kTlsClientHello) return false;
  end = std::min(end, kTlsRecordHeader + kTlsHandshakeHeader + text::load24(p + 6));

  // legacy_version, random, then three variable-length vectors, then the extensions.
  std::size_t pos = kTlsRecordHeader + kTlsHandshakeHeader + 2 + 32;
  if (pos + 1 > end) return false;
  pos += 1 + std::size_t{p[pos]};  // session id
  if (pos + 2 > end) return false;
  pos += 2 + std::size_t{text::load16(p + pos)};  // cipher suites
  if (pos + 1 > end) return false;
  pos += 1 + std::size_t{p[pos]};  // compression methods
  if (pos + 2 > end) return false;
  const std::size_t ext_end = std::min(end, pos + 2 + text::load16(p + pos));
  pos += 2;

  while (pos + 4 <= ext_end) {
    const std::uint16_t type = text::load16(p + pos);
    const std::size_t ext_len = text::load16(p + pos + 2);
    pos += 4;
    if (type == kTlsExtServerName) {
      // ServerNameList: length, then (name_type, length, name) entries (RFC 6066 3).
      const std::size_t list_end = std::min(ext_end, pos + ext_len);
      std::size_t q = pos + 2;
      while (q + 3 <= list_end) {
        const std::uint8_t name_type = p[q];
        const std::size_t name_len = text::load16(p + q + 1);
        q += 3;
        if (q + name_len > list_end) return false;
        if (name_type == kSniHostName) {
          if (name_len == 0) return false;
          for (std::size_t k = 0; k < name_len; ++k) {
            if (p[q + k] < 0x21 || p[q + k] > 0x7E) return false;
          }
          const std::size_t n = std::min(name_len, out.size());
          std::copy_n(reinterpret_cast<const char*>(p + q), n, out.begin());
          len = n;
          return n > 0;
        }
        q += name_len;
      }
      return false;
    }
    pos += ext_len;
  }
  return false;
}

bool quic_long_header(std::span<const std::uint8_t> payload, QuicLongHeader& out) noexcept {
  const std::uint8_t* p = payload.data();
  const std::size_t n = payload.size();
  if (n < 7 || (p[0] & 0x80) == 0) return false;
  const std::uint32_t version = text::load32(p + 1);
  if (version != 0 && (p[0] & 0x40) == 0) return false;
  const std::size_t dcid_len = p[5];
  if (dcid_len > kQuicMaxCidLen || 6 + dcid_len >= n) return false;
  const std::size_t scid_len = p[6 + dcid_len];
  if (scid_len > kQuicMaxCidLen || 7 + dcid_len + scid_len > n) return false;

  out.version = version;
  out.known_version = known_quic_version(version);
  const unsigned bits = (p[0] >> 4) & 3u;
  if (version == 0) {
    out.type = QuicPacketType::version_negotiation;
  } else if (version == 0x6B3343CFu) {
    // RFC 9369 3.2: Retry 0b00, Initial 0b01, 0-RTT 0b10, Handshake 0b11.
    constexpr std::array<QuicPacketType, 4> kV2 = {QuicPacketType::retry, QuicPacketType::initial,
                                                   QuicPacketType::zero_rtt,
                                                   QuicPacketType::handshake};
    out.type = kV2[bits];
  } else {
    out.type = static_cast<QuicPacketType>(bits);
  }
  out.dcid_len = static_cast<std::uint8_t>(dcid_len);
  out.scid_len = static_cast<std::uint8_t>(scid_len);
  out.dcid = {};
  out.scid = {};
  std::copy_n(p + 6, dcid_len, out.dcid.begin());
  std::copy_n(p + 7 + dcid_len, scid_len, out.scid.begin());
  return true;
}

bool ssh_banner(std::span<const std::uint8_t> payload, SshBanner& out) noexcept {
  constexpr std::size_t kMaxLine = 255;  // RFC 4253 4.2, CR LF included
  const std::string_view all{reinterpret_cast<const char*>(payload.data()),
                             std::min(payload.size(), kMaxLine)};
  if (!all.starts_with("SSH-")) return false;
  const std::size_t lf = all.find('\n');
  if (lf == std::string_view::npos) return false;
  std::string_view line = all.substr(4, lf - 4);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const std::size_t dash = line.find('-');
  if (dash == std::string_view::npos || dash == 0) return false;
  out.proto = line.substr(0, dash);
  const std::string_view rest = line.substr(dash + 1);
  const std::size_t sp = rest.find(' ');
  out.software = rest.substr(0, sp);
  out.comments = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
  return !out.software.empty();
}

namespace {
constexpr std::array<std::string_view, kAppProtocolCount + 1> kAppNames = {
#define NETSCOPE_X(name) std::string_view{#name},
    NETSCOPE_APP_PROTOCOLS(NETSCOPE_X)
#undef NETSCOPE_X
        std::string_view{"unknown"},
};
}  // namespace

std::string_view to_string(AppProtocol p) noexcept {
  const auto k = static_cast<std::size_t>(p);
  return k < kAppProtocolCount ? kAppNames[k] : kAppNames[kAppProtocolCount];
}

}  // namespace netscope::l7
