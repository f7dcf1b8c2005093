// Cost of the L7 parsers per call (lib/l7): one HTTP request or response head per segment,
// a DNS query and a compressed response, first-payload detection with SNI extraction.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "netscope/l7/detect.hpp"
#include "netscope/l7/dns.hpp"
#include "netscope/l7/http.hpp"

namespace {

namespace l7 = netscope::l7;
using Buf = std::vector<std::uint8_t>;

Buf bytes(std::string_view s) { return Buf(s.begin(), s.end()); }

// What a browser sends for a page (Firefox-like, 419 bytes) and what curl sends (90 bytes).
const Buf kBrowserRequest = bytes(
    "GET /articles/2024/network-analysis.html?ref=home HTTP/1.1\r\n"
    "Host: www.example.test\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=4f2a9c1e7b3d; theme=dark\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "\r\n");
const Buf kCurlRequest =
    bytes("GET /index.html HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n");
// A typical response head with a small body (207 bytes).
const Buf kResponse = bytes(
    "HTTP/1.1 200 OK\r\n"
    "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
    "Server: nginx/1.22.1\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Length: 16\r\n"
    "Cache-Control: max-age=3600\r\n"
    "Connection: keep-alive\r\n"
    "\r\n"
    "<html>hi</html>\n");

void put16(Buf& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

Buf dns_name(std::string_view dotted) {
  Buf b;
  while (!dotted.empty()) {
    const std::size_t dot = dotted.find('.');
    const std::string_view label = dotted.substr(0, dot);
    b.push_back(static_cast<std::uint8_t>(label.size()));
    b.insert(b.end(), label.begin(), label.end());
    dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
  }
  b.push_back(0);
  return b;
}

Buf dns_query() {
  Buf b;
  for (const std::uint32_t v : {0x1234u, 0x0100u, 1u, 0u, 0u, 1u}) put16(b, v);
  const Buf n = dns_name("www.example.test");
  b.insert(b.end(), n.begin(), n.end());
  put16(b, 1);
  put16(b, 1);
  return b;
}

/// www.example.test -> CNAME cdn.example.test -> 2 A + 1 AAAA, compressed: 112 bytes.
Buf dns_response() {
  Buf b;
  for (const std::uint32_t v : {0x1234u, 0x8180u, 1u, 4u, 0u, 0u}) put16(b, v);
  const Buf n = dns_name("www.example.test");
  b.insert(b.end(), n.begin(), n.end());
  put16(b, 1);
  put16(b, 1);
  auto rr = [&](std::uint16_t owner, std::uint16_t type, const Buf& rdata) {
    put16(b, 0xC000u | owner);
    put16(b, type);
    put16(b, 1);
    put16(b, 0);
    put16(b, 300);
    put16(b, static_cast<std::uint32_t>(rdata.size()));
    b.insert(b.end(), rdata.begin(), rdata.end());
  };
  const auto cname_at = static_cast<std::uint16_t>(b.size() + 12);
  rr(12, 5, {3, 'c', 'd', 'n', 0xC0, 16});
  rr(cname_at, 1, {192, 0, 2, 10});
  rr(cname_at, 1, {192, 0, 2, 11});
  rr(cname_at, 28, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10});
  return b;
}

Buf client_hello() {
  Buf body;
  put16(body, 0x0303);
  body.insert(body.end(), 32, 0x11);
  body.push_back(32);
  body.insert(body.end(), 32, 0x22);
  put16(body, 6);
  for (const std::uint32_t cs : {0x1301u, 0x1302u, 0x1303u}) put16(body, cs);
  body.push_back(1);
  body.push_back(0);
  Buf ext;
  auto add = [&](std::uint16_t type, const Buf& data) {
    put16(ext, type);
    put16(ext, static_cast<std::uint32_t>(data.size()));
    ext.insert(ext.end(), data.begin(), data.end());
  };
  add(0x0A0A, {});
  add(0x0017, {});
  add(0x002B, {0x02, 0x03, 0x04});
  add(0x000A, {0x00, 0x02, 0x00, 0x1D});
  Buf ks = {0x00, 0x24, 0x00, 0x1D, 0x00, 0x20};
  ks.insert(ks.end(), 32, 0x55);
  add(0x0033, ks);
  const std::string_view sni = "www.example.test";
  Buf sn;
  put16(sn, static_cast<std::uint32_t>(3 + sni.size()));
  sn.push_back(0);
  put16(sn, static_cast<std::uint32_t>(sni.size()));
  sn.insert(sn.end(), sni.begin(), sni.end());
  add(0x0000, sn);  // after the others, as browsers that shuffle often place it
  put16(body, static_cast<std::uint32_t>(ext.size()));
  body.insert(body.end(), ext.begin(), ext.end());
  Buf b = {0x16, 0x03, 0x01};
  put16(b, static_cast<std::uint32_t>(4 + body.size()));
  b.push_back(1);
  b.push_back(0);
  put16(b, static_cast<std::uint32_t>(body.size()));
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

void per_call(benchmark::State& state, std::size_t bytes_per_call) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes_per_call));
  state.counters["ns_per_parse"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// One request head per call on a connection that keeps going (the state is reused, as in
/// a flow entry; each call completes one message).
void http(benchmark::State& state, const Buf& segment, l7::HttpDirection dir) {
  l7::HttpSession session{};
  std::array<l7::HttpMessage, 4> out{};
  for (auto _ : state) {
    const l7::HttpResult r = l7::http_parse(session, dir, {segment.data(), segment.size()}, out);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(out[0].host_hash);
  }
  if (session.request.failed() || session.response.failed()) state.SkipWithError("parse error");
  per_call(state, segment.size());
}

void BM_HttpBrowserRequest(benchmark::State& s) { http(s, kBrowserRequest, l7::HttpDirection::request); }
void BM_HttpCurlRequest(benchmark::State& s) { http(s, kCurlRequest, l7::HttpDirection::request); }
void BM_HttpResponse(benchmark::State& s) { http(s, kResponse, l7::HttpDirection::response); }

void dns(benchmark::State& state, const Buf& msg) {
  l7::DnsMessage m;
  for (auto _ : state) {
    benchmark::DoNotOptimize(l7::dns_parse({msg.data(), msg.size()}, m));
    benchmark::DoNotOptimize(m.addresses[0]);
  }
  if (m.error != l7::DnsError::none) state.SkipWithError("parse error");
  per_call(state, msg.size());
}

void BM_DnsQuery(benchmark::State& s) { dns(s, dns_query()); }
void BM_DnsResponse(benchmark::State& s) { dns(s, dns_response()); }

void BM_DetectTlsAndSni(benchmark::State& state) {
  const Buf hello = client_hello();
  std::array<char, 256> sni{};
  for (auto _ : state) {
    std::size_t len = 0;
    benchmark::DoNotOptimize(l7::detect({hello.data(), hello.size()}, 51000, 443, 6));
    benchmark::DoNotOptimize(l7::tls_sni({hello.data(), hello.size()}, sni, len));
    benchmark::DoNotOptimize(len);
  }
  per_call(state, hello.size());
}

void BM_DetectHttp(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(l7::detect({kCurlRequest.data(), kCurlRequest.size()}, 51000, 8000, 6));
  }
  per_call(state, kCurlRequest.size());
}

BENCHMARK(BM_HttpBrowserRequest);
BENCHMARK(BM_HttpCurlRequest);
BENCHMARK(BM_HttpResponse);
BENCHMARK(BM_DnsQuery);
BENCHMARK(BM_DnsResponse);
BENCHMARK(BM_DetectTlsAndSni);
BENCHMARK(BM_DetectHttp);

}  // namespace

BENCHMARK_MAIN();
