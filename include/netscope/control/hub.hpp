// The control-plane hub: the one object through which the DPDK control lcore hands state
// to the APIs (Prometheus /metrics, REST, WebSocket, gRPC) and to SQLite, and through
// which API clients send commands back. No DPDK. The APIs never touch a data-plane table:
// they see only what the control lcore published here.
#pragma once

#include <array>
#include <chrono>
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
  std::string filter;                ///< tcpdump expression of the port, empty for none
  std::uint64_t filter_passed = 0;   ///< received packets the filter let through (all without one)
  std::uint64_t filter_rejected = 0; ///< received packets the filter dropped
  bool xdp_prefilter = false;        ///< NetScope's XDP program runs on the port's interface
  std::uint64_t xdp_redirected = 0;  ///< frames the XDP program sent to NetScope's socket
  std::uint64_t xdp_passed = 0;      ///< frames it left to the kernel (not wanted)
  std::uint64_t xdp_no_socket = 0;   ///< wanted frames left to the kernel: no socket on that queue
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

/// One frame of the packet inspector (the last frames of a port).
struct InspectedFrame {
  std::uint64_t timestamp_ns = 0;
  std::uint64_t packet_index = 0;
  std::uint32_t wire_len = 0;
  std::uint16_t port = 0;
  std::uint16_t lcore = 0;
  std::vector<std::uint8_t> bytes;  ///< the first inspector.snaplen bytes
};

/// The packet inspector: per port, its last frames across all workers, oldest first.
struct InspectorView {
  std::uint64_t updated_ns = 0;  ///< wall clock when the control lcore last took frames
  std::uint32_t per_port = 0;    ///< frames kept per port
  std::uint32_t snaplen = 0;     ///< bytes kept per frame
  std::vector<std::vector<InspectedFrame>> ports;  ///< indexed by port id
};

/// Recording to pcapng files (docs/recording.md).
struct RecordingStats {
  bool enabled = false;
  std::string dir;
  std::uint64_t frames = 0;                 ///< written to files
  std::array<std::uint64_t, 5> by_reason{}; ///< per engine::CaptureReason
  std::uint64_t dropped = 0;                ///< captured but lost: queue full or write error
  std::uint64_t bytes = 0;                  ///< written to files
  std::uint64_t files = 0;                  ///< on disk now
  std::uint64_t files_opened = 0, files_deleted = 0;
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
  std::uint64_t tap_packets = 0, tap_dropped = 0;  ///< packet tap: summaries handed over / refused
  std::uint64_t sa_resets = 0;                     ///< SAs reset through the API
  std::uint64_t rules_excluded = 0;  ///< packets kept out by the field rules
  engine::FlowAnalysisTotals analysis;  ///< per-flow TCP/L7 analysis and reassembly
  std::uint64_t ring_drops = 0, ring_waits = 0;
  std::uint64_t mempool_in_use = 0, mempool_size = 0;
  std::vector<PortStats> ports;
  std::vector<LcoreStats> lcores;
  std::vector<engine::SaSummary> sas;  ///< latest state of every SA known
  /// Generator TX lcores, when netscope also generates (0 otherwise).
  std::uint64_t tx_packets = 0, tx_bytes = 0;
  double tx_rate_pps = 0;
  std::uint64_t tsc_hz = 0;         ///< TSC frequency: lcore cycles to seconds (0: unknown)
  std::uint64_t sa_table_full = 0;  ///< packets of new SAs that found the SA table full
  /// Top talkers, rates, topology and detection counts (null when sensors are off).
  std::shared_ptr<const engine::TrafficView> traffic;
  /// Cross-port correlation merged over the workers (null when no pair is configured).
  std::shared_ptr<const engine::CorrelationView> correlation;
  /// The packet inspector (null when inspector.packets is 0).
  std::shared_ptr<const InspectorView> inspector;
  RecordingStats recording;
};

/// A command from an API client, executed by the control lcore.
struct Command {
  enum class Type { pause, resume, reset_flow, add_filter, remove_filter, add_rule, remove_rule } type = Type::pause;
  std::uint64_t id = 0;    ///< flow / SA id for reset, filter id for add and remove
  std::string text;        ///< filter expression for add
};

