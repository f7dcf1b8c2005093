// Incremental, zero-copy HTTP/1.1 message-head parser for TCP payload segments.
//
// A flow keeps one HttpSession (64 bytes: 32 per direction) and hands each in-order TCP
// payload segment to http_parse() with its direction. The parser walks request and status
// lines, header lines and the body framing (Content-Length, chunked, until close) byte by
// byte without buffering: what it must remember across segments lives in the 32-byte
// direction state, and what it reports goes into HttpMessage records the caller provides
// for this call only. Does not allocate, never throws, never reads outside the segment.
//
// Pairing by order: the n-th request head (index n) is answered by the n-th final response
// head (index n); interim 1xx responses carry the index of the request they precede.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "netscope/l7/name_hash.hpp"

namespace netscope::l7 {

/// Bounds. A start or header line longer than kHttpMaxLine, or more than kHttpMaxHeaders
/// header (or trailer) lines in one message, is malformed: this bounds the work per head.
inline constexpr std::size_t kHttpMaxLine = 8192;
inline constexpr std::size_t kHttpMaxHeaders = 128;
inline constexpr std::size_t kHttpHostCopy = 64;   ///< bytes of the Host value copied
inline constexpr std::size_t kHttpUriCopy = 128;   ///< bytes of the request-target copied
/// Requests whose method (HEAD or not) the request direction remembers for the responses:
/// a response more than this many requests behind cannot tell it answers a HEAD.
inline constexpr std::size_t kHttpHeadRing = 16;

enum class HttpDirection : std::uint8_t {
  request,   ///< client to server
  response,  ///< server to client
};

enum class HttpMethod : std::uint8_t {
  none,  ///< not a request, or the method token has not been read yet
  get,
  head,
  post,
  put,
  delete_,
  connect,
  options,
  trace,
  patch,
  other,  ///< a valid token that is none of the above
};

/// "GET", "HEAD", ... ("" for none, "other" for other). Never null.
std::string_view to_string(HttpMethod m) noexcept;

/// Why a direction stopped parsing. The list is stable: names are metric label values.
#define NETSCOPE_HTTP_ERRORS(X)  \
  X(none)                        \
  X(bad_method)                  \
  X(bad_request_target)          \
  X(bad_version)                 \
  X(bad_status)                  \
  X(bad_line_ending)             \
  X(line_too_long)               \
  X(bad_header_name)             \
  X(bad_header_value)            \
  X(obsolete_line_folding)       \
  X(too_many_headers)            \
  X(duplicate_host)              \
  X(bad_content_length)          \
  X(duplicate_content_length)    \
  X(bad_transfer_encoding)       \
  X(bad_chunk_size)              \
  X(bad_chunk_ending)

enum class HttpError : std::uint8_t {
#define NETSCOPE_X(name) name,
  NETSCOPE_HTTP_ERRORS(NETSCOPE_X)
#undef NETSCOPE_X
      count_
};
inline constexpr std::size_t kHttpErrorCount = static_cast<std::size_t>(HttpError::count_);

/// Stable snake_case name ("bad_chunk_size"). Never null.
std::string_view to_string(HttpError e) noexcept;

/// Bits of HttpMessage::flags.
namespace http_flag {
inline constexpr std::uint16_t kRequest = 1u << 0;     ///< a request head (else a response)
inline constexpr std::uint16_t kHeadStart = 1u << 1;   ///< the start line begins in this segment
inline constexpr std::uint16_t kComplete = 1u << 2;    ///< the head ends in this segment
inline constexpr std::uint16_t kHasHost = 1u << 3;
inline constexpr std::uint16_t kHasContentLength = 1u << 4;
inline constexpr std::uint16_t kChunked = 1u << 5;     ///< Transfer-Encoding ends with chunked
inline constexpr std::uint16_t kHostTruncated = 1u << 6;  ///< copy cut by the bound or a segment edge
inline constexpr std::uint16_t kUriTruncated = 1u << 7;   ///< copy cut by the bound or a segment edge
inline constexpr std::uint16_t kInterim = 1u << 8;     ///< 1xx other than 101: a final response follows
inline constexpr std::uint16_t kPipelined = 1u << 9;   ///< request sent before the previous final response head
inline constexpr std::uint16_t kNoBody = 1u << 10;     ///< response to HEAD, 1xx, 204 or 304
inline constexpr std::uint16_t kUntilClose = 1u << 11; ///< response body delimited by the connection close
inline constexpr std::uint16_t kTunnel = 1u << 12;     ///< CONNECT + 2xx, or 101: the stream stops being HTTP
inline constexpr std::uint16_t kFramingConflict = 1u << 13;  ///< both Content-Length and Transfer-Encoding
inline constexpr std::uint16_t kHttp10 = 1u << 14;     ///< HTTP/1.0 (else HTTP/1.1)
inline constexpr std::uint16_t kAfterGap = 1u << 15;   ///< first head after lost bytes; indices may be off
}  // namespace http_flag

/// One message head, or the part of it in this segment. Fields are final only when
/// kComplete is set; a head spanning segments gives one record per segment (without
/// kComplete until the last), and the text copies hold only the bytes of this segment.
/// Hashes cover the whole value whatever the segmentation.
struct HttpMessage {
  std::uint64_t content_length = 0;  ///< valid with kHasContentLength
  std::uint32_t index = 0;           ///< n-th request / n-th final response of the flow, from 0
  std::uint32_t host_hash = 0;       ///< name_hash_nocase of the Host value (OWS trimmed)
  std::uint32_t uri_hash = 0;        ///< name_hash of the request-target
  std::uint32_t offset = 0;          ///< head start in this segment (0 when it began earlier)
  std::uint32_t end = 0;             ///< first byte after the head (segment size if not complete)
  std::uint16_t flags = 0;           ///< http_flag bits
  std::uint16_t status = 0;          ///< response status code
  HttpMethod method = HttpMethod::none;
  std::uint8_t host_len = 0;         ///< bytes in host
  std::uint8_t uri_len = 0;          ///< bytes in uri
  std::array<char, kHttpHostCopy> host{};  ///< Host value as sent, not NUL-terminated
  std::array<char, kHttpUriCopy> uri{};    ///< request-target as sent, not NUL-terminated

