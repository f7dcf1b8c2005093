// The end-of-run report: JSON document (docs/report-format.md) and human text.
// Control side only: reads worker tables after the workers stopped.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "netscope/config/config.hpp"
#include "netscope/engine/worker.hpp"

namespace netscope::report {

inline constexpr int kReportVersion = 1;

/// What the runtime knows about one port at the end of a run.
struct PortSummary {
  std::uint16_t id = 0;
  std::string name;    ///< ethdev name, e.g. "net_pcap0"
  std::string driver;  ///< e.g. "net_pcap"
  std::string source;  ///< capture file(s) for replay ports, empty otherwise
  bool replay = false;
  std::uint64_t expected_packets = 0;  ///< records in the capture(s) (replay ports)
  std::uint64_t rx_packets = 0;        ///< rte_eth_stats ipackets
  std::uint64_t rx_bytes = 0;
  std::uint64_t rx_missed = 0;
  std::uint64_t rx_errors = 0;
  std::uint64_t rx_nombuf = 0;
  std::string filter;                 ///< tcpdump expression, empty when none
  std::uint64_t filter_passed = 0;
  std::uint64_t filter_rejected = 0;
  nlohmann::json xdp;                 ///< XDP pre-filter (interface, classes, counters); null when none
};

struct RunSummary {
  std::uint64_t start_unix_ns = 0;
  std::uint64_t end_unix_ns = 0;
  double wall_seconds = 0;
  std::string stop_reason;  ///< "end_of_input", "signal", "duration"
  std::vector<PortSummary> ports;
  std::vector<const engine::Worker*> workers;     ///< stopped workers (counters, SA tables)
  std::vector<engine::FlowRecord> flows;         ///< every flow record the workers emitted
  std::vector<engine::AnomalyEvent> events;      ///< events received by the control side
  std::string mode;                              ///< "rtc" or "pipeline"
  std::uint64_t ring_drops = 0;                  ///< packets dropped on full worker rings (live)
  std::uint64_t ring_waits = 0;                  ///< RX back-pressure waits on full rings (replay)
  const config::Config* config = nullptr;
  std::string capture_warning;  ///< e.g. a truncated capture file
  nlohmann::json generator;     ///< TX lcores' totals when netscope also generated; null otherwise
  nlohmann::json traffic;       ///< report::traffic_json of the sensors' final view; null when off
  nlohmann::json correlation;   ///< report::correlation_json of the final merge; null when off
  nlohmann::json recording;     ///< pcapng recording (dir, files, frames by reason); null when off
};

/// Writes an SA's identity fields (protocol; sci and an, or spi, dst and udp_encap), the
/// shape every SA and anomaly object shares in the report and the APIs.
void put_sa_identity(nlohmann::json& j, const seq::SaKey& k);

/// Adds one report SA object to `totals` (the report's totals.sas: per protocol the summed
/// counters and the number of SAs).
void add_sa_totals(nlohmann::json& totals, const nlohmann::json& sa);

/// Writes a flow record's analysis fields ("app", "icmp_errors", and "tcp", "http", "dns",
/// "tls", "ssh" when they apply), the shape the report, the flow export and the APIs share.
/// Text taken from packets is made printable ASCII (other bytes as \xNN).
void put_flow_analysis(nlohmann::json& j, const engine::FlowRecord& f);

/// Packet text (HTTP host, DNS name, ...) as printable ASCII, other bytes as \xNN.
std::string wire_text(std::string_view s);

/// Builds the versioned JSON report.
nlohmann::json build_json(const RunSummary& run);

/// Writes the human-readable report.
void write_text(const RunSummary& run, std::FILE* out);

}  // namespace netscope::report
