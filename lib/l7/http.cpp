// HTTP/1.1 message heads and body framing (RFC 9112), one segment at a time.
//
// The parser is a byte-level state machine whose whole memory is the 32-byte HttpParser:
// a phase, a position inside fixed tokens, candidate sets for the names it recognises
// (methods; Host, Content-Length, Transfer-Encoding), incremental FNV-1a hashes and the
// Content-Length or body bytes left. Bodies are skipped by length, never scanned.
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "netscope/l7/http.hpp"
#include "text.hpp"

namespace netscope::l7 {

namespace {

enum Phase : std::uint8_t {
  kIdle = 0,      // before a start line (empty lines skipped)
  kMethod,        // request method token
  kTarget,        // request-target
  kReqVersion,    // " HTTP/1.x" after the target; sub_ = bytes matched
  kRespVersion,   // "HTTP/1.x " of a status line; sub_ = bytes matched
  kStatus,        // three digits; sub_ = digits read
  kReason,        // reason phrase up to the line end
  kHeaderStart,   // first byte of a header line, or the empty line ending the head
  kHeaderName,
  kValueOws,      // whitespace before a field value
  kValue,         // field value; match_ = header id
  kLineLf,        // CR read, LF expected; sub_ = LineKind
  kBody,          // remaining_ body bytes to skip
  kChunkSize,     // hex digits; sub_ = 1 once a digit was read, remaining_ = size so far
  kChunkExt,      // chunk extension up to the line end
  kChunkData,     // remaining_ chunk bytes to skip
  kChunkDataEnd,  // the CRLF after chunk data
  kTrailerStart,  // first byte of a trailer line, or the empty line ending the message
  kTrailerLine,
  kUntilClose,    // response body delimited by the connection close
  kTunnel,        // not HTTP any more
  kLost,          // out of step after lost bytes
  kFailed,        // sub_ = HttpError
};

/// What the line a CR (or LF) ends was, to know what follows it.
enum LineKind : std::uint8_t {
  kLineStart,
  kLineHeader,
  kLineHeadEnd,
  kLineChunkSize,
  kLineChunkData,
  kLineTrailer,
  kLineTrailerEnd,
};

/// flags_ bits of the head being read.
enum StateFlag : std::uint8_t {
  kStChunked = 1u << 0,
  kStHasCl = 1u << 1,
  kStTe = 1u << 2,
  kStHost = 1u << 3,
  kStHttp10 = 1u << 4,
  kStAfterGap = 1u << 5,
};

enum HeaderId : std::uint16_t { kHdrHost = 0, kHdrContentLength = 1, kHdrTransferEncoding = 2, kHdrOther = 3 };

constexpr std::array<std::string_view, 9> kMethodNames = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
constexpr std::uint16_t kAllMethods = (1u << kMethodNames.size()) - 1;
// kMethodNames[k] is HttpMethod(k + 1).
static_assert(static_cast<int>(HttpMethod::patch) == 9 && static_cast<int>(HttpMethod::get) == 1);

constexpr std::array<std::string_view, 3> kHeaderNames = {"host", "content-length",
                                                           "transfer-encoding"};
constexpr std::uint16_t kAllHeaders = (1u << kHeaderNames.size()) - 1;

constexpr std::string_view kVersionPrefix = "HTTP/1.";
constexpr std::string_view kChunked = "chunked";
constexpr std::uint64_t kMaxContentLength = 1ull << 60;
constexpr unsigned kMaxChunkBits = 56;        // a chunk size stays below 2^60
constexpr std::uint8_t kTeEnded = 0x80;       // sub_ bit: the token ended (whitespace)
constexpr std::uint8_t kTeMismatch = 0xFF;    // sub_: the current token is not "chunked"

/// Short copies into the record (at most kHttpUriCopy bytes). A plain loop: GCC expands a
/// bounded memcpy into `rep movsq`, whose start-up cost dominated short values.
inline void copy_bytes(char* dst, const std::uint8_t* src, std::size_t n) noexcept {
  for (std::size_t k = 0; k < n; ++k) dst[k] = static_cast<char>(src[k]);
}

/// The phase is inside a message head (start line, header lines, the CRLF ending them).
[[nodiscard]] constexpr bool in_head(std::uint8_t phase, std::uint8_t sub) noexcept {
  if (phase >= kMethod && phase <= kValue) return true;
  return phase == kLineLf && sub <= kLineHeadEnd;
}

}  // namespace

/// The state machine. One instance per http_parse call; the persistent part is `st`.
struct HttpEngine {
  HttpParser& st;
  HttpParser& peer;
  const bool request;
  const std::uint8_t* const data;
  const std::size_t size;
  const std::span<HttpMessage> out;
  HttpResult res{};
  std::size_t i = 0;
  HttpMessage* rec = nullptr;  // record of the open head; null when `out` is full
  bool open = false;           // a head is open in this segment

