// Bounded DNS message parser (RFC 1035) for UDP datagrams and TCP streams.
//
// Reads the header, the first question (its name decompressed into a bounded buffer) and
// walks the answer section, keeping the first kDnsMaxAddresses A/AAAA records. Compression
// pointers must point strictly before the labels they interrupt, which makes loops
// impossible, and are followed at most kDnsMaxPointerHops times. Does not allocate, never
// throws, never reads outside the message. Query/response matching and response times are
// the caller's: it has the transaction id, the QR flag and the question.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "netscope/l7/name_hash.hpp"

namespace netscope::l7 {

inline constexpr std::size_t kDnsHeaderLen = 12;
inline constexpr std::size_t kDnsMaxName = 255;         ///< wire length of a name (RFC 1035 3.1)
inline constexpr std::size_t kDnsMaxPointerHops = 16;   ///< compression pointers followed per name
inline constexpr std::size_t kDnsMaxAddresses = 4;      ///< A/AAAA answers kept per message
inline constexpr std::uint16_t kDnsPort = 53;

/// Record types and classes the parser interprets.
namespace dns_type {
inline constexpr std::uint16_t kA = 1;
inline constexpr std::uint16_t kNs = 2;
inline constexpr std::uint16_t kCname = 5;
inline constexpr std::uint16_t kSoa = 6;
inline constexpr std::uint16_t kPtr = 12;
inline constexpr std::uint16_t kMx = 15;
inline constexpr std::uint16_t kTxt = 16;
inline constexpr std::uint16_t kAaaa = 28;
inline constexpr std::uint16_t kOpt = 41;
inline constexpr std::uint16_t kHttps = 65;
inline constexpr std::uint16_t kAny = 255;
inline constexpr std::uint16_t kClassIn = 1;
}  // namespace dns_type

/// Response codes (RFC 1035 4.1.1, RFC 2136).
namespace dns_rcode {
inline constexpr std::uint8_t kNoError = 0;
inline constexpr std::uint8_t kFormErr = 1;
inline constexpr std::uint8_t kServFail = 2;
inline constexpr std::uint8_t kNxDomain = 3;
inline constexpr std::uint8_t kNotImp = 4;
inline constexpr std::uint8_t kRefused = 5;
}  // namespace dns_rcode

/// Why a message could not be fully parsed. Stable names (metric labels).
#define NETSCOPE_DNS_ERRORS(X) \
  X(none)                      \
  X(truncated_header)          \
  X(truncated_name)            \
  X(bad_label_type)            \
  X(bad_pointer)               \
  X(too_many_pointers)         \
  X(name_too_long)             \
  X(truncated_question)        \
  X(truncated_answer)          \
  X(bad_address_length)        \
  X(bad_tcp_length)

enum class DnsError : std::uint8_t {
#define NETSCOPE_X(name) name,
  NETSCOPE_DNS_ERRORS(NETSCOPE_X)
#undef NETSCOPE_X
      count_
};
inline constexpr std::size_t kDnsErrorCount = static_cast<std::size_t>(DnsError::count_);

/// Stable snake_case name ("bad_pointer"). Never null.
std::string_view to_string(DnsError e) noexcept;

/// An A or AAAA answer.
struct DnsAddress {
  std::array<std::uint8_t, 16> bytes{};  ///< network order; IPv4 in the first 4 bytes
  std::uint32_t ttl = 0;
  std::uint8_t version = 0;              ///< 4 or 6
};

/// Parts of a message that were read completely, as bits of DnsMessage::sections.
enum DnsSection : std::uint8_t {
  kDnsHeader = 1u << 0,
  kDnsQuestion = 1u << 1,  ///< the first question (name, type, class)
  kDnsAnswers = 1u << 2,   ///< every record of the answer section
};

/// One parsed message. Overwritten field by field: a section's fields are meaningful only
/// when its DnsSection bit is set.
struct DnsMessage {
  DnsError error = DnsError::none;  ///< first problem met; sections before it are valid
  std::uint8_t sections = 0;        ///< DnsSection bits
  bool partial = false;             ///< TCP: the message continues past this segment
  std::uint16_t length = 0;         ///< message length (declared by the TCP prefix, or datagram size)

  std::uint16_t id = 0;             ///< transaction id
  std::uint16_t flags = 0;          ///< header flags word as on the wire
  std::uint16_t qdcount = 0;
  std::uint16_t ancount = 0;
  std::uint16_t nscount = 0;
  std::uint16_t arcount = 0;

  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
  std::uint32_t qname_hash = 0;     ///< name_hash_nocase of qname
  std::uint16_t qname_len = 0;      ///< characters in qname
  /// Question name in dotted form without the final dot ("" for the root); label bytes
  /// are copied as they are (a '.' inside a label is not escaped).
  std::array<char, kDnsMaxName> qname{};

