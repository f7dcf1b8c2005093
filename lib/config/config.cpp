#include "netscope/config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

namespace netscope::config {

namespace {

std::uint64_t parse_u64(const std::string& text, const std::string& field, int base = 0) {
  try {
    std::size_t pos = 0;
    const unsigned long long v = std::stoull(text, &pos, base);
    if (pos != text.size() || text.empty() || text[0] == '-') throw std::invalid_argument(text);
    return v;
  } catch (const std::exception&) {
    throw ConfigError(field + ": '" + text + "' is not a non-negative integer");
  }
}

template <typename T>
T scalar(const YAML::Node& n, const std::string& field) {
  if (!n.IsScalar()) throw ConfigError(field + ": expected a scalar value");
  if constexpr (std::is_same_v<T, bool>) {
    bool v = false;
    if (!YAML::convert<bool>::decode(n, v)) {
      throw ConfigError(field + ": '" + n.Scalar() + "' is not true/false");
    }
    return v;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return n.Scalar();
  } else if constexpr (std::is_same_v<T, double>) {
    try {
      return n.as<double>();
    } catch (const YAML::Exception&) {
      throw ConfigError(field + ": '" + n.Scalar() + "' is not a number");
    }
  } else {
    const std::uint64_t v = parse_u64(n.Scalar(), field);
    if (v > std::numeric_limits<T>::max()) throw ConfigError(field + ": value too large");
    return static_cast<T>(v);
  }
}

void check_keys(const YAML::Node& map, const std::string& where,
                const std::set<std::string>& allowed) {
  if (!map.IsMap()) throw ConfigError(where + ": expected a mapping");
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    if (!allowed.contains(key)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw ConfigError((where.empty() ? key : where + "." + key) +
                        ": unknown key (expected one of: " + list + ")");
    }
  }
}

engine::ExtendedSelector selector_from_yaml(const YAML::Node& n, const std::string& where) {
  check_keys(n, where, {"protocol", "sci", "spi"});
  if (!n["protocol"]) throw ConfigError(where + ".protocol: missing");
  std::string text = scalar<std::string>(n["protocol"], where + ".protocol");
  if (n["sci"]) text += ":" + scalar<std::string>(n["sci"], where + ".sci");
  if (n["spi"]) text += ":" + scalar<std::string>(n["spi"], where + ".spi");
  try {
    return parse_extended_selector(text);
  } catch (const ConfigError& e) {
    throw ConfigError(where + ": " + e.what());
  }
}

analysis::Severity severity_from(const YAML::Node& n, const std::string& where) {
  const std::string t = scalar<std::string>(n, where);
  for (int i = 0; i <= static_cast<int>(analysis::Severity::critical); ++i) {
    if (analysis::to_string(static_cast<analysis::Severity>(i)) == t) return static_cast<analysis::Severity>(i);
  }
  throw ConfigError(where + ": '" + t + "' must be info, low, medium, high or critical");
}

/// `sensors:` (tables, publication) and `detection:` (thresholds), docs/configuration.md.
void apply_sensors(const YAML::Node& root, engine::SensorConfig& sc) {
  if (const auto n = root["sensors"]) {
    check_keys(n, "sensors", {"enabled", "top_k", "top_flows", "publish_interval", "publish_work", "hosts_per_worker",
                              "edges_per_worker", "destinations_per_worker", "merged_hosts", "merged_edges"});
    if (n["enabled"]) sc.enabled = scalar<bool>(n["enabled"], "sensors.enabled");
    if (n["top_k"]) sc.top_k = scalar<std::uint32_t>(n["top_k"], "sensors.top_k");
    if (n["top_flows"]) sc.top_flows = scalar<std::uint32_t>(n["top_flows"], "sensors.top_flows");
    if (n["publish_interval"]) {
      sc.publish_interval_ns =
          static_cast<std::uint64_t>(scalar<double>(n["publish_interval"], "sensors.publish_interval") * 1e9);
    }
    if (n["publish_work"]) sc.publish_work = scalar<std::uint32_t>(n["publish_work"], "sensors.publish_work");
    if (n["hosts_per_worker"]) sc.max_hosts = scalar<std::uint32_t>(n["hosts_per_worker"], "sensors.hosts_per_worker");
    if (n["edges_per_worker"]) sc.max_edges = scalar<std::uint32_t>(n["edges_per_worker"], "sensors.edges_per_worker");
    if (n["destinations_per_worker"]) {
      sc.destinations = scalar<std::uint32_t>(n["destinations_per_worker"], "sensors.destinations_per_worker");
    }
    if (n["merged_hosts"]) sc.merged_hosts = scalar<std::uint32_t>(n["merged_hosts"], "sensors.merged_hosts");
    if (n["merged_edges"]) sc.merged_edges = scalar<std::uint32_t>(n["merged_edges"], "sensors.merged_edges");
  }
  const auto d = root["detection"];
  if (!d) return;
  analysis::DetectionConfig& c = sc.detection;
  const auto sev = [&](const YAML::Node& n, const std::string& where, analysis::AlertType t) {
    if (n["severity"]) c.severity[static_cast<std::size_t>(t)] = severity_from(n["severity"], where + ".severity");
  };
  check_keys(d, "detection", {"syn_flood", "port_scan", "host_scan", "scan_window", "ddos", "mac_ip_change", "holdoff"});
  if (d["scan_window"]) c.scan_window_ns = static_cast<std::uint64_t>(scalar<double>(d["scan_window"], "detection.scan_window") * 1e9);
  if (d["holdoff"]) c.holdoff_ns = static_cast<std::uint64_t>(scalar<double>(d["holdoff"], "detection.holdoff") * 1e9);
  if (const auto n = d["syn_flood"]) {
    check_keys(n, "detection.syn_flood", {"half_open", "severity"});
    if (n["half_open"]) c.syn_flood_half_open = scalar<std::uint32_t>(n["half_open"], "detection.syn_flood.half_open");
    sev(n, "detection.syn_flood", analysis::AlertType::syn_flood);
  }
  if (const auto n = d["port_scan"]) {
    check_keys(n, "detection.port_scan", {"ports", "severity"});
    if (n["ports"]) c.port_scan_ports = scalar<std::uint32_t>(n["ports"], "detection.port_scan.ports");
    sev(n, "detection.port_scan", analysis::AlertType::port_scan);
  }
  if (const auto n = d["host_scan"]) {
    check_keys(n, "detection.host_scan", {"hosts", "severity"});
    if (n["hosts"]) c.host_scan_hosts = scalar<std::uint32_t>(n["hosts"], "detection.host_scan.hosts");
    sev(n, "detection.host_scan", analysis::AlertType::host_scan);
  }
  if (const auto n = d["ddos"]) {
    check_keys(n, "detection.ddos", {"factor", "min_pps", "absolute_pps", "alpha", "warmup", "severity"});
    if (n["factor"]) c.ddos_factor = scalar<double>(n["factor"], "detection.ddos.factor");
    if (n["min_pps"]) c.ddos_min_pps = scalar<std::uint32_t>(n["min_pps"], "detection.ddos.min_pps");
    if (n["absolute_pps"]) c.ddos_absolute_pps = scalar<std::uint32_t>(n["absolute_pps"], "detection.ddos.absolute_pps");
    if (n["alpha"]) c.ddos_alpha = scalar<double>(n["alpha"], "detection.ddos.alpha");
    if (n["warmup"]) c.ddos_warmup_s = scalar<std::uint32_t>(n["warmup"], "detection.ddos.warmup");
    sev(n, "detection.ddos", analysis::AlertType::ddos);
  }
  if (const auto n = d["mac_ip_change"]) {
    check_keys(n, "detection.mac_ip_change", {"severity"});
    sev(n, "detection.mac_ip_change", analysis::AlertType::mac_ip_change);
  }
}

/// `correlation:` (docs/configuration.md): port pairs, window, table sizes.
void apply_correlation(const YAML::Node& root, Config& c) {
  const auto n = root["correlation"];
  if (!n) return;
  check_keys(n, "correlation", {"pairs", "window", "max_pending", "max_sas"});
  engine::CorrelationConfig& cc = c.engine.correlation;
  if (n["window"]) {
    const double w = scalar<double>(n["window"], "correlation.window");
    if (!(w > 0 && w <= 3600)) throw ConfigError("correlation.window: must be in (0, 3600] seconds");
    cc.window_ns = static_cast<std::uint64_t>(w * 1e9);
  }
  if (n["max_pending"]) cc.max_pending = scalar<std::uint32_t>(n["max_pending"], "correlation.max_pending");
  if (n["max_sas"]) cc.max_sas = scalar<std::uint32_t>(n["max_sas"], "correlation.max_sas");
  if (const auto pairs = n["pairs"]) {
    if (!pairs.IsSequence()) throw ConfigError("correlation.pairs: expected a list of {a: PORT, b: PORT}");
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const std::string where = "correlation.pairs[" + std::to_string(i) + "]";
      check_keys(pairs[i], where, {"a", "b"});
      if (!pairs[i]["a"] || !pairs[i]["b"]) throw ConfigError(where + ": needs both a and b (port id or name)");
      c.correlation_pairs.emplace_back(scalar<std::string>(pairs[i]["a"], where + ".a"),
                                       scalar<std::string>(pairs[i]["b"], where + ".b"));
    }
  }
}

