// HTTP/1.1 head parser: fields, framing, pairing, pipelining, every typed error, every
// segmentation of a transcript giving the same answer, every prefix being valid, random
// bytes, lost bytes, and a request written by curl itself.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "l7_support.hpp"
#include "netscope/l7/detect.hpp"
#include "netscope/l7/dns.hpp"
#include "netscope/l7/http.hpp"

namespace netscope::l7 {
namespace {

using test::Buf;
using test::bytes;
using test::span;
namespace hf = http_flag;

constexpr auto kReq = HttpDirection::request;
constexpr auto kResp = HttpDirection::response;

/// A completed head with the text of all its records joined.
struct Head {
  HttpMessage m;
  std::string host;
  std::string uri;
};

struct Feed {
  std::vector<Head> heads;
  std::vector<HttpMessage> records;
  HttpError error = HttpError::none;
  std::size_t error_segment = 0;
  std::uint32_t error_offset = 0;
  std::size_t pipelined = 0;
};

/// Feeds segments in order, checking the per-call invariants.
Feed feed(HttpSession& s, HttpDirection d, const std::vector<Buf>& segments) {
  Feed f;
  std::string host, uri;
  std::array<HttpMessage, 8> out{};
  for (std::size_t k = 0; k < segments.size(); ++k) {
    const Buf& seg = segments[k];
    const HttpResult r = http_parse(s, d, span(seg), out);
    EXPECT_LE(r.records, out.size());
    EXPECT_EQ(r.dropped, 0);
    f.pipelined += r.pipelined;
    if (!r.ok() && f.error == HttpError::none) {
      f.error = r.error;
      f.error_segment = k;
      f.error_offset = r.error_offset;
      EXPECT_LT(r.error_offset, seg.size());
    }
    std::size_t completed = 0;
    for (std::size_t j = 0; j < r.records; ++j) {
      const HttpMessage& m = out[j];
      f.records.push_back(m);
      EXPECT_LE(m.offset, m.end);
      EXPECT_LE(m.end, seg.size());
      EXPECT_LE(m.host_len, kHttpHostCopy);
      EXPECT_LE(m.uri_len, kHttpUriCopy);
      EXPECT_EQ(m.has(hf::kRequest), d == kReq);
      if (m.has(hf::kHeadStart)) {
        host.clear();
        uri.clear();
      } else {
        EXPECT_EQ(m.offset, 0u);
      }
      host += m.host_view();
      uri += m.uri_view();
      if (m.has(hf::kComplete)) {
        ++completed;
        f.heads.push_back({m, host, uri});
        host.clear();
        uri.clear();
      } else {
        EXPECT_EQ(j + 1, r.records) << "only the last record of a call may be open";
      }
    }
    EXPECT_EQ(completed, r.heads);
  }
  return f;
}

Feed feed_one(HttpSession& s, HttpDirection d, std::string_view text) {
  return feed(s, d, {bytes(text)});
}

/// Splits `b` at the given offsets.
std::vector<Buf> cut(const Buf& b, std::vector<std::size_t> at) {
  std::vector<Buf> parts;
  std::size_t prev = 0;
  at.push_back(b.size());
  for (const std::size_t a : at) {
    parts.emplace_back(b.begin() + static_cast<std::ptrdiff_t>(prev),
                       b.begin() + static_cast<std::ptrdiff_t>(a));
    prev = a;
  }
  return parts;
}

/// The per-flow layout docs/l7.md suggests: the states share a union in the flow entry.
struct FlowL7 {
  AppProtocol app = AppProtocol::unknown;
  union {
    HttpSession http;
    DnsTcpStream dns_tcp[2];
  };
};
static_assert(sizeof(FlowL7) == 72);

TEST(Http, StateIsSmallAndTrivial) {
  EXPECT_EQ(sizeof(HttpParser), 32u);
  EXPECT_EQ(sizeof(HttpSession), 64u);
  EXPECT_TRUE(std::is_trivial_v<HttpSession>);
  EXPECT_TRUE(std::is_trivial_v<DnsTcpStream>);
  FlowL7 flow{};
  EXPECT_EQ(flow.http.request.messages(), 0u);
  HttpSession zero;  // garbage, then zero-filled as a flow table would
  std::memset(static_cast<void*>(&zero), 0xA5, sizeof zero);
  std::memset(static_cast<void*>(&zero), 0, sizeof zero);
  const Feed f = feed_one(zero, kReq, "GET / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(f.heads.size(), 1u);
  EXPECT_EQ(f.heads[0].m.method, HttpMethod::get);
}

TEST(Http, SimpleRequest) {
  HttpSession s{};
  const std::string text =
      "GET /index.html?q=1 HTTP/1.1\r\nHost: Example.Test\r\nUser-Agent: curl/7.88.1\r\n"
      "Accept: */*\r\n\r\n";
  std::array<HttpMessage, 4> out{};
  const Buf b = bytes(text);
  const HttpResult r = http_parse(s, kReq, span(b), out);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  ASSERT_EQ(r.records, 1);
  EXPECT_EQ(r.heads, 1);
  const HttpMessage& m = out[0];
  EXPECT_EQ(m.method, HttpMethod::get);
  EXPECT_EQ(to_string(m.method), "GET");
  EXPECT_EQ(m.host_view(), "Example.Test");
  EXPECT_EQ(m.uri_view(), "/index.html?q=1");
  EXPECT_EQ(m.host_hash, name_hash_nocase("example.test"));
  EXPECT_EQ(m.uri_hash, name_hash("/index.html?q=1"));
  EXPECT_EQ(m.flags, hf::kRequest | hf::kHeadStart | hf::kComplete | hf::kHasHost);
  EXPECT_EQ(m.index, 0u);
  EXPECT_EQ(m.offset, 0u);
  EXPECT_EQ(m.end, b.size());
  EXPECT_EQ(s.request.messages(), 1u);
  EXPECT_FALSE(s.request.failed());
}

TEST(Http, ResponsesWithBodies) {
  HttpSession s{};
  const Feed f = feed_one(s, kResp,
                          "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n"
                          "hello"
                          "HTTP/1.1 404 Not Found\r\ncontent-length:0\r\n\r\n"
                          "HTTP/1.1 500 Internal Server Error\r\nContent-Length:   12  \r\n\r\nserver error"
                          "HTTP/1.1 302\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(f.error, HttpError::none) << to_string(f.error);
  ASSERT_EQ(f.heads.size(), 4u);
  EXPECT_EQ(f.heads[0].m.status, 200);
  EXPECT_EQ(f.heads[0].m.content_length, 5u);
  EXPECT_TRUE(f.heads[0].m.has(hf::kHasContentLength));
  EXPECT_EQ(f.heads[1].m.status, 404);
  EXPECT_EQ(f.heads[1].m.content_length, 0u);
  EXPECT_EQ(f.heads[2].m.status, 500);
  EXPECT_EQ(f.heads[2].m.content_length, 12u);
  EXPECT_EQ(f.heads[3].m.status, 302);  // no reason phrase
  for (std::uint32_t k = 0; k < 4; ++k) {
    EXPECT_EQ(f.heads[k].m.index, k);
    EXPECT_EQ(f.heads[k].m.method, HttpMethod::none);
    EXPECT_FALSE(f.heads[k].m.has(hf::kRequest));
  }
  EXPECT_EQ(s.response.messages(), 4u);
}

TEST(Http, PipelinedRequestsAndPairing) {
  HttpSession s{};
  // Three requests in one segment before any response.
  const Feed req = feed_one(s, kReq,
                            "GET /1 HTTP/1.1\r\nHost: a.test\r\n\r\n"
                            "HEAD /2 HTTP/1.1\r\nHost: a.test\r\n\r\n"
                            "POST /3 HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4\r\n\r\nbody");
  ASSERT_EQ(req.error, HttpError::none);
  ASSERT_EQ(req.heads.size(), 3u);
  EXPECT_EQ(req.pipelined, 2u);
  EXPECT_FALSE(req.heads[0].m.has(hf::kPipelined));
  EXPECT_TRUE(req.heads[1].m.has(hf::kPipelined));
  EXPECT_TRUE(req.heads[2].m.has(hf::kPipelined));
  EXPECT_EQ(req.heads[1].m.method, HttpMethod::head);
  EXPECT_EQ(req.heads[2].m.method, HttpMethod::post);
  EXPECT_EQ(req.heads[2].m.content_length, 4u);
  // The response to HEAD announces a length but carries no body: the next response
  // follows immediately.
  const Feed resp = feed_one(s, kResp,
                             "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
                             "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
                             "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(resp.error, HttpError::none) << to_string(resp.error);
  ASSERT_EQ(resp.heads.size(), 3u);
  for (std::uint32_t k = 0; k < 3; ++k) {
    EXPECT_EQ(resp.heads[k].m.index, req.heads[k].m.index);
  }
  EXPECT_FALSE(resp.heads[0].m.has(hf::kNoBody));
  EXPECT_TRUE(resp.heads[1].m.has(hf::kNoBody));
  EXPECT_EQ(resp.heads[2].m.status, 201);
  // A request after all responses is not pipelined.
  const Feed next = feed_one(s, kReq, "GET /4 HTTP/1.1\r\nHost: a.test\r\n\r\n");
  ASSERT_EQ(next.heads.size(), 1u);
  EXPECT_EQ(next.heads[0].m.index, 3u);
  EXPECT_FALSE(next.heads[0].m.has(hf::kPipelined));
}

TEST(Http, ChunkedBodiesAndTrailers) {
  HttpSession s{};
  const Feed f = feed_one(s, kResp,
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5\r\nhello\r\n6;name=value\r\n world\r\n"
                          "A \r\n0123456789\r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n"
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
                          "0000\r\n\r\n"
                          "HTTP/1.1 304 Not Modified\r\n\r\n");
  ASSERT_EQ(f.error, HttpError::none) << to_string(f.error) << " at " << f.error_offset;
  ASSERT_EQ(f.heads.size(), 3u);
  EXPECT_TRUE(f.heads[0].m.has(hf::kChunked));
  EXPECT_TRUE(f.heads[1].m.has(hf::kChunked));
  EXPECT_FALSE(f.heads[1].m.has(hf::kHasContentLength));
  EXPECT_TRUE(f.heads[2].m.has(hf::kNoBody));
  EXPECT_EQ(s.response.messages(), 3u);
}

TEST(Http, ChunkedRequestAndFramingConflict) {
  HttpSession s{};
  const Feed f = feed_one(s, kReq,
                          "POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                          "GET /after HTTP/1.1\r\n\r\n");
  ASSERT_EQ(f.error, HttpError::none) << to_string(f.error);
  ASSERT_EQ(f.heads.size(), 2u);
  EXPECT_TRUE(f.heads[0].m.has(hf::kFramingConflict));
  EXPECT_TRUE(f.heads[0].m.has(hf::kChunked));
  EXPECT_EQ(f.heads[1].uri, "/after");
}

TEST(Http, InterimResponses) {
  HttpSession s{};
  feed_one(s, kReq, "POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok");
  const Feed f = feed_one(s, kResp,
                          "HTTP/1.1 100 Continue\r\n\r\n"
                          "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
                          "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(f.heads.size(), 3u);
  EXPECT_TRUE(f.heads[0].m.has(hf::kInterim));
  EXPECT_TRUE(f.heads[1].m.has(hf::kInterim));
  EXPECT_FALSE(f.heads[2].m.has(hf::kInterim));
  for (const Head& h : f.heads) {
    EXPECT_EQ(h.m.index, 0u);
  }
  EXPECT_EQ(s.response.messages(), 1u);
}

TEST(Http, ConnectTunnel) {
  HttpSession s{};
  const Feed req = feed_one(s, kReq,
                            "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n"
                            "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
  ASSERT_EQ(req.error, HttpError::none);
  ASSERT_EQ(req.heads.size(), 1u);
  EXPECT_TRUE(req.heads[0].m.has(hf::kTunnel));
  EXPECT_EQ(req.heads[0].uri, "example.test:443");
  EXPECT_TRUE(s.request.tunnel());
  const Feed resp = feed_one(s, kResp, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03");
  ASSERT_EQ(resp.heads.size(), 1u);
  EXPECT_TRUE(resp.heads[0].m.has(hf::kTunnel));
  EXPECT_TRUE(s.response.tunnel());
  // Whatever follows is not HTTP and not an error.
  const Feed more = feed_one(s, kResp, "\x17\x03\x03\x00\x10garbage");
  EXPECT_EQ(more.error, HttpError::none);
  EXPECT_TRUE(more.records.empty());
}

TEST(Http, RefusedConnectLetsTheClientContinue) {
  HttpSession s{};
  feed_one(s, kReq, "CONNECT a.test:443 HTTP/1.1\r\n\r\n");
  const Feed resp =
      feed_one(s, kResp, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(resp.heads.size(), 1u);
  EXPECT_FALSE(resp.heads[0].m.has(hf::kTunnel));
  EXPECT_FALSE(s.request.tunnel());
  const Feed again = feed_one(s, kReq, "CONNECT a.test:443 HTTP/1.1\r\nProxy-Authorization: x\r\n\r\n");
  ASSERT_EQ(again.heads.size(), 1u);
  EXPECT_EQ(again.heads[0].m.index, 1u);
}

TEST(Http, UpgradeAndUntilClose) {
  HttpSession s{};
  const Feed up = feed_one(s, kResp,
                           "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello");
  ASSERT_EQ(up.heads.size(), 1u);
  EXPECT_TRUE(up.heads[0].m.has(hf::kTunnel));
  EXPECT_TRUE(s.response.tunnel());

  HttpSession t{};
  const Feed close = feed_one(t, kResp, "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nHTTP/1.1 200 not a head");
  ASSERT_EQ(close.heads.size(), 1u);
  EXPECT_TRUE(close.heads[0].m.has(hf::kUntilClose));
  EXPECT_TRUE(close.heads[0].m.has(hf::kHttp10));
  EXPECT_EQ(close.error, HttpError::none);
}

TEST(Http, HostWhitespaceAndBounds) {
  HttpSession s{};
  const std::string long_host(100, 'h');
  std::string long_uri(301, 'u');
  long_uri[0] = '/';
  const Feed f = feed_one(s, kReq,
                          "GET /a HTTP/1.1\r\nHost: \t example.test \t \r\n\r\n"
                          "GET " + long_uri + " HTTP/1.1\r\nHost: " + long_host + "\r\n\r\n"
                          "GET /b HTTP/1.1\r\nHost:\r\n\r\n");
  ASSERT_EQ(f.heads.size(), 3u);
  EXPECT_EQ(f.heads[0].host, "example.test");
  EXPECT_EQ(f.heads[0].m.host_hash, name_hash_nocase("example.test"));
  EXPECT_FALSE(f.heads[0].m.has(hf::kHostTruncated));
  const HttpMessage& m = f.heads[1].m;
  EXPECT_EQ(m.host_len, kHttpHostCopy);
  EXPECT_EQ(m.uri_len, kHttpUriCopy);
  EXPECT_TRUE(m.has(hf::kHostTruncated));
  EXPECT_TRUE(m.has(hf::kUriTruncated));
  EXPECT_EQ(m.host_hash, name_hash_nocase(long_host));
  EXPECT_EQ(m.uri_hash, name_hash(long_uri));
  EXPECT_EQ(f.heads[1].host, long_host.substr(0, kHttpHostCopy));
  EXPECT_TRUE(f.heads[2].m.has(hf::kHasHost));
  EXPECT_EQ(f.heads[2].host, "");
  EXPECT_EQ(f.heads[2].m.host_hash, kNameHashSeed);
}

TEST(Http, MethodsAndVersions) {
  HttpSession s{};
  const Feed f = feed_one(s, kReq,
                          "\r\n\r\nDELETE /d HTTP/1.1\r\n\r\nOPTIONS * HTTP/1.0\r\n\r\n"
                          "TRACE / HTTP/1.1\r\n\r\nPATCH /p HTTP/1.1\r\n\r\nPUT /u HTTP/1.1\r\n\r\n"
                          "PROPFIND /dav HTTP/1.1\r\n\r\nGETS / HTTP/1.1\r\n\r\nGE / HTTP/1.1\n\n");
  ASSERT_EQ(f.error, HttpError::none) << to_string(f.error);
  const std::vector<HttpMethod> want = {HttpMethod::delete_, HttpMethod::options, HttpMethod::trace,
                                        HttpMethod::patch,   HttpMethod::put,     HttpMethod::other,
                                        HttpMethod::other,   HttpMethod::other};
  ASSERT_EQ(f.heads.size(), want.size());
  for (std::size_t k = 0; k < want.size(); ++k) {
    EXPECT_EQ(f.heads[k].m.method, want[k]) << k;
  }
  EXPECT_TRUE(f.heads[1].m.has(hf::kHttp10));
  EXPECT_EQ(f.heads[1].uri, "*");
}

struct ErrorCase {
  const char* name;
  HttpDirection dir;
  std::string text;
  HttpError want;
};

std::vector<ErrorCase> error_cases() {
  using namespace std::string_literals;
  std::string many_headers = "GET / HTTP/1.1\r\n";
  for (std::size_t k = 0; k <= kHttpMaxHeaders; ++k) many_headers += "X-" + std::to_string(k) + ": v\r\n";
  many_headers += "\r\n";
  std::string many_trailers = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  for (std::size_t k = 0; k <= kHttpMaxHeaders; ++k) many_trailers += "T: v\r\n";
  return {
      {"method_bad_char", kReq, "G@T / HTTP/1.1\r\n\r\n", HttpError::bad_method},
      {"method_leading_space", kReq, " GET / HTTP/1.1\r\n\r\n", HttpError::bad_method},
      {"method_then_crlf", kReq, "GET\r\n\r\n", HttpError::bad_method},
      {"binary_request", kReq, std::string("\x16\x03\x01\x00\x05", 5), HttpError::bad_method},
      {"empty_target", kReq, "GET  / HTTP/1.1\r\n\r\n", HttpError::bad_request_target},
      {"ctl_in_target", kReq, "GET /a\x01z HTTP/1.1\r\n\r\n", HttpError::bad_request_target},
      {"http09", kReq, "GET /\r\n", HttpError::bad_version},
      {"http2_version", kReq, "GET / HTTP/2.0\r\n\r\n", HttpError::bad_version},
      {"version_suffix", kReq, "GET / HTTP/1.1x\r\n\r\n", HttpError::bad_version},
      {"lowercase_version", kReq, "GET / http/1.1\r\n\r\n", HttpError::bad_version},
      {"response_bad_prefix", kResp, "HTTX/1.1 200 OK\r\n\r\n", HttpError::bad_version},
      {"response_no_space", kResp, "HTTP/1.1200 OK\r\n\r\n", HttpError::bad_version},
      {"status_two_digits", kResp, "HTTP/1.1 20 OK\r\n\r\n", HttpError::bad_status},
      {"status_leading_zero", kResp, "HTTP/1.1 099 x\r\n\r\n", HttpError::bad_status},
      {"status_four_digits", kResp, "HTTP/1.1 2000 OK\r\n\r\n", HttpError::bad_status},
      {"ctl_in_reason", kResp, "HTTP/1.1 200 O\x01K\r\n\r\n", HttpError::bad_status},
      {"cr_without_lf", kReq, "GET / HTTP/1.1\rX\r\n\r\n", HttpError::bad_line_ending},
      {"cr_without_lf_after_header", kResp, "HTTP/1.1 200 OK\r\nHost: a\rX", HttpError::bad_line_ending},
      {"target_too_long", kReq, "GET /" + std::string(kHttpMaxLine, 'a') + " HTTP/1.1\r\n\r\n",
       HttpError::line_too_long},
      {"value_too_long", kReq, "GET / HTTP/1.1\r\nCookie: " + std::string(kHttpMaxLine, 'c') + "\r\n\r\n",
       HttpError::line_too_long},
      {"reason_too_long", kResp, "HTTP/1.1 200 " + std::string(kHttpMaxLine, 'r') + "\r\n\r\n",
       HttpError::line_too_long},
      {"space_before_colon", kReq, "GET / HTTP/1.1\r\nHost : a\r\n\r\n", HttpError::bad_header_name},
      {"ctl_in_name", kReq, "GET / HTTP/1.1\r\nHo\x01st: a\r\n\r\n", HttpError::bad_header_name},
      {"colon_first", kReq, "GET / HTTP/1.1\r\n: a\r\n\r\n", HttpError::bad_header_name},
      {"no_colon", kReq, "GET / HTTP/1.1\r\nHost\r\n\r\n", HttpError::bad_header_name},
      {"ctl_in_value", kReq, "GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n", HttpError::bad_header_value},
      {"bare_cr_in_value", kReq, "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", HttpError::bad_line_ending},
      {"bare_cr_in_host", kReq, "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", HttpError::bad_line_ending},
      {"bare_cr_in_reason", kResp, "HTTP/1.1 200 O\rK\r\n\r\n", HttpError::bad_line_ending},
      {"nul_in_host", kReq, "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n"s, HttpError::bad_header_value},
      {"nul_in_other", kReq, "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"s, HttpError::bad_header_value},
      {"obs_fold", kReq, "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", HttpError::obsolete_line_folding},
      {"too_many_headers", kReq, many_headers, HttpError::too_many_headers},
      {"too_many_trailers", kResp, many_trailers, HttpError::too_many_headers},
      {"duplicate_host", kReq, "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", HttpError::duplicate_host},
      {"cl_letters", kReq, "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", HttpError::bad_content_length},
      {"cl_two_numbers", kReq, "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", HttpError::bad_content_length},
      {"cl_list", kReq, "POST / HTTP/1.1\r\nContent-Length: 4, 4\r\n\r\n", HttpError::bad_content_length},
      {"cl_empty", kReq, "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", HttpError::bad_content_length},
      {"cl_negative", kResp, "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", HttpError::bad_content_length},
      {"cl_overflow", kResp, "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
       HttpError::bad_content_length},
      {"cl_twice", kReq, "POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n",
       HttpError::duplicate_content_length},
      {"te_not_chunked", kReq, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
       HttpError::bad_transfer_encoding},
      {"te_chunked_not_last", kReq, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
       HttpError::bad_transfer_encoding},
      {"te_chunked_then_other_line", kReq,
       "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
       HttpError::bad_transfer_encoding},
      {"te_chunkedx", kReq, "POST / HTTP/1.1\r\nTransfer-Encoding: chunkedx\r\n\r\n",
       HttpError::bad_transfer_encoding},
      {"chunk_size_not_hex", kResp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
       HttpError::bad_chunk_size},
      {"chunk_size_empty", kResp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
       HttpError::bad_chunk_size},
      {"chunk_size_overflow", kResp,
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
       HttpError::bad_chunk_size},
      {"chunk_ext_ctl", kResp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;a\x01\r\n",
       HttpError::bad_chunk_size},
      {"chunk_data_overrun", kResp,
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n", HttpError::bad_chunk_ending},
      {"chunk_data_cr_only", kResp,
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\rX", HttpError::bad_chunk_ending},
  };
}

class HttpErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(HttpErrors, TypedErrorThenSilence) {
  const ErrorCase& c = GetParam();
  HttpSession s{};
  const Feed f = feed_one(s, c.dir, c.text);
  EXPECT_EQ(f.error, c.want) << "got " << to_string(f.error);
  const HttpParser& p = c.dir == kReq ? s.request : s.response;
  EXPECT_TRUE(p.failed());
  EXPECT_EQ(p.error(), c.want);
  // The same error whatever the segmentation, at the same stream offset.
  const Buf whole = bytes(c.text);
  for (std::size_t at = 1; at < whole.size(); at += std::max<std::size_t>(1, whole.size() / 40)) {
    HttpSession t{};
    const Feed g = feed(t, c.dir, cut(whole, {at}));
    ASSERT_EQ(g.error, c.want) << "split at " << at;
    const std::size_t off = g.error_offset + (g.error_segment == 1 ? at : 0);
    EXPECT_EQ(off, f.error_offset) << "split at " << at;
  }
  // A failed direction ignores the rest of its stream.
  std::array<HttpMessage, 2> out{};
  const Buf more = bytes("GET / HTTP/1.1\r\n\r\n");
  const HttpResult r = http_parse(s, c.dir, span(more), out);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.records, 0);
}

INSTANTIATE_TEST_SUITE_P(All, HttpErrors, ::testing::ValuesIn(error_cases()),
                         [](const ::testing::TestParamInfo<ErrorCase>& i) { return std::string(i.param.name); });

TEST(Http, EveryErrorHasAName) {
  for (std::size_t k = 0; k < kHttpErrorCount; ++k) {
    EXPECT_FALSE(to_string(static_cast<HttpError>(k)).empty());
  }
  EXPECT_EQ(to_string(HttpError::bad_chunk_size), "bad_chunk_size");
  EXPECT_EQ(to_string(static_cast<HttpError>(200)), "unknown");
}

// A client and a server stream exercising every framing rule.
const std::string kRequests =
    "GET /a HTTP/1.1\r\nHost: Example.Test\r\nAccept: */*\r\n\r\n"
    "POST /submit?x=1 HTTP/1.1\r\nHost:  example.test:8080 \r\nContent-Length: 11\r\n"
    "Expect: 100-continue\r\n\r\nhello world"
    "HEAD /h HTTP/1.1\r\nHost: h.test\r\n\r\n"
    "PUT /up HTTP/1.1\r\nhost: up.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    "4\r\nabcd\r\n0\r\nX-Trailer: 1\r\n\r\n"
    "\r\nOPTIONS * HTTP/1.0\n\n";
const std::string kResponses =
    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
    "HTTP/1.1 100 Continue\r\n\r\n"
    "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\n\r\n"
    "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    "HTTP/1.1 204 No Content\r\n\r\n"
    "HTTP/1.0 200 OK\r\nServer: t\r\n\r\nuntil the end";

/// The parts of a completed head that must not depend on segmentation.
std::string summary(const Head& h) {
  constexpr std::uint16_t kSegmentation = hf::kHeadStart | hf::kHostTruncated | hf::kUriTruncated;
  const HttpMessage& m = h.m;
  return std::to_string(m.index) + " " + std::string(to_string(m.method)) + " " +
         std::to_string(m.status) + " " + std::to_string(m.content_length) + " " +
         std::to_string(m.flags & ~kSegmentation) + " " + std::to_string(m.host_hash) + " " +
         std::to_string(m.uri_hash) + " [" + h.host + "] [" + h.uri + "]";
}

std::vector<std::string> summaries(const Feed& f) {
  std::vector<std::string> v;
  for (const Head& h : f.heads) v.push_back(summary(h));
  return v;
}

std::pair<Feed, Feed> transcript(const std::vector<Buf>& req, const std::vector<Buf>& resp) {
  HttpSession s{};
  Feed a = feed(s, kReq, req);
  Feed b = feed(s, kResp, resp);
  return {a, b};
}

TEST(Http, TranscriptFields) {
  const auto [req, resp] = transcript({bytes(kRequests)}, {bytes(kResponses)});
  ASSERT_EQ(req.error, HttpError::none) << to_string(req.error);
  ASSERT_EQ(resp.error, HttpError::none) << to_string(resp.error);
  ASSERT_EQ(req.heads.size(), 5u);
  ASSERT_EQ(resp.heads.size(), 6u);
  EXPECT_EQ(req.heads[1].host, "example.test:8080");
  EXPECT_EQ(req.heads[1].m.host_hash, name_hash_nocase("example.test:8080"));
  EXPECT_EQ(req.heads[3].m.method, HttpMethod::put);
  EXPECT_TRUE(req.heads[3].m.has(hf::kChunked));
  EXPECT_EQ(req.heads[4].m.method, HttpMethod::options);
  EXPECT_TRUE(resp.heads[1].m.has(hf::kInterim));
  EXPECT_EQ(resp.heads[1].m.index, 1u);
  EXPECT_EQ(resp.heads[2].m.index, 1u);
  EXPECT_TRUE(resp.heads[3].m.has(hf::kNoBody));  // answers HEAD
  EXPECT_EQ(resp.heads[3].m.index, 2u);
  EXPECT_TRUE(resp.heads[4].m.has(hf::kNoBody));  // 204
  EXPECT_TRUE(resp.heads[5].m.has(hf::kUntilClose));
  EXPECT_EQ(resp.heads[5].m.index, 4u);
}

TEST(Http, EverySegmentationGivesTheSameHeads) {
  const Buf req = bytes(kRequests);
  const Buf resp = bytes(kResponses);
  const auto [want_req, want_resp] = transcript({req}, {resp});
  const auto want_a = summaries(want_req);
  const auto want_b = summaries(want_resp);
  for (std::size_t at = 0; at <= req.size(); ++at) {
    const auto [a, b] = transcript(cut(req, {at}), {resp});
    ASSERT_EQ(summaries(a), want_a) << "request split at " << at;
  }
  for (std::size_t at = 0; at <= resp.size(); ++at) {
    const auto [a, b] = transcript({req}, cut(resp, {at}));
    ASSERT_EQ(summaries(b), want_b) << "response split at " << at;
  }
  // Byte by byte, and random three-way cuts.
  std::vector<std::size_t> every_req, every_resp;
  for (std::size_t k = 1; k < req.size(); ++k) every_req.push_back(k);
  for (std::size_t k = 1; k < resp.size(); ++k) every_resp.push_back(k);
  const auto [a1, b1] = transcript(cut(req, every_req), cut(resp, every_resp));
  EXPECT_EQ(summaries(a1), want_a);
  EXPECT_EQ(summaries(b1), want_b);
  std::mt19937 rng(7);
  for (int n = 0; n < 300; ++n) {
    std::size_t x = rng() % req.size(), y = rng() % req.size();
    if (x > y) std::swap(x, y);
    std::size_t u = rng() % resp.size(), v = rng() % resp.size();
    if (u > v) std::swap(u, v);
    const auto [a, b] = transcript(cut(req, {x, y}), cut(resp, {u, v}));
    ASSERT_EQ(summaries(a), want_a) << x << " " << y;
    ASSERT_EQ(summaries(b), want_b) << u << " " << v;
  }
}

TEST(Http, EveryPrefixOfAValidStreamIsValid) {
  for (const auto& [dir, text] : {std::pair{kReq, kRequests}, std::pair{kResp, kResponses}}) {
    const Buf whole = bytes(text);
    for (std::size_t len = 0; len <= whole.size(); ++len) {
      HttpSession s{};
      if (dir == kResp) feed(s, kReq, {bytes(kRequests)});
      const Buf prefix(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(len));
      const Feed f = feed(s, dir, {prefix});
      ASSERT_EQ(f.error, HttpError::none) << "prefix " << len;
    }
  }
}

TEST(Http, HeadSpanningSegmentsGivesPartialRecords) {
  HttpSession s{};
  const Buf b = bytes("GET /long/path HTTP/1.1\r\nHost: split.example.test\r\n\r\n");
  const std::size_t in_uri = 9;    // inside "/long/path"
  const std::size_t in_host = 38;  // inside the Host value
  std::array<HttpMessage, 2> out{};
  const auto parts = cut(b, {in_uri, in_host});
  HttpResult r = http_parse(s, kReq, span(parts[0]), out);
  ASSERT_EQ(r.records, 1);
  EXPECT_TRUE(out[0].has(hf::kHeadStart));
  EXPECT_FALSE(out[0].has(hf::kComplete));
  EXPECT_TRUE(out[0].has(hf::kUriTruncated));
  EXPECT_EQ(out[0].uri_view(), "/long");
  EXPECT_EQ(out[0].method, HttpMethod::get);
  r = http_parse(s, kReq, span(parts[1]), out);
  ASSERT_EQ(r.records, 1);
  EXPECT_FALSE(out[0].has(hf::kHeadStart));
  EXPECT_TRUE(out[0].has(hf::kUriTruncated));
  EXPECT_TRUE(out[0].has(hf::kHostTruncated));
  EXPECT_EQ(out[0].uri_view(), "/path");
  EXPECT_EQ(out[0].host_view(), "split.e");
  r = http_parse(s, kReq, span(parts[2]), out);
  ASSERT_EQ(r.records, 1);
  EXPECT_TRUE(out[0].has(hf::kComplete));
  EXPECT_EQ(out[0].host_view(), "xample.test");
  EXPECT_EQ(out[0].host_hash, name_hash_nocase("split.example.test"));
  EXPECT_EQ(out[0].uri_hash, name_hash("/long/path"));
  EXPECT_EQ(out[0].end, parts[2].size());
}

TEST(Http, FullOutputArrayCountsDropped) {
  HttpSession s{};
  const Buf b = bytes("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\nGET /4 HTTP/1.1\r\n");
  std::array<HttpMessage, 1> out{};
  const HttpResult r = http_parse(s, kReq, span(b), out);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.records, 1);
  EXPECT_EQ(r.heads, 3);
  EXPECT_EQ(r.dropped, 3);  // two complete heads and the open fourth
  EXPECT_EQ(out[0].uri_view(), "/1");
  EXPECT_EQ(s.request.messages(), 3u);
  const Buf end = bytes("\r\n");
  const HttpResult last = http_parse(s, kReq, span(end), std::span<HttpMessage>{});
  EXPECT_TRUE(last.ok());
  EXPECT_EQ(last.records, 0);
  EXPECT_EQ(last.heads, 1);
  EXPECT_EQ(last.dropped, 1);
}

TEST(Http, LostBytesInsideABodyKeepStep) {
  HttpSession s{};
  feed_one(s, kResp, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
  http_gap(s, kResp, 50);  // 40 body bytes remain
  EXPECT_FALSE(s.response.lost());
  const Feed f = feed_one(s, kResp, std::string(40, 'b') + "HTTP/1.1 204 No Content\r\n\r\n");
  ASSERT_EQ(f.heads.size(), 1u);
  EXPECT_EQ(f.heads[0].m.status, 204);
  EXPECT_FALSE(f.heads[0].m.has(hf::kAfterGap));

  HttpSession c{};
  feed_one(c, kResp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123");
  http_gap(c, kResp, 12);
  const Feed g = feed_one(c, kResp, "\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(g.error, HttpError::none);
  ASSERT_EQ(g.heads.size(), 1u);
}

TEST(Http, LostBytesInAHeadResyncOnTheNextHead) {
  HttpSession s{};
  feed_one(s, kReq, "GET /first HTTP/1.1\r\nHost: a");
  http_gap(s, kReq, 0);
  EXPECT_TRUE(s.request.lost());
  // Mid-message bytes are ignored, not errors.
  Feed f = feed_one(s, kReq, "ccept: */*\r\n\r\nGET /not-at-start HTTP/1.1\r\n\r\n");
  EXPECT_EQ(f.error, HttpError::none);
  EXPECT_TRUE(f.records.empty());
  f = feed_one(s, kReq, "GET /second HTTP/1.1\r\nHost: b\r\n\r\nGET /third HTTP/1.1\r\n\r\n");
  ASSERT_EQ(f.heads.size(), 2u);
  EXPECT_TRUE(f.heads[0].m.has(hf::kAfterGap));
  EXPECT_FALSE(f.heads[1].m.has(hf::kAfterGap));
  EXPECT_EQ(f.heads[0].uri, "/second");
  EXPECT_FALSE(s.request.lost());

  // A connection first seen mid-stream.
  HttpSession mid{};
  http_gap(mid, kResp, 0);
  f = feed_one(mid, kResp, "tail of a body");
  EXPECT_TRUE(f.records.empty());
  f = feed_one(mid, kResp, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(f.heads.size(), 1u);
  EXPECT_TRUE(f.heads[0].m.has(hf::kAfterGap));
}

TEST(Http, RandomBytesNeverBreakTheContract) {
  std::mt19937 rng(42);
  std::array<HttpMessage, 4> out{};
  const std::string alphabet = "GET HTTP/1.1 200\r\n:;,chunkedContent-Length0123456789abcdef \t\x01\x7f";
  for (int n = 0; n < 20000; ++n) {
    HttpSession s{};
    const auto dir = (n & 1) != 0 ? kReq : kResp;
    for (int seg = 0; seg < 4; ++seg) {
      Buf b(rng() % 200);
      for (auto& c : b) {
        c = (n & 2) != 0 ? static_cast<std::uint8_t>(rng())
                         : static_cast<std::uint8_t>(alphabet[rng() % alphabet.size()]);
      }
      // Start most inputs like a message so the fuzzing goes deep.
      if (seg == 0 && (n & 4) != 0) {
        const std::string start = dir == kReq ? "POST / HTTP/1.1\r\n" : "HTTP/1.1 200 OK\r\n";
        b.insert(b.begin(), start.begin(), start.end());
      }
      const HttpResult r = http_parse(s, dir, span(b), out);
      ASSERT_LE(r.records, out.size());
      for (std::size_t k = 0; k < r.records; ++k) {
        ASSERT_LE(out[k].offset, out[k].end);
        ASSERT_LE(out[k].end, b.size());
        ASSERT_LE(out[k].host_len, kHttpHostCopy);
        ASSERT_LE(out[k].uri_len, kHttpUriCopy);
      }
      if (!r.ok()) {
        ASSERT_LT(r.error_offset, b.size());
      }
      if (rng() % 8 == 0) http_gap(s, dir, rng() % 64);
    }
  }
}

TEST(Http, RequestWrittenByCurl) {
  ASSERT_TRUE(test::have_tool("curl")) << "curl is needed (Debian package curl)";
  test::Listener server;
  ASSERT_NE(server.port(), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/path/to%20it?q=1&r=2";
  test::Child curl;
  const test::TempFiles files({test::temp_path("curl.out"), test::temp_path("curl.err")});
  ASSERT_TRUE(curl.start({"curl", "-s", "--max-time", "10", "-H", "Host: Example.Test:8080",
                          "-d", "field=value", url},
                         files[0], files[1]));
  ASSERT_TRUE(server.accept(std::chrono::seconds(10))) << "curl did not connect";
  const std::string request = server.read_until("field=value", std::chrono::seconds(10));
  ASSERT_TRUE(server.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  EXPECT_EQ(curl.wait(std::chrono::seconds(10)), 0);

  HttpSession s{};
  const Feed f = feed_one(s, kReq, request);
  ASSERT_EQ(f.error, HttpError::none) << to_string(f.error) << "\n" << request;
  ASSERT_EQ(f.heads.size(), 1u) << request;
  const HttpMessage& m = f.heads[0].m;
  EXPECT_EQ(m.method, HttpMethod::post);
  EXPECT_EQ(f.heads[0].host, "Example.Test:8080");
  EXPECT_EQ(f.heads[0].uri, "/path/to%20it?q=1&r=2");
  EXPECT_EQ(m.content_length, 11u);
  EXPECT_EQ(s.request.messages(), 1u);
}

}  // namespace
}  // namespace netscope::l7
