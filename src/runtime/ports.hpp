// Port discovery and setup (internal to src/runtime).
#pragma once

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include <cstdint>
#include <string>
#include <vector>

#include "netscope/config/config.hpp"

namespace netscope::runtime {

struct PortState {
  std::uint16_t id = 0;
  std::string name;
  std::string driver;
  std::uint16_t rx_queues = 1;
  std::uint16_t max_rx_queues = 1;      ///< what the PMD offers (af_packet qpairs, NIC queues)
  std::uint64_t rss_offloads = 0;       ///< hash types the device can spread by (0: no RSS)
  std::uint8_t hash_key_size = 40;
  bool replay = false;                  ///< net_pcap reading files, without infinite_rx
  bool from_files = false;              ///< net_pcap reading files (infinite_rx too): the input can wait
  std::vector<std::string> files;       ///< rx_pcap files, one per queue
  std::uint64_t expected_packets = 0;   ///< records in all files
  std::uint64_t timestamp_scale = 0;    ///< mbuf timestamp units to ns; 0: use TSC
  std::string warning;
};

/// Discovers every ethdev port and reads replay inputs. Throws std::runtime_error with
/// a clear message.
std::vector<PortState> discover_ports();

/// Configures and starts a port with `rx_queues` RX queues. Throws std::runtime_error.
void start_port(const PortState& p, const config::Config& cfg, rte_mempool* pool, std::uint16_t tx_queues = 1);

/// Counts the records of a capture as net_pcap will read them (pcap_next until NULL).
std::uint64_t count_capture(const std::string& file, std::string& warning);

}  // namespace netscope::runtime
