// DNS parser: queries and responses written byte by byte (RFC 1035 4.1), compression
// pointers (chains, loops, forward pointers, too many hops), name bounds, every
// truncation point, TCP framing at every split, lost bytes, random bytes.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "l7_support.hpp"
#include "netscope/l7/dns.hpp"

namespace netscope::l7 {
namespace {

using test::Buf;
using test::put16;
using test::put32;
using test::put8;
using test::span;

Buf header(std::uint16_t id, std::uint16_t flags, std::uint16_t qd, std::uint16_t an,
           std::uint16_t ns = 0, std::uint16_t ar = 0) {
  Buf b;
  for (const std::uint16_t v : {id, flags, qd, an, ns, ar}) put16(b, v);
  return b;
}

/// Uncompressed wire name ("" is the root).
Buf name(std::string_view dotted) {
  Buf b;
  while (!dotted.empty()) {
    const std::size_t dot = dotted.find('.');
    const std::string_view label = dotted.substr(0, dot);
    put8(b, static_cast<std::uint32_t>(label.size()));
    test::append(b, label);
    dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
  }
  put8(b, 0);
  return b;
}

Buf labels_then_pointer(std::string_view dotted, std::uint16_t target) {
  Buf b = name(dotted);
  b.pop_back();
  put16(b, 0xC000u | target);
  return b;
}

Buf pointer(std::uint16_t target) {
  Buf b;
  put16(b, 0xC000u | target);
  return b;
}

Buf rr(const Buf& owner, std::uint16_t type, std::uint32_t ttl, const Buf& rdata,
       std::uint16_t cls = dns_type::kClassIn) {
  Buf b = owner;
  put16(b, type);
  put16(b, cls);
  put32(b, ttl);
  put16(b, static_cast<std::uint32_t>(rdata.size()));
  test::append(b, rdata);
  return b;
}

constexpr std::uint16_t kQuery = 0x0100;       // RD
constexpr std::uint16_t kResponse = 0x8180;    // QR RD RA
constexpr std::uint16_t kNxDomain = 0x8183;

Buf query(std::uint16_t id, std::string_view qname, std::uint16_t qtype) {
  Buf b = header(id, kQuery, 1, 0);
  test::append(b, name(qname));
  put16(b, qtype);
  put16(b, dns_type::kClassIn);
  return b;
}

/// www.example.test: CNAME cdn.example.test, A x2, AAAA; names compressed as a real server
/// writes them. Offsets: question name at 12, "example.test" at 16.
struct Response {
  Buf bytes;
  std::size_t question_end = 0;  ///< after the question name
  std::size_t cname_rdata = 0;   ///< offset of the CNAME target
  std::size_t second_owner = 0;  ///< offset of the first A record's owner (a pointer)
};

Response response() {
  Response r;
  Buf& b = r.bytes;
  b = header(0xBEEF, kResponse, 1, 4);
  test::append(b, name("www.example.test"));
  r.question_end = b.size();
  put16(b, dns_type::kA);
  put16(b, dns_type::kClassIn);
  // CNAME: owner -> question name; target "cdn" + pointer to "example.test".
  Buf target = labels_then_pointer("cdn", 16);
  r.cname_rdata = b.size() + 2 + 10;
  test::append(b, rr(pointer(12), dns_type::kCname, 300, target));
  // A records owned by the CNAME target (a pointer to a name that ends in a pointer).
  r.second_owner = b.size();
  test::append(b, rr(pointer(static_cast<std::uint16_t>(r.cname_rdata)), dns_type::kA, 60, {192, 0, 2, 10}));
  test::append(b, rr(pointer(static_cast<std::uint16_t>(r.cname_rdata)), dns_type::kA, 61, {192, 0, 2, 11}));
  Buf v6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
  test::append(b, rr(pointer(static_cast<std::uint16_t>(r.cname_rdata)), dns_type::kAaaa, 62, v6));
  return r;
}

TEST(Dns, Query) {
  const Buf q = query(0x1234, "www.Example.test", dns_type::kAaaa);
  DnsMessage m;
  ASSERT_EQ(dns_parse(span(q), m), DnsError::none);
  EXPECT_EQ(m.sections, kDnsHeader | kDnsQuestion | kDnsAnswers);
  EXPECT_EQ(m.id, 0x1234);
  EXPECT_FALSE(m.is_response());
  EXPECT_TRUE(m.rd());
  EXPECT_EQ(m.opcode(), 0);
  EXPECT_EQ(m.qdcount, 1);
  EXPECT_EQ(m.ancount, 0);
  EXPECT_EQ(m.qname_view(), "www.Example.test");
  EXPECT_EQ(m.qname_hash, name_hash_nocase("www.example.test"));
  EXPECT_EQ(m.qtype, dns_type::kAaaa);
  EXPECT_EQ(m.qclass, dns_type::kClassIn);
  EXPECT_EQ(m.length, q.size());
  EXPECT_FALSE(m.partial);
}

TEST(Dns, ResponseWithCompressedAnswers) {
  const Response r = response();
  DnsMessage m;
  ASSERT_EQ(dns_parse(span(r.bytes), m), DnsError::none);
  EXPECT_TRUE(m.is_response());
  EXPECT_TRUE(m.ra());
  EXPECT_EQ(m.rcode(), dns_rcode::kNoError);
  EXPECT_EQ(m.id, 0xBEEF);
  EXPECT_EQ(m.qname_view(), "www.example.test");
  EXPECT_EQ(m.answers, 4);
  ASSERT_EQ(m.address_count, 3);
  EXPECT_EQ(m.addresses[0].version, 4);
  EXPECT_EQ(m.addresses[0].bytes[3], 10);
  EXPECT_EQ(m.addresses[0].ttl, 60u);
  EXPECT_EQ(m.addresses[1].bytes[3], 11);
  EXPECT_EQ(m.addresses[2].version, 6);
  EXPECT_EQ(m.addresses[2].bytes[0], 0x20);
  EXPECT_EQ(m.addresses[2].bytes[15], 0x10);
  EXPECT_EQ(m.addresses[2].ttl, 62u);

  // The names in the answers decompress through one and two pointers.
  DnsName n;
  std::size_t next = 0;
  ASSERT_EQ(dns_name(span(r.bytes), r.cname_rdata, n, next), DnsError::none);
  EXPECT_EQ(n.view(), "cdn.example.test");
  EXPECT_EQ(next, r.cname_rdata + 6);
  ASSERT_EQ(dns_name(span(r.bytes), r.second_owner, n, next), DnsError::none);
  EXPECT_EQ(n.view(), "cdn.example.test");
  EXPECT_EQ(next, r.second_owner + 2);
}

TEST(Dns, MoreAddressesThanKeptAndOtherRecords) {
  Buf b = header(7, kResponse, 1, 8);
  test::append(b, name("many.test"));
  put16(b, dns_type::kA);
  put16(b, dns_type::kClassIn);
  test::append(b, rr(pointer(12), dns_type::kTxt, 5, {3, 'a', 'b', 'c'}));
  for (std::uint8_t k = 1; k <= 6; ++k) test::append(b, rr(pointer(12), dns_type::kA, k, {10, 0, 0, k}));
  test::append(b, rr(pointer(12), dns_type::kA, 9, {10, 0, 0, 99}, 3));  // class CH: not an address
  DnsMessage m;
  ASSERT_EQ(dns_parse(span(b), m), DnsError::none);
  EXPECT_EQ(m.answers, 8);
  ASSERT_EQ(m.address_count, kDnsMaxAddresses);
  for (std::size_t k = 0; k < kDnsMaxAddresses; ++k) {
    EXPECT_EQ(m.addresses[k].bytes[3], k + 1);
  }
}

TEST(Dns, NxDomainAndMdnsClassBit) {
  Buf b = header(9, kNxDomain, 1, 0, 1);
  test::append(b, name("missing.test"));
  put16(b, dns_type::kA);
  put16(b, dns_type::kClassIn);
  test::append(b, rr(pointer(20), dns_type::kSoa, 3600, Buf(22, 0)));  // authority: not walked
  DnsMessage m;
  ASSERT_EQ(dns_parse(span(b), m), DnsError::none);
  EXPECT_EQ(m.rcode(), dns_rcode::kNxDomain);
  EXPECT_EQ(m.nscount, 1);
  EXPECT_EQ(m.address_count, 0);

  Buf md = header(0, 0x8400, 0, 1);
  test::append(md, rr(name("printer.local"), dns_type::kA, 120, {169, 254, 1, 2}, 0x8001));
  ASSERT_EQ(dns_parse(span(md), m), DnsError::none);
  EXPECT_FALSE(m.has(kDnsQuestion));
  EXPECT_EQ(m.qname_len, 0);
  ASSERT_EQ(m.address_count, 1);
  EXPECT_EQ(m.addresses[0].bytes[0], 169);
}

TEST(Dns, PointerLoopsAreRejected) {
  // Question name is a pointer to itself.
  Buf self = header(1, kQuery, 1, 0);
  test::append(self, pointer(12));
  put32(self, 0x00010001);
  DnsMessage m;
  EXPECT_EQ(dns_parse(span(self), m), DnsError::bad_pointer);
  EXPECT_TRUE(m.has(kDnsHeader));
  EXPECT_FALSE(m.has(kDnsQuestion));

  // Two names pointing at each other (A at 12 -> B at 14 -> A): whichever one is read,
  // the loop needs a pointer that does not go backwards.
  Buf pair = header(1, kResponse, 0, 0);
  test::append(pair, pointer(14));
  test::append(pair, pointer(12));
  DnsName n;
  std::size_t next = 0;
  EXPECT_EQ(dns_name(span(pair), 12, n, next), DnsError::bad_pointer);
  EXPECT_EQ(dns_name(span(pair), 14, n, next), DnsError::bad_pointer);

  // A label then a pointer back to that label: "a.a.a...." forever.
  Buf lab = header(1, kResponse, 0, 0);
  test::append(lab, labels_then_pointer("a", 12));
  EXPECT_EQ(dns_name(span(lab), 12, n, next), DnsError::bad_pointer);

  // A pointer into the middle of its own run of labels.
  Buf mid = header(1, kResponse, 0, 0);
  test::append(mid, labels_then_pointer("ab.cd", 15));
  EXPECT_EQ(dns_name(span(mid), 12, n, next), DnsError::bad_pointer);

  // Pointers into the header and forward pointers.
  Buf into_header = header(1, kResponse, 0, 0);
  test::append(into_header, pointer(4));
  EXPECT_EQ(dns_name(span(into_header), 12, n, next), DnsError::bad_pointer);
  Buf forward = header(1, kResponse, 0, 0);
  test::append(forward, pointer(16));
  test::append(forward, Buf{0, 0});
  test::append(forward, name("x"));
  EXPECT_EQ(dns_name(span(forward), 12, n, next), DnsError::bad_pointer);

  // In an answer owner too.
  Buf ans = header(1, kResponse, 0, 1);
  const std::size_t owner = ans.size();
  test::append(ans, rr(pointer(static_cast<std::uint16_t>(owner)), dns_type::kA, 1, {1, 2, 3, 4}));
  EXPECT_EQ(dns_parse(span(ans), m), DnsError::bad_pointer);
}

TEST(Dns, PointerHopsAreBounded) {
  // "a" at 12, then a chain of pointers each pointing at the previous one.
  Buf b = header(1, kResponse, 0, 0);
  test::append(b, name("a"));
  std::vector<std::size_t> at = {12};
  for (std::size_t k = 0; k < kDnsMaxPointerHops + 1; ++k) {
    at.push_back(b.size());
    test::append(b, pointer(static_cast<std::uint16_t>(at[at.size() - 2])));
  }
  DnsName n;
  std::size_t next = 0;
  ASSERT_EQ(dns_name(span(b), at[kDnsMaxPointerHops], n, next), DnsError::none);
  EXPECT_EQ(n.view(), "a");
  EXPECT_EQ(next, at[kDnsMaxPointerHops] + 2);
  EXPECT_EQ(dns_name(span(b), at[kDnsMaxPointerHops + 1], n, next), DnsError::too_many_pointers);
}

TEST(Dns, NameLengthBound) {
  const std::string l63(63, 'x');
  const std::string longest = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'y');  // 255 on the wire
  ASSERT_EQ(longest.size(), 253u);
  Buf ok = header(1, kQuery, 1, 0);
  test::append(ok, name(longest));
  put32(ok, 0x00010001);
  DnsMessage m;
  ASSERT_EQ(dns_parse(span(ok), m), DnsError::none);
  EXPECT_EQ(m.qname_view(), longest);