struct HubConfig {
  std::string api_listen;     ///< "127.0.0.1:8080"; empty: no HTTP server
  std::string db_path;        ///< SQLite file; empty: no persistence
  std::size_t max_events = 100000;   ///< anomalies kept in memory for the API
  std::size_t max_flows = 100000;    ///< finished flows kept in memory for the API
  std::size_t history_seconds = 3600;
  std::size_t max_packets = 65536;   ///< packet-tap summaries kept for packets/recent and streams
  std::uint64_t tap_idle_pps = 2000;       ///< tap budget granted per second with no packet subscriber
  std::uint64_t tap_stream_pps = 1000000;  ///< per second while a packet stream is subscribed
  std::string api_key;        ///< required X-API-Key when non-empty
  std::vector<std::string> cors_origins;
  double rate_limit_rps = 0;  ///< per client; 0: unlimited

  // HTTP server (civetweb).
  double rate_limit_burst = 0;       ///< requests a client may send at once; 0: max(1, 2 x rps)
  std::string tls_certificate;       ///< PEM file holding key and certificate: serve HTTPS
  unsigned api_threads = 16;         ///< HTTP connections served at once (keep-alive included)
  bool metrics_require_key = false;  ///< also demand X-API-Key on /metrics
  std::size_t max_body_bytes = 65536;
  unsigned io_timeout_ms = 10000;    ///< a send or receive stuck this long fails the connection

  // WebSocket streams.
  unsigned ws_max_clients = 128;          ///< all streams together
  std::size_t ws_queue_messages = 256;    ///< per client; overflow closes it with 1008
  std::size_t ws_queue_bytes = 8u << 20;  ///< per client
  unsigned ws_ping_interval_ms = 5000;    ///< idle time before a ping; 6 unanswered close it
  std::size_t ws_batch_max = 1000;        ///< anomalies/flows per stream message at most
  unsigned ws_close_grace_ms = 2000;      ///< a slow client's 1008 close gets this long

  // Between the control lcore and the hub thread.
  std::size_t ingest_queue = 65536;  ///< events and flows each, buffered per hub tick
  std::size_t command_queue = 1024;

  // SQLite (when db_path is set).
  unsigned db_flush_interval_ms = 5000;         ///< a batch at least this often
  std::size_t db_batch_rows = 10000;            ///< or as soon as this many rows wait
  std::size_t db_queue_rows = 200000;           ///< rows waiting at most; more are dropped
  std::uint64_t db_retention_s = 30ull * 86400;  ///< flows, anomalies, SAs, 1 min/1 h stats
  std::uint64_t db_raw_retention_s = 86400;      ///< 1 s stats rows
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

  /// Hands over the latest state (control lcore, about once a second). Never blocks:
  /// takes the pointer and wakes the hub thread.
  void publish(std::shared_ptr<const Snapshot> s);
  /// Buffers one anomaly / finished flow for the API, streams and database. Never blocks
  /// and does not allocate: beyond HubConfig::ingest_queue per hub tick (10 ms) the
  /// record is dropped and counted (netscope_hub_dropped_records_total).
  void on_event(const engine::AnomalyEvent& e);
  void on_flow(const engine::FlowRecord& f);
  /// Buffers one packet-tap summary (same rules as on_event; dropped ones counted).
  void on_packet(const engine::PacketSummary& p);
  /// Packets per second the control lcore should let workers tap now: tap_stream_pps
  /// while a packet stream (gRPC StreamPackets, WebSocket) is subscribed, else tap_idle_pps.
  [[nodiscard]] std::uint64_t tap_rate() const noexcept;

  /// The shared state, for API front ends that live outside this library (gRPC).
  [[nodiscard]] class HubState& state() noexcept;

  /// Next pending command from an API client, if any. Never blocks.
  std::optional<Command> poll_command();

  /// The effective runtime configuration as a JSON object text, shown by GET
  /// /api/v1/config under "runtime". Any thread.
  void set_runtime_config(std::string json_object);

  /// The address actually bound (useful with port 0), empty before start().
  [[nodiscard]] std::string bound_address() const;

  /// The /metrics page as served now. Any thread.
  [[nodiscard]] std::string metrics_text() const;

  /// Waits until the hub thread has handled everything published before the call (and,
  /// when `database` is set, until the database has committed it). Returns false on
  /// timeout. For tests and orderly shutdown; never call it from the data plane.
  bool sync(std::chrono::milliseconds timeout, bool database = false);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netscope::control