Config apply(const YAML::Node& root, Config c) {
  if (!root || root.IsNull()) return c;
  check_keys(root, "", {"sequence", "limits", "output", "runtime", "flows", "api", "grpc", "database", "generator", "capture",
                        "sensors", "detection", "correlation", "recording", "inspector"});
  apply_sensors(root, c.engine.sensors);
  if (const auto r = root["recording"]) {
    check_keys(r, "recording", {"dir", "prefix", "filter", "anomalies", "malformed", "context_before", "context_after",
                                "snaplen", "file_size", "file_seconds", "max_total", "queue"});
    if (r["dir"]) c.recording.dir = scalar<std::string>(r["dir"], "recording.dir");
    if (r["prefix"]) c.recording.prefix = scalar<std::string>(r["prefix"], "recording.prefix");
    if (r["filter"]) c.recording.filter = scalar<std::string>(r["filter"], "recording.filter");
    if (r["anomalies"]) c.recording.anomalies = scalar<bool>(r["anomalies"], "recording.anomalies");
    if (r["malformed"]) c.recording.malformed = scalar<bool>(r["malformed"], "recording.malformed");
    if (r["context_before"]) c.recording.context_before = scalar<std::uint32_t>(r["context_before"], "recording.context_before");
    if (r["context_after"]) c.recording.context_after = scalar<std::uint32_t>(r["context_after"], "recording.context_after");
    if (r["snaplen"]) c.recording.snaplen = scalar<std::uint32_t>(r["snaplen"], "recording.snaplen");
    if (r["file_size"]) c.recording.file_bytes = parse_bytes(scalar<std::string>(r["file_size"], "recording.file_size"), "recording.file_size");
    if (r["file_seconds"]) c.recording.file_seconds = scalar<double>(r["file_seconds"], "recording.file_seconds");
    if (r["max_total"]) c.recording.max_bytes = parse_bytes(scalar<std::string>(r["max_total"], "recording.max_total"), "recording.max_total");
    if (r["queue"]) c.recording.queue = scalar<std::uint32_t>(r["queue"], "recording.queue");
  }
  if (const auto i = root["inspector"]) {
    check_keys(i, "inspector", {"packets", "snaplen", "refresh"});
    if (i["packets"]) c.inspector.packets = scalar<std::uint32_t>(i["packets"], "inspector.packets");
    if (i["snaplen"]) c.inspector.snaplen = scalar<std::uint32_t>(i["snaplen"], "inspector.snaplen");
    if (i["refresh"]) c.inspector.refresh_s = scalar<double>(i["refresh"], "inspector.refresh");
  }
  apply_correlation(root, c);
  if (const auto cap = root["capture"]) {
    check_keys(cap, "capture", {"filter", "port_filters", "xdp_prefilter", "xdp_object", "rules"});
    if (const auto rules = cap["rules"]) {
      if (!rules.IsSequence()) throw ConfigError("capture.rules: expected a list of rules");
      std::size_t i = 0;
      for (const auto& r : rules) {
        const std::string where = "capture.rules[" + std::to_string(i++) + "]";
        std::string text;
        if (r.IsMap()) {  // {action: exclude, protocol: esp, spi: 0x10}
          if (!r["action"]) throw ConfigError(where + ".action: missing (include or exclude)");
          text = scalar<std::string>(r["action"], where + ".action");
          for (const auto& kv : r) {
            const std::string key = kv.first.as<std::string>();
            if (key != "action") text += " " + key + "=" + scalar<std::string>(kv.second, where + "." + key);
          }
        } else {
          text = scalar<std::string>(r, where);
        }
        try {
          c.engine.rules.push_back(decode::parse_field_rule(text));
        } catch (const decode::RuleError& e) {
          throw ConfigError(where + ": " + e.what());
        }
      }
    }
    if (const auto x = cap["xdp_prefilter"]) {
      std::string text;
      if (x.IsSequence()) {
        for (const auto& e : x) text += (text.empty() ? "" : ",") + scalar<std::string>(e, "capture.xdp_prefilter");
      } else {
        text = scalar<std::string>(x, "capture.xdp_prefilter");
      }
      c.xdp_prefilter = parse_xdp_prefilter(text, "capture.xdp_prefilter");
    }
    if (cap["xdp_object"]) c.xdp_object = scalar<std::string>(cap["xdp_object"], "capture.xdp_object");
    if (cap["filter"]) c.filter = scalar<std::string>(cap["filter"], "capture.filter");
    if (const auto pf = cap["port_filters"]) {
      if (!pf.IsMap()) throw ConfigError("capture.port_filters: expected a mapping PORT: EXPRESSION");
      for (const auto& kv : pf) {
        const std::string port = kv.first.as<std::string>();
        c.port_filters.emplace_back(port, scalar<std::string>(kv.second, "capture.port_filters." + port));
      }
    }
  }
  if (const auto t = root["generator"]) {
    check_keys(t, "generator", {"scenario", "port", "lcores", "rate_pps", "count", "seed", "truth_out"});
    if (t["scenario"]) c.tx.scenario = scalar<std::string>(t["scenario"], "generator.scenario");
    if (t["port"]) c.tx.port = static_cast<std::int32_t>(scalar<std::uint16_t>(t["port"], "generator.port"));
    if (t["lcores"]) c.tx.lcores = scalar<std::uint32_t>(t["lcores"], "generator.lcores");
    if (t["rate_pps"]) c.tx.rate_pps = scalar<double>(t["rate_pps"], "generator.rate_pps");
    if (t["count"]) c.tx.count = scalar<std::uint64_t>(t["count"], "generator.count");
    if (t["seed"]) c.tx.seed = scalar<std::uint64_t>(t["seed"], "generator.seed");
    if (t["truth_out"]) c.tx.truth_out = scalar<std::string>(t["truth_out"], "generator.truth_out");
  }
  if (const auto a = root["api"]) {
    check_keys(a, "api", {"listen", "key", "cors_origins", "rate_limit", "rate_limit_burst", "tls_certificate",
                          "metrics_require_key", "threads", "history_seconds", "packet_tap_pps", "packet_stream_pps"});
    if (a["packet_tap_pps"]) c.api.packet_tap_pps = scalar<std::uint64_t>(a["packet_tap_pps"], "api.packet_tap_pps");
    if (a["packet_stream_pps"]) c.api.packet_stream_pps = scalar<std::uint64_t>(a["packet_stream_pps"], "api.packet_stream_pps");
    if (a["listen"]) c.api.listen = scalar<std::string>(a["listen"], "api.listen");
    if (a["key"]) c.api.key = scalar<std::string>(a["key"], "api.key");
    if (const auto o = a["cors_origins"]) {
      if (!o.IsSequence()) throw ConfigError("api.cors_origins: expected a list");
      for (std::size_t i = 0; i < o.size(); ++i)
        c.api.cors_origins.push_back(scalar<std::string>(o[i], "api.cors_origins[" + std::to_string(i) + "]"));
    }
    if (a["rate_limit"]) c.api.rate_limit = scalar<double>(a["rate_limit"], "api.rate_limit");
    if (a["rate_limit_burst"]) c.api.rate_limit_burst = scalar<double>(a["rate_limit_burst"], "api.rate_limit_burst");
    if (a["tls_certificate"]) c.api.tls_certificate = scalar<std::string>(a["tls_certificate"], "api.tls_certificate");
    if (a["metrics_require_key"]) c.api.metrics_require_key = scalar<bool>(a["metrics_require_key"], "api.metrics_require_key");
    if (a["threads"]) c.api.threads = scalar<std::uint32_t>(a["threads"], "api.threads");
    if (a["history_seconds"]) c.api.history_seconds = scalar<std::uint32_t>(a["history_seconds"], "api.history_seconds");
  }
  if (const auto g = root["grpc"]) {
    check_keys(g, "grpc", {"listen", "tls_certificate", "tls_key", "client_ca", "token", "rate_limit",
                           "rate_limit_burst", "max_streams"});
    if (g["listen"]) c.grpc.listen = scalar<std::string>(g["listen"], "grpc.listen");
    if (g["tls_certificate"]) c.grpc.tls_certificate = scalar<std::string>(g["tls_certificate"], "grpc.tls_certificate");
    if (g["tls_key"]) c.grpc.tls_key = scalar<std::string>(g["tls_key"], "grpc.tls_key");
    if (g["client_ca"]) c.grpc.client_ca = scalar<std::string>(g["client_ca"], "grpc.client_ca");
    if (g["token"]) c.grpc.token = scalar<std::string>(g["token"], "grpc.token");
    if (g["rate_limit"]) c.grpc.rate_limit = scalar<double>(g["rate_limit"], "grpc.rate_limit");
    if (g["rate_limit_burst"]) c.grpc.rate_limit_burst = scalar<double>(g["rate_limit_burst"], "grpc.rate_limit_burst");
    if (g["max_streams"]) c.grpc.max_streams = scalar<std::uint32_t>(g["max_streams"], "grpc.max_streams");
  }
  if (const auto d = root["database"]) {
    check_keys(d, "database", {"path", "flush_interval", "batch_rows", "retention_days", "raw_retention_hours", "restore"});
    if (d["restore"]) c.database.restore = scalar<bool>(d["restore"], "database.restore");
    if (d["path"]) c.database.path = scalar<std::string>(d["path"], "database.path");
    if (d["flush_interval"]) c.database.flush_interval_s = scalar<double>(d["flush_interval"], "database.flush_interval");
    if (d["batch_rows"]) c.database.batch_rows = scalar<std::uint32_t>(d["batch_rows"], "database.batch_rows");
    if (d["retention_days"]) c.database.retention_days = scalar<double>(d["retention_days"], "database.retention_days");
    if (d["raw_retention_hours"])
      c.database.raw_retention_hours = scalar<double>(d["raw_retention_hours"], "database.raw_retention_hours");
  }
  if (const auto f = root["flows"]) {
    check_keys(f, "flows", {"idle_timeout", "tcp_closed_timeout", "expiry_work"});
    if (f["idle_timeout"])
      c.engine.timeouts.idle_ns = static_cast<std::uint64_t>(scalar<double>(f["idle_timeout"], "flows.idle_timeout") * 1e9);
    if (f["tcp_closed_timeout"])
      c.engine.timeouts.closed_ns =
          static_cast<std::uint64_t>(scalar<double>(f["tcp_closed_timeout"], "flows.tcp_closed_timeout") * 1e9);
    if (f["expiry_work"]) c.engine.expiry_work = scalar<std::uint32_t>(f["expiry_work"], "flows.expiry_work");
  }
  if (const auto s = root["sequence"]) {
    check_keys(s, "sequence", {"window", "reset_threshold", "stuck_threshold", "extended"});
    auto& t = c.engine.tracker;
    if (s["window"]) t.window = scalar<std::uint32_t>(s["window"], "sequence.window");
    if (s["reset_threshold"])
      t.reset_threshold = scalar<std::uint64_t>(s["reset_threshold"], "sequence.reset_threshold");
    if (s["stuck_threshold"])
      t.stuck_threshold = scalar<std::uint32_t>(s["stuck_threshold"], "sequence.stuck_threshold");
    if (const auto ext = s["extended"]) {
      if (!ext.IsSequence()) throw ConfigError("sequence.extended: expected a list");
      for (std::size_t i = 0; i < ext.size(); ++i) {
        c.engine.extended.push_back(
            selector_from_yaml(ext[i], "sequence.extended[" + std::to_string(i) + "]"));
      }
    }
  }
  if (const auto l = root["limits"]) {
    check_keys(l, "limits", {"max_sas", "max_flows", "max_anomalies", "max_events", "max_report_flows"});
    if (l["max_report_flows"])
      c.max_report_flows = scalar<std::uint32_t>(l["max_report_flows"], "limits.max_report_flows");
    if (l["max_sas"]) c.engine.max_sas = scalar<std::uint32_t>(l["max_sas"], "limits.max_sas");
    if (l["max_flows"])
      c.engine.max_flows = scalar<std::uint32_t>(l["max_flows"], "limits.max_flows");
    if (l["max_anomalies"])
      c.max_anomalies = scalar<std::uint32_t>(l["max_anomalies"], "limits.max_anomalies");
    if (l["max_events"])
      c.engine.max_events = scalar<std::uint32_t>(l["max_events"], "limits.max_events");
  }
  if (const auto o = root["output"]) {
    check_keys(o, "output", {"report_json", "report_text", "progress", "flows_out", "flows_format"});
    if (o["flows_out"]) c.flows_out = scalar<std::string>(o["flows_out"], "output.flows_out");
    if (o["flows_format"]) c.flows_format = scalar<std::string>(o["flows_format"], "output.flows_format");
    if (o["report_json"]) c.report_json = scalar<std::string>(o["report_json"], "output.report_json");
    if (o["report_text"]) c.report_text = scalar<bool>(o["report_text"], "output.report_text");
    if (o["progress"]) c.progress = scalar<bool>(o["progress"], "output.progress");
  }
  if (const auto r = root["runtime"]) {
    check_keys(r, "runtime", {"burst", "mbufs", "rx_ring", "duration", "live", "mode", "worker_ring", "record_ring"});
    if (r["mode"]) c.mode = scalar<std::string>(r["mode"], "runtime.mode");
    if (r["worker_ring"]) c.worker_ring = scalar<std::uint32_t>(r["worker_ring"], "runtime.worker_ring");
    if (r["record_ring"]) c.record_ring = scalar<std::uint32_t>(r["record_ring"], "runtime.record_ring");
    if (r["burst"]) c.burst = scalar<std::uint16_t>(r["burst"], "runtime.burst");
    if (r["mbufs"]) c.mbufs = scalar<std::uint32_t>(r["mbufs"], "runtime.mbufs");
    if (r["rx_ring"]) c.rx_ring = scalar<std::uint32_t>(r["rx_ring"], "runtime.rx_ring");
    if (r["duration"]) c.duration_s = scalar<double>(r["duration"], "runtime.duration");
    if (r["live"]) c.live = scalar<bool>(r["live"], "runtime.live");
  }
  return c;
}

}  // namespace

