// Cross-check with Wireshark: HTTP (pipelined, spanning segments, chunked, HEAD) and DNS
// (UDP and TCP, compressed answers, NXDOMAIN) conversations are written to a pcap; the
// fields tshark reads frame by frame must equal what our parsers report for the same
// frames. Payloads reach the parsers through decode_frame, as on the per-packet path.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "frame_view.hpp"
#include "l7_support.hpp"
#include "netscope/decode/packet.hpp"
#include "netscope/l7/dns.hpp"
#include "netscope/l7/http.hpp"

namespace netscope::l7 {
namespace {

using test::Buf;
using test::bytes;
using test::Endpoint;
using test::put16;
using test::put32;
using test::put8;

constexpr std::uint32_t kClient = 0x0A000001;  // 10.0.0.1
constexpr std::uint32_t kServer = 0x0A000002;
constexpr std::uint32_t kResolver = 0x0A000035;

std::vector<Buf> http_frames() {
  std::vector<Buf> f;
  test::TcpConversation c({kClient, 40000}, {kServer, 80});
  c.handshake(f);
  f.push_back(c.from_client(bytes("GET /index.html HTTP/1.1\r\nHost: www.example.test\r\n"
                                  "User-Agent: netscope-test\r\nAccept: */*\r\n\r\n")));
  f.push_back(c.from_server(bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                                  "Content-Type: text/plain\r\n\r\nhello")));
  // Two pipelined requests in one segment; their responses in one segment.
  f.push_back(c.from_client(bytes("GET /a.css HTTP/1.1\r\nHost: www.example.test\r\n\r\n"
                                  "HEAD /b.js?v=2 HTTP/1.1\r\nHost: CDN.example.test\r\n\r\n")));
  f.push_back(c.from_server(bytes("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"
                                  "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")));
  // A request head across two segments, then a chunked response.
  f.push_back(c.from_client(bytes("POST /form HTTP/1.1\r\nHost: www.exa")));
  f.push_back(c.from_client(bytes("mple.test\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc")));
  f.push_back(c.from_server(bytes("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "3\r\nabc\r\n0\r\n\r\n")));
  // A response head across two segments.
  f.push_back(c.from_client(bytes("DELETE /item/7 HTTP/1.1\r\nHost: api.example.test\r\n\r\n")));
  f.push_back(c.from_server(bytes("HTTP/1.1 204 No Con")));
  f.push_back(c.from_server(bytes("tent\r\nServer: test\r\n\r\n")));

  test::TcpConversation d({kClient, 40001}, {kServer, 8080});
  d.handshake(f);
  f.push_back(d.from_client(bytes("OPTIONS * HTTP/1.1\r\nHost: proxy.test:8080\r\n\r\n")));
  f.push_back(d.from_server(bytes("HTTP/1.1 200 OK\r\nAllow: GET\r\nContent-Length: 0\r\n\r\n")));
  return f;
}

Buf dns_name(std::string_view dotted) {
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

Buf dns_message(std::uint16_t id, std::uint16_t flags, std::string_view qname, std::uint16_t qtype,
                const std::vector<std::pair<std::uint16_t, Buf>>& answers) {
  Buf b;
  for (const std::uint32_t v : {std::uint32_t{id}, std::uint32_t{flags}, 1u,
                                static_cast<std::uint32_t>(answers.size()), 0u, 0u}) {
    put16(b, v);
  }
  test::append(b, dns_name(qname));
  put16(b, qtype);
  put16(b, 1);
  for (const auto& [type, rdata] : answers) {
    put16(b, 0xC00C);  // owner: the question name
    put16(b, type);
    put16(b, 1);
    put32(b, 300);
    put16(b, static_cast<std::uint32_t>(rdata.size()));
    test::append(b, rdata);
  }
  return b;
}

Buf framed(const Buf& m) {
  Buf b;
  put16(b, static_cast<std::uint32_t>(m.size()));
  test::append(b, m);
  return b;
}

std::vector<Buf> dns_frames() {
  std::vector<Buf> f;
  const Endpoint client{kClient, 53001}, resolver{kResolver, 53};
  const Buf v6 = {0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
  f.push_back(test::udp_frame(client, resolver, dns_message(0x1001, 0x0100, "www.example.test", 1, {})));
  f.push_back(test::udp_frame(resolver, client,
                              dns_message(0x1001, 0x8180, "www.example.test", 1,
                                          {{5, dns_name("cdn.example.test")},
                                           {1, {192, 0, 2, 10}},
                                           {1, {192, 0, 2, 11}}})));
  f.push_back(test::udp_frame(client, resolver, dns_message(0x1002, 0x0100, "www.example.test", 28, {})));
  f.push_back(test::udp_frame(resolver, client,
                              dns_message(0x1002, 0x8180, "www.example.test", 28, {{28, v6}})));
  f.push_back(test::udp_frame(client, resolver, dns_message(0x1003, 0x0100, "missing.example.test", 15, {})));
  f.push_back(test::udp_frame(resolver, client,
                              dns_message(0x1003, 0x8183, "missing.example.test", 15, {})));
  // DNS over TCP: a query, then the response in two segments, then two queries in one.
  test::TcpConversation t({kClient, 40053}, {kResolver, 53});
  t.handshake(f);
  f.push_back(t.from_client(framed(dns_message(0x2001, 0x0100, "big.example.test", 255, {}))));
  const Buf resp = framed(dns_message(0x2001, 0x8580, "big.example.test", 255,
                                      {{1, {198, 51, 100, 1}}, {1, {198, 51, 100, 2}}, {16, {3, 'a', 'b', 'c'}}}));
  f.push_back(t.from_server(Buf(resp.begin(), resp.begin() + 40)));
  f.push_back(t.from_server(Buf(resp.begin() + 40, resp.end())));
  Buf two = framed(dns_message(0x2002, 0x0100, "one.example.test", 1, {}));
  test::append(two, framed(dns_message(0x2003, 0x0100, "two.example.test", 6, {})));
  f.push_back(t.from_client(two));
  return f;
}

TEST(Tshark, HttpFieldsAgree) {
  // 6 requests (method, host, URI) and 6 responses.
  EXPECT_EQ(test::compare_with_tshark(http_frames(), {80, 8080}, "http"), 6u * 3 + 6);
}

TEST(Tshark, DnsFieldsAgree) {
  // 10 messages: id, QR, name, type, answer count; 4 responses: rcode; 3 addresses over
  // UDP. The TCP response split across segments has its answers in the second segment,
  // which the parser does not buffer: its 2 addresses are not compared.
  EXPECT_EQ(test::compare_with_tshark(dns_frames(), {53}, "dns"), 10u * 5 + 4 + 3);
}

}  // namespace
}  // namespace netscope::l7