  static HttpParser& dir(HttpSession& s, HttpDirection d) noexcept {
    return d == HttpDirection::request ? s.request : s.response;
  }

  void fail(HttpError e, std::size_t at) noexcept {
    close_record(false, at);
    st.phase_ = kFailed;
    st.sub_ = static_cast<std::uint8_t>(e);
    res.error = e;
    res.error_offset = static_cast<std::uint32_t>(at);
  }

  [[nodiscard]] bool failed() const noexcept { return st.phase_ == kFailed; }

  /// Adds the n bytes starting at data[i] to the current line; false (and failed, at the
  /// first byte past the bound) beyond kHttpMaxLine.
  bool count(std::size_t n) noexcept {
    const std::size_t t = std::size_t{st.line_len_} + n;
    if (t > kHttpMaxLine) {
      fail(HttpError::line_too_long, i + (kHttpMaxLine - st.line_len_));
      return false;
    }
    st.line_len_ = static_cast<std::uint16_t>(t);
    return true;
  }

  void open_record(std::size_t offset, bool start) noexcept {
    open = true;
    if (res.records < out.size()) {
      rec = &out[res.records++];
      rec->content_length = 0;
      rec->index = 0;
      rec->host_hash = 0;
      rec->uri_hash = 0;
      rec->offset = static_cast<std::uint32_t>(offset);
      rec->end = 0;
      rec->flags = static_cast<std::uint16_t>((request ? http_flag::kRequest : 0) |
                                              (start ? http_flag::kHeadStart : 0));
      rec->status = 0;
      rec->method = HttpMethod::none;
      rec->host_len = 0;
      rec->uri_len = 0;
    } else {
      rec = nullptr;
      ++res.dropped;
    }
  }

  /// Copies what the state knows into the open record and closes it.
  void close_record(bool complete, std::size_t end) noexcept {
    if (!open) return;
    open = false;
    if (rec == nullptr) return;
    HttpMessage& m = *rec;
    rec = nullptr;
    m.index = st.messages_;
    m.end = static_cast<std::uint32_t>(end);
    std::uint16_t f = m.flags;
    if (request) {
      m.method = static_cast<HttpMethod>(st.method_);
      m.uri_hash = st.uri_hash_;
    } else {
      m.status = st.ring_;
    }
    if ((st.flags_ & kStHost) != 0) {
      f |= http_flag::kHasHost;
      m.host_hash = st.host_hash_;
    }
    if ((st.flags_ & kStHasCl) != 0) {
      f |= http_flag::kHasContentLength;
      m.content_length = st.remaining_;
    }
    if ((st.flags_ & kStChunked) != 0) f |= http_flag::kChunked;
    if ((st.flags_ & kStHttp10) != 0) f |= http_flag::kHttp10;
    if ((st.flags_ & kStAfterGap) != 0) f |= http_flag::kAfterGap;
    if ((st.flags_ & (kStTe | kStHasCl)) == (kStTe | kStHasCl)) f |= http_flag::kFramingConflict;
    if (complete) f |= http_flag::kComplete;
    // A value still being read at the segment end is cut.
    if (!complete && st.phase_ == kTarget) f |= http_flag::kUriTruncated;
    if (!complete && st.phase_ == kValue && st.match_ == kHdrHost) f |= http_flag::kHostTruncated;
    m.flags = f;
  }

  void begin_head() noexcept {
    open_record(i, true);
    st.remaining_ = 0;
    st.uri_hash_ = kNameHashSeed;
    st.host_hash_ = kNameHashSeed;
    st.line_len_ = 0;
    if (!request) st.ring_ = 0;
    st.match_ = kAllMethods;
    st.sub_ = 0;
    st.pos_ = 0;
    st.headers_ = 0;
    st.method_ = 0;
    st.flags_ = static_cast<std::uint8_t>(st.flags_ & kStAfterGap);
    st.phase_ = request ? kMethod : kRespVersion;
  }

