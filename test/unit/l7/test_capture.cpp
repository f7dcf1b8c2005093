// Real traffic on loopback, captured by tcpdump inside the test: openssl s_client talking
// to openssl s_server (TLS detection and SNI, checked against tshark), and curl talking to
// `python3 -m http.server` (HTTP fields checked against tshark). Every step has a deadline;
// a missing tool or a capture that cannot start fails the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "frame_view.hpp"
#include "l7_support.hpp"
#include "netscope/decode/packet.hpp"
#include "netscope/l7/detect.hpp"
#include "netscope/l7/http.hpp"

namespace netscope::l7 {
namespace {

using namespace std::chrono_literals;
using test::Buf;

/// tcpdump on lo for one TCP port, writing a pcap.
class Capture {
 public:
  explicit Capture(const std::string& name) : pcap_(test::temp_path(name + ".pcap")), err_(pcap_ + ".err") {}
  ~Capture() {
    std::remove(pcap_.c_str());
    std::remove(err_.c_str());
  }

  bool start(std::uint16_t port) {
    if (!tcpdump_.start({"tcpdump", "-i", "lo", "-n", "--immediate-mode", "-U", "-s", "0", "-Z", "root", "-w", pcap_,
                         "tcp port " + std::to_string(port)},
                        "/dev/null", err_)) {
      return false;
    }
    return test::wait_until(
        [&] { return test::read_file(err_).find("listening on") != std::string::npos; }, 10s);
  }

  std::vector<Buf> stop() {
    // --immediate-mode hands each packet over at once and -U writes it; let the last land.
    std::this_thread::sleep_for(300ms);
    tcpdump_.signal(SIGINT);
    EXPECT_GE(tcpdump_.wait(10s), 0) << "tcpdump did not stop";
    return test::read_pcap(pcap_);
  }

  [[nodiscard]] const std::string& pcap() const { return pcap_; }
  [[nodiscard]] std::string log() const { return test::read_file(err_); }

 private:
  std::string pcap_;
  std::string err_;
  test::Child tcpdump_;
};

/// A temporary directory, removed with its contents on destruction.
struct ScopedDir {
  explicit ScopedDir(std::string p) : path(std::move(p)) { std::filesystem::create_directories(path); }
  ScopedDir(const ScopedDir&) = delete;
  ScopedDir& operator=(const ScopedDir&) = delete;
  ~ScopedDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

struct Segment {
  Bytes payload;
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  std::size_t frame = 0;  ///< 1-based, as tshark numbers frames
};

/// TCP segments with a payload, in capture order.
std::vector<Segment> tcp_payloads(const std::vector<Buf>& frames) {
  std::vector<Segment> v;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    decode::DecodedPacket p;
    decode::decode_frame({frames[i].data(), frames[i].size()}, p);
    if (!p.has(decode::kLayerTcp) || p.payload_len == 0) continue;
    v.push_back({Bytes{frames[i].data() + p.payload_offset, p.payload_len}, p.tcp.src_port,
                 p.tcp.dst_port, i + 1});
  }
  return v;
}

void require_tools(const std::vector<std::string>& tools) {
  for (const std::string& t : tools) {
    ASSERT_TRUE(test::have_tool(t)) << t << " is needed";
  }
  ASSERT_EQ(::geteuid(), 0u) << "tcpdump on lo needs root";
}

TEST(Capture, OpensslClientHelloSni) {
  require_tools({"openssl", "tcpdump", "tshark"});
  const ScopedDir tmp(test::temp_path("tls"));
  const std::string& dir = tmp.path;
  const std::string key = dir + "/key.pem", cert = dir + "/cert.pem";
  const auto [gen, gen_out] = test::run(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + key +
      " -out " + cert + " -days 1 -subj /CN=example.test 2>&1");
  ASSERT_EQ(gen, 0) << gen_out;

  const std::uint16_t port = test::free_tcp_port();
  Capture cap("tls");
  ASSERT_TRUE(cap.start(port)) << "tcpdump did not start: " << cap.log();
  test::Child server, client;
  ASSERT_TRUE(server.start({"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port),
                            "-cert", cert, "-key", key, "-naccept", "1", "-quiet"},
                           dir + "/server.out", dir + "/server.err"));
  ASSERT_TRUE(test::wait_until([&] { return test::tcp_listening(port); }, 10s))
      << "s_server is not listening: " << test::read_file(dir + "/server.err");
  ASSERT_TRUE(client.start({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port),
                            "-servername", "example.test"},
                           dir + "/client.out", dir + "/client.err"));
  EXPECT_GE(client.wait(20s), 0) << "s_client did not finish";
  server.wait(5s);
  const std::vector<Buf> frames = cap.stop();

