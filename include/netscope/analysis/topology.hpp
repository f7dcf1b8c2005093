// Topology on one lcore: hosts (IP per VLAN) with their MAC binding and traffic, and edges
// (host pairs) with byte and packet counts, in bounded tables. A binding that moves to
// another MAC raises a mac_ip_change alert. No allocation after construction.
#pragma once

#include <cstdint>
#include <memory>

#include "netscope/analysis/alert.hpp"
#include "netscope/analysis/hash_index.hpp"
#include "netscope/decode/packet.hpp"
#include "netscope/util/counter.hpp"

namespace netscope::analysis {

struct TopologyConfig {
  std::uint32_t max_hosts = 16384;   ///< ~100 bytes each
  std::uint32_t max_edges = 65536;   ///< ~92 bytes each
};

/// A host: an IP address in a VLAN.
struct HostInfo {
  HostKey key;                  ///< address, version, VLAN
  std::uint64_t last_ns = 0;    ///< last packet or binding
  std::uint64_t first_ns = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t packets_sent = 0;
  std::uint64_t packets_received = 0;
  std::uint64_t mac_seen_ns = 0;  ///< when the binding was last confirmed
  decode::MacAddr mac{};          ///< bound MAC (ARP or observe_binding), when mac_known
  bool mac_known = false;
  std::uint16_t mac_changes = 0;  ///< saturating
};

/// An edge between two hosts, stored once for both directions (a = lower address).
struct EdgeInfo {
  HostPairKey key;
  std::uint64_t last_ns = 0;
  std::uint64_t first_ns = 0;
  std::uint64_t bytes_ab = 0;
  std::uint64_t bytes_ba = 0;
  std::uint64_t packets_ab = 0;
  std::uint64_t packets_ba = 0;
};

struct TopologyCounters {
  util::Counter bindings;         ///< binding observations
  util::Counter mac_changes;      ///< bindings that moved (each raised an alert)
  util::Counter host_evictions;   ///< hosts forgotten to make room
  util::Counter edge_evictions;
  util::Counter bad_arp;          ///< ARP frames too short or not Ethernet/IPv4
};

class Topology {
 public:
  /// Allocates both tables. `alerts` must outlive the topology.
  Topology(const TopologyConfig& cfg, AlertRing& alerts, Severity mac_change_severity = Severity::medium);

  /// A MAC/IP binding learned from ARP, NDP, DHCP...: creates the host or confirms it;
  /// a different MAC than the known one raises mac_ip_change. One table update.
  void observe_binding(const decode::IpAddr& ip, const decode::MacAddr& mac, std::uint16_t vlan,
                       std::uint64_t now_ns) noexcept;

  /// Learns the sender binding of an ARP frame (request or reply; probes from 0.0.0.0
  /// are ignored). Returns false when the frame is not a usable ARP packet.
  bool observe_arp(decode::Bytes frame, const decode::DecodedPacket& p, std::uint64_t now_ns) noexcept;

  /// Counts traffic from `src` to `dst`: both hosts and their edge. Per packet (packets
  /// = 1) or per flow record (totals). Three table updates; no allocation.
  void observe_traffic(const decode::IpAddr& src, const decode::IpAddr& dst, std::uint16_t vlan,
                       std::uint64_t bytes, std::uint64_t packets, std::uint64_t now_ns) noexcept;

  [[nodiscard]] const HostInfo* find_host(const decode::IpAddr& ip, std::uint16_t vlan) noexcept;
  [[nodiscard]] const EdgeInfo* find_edge(const decode::IpAddr& x, const decode::IpAddr& y,
                                          std::uint16_t vlan) noexcept;

  /// Visit every host / edge (owning lcore, or after it stopped).
  template <typename F>
  void for_each_host(F&& f) const {
    hosts_.for_each(f);
  }
  template <typename F>
  void for_each_edge(F&& f) const {
    edges_.for_each(f);
  }

  /// Slot-wise access for incremental walks: slots [0, host_slots()), nullptr when free.
  [[nodiscard]] std::size_t host_slots() const noexcept { return hosts_.capacity(); }
  [[nodiscard]] const HostInfo* host_at(std::size_t i) const noexcept { return hosts_.at(i); }
  [[nodiscard]] std::size_t edge_slots() const noexcept { return edges_.capacity(); }
  [[nodiscard]] const EdgeInfo* edge_at(std::size_t i) const noexcept { return edges_.at(i); }

  [[nodiscard]] std::uint32_t host_count() const noexcept { return hosts_.size(); }
  [[nodiscard]] std::uint32_t edge_count() const noexcept { return edges_.size(); }
  [[nodiscard]] const TopologyCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::uint64_t memory_bytes() const noexcept { return hosts_.memory_bytes() + edges_.memory_bytes(); }

 private:
  HostInfo& host(const decode::IpAddr& ip, std::uint16_t vlan, std::uint64_t now_ns) noexcept;

  AlertRing& alerts_;
  Severity mac_change_severity_;
  BucketTable<HostKey, HostInfo> hosts_;
  BucketTable<HostPairKey, EdgeInfo> edges_;
  TopologyCounters counters_;
};

}  // namespace netscope::analysis