  /// A head ended at `end` (after its empty line): pick the body framing.
  void complete_head(std::size_t end) noexcept {
    const std::uint32_t idx = st.messages_;
    const bool te = (st.flags_ & kStTe) != 0;
    const bool chunked = (st.flags_ & kStChunked) != 0;
    const bool has_cl = (st.flags_ & kStHasCl) != 0;
    std::uint16_t extra = 0;
    std::uint8_t next = kIdle;
    bool final_head = true;
    HttpError error = HttpError::none;

    if (request) {
      const auto method = static_cast<HttpMethod>(st.method_);
      if (idx > peer.messages_) extra |= http_flag::kPipelined;
      const auto bit = static_cast<std::uint16_t>(1u << (idx % kHttpHeadRing));
      st.ring_ = static_cast<std::uint16_t>((st.ring_ & ~bit) | (method == HttpMethod::head ? bit : 0));
      if (method == HttpMethod::connect) {
        next = kTunnel;
        extra |= http_flag::kTunnel;
      } else if (te) {
        if (chunked) {
          next = kChunkSize;
        } else {
          error = HttpError::bad_transfer_encoding;  // RFC 9112 6.3 (4): 400 Bad Request
        }
      } else if (has_cl) {
        next = st.remaining_ != 0 ? kBody : kIdle;
      }
    } else {
      const std::uint16_t status = st.ring_;
      // Which request this final response answers: index idx, if that request was seen
      // recently enough for its HEAD bit to be still in the ring.
      const bool seen = peer.messages_ > idx && peer.messages_ - idx <= kHttpHeadRing;
      const bool to_head = seen && ((peer.ring_ >> (idx % kHttpHeadRing)) & 1u) != 0;
      const bool to_connect = peer.phase_ == kTunnel &&
                              peer.method_ == static_cast<std::uint8_t>(HttpMethod::connect) &&
                              peer.messages_ == idx + 1;
      if (status >= 100 && status < 200 && status != 101) {
        final_head = false;
        extra |= http_flag::kInterim | http_flag::kNoBody;
      } else if (status == 101 || (to_connect && status >= 200 && status < 300)) {
        next = kTunnel;
        extra |= http_flag::kTunnel | (status == 101 ? http_flag::kNoBody : 0);
      } else if (to_head || status == 204 || status == 304) {
        extra |= http_flag::kNoBody;
      } else if (te) {
        if (chunked) {
          next = kChunkSize;
        } else {
          next = kUntilClose;
          extra |= http_flag::kUntilClose;
        }
      } else if (has_cl) {
        next = st.remaining_ != 0 ? kBody : kIdle;
      } else {
        next = kUntilClose;
        extra |= http_flag::kUntilClose;
      }
      // A refused CONNECT leaves the client free to send more requests.
      if (final_head && to_connect && next != kTunnel) peer.phase_ = kIdle;
    }

    if (error != HttpError::none) {
      fail(error, end > 0 ? end - 1 : 0);
      return;
    }
    if (rec != nullptr) rec->flags |= extra;
    close_record(true, end);
    ++res.heads;
    if ((extra & http_flag::kPipelined) != 0) ++res.pipelined;
    if (final_head) ++st.messages_;
    st.flags_ = static_cast<std::uint8_t>(st.flags_ & ~kStAfterGap);
    st.line_len_ = 0;
    st.sub_ = 0;
    if (next == kChunkSize) st.remaining_ = 0;
    st.phase_ = next;
  }

  /// The line of kind `k` ended (its LF consumed).
  void end_line(std::uint8_t k) noexcept {
    st.line_len_ = 0;
    switch (k) {
      case kLineStart:
      case kLineHeader:
        st.phase_ = kHeaderStart;
        break;
      case kLineHeadEnd:
        complete_head(i);
        break;
      case kLineChunkSize:
        st.headers_ = 0;
        st.phase_ = st.remaining_ == 0 ? kTrailerStart : kChunkData;
        break;
      case kLineChunkData:
        st.phase_ = kChunkSize;
        st.sub_ = 0;
        st.remaining_ = 0;
        break;
      case kLineTrailer:
        st.phase_ = kTrailerStart;
        break;
      default:  // kLineTrailerEnd: the chunked message is over
        st.phase_ = kIdle;
        break;
    }
  }

  /// At data[i], a CR or LF that ends a line of kind k.
  void line_terminator(std::uint8_t k) noexcept {
    const std::uint8_t c = data[i++];
    if (c == '\n') {
      end_line(k);
    } else {
      st.phase_ = kLineLf;
      st.sub_ = k;
    }
  }

