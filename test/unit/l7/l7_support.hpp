// Test support for the L7 parsers: byte strings, Ethernet/IPv4/TCP/UDP frames and pcap
// files for tshark, tshark field extraction, child processes with deadlines (curl, ssh,
// openssl, tcpdump, python3 -m http.server), a loopback TCP listener and a pcap reader.
// Header-only; every helper fails the current test (never skips) when a tool is missing.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace netscope::l7::test {

using Buf = std::vector<std::uint8_t>;

inline Buf bytes(std::string_view s) { return Buf(s.begin(), s.end()); }

inline std::span<const std::uint8_t> span(const Buf& b) { return {b.data(), b.size()}; }

inline void put8(Buf& b, std::uint32_t v) { b.push_back(static_cast<std::uint8_t>(v)); }
inline void put16(Buf& b, std::uint32_t v) {
  put8(b, v >> 8);
  put8(b, v);
}
inline void put32(Buf& b, std::uint32_t v) {
  put16(b, v >> 16);
  put16(b, v);
}
inline void append(Buf& b, const Buf& more) { b.insert(b.end(), more.begin(), more.end()); }
inline void append(Buf& b, std::string_view more) { b.insert(b.end(), more.begin(), more.end()); }

// ---------------------------------------------------------------------------------------
// Frames and pcap files

struct Endpoint {
  std::uint32_t ip;  ///< host order
  std::uint16_t port;
};

inline std::uint16_t ones_complement(const std::uint8_t* p, std::size_t len) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < len; i += 2) sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  if (len % 2) sum += static_cast<std::uint32_t>(p[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

inline Buf ipv4_frame(std::uint8_t proto, Endpoint src, Endpoint dst, const Buf& l4) {
  Buf b;
  for (std::uint8_t v : {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01}) put8(b, v);
  put16(b, 0x0800);
  const std::size_t ip = b.size();
  put8(b, 0x45);
  put8(b, 0);
  put16(b, static_cast<std::uint32_t>(20 + l4.size()));
  put16(b, 1);
  put16(b, 0x4000);
  put8(b, 64);
  put8(b, proto);
  put16(b, 0);
  put32(b, src.ip);
  put32(b, dst.ip);
  const std::uint16_t c = ones_complement(b.data() + ip, 20);
  b[ip + 10] = static_cast<std::uint8_t>(c >> 8);
  b[ip + 11] = static_cast<std::uint8_t>(c);
  append(b, l4);
  return b;
}

namespace tcp_flags {
inline constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kPsh = 0x08, kAck = 0x10;
}

inline Buf tcp_frame(Endpoint src, Endpoint dst, std::uint32_t seq, std::uint32_t ack,
                     std::uint8_t flags, const Buf& payload = {}) {
  Buf t;
  put16(t, src.port);
  put16(t, dst.port);
  put32(t, seq);
  put32(t, ack);
  put8(t, 5 << 4);
  put8(t, flags);
  put16(t, 65535);
  put16(t, 0);
  put16(t, 0);
  append(t, payload);
  return ipv4_frame(6, src, dst, t);
}

inline Buf udp_frame(Endpoint src, Endpoint dst, const Buf& payload) {
  Buf u;
  put16(u, src.port);
  put16(u, dst.port);
  put16(u, static_cast<std::uint32_t>(8 + payload.size()));
  put16(u, 0);
  append(u, payload);
  return ipv4_frame(17, src, dst, u);
}

/// A TCP connection written frame by frame: handshake, data segments in either direction
/// (each acknowledging everything the other side sent), no loss.
class TcpConversation {
 public:
  TcpConversation(Endpoint client, Endpoint server) : client_(client), server_(server) {}

  void handshake(std::vector<Buf>& frames) {
    frames.push_back(tcp_frame(client_, server_, cseq_ - 1, 0, tcp_flags::kSyn));
    frames.push_back(
        tcp_frame(server_, client_, sseq_ - 1, cseq_, tcp_flags::kSyn | tcp_flags::kAck));
    frames.push_back(tcp_frame(client_, server_, cseq_, sseq_, tcp_flags::kAck));
  }
  Buf from_client(const Buf& payload) {
    Buf f = tcp_frame(client_, server_, cseq_, sseq_, tcp_flags::kPsh | tcp_flags::kAck, payload);
    cseq_ += static_cast<std::uint32_t>(payload.size());
    return f;
  }
  Buf from_server(const Buf& payload) {
    Buf f = tcp_frame(server_, client_, sseq_, cseq_, tcp_flags::kPsh | tcp_flags::kAck, payload);
    sseq_ += static_cast<std::uint32_t>(payload.size());
    return f;
  }

 private:
  Endpoint client_, server_;
  std::uint32_t cseq_ = 1000;
  std::uint32_t sseq_ = 5000;
};

inline void put_le(std::ofstream& out, std::uint32_t v, int n) {
  for (int i = 0; i < n; ++i) out.put(static_cast<char>(v >> (8 * i)));
}

/// Classic pcap, LINKTYPE_ETHERNET, one second between frames.
inline void write_pcap(const std::string& path, const std::vector<Buf>& frames) {
  std::ofstream out(path, std::ios::binary);
  put_le(out, 0xA1B2C3D4, 4);
  put_le(out, 2, 2);
  put_le(out, 4, 2);
  put_le(out, 0, 4);
  put_le(out, 0, 4);
  put_le(out, 65535, 4);
  put_le(out, 1, 4);
  std::uint32_t t = 1;
  for (const Buf& f : frames) {
    put_le(out, t++, 4);
    put_le(out, 0, 4);
    put_le(out, static_cast<std::uint32_t>(f.size()), 4);
    put_le(out, static_cast<std::uint32_t>(f.size()), 4);
    out.write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
  }
}

/// Frames of a classic pcap file (microsecond or nanosecond magic, either byte order).
inline std::vector<Buf> read_pcap(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const Buf all{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<Buf> frames;
  if (all.size() < 24) return frames;
  const std::uint32_t magic_le = all[0] | all[1] << 8 | all[2] << 16 | static_cast<std::uint32_t>(all[3]) << 24;
  const bool le = magic_le == 0xA1B2C3D4 || magic_le == 0xA1B23C4D;
  auto rd32 = [&](std::size_t o) -> std::uint32_t {
    return le ? (all[o] | all[o + 1] << 8 | all[o + 2] << 16 | static_cast<std::uint32_t>(all[o + 3]) << 24)
              : (static_cast<std::uint32_t>(all[o]) << 24 | all[o + 1] << 16 | all[o + 2] << 8 | all[o + 3]);
  };
  std::size_t off = 24;
  while (off + 16 <= all.size()) {
    const std::uint32_t caplen = rd32(off + 8);
    off += 16;
    if (off + caplen > all.size()) break;
    frames.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(off),
                        all.begin() + static_cast<std::ptrdiff_t>(off + caplen));
    off += caplen;
  }
  return frames;
}

// ---------------------------------------------------------------------------------------
// Commands

/// Output of a shell command and its exit status.
inline std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, out};
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

inline bool have_tool(const std::string& name) {
  return run("command -v " + name + " >/dev/null 2>&1").first == 0;
}

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t k = s.find(sep, start);
    parts.push_back(s.substr(start, k == std::string::npos ? std::string::npos : k - start));
    if (k == std::string::npos) return parts;
    start = k + 1;
  }
}

