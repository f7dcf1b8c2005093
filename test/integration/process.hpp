// Long-running servers for integration tests: a child process the test talks to, shell
// commands, waiting for a line on stderr, free ports, JSON over curl.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <regex>

#include "harness.hpp"

namespace netscope::itest {

/// A child process with stdout/stderr in files, for servers the test talks to.
struct Process {
  pid_t pid = -1;
  std::string out, err;
  Process(const std::string& exe, const std::vector<std::string>& args, const std::string& dir,
          const std::string& name) {
    out = dir + "/" + name + ".out";
    err = dir + "/" + name + ".err";
    pid = spawn(exe, args, out, err);
  }
  /// Sends `sig` and waits up to `timeout`; returns the exit code (-1 if killed).
  int stop(int sig, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    if (pid <= 0) return -1;
    kill(pid, sig);
    const auto end = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > end) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        pid = -1;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  ~Process() {
    if (pid > 0) stop(SIGKILL, std::chrono::seconds(5));
  }
};

inline std::string sh(const std::string& cmd, int* rc = nullptr) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int r = pclose(p);
  if (rc != nullptr) *rc = WIFEXITED(r) ? WEXITSTATUS(r) : -1;
  return out;
}

/// Waits until `file` contains a match of `re`; returns the first group.
inline std::string wait_for(const std::string& file, const std::regex& re, std::chrono::seconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    std::smatch m;
    const std::string text = slurp(file);
    if (std::regex_search(text, m, re)) return m[1];
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return {};
}

inline std::uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

inline json get_json(const std::string& url, const std::string& extra = "") {
  const std::string body = sh("curl -s -m 5 " + extra + " '" + url + "'");
  return json::parse(body, nullptr, false);
}

}  // namespace netscope::itest