  /// Skips the rest of a line whose content the parser does not interpret, validating
  /// that it holds no control byte (`err` otherwise). The first problem in stream order
  /// wins, so the answer does not depend on where segments end: a control byte within
  /// the line bound, a bare CR (bad_line_ending at the byte after it, as when the CR ends
  /// a segment), or the line growing past the bound.
  void skip_line(std::uint8_t k, HttpError err) noexcept {
    const std::uint8_t* p = data + i;
    const std::size_t avail = size - i;
    const auto* lf = static_cast<const std::uint8_t*>(std::memchr(p, '\n', avail));
    const std::size_t run = lf != nullptr ? static_cast<std::size_t>(lf - p) : avail;
    std::size_t content = run;
    const bool cr_last = content > 0 && p[content - 1] == '\r';
    if (cr_last) --content;
    const std::size_t room = kHttpMaxLine - st.line_len_;
    const std::size_t check = std::min(content, room);
    const std::size_t bad = text::find_ctl(p, check);
    if (bad != check) {
      if (p[bad] == '\r') {
        fail(HttpError::bad_line_ending, i + bad + 1);
      } else {
        fail(err, i + bad);
      }
      return;
    }
    if (!count(content)) return;
    i += run;
    if (lf != nullptr) {
      ++i;
      end_line(k);
    } else if (cr_last) {
      st.phase_ = kLineLf;
      st.sub_ = k;
    }
  }

  /// Bytes of the token (tchar run) starting at data[i].
  [[nodiscard]] std::size_t token_run() const noexcept {
    std::size_t k = i;
    while (k < size && text::is_tchar(data[k])) ++k;
    return k - i;
  }

  [[nodiscard]] static bool equal_nocase(const std::uint8_t* p, std::string_view lower) noexcept {
    for (std::size_t k = 0; k < lower.size(); ++k) {
      if (ascii_lower(p[k]) != static_cast<std::uint8_t>(lower[k])) return false;
    }
    return true;
  }

  /// Fast path of kMethod when the whole token and the byte after it are in this segment:
  /// the same checks, in the same order, as the byte-by-byte path. False: not taken.
  bool method_whole() noexcept {
    if (st.pos_ != 0) return false;
    const std::size_t k = token_run();
    if (i + k >= size) return false;
    const std::uint8_t* token = data + i;
    if (!count(k)) return true;
    i += k;
    if (data[i] != ' ' || k == 0) {
      fail(HttpError::bad_method, i);
      return true;
    }
    if (!count(1)) return true;
    ++i;
    HttpMethod m = HttpMethod::other;
    for (std::size_t n = 0; n < kMethodNames.size(); ++n) {
      const std::string_view name = kMethodNames[n];
      if (name.size() == k && std::memcmp(name.data(), token, k) == 0) {
        m = static_cast<HttpMethod>(n + 1);
        break;
      }
    }
    st.method_ = static_cast<std::uint8_t>(m);
    st.phase_ = kTarget;
    return true;
  }

  /// Fast path of kHeaderName, as method_whole.
  bool header_name_whole() noexcept {
    if (st.pos_ != 0) return false;
    const std::size_t k = token_run();
    if (i + k >= size) return false;
    const std::uint8_t* token = data + i;
    if (!count(k)) return true;
    i += k;
    if (data[i] != ':') {
      fail(HttpError::bad_header_name, i);
      return true;
    }
    if (!count(1)) return true;
    ++i;
    std::uint16_t id = kHdrOther;
    for (std::size_t n = 0; n < kHeaderNames.size(); ++n) {
      if (kHeaderNames[n].size() == k && equal_nocase(token, kHeaderNames[n])) {
        id = static_cast<std::uint16_t>(n);
        break;
      }
    }
    start_value(id);
    return true;
  }

  void method_byte(std::uint8_t c) noexcept {
    std::uint16_t m = st.match_;
    for (std::uint16_t rest = m; rest != 0; rest = static_cast<std::uint16_t>(rest & (rest - 1))) {
      const int k = std::countr_zero(rest);
      const std::string_view name = kMethodNames[static_cast<std::size_t>(k)];
      if (st.pos_ >= name.size() || static_cast<std::uint8_t>(name[st.pos_]) != c) {
        m = static_cast<std::uint16_t>(m & ~(1u << k));
      }
    }
    st.match_ = m;
    if (st.pos_ < 0xFF) ++st.pos_;
  }

  [[nodiscard]] HttpMethod resolve_method() const noexcept {
    for (std::uint16_t rest = st.match_; rest != 0;
         rest = static_cast<std::uint16_t>(rest & (rest - 1))) {
      const int k = std::countr_zero(rest);
      if (kMethodNames[static_cast<std::size_t>(k)].size() == st.pos_) {
        return static_cast<HttpMethod>(k + 1);
      }
    }
    return HttpMethod::other;
  }