std::pair<std::string, std::string> parse_correlation_pair(const std::string& text, const std::string& where) {
  const auto comma = text.find(',');
  if (comma == std::string::npos || comma == 0 || comma + 1 == text.size() ||
      text.find(',', comma + 1) != std::string::npos) {
    throw ConfigError(where + " '" + text + "': expected A,B (two port ids or names, e.g. 0,1)");
  }
  return {text.substr(0, comma), text.substr(comma + 1)};
}

engine::ExtendedSelector parse_extended_selector(const std::string& text) {
  engine::ExtendedSelector s;
  const auto colon = text.find(':');
  const std::string proto = text.substr(0, colon);
  const std::string value = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (proto == "macsec") {
    s.protocol = seq::SaProtocol::macsec;
    if (!value.empty()) {
      if (value.size() > 16) throw ConfigError("SCI '" + value + "' is longer than 16 hex digits");
      s.sci = parse_u64(value, "sci", 16);
    }
  } else if (proto == "esp" || proto == "ah") {
    s.protocol = proto == "esp" ? seq::SaProtocol::esp : seq::SaProtocol::ah;
    if (!value.empty()) {
      const std::uint64_t v = parse_u64(value, "spi");
      if (v > 0xFFFFFFFFull) throw ConfigError("SPI '" + value + "' does not fit 32 bits");
      s.spi = static_cast<std::uint32_t>(v);
    }
  } else {
    throw ConfigError("extended selector '" + text +
                      "': protocol must be macsec, esp or ah (e.g. macsec:001122334455000a, esp:0x1001)");
  }
  return s;
}

