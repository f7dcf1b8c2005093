// Threshold detections on one lcore: SYN flood, port scan, host scan and DDoS. State is
// kept in fixed-size bucket tables (the least recently used entry of a full bucket is
// evicted and counted); alerts go to an AlertRing the caller drains. Nothing allocates
// after construction, nothing throws, every call does bounded work.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "netscope/analysis/alert.hpp"
#include "netscope/analysis/hash_index.hpp"
#include "netscope/decode/packet.hpp"
#include "netscope/util/counter.hpp"

namespace netscope::analysis {

/// Thresholds and table sizes (a plain struct; YAML maps onto it field by field).
struct DetectionConfig {
  /// SYN flood: half-open connections (attempts minus completed handshakes) to one
  /// destination within one calendar second.
  std::uint32_t syn_flood_half_open = 1000;
  /// Port scan: distinct destination ports of failed connections from one source to one
  /// host within scan_window_ns (Zeek scan.zeek: 15 in 5 min).
  std::uint32_t port_scan_ports = 15;
  /// Host scan: distinct destination hosts of failed connections from one source to one
  /// port within scan_window_ns (Zeek scan.zeek: 25 in 5 min).
  std::uint32_t host_scan_hosts = 25;
  std::uint64_t scan_window_ns = 300'000'000'000ull;
  /// DDoS: packets to one destination within one second at or above
  /// max(ddos_min_pps, ddos_factor * baseline), once the baseline learned ddos_warmup_s
  /// seconds; or at or above ddos_absolute_pps whatever the baseline (0: off).
  double ddos_factor = 10.0;
  std::uint32_t ddos_min_pps = 10000;
  std::uint32_t ddos_absolute_pps = 0;
  double ddos_alpha = 0.1;  ///< EWMA weight of each completed second in the baseline
  std::uint32_t ddos_warmup_s = 10;
  /// After a SYN flood or DDoS alert for a destination, no new one for it this long.
  std::uint64_t holdoff_ns = 10'000'000'000ull;
  /// Table capacities (entries); scan thresholds above kMaxScanThreshold are clamped.
  std::uint32_t syn_destinations = 16384;
  std::uint32_t port_scan_pairs = 16384;
  std::uint32_t host_scan_keys = 16384;
  std::uint32_t ddos_destinations = 32768;
  std::array<Severity, kAlertTypeCount> severity = {Severity::high, Severity::medium, Severity::medium,
                                                    Severity::high, Severity::medium};
};

/// Counters; one writer, readable from any thread.
struct DetectorCounters {
  std::array<util::Counter, kAlertTypeCount> alerts;  ///< raised (some may be lost to a full ring)
  util::Counter syn_evictions;        ///< destinations forgotten to make room
  util::Counter port_scan_evictions;
  util::Counter host_scan_evictions;
  util::Counter ddos_evictions;
};

class Detector {
 public:
  static constexpr std::uint32_t kMaxScanThreshold = 256;

  /// Allocates all tables. `alerts` must outlive the detector.
  Detector(const DetectionConfig& cfg, AlertRing& alerts);
  ~Detector();
  Detector(const Detector&) = delete;
  Detector& operator=(const Detector&) = delete;

  /// Every IP packet (DDoS). One table update.
  void on_packet(const decode::IpAddr& src, const decode::IpAddr& dst, std::uint16_t vlan,
                 std::uint64_t now_ns) noexcept;
  /// A connection attempt: the first SYN (no ACK) of a TCP flow, not its retransmissions.
  void on_connection_attempt(const decode::IpAddr& src, const decode::IpAddr& dst, std::uint16_t dport,
                             std::uint16_t vlan, std::uint64_t now_ns) noexcept;
  /// The handshake of a TCP flow completed (TcpEvent::handshake_complete).
  void on_connection_established(const decode::IpAddr& src, const decode::IpAddr& dst, std::uint16_t dport,
                                 std::uint16_t vlan, std::uint64_t now_ns) noexcept;
  /// An attempt failed: rejected (RST before the handshake completed) or abandoned (the
  /// flow expired half-open). `src` is the originator. Feeds the scan detections.
  void on_connection_failed(const decode::IpAddr& src, const decode::IpAddr& dst, std::uint16_t dport,
                            std::uint16_t vlan, std::uint64_t now_ns) noexcept;

  [[nodiscard]] const DetectorCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const DetectionConfig& config() const noexcept { return cfg_; }
  /// Bytes of memory held, for the memory budget.
  [[nodiscard]] std::uint64_t memory_bytes() const noexcept;

  struct SynEntry;
  struct ScanEntry;
  struct HostScanEntry;
  struct DdosEntry;

 private:
  void raise(Alert& a) noexcept;

  DetectionConfig cfg_;
  AlertRing& alerts_;
  DetectorCounters counters_;
  std::unique_ptr<BucketTable<HostKey, SynEntry>> syn_;
  std::unique_ptr<BucketTable<HostPairKey, ScanEntry>> port_scan_;
  std::unique_ptr<BucketTable<HostKey, HostScanEntry>> host_scan_;
  std::unique_ptr<BucketTable<HostKey, DdosEntry>> ddos_;
  std::unique_ptr<std::uint32_t[]> port_sets_;  ///< port_scan_ports per port-scan entry
  std::unique_ptr<std::uint32_t[]> host_sets_;  ///< host_scan_hosts fingerprints per entry
};

}  // namespace netscope::analysis