  void header_name_byte(std::uint8_t c) noexcept {
    const std::uint8_t l = ascii_lower(c);
    std::uint16_t m = st.match_;
    for (std::uint16_t rest = m; rest != 0; rest = static_cast<std::uint16_t>(rest & (rest - 1))) {
      const int k = std::countr_zero(rest);
      const std::string_view name = kHeaderNames[static_cast<std::size_t>(k)];
      if (st.pos_ >= name.size() || static_cast<std::uint8_t>(name[st.pos_]) != l) {
        m = static_cast<std::uint16_t>(m & ~(1u << k));
      }
    }
    st.match_ = m;
    if (st.pos_ < 0xFF) ++st.pos_;
  }

  [[nodiscard]] std::uint16_t resolve_header() const noexcept {
    for (std::uint16_t rest = st.match_; rest != 0;
         rest = static_cast<std::uint16_t>(rest & (rest - 1))) {
      const int k = std::countr_zero(rest);
      if (kHeaderNames[static_cast<std::size_t>(k)].size() == st.pos_) {
        return static_cast<std::uint16_t>(k);
      }
    }
    return kHdrOther;
  }

  void copy_host(std::uint8_t c) noexcept {
    if (rec == nullptr) return;
    if (rec->host_len < kHttpHostCopy) {
      rec->host[rec->host_len++] = static_cast<char>(c);
    } else {
      rec->flags |= http_flag::kHostTruncated;
    }
  }

  void host_byte(std::uint8_t c) noexcept {
    // Whitespace is held back (pos_) until a later byte shows it is not trailing OWS.
    if (text::is_ows(c)) {
      if (st.pos_ == 0xFF) flush_host_ows();
      ++st.pos_;
      return;
    }
    flush_host_ows();
    st.host_hash_ = name_hash_step(st.host_hash_, ascii_lower(c));
    copy_host(c);
  }

  /// A run of Host bytes without whitespace or control bytes, hashed and copied in one go.
  void host_run() noexcept {
    std::size_t k = i;
    while (k < size && !text::is_ctl(data[k]) && !text::is_ows(data[k])) ++k;
    const std::size_t run = k - i;
    if (!count(run)) return;
    flush_host_ows();
    std::uint32_t h = st.host_hash_;
    for (std::size_t j = i; j < k; ++j) h = name_hash_step(h, ascii_lower(data[j]));
    st.host_hash_ = h;
    if (rec != nullptr) {
      const std::size_t room = kHttpHostCopy - rec->host_len;
      const std::size_t n = std::min(room, run);
      copy_bytes(rec->host.data() + rec->host_len, data + i, n);
      rec->host_len = static_cast<std::uint8_t>(rec->host_len + n);
      if (run > room) rec->flags |= http_flag::kHostTruncated;
    }
    i = k;
  }

  void flush_host_ows() noexcept {
    for (; st.pos_ > 0; --st.pos_) {
      st.host_hash_ = name_hash_step(st.host_hash_, ' ');
      copy_host(' ');
    }
  }

  /// The field value ended (at a CR or LF).
  bool value_end() noexcept {
    switch (st.match_) {
      case kHdrContentLength:
        if (st.sub_ == 0) {
          fail(HttpError::bad_content_length, i);
          return false;
        }
        break;
      case kHdrTransferEncoding:
        // The last Transfer-Encoding line decides; its last coding must be chunked.
        if ((st.sub_ & 0x7F) == kChunked.size()) {
          st.flags_ |= kStChunked;
        } else {
          st.flags_ = static_cast<std::uint8_t>(st.flags_ & ~kStChunked);
        }
        break;
      default:
        break;
    }
    st.pos_ = 0;
    st.sub_ = 0;
    return true;
  }

  /// Interpreted values (Host, Content-Length, Transfer-Encoding), byte by byte.
  void value_bytes() noexcept {
    while (i < size) {
      const std::uint8_t c = data[i];
      if (c == '\r' || c == '\n') {
        if (value_end()) line_terminator(kLineHeader);
        return;
      }
      if (text::is_ctl(c)) {
        fail(HttpError::bad_header_value, i);
        return;
      }
      if (st.match_ == kHdrHost && !text::is_ows(c)) {
        host_run();
        if (failed()) return;
        continue;
      }
      if (!count(1)) return;
      switch (st.match_) {
        case kHdrHost:
          host_byte(c);
          break;
        case kHdrContentLength:
          if (text::is_digit(c) && st.sub_ != 2) {
            const auto d = static_cast<std::uint64_t>(c - '0');
            if (st.remaining_ > (kMaxContentLength - d) / 10) {
              fail(HttpError::bad_content_length, i);
              return;
            }
            st.remaining_ = st.remaining_ * 10 + d;
            st.sub_ = 1;
          } else if (text::is_ows(c) && st.sub_ != 0) {
            st.sub_ = 2;  // trailing whitespace: no more digits
          } else {
            fail(HttpError::bad_content_length, i);
            return;
          }
          break;
        default:  // kHdrTransferEncoding
          if (c == ',') {
            st.sub_ = 0;
          } else if (text::is_ows(c)) {
            if (st.sub_ != 0) st.sub_ |= kTeEnded;
          } else if ((st.sub_ & kTeEnded) == 0 && st.sub_ < kChunked.size() &&
                     ascii_lower(c) == static_cast<std::uint8_t>(kChunked[st.sub_])) {
            ++st.sub_;
          } else {
            st.sub_ = kTeMismatch;
          }
          break;
      }
      ++i;
    }
  }