Config load_yaml_text(const std::string& text, Config base) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(std::string("YAML syntax: ") + e.what());
  }
  Config c = apply(root, std::move(base));
  validate(c);
  return c;
}

Config load_yaml_file(const std::string& path, Config base) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ConfigError("config file '" + path + "' cannot be read");
  } catch (const YAML::Exception& e) {
    throw ConfigError("config file '" + path + "': YAML syntax: " + e.what());
  }
  try {
    Config c = apply(root, std::move(base));
    validate(c);
    return c;
  } catch (const ConfigError& e) {
    throw ConfigError("config file '" + path + "': " + e.what());
  }
}

std::vector<std::string> parse_xdp_prefilter(const std::string& text, const std::string& where) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::string word = text.substr(start, comma - start);
    while (!word.empty() && word.front() == ' ') word.erase(word.begin());
    while (!word.empty() && word.back() == ' ') word.pop_back();
    if (word == "natt" || word == "udp4500") word = "nat-t";
    if (word != "macsec" && word != "esp" && word != "ah" && word != "nat-t" && word != "all") {
      throw ConfigError(where + ": '" + word + "' is not one of macsec, esp, ah, nat-t, all");
    }
    if (std::find(out.begin(), out.end(), word) == out.end()) out.push_back(word);
    start = comma + 1;
  }
  return out;
}

