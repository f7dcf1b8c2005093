// Test support for the control-plane hub: a tiny blocking HTTP/1.1 client, a minimal
// WebSocket client, temp dirs, free ports, and snapshot/event/flow builders.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "../decode/frame_builder.hpp"
#include "netscope/control/hub.hpp"

namespace netscope::control::test {

using nlohmann::json;

inline std::string temp_dir() {
  std::string tmpl = "/tmp/netscope-ctl-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

/// A port that was free a moment ago (for programs that need a fixed port number).
inline int free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

/// Connects to "ADDR:PORT"; -1 on failure.
inline int connect_to(const std::string& addr, int rcvbuf = 0) {
  const auto colon = addr.rfind(':');
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(addr.substr(colon + 1))));
  inet_pton(AF_INET, addr.substr(0, colon).c_str(), &a.sin_addr);
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  if (rcvbuf > 0) setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  timeval tv{10, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(s);
    return -1;
  }
  return s;
}

inline bool send_all(int s, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = send(s, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  [[nodiscard]] json json_body() const { return json::parse(body, nullptr, false); }
  [[nodiscard]] std::string header(const std::string& n) const {
    const auto it = headers.find(n);
    return it == headers.end() ? std::string() : it->second;
  }
};

/// Parses one HTTP response from `raw` (the whole connection's bytes).
inline Response parse_response(const std::string& raw) {
  Response r;
  const auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos || raw.compare(0, 5, "HTTP/") != 0) return r;
  r.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
  std::size_t pos = raw.find("\r\n") + 2;
  while (pos < end) {
    const auto eol = raw.find("\r\n", pos);
    const std::string line = raw.substr(pos, eol - pos);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[name] = value;
    }
    pos = eol + 2;
  }
  r.body = raw.substr(end + 4);
  if (r.headers.count("content-length") != 0) {
    r.body.resize(std::min<std::size_t>(r.body.size(), std::stoul(r.headers["content-length"])));
  }
  return r;
}

/// Sends one request with "Connection: close" and reads the whole answer.
inline Response http(const std::string& addr, const std::string& method, const std::string& target,
                     const std::vector<std::pair<std::string, std::string>>& headers = {},
                     const std::string& body = {}) {
  const int s = connect_to(addr);
  if (s < 0) return {};
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  send_all(s, req);
  std::string raw;
  char buf[65536];
  for (;;) {
    const ssize_t n = recv(s, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  close(s);
  return parse_response(raw);
}

inline Response get(const std::string& addr, const std::string& target,
                    const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  return http(addr, "GET", target, headers);
}

/// Minimal WebSocket client (RFC 6455): text frames in, pong replies, masked frames out.
class WsClient {
 public:
  struct Frame {
    int opcode = 0;
    std::string payload;
  };

  /// Connects and upgrades; `rcvbuf` > 0 shrinks the receive buffer (a slow reader).
  bool open(const std::string& addr, const std::string& path, int rcvbuf = 0,
            const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    fd_ = connect_to(addr, rcvbuf);
    if (fd_ < 0) return false;
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + addr +
                      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    req += "\r\n";
    if (!send_all(fd_, req)) return false;
    // Read the handshake answer byte by byte up to the blank line.
    std::string head;
    char c = 0;
    while (head.size() < 65536 && recv(fd_, &c, 1, 0) == 1) {
      head += c;
      if (head.ends_with("\r\n\r\n")) break;
    }
    status_ = parse_response(head).status;
    if (status_ != 101) {
      // Keep the error body for the caller.
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n > 0) error_body_.assign(buf, static_cast<std::size_t>(n));
      return false;
    }
    return true;
  }

  ~WsClient() {
    if (fd_ >= 0) close(fd_);
  }

  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] int status() const noexcept { return status_; }
  [[nodiscard]] const std::string& error_body() const noexcept { return error_body_; }

  /// Appends bytes that arrived (non-blocking use: call after poll says readable).
  /// Returns false at EOF or error.
  bool pump() {
    char buf[65536];
    const ssize_t n = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    in_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  /// Next complete frame from the bytes pumped so far; answers pings.
  std::optional<Frame> next() {
    for (;;) {
      if (in_.size() < 2) return std::nullopt;
      const auto* p = reinterpret_cast<const unsigned char*>(in_.data());
      std::uint64_t len = p[1] & 0x7F;
      std::size_t hdr = 2;
      if (len == 126) {
        if (in_.size() < 4) return std::nullopt;
        len = (std::uint64_t{p[2]} << 8) | p[3];
        hdr = 4;
      } else if (len == 127) {
        if (in_.size() < 10) return std::nullopt;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
        hdr = 10;
      }
      if (in_.size() < hdr + len) return std::nullopt;
      Frame f{p[0] & 0x0F, in_.substr(hdr, static_cast<std::size_t>(len))};
      in_.erase(0, hdr + static_cast<std::size_t>(len));
      if (f.opcode == 0x9) {
        send_frame(0xA, f.payload);
        continue;
      }
      if (f.opcode == 0xA) continue;
      return f;
    }
  }

  /// Blocks up to `timeout` for the next frame.
  std::optional<Frame> read(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto f = next()) return f;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd pfd{fd_, POLLIN, 0};
      if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      if (!pump()) return next();
    }
  }

  bool send_frame(int opcode, const std::string& payload) {
    std::string f;
    f += static_cast<char>(0x80 | opcode);
    const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    if (payload.size() < 126) {
      f += static_cast<char>(0x80 | payload.size());
    } else {
      f += static_cast<char>(0x80 | 126);
      f += static_cast<char>((payload.size() >> 8) & 0xFF);
      f += static_cast<char>(payload.size() & 0xFF);
    }
    f.append(reinterpret_cast<const char*>(mask), 4);
    for (std::size_t i = 0; i < payload.size(); ++i) f += static_cast<char>(payload[i] ^ mask[i & 3]);
    return send_all(fd_, f);
  }

 private:
  int fd_ = -1;
  int status_ = 0;
  std::string in_;
  std::string error_body_;
};