  void target_bytes() noexcept {
    while (i < size) {
      // The run of target bytes, hashed and copied in one go; checks as byte by byte.
      std::size_t k = i;
      while (k < size && data[k] > 0x20 && data[k] != 0x7F) ++k;
      if (const std::size_t run = k - i; run > 0) {
        if (!count(run)) return;
        std::uint32_t h = st.uri_hash_;
        for (std::size_t j = i; j < k; ++j) h = name_hash_step(h, data[j]);
        st.uri_hash_ = h;
        st.pos_ = 1;
        if (rec != nullptr) {
          const std::size_t room = kHttpUriCopy - rec->uri_len;
          const std::size_t n = std::min(room, run);
          copy_bytes(rec->uri.data() + rec->uri_len, data + i, n);
          rec->uri_len = static_cast<std::uint8_t>(rec->uri_len + n);
          if (run > room) rec->flags |= http_flag::kUriTruncated;
        }
        i = k;
        if (i == size) return;
      }
      const std::uint8_t c = data[i];
      if (c == ' ') {
        if (st.pos_ == 0) {
          fail(HttpError::bad_request_target, i);
          return;
        }
        if (!count(1)) return;
        ++i;
        st.phase_ = kReqVersion;
        st.sub_ = 0;
        return;
      }
      if (c == '\r' || c == '\n') {
        fail(HttpError::bad_version, i);  // an HTTP/0.9 request line
      } else {
        fail(HttpError::bad_request_target, i);
      }
      return;
    }
  }

  /// "HTTP/1.x", then (request) the line end or (response) a space.
  void version_byte(std::uint8_t c) noexcept {
    // Fast path: the whole "HTTP/1.x" here and valid; anything else goes byte by byte.
    if (st.sub_ == 0 && size - i > kVersionPrefix.size() &&
        std::memcmp(data + i, kVersionPrefix.data(), kVersionPrefix.size()) == 0 &&
        text::is_digit(data[i + kVersionPrefix.size()])) {
      if (!count(kVersionPrefix.size() + 1)) return;
      if (data[i + kVersionPrefix.size()] == '0') st.flags_ |= kStHttp10;
      i += kVersionPrefix.size() + 1;
      st.sub_ = static_cast<std::uint8_t>(kVersionPrefix.size() + 1);
      return;
    }
    if (st.sub_ < kVersionPrefix.size()) {
      if (c != static_cast<std::uint8_t>(kVersionPrefix[st.sub_])) {
        fail(HttpError::bad_version, i);
        return;
      }
    } else if (st.sub_ == kVersionPrefix.size()) {
      if (!text::is_digit(c)) {
        fail(HttpError::bad_version, i);
        return;
      }
      if (c == '0') st.flags_ |= kStHttp10;
    } else if (request) {
      if (c == '\r' || c == '\n') {
        line_terminator(kLineStart);
        return;
      }
      fail(HttpError::bad_version, i);
      return;
    } else {
      if (c != ' ') {
        fail(HttpError::bad_version, i);
        return;
      }
      if (!count(1)) return;
      ++i;
      st.phase_ = kStatus;
      st.sub_ = 0;
      return;
    }
    if (!count(1)) return;
    ++st.sub_;
    ++i;
  }

  void status_byte(std::uint8_t c) noexcept {
    if (st.sub_ < 3) {
      if (!text::is_digit(c) || (st.sub_ == 0 && c == '0')) {
        fail(HttpError::bad_status, i);
        return;
      }
      if (!count(1)) return;
      st.ring_ = static_cast<std::uint16_t>(st.ring_ * 10 + (c - '0'));
      ++st.sub_;
      ++i;
      return;
    }
    if (c == ' ') {
      if (!count(1)) return;
      ++i;
      st.phase_ = kReason;
    } else if (c == '\r' || c == '\n') {
      line_terminator(kLineStart);  // no reason phrase: tolerated
    } else {
      fail(HttpError::bad_status, i);
    }
  }