  [[nodiscard]] bool has(std::uint16_t f) const noexcept { return (flags & f) != 0; }
  [[nodiscard]] std::string_view host_view() const noexcept { return {host.data(), host_len}; }
  [[nodiscard]] std::string_view uri_view() const noexcept { return {uri.data(), uri_len}; }
};

/// Per-direction parser state: 32 bytes, trivial (no constructor, so it fits unions and
/// memset-initialised tables); a value-initialised (`HttpParser{}`) or zero-filled state
/// is a fresh direction expecting a start line. Opaque: the parser owns every field.
class HttpParser {
 public:
  /// Heads completed so far (final responses only, for the response direction).
  [[nodiscard]] std::uint32_t messages() const noexcept { return messages_; }
  /// The direction hit a malformed line and ignores the rest of the stream.
  [[nodiscard]] bool failed() const noexcept;
  /// Why it failed; none otherwise.
  [[nodiscard]] HttpError error() const noexcept;
  /// The stream stopped being HTTP (CONNECT tunnel, protocol upgrade).
  [[nodiscard]] bool tunnel() const noexcept;
  /// Lost bytes put the parser out of step; it waits for a segment that starts a head.
  [[nodiscard]] bool lost() const noexcept;

 private:
  friend struct HttpEngine;  // lib/l7/http.cpp

  std::uint64_t remaining_;  // Content-Length while reading a head; body or chunk bytes left
  std::uint32_t uri_hash_;
  std::uint32_t host_hash_;
  std::uint32_t messages_;
  std::uint16_t line_len_;   // bytes of the current line
  std::uint16_t ring_;       // request: HEAD bit per request index mod kHttpHeadRing; response: status
  std::uint16_t match_;      // candidate set while matching a token; header id in a value
  std::uint8_t phase_;
  std::uint8_t sub_;         // position in a fixed token, Transfer-Encoding match, error code
  std::uint8_t pos_;         // token length so far; pending whitespace in a Host value
  std::uint8_t headers_;     // header lines in this head
  std::uint8_t method_;      // HttpMethod of the request being read (request direction)
  std::uint8_t flags_;       // framing facts of the head being read
};
static_assert(sizeof(HttpParser) == 32, "HttpParser must stay 32 bytes: it lives in flow entries");
static_assert(std::is_trivial_v<HttpParser>);

/// Both directions of one TCP connection: 64 bytes, trivial. Start from `HttpSession{}`
/// or zero-filled memory (a default-initialised one holds garbage, like an int).
struct HttpSession {
  HttpParser request;   ///< client to server
  HttpParser response;  ///< server to client
};
static_assert(sizeof(HttpSession) == 64);
static_assert(std::is_trivial_v<HttpSession>);

/// What one segment produced.
struct HttpResult {
  HttpError error = HttpError::none;  ///< set only in the call that met the malformed line
  std::uint32_t error_offset = 0;     ///< segment offset of the offending byte
  std::uint16_t records = 0;          ///< records written to `out`
  std::uint16_t heads = 0;            ///< heads completed in this segment (counted even if not recorded)
  std::uint16_t pipelined = 0;        ///< completed requests flagged kPipelined
  std::uint16_t dropped = 0;          ///< records that did not fit in `out`
  [[nodiscard]] bool ok() const noexcept { return error == HttpError::none; }
};

/// Parses the next in-order payload segment of one direction. Writes up to out.size()
/// records: one per head that ends in the segment, plus one for a head still open at its
/// end. Reads the other direction's state (to know which request a response answers:
/// HEAD, CONNECT) and may reset it after a refused CONNECT. After an error the direction
/// ignores its stream (failed()). Bounded work: O(segment size). Does not allocate.
HttpResult http_parse(HttpSession& session, HttpDirection dir, Bytes segment,
                      std::span<HttpMessage> out) noexcept;

/// `bytes` of this direction were lost (a hole in the sequence space; 0 when unknown).
/// Inside a body of known length the parser stays in step; otherwise it waits for a
/// segment that starts with a request line (or "HTTP/1.") and flags that head kAfterGap.
/// Call it also for a connection first seen mid-stream. Does not allocate.
void http_gap(HttpSession& session, HttpDirection dir, std::uint64_t bytes) noexcept;

}  // namespace netscope::l7