  Buf too_long = header(1, kQuery, 1, 0);
  test::append(too_long, name(longest + "z"));
  put32(too_long, 0x00010001);
  EXPECT_EQ(dns_parse(span(too_long), m), DnsError::name_too_long);

  // Through pointers: a long suffix reached from a long prefix.
  Buf via = header(1, kResponse, 0, 0);
  test::append(via, name(l63 + "." + l63 + "." + l63));
  const std::size_t second = via.size();
  test::append(via, labels_then_pointer(l63, 12));
  DnsName n;
  std::size_t next = 0;
  EXPECT_EQ(dns_name(span(via), second, n, next), DnsError::name_too_long);
}

TEST(Dns, LabelTypes) {
  for (const std::uint8_t bad : {0x40, 0x80, 0x7F, 0xBF}) {
    Buf b = header(1, kQuery, 1, 0);
    put8(b, bad);
    put8(b, 0);
    put32(b, 0x00010001);
    DnsMessage m;
    EXPECT_EQ(dns_parse(span(b), m), DnsError::bad_label_type) << int{bad};
  }
  Buf root = header(1, kQuery, 1, 0);
  test::append(root, name(""));
  put16(root, dns_type::kNs);
  put16(root, dns_type::kClassIn);
  DnsMessage m;
  ASSERT_EQ(dns_parse(span(root), m), DnsError::none);
  EXPECT_EQ(m.qname_view(), "");
  EXPECT_EQ(m.qtype, dns_type::kNs);
}

TEST(Dns, AddressLengthMustMatchType) {
  Buf b = header(1, kResponse, 0, 1);
  test::append(b, rr(name("a.test"), dns_type::kA, 1, {1, 2, 3}));
  DnsMessage m;
  EXPECT_EQ(dns_parse(span(b), m), DnsError::bad_address_length);
  Buf c = header(1, kResponse, 0, 1);
  test::append(c, rr(name("a.test"), dns_type::kAaaa, 1, {1, 2, 3, 4}));
  EXPECT_EQ(dns_parse(span(c), m), DnsError::bad_address_length);
}

TEST(Dns, EveryTruncationPoint) {
  const Response r = response();
  const std::size_t q_fixed_end = r.question_end + 4;
  for (std::size_t len = 0; len <= r.bytes.size(); ++len) {
    // An exactly-sized copy, so that ASan sees a read past the cut.
    const Buf cut(r.bytes.begin(), r.bytes.begin() + static_cast<std::ptrdiff_t>(len));
    DnsMessage m;
    const DnsError e = dns_parse(span(cut), m);
    DnsError want = DnsError::none;
    if (len < kDnsHeaderLen) {
      want = DnsError::truncated_header;
    } else if (len < r.question_end) {
      want = DnsError::truncated_name;
    } else if (len < q_fixed_end) {
      want = DnsError::truncated_question;
    } else if (len < r.bytes.size()) {
      want = DnsError::truncated_answer;
    }
    ASSERT_EQ(e, want) << "cut at " << len << ": " << to_string(e);
    EXPECT_EQ(m.has(kDnsHeader), len >= kDnsHeaderLen);
    EXPECT_EQ(m.has(kDnsQuestion), len >= q_fixed_end);
    EXPECT_EQ(m.has(kDnsAnswers), len == r.bytes.size());
    EXPECT_LE(m.address_count, kDnsMaxAddresses);
    if (m.has(kDnsQuestion)) {
      EXPECT_EQ(m.qname_view(), "www.example.test");
    }
  }
}

// -------------------------------------------------------------------------------------
// TCP

Buf framed(const Buf& msg) {
  Buf b;
  put16(b, static_cast<std::uint32_t>(msg.size()));
  test::append(b, msg);
  return b;
}

struct TcpFeed {
  std::vector<DnsMessage> records;
  std::size_t messages = 0;
};

TcpFeed feed_tcp(DnsTcpStream& st, const std::vector<Buf>& segments) {
  TcpFeed f;
  std::array<DnsMessage, 4> out{};
  for (const Buf& seg : segments) {
    const DnsTcpResult r = dns_parse_tcp(st, span(seg), out);
    EXPECT_LE(r.records, out.size());
    f.messages += r.messages;
    for (std::size_t k = 0; k < r.records; ++k) f.records.push_back(out[k]);
  }
  return f;
}

TEST(DnsTcp, StateIsSmall) {
  EXPECT_EQ(sizeof(DnsTcpStream), 4u);
  EXPECT_TRUE(std::is_trivially_copyable_v<DnsTcpStream>);
}

TEST(DnsTcp, TwoMessagesInOneSegment) {
  const Buf q = query(0x0102, "a.test", dns_type::kA);
  const Response r = response();
  Buf stream = framed(q);
  test::append(stream, framed(r.bytes));
  DnsTcpStream st{};
  const TcpFeed f = feed_tcp(st, {stream});
  ASSERT_EQ(f.records.size(), 2u);
  EXPECT_EQ(f.records[0].id, 0x0102);
  EXPECT_EQ(f.records[0].qname_view(), "a.test");
  EXPECT_EQ(f.records[1].id, 0xBEEF);
  EXPECT_EQ(f.records[1].address_count, 3);
  for (const DnsMessage& m : f.records) {
    EXPECT_EQ(m.error, DnsError::none);
    EXPECT_FALSE(m.partial);
  }
}

TEST(DnsTcp, EverySplitOfAStream) {
  const Buf q = query(0x0102, "a.test", dns_type::kA);
  const Response r = response();
  const Buf m1 = framed(q);
  Buf stream = m1;
  test::append(stream, framed(r.bytes));
  DnsMessage whole1, whole2;
  dns_parse(span(q), whole1);
  dns_parse(span(r.bytes), whole2);
  for (std::size_t at = 0; at <= stream.size(); ++at) {
    const Buf a(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(at));
    const Buf b(stream.begin() + static_cast<std::ptrdiff_t>(at), stream.end());
    DnsTcpStream st{};
    const TcpFeed f = feed_tcp(st, {a, b});
    ASSERT_EQ(f.records.size(), 2u) << at;
    const DnsMessage* want[2] = {&whole1, &whole2};
    const std::size_t starts[2] = {2, m1.size() + 2};
    const std::size_t ends[2] = {m1.size(), stream.size()};
    for (int k = 0; k < 2; ++k) {
      const DnsMessage& got = f.records[static_cast<std::size_t>(k)];
      const bool split_inside = at > starts[k] && at < ends[k];
      EXPECT_EQ(got.partial, split_inside) << at;
      EXPECT_EQ(got.error, DnsError::none) << at << " " << to_string(got.error);
      EXPECT_EQ(got.length, want[k]->length);
      if (!split_inside) {
        EXPECT_EQ(got.sections, want[k]->sections) << at;
        EXPECT_EQ(got.address_count, want[k]->address_count) << at;
      } else {
        EXPECT_EQ(got.sections & ~want[k]->sections, 0) << at;
      }
      if (got.has(kDnsHeader)) {
        EXPECT_EQ(got.id, want[k]->id);
      }
      if (got.has(kDnsQuestion)) {
        EXPECT_EQ(got.qname_view(), want[k]->qname_view());
      }
    }
  }
  // One byte at a time: the length prefixes straddle segments.
  std::vector<Buf> bytes;
  for (const std::uint8_t c : stream) bytes.push_back({c});
  DnsTcpStream st{};
  const TcpFeed f = feed_tcp(st, bytes);
  ASSERT_EQ(f.records.size(), 2u);
  EXPECT_TRUE(f.records[0].partial);
  EXPECT_FALSE(f.records[0].has(kDnsHeader));
}

TEST(DnsTcp, ShortLengthAndLostBytes) {
  DnsTcpStream st{};
  Buf b;
  put16(b, 4);
  test::append(b, Buf{1, 2, 3, 4});
  test::append(b, framed(query(5, "b.test", dns_type::kA)));
  TcpFeed f = feed_tcp(st, {b});
  ASSERT_EQ(f.records.size(), 2u);
  EXPECT_EQ(f.records[0].error, DnsError::bad_tcp_length);
  EXPECT_EQ(f.records[1].error, DnsError::none);
  EXPECT_EQ(f.records[1].id, 5);

  // A gap inside a message of known length keeps the stream in step.
  const Response r = response();
  const Buf fr = framed(r.bytes);
  DnsTcpStream g{};
  feed_tcp(g, {Buf(fr.begin(), fr.begin() + 20)});
  dns_tcp_gap(g, 30);
  f = feed_tcp(g, {Buf(fr.begin() + 50, fr.end()), framed(query(6, "c.test", dns_type::kA))});
  ASSERT_EQ(f.records.size(), 1u);
  EXPECT_EQ(f.records[0].id, 6);
  EXPECT_FALSE(g.lost());

  // A gap of unknown size: wait for a plausible message start.
  dns_tcp_gap(g, 0);
  EXPECT_TRUE(g.lost());
  f = feed_tcp(g, {Buf(fr.begin() + 7, fr.end())});
  EXPECT_TRUE(f.records.empty());
  f = feed_tcp(g, {framed(query(8, "d.test", dns_type::kA))});
  ASSERT_EQ(f.records.size(), 1u);
  EXPECT_EQ(f.records[0].qname_view(), "d.test");
}

TEST(DnsTcp, FullOutputCountsDropped) {
  Buf stream;
  for (std::uint16_t id = 0; id < 5; ++id) test::append(stream, framed(query(id, "e.test", dns_type::kA)));
  DnsTcpStream st{};
  std::array<DnsMessage, 2> out{};
  const DnsTcpResult r = dns_parse_tcp(st, span(stream), out);
  EXPECT_EQ(r.messages, 5);
  EXPECT_EQ(r.records, 2);
  EXPECT_EQ(r.dropped, 3);
  EXPECT_EQ(out[1].id, 1);
}

TEST(Dns, RandomBytes) {
  std::mt19937 rng(3);
  const Response r = response();
  std::array<DnsMessage, 3> out{};
  for (int n = 0; n < 50000; ++n) {
    Buf b;
    if (n % 2 == 0) {
      b.resize(rng() % 80);
      for (auto& c : b) c = static_cast<std::uint8_t>(rng());
    } else {
      // Mutations of a real response hit the pointer and length paths.
      b = r.bytes;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
      b.resize(rng() % (b.size() + 1));
    }
    DnsMessage m;
    const DnsError e = dns_parse(span(b), m);
    ASSERT_LT(static_cast<std::size_t>(e), kDnsErrorCount);
    ASSERT_LE(m.qname_len, kDnsMaxName - 2);
    ASSERT_LE(m.address_count, kDnsMaxAddresses);
    if (m.has(kDnsQuestion)) {
      ASSERT_EQ(m.qname_hash, name_hash_nocase(m.qname_view()));
    }
    DnsName nm;
    std::size_t next = 0;
    if (dns_name(span(b), rng() % (b.size() + 2), nm, next) == DnsError::none) {
      ASSERT_LE(next, b.size());
    }
    DnsTcpStream st{};
    const DnsTcpResult t = dns_parse_tcp(st, span(b), out);
    ASSERT_LE(t.records, out.size());
  }
}

TEST(Dns, EveryErrorHasAName) {
  for (std::size_t k = 0; k < kDnsErrorCount; ++k) {
    EXPECT_FALSE(to_string(static_cast<DnsError>(k)).empty());
  }
  EXPECT_EQ(to_string(DnsError::bad_pointer), "bad_pointer");
}

}  // namespace
}  // namespace netscope::l7
