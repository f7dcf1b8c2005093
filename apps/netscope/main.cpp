// netscope [EAL options] -- [options]: replay or capture traffic through the DPDK data
// plane and report per-SA sequence anomalies.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "netscope/control/offline_report.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "netscope/config/config.hpp"
#include "netscope/runtime/runtime.hpp"
#include "netscope_version.h"

namespace {

struct Overrides {
  std::string config_file;
  std::optional<std::string> report_json;
  std::optional<std::uint32_t> window, stuck_threshold, max_sas, max_flows, max_anomalies,
      max_events, mbufs, rx_ring;
  std::optional<std::uint64_t> reset_threshold;
  std::optional<std::uint16_t> burst;
  std::optional<double> duration;
  std::vector<std::string> extended;
  std::optional<std::string> filter;
  std::vector<std::string> port_filters;
  std::vector<std::string> correlate;
  std::optional<std::string> xdp_prefilter, xdp_object;
  std::vector<std::string> rules;
  std::optional<std::string> mode, flows_out, flows_format, api_listen, db, api_key, gen, tx_truth_out,
      grpc_listen;
  std::optional<std::int32_t> tx_port;
  std::optional<std::uint32_t> tx_lcores;
  std::optional<double> tx_rate_pps;
  std::optional<std::uint64_t> tx_count, tx_seed;
  std::optional<double> flow_timeout, tcp_closed_timeout;
  std::optional<std::string> record_dir, record_filter;
  bool record_anomalies = false;
  bool record_malformed = false;
  std::optional<std::uint32_t> inspect_packets;
  bool live = false;
  bool no_progress = false;
  bool no_text = false;
  bool quiet = false;
};

void add_options(CLI::App& app, Overrides& o) {
  app.add_option("-c,--config", o.config_file, "YAML configuration file (see config/netscope.yaml)")
      ->check(CLI::ExistingFile);
  app.add_option("--report-json", o.report_json, "write the JSON report (docs/report-format.md) to FILE");
  app.add_option("--window", o.window, "replay window W in packets (32..4096, default 64)");
  app.add_option("--reset-threshold", o.reset_threshold, "backward jump that resets an SA (default 65536)");
  app.add_option("--stuck-threshold", o.stuck_threshold, "packets with one number that make a stuck event (default 8)");
  app.add_option("--extended", o.extended,
                 "extended numbering (XPN/ESN) for SAs: macsec[:SCI], esp[:SPI], ah[:SPI]; repeatable");
  app.add_option("--max-sas", o.max_sas, "SA table capacity per worker lcore");
  app.add_option("--max-flows", o.max_flows, "flow table capacity in total, split across worker lcores");
  app.add_option("--max-anomalies", o.max_anomalies, "anomalies listed in the report (all are counted)");
  app.add_option("--max-events", o.max_events, "anomaly events kept per worker lcore");
  app.add_option("--burst", o.burst, "RX burst size (1..512, default 32)");
  app.add_option("--mbufs", o.mbufs, "mbufs in the RX pool");
  app.add_option("--rx-ring", o.rx_ring, "RX descriptors per queue");
  app.add_option("--duration", o.duration, "stop after this many seconds");
  app.add_option("--mode", o.mode, "auto, rtc (each lcore polls its queues) or pipeline (RX lcores shard to workers)");
  app.add_option("--flows-out", o.flows_out, "export every flow record (expired, evicted, final) to FILE");
  app.add_option("--flows-format", o.flows_format, "jsonl (default) or csv");
  app.add_option("--flow-timeout", o.flow_timeout, "idle flow timeout in seconds (default 60)");
  app.add_option("--tcp-closed-timeout", o.tcp_closed_timeout, "timeout after TCP FIN/RST in seconds (default 5)");
  app.add_option("--api-listen", o.api_listen, "serve REST, WebSocket and /metrics on ADDR:PORT (default with --live: 127.0.0.1:8080; off: none)");
  app.add_option("--api-key", o.api_key, "require this X-API-Key on API requests");
  app.add_option("--grpc-listen", o.grpc_listen,
                 "serve gRPC on ADDR:PORT (default 127.0.0.1:50051 with --api-listen; off: none)");
  app.add_option("--db", o.db, "SQLite database file for SAs, flows, anomalies and stats history");
  app.add_option("--filter", o.filter, "tcpdump-syntax filter for every port (compiled to eBPF, JIT)");
  app.add_option("--port-filter", o.port_filters, "PORT=EXPR: filter for one port (id or name); repeatable");
  app.add_option("--correlate", o.correlate,
                 "A,B: correlate ports A and B (ids or names; two taps of one path): loss between them and "
                 "one-way latency; repeatable, after correlation.pairs");
  app.add_option("--xdp-prefilter", o.xdp_prefilter,
                 "net_af_xdp ports: load NetScope's XDP program, which sends only these to NetScope and the rest "
                 "to the kernel: comma-separated macsec, esp, ah, nat-t, or all");
  app.add_option("--xdp-object", o.xdp_object, "BPF object of the XDP pre-filter (default: the one built)");
  app.add_option("--rule", o.rules,
                 "include|exclude KEY=VALUE...: rule on decoded fields (protocol, sci, spi, mac, src_mac, dst_mac, "
                 "ip, src_ip, dst_ip, port, src_port, dst_port); repeatable, after capture.rules");
  app.add_option("--gen", o.gen, "generate traffic from this flow file (or builtin-demo) on --tx-port");
  app.add_option("--tx-port", o.tx_port, "port id the generator transmits on");
  app.add_option("--tx-lcores", o.tx_lcores, "lcores for TX, taken from the end of the EAL list (default 1)");
  app.add_option("--tx-rate-pps", o.tx_rate_pps, "generator rate in frames/s (default: as fast as possible)");
  app.add_option("--tx-count", o.tx_count, "frames to generate (default: until stopped)");
  app.add_option("--tx-seed", o.tx_seed, "generator seed (default 1)");
  app.add_option("--tx-truth-out", o.tx_truth_out, "write the truth of what was sent (JSON)");
  app.add_option("--record-dir", o.record_dir, "write recorded frames to pcapng files in DIR (docs/recording.md)");
  app.add_option("--record-filter", o.record_filter, "record the frames that match this tcpdump expression");
  app.add_flag("--record-anomalies", o.record_anomalies,
               "record the frames that raise a sequence anomaly, with recording.context_before/after frames around them");
  app.add_flag("--record-malformed", o.record_malformed, "record the frames that fail to decode");
  app.add_option("--inspect-packets", o.inspect_packets,
                 "frames kept per port for GET /api/v1/packets/inspect (default 64; 0: none)");
  app.add_flag("--live", o.live, "do not stop at the end of the captures; run until a signal");
  app.add_flag("--no-progress", o.no_progress, "no progress line on stderr");
  app.add_flag("--no-report", o.no_text, "no human report on stdout");
  app.add_flag("-q,--quiet", o.quiet, "print only the report");
}

netscope::config::Config build_config(const Overrides& o) {
  using netscope::config::Config;
  Config c;
  if (!o.config_file.empty()) c = netscope::config::load_yaml_file(o.config_file, c);
  if (o.report_json) c.report_json = *o.report_json;
  if (o.window) c.engine.tracker.window = *o.window;
  if (o.reset_threshold) c.engine.tracker.reset_threshold = *o.reset_threshold;
  if (o.stuck_threshold) c.engine.tracker.stuck_threshold = *o.stuck_threshold;
  for (const std::string& s : o.extended) {
    c.engine.extended.push_back(netscope::config::parse_extended_selector(s));
  }
  if (o.max_sas) c.engine.max_sas = *o.max_sas;
  if (o.max_flows) c.engine.max_flows = *o.max_flows;
  if (o.max_anomalies) c.max_anomalies = *o.max_anomalies;
  if (o.max_events) c.engine.max_events = *o.max_events;
  if (o.burst) c.burst = *o.burst;
  if (o.mbufs) c.mbufs = *o.mbufs;
  if (o.rx_ring) c.rx_ring = *o.rx_ring;
  if (o.duration) c.duration_s = *o.duration;
  if (o.live) c.live = true;
  if (o.mode) c.mode = *o.mode;
  if (o.filter) c.filter = *o.filter;
  for (const std::string& pf : o.port_filters) {
    const auto eq = pf.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw netscope::config::ConfigError("--port-filter '" + pf + "': expected PORT=EXPRESSION");
    }
    c.port_filters.emplace_back(pf.substr(0, eq), pf.substr(eq + 1));
  }
  for (const std::string& pr : o.correlate) {
    c.correlation_pairs.push_back(netscope::config::parse_correlation_pair(pr, "--correlate"));
  }
  if (o.xdp_prefilter) c.xdp_prefilter = netscope::config::parse_xdp_prefilter(*o.xdp_prefilter, "--xdp-prefilter");
  if (o.xdp_object) c.xdp_object = *o.xdp_object;
  for (const std::string& r : o.rules) {
    try {
      c.engine.rules.push_back(netscope::decode::parse_field_rule(r));
    } catch (const netscope::decode::RuleError& e) {
      throw netscope::config::ConfigError("--rule '" + r + "': " + e.what());
    }
  }
  if (o.gen) c.tx.scenario = *o.gen;
  if (o.tx_port) c.tx.port = *o.tx_port;
  if (o.tx_lcores) c.tx.lcores = *o.tx_lcores;
  if (o.tx_rate_pps) c.tx.rate_pps = *o.tx_rate_pps;
  if (o.tx_count) c.tx.count = *o.tx_count;
  if (o.tx_seed) c.tx.seed = *o.tx_seed;
  if (o.tx_truth_out) c.tx.truth_out = *o.tx_truth_out;
  if (o.api_listen) c.api.listen = *o.api_listen;
  if (o.api_key) c.api.key = *o.api_key;
  if (o.grpc_listen) c.grpc.listen = *o.grpc_listen;
  if (o.db) c.database.path = *o.db;
  if (o.flows_out) c.flows_out = *o.flows_out;
  if (o.record_dir) c.recording.dir = *o.record_dir;
  if (o.record_filter) c.recording.filter = *o.record_filter;
  if (o.record_anomalies) c.recording.anomalies = true;
  if (o.record_malformed) c.recording.malformed = true;
  if (o.inspect_packets) c.inspector.packets = *o.inspect_packets;
  if (o.flows_format) c.flows_format = *o.flows_format;
  if (o.flow_timeout) c.engine.timeouts.idle_ns = static_cast<std::uint64_t>(*o.flow_timeout * 1e9);
  if (o.tcp_closed_timeout) c.engine.timeouts.closed_ns = static_cast<std::uint64_t>(*o.tcp_closed_timeout * 1e9);
  if (o.no_progress || o.quiet) c.progress = false;
  if (o.no_text) c.report_text = false;
  netscope::config::validate(c);
  return c;
}

}  // namespace

