// The DPDK runtime: EAL, ports, RX lcores, control lcore. The only code that links DPDK.
#pragma once

#include <string>
#include <vector>

#include "netscope/config/config.hpp"

namespace netscope::runtime {

/// A capture named by an EAL `--vdev=net_pcap...,rx_pcap=FILE` argument.
struct CaptureArg {
  std::string vdev;  ///< "net_pcap0"
  std::string file;
};

/// Finds net_pcap rx_pcap files in EAL arguments (before rte_eal_init), so that unreadable
/// or non-pcap files get one clear error instead of an EAL probe failure.
std::vector<CaptureArg> find_capture_args(int argc, char** argv);

/// Checks a capture file with libpcap. Returns an empty string when it can be replayed,
/// else a one-line reason.
std::string check_capture(const std::string& file);

/// Before init_eal, for live capture: checks that every net_af_packet/net_af_xdp vdev names
/// an existing interface and that the process has the privileges it needs, and, with
/// cfg.xdp_prefilter, adds xdp_prog=<NetScope's XDP object> to the net_af_xdp vdevs that
/// have none. Returns an empty string, or one line saying what is wrong.
std::string prepare_live_capture(const config::Config& cfg, std::vector<std::string>& eal_args);

/// Initializes the EAL. Returns the number of arguments consumed (like rte_eal_init), or
/// -1 after printing one clear line.
int init_eal(int argc, char** argv);

/// Asks a running analyzer to stop (async-signal-safe).
void request_stop() noexcept;

/// Runs the analyzer on every ethdev port until the captures end, a signal or the
/// configured duration; then drains, writes the report and returns the exit code.
int run_analyzer(const config::Config& cfg, bool quiet);

}  // namespace netscope::runtime
