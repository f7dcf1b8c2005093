// Application protocol of a flow, from its first payload and its ports, plus the few
// fields worth reading there: the TLS ClientHello server name, the QUIC long header, the
// SSH identification string. Stateless, bounded, does not allocate, never throws.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "netscope/l7/name_hash.hpp"

namespace netscope::l7 {

/// The list is stable: names are metric label values.
#define NETSCOPE_APP_PROTOCOLS(X) \
  X(unknown)                      \
  X(http)                         \
  X(tls)                          \
  X(ssh)                          \
  X(smtp)                         \
  X(ftp)                          \
  X(dns)                          \
  X(quic)

enum class AppProtocol : std::uint8_t {
#define NETSCOPE_X(name) name,
  NETSCOPE_APP_PROTOCOLS(NETSCOPE_X)
#undef NETSCOPE_X
      count_
};
inline constexpr std::size_t kAppProtocolCount = static_cast<std::size_t>(AppProtocol::count_);

/// Stable name ("tls"). Never null.
std::string_view to_string(AppProtocol p) noexcept;

/// Classifies a flow by the first payload seen in either direction (`sport`/`dport` as in
/// that packet; `ip_proto` 6 or 17). The payload signature decides: TLS handshake record,
/// "SSH-2.0-", an HTTP request line or "HTTP/1.", a 2xx/3xx/4xx/5xx reply banner or a
/// client command (EHLO/HELO for SMTP, USER/AUTH TLS for FTP; ports 21/25/465/587 or the
/// banner text tell FTP from SMTP), DNS on port 53/5353/5355, a QUIC long header with a
/// known version. An empty payload falls back to protocol_by_port(); a payload that
/// matches nothing is unknown, whatever the port. Reads at most the first 256 bytes.
AppProtocol detect(std::span<const std::uint8_t> payload, std::uint16_t sport, std::uint16_t dport,
                   std::uint8_t ip_proto) noexcept;

/// The protocol the IANA port of either side suggests (the lower port is tried first).
AppProtocol protocol_by_port(std::uint16_t sport, std::uint16_t dport, std::uint8_t ip_proto) noexcept;

/// Server name (SNI host_name) of a TLS ClientHello starting at payload[0] (a TLS record).
/// Parses only the bytes present, so a ClientHello cut by the segment end still yields
/// the name when it lies in the first segment. Copies at most out.size() bytes into `out`
/// and sets `len` to the bytes copied (a longer name is cut); false (len 0) when there is
/// no ClientHello, no server_name extension in the bytes present, or the name is empty or
/// holds bytes outside printable ASCII. Does not allocate.
bool tls_sni(std::span<const std::uint8_t> payload, std::span<char> out, std::size_t& len) noexcept;

inline constexpr std::size_t kQuicMaxCidLen = 20;  ///< connection id bound of QUIC v1/v2

enum class QuicPacketType : std::uint8_t { initial, zero_rtt, handshake, retry, version_negotiation };

/// QUIC long header (RFC 8999 invariants, RFC 9000 17.2, RFC 9369 for v2 type bits).
struct QuicLongHeader {
  std::uint32_t version = 0;
  QuicPacketType type = QuicPacketType::initial;  ///< v1 meaning (v2 bits mapped)
  bool known_version = false;                     ///< v1, v2, draft-29..34, or 0 (negotiation)
  std::uint8_t dcid_len = 0;
  std::uint8_t scid_len = 0;
  std::array<std::uint8_t, kQuicMaxCidLen> dcid{};
  std::array<std::uint8_t, kQuicMaxCidLen> scid{};
};

/// Parses a long header at payload[0]: form bit set, fixed bit set (except in version
/// negotiation), connection ids of at most kQuicMaxCidLen bytes, all present.
bool quic_long_header(std::span<const std::uint8_t> payload, QuicLongHeader& out) noexcept;

/// SSH identification string "SSH-protoversion-softwareversion [comments]\r\n"
/// (RFC 4253 4.2). Views point into the payload.
struct SshBanner {
  std::string_view proto;     ///< "2.0"
  std::string_view software;  ///< "OpenSSH_9.2p1"
  std::string_view comments;  ///< "Debian-2+deb12u6", or empty
};

/// Parses the identification line at payload[0]; it must end (LF) within 255 bytes.
bool ssh_banner(std::span<const std::uint8_t> payload, SshBanner& out) noexcept;

}  // namespace netscope::l7