/// `netscope report --db FILE [--json] [-o FILE]`: the report from a database file, offline.
int report_main(int argc, char** argv) {
  CLI::App app{"Prints the report kept in a NetScope database file (no DPDK needed).\n"
               "Usage: netscope report --db FILE [--json] [-o FILE]",
               "netscope report"};
  std::string db;
  std::string out;
  bool as_json = false;
  std::size_t max_anomalies = 100000;
  app.add_option("--db", db, "SQLite file written by netscope --db")->required();
  app.add_flag("--json", as_json, "JSON (the report's SA, anomaly and flow sections) instead of text");
  app.add_option("-o,--out", out, "write to FILE instead of standard output");
  app.add_option("--max-anomalies", max_anomalies, "anomalies listed at most")->check(CLI::Range(0, 100000000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    const nlohmann::json doc = netscope::control::report_from_database(db, max_anomalies);
    std::FILE* f = out.empty() ? stdout : std::fopen(out.c_str(), "w");
    if (f == nullptr) {
      std::fprintf(stderr, "netscope report: cannot write %s: %s\n", out.c_str(), std::strerror(errno));
      return 2;
    }
    if (as_json) {
      const std::string text = doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      std::fwrite(text.data(), 1, text.size(), f);
    } else {
      netscope::control::write_database_text(doc, f);
    }
    if (f != stdout) std::fclose(f);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "netscope report: %s\n", e.what());
    return 2;
  }
}

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "report") == 0) return report_main(argc - 1, argv + 1);
  // Split at "--": EAL options before it, ours after it (as dpdk-testpmd).
  int sep = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {
      sep = i;
      break;
    }
  }
  std::vector<char*> app_argv{argv[0]};
  for (int i = sep + 1; i < argc; ++i) app_argv.push_back(argv[i]);

  CLI::App app{"NetScope: MACsec/IPsec sequence analyzer on DPDK.\n"
               "Usage: netscope [EAL options] -- [options]\n"
               "Example: netscope --no-huge --no-pci -l 0-1 --vdev=net_pcap0,rx_pcap=in.pcap -- --report-json r.json",
               "netscope"};
  app.set_version_flag("--version", std::string("netscope ") + NETSCOPE_VERSION);
  Overrides o;
  add_options(app, o);
  netscope::config::Config cfg;
  try {
    app.parse(static_cast<int>(app_argv.size()), app_argv.data());
    cfg = build_config(o);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const netscope::config::ConfigError& e) {
    std::fprintf(stderr, "netscope: %s\n", e.what());
    return 2;
  }

  std::vector<std::string> eal_args(argv, argv + sep);
  if (const std::string why = netscope::runtime::prepare_live_capture(cfg, eal_args); !why.empty()) {
    std::fprintf(stderr, "netscope: %s\n", why.c_str());
    return 2;
  }
  std::vector<char*> eal_argv;
  for (std::string& a : eal_args) eal_argv.push_back(a.data());
  eal_argv.push_back(nullptr);
  if (netscope::runtime::init_eal(sep, eal_argv.data()) < 0) return 2;
  return netscope::runtime::run_analyzer(cfg, o.quiet);
}