  const auto segs = tcp_payloads(frames);
  ASSERT_GE(segs.size(), 2u) << "captured " << frames.size() << " frames";
  const Segment& hello = segs[0];
  ASSERT_EQ(hello.dport, port) << "the client speaks first in TLS";
  EXPECT_EQ(detect(hello.payload, hello.sport, hello.dport, 6), AppProtocol::tls);
  std::array<char, 256> sni{};
  std::size_t len = 0;
  ASSERT_TRUE(tls_sni(hello.payload, sni, len));
  const std::string ours(sni.data(), len);
  EXPECT_EQ(ours, "example.test");
  // The server's first flight is TLS too.
  const auto reply = std::find_if(segs.begin(), segs.end(), [&](const Segment& s) { return s.sport == port; });
  ASSERT_NE(reply, segs.end());
  EXPECT_EQ(detect(reply->payload, reply->sport, reply->dport, 6), AppProtocol::tls);
  std::size_t no = 0;
  EXPECT_FALSE(tls_sni(reply->payload, sni, no));

  // Wireshark reads the same name from the same frame.
  const auto rows = test::tshark_fields(cap.pcap(), {"frame.number", "tls.handshake.extensions_server_name"},
                                        "-d tcp.port==" + std::to_string(port) + ",tls");
  std::size_t named = 0;
  for (const auto& row : rows) {
    if (row[1].empty()) continue;
    ++named;
    EXPECT_EQ(row[0], std::to_string(hello.frame));
    EXPECT_EQ(row[1], ours);
  }
  EXPECT_EQ(named, 1u);
}

TEST(Capture, CurlAgainstPythonHttpServer) {
  require_tools({"curl", "tcpdump", "tshark", "/usr/bin/python3"});
  const ScopedDir tmp(test::temp_path("www"));
  const std::string& dir = tmp.path;
  {
    std::ofstream page(dir + "/index.html");
    page << "<html><body>hello from python</body></html>\n";
  }
  const std::uint16_t port = test::free_tcp_port();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  Capture cap("http");
  ASSERT_TRUE(cap.start(port)) << "tcpdump did not start: " << cap.log();
  test::Child server;
  ASSERT_TRUE(server.start({"/usr/bin/python3", "-m", "http.server", std::to_string(port), "--bind",
                            "127.0.0.1", "--directory", dir},
                           dir + "/server.out", dir + "/server.err"));
  ASSERT_TRUE(test::wait_until([&] { return test::tcp_listening(port); }, 10s))
      << "http.server is not listening: " << test::read_file(dir + "/server.err");
  // GET of a page and of a missing one, then HEAD with a Host of our own.
  const auto [get, get_out] = test::run("curl -s --max-time 10 -o /dev/null -o /dev/null " + base +
                                        "/index.html " + base + "/missing?x=1 2>&1");
  EXPECT_EQ(get, 0) << get_out;
  const auto [head, head_out] = test::run("curl -s --max-time 10 -I -H 'Host: www.example.test' " +
                                          base + "/index.html 2>&1");
  EXPECT_EQ(head, 0) << head_out;
  server.signal(SIGTERM);
  server.wait(5s);
  const std::vector<Buf> frames = cap.stop();
  ASSERT_GE(tcp_payloads(frames).size(), 6u) << "captured " << frames.size() << " frames";

  // Requests and responses as our parser and Wireshark see them, frame by frame.
  const auto mine = test::frame_view(frames, {port});
  std::vector<std::string> methods, hosts, uris, statuses;
  for (const auto& row : mine) {
    if (!row[0].empty()) methods.push_back(row[0]);
    if (!row[1].empty()) hosts.push_back(row[1]);
    if (!row[2].empty()) uris.push_back(row[2]);
    if (!row[3].empty()) statuses.push_back(row[3]);
  }
  const std::string h = "127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(methods, (std::vector<std::string>{"GET", "GET", "HEAD"}));
  EXPECT_EQ(hosts, (std::vector<std::string>{h, h, "www.example.test"}));
  EXPECT_EQ(uris, (std::vector<std::string>{"/index.html", "/missing?x=1", "/index.html"}));
  EXPECT_EQ(statuses, (std::vector<std::string>{"200", "404", "200"}));
  const std::size_t checked = test::compare_with_tshark(frames, {port}, "http_capture");
  EXPECT_GE(checked, 12u);
}

}  // namespace
}  // namespace netscope::l7
