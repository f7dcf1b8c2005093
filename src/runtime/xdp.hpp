// NetScope's XDP pre-filter on net_af_xdp ports (internal to src/runtime): finding the
// program the PMD attached, configuring it and reading its counters.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace netscope::runtime {

/// The pre-filter's counters, summed over CPUs (packets).
struct XdpCounters {
  std::uint64_t redirected = 0;  ///< handed to the AF_XDP socket
  std::uint64_t passed = 0;      ///< not wanted: left to the kernel stack
  std::uint64_t no_socket = 0;   ///< wanted, but no socket on the queue: left to the kernel
};

/// The ns_xdp_cfg bits for pre-filter classes ("macsec", "esp", "ah", "nat-t", "all");
/// empty gives the program's default (all but "all").
std::uint32_t xdp_class_mask(const std::vector<std::string>& classes);

/// NetScope's program on one interface, opened through the kernel by the interface's
/// attached program id (the PMD loaded it and keeps no handle we could share).
class XdpPrefilter {
 public:
  /// For a started port: when it is a net_af_xdp port whose interface runs NetScope's
  /// pre-filter, writes `mask` into the program's configuration and returns a handle;
  /// null for any other port or program. Throws std::runtime_error with a clear message.
  static std::unique_ptr<XdpPrefilter> open(std::uint16_t port_id, std::uint32_t mask);
  ~XdpPrefilter();
  XdpPrefilter(const XdpPrefilter&) = delete;
  XdpPrefilter& operator=(const XdpPrefilter&) = delete;

  /// Reads the per-CPU counters (one bpf syscall). Control lcore only; does not allocate
  /// after construction.
  XdpCounters counters() const;
  const std::string& interface() const { return ifname_; }
  std::uint32_t program_id() const { return prog_id_; }

 private:
  XdpPrefilter() = default;
  std::string ifname_;
  std::uint32_t prog_id_ = 0;
  int stats_fd_ = -1;
  mutable std::vector<std::uint64_t> per_cpu_;
};

}  // namespace netscope::runtime
