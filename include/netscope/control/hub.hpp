// The control-plane hub: the one object through which the DPDK control lcore hands state
// to the APIs (Prometheus /metrics, REST, WebSocket, gRPC) and to SQLite, and through
// which API clients send commands back. No DPDK. The APIs never touch a data-plane table:
// they see only what the control lcore published here.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "netscope/decode/packet.hpp"
#include "netscope/engine/worker.hpp"
#include "netscope/seq/tracker.hpp"

namespace netscope::control {

struct PortStats {
  std::uint16_t id = 0;
  std::string name;
  std::string driver;
  bool link_up = false;
  std::uint64_t rx_packets = 0, rx_bytes = 0, rx_missed = 0, rx_errors = 0, rx_nombuf = 0;
  std::uint64_t analyzed_packets = 0, analyzed_bytes = 0;
};

struct LcoreStats {
  unsigned lcore = 0;
  std::string role;  ///< "control", "rx", "worker", "rx+worker", "tx"
  std::uint64_t packets = 0;
  std::uint64_t busy_cycles = 0;  ///< TSC cycles spent in bursts that returned packets
  std::uint64_t idle_cycles = 0;  ///< TSC cycles spent polling empty queues
  std::uint64_t ring_fill = 0;    ///< current fill of the lcore's input ring(s), pipeline
  std::uint64_t ring_size = 0;
};

/// Everything the control lcore knows at one instant; published about once a second.
struct Snapshot {
  std::uint64_t time_ns = 0;        ///< wall clock
  double uptime_s = 0;
  bool paused = false;
  std::string mode;                 ///< "rtc", "pipeline", "single"
  std::uint64_t packets = 0, bytes = 0;
  std::array<std::uint64_t, engine::kTrafficClassCount> class_packets{};
  std::array<std::uint64_t, engine::kTrafficClassCount> class_bytes{};
  std::array<std::uint64_t, decode::kMalformedCount> malformed{};
  std::array<std::uint64_t, seq::kEventTypeCount> events{};
  std::uint64_t events_dropped = 0;
  std::uint64_t sas_active = 0;
  std::uint64_t flows_active = 0, flows_created = 0, flows_expired = 0, flows_evicted = 0;
  std::uint64_t flow_records_dropped = 0;
  std::uint64_t wrong_lcore = 0;
  std::uint64_t ring_drops = 0, ring_waits = 0;
  std::uint64_t mempool_in_use = 0, mempool_size = 0;
  std::vector<PortStats> ports;
  std::vector<LcoreStats> lcores;
  std::vector<engine::SaSummary> sas;  ///< latest state of every SA known
  /// Generator TX lcores, when netscope also generates (0 otherwise).
  std::uint64_t tx_packets = 0, tx_bytes = 0;
  double tx_rate_pps = 0;
};

/// A command from an API client, executed by the control lcore.
struct Command {
  enum class Type { pause, resume, reset_flow, add_filter, remove_filter } type = Type::pause;
  std::uint64_t id = 0;    ///< flow / SA id for reset, filter id for remove
  std::string text;        ///< filter expression for add
};

struct HubConfig {
  std::string api_listen;     ///< "127.0.0.1:8080"; empty: no HTTP server
  std::string db_path;        ///< SQLite file; empty: no persistence
  std::size_t max_events = 100000;   ///< anomalies kept in memory for the API
  std::size_t max_flows = 100000;    ///< finished flows kept in memory for the API
  std::size_t history_seconds = 3600;
  std::string api_key;        ///< required X-API-Key when non-empty
  std::vector<std::string> cors_origins;
  double rate_limit_rps = 0;  ///< per client; 0: unlimited
};

/// Thread-safe hub. The publish/on_* calls are made by the control lcore only and never
/// block on a client or the database: they copy into bounded buffers (oldest dropped and
/// counted) that the API and database threads read.
class Hub {
 public:
  explicit Hub(HubConfig cfg);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  /// Starts the HTTP/WebSocket server and the database writer. Throws std::runtime_error
  /// with a clear message (e.g. the port is in use, the database cannot be opened).
  void start();
  /// Stops the servers after flushing everything to the database.
  void stop();

  void publish(std::shared_ptr<const Snapshot> s);
  void on_event(const engine::AnomalyEvent& e);
  void on_flow(const engine::FlowRecord& f);

  /// Next pending command from an API client, if any.
  std::optional<Command> poll_command();

  /// The address actually bound (useful with port 0), empty before start().
  [[nodiscard]] std::string bound_address() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netscope::control
