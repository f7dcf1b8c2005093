// NetScope run configuration: defaults, YAML loading, validation. Control side only.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "netscope/engine/worker.hpp"

namespace netscope::config {

/// A configuration error, with the name of the offending field in what().
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The API server (REST, WebSocket, /metrics, gRPC later).
struct ApiConfig {
  std::string listen;                 ///< "ADDR:PORT"; empty: no server
  std::string key;                    ///< X-API-Key required when set
  std::vector<std::string> cors_origins;
  double rate_limit = 0;              ///< requests per second per client; 0: unlimited
  double rate_limit_burst = 0;
  std::string tls_certificate;        ///< PEM with key and certificate: HTTPS
  bool metrics_require_key = false;
  unsigned threads = 16;
  std::uint32_t history_seconds = 3600;
  std::uint64_t packet_tap_pps = 2000;       ///< packets/s tapped for packets/recent (0: off)
  std::uint64_t packet_stream_pps = 1000000; ///< packets/s tapped while a packet stream is open
};

/// The gRPC server (docs/grpc.md).
struct GrpcConfig {
  std::string listen;            ///< "ADDR:PORT"; empty: 127.0.0.1:50051 when api.listen is set
                                 ///< (skipped with a warning if taken); "off": no gRPC server
  std::string tls_certificate;   ///< PEM certificate chain; with tls_key: TLS
  std::string tls_key;           ///< PEM private key
  std::string client_ca;         ///< PEM CA: require client certificates it signed (mTLS)
  std::string token;             ///< bearer token required on every call when set
  double rate_limit = 0;         ///< calls per second per client address; 0: unlimited
  double rate_limit_burst = 0;   ///< 0: max(1, 2 x rate_limit)
  std::uint32_t max_streams = 1024;  ///< open streaming calls at most
};

/// SQLite persistence.
struct DatabaseConfig {
  std::string path;                       ///< empty: no database
  double flush_interval_s = 5;
  std::uint32_t batch_rows = 10000;
  double retention_days = 30;
  double raw_retention_hours = 24;        ///< 1 s stats rows
  bool restore = true;                    ///< continue the SAs saved in the file at start
};

/// Generator TX lcores inside netscope: generate on one port while analyzing the ports.
struct TxConfig {
  std::string scenario;          ///< flow file (docs/generator.md); "builtin-demo" for the demo
  std::int32_t port = -1;        ///< TX port id; -1: no generator
  std::uint32_t lcores = 1;      ///< lcores taken from the end of the EAL list for TX
  double rate_pps = 0;           ///< 0: as fast as possible
  std::uint64_t count = 0;       ///< frames in total; 0: until stopped
  std::uint64_t seed = 1;
  std::string truth_out;         ///< truth of what was sent (JSON, report schema SA section)
};

/// Recording to pcapng files (docs/recording.md).
struct RecordingConfig {
  std::string dir;                      ///< where the files go; empty: no recording
  std::string prefix = "netscope";      ///< file names PREFIX-YYYYmmddTHHMMSSZ-NNNN.pcapng
  std::string filter;                   ///< tcpdump expression: matching frames are recorded
  bool anomalies = false;               ///< frames that raised a sequence anomaly, with context
  bool malformed = false;               ///< frames that failed to decode
  std::uint32_t context_before = 8;     ///< frames of the same port before an anomaly
  std::uint32_t context_after = 8;      ///< frames of the same port after an anomaly
  std::uint32_t snaplen = 2048;         ///< bytes kept per frame
  std::uint64_t file_bytes = 64ull << 20;  ///< rotate at this size (0: never)
  double file_seconds = 0;              ///< rotate after this long (0: never)
  std::uint64_t max_bytes = 0;          ///< delete the oldest files above this total (0: no cap)
  std::uint32_t queue = 1024;           ///< frames waiting for the writer (all lcores)
  [[nodiscard]] bool enabled() const { return !filter.empty() || anomalies || malformed; }
};

/// The packet inspector: the last frames of each port, for GET /api/v1/packets/inspect.
struct InspectorConfig {
  std::uint32_t packets = 64;   ///< frames kept per port (0: no inspector)
  std::uint32_t snaplen = 256;  ///< bytes kept per frame
  double refresh_s = 1;         ///< how often the workers send their frames
};

struct Config {
  engine::EngineConfig engine;          ///< window, thresholds, table sizes, extended SAs
  std::uint32_t max_anomalies = 10000;  ///< anomalies listed in the report
  std::uint32_t max_report_flows = 10000;  ///< flows listed in the JSON report
  std::string report_json;              ///< path, empty for none
  bool report_text = true;              ///< human report on stdout at the end
  bool progress = true;                 ///< progress line on stderr once a second
  std::uint16_t burst = 32;             ///< RX burst size, 1..512
  std::uint32_t mbufs = 8191;           ///< mbufs per pool
  std::uint32_t rx_ring = 1024;         ///< RX descriptors per queue
  double duration_s = 0;                ///< stop after this many seconds (0: no limit)
  bool live = false;                    ///< ignore end-of-capture, run until a signal
  std::string mode = "auto";            ///< "auto", "rtc" or "pipeline"
  std::uint32_t worker_ring = 4096;     ///< mbufs per RX->worker ring (pipeline)
  std::uint32_t record_ring = 16384;    ///< flow records / events per worker->control ring
  std::string flows_out;                ///< flow export file, empty for none
  std::string flows_format = "jsonl";   ///< "jsonl" or "csv"
  ApiConfig api;
  GrpcConfig grpc;
  DatabaseConfig database;
  TxConfig tx;
  RecordingConfig recording;
  InspectorConfig inspector;
  std::string filter;                                   ///< tcpdump expression for every port
  std::vector<std::pair<std::string, std::string>> port_filters;  ///< (port id or name, expression)
  /// XDP pre-filter on net_af_xdp ports: what goes to NetScope ("macsec", "esp", "ah",
  /// "nat-t", "all"); the rest stays with the kernel. Empty: no pre-filter.
  std::vector<std::string> xdp_prefilter;
  std::string xdp_object;                               ///< BPF object to load; empty: the built one
  /// Cross-port correlation: (port a, port b), each an id or an ethdev name, resolved at
  /// start. Window and table sizes are in engine.correlation.
  std::vector<std::pair<std::string, std::string>> correlation_pairs;
};

/// Loads a YAML file over `base`. Throws ConfigError naming the field (and file) on any
/// unknown key, wrong type or out-of-range value.
Config load_yaml_file(const std::string& path, Config base = {});
/// Same, from YAML text (tests).
Config load_yaml_text(const std::string& text, Config base = {});

/// Checks ranges after all overrides; throws ConfigError.
void validate(const Config& c);

/// Splits "macsec,esp" into its words and checks each is an XDP pre-filter class
/// (macsec, esp, ah, nat-t, all); throws ConfigError naming `where`.
std::vector<std::string> parse_xdp_prefilter(const std::string& text, const std::string& where);

/// Parses "A,B" (two port ids or names) for --correlate; throws ConfigError naming `where`.
std::pair<std::string, std::string> parse_correlation_pair(const std::string& text, const std::string& where);

/// Parses a size: bytes, or a number with K, M or G (powers of 1024); throws ConfigError
/// naming `where`.
std::uint64_t parse_bytes(const std::string& text, const std::string& where);

/// Parses "macsec[:SCI-hex]", "esp[:SPI]" or "ah[:SPI]" into a selector; throws ConfigError.
engine::ExtendedSelector parse_extended_selector(const std::string& text);

}  // namespace netscope::config
