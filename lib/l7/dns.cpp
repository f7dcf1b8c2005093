// DNS messages: header, first question, answer section (RFC 1035 4.1), and the TCP
// length-prefix framing (RFC 1035 4.2.2).
#include <algorithm>
#include <array>

#include "netscope/l7/dns.hpp"
#include "text.hpp"

namespace netscope::l7 {

namespace {

constexpr std::size_t kQuestionFixed = 4;  // type, class
constexpr std::size_t kRrFixed = 10;       // type, class, ttl, rdlength
constexpr std::uint16_t kClassMask = 0x7FFF;  // mDNS keeps the cache-flush bit on top

/// Internal outcome for "the bytes ran out, but the message goes on in a later segment".
constexpr auto kStop = DnsError::count_;

/// The bytes of one message: `avail` are here, `declared` is its length (>= avail).
struct MessageView {
  const std::uint8_t* p;
  std::size_t avail;
  std::size_t declared;

  /// Checks that [0, end) is here. If not, `err` when the message itself is shorter,
  /// kStop when the missing bytes are in a later segment.
  [[nodiscard]] DnsError need(std::size_t end, DnsError err) const noexcept {
    if (end <= avail) return DnsError::none;
    return end <= declared ? kStop : err;
  }
};

/// Decompresses the name at `pos` into out[0, out_len) in dotted form. `next` receives the
/// offset after the name where it sits (after its first pointer, or its root label).
/// Every pointer must point before the run of labels it ends (so names cannot loop) and
/// after the header; at most kDnsMaxPointerHops are followed.
DnsError read_name(const MessageView& m, std::size_t pos, char* out, std::uint16_t& out_len,
                   std::size_t& next) noexcept {
  std::size_t run_start = pos;
  std::size_t hops = 0;
  std::size_t wire = 0;
  bool jumped = false;
  out_len = 0;
  for (;;) {
    if (const DnsError e = m.need(pos + 1, DnsError::truncated_name); e != DnsError::none) return e;
    const std::uint8_t len = m.p[pos];
    if ((len & 0xC0) == 0xC0) {
      if (const DnsError e = m.need(pos + 2, DnsError::truncated_name); e != DnsError::none) {
        return e;
      }
      const std::size_t target = static_cast<std::size_t>(text::load16(m.p + pos) & 0x3FFF);
      if (!jumped) {
        next = pos + 2;
        jumped = true;
      }
      if (target >= run_start || target < kDnsHeaderLen) return DnsError::bad_pointer;
      if (++hops > kDnsMaxPointerHops) return DnsError::too_many_pointers;
      pos = target;
      run_start = target;
      continue;
    }
    if ((len & 0xC0) != 0) return DnsError::bad_label_type;  // 0x40 extended, 0x80 reserved
    if (len == 0) {
      if (!jumped) next = pos + 1;
      return DnsError::none;
    }
    wire += std::size_t{len} + 1;
    if (wire + 1 > kDnsMaxName) return DnsError::name_too_long;
    if (const DnsError e = m.need(pos + 1 + len, DnsError::truncated_name); e != DnsError::none) {
      return e;
    }
    // wire <= 254 keeps the dotted form within 253 characters.
    if (out_len != 0) out[out_len++] = '.';
    for (std::size_t k = 0; k < len; ++k) out[out_len++] = static_cast<char>(m.p[pos + 1 + k]);
    pos += 1 + std::size_t{len};
  }
}

/// Steps over the name at `pos` without following its pointer (which must still point
/// before the name).
DnsError skip_name(const MessageView& m, std::size_t& pos, DnsError truncated) noexcept {
  const std::size_t start = pos;
  std::size_t wire = 0;
  for (;;) {
    if (const DnsError e = m.need(pos + 1, truncated); e != DnsError::none) return e;
    const std::uint8_t len = m.p[pos];
    if ((len & 0xC0) == 0xC0) {
      if (const DnsError e = m.need(pos + 2, truncated); e != DnsError::none) return e;
      const std::size_t target = static_cast<std::size_t>(text::load16(m.p + pos) & 0x3FFF);
      if (target >= start || target < kDnsHeaderLen) return DnsError::bad_pointer;
      pos += 2;
      return DnsError::none;
    }
    if ((len & 0xC0) != 0) return DnsError::bad_label_type;
    if (len == 0) {
      pos += 1;
      return DnsError::none;
    }
    wire += std::size_t{len} + 1;
    if (wire + 1 > kDnsMaxName) return DnsError::name_too_long;
    pos += 1 + std::size_t{len};
  }
}

DnsError parse_sections(const MessageView& m, DnsMessage& out) noexcept {
  if (const DnsError e = m.need(kDnsHeaderLen, DnsError::truncated_header); e != DnsError::none) {
    return e;
  }
  const std::uint8_t* p = m.p;
  out.id = text::load16(p);
  out.flags = text::load16(p + 2);
  out.qdcount = text::load16(p + 4);
  out.ancount = text::load16(p + 6);
  out.nscount = text::load16(p + 8);
  out.arcount = text::load16(p + 10);
  out.sections |= kDnsHeader;

  // Each question takes at least 5 bytes and each record 11, so both loops end within
  // the message whatever the counts say.
  std::size_t pos = kDnsHeaderLen;
  for (std::uint32_t q = 0; q < out.qdcount; ++q) {
    if (q == 0) {
      std::size_t next = pos;
      if (const DnsError e = read_name(m, pos, out.qname.data(), out.qname_len, next);
          e != DnsError::none) {
        out.qname_len = 0;
        return e;
      }
      pos = next;
    } else if (const DnsError e = skip_name(m, pos, DnsError::truncated_question);
               e != DnsError::none) {
      return e;
    }
    if (const DnsError e = m.need(pos + kQuestionFixed, DnsError::truncated_question);
        e != DnsError::none) {
      return e;
    }
    if (q == 0) {
      out.qtype = text::load16(p + pos);
      out.qclass = text::load16(p + pos + 2);
      out.qname_hash = name_hash_nocase(out.qname_view());
      out.sections |= kDnsQuestion;
    }
    pos += kQuestionFixed;
  }

  for (std::uint32_t a = 0; a < out.ancount; ++a) {
    if (const DnsError e = skip_name(m, pos, DnsError::truncated_answer); e != DnsError::none) {
      return e;
    }
    if (const DnsError e = m.need(pos + kRrFixed, DnsError::truncated_answer);
        e != DnsError::none) {
      return e;
    }
    const std::uint16_t type = text::load16(p + pos);
    const std::uint16_t cls = text::load16(p + pos + 2) & kClassMask;
    const std::uint32_t ttl = text::load32(p + pos + 4);
    const std::size_t rdlen = text::load16(p + pos + 8);
    const std::size_t rdata = pos + kRrFixed;
    const bool address = cls == dns_type::kClassIn && (type == dns_type::kA || type == dns_type::kAaaa);
    if (address) {
      const std::size_t want = type == dns_type::kA ? 4 : 16;
      if (rdlen != want) return DnsError::bad_address_length;
    }
    if (const DnsError e = m.need(rdata + rdlen, DnsError::truncated_answer); e != DnsError::none) {
      return e;
    }
    if (address && out.address_count < kDnsMaxAddresses) {
      DnsAddress& addr = out.addresses[out.address_count++];
      addr.bytes = {};
      std::copy_n(p + rdata, rdlen, addr.bytes.begin());
      addr.ttl = ttl;
      addr.version = type == dns_type::kA ? 4 : 6;
    }
    ++out.answers;
    pos = rdata + rdlen;
  }
  out.sections |= kDnsAnswers;
  return DnsError::none;
}

/// Parses `avail` bytes of a message of `declared` bytes.
void parse_message(const std::uint8_t* p, std::size_t avail, std::size_t declared,
                   DnsMessage& out) noexcept {
  out.sections = 0;
  out.partial = declared > avail;
  out.length = static_cast<std::uint16_t>(std::min<std::size_t>(declared, 0xFFFF));
  out.qname_len = 0;
  out.qname_hash = 0;
  out.answers = 0;
  out.address_count = 0;
  const DnsError e = parse_sections(MessageView{p, avail, declared}, out);
  out.error = e == kStop ? DnsError::none : e;
}

// kPending: a length prefix ended a segment; the message starts with the next one.
enum TcpPhase : std::uint8_t { kLen0 = 0, kLen1, kPending, kBody, kLost };

}  // namespace

DnsError dns_name(Bytes message, std::size_t offset, DnsName& out, std::size_t& next) noexcept {
  const MessageView m{message.data(), message.size(), message.size()};
  next = offset;
  const DnsError e = read_name(m, offset, out.text.data(), out.len, next);
  if (e != DnsError::none) out.len = 0;
  return e;
}

DnsError dns_parse(Bytes message, DnsMessage& out) noexcept {
  parse_message(message.data(), message.size(), message.size(), out);
  return out.error;
}

struct DnsTcpEngine {
  /// A length prefix was read; the message's first bytes are p[0, avail). With none here
  /// yet, the message is parsed when the next segment brings its start.
  static void start_message(DnsTcpStream& st, const std::uint8_t* p, std::size_t avail,
                            std::size_t len, std::span<DnsMessage> out,
                            DnsTcpResult& res) noexcept {
    st.remaining_ = static_cast<std::uint16_t>(len);
    if (avail == 0 && len != 0) {
      st.phase_ = kPending;
      return;
    }
    ++res.messages;
    st.phase_ = len == 0 ? kLen0 : kBody;
    if (res.records >= out.size()) {
      ++res.dropped;
      return;
    }
    DnsMessage& m = out[res.records++];
    if (len < kDnsHeaderLen) {
      m.sections = 0;
      m.partial = false;
      m.length = static_cast<std::uint16_t>(len);
      m.qname_len = 0;
      m.answers = 0;
      m.address_count = 0;
      m.error = DnsError::bad_tcp_length;
    } else {
      parse_message(p, std::min(avail, len), len, m);
    }
    if (m.error != DnsError::none) ++res.errors;
  }