  std::uint16_t answers = 0;        ///< answer records walked
  std::uint8_t address_count = 0;   ///< entries used in addresses
  std::array<DnsAddress, kDnsMaxAddresses> addresses{};  ///< first A/AAAA answers, in order

  [[nodiscard]] bool has(DnsSection s) const noexcept { return (sections & s) != 0; }
  [[nodiscard]] bool is_response() const noexcept { return (flags & 0x8000u) != 0; }  ///< QR
  [[nodiscard]] std::uint8_t opcode() const noexcept { return (flags >> 11) & 0xF; }
  [[nodiscard]] bool aa() const noexcept { return (flags & 0x0400u) != 0; }
  [[nodiscard]] bool tc() const noexcept { return (flags & 0x0200u) != 0; }
  [[nodiscard]] bool rd() const noexcept { return (flags & 0x0100u) != 0; }
  [[nodiscard]] bool ra() const noexcept { return (flags & 0x0080u) != 0; }
  [[nodiscard]] std::uint8_t rcode() const noexcept { return flags & 0xF; }
  [[nodiscard]] std::string_view qname_view() const noexcept { return {qname.data(), qname_len}; }
};

/// Parses one whole message (a UDP payload). Returns out.error. Does not allocate.
DnsError dns_parse(Bytes message, DnsMessage& out) noexcept;

/// A decompressed name in dotted form, without the final dot ("" for the root).
struct DnsName {
  std::uint16_t len = 0;
  std::array<char, kDnsMaxName> text{};
  [[nodiscard]] std::string_view view() const noexcept { return {text.data(), len}; }
};

/// Decompresses the name at `offset` of a whole message (answer owners, CNAME targets,
/// ...; dns_parse uses it for the question). `next` receives the offset just after the
/// name where it sits. Errors: truncated_name, bad_label_type, bad_pointer (a pointer not
/// strictly before the labels it ends, or into the header), too_many_pointers,
/// name_too_long. Does not allocate.
DnsError dns_name(Bytes message, std::size_t offset, DnsName& out, std::size_t& next) noexcept;

/// DNS over TCP (RFC 1035 4.2.2, RFC 7766): per-direction stream state, 4 bytes, trivial;
/// start from `DnsTcpStream{}` or zero-filled memory. Tracks the 2-byte length prefixes so that
/// messages are found wherever they start; the bytes of a message are never buffered.
class DnsTcpStream {
 public:
  /// Lost bytes put the stream out of step (see dns_tcp_gap).
  [[nodiscard]] bool lost() const noexcept;
  /// Bytes of the current message still to come in later segments (0 between messages).
  [[nodiscard]] std::uint16_t pending() const noexcept;

 private:
  friend struct DnsTcpEngine;  // lib/l7/dns.cpp
  std::uint16_t remaining_;  // message bytes still to come
  std::uint8_t phase_;
  std::uint8_t len_hi_;      // first byte of a length prefix split across segments
};
static_assert(sizeof(DnsTcpStream) == 4, "DnsTcpStream lives in flow entries");
static_assert(std::is_trivial_v<DnsTcpStream>);

struct DnsTcpResult {
  std::uint16_t messages = 0;  ///< messages starting in this segment
  std::uint16_t records = 0;   ///< records written to `out`
  std::uint16_t dropped = 0;   ///< messages that did not fit in `out`
  std::uint16_t errors = 0;    ///< records with an error other than none
};

/// Parses the next in-order payload segment of one TCP direction. Each message that starts
/// in the segment is parsed from the bytes present; when it continues in a later segment
/// it is flagged `partial`, and running out of bytes there is not an error (its sections
/// say what was read). The rest of such a message is skipped in later calls. A length
/// prefix below kDnsHeaderLen gives a record with bad_tcp_length. Does not allocate.
DnsTcpResult dns_parse_tcp(DnsTcpStream& stream, Bytes segment,
                           std::span<DnsMessage> out) noexcept;

/// `bytes` of the stream were lost (0: unknown). Inside a message of known length the
/// stream stays in step; otherwise it waits for a segment that starts with a length
/// prefix followed by a plausible header (opcode 0, one question). Does not allocate.
void dns_tcp_gap(DnsTcpStream& stream, std::uint64_t bytes) noexcept;

}  // namespace netscope::l7
