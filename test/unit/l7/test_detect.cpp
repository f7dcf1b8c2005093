// First-payload detection: a TLS ClientHello built byte by byte (RFC 8446 4.1.2, RFC 6066
// 3) cut at every length, QUIC long headers, the SSH identification of the local ssh
// client, banners and first commands written by curl for SMTP and FTP, DNS, HTTP, ports.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "l7_support.hpp"
#include "netscope/l7/detect.hpp"
#include "netscope/l7/dns.hpp"

namespace netscope::l7 {
namespace {

using test::Buf;
using test::bytes;
using test::put16;
using test::put32;
using test::put8;
using test::span;

constexpr std::uint8_t kTcp = 6;
constexpr std::uint8_t kUdp = 17;

void put24(Buf& b, std::size_t v) {
  put8(b, static_cast<std::uint32_t>(v >> 16));
  put16(b, static_cast<std::uint32_t>(v));
}

void extension(Buf& b, std::uint16_t type, const Buf& data) {
  put16(b, type);
  put16(b, static_cast<std::uint32_t>(data.size()));
  test::append(b, data);
}

struct Hello {
  Buf bytes;
  std::size_t sni_end = 0;  ///< offset just after the host name
};

/// A TLS 1.3 ClientHello as a browser sends it: GREASE first, then server_name, groups,
/// ALPN, supported_versions, key_share.
Hello client_hello(std::string_view sni, bool with_sni = true) {
  Buf body;
  put16(body, 0x0303);  // legacy_version
  for (int k = 0; k < 32; ++k) put8(body, static_cast<std::uint32_t>(k * 7));  // random
  put8(body, 32);       // legacy_session_id
  for (int k = 0; k < 32; ++k) put8(body, 0xA0);
  put16(body, 6);       // cipher_suites
  for (const std::uint16_t cs : {0x1301, 0x1302, 0x1303}) put16(body, cs);
  put8(body, 1);        // legacy_compression_methods
  put8(body, 0);

  Buf ext;
  extension(ext, 0x0A0A, {});  // GREASE
  std::size_t name_end_in_ext = 0;
  if (with_sni) {
    Buf sn;
    put16(sn, static_cast<std::uint32_t>(3 + sni.size()));
    put8(sn, 0);  // host_name
    put16(sn, static_cast<std::uint32_t>(sni.size()));
    test::append(sn, sni);
    extension(ext, 0x0000, sn);
    name_end_in_ext = ext.size();
  }
  extension(ext, 0x000A, {0x00, 0x02, 0x00, 0x1D});
  extension(ext, 0x0010, {0x00, 0x0C, 0x02, 'h', '2', 0x08, 'h', 't', 't', 'p', '/', '1', '.', '1'});
  extension(ext, 0x002B, {0x02, 0x03, 0x04});
  Buf ks;
  put16(ks, 36);
  put16(ks, 0x001D);
  put16(ks, 32);
  for (int k = 0; k < 32; ++k) put8(ks, 0x55);
  extension(ext, 0x0033, ks);

  put16(body, static_cast<std::uint32_t>(ext.size()));
  const std::size_t ext_start_in_body = body.size();
  test::append(body, ext);

  Hello h;
  Buf& b = h.bytes;
  put8(b, 0x16);
  put16(b, 0x0301);
  put16(b, static_cast<std::uint32_t>(4 + body.size()));
  put8(b, 1);  // client_hello
  put24(b, body.size());
  const std::size_t body_start = b.size();
  test::append(b, body);
  h.sni_end = with_sni ? body_start + ext_start_in_body + name_end_in_ext : 0;
  return h;
}

TEST(Tls, ClientHelloBuiltByteByByte) {
  const Hello h = client_hello("www.example.test");
  EXPECT_EQ(detect(span(h.bytes), 51000, 443, kTcp), AppProtocol::tls);
  EXPECT_EQ(detect(span(h.bytes), 51000, 9999, kTcp), AppProtocol::tls);  // not by port
  std::array<char, 256> out{};
  std::size_t len = 99;
  ASSERT_TRUE(tls_sni(span(h.bytes), out, len));
  EXPECT_EQ(std::string_view(out.data(), len), "www.example.test");
}

TEST(Tls, EveryTruncationOfTheClientHello) {
  const Hello h = client_hello("cut.example.test");
  for (std::size_t n = 0; n <= h.bytes.size(); ++n) {
    const Buf cut(h.bytes.begin(), h.bytes.begin() + static_cast<std::ptrdiff_t>(n));
    std::array<char, 64> out{};
    std::size_t len = 7;
    const bool found = tls_sni(span(cut), out, len);
    ASSERT_EQ(found, n >= h.sni_end) << "cut at " << n;
    if (found) {
      EXPECT_EQ(std::string_view(out.data(), len), "cut.example.test");
    } else {
      EXPECT_EQ(len, 0u);
    }
    // Nothing yet: the port speaks; 1 to 4 bytes: too short to be a record header.
    const AppProtocol p = detect(span(cut), 40000, 443, kTcp);
    EXPECT_EQ(p, n >= 5 || n == 0 ? AppProtocol::tls : AppProtocol::unknown) << "cut at " << n;
  }
}

TEST(Tls, NoNameOrBadName) {
  std::array<char, 64> out{};
  std::size_t len = 0;
  EXPECT_FALSE(tls_sni(span(client_hello("", false).bytes), out, len));
  EXPECT_FALSE(tls_sni(span(client_hello("").bytes), out, len));
  EXPECT_FALSE(tls_sni(span(client_hello("bad name").bytes), out, len));
  EXPECT_FALSE(tls_sni(span(client_hello(std::string("nul\0x", 5)).bytes), out, len));
  // A ServerHello is TLS but carries no SNI.
  Buf server = client_hello("x.test").bytes;
  server[5] = 2;
  EXPECT_EQ(detect(span(server), 443, 50000, kTcp), AppProtocol::tls);
  EXPECT_FALSE(tls_sni(span(server), out, len));
  // Application data or an alert is not a first payload we call TLS.
  Buf appdata = client_hello("x.test").bytes;
  appdata[0] = 0x17;
  EXPECT_EQ(detect(span(appdata), 443, 50000, kTcp), AppProtocol::unknown);
  EXPECT_FALSE(tls_sni(span(appdata), out, len));
}

TEST(Tls, LongNameIsCutToTheOutput) {
  const std::string name = std::string(200, 'a') + ".example.test";
  const Hello h = client_hello(name);
  std::array<char, 32> small{};
  std::size_t len = 0;
  ASSERT_TRUE(tls_sni(span(h.bytes), small, len));
  EXPECT_EQ(len, small.size());
  EXPECT_EQ(std::string_view(small.data(), len), name.substr(0, small.size()));
  std::array<char, 256> big{};
  ASSERT_TRUE(tls_sni(span(h.bytes), big, len));
  EXPECT_EQ(std::string_view(big.data(), len), name);
}

TEST(Tls, LyingLengthsStayInBounds) {
  const Hello h = client_hello("lie.example.test");
  std::mt19937 rng(11);
  for (int n = 0; n < 20000; ++n) {
    Buf b = h.bytes;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits; ++k) b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
    b.resize(rng() % (b.size() + 1));
    std::array<char, 16> out{};
    std::size_t len = 0;
    if (tls_sni(span(b), out, len)) {
      ASSERT_GT(len, 0u);
      ASSERT_LE(len, out.size());
    } else {
      ASSERT_EQ(len, 0u);
    }
    (void)detect(span(b), 1, 2, kTcp);
  }
}

Buf quic_long(std::uint8_t first, std::uint32_t version, std::size_t dcid, std::size_t scid,
              std::size_t pad = 1200) {
  Buf b;
  put8(b, first);
  put32(b, version);
  put8(b, static_cast<std::uint32_t>(dcid));
  for (std::size_t k = 0; k < dcid; ++k) put8(b, static_cast<std::uint32_t>(0x10 + k));
  put8(b, static_cast<std::uint32_t>(scid));
  for (std::size_t k = 0; k < scid; ++k) put8(b, static_cast<std::uint32_t>(0x80 + k));
  while (b.size() < pad) put8(b, 0);
  return b;
}

TEST(Quic, LongHeaders) {
  QuicLongHeader h;
  const Buf v1 = quic_long(0xC3, 1, 8, 0);  // Initial, packet number length 4
  ASSERT_TRUE(quic_long_header(span(v1), h));
  EXPECT_EQ(h.version, 1u);
  EXPECT_TRUE(h.known_version);
  EXPECT_EQ(h.type, QuicPacketType::initial);
  EXPECT_EQ(h.dcid_len, 8);
  EXPECT_EQ(h.dcid[7], 0x17);
  EXPECT_EQ(h.scid_len, 0);
  EXPECT_EQ(detect(span(v1), 50000, 443, kUdp), AppProtocol::quic);
  EXPECT_EQ(detect(span(v1), 50000, 4433, kUdp), AppProtocol::quic);

  const Buf hs = quic_long(0xE0, 1, 4, 4, 0);
  ASSERT_TRUE(quic_long_header(span(hs), h));
  EXPECT_EQ(h.type, QuicPacketType::handshake);
  EXPECT_EQ(h.scid[3], 0x83);

  const Buf v2 = quic_long(0xD0, 0x6B3343CF, 20, 20);  // v2 type bits 01: Initial
  ASSERT_TRUE(quic_long_header(span(v2), h));
  EXPECT_EQ(h.type, QuicPacketType::initial);
  EXPECT_EQ(detect(span(v2), 50000, 443, kUdp), AppProtocol::quic);

  const Buf draft = quic_long(0xC0, 0xFF00001D, 8, 8);
  EXPECT_EQ(detect(span(draft), 50000, 443, kUdp), AppProtocol::quic);

  const Buf vn = quic_long(0x80, 0, 8, 8, 40);  // version negotiation: fixed bit may be 0
  ASSERT_TRUE(quic_long_header(span(vn), h));
  EXPECT_EQ(h.type, QuicPacketType::version_negotiation);

  const Buf unknown = quic_long(0xC0, 0x12345678, 8, 8);
  ASSERT_TRUE(quic_long_header(span(unknown), h));
  EXPECT_FALSE(h.known_version);
  EXPECT_EQ(detect(span(unknown), 50000, 443, kUdp), AppProtocol::unknown);

  EXPECT_FALSE(quic_long_header(span(quic_long(0x80, 1, 8, 8)), h));  // fixed bit clear
  EXPECT_FALSE(quic_long_header(span(quic_long(0xC0, 1, 21, 0)), h));  // CID too long
  EXPECT_FALSE(quic_long_header(span(quic_long(0x40, 1, 8, 8)), h));   // short header
  const Buf full = quic_long(0xC0, 1, 8, 8, 0);
  for (std::size_t n = 0; n < full.size(); ++n) {
    const Buf cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(quic_long_header(span(cut), h)) << n;
  }
  EXPECT_TRUE(quic_long_header(span(full), h));
}

TEST(Ssh, BannerOfTheLocalSshClient) {
  // `ssh -V` prints "OpenSSH_9.2p1 Debian-2+deb12u6, OpenSSL ..." on stderr; the client
  // sends "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6\r\n" (RFC 4253 4.2).
  ASSERT_TRUE(test::have_tool("ssh")) << "ssh is needed (Debian package openssh-client)";
  const auto [status, version] = test::run("ssh -V 2>&1");
  ASSERT_EQ(status, 0);
  const std::string id = version.substr(0, version.find(','));
  const std::size_t sp = id.find(' ');
  const std::string software = id.substr(0, sp);
  const std::string comments = sp == std::string::npos ? "" : id.substr(sp + 1);

  // And what the client really sends, to a listener of ours.
  test::Listener server;
  const test::TempFiles files({test::temp_path("ssh.out"), test::temp_path("ssh.err")});
  test::Child ssh;
  ASSERT_TRUE(ssh.start({"ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o",
                         "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-p",
                         std::to_string(server.port()), "127.0.0.1", "true"},
                        files[0], files[1]));
  ASSERT_TRUE(server.accept(std::chrono::seconds(10))) << "ssh did not connect";
  ASSERT_TRUE(server.send("SSH-2.0-NetScopeTest_1.0\r\n"));
  const std::string banner = server.read_until("\n", std::chrono::seconds(10));
  ssh.signal(SIGTERM);
  ssh.wait(std::chrono::seconds(5));
  ASSERT_EQ(banner, "SSH-2.0-" + id + "\r\n");

  const Buf b = bytes(banner);
  EXPECT_EQ(detect(span(b), 50000, 22, kTcp), AppProtocol::ssh);
  EXPECT_EQ(detect(span(b), 50000, 2222, kTcp), AppProtocol::ssh);
  SshBanner s;
  ASSERT_TRUE(ssh_banner(span(b), s));
  EXPECT_EQ(s.proto, "2.0");
  EXPECT_EQ(s.software, software);
  EXPECT_EQ(s.comments, comments);

  const Buf server_banner = bytes("SSH-2.0-NetScopeTest_1.0\r\n");
  ASSERT_TRUE(ssh_banner(span(server_banner), s));
  EXPECT_EQ(s.software, "NetScopeTest_1.0");
  EXPECT_EQ(s.comments, "");
  EXPECT_FALSE(ssh_banner(span(bytes("SSH-2.0-no line end")), s));
  EXPECT_FALSE(ssh_banner(span(bytes("SSH-\r\n")), s));
  EXPECT_FALSE(ssh_banner(span(bytes("SSH-" + std::string(300, 'x') + "\r\n")), s));
}

/// The first line a curl client sends after our banner.
std::string curl_first_command(const std::string& scheme, const std::string& banner,
                               const std::vector<std::string>& extra) {
  test::Listener server;
  std::vector<std::string> argv = {"curl", "-s", "--max-time", "10"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(scheme + "://127.0.0.1:" + std::to_string(server.port()) + "/");
  const test::TempFiles files({test::temp_path(scheme + ".out"), test::temp_path(scheme + ".err")});
  test::Child curl;
  EXPECT_TRUE(curl.start(argv, files[0], files[1]));
  if (!server.accept(std::chrono::seconds(10))) return "";
  server.send(banner);
  std::string line = server.read_until("\n", std::chrono::seconds(10));
  server.send("421 closing\r\n");
  curl.signal(SIGTERM);
  curl.wait(std::chrono::seconds(5));
  return line;
}

TEST(Banners, SmtpFromCurl) {
  ASSERT_TRUE(test::have_tool("curl"));
  const std::string banner = "220 mail.example.test ESMTP Postfix (Debian/GNU)\r\n";
  const std::string ehlo = curl_first_command("smtp", banner, {"--mail-from", "a@example.test",
                                                                "--mail-rcpt", "b@example.test"});
  ASSERT_TRUE(ehlo.starts_with("EHLO ")) << ehlo;
  // By signature on a port that says nothing, and by port with a bare banner.
  EXPECT_EQ(detect(span(bytes(ehlo)), 40000, 2500, kTcp), AppProtocol::smtp);
  EXPECT_EQ(detect(span(bytes(banner)), 2500, 40000, kTcp), AppProtocol::smtp);
  EXPECT_EQ(detect(span(bytes("220 ready\r\n")), 25, 40000, kTcp), AppProtocol::smtp);
  EXPECT_EQ(detect(span(bytes("220-multi line\r\n220 ok\r\n")), 587, 40000, kTcp), AppProtocol::smtp);
  EXPECT_EQ(detect(span(bytes("helo x\r\n")), 40000, 26, kTcp), AppProtocol::smtp);
  EXPECT_EQ(detect(span(bytes("220 ready\r\n")), 2500, 40000, kTcp), AppProtocol::unknown);
}

TEST(Banners, FtpFromCurl) {
  ASSERT_TRUE(test::have_tool("curl"));
  const std::string banner = "220 (vsFTPd 3.0.3)\r\n";
  const std::string user = curl_first_command("ftp", banner, {});
  ASSERT_EQ(user, "USER anonymous\r\n");
  EXPECT_EQ(detect(span(bytes(user)), 40000, 2121, kTcp), AppProtocol::ftp);
  EXPECT_EQ(detect(span(bytes(banner)), 2121, 40000, kTcp), AppProtocol::ftp);
  EXPECT_EQ(detect(span(bytes("220 Service ready\r\n")), 21, 40000, kTcp), AppProtocol::ftp);
  EXPECT_EQ(detect(span(bytes("AUTH TLS\r\n")), 40000, 21, kTcp), AppProtocol::ftp);
  // POP3 has USER too.
  EXPECT_EQ(detect(span(bytes(user)), 40000, 110, kTcp), AppProtocol::unknown);
}

TEST(Detect, HttpAndDnsAndPorts) {
  EXPECT_EQ(detect(span(bytes("GET / HTTP/1.1\r\n")), 40000, 8000, kTcp), AppProtocol::http);
  EXPECT_EQ(detect(span(bytes("OPTIONS * HTTP/1.1\r\n")), 40000, 8000, kTcp), AppProtocol::http);
  EXPECT_EQ(detect(span(bytes("HTTP/1.1 200 OK\r\n")), 8000, 40000, kTcp), AppProtocol::http);
  EXPECT_EQ(detect(span(bytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")), 40000, 80, kTcp), AppProtocol::http);
  EXPECT_EQ(detect(span(bytes("GETX / HTTP/1.1\r\n")), 40000, 80, kTcp), AppProtocol::unknown);

  Buf q;
  for (const std::uint16_t v : {0x1234, 0x0100, 1, 0, 0, 0}) put16(q, v);
  test::append(q, Buf{1, 'a', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1});
  EXPECT_EQ(detect(span(q), 40000, 53, kUdp), AppProtocol::dns);
  EXPECT_EQ(detect(span(q), 53, 40000, kUdp), AppProtocol::dns);
  EXPECT_EQ(detect(span(q), 40000, 5353, kUdp), AppProtocol::dns);
  EXPECT_EQ(detect(span(q), 40000, 5300, kUdp), AppProtocol::unknown);
  Buf framed;
  put16(framed, static_cast<std::uint32_t>(q.size()));
  test::append(framed, q);
  EXPECT_EQ(detect(span(framed), 40000, 53, kTcp), AppProtocol::dns);
  EXPECT_EQ(detect(span(framed), 40000, 54, kTcp), AppProtocol::unknown);
  Buf not_dns = q;
  not_dns[2] = 0x78;  // opcode 15
  EXPECT_EQ(detect(span(not_dns), 40000, 53, kUdp), AppProtocol::unknown);

  const Buf empty;
  EXPECT_EQ(detect(span(empty), 40000, 443, kTcp), AppProtocol::tls);
  EXPECT_EQ(detect(span(empty), 443, 40000, kUdp), AppProtocol::quic);
  EXPECT_EQ(detect(span(empty), 40000, 22, kTcp), AppProtocol::ssh);
  EXPECT_EQ(detect(span(empty), 80, 443, kTcp), AppProtocol::http);  // lower port first
  EXPECT_EQ(detect(span(empty), 40000, 40001, kTcp), AppProtocol::unknown);
  EXPECT_EQ(detect(span(empty), 40000, 53, 1), AppProtocol::unknown);
  // A payload that matches nothing is unknown even on a well-known port.
  EXPECT_EQ(detect(span(bytes("hello")), 40000, 443, kTcp), AppProtocol::unknown);
  EXPECT_EQ(protocol_by_port(40000, 443, kTcp), AppProtocol::tls);

  for (std::size_t k = 0; k < kAppProtocolCount; ++k) {
    EXPECT_FALSE(to_string(static_cast<AppProtocol>(k)).empty());
  }
  EXPECT_EQ(to_string(AppProtocol::quic), "quic");
}

TEST(Detect, RandomBytes) {
  std::mt19937 rng(5);
  for (int n = 0; n < 100000; ++n) {
    Buf b(rng() % 64);
    for (auto& c : b) c = static_cast<std::uint8_t>(rng());
    const auto p = detect(span(b), static_cast<std::uint16_t>(rng()), static_cast<std::uint16_t>(rng() % 1024),
                          (n & 1) != 0 ? kTcp : kUdp);
    ASSERT_LT(static_cast<std::size_t>(p), kAppProtocolCount);
    std::array<char, 8> out{};
    std::size_t len = 0;
    if (tls_sni(span(b), out, len)) {
      ASSERT_LE(len, out.size());
    }
    QuicLongHeader q;
    if (quic_long_header(span(b), q)) {
      ASSERT_LE(7u + q.dcid_len + q.scid_len, b.size());
    }
    SshBanner s;
    (void)ssh_banner(span(b), s);
  }
}

}  // namespace
}  // namespace netscope::l7