  /// After lost bytes: does the segment start with a length prefix and a query-like header?
  static bool plausible_start(const std::uint8_t* p, std::size_t n) noexcept {
    if (n < 2 + kDnsHeaderLen) return false;
    const std::uint16_t len = text::load16(p);
    const std::uint16_t flags = text::load16(p + 4);
    const std::uint16_t qdcount = text::load16(p + 6);
    return len >= kDnsHeaderLen && ((flags >> 11) & 0xF) == 0 && qdcount == 1;
  }

  static DnsTcpResult parse(DnsTcpStream& st, Bytes segment, std::span<DnsMessage> out) noexcept {
    DnsTcpResult res{};
    const std::uint8_t* p = segment.data();
    const std::size_t n = segment.size();
    if (n == 0) return res;
    if (st.phase_ == kLost) {
      if (!plausible_start(p, n)) return res;
      st.phase_ = kLen0;
    }
    std::size_t i = 0;
    while (i < n) {
      switch (st.phase_) {
        case kLen0:
          if (n - i >= 2) {
            const std::size_t len = text::load16(p + i);
            i += 2;
            start_message(st, p + i, n - i, len, out, res);
          } else {
            st.len_hi_ = p[i++];
            st.phase_ = kLen1;
          }
          break;
        case kLen1: {
          const std::size_t len = static_cast<std::size_t>(st.len_hi_ << 8 | p[i++]);
          start_message(st, p + i, n - i, len, out, res);
          break;
        }
        case kPending:
          start_message(st, p + i, n - i, st.remaining_, out, res);
          break;
        default: {  // kBody
          const std::size_t k = std::min<std::size_t>(st.remaining_, n - i);
          i += k;
          st.remaining_ = static_cast<std::uint16_t>(st.remaining_ - k);
          if (st.remaining_ == 0) st.phase_ = kLen0;
          break;
        }
      }
    }
    return res;
  }