  void step() noexcept {
    const std::uint8_t c = data[i];
    switch (st.phase_) {
      case kIdle:
        if (c == '\r' || c == '\n') {
          ++i;  // RFC 9112 2.2: empty lines before a start line are ignored
        } else {
          begin_head();
        }
        break;
      case kMethod:
        if (method_whole()) break;
        if (text::is_tchar(c)) {
          if (!count(1)) return;
          method_byte(c);
          ++i;
        } else if (c == ' ' && st.pos_ > 0) {
          if (!count(1)) return;
          st.method_ = static_cast<std::uint8_t>(resolve_method());
          st.pos_ = 0;
          st.phase_ = kTarget;
          ++i;
        } else {
          fail(HttpError::bad_method, i);
        }
        break;
      case kTarget:
        target_bytes();
        break;
      case kReqVersion:
      case kRespVersion:
        version_byte(c);
        break;
      case kStatus:
        status_byte(c);
        break;
      case kReason:
        skip_line(kLineStart, HttpError::bad_status);
        break;
      case kHeaderStart:
        if (c == '\r' || c == '\n') {
          line_terminator(kLineHeadEnd);
        } else if (text::is_ows(c)) {
          fail(HttpError::obsolete_line_folding, i);
        } else if (text::is_tchar(c)) {
          if (++st.headers_ > kHttpMaxHeaders) {
            fail(HttpError::too_many_headers, i);
            return;
          }
          st.phase_ = kHeaderName;
          st.pos_ = 0;
          st.match_ = kAllHeaders;
        } else {
          fail(HttpError::bad_header_name, i);
        }
        break;
      case kHeaderName:
        if (header_name_whole()) break;
        if (text::is_tchar(c)) {
          if (!count(1)) return;
          header_name_byte(c);
          ++i;
        } else if (c == ':') {
          if (!count(1)) return;
          ++i;
          start_value(resolve_header());
        } else {
          fail(HttpError::bad_header_name, i);
        }
        break;
      case kValueOws: {
        std::size_t k = i;
        while (k < size && text::is_ows(data[k])) ++k;
        if (!count(k - i)) return;
        i = k;
        if (i < size) st.phase_ = kValue;
        break;
      }
      case kValue:
        if (st.match_ == kHdrOther) {
          skip_line(kLineHeader, HttpError::bad_header_value);
        } else {
          value_bytes();
        }
        break;
      case kLineLf:
        if (c == '\n') {
          ++i;
          end_line(st.sub_);
        } else {
          fail(st.sub_ == kLineChunkData ? HttpError::bad_chunk_ending : HttpError::bad_line_ending,
               i);
        }
        break;
      case kBody:
      case kChunkData: {
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(st.remaining_, size - i));
        i += n;
        st.remaining_ -= n;
        if (st.remaining_ == 0) st.phase_ = st.phase_ == kBody ? kIdle : kChunkDataEnd;
        break;
      }
      case kChunkSize:
        chunk_size_byte(c);
        break;
      case kChunkExt:
        skip_line(kLineChunkSize, HttpError::bad_chunk_size);
        break;
      case kChunkDataEnd:
        if (c == '\r' || c == '\n') {
          line_terminator(kLineChunkData);
        } else {
          fail(HttpError::bad_chunk_ending, i);
        }
        break;
      case kTrailerStart:
        if (c == '\r' || c == '\n') {
          line_terminator(kLineTrailerEnd);
        } else if (++st.headers_ > kHttpMaxHeaders) {
          fail(HttpError::too_many_headers, i);
        } else {
          st.phase_ = kTrailerLine;
        }
        break;
      case kTrailerLine:
        skip_line(kLineTrailer, HttpError::bad_header_value);
        break;
      default:  // kUntilClose, kTunnel, kLost: the rest is not looked at
        i = size;
        break;
    }
  }

  void start_value(std::uint16_t id) noexcept {
    st.match_ = id;
    st.pos_ = 0;
    st.sub_ = 0;
    st.phase_ = kValueOws;
    switch (id) {
      case kHdrHost:
        if ((st.flags_ & kStHost) != 0) {
          fail(HttpError::duplicate_host, i - 1);
          return;
        }
        st.flags_ |= kStHost;
        st.host_hash_ = kNameHashSeed;
        break;
      case kHdrContentLength:
        // RFC 9110 8.6 lets a recipient accept repeated identical values; we keep no copy
        // to compare, and a repeated Content-Length is a request-smuggling signal anyway.
        if ((st.flags_ & kStHasCl) != 0) {
          fail(HttpError::duplicate_content_length, i - 1);
          return;
        }
        st.flags_ |= kStHasCl;
        st.remaining_ = 0;
        break;
      case kHdrTransferEncoding:
        st.flags_ |= kStTe;
        break;
      default:
        break;
    }
  }

