// Runs the real netscope binary under EAL (--no-huge, net_pcap vdevs) on captures the
// tests write, and reads its JSON report.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace netscope::itest {

using Frame = std::vector<std::uint8_t>;
using nlohmann::json;

/// Path of a binary built by Meson, passed through the environment.
inline std::string binary(const char* env) {
  const char* p = std::getenv(env);
  if (p == nullptr) throw std::runtime_error(std::string(env) + " is not set (run through meson test)");
  return p;
}

/// A fresh temporary directory for one test.
inline std::string temp_dir() {
  std::string tmpl = "/tmp/netscope-itest-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

/// Writes a classic microsecond pcap; packet i has timestamp start_us + i * step_us, or
/// times_us[i] when `times_us` is given (same size as `frames`).
inline void write_pcap(const std::string& path, const std::vector<Frame>& frames,
                       std::uint64_t start_us = 1'700'000'000'000'000ull, std::uint64_t step_us = 10,
                       const std::vector<std::uint64_t>* times_us = nullptr) {
  std::ofstream f(path, std::ios::binary);
  auto u32 = [&](std::uint32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](std::uint16_t v) { f.write(reinterpret_cast<const char*>(&v), 2); };
  u32(0xa1b2c3d4);
  u16(2);
  u16(4);
  u32(0);
  u32(0);
  u32(65535);
  u32(1);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const std::uint64_t t = times_us != nullptr ? (*times_us)[i] : start_us + i * step_us;
    u32(static_cast<std::uint32_t>(t / 1'000'000));
    u32(static_cast<std::uint32_t>(t % 1'000'000));
    u32(static_cast<std::uint32_t>(frames[i].size()));
    u32(static_cast<std::uint32_t>(frames[i].size()));
    f.write(reinterpret_cast<const char*>(frames[i].data()), static_cast<std::streamsize>(frames[i].size()));
  }
  if (!f) throw std::runtime_error("cannot write " + path);
}

inline std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

struct RunResult {
  int exit_code = -1;   ///< -1 when killed by the timeout
  int signal = 0;
  std::string out;
  std::string err;
  json report;          ///< parsed --report-json, null when absent
};

inline std::string unique_prefix() {
  static std::atomic<int> n{0};
  return "nsit" + std::to_string(getpid()) + "_" + std::to_string(n++);
}

/// Starts `exe` with `args`, stdout and stderr redirected to the given files.
inline pid_t spawn(const std::string& exe, const std::vector<std::string>& args, const std::string& out_path,
                   const std::string& err_path) {
  std::vector<std::string> argv_s{exe};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  const pid_t pid = fork();
  if (pid == 0) {
    const int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

/// Runs `exe` with `args`; stdout/stderr go to files in `dir`. Sends `stop_signal` once
/// `signal_after` has passed and, when `ready` is not empty, stderr contains `ready` (so a
/// loaded machine cannot deliver the signal before the program installed its handler);
/// kills after `timeout`.
inline RunResult run(const std::string& exe, const std::vector<std::string>& args,
                     const std::string& dir, std::chrono::milliseconds timeout = std::chrono::seconds(60),
                     int stop_signal = 0, std::chrono::milliseconds signal_after = {},
                     const std::string& ready = "") {
  const std::string out_path = dir + "/stdout.txt";
  const std::string err_path = dir + "/stderr.txt";
  const pid_t pid = spawn(exe, args, out_path, err_path);
  RunResult r;
  const auto start = std::chrono::steady_clock::now();
  bool signalled = false;
  int status = 0;
  for (;;) {
    const pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    const auto elapsed = std::chrono::steady_clock::now() - start;
    if (stop_signal != 0 && !signalled && elapsed >= signal_after &&
        (ready.empty() || slurp(err_path).find(ready) != std::string::npos)) {
      kill(pid, stop_signal);
      signalled = true;
    }
    if (elapsed > timeout) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      r.out = slurp(out_path);
      r.err = slurp(err_path) + "\n[harness: killed after timeout]";
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

/// EAL arguments for a test process: no hugepages, no PCI, its own file prefix.
inline std::vector<std::string> eal_args(const std::vector<std::string>& pcaps,
                                         const std::string& lcores = "0-1") {
  std::vector<std::string> a{"--no-huge", "--no-pci", "-m", "512", "--file-prefix", unique_prefix(),
                             "-l", lcores, "--log-level", "lib.eal:error"};
  for (std::size_t i = 0; i < pcaps.size(); ++i) {
    a.push_back("--vdev=net_pcap" + std::to_string(i) + ",rx_pcap=" + pcaps[i]);
  }
  return a;
}

/// Replays `pcaps` through netscope with extra app options; parses the JSON report.
inline RunResult replay(const std::string& dir, const std::vector<std::string>& pcaps,
                        std::vector<std::string> app_args = {}, const std::string& lcores = "0-1") {
  std::vector<std::string> args = eal_args(pcaps, lcores);
  args.push_back("--");
  const std::string report = dir + "/report.json";
  args.push_back("--report-json");
  args.push_back(report);
  args.insert(args.end(), app_args.begin(), app_args.end());
  RunResult r = run(binary("NETSCOPE_BIN"), args, dir);
  const std::string text = slurp(report);
  if (!text.empty()) r.report = json::parse(text, nullptr, false);
  return r;
}

/// Validates the JSON report at `report_path` against docs/report-schema.json (python3
/// jsonschema, Draft 2020-12). Empty when valid, else the validator's message.
inline std::string report_schema_errors(const std::string& report_path) {
  const std::string dir = temp_dir();
  const RunResult r = run("/usr/bin/python3",
                          {"-c",
                           "import json,sys,jsonschema; jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))"
                           ".validate(json.load(open(sys.argv[2])))",
                           binary("NETSCOPE_SOURCE_ROOT") + "/docs/report-schema.json", report_path},
                          dir);
  if (r.exit_code == 0) return {};
  return "report-schema.json rejects " + report_path + ":\n" + r.out + r.err;
}

/// The SA object in a report matching the given identity fields, or null.
inline json find_sa(const json& report, const json& match) {
  for (const auto& sa : report["sas"]) {
    bool ok = true;
    for (const auto& [k, v] : match.items()) {
      if (!sa.contains(k) || sa[k] != v) {
        ok = false;
        break;
      }
    }
    if (ok) return sa;
  }
  return nullptr;
}

}  // namespace netscope::itest