void validate(const Config& c) {
  const auto& t = c.engine.tracker;
  if (t.window < seq::kMinWindow || t.window > seq::kMaxWindow)
    throw ConfigError("sequence.window: " + std::to_string(t.window) + " is outside 32..4096");
  if (t.reset_threshold <= t.window)
    throw ConfigError("sequence.reset_threshold: must be larger than the window");
  if (t.stuck_threshold < 2) throw ConfigError("sequence.stuck_threshold: must be at least 2");
  if (c.engine.max_sas < 1) throw ConfigError("limits.max_sas: must be at least 1");
  if (c.engine.max_flows < 1) throw ConfigError("limits.max_flows: must be at least 1");
  if (c.burst < 1 || c.burst > 512) throw ConfigError("runtime.burst: must be 1..512");
  if (c.mbufs < 1023) throw ConfigError("runtime.mbufs: must be at least 1023");
  if (c.rx_ring < 64 || c.rx_ring > 16384)
    throw ConfigError("runtime.rx_ring: must be 64..16384");
  if (c.duration_s < 0) throw ConfigError("runtime.duration: must not be negative");
  if (c.mode != "auto" && c.mode != "rtc" && c.mode != "pipeline")
    throw ConfigError("runtime.mode: '" + c.mode + "' must be auto, rtc or pipeline");
  if (c.flows_format != "jsonl" && c.flows_format != "csv")
    throw ConfigError("output.flows_format: '" + c.flows_format + "' must be jsonl or csv");
  const auto pow2 = [](std::uint32_t v) { return v >= 64 && (v & (v - 1)) == 0; };
  if (!pow2(c.worker_ring) || c.worker_ring > 65536)
    throw ConfigError("runtime.worker_ring: must be a power of two, 64..65536");
  if (!pow2(c.record_ring) || c.record_ring > (1u << 20))
    throw ConfigError("runtime.record_ring: must be a power of two, 64..1048576");
  if (c.engine.timeouts.idle_ns == 0) throw ConfigError("flows.idle_timeout: must be positive");
  if (c.engine.timeouts.closed_ns == 0) throw ConfigError("flows.tcp_closed_timeout: must be positive");
  if (c.engine.expiry_work == 0) throw ConfigError("flows.expiry_work: must be at least 1");
  {
    const engine::SensorConfig& sc = c.engine.sensors;
    const analysis::DetectionConfig& d = sc.detection;
    if (sc.top_k < 1 || sc.top_k > 1000) throw ConfigError("sensors.top_k: must be 1..1000");
    if (sc.top_flows < sc.top_k) throw ConfigError("sensors.top_flows: must be at least sensors.top_k");
    if (sc.publish_interval_ns < 100'000'000ull) throw ConfigError("sensors.publish_interval: must be at least 0.1 s");
    if (sc.publish_work < 1) throw ConfigError("sensors.publish_work: must be at least 1");
    if (sc.max_hosts < 8 || sc.max_edges < 8 || sc.destinations < 8) {
      throw ConfigError("sensors: hosts_per_worker, edges_per_worker and destinations_per_worker must be at least 8");
    }
    if (d.syn_flood_half_open < 1) throw ConfigError("detection.syn_flood.half_open: must be at least 1");
    if (d.port_scan_ports < 2 || d.port_scan_ports > analysis::Detector::kMaxScanThreshold) {
      throw ConfigError("detection.port_scan.ports: must be 2..256");
    }
    if (d.host_scan_hosts < 2 || d.host_scan_hosts > analysis::Detector::kMaxScanThreshold) {
      throw ConfigError("detection.host_scan.hosts: must be 2..256");
    }
    if (d.scan_window_ns == 0) throw ConfigError("detection.scan_window: must be positive");
    if (!(d.ddos_factor >= 1.0)) throw ConfigError("detection.ddos.factor: must be at least 1");
    if (d.ddos_min_pps < 1) throw ConfigError("detection.ddos.min_pps: must be at least 1");
    if (!(d.ddos_alpha > 0.0 && d.ddos_alpha <= 1.0)) throw ConfigError("detection.ddos.alpha: must be in (0, 1]");
  }
  if (!c.api.listen.empty() && c.api.listen != "off") {
    const auto colon = c.api.listen.rfind(':');
    if (colon == std::string::npos || colon + 1 == c.api.listen.size())
      throw ConfigError("api.listen: '" + c.api.listen + "' must be ADDR:PORT (e.g. 127.0.0.1:8080)");
    const std::string port = c.api.listen.substr(colon + 1);
    if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 || std::stoul(port) > 65535)
      throw ConfigError("api.listen: port '" + port + "' is not 0..65535");
  }
  if (c.api.rate_limit < 0) throw ConfigError("api.rate_limit: must not be negative");
  if (c.correlation_pairs.size() > engine::kMaxCorrelationPairs) {
    throw ConfigError("correlation.pairs: at most " + std::to_string(engine::kMaxCorrelationPairs) + " pairs");
  }
  for (std::size_t i = 0; i < c.correlation_pairs.size(); ++i) {
    const auto& [a, b] = c.correlation_pairs[i];
    const std::string where = "correlation.pairs[" + std::to_string(i) + "]";
    if (a.empty() || b.empty()) throw ConfigError(where + ": port names must not be empty");
    if (a == b) throw ConfigError(where + ": a and b are the same port '" + a + "'");
    for (std::size_t j = 0; j < i; ++j) {
      for (const std::string& p : {a, b}) {
        if (p == c.correlation_pairs[j].first || p == c.correlation_pairs[j].second) {
          throw ConfigError(where + ": port '" + p + "' is already in pair " + std::to_string(j) +
                            " (a port belongs to at most one pair)");
        }
      }
    }
  }
  if (c.engine.correlation.max_pending < 1 || c.engine.correlation.max_pending > (1u << 30)) {
    throw ConfigError("correlation.max_pending: must be 1..1073741824");
  }
  if (c.engine.correlation.max_sas < 1 || c.engine.correlation.max_sas > (1u << 24)) {
    throw ConfigError("correlation.max_sas: must be 1..16777216");
  }
  if (!c.grpc.listen.empty() && c.grpc.listen != "off") {
    const auto colon = c.grpc.listen.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == c.grpc.listen.size())
      throw ConfigError("grpc.listen: '" + c.grpc.listen + "' must be ADDR:PORT (e.g. 127.0.0.1:50051) or off");
    const std::string port = c.grpc.listen.substr(colon + 1);
    if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 || std::stoul(port) > 65535)
      throw ConfigError("grpc.listen: port '" + port + "' is not 0..65535");
  }
  if (c.grpc.tls_certificate.empty() != c.grpc.tls_key.empty())
    throw ConfigError("grpc.tls_certificate: tls_certificate and tls_key must be set together");
  if (!c.grpc.client_ca.empty() && c.grpc.tls_certificate.empty())
    throw ConfigError("grpc.client_ca: mTLS needs tls_certificate and tls_key");
  if (c.grpc.rate_limit < 0 || c.grpc.rate_limit_burst < 0) throw ConfigError("grpc.rate_limit: must not be negative");
  if (c.grpc.max_streams < 1) throw ConfigError("grpc.max_streams: must be at least 1");
  if (c.tx.port >= 0 && c.tx.scenario.empty())
    throw ConfigError("generator.scenario: a TX port needs a flow file (or builtin-demo)");
  if (!c.tx.scenario.empty() && c.tx.port < 0) throw ConfigError("generator.port: missing (the TX port id)");
  if (c.tx.lcores < 1) throw ConfigError("generator.lcores: must be at least 1");
  if (c.tx.rate_pps < 0) throw ConfigError("generator.rate_pps: must not be negative");
  if (c.api.threads < 1 || c.api.threads > 1024) throw ConfigError("api.threads: must be 1..1024");
  if (c.database.flush_interval_s <= 0) throw ConfigError("database.flush_interval: must be positive");
  if (c.database.retention_days <= 0) throw ConfigError("database.retention_days: must be positive");
  const RecordingConfig& r = c.recording;
  if (r.enabled() && r.dir.empty()) throw ConfigError("recording.dir: needed to record (filter, anomalies or malformed is set)");
  if (!r.dir.empty() && !r.enabled())
    throw ConfigError("recording.dir: nothing to record (set recording.filter, recording.anomalies or recording.malformed)");
  if (r.snaplen < 64 || r.snaplen > 65535) throw ConfigError("recording.snaplen: must be 64..65535");
  if (r.context_before > 4096 || r.context_after > 4096) throw ConfigError("recording.context_before/after: at most 4096");
  if (r.queue < 64 || r.queue > (1u << 22)) throw ConfigError("recording.queue: must be 64..4194304");
  if (r.file_seconds < 0) throw ConfigError("recording.file_seconds: must not be negative");
  if (r.prefix.empty() || r.prefix.find('/') != std::string::npos) throw ConfigError("recording.prefix: a file name prefix without '/'");
  if (c.inspector.packets > 4096) throw ConfigError("inspector.packets: at most 4096 per port");
  if (c.inspector.snaplen < 14 || c.inspector.snaplen > 65535) throw ConfigError("inspector.snaplen: must be 14..65535");
  if (c.inspector.refresh_s <= 0) throw ConfigError("inspector.refresh: must be positive");
}

std::uint64_t parse_bytes(const std::string& text, const std::string& where) {
  std::size_t used = 0;
  std::uint64_t v = 0;
  if (text.find('-') != std::string::npos) throw ConfigError(where + ": must not be negative");
  try {
    v = std::stoull(text, &used);
  } catch (const std::exception&) {
    throw ConfigError(where + ": '" + text + "' is not a size (bytes, or with K, M, G)");
  }
  std::string unit = text.substr(used);
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  std::uint64_t mult = 1;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "K" || unit == "KB" || unit == "KiB") mult = 1ull << 10;
  else if (unit == "M" || unit == "MB" || unit == "MiB") mult = 1ull << 20;
  else if (unit == "G" || unit == "GB" || unit == "GiB") mult = 1ull << 30;
  else throw ConfigError(where + ": unknown unit '" + unit + "' (B, K, M or G)");
  if (v > (~0ull) / mult) throw ConfigError(where + ": too large");
  return v * mult;
}

}  // namespace netscope::config