/// One row per frame, one column per field; several occurrences joined with ','.
inline std::vector<std::vector<std::string>> tshark_fields(const std::string& pcap,
                                                           const std::vector<std::string>& fields,
                                                           const std::string& options = "") {
  std::string cmd = "tshark -n " + options + " -r '" + pcap +
                    "' -T fields -E separator=/t -E occurrence=a -E aggregator=,";
  for (const std::string& f : fields) cmd += " -e " + f;
  cmd += " 2>/dev/null";
  const auto [status, out] = run(cmd);
  EXPECT_EQ(status, 0) << cmd;
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    auto cols = split(line, '\t');
    cols.resize(fields.size());
    rows.push_back(cols);
  }
  return rows;
}

inline std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "netscope_l7_" + std::to_string(::getpid()) + "_" + name;
}

/// Paths of temporary files, removed on destruction.
class TempFiles {
 public:
  explicit TempFiles(std::vector<std::string> paths) : paths_(std::move(paths)) {}
  TempFiles(const TempFiles&) = delete;
  TempFiles& operator=(const TempFiles&) = delete;
  ~TempFiles() {
    for (const std::string& p : paths_) std::remove(p.c_str());
  }
  const std::string& operator[](std::size_t i) const { return paths_[i]; }

 private:
  std::vector<std::string> paths_;
};

/// A child process; killed (SIGKILL) and reaped on destruction if still running.
class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  /// Starts argv[0] (PATH lookup) with stdin from /dev/null, stdout and stderr to files.
  bool start(const std::vector<std::string>& argv, const std::string& out_path,
             const std::string& err_path) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      const int in = ::open("/dev/null", O_RDONLY);
      const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(err, 2);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    return true;
  }

  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  /// Waits up to `timeout` for the exit; the exit status, or -1 on timeout (still running).
  int wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() > deadline) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes.
template <class Cond>
bool wait_until(Cond cond, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

/// A TCP socket listening on 127.0.0.1 on a kernel-chosen port.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 4) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  ~Listener() {
    if (conn_ >= 0) ::close(conn_);
    if (fd_ >= 0) ::close(fd_);
  }

  [[nodiscard]] std::uint16_t port() const { return port_; }

  bool accept(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return false;
    conn_ = ::accept(fd_, nullptr, nullptr);
    return conn_ >= 0;
  }

  bool send(std::string_view s) const {
    return ::send(conn_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }

  /// Reads until the data holds `end`, the peer closes, or the timeout passes.
  std::string read_until(std::string_view end, std::chrono::milliseconds timeout) const {
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (got.find(end) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{conn_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) != 1) break;
      char buf[2048];
      const ssize_t n = ::recv(conn_, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }

 private:
  int fd_ = -1;
  int conn_ = -1;
  std::uint16_t port_ = 0;
};

/// A port that was free a moment ago (bind to 0, read it back, close).
inline std::uint16_t free_tcp_port() {
  const Listener l;
  return l.port();
}

/// True when some socket listens on 127.0.0.1:port or *:port (from /proc/net/tcp).
inline bool tcp_listening(std::uint16_t port) {
  char want[8];
  std::snprintf(want, sizeof want, ":%04X", port);
  std::istringstream lines(read_file("/proc/net/tcp") + read_file("/proc/net/tcp6"));
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream cols(line);
    std::string sl, local, remote, state;
    cols >> sl >> local >> remote >> state;
    if (state == "0A" && local.size() > 5 && local.ends_with(want)) return true;
  }
  return false;
}

}  // namespace netscope::l7::test