  static void gap(DnsTcpStream& st, std::uint64_t bytes) noexcept {
    if (st.phase_ == kLost) return;
    if ((st.phase_ == kBody || st.phase_ == kPending) && bytes != 0 && bytes <= st.remaining_) {
      st.remaining_ = static_cast<std::uint16_t>(st.remaining_ - bytes);
      st.phase_ = st.remaining_ == 0 ? kLen0 : kBody;  // a message whose start was lost is skipped
      return;
    }
    st.phase_ = kLost;
    st.remaining_ = 0;
  }
};

bool DnsTcpStream::lost() const noexcept { return phase_ == kLost; }

std::uint16_t DnsTcpStream::pending() const noexcept {
  return phase_ == kBody || phase_ == kPending ? remaining_ : 0;
}

DnsTcpResult dns_parse_tcp(DnsTcpStream& stream, Bytes segment,
                           std::span<DnsMessage> out) noexcept {
  return DnsTcpEngine::parse(stream, segment, out);
}

void dns_tcp_gap(DnsTcpStream& stream, std::uint64_t bytes) noexcept {
  DnsTcpEngine::gap(stream, bytes);
}

namespace {
constexpr std::array<std::string_view, kDnsErrorCount + 1> kDnsErrorNames = {
#define NETSCOPE_X(name) std::string_view{#name},
    NETSCOPE_DNS_ERRORS(NETSCOPE_X)
#undef NETSCOPE_X
        std::string_view{"unknown"},
};
}  // namespace

std::string_view to_string(DnsError e) noexcept {
  const auto k = static_cast<std::size_t>(e);
  return k < kDnsErrorCount ? kDnsErrorNames[k] : kDnsErrorNames[kDnsErrorCount];
}

}  // namespace netscope::l7