/// Runs a shell command; returns its exit status and stdout+stderr.
inline std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

/// Polls `pred` until it holds or `timeout` passes.
template <typename F>
bool eventually(F pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

inline seq::SaKey esp_key(std::uint32_t spi, std::uint8_t last_octet = 2) {
  seq::SaKey k;
  k.protocol = seq::SaProtocol::esp;
  k.spi = spi;
  k.ip_version = 4;
  k.dst = {198, 51, 100, last_octet};
  return k;
}

inline seq::SaKey macsec_key(std::uint64_t sci, std::uint8_t an) {
  seq::SaKey k;
  k.protocol = seq::SaProtocol::macsec;
  k.sci = sci;
  k.an = an;
  return k;
}

inline engine::SaSummary sa_summary(const seq::SaKey& k, std::uint64_t packets, std::uint64_t lost,
                                    std::uint16_t lcore = 1) {
  engine::SaSummary s;
  s.key = k;
  s.counters.packets = packets;
  s.counters.lost = lost;
  s.counters.gaps = lost > 0 ? 1 : 0;
  s.bytes = packets * 100;
  s.first_seq = 1;
  s.highest_seq = packets + lost;
  s.first_seen_ns = 1'700'000'000'000'000'000ull;
  s.last_seen_ns = s.first_seen_ns + 1'000'000'000ull;
  s.lcore = lcore;
  return s;
}

/// A snapshot at wall time `time_ns` with `packets` packets (all ESP) and two SAs.
inline std::shared_ptr<Snapshot> snapshot(std::uint64_t time_ns, std::uint64_t packets) {
  auto s = std::make_shared<Snapshot>();
  s->time_ns = time_ns;
  s->uptime_s = 10;
  s->mode = "rtc";
  s->packets = packets;
  s->bytes = packets * 100;
  s->class_packets[static_cast<std::size_t>(engine::TrafficClass::esp)] = packets;
  s->class_bytes[static_cast<std::size_t>(engine::TrafficClass::esp)] = packets * 100;
  s->malformed[static_cast<std::size_t>(decode::Malformed::truncated_esp)] = 3;
  s->events[static_cast<std::size_t>(seq::EventType::gap)] = 2;
  s->sas_active = 2;
  s->flows_active = 4;
  s->flows_created = 9;
  s->ports.push_back({0, "net_pcap0", "net_pcap", true, packets, packets * 100, 1, 0, 0, packets, packets * 100});
  s->lcores.push_back({0, "control", 0, 0, 0, 0, 0});
  s->lcores.push_back({1, "rx+worker", packets, 3'000'000, 1'000'000, 5, 1024});
  s->tsc_hz = 2'000'000'000;
  s->mempool_in_use = 100;
  s->mempool_size = 8191;
  s->sas.push_back(sa_summary(esp_key(0x100), packets / 2, 7));
  s->sas.push_back(sa_summary(macsec_key(0x0011223344550001ull, 0), packets / 2, 0));
  // The packet inspector: an ESP frame (SA, number, flow) and a cut UDP frame.
  auto inspector = std::make_shared<InspectorView>();
  inspector->per_port = 8;
  inspector->snaplen = 64;
  inspector->updated_ns = time_ns;
  namespace tf = decode::test_frames;
  const tf::Buf esp = tf::cat({tf::ethernet(0x0800), tf::ipv4(50, 8 + 16), tf::esp(0x100, 5), tf::payload(16)});
  const tf::Buf udp = tf::cat({tf::ethernet(0x0800), tf::ipv4(17, 8 + 100), tf::udp(1000, 53, 100), tf::payload(100)});
  inspector->ports.resize(1);
  inspector->ports[0].push_back({time_ns - 2, 7, static_cast<std::uint32_t>(esp.size()), 0, 1, esp});
  inspector->ports[0].push_back({time_ns - 1, 8, static_cast<std::uint32_t>(udp.size()), 0, 1,
                                 std::vector<std::uint8_t>(udp.begin(), udp.begin() + 64)});
  s->inspector = inspector;
  return s;
}

inline engine::AnomalyEvent gap_event(const seq::SaKey& k, std::uint64_t ts, std::uint64_t expected = 4,
                                      std::uint64_t got = 6) {
  engine::AnomalyEvent e;
  e.sa = k;
  e.timestamp_ns = ts;
  e.packet_index = 3;
  e.expected = expected;
  e.got = got;
  e.count = got - expected;
  e.type = seq::EventType::gap;
  return e;
}

inline engine::FlowRecord flow_record(std::uint8_t proto, std::uint16_t sport, std::uint64_t bytes,
                                      std::uint64_t first_ns = 1'700'000'000'000'000'000ull,
                                      std::uint64_t duration_ns = 1'000'000'000ull) {
  engine::FlowRecord f;
  f.key.ip_version = 4;
  f.key.protocol = proto;
  f.key.addr_a = {10, 0, 0, 1};
  f.key.addr_b = {10, 0, 0, 2};
  f.key.port_a = sport;
  f.key.port_b = 443;
  f.a_to_b = {bytes / 100, bytes / 2};
  f.b_to_a = {bytes / 100, bytes - bytes / 2};
  f.first_seen_ns = first_ns;
  f.last_seen_ns = first_ns + duration_ns;
  f.reason = flow::EndReason::idle_timeout;
  return f;
}

inline std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace netscope::control::test