  void chunk_size_byte(std::uint8_t c) noexcept {
    const int v = text::hex_value(c);
    if (v >= 0) {
      if (!count(1)) return;
      if ((st.remaining_ >> kMaxChunkBits) != 0) {  // leading zeros are fine, size is bounded
        fail(HttpError::bad_chunk_size, i);
        return;
      }
      st.remaining_ = st.remaining_ * 16 + static_cast<std::uint64_t>(v);
      st.sub_ = 1;
      ++i;
      return;
    }
    if (st.sub_ == 0) {
      fail(HttpError::bad_chunk_size, i);
    } else if (c == '\r' || c == '\n') {
      line_terminator(kLineChunkSize);
    } else if (c == ';' || text::is_ows(c)) {
      st.phase_ = kChunkExt;  // extensions (and BWS before them) are skipped
    } else {
      fail(HttpError::bad_chunk_size, i);
    }
  }

  /// After lost bytes, a segment that starts like a head brings the parser back in step.
  [[nodiscard]] bool starts_head() const noexcept {
    const std::string_view s{reinterpret_cast<const char*>(data), size};
    if (!request) return s.starts_with(kVersionPrefix);
    for (const std::string_view m : kMethodNames) {
      if (s.size() > m.size() && s.starts_with(m) && s[m.size()] == ' ') return true;
    }
    return false;
  }

  static void gap(HttpParser& st, std::uint64_t bytes) noexcept {
    switch (st.phase_) {
      case kFailed:
      case kTunnel:
      case kUntilClose:
      case kLost:
        return;
      case kBody:
      case kChunkData:
        // Inside a body of known length the next head is still where the parser expects it.
        if (bytes != 0 && bytes <= st.remaining_) {
          st.remaining_ -= bytes;
          if (st.remaining_ == 0) st.phase_ = st.phase_ == kBody ? kIdle : kChunkDataEnd;
          return;
        }
        break;
      default:
        break;
    }
    st.phase_ = kLost;
    st.flags_ |= kStAfterGap;
  }

  void run() noexcept {
    if (st.phase_ == kFailed || size == 0) return;
    if (st.phase_ == kLost) {
      if (!starts_head()) return;
      st.phase_ = kIdle;
    }
    if (in_head(st.phase_, st.sub_)) {
      open_record(0, false);
      // A value cut by the previous segment end continues here: its copy is a tail.
      if (rec != nullptr && st.phase_ == kTarget) rec->flags |= http_flag::kUriTruncated;
      if (rec != nullptr && st.phase_ == kValue && st.match_ == kHdrHost) {
        rec->flags |= http_flag::kHostTruncated;
      }
    }
    while (i < size && st.phase_ != kFailed) step();
    close_record(false, size);
  }
};

bool HttpParser::failed() const noexcept { return phase_ == kFailed; }

HttpError HttpParser::error() const noexcept {
  return phase_ == kFailed ? static_cast<HttpError>(sub_) : HttpError::none;
}

bool HttpParser::tunnel() const noexcept { return phase_ == kTunnel; }

bool HttpParser::lost() const noexcept { return phase_ == kLost; }

HttpResult http_parse(HttpSession& session, HttpDirection dir, Bytes segment,
                      std::span<HttpMessage> out) noexcept {
  const bool request = dir == HttpDirection::request;
  HttpEngine e{HttpEngine::dir(session, dir),
               request ? session.response : session.request,
               request,
               segment.data(),
               segment.size(),
               out};
  e.run();
  return e.res;
}

void http_gap(HttpSession& session, HttpDirection dir, std::uint64_t bytes) noexcept {
  HttpEngine::gap(HttpEngine::dir(session, dir), bytes);
}

std::string_view to_string(HttpMethod m) noexcept {
  switch (m) {
    case HttpMethod::none:
      return "";
    case HttpMethod::other:
      return "other";
    default: {
      const auto k = static_cast<std::size_t>(m) - 1;
      return k < kMethodNames.size() ? kMethodNames[k] : std::string_view{"other"};
    }
  }
}

namespace {
constexpr std::array<std::string_view, kHttpErrorCount + 1> kHttpErrorNames = {
#define NETSCOPE_X(name) std::string_view{#name},
    NETSCOPE_HTTP_ERRORS(NETSCOPE_X)
#undef NETSCOPE_X
        std::string_view{"unknown"},
};
}  // namespace

std::string_view to_string(HttpError e) noexcept {
  const auto k = static_cast<std::size_t>(e);
  return k < kHttpErrorCount ? kHttpErrorNames[k] : kHttpErrorNames[kHttpErrorCount];
}

}  // namespace netscope::l7
