// netscope-ctl: command-line client of a running netscope over gRPC (docs/grpc.md).
// Human tables by default, one JSON object per line with --json.
#include <CLI/CLI.hpp>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "netscope.grpc.pb.h"
#include "netscope_version.h"

namespace {

namespace pb = ::netscope::v1;

struct Options {
  std::string server = "127.0.0.1:50051";
  std::string token;
  std::string tls_ca, tls_cert, tls_key, tls_name;
  double timeout_s = 10;
  bool json = false;
};

/// Exit codes: 0 success, 1 the server refused or failed, 2 usage or connection problems.
int fail(const grpc::Status& s) {
  static const char* const kNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                                       "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
                                       "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  const int c = static_cast<int>(s.error_code());
  std::fprintf(stderr, "netscope-ctl: %s: %s\n", c >= 0 && c <= 16 ? kNames[c] : "error", s.error_message().c_str());
  return s.error_code() == grpc::StatusCode::UNAVAILABLE ? 2 : 1;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class Client {
 public:
  explicit Client(const Options& o) : o_(o) {
    std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
    grpc::ChannelArguments args;
    if (!o.tls_ca.empty() || !o.tls_cert.empty()) {
      grpc::SslCredentialsOptions s;
      if (!o.tls_ca.empty()) s.pem_root_certs = slurp(o.tls_ca);
      if (!o.tls_cert.empty()) {
        s.pem_cert_chain = slurp(o.tls_cert);
        s.pem_private_key = slurp(o.tls_key);
      }
      creds = grpc::SslCredentials(s);
      if (!o.tls_name.empty()) args.SetSslTargetNameOverride(o.tls_name);
    }
    stub_ = pb::NetworkTracker::NewStub(grpc::CreateCustomChannel(o.server, creds, args));
  }

  /// A context with the token and, for unary calls, the deadline (streams run until done).
  std::unique_ptr<grpc::ClientContext> context(bool stream) const {
    auto c = std::make_unique<grpc::ClientContext>();
    if (!o_.token.empty()) c->AddMetadata("authorization", "Bearer " + o_.token);
    if (!stream && o_.timeout_s > 0) {
      c->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(static_cast<long>(o_.timeout_s * 1000)));
    }
    return c;
  }
  pb::NetworkTracker::Stub& stub() { return *stub_; }

 private:
  const Options& o_;
  std::unique_ptr<pb::NetworkTracker::Stub> stub_;
};

std::string to_json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions p;
  p.preserve_proto_field_names = true;
  p.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, p);
  return out;
}

std::string time_text(std::uint64_t ns) {
  const std::time_t t = static_cast<std::time_t>(ns / 1'000'000'000ull);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03u", buf, static_cast<unsigned>(ns / 1'000'000ull % 1000));
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string protocol_text(pb::Flow::Protocol p) { return lower(pb::Flow::Protocol_Name(p)); }
std::string type_text(pb::Anomaly::AnomalyType t) { return lower(pb::Anomaly::AnomalyType_Name(t)); }

void print_stats(const pb::Statistics& s, bool json) {
  if (json) {
    std::printf("%s\n", to_json(s).c_str());
    return;
  }
  std::printf("time        %s UTC\n", time_text(s.timestamp_ns()).c_str());
  std::printf("uptime      %.1f s   mode %s%s\n", s.uptime_s(), s.mode().c_str(), s.paused() ? "   PAUSED" : "");
  std::printf("packets     %llu   (%.0f pkt/s, %.3f Mbit/s)\n", static_cast<unsigned long long>(s.total_packets()),
              s.packets_per_second(), s.bits_per_second() / 1e6);
  std::printf("bytes       %llu\n", static_cast<unsigned long long>(s.bytes_processed()));
  std::printf("SAs         %llu   flows active %d, created %llu\n", static_cast<unsigned long long>(s.sas_active()),
              s.active_flows(), static_cast<unsigned long long>(s.flows_created()));
  std::printf("dropped     %llu   (capture loss %.3f %%)   malformed %llu\n",
              static_cast<unsigned long long>(s.dropped_packets()), s.capture_loss_percent(),
              static_cast<unsigned long long>(s.malformed_packets()));
  std::printf("anomalies   %llu\n", static_cast<unsigned long long>(s.anomalies_detected()));
  for (const auto& c : s.anomaly_counts()) {
    if (c.count() > 0) std::printf("  %-14s %llu\n", type_text(c.type()).c_str(), static_cast<unsigned long long>(c.count()));
  }
}

void print_anomaly_header() {
  std::printf("%-8s %-23s %-14s %-7s %-22s %-10s %-12s %-12s %s\n", "ID", "TIME (UTC)", "TYPE", "PROTO", "SOURCE",
              "DEST", "EXPECTED", "GOT", "COUNT");
}

void print_anomaly(const pb::Anomaly& a, bool json) {
  if (json) {
    std::printf("%s\n", to_json(a).c_str());
    return;
  }
  std::printf("%-8llu %-23s %-14s %-7s %-22s %-10s %-12llu %-12llu %llu\n", static_cast<unsigned long long>(a.id()),
              time_text(a.timestamp_ns()).c_str(), type_text(a.anomaly_type()).c_str(), protocol_text(a.protocol()).c_str(),
              a.source_identifier().c_str(), a.dest_identifier().c_str(),
              static_cast<unsigned long long>(a.expected_sequence_number()),
              static_cast<unsigned long long>(a.sequence_number()), static_cast<unsigned long long>(a.packet_count()));
  if (a.missed() > 0) std::printf("  (%llu anomalies missed: client too slow)\n", static_cast<unsigned long long>(a.missed()));
}

void print_flow_header(bool sas) {
  if (sas) {
    std::printf("%-22s %-7s %-22s %-16s %-10s %-12s %-8s %-6s %-6s %-6s %s\n", "FLOW", "PROTO", "SOURCE", "DEST",
                "PACKETS", "HIGHEST SEQ", "LOST", "GAPS", "DUPS", "REORD", "ANOMALIES");
  } else {
    std::printf("%-22s %-8s %-28s %-28s %-10s %-12s %s\n", "FLOW", "PROTO", "A", "B", "PACKETS", "BYTES", "END");
  }
}

void print_flow(const pb::Flow& f, bool json) {
  if (json) {
    std::printf("%s\n", to_json(f).c_str());
    return;
  }
  if (f.has_sa()) {
    const pb::SaCounters& c = f.sa();
    std::printf("%-22s %-7s %-22s %-16s %-10llu %-12llu %-8llu %-6llu %-6llu %-6llu %llu\n", f.flow_id().c_str(),
                protocol_text(f.protocol()).c_str(), f.source_identifier().c_str(), f.dest_identifier().c_str(),
                static_cast<unsigned long long>(f.packet_count()),
                static_cast<unsigned long long>(f.current_sequence_number()), static_cast<unsigned long long>(c.lost()),
                static_cast<unsigned long long>(c.gaps()), static_cast<unsigned long long>(c.duplicates()),
                static_cast<unsigned long long>(c.reordered()), static_cast<unsigned long long>(f.anomaly_count()));
  } else {
    std::printf("%-22s %-8u %-28s %-28s %-10llu %-12llu %s\n", f.flow_id().c_str(), f.generic().ip_protocol(),
                f.source_identifier().c_str(), f.dest_identifier().c_str(),
                static_cast<unsigned long long>(f.packet_count()), static_cast<unsigned long long>(f.bytes()),
                f.generic().end_reason().c_str());
  }
}

void print_packet(const pb::PacketSummary& p, bool json) {
  if (json) {
    std::printf("%s\n", to_json(p).c_str());
    return;
  }
  std::printf("%-10llu %-23s %-7s %-22s %-12llu %-6u %-14s %s -> %s\n", static_cast<unsigned long long>(p.id()),
              time_text(p.timestamp_ns()).c_str(), protocol_text(p.protocol()).c_str(), p.flow_id().c_str(),
              static_cast<unsigned long long>(p.sequence_number()), p.packet_size(),
              lower(pb::PacketSummary::Verdict_Name(p.verdict())).c_str(), p.source().c_str(), p.destination().c_str());
  if (p.missed() > 0) std::printf("  (%llu packets missed: client too slow)\n", static_cast<unsigned long long>(p.missed()));
}

void print_config(const pb::ConfigResponse& r, bool json, bool list) {
  if (json) {
    std::printf("%s\n", to_json(r).c_str());
    return;
  }
  if (!r.message().empty()) std::printf("%s\n", r.message().c_str());
  if (list) {
    std::printf("%-6s %-23s %s\n", "ID", "CREATED (UTC)", "EXPRESSION");
    for (const auto& f : r.filters()) {
      std::printf("%-6llu %-23s %s\n", static_cast<unsigned long long>(f.id()), time_text(f.created_ns()).c_str(),
                  f.expression().c_str());
    }
  }
}

/// "macsec" -> MACSEC ... for PacketFilter.
std::optional<pb::PacketFilter::Protocol> filter_protocol(const std::string& s) {
  if (s == "all") return pb::PacketFilter::ALL;
  if (s == "macsec") return pb::PacketFilter::MACSEC;
  if (s == "esp") return pb::PacketFilter::IPSEC_ESP;
  if (s == "ah") return pb::PacketFilter::IPSEC_AH;
  if (s == "generic") return pb::PacketFilter::GENERIC;
  return std::nullopt;
}

/// Parses "protocol esp sa 123 anomalies port 0" (any order, any subset) into a filter.
std::optional<pb::PacketFilter> parse_filter_words(const std::string& line, std::string& error) {
  std::istringstream in(line);
  std::string w;
  pb::PacketFilter f;
  while (in >> w) {
    if (w == "protocol") {
      std::string v;
      in >> v;
      const auto p = filter_protocol(v);
      if (!p) {
        error = "protocol: all, macsec, esp, ah or generic";
        return std::nullopt;
      }
      f.set_protocol_filter(*p);
    } else if (w == "sa") {
      std::string v;
      in >> v;
      f.set_flow_id_filter(v.starts_with("sa:") ? v : "sa:" + v);
    } else if (w == "port") {
      unsigned v = 0;
      if (!(in >> v)) {
        error = "port: a number";
        return std::nullopt;
      }
      f.set_port(v);
    } else if (w == "anomalies") {
      f.set_anomalies_only(true);
    } else if (w == "all") {
      f.set_protocol_filter(pb::PacketFilter::ALL);
    } else {
      error = "unknown word '" + w + "' (protocol P, sa ID, port N, anomalies, all)";
      return std::nullopt;
    }
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"netscope-ctl " NETSCOPE_VERSION ": query and steer a running netscope over gRPC"};
  app.require_subcommand(1);
  Options o;
  if (const char* t = std::getenv("NETSCOPE_TOKEN")) o.token = t;
  app.add_option("-s,--server", o.server, "netscope gRPC address (default 127.0.0.1:50051)");
  app.add_option("--token", o.token, "bearer token (default: $NETSCOPE_TOKEN)");
  app.add_option("--tls-ca", o.tls_ca, "PEM CA that signed the server certificate: use TLS");
  app.add_option("--tls-cert", o.tls_cert, "PEM client certificate (mTLS)");
  app.add_option("--tls-key", o.tls_key, "PEM client key (mTLS)");
  app.add_option("--tls-name", o.tls_name, "expected server name in its certificate (default: the host in --server)");
  app.add_option("--timeout", o.timeout_s, "seconds for one unary call (default 10)");
  app.add_flag("--json", o.json, "one JSON object per line instead of tables");

  auto* stats = app.add_subcommand("stats", "current statistics");
  auto* health = app.add_subcommand("health", "service health");
  unsigned h_duration = 60, h_interval = 1;
  auto* history = app.add_subcommand("history", "statistics history, one line per interval");
  history->add_option("--duration", h_duration, "seconds back (default 60)");
  history->add_option("--interval", h_interval, "seconds per line (default 1)");
  std::string f_kind = "all";
  unsigned limit = 0;
  std::uint64_t min_lost = 0;
  auto* flows = app.add_subcommand("flows", "SAs and finished 5-tuple flows");
  flows->add_option("--kind", f_kind, "all, sas or generic")->check(CLI::IsMember({"all", "sas", "generic"}));
  flows->add_option("--limit", limit, "at most this many");
  auto* sas = app.add_subcommand("sas", "SAs with their sequence counters");
  sas->add_option("--limit", limit, "at most this many");
  sas->add_option("--min-lost", min_lost, "only SAs with at least this many lost numbers");
  std::string flow_id;
  auto* flow = app.add_subcommand("flow", "one SA (sa:ID) or finished flow (flow:ID)");
  flow->add_option("id", flow_id, "sa:ID or flow:ID")->required();
  std::optional<std::uint64_t> after;
  std::vector<std::string> types;
  auto* anomalies = app.add_subcommand("anomalies", "stored anomalies in id order");
  anomalies->add_option("--after", after, "only ids above this");
  anomalies->add_option("--type", types, "gap, duplicate, reordered, out_of_window, rollover, reset, rekey, stuck");
  anomalies->add_option("--limit", limit, "at most this many");
  std::string w_filter;
  bool w_packets = false, w_stats = false, w_stdin = false;
  auto* watch = app.add_subcommand("watch", "live stream to the terminal until Ctrl-C (anomalies by default)");
  watch->add_flag("--packets", w_packets, "packet-tap summaries instead of anomalies");
  watch->add_flag("--stats", w_stats, "one statistics line per second instead of anomalies");
  watch->add_option("--filter", w_filter, "packets: e.g. \"protocol esp\", \"sa 123 anomalies\", \"port 0\"");
  watch->add_flag("--stdin", w_stdin, "packets: each line read from stdin replaces the filter (same words)");
  watch->add_option("--type", types, "anomalies: only these types");
  auto* pause = app.add_subcommand("pause", "pause analysis");
  auto* resume = app.add_subcommand("resume", "resume analysis");
  std::string reset_id;
  auto* reset = app.add_subcommand("reset", "reset an SA's sequence state");
  reset->add_option("sa", reset_id, "sa:ID")->required();
  auto* filters = app.add_subcommand("filters", "capture filters");
  filters->require_subcommand(1);
  auto* f_list = filters->add_subcommand("list", "list filters");
  std::string f_expr;
  auto* f_add = filters->add_subcommand("add", "add a filter (tcpdump syntax)");
  f_add->add_option("expression", f_expr, "e.g. \"udp port 4500\"")->required();
  std::uint64_t f_id = 0;
  auto* f_remove = filters->add_subcommand("remove", "remove a filter");
  f_remove->add_option("id", f_id, "filter id")->required();

  CLI11_PARSE(app, argc, argv);
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    std::fprintf(stderr, "netscope-ctl: --tls-cert and --tls-key go together\n");
    return 2;
  }
  std::unique_ptr<Client> client;
  try {
    client = std::make_unique<Client>(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "netscope-ctl: %s\n", e.what());
    return 2;
  }
  pb::NetworkTracker::Stub& stub = client->stub();

  std::vector<pb::Anomaly::AnomalyType> type_values;
  for (const std::string& t : types) {
    pb::Anomaly::AnomalyType v;
    std::string upper;
    for (char c : t) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!pb::Anomaly::AnomalyType_Parse(upper, &v)) {
      std::fprintf(stderr, "netscope-ctl: --type %s: unknown anomaly type\n", t.c_str());
      return 2;
    }
    type_values.push_back(v);
  }

  if (*stats) {
    auto ctx = client->context(false);
    pb::Statistics s;
    const grpc::Status st = stub.GetCurrentStats(ctx.get(), {}, &s);
    if (!st.ok()) return fail(st);
    print_stats(s, o.json);
    return 0;
  }
  if (*health) {
    auto ctx = client->context(false);
    pb::HealthStatus h;
    const grpc::Status st = stub.HealthCheck(ctx.get(), {}, &h);
    if (!st.ok()) return fail(st);
    if (o.json) {
      std::printf("%s\n", to_json(h).c_str());
    } else {
      std::printf("%s  version %s  uptime %.1f s  snapshot age %.1f s  database %s  streams %u\n",
                  pb::HealthStatus::Status_Name(h.status()).c_str(), h.version().c_str(), h.uptime_s(),
                  h.snapshot_age_s(), h.database().c_str(), h.streams());
    }
    return h.status() == pb::HealthStatus::SERVING ? 0 : 1;
  }
  if (*history || (*watch && w_stats)) {
    auto ctx = client->context(true);
    pb::StatsHistoryRequest req;
    if (*history) {
      req.set_duration_s(h_duration);
      req.set_interval_s(h_interval);
    } else {
      req.set_duration_s(1);
      req.set_follow(true);
    }
    auto r = stub.GetStatsHistory(ctx.get(), req);
    if (!o.json) std::printf("%-23s %-12s %-12s %-14s %-10s %s\n", "TIME (UTC)", "PACKETS", "PKT/S", "MBIT/S", "ANOMALIES", "LOSS %");
    pb::Statistics s;
    while (r->Read(&s)) {
      if (o.json) {
        std::printf("%s\n", to_json(s).c_str());
      } else {
        std::printf("%-23s %-12llu %-12.0f %-14.3f %-10llu %.3f\n", time_text(s.timestamp_ns()).c_str(),
                    static_cast<unsigned long long>(s.total_packets()), s.packets_per_second(), s.bits_per_second() / 1e6,
                    static_cast<unsigned long long>(s.interval_anomalies()), s.capture_loss_percent());
      }
      std::fflush(stdout);
    }
    const grpc::Status st = r->Finish();
    return st.ok() ? 0 : fail(st);
  }
  if (*flows || *sas) {
    auto ctx = client->context(true);
    pb::FlowsRequest req;
    req.set_kind(*sas ? pb::FlowsRequest::SAS
                      : f_kind == "sas" ? pb::FlowsRequest::SAS
                                        : f_kind == "generic" ? pb::FlowsRequest::GENERIC : pb::FlowsRequest::ALL);
    req.set_limit(limit);
    req.set_min_lost(min_lost);
    auto r = stub.GetFlows(ctx.get(), req);
    pb::Flow f;
    int header = -1;  // 1: SA header printed, 0: generic header printed
    while (r->Read(&f)) {
      if (!o.json && header != (f.has_sa() ? 1 : 0)) {
        if (header != -1) std::printf("\n");
        header = f.has_sa() ? 1 : 0;
        print_flow_header(f.has_sa());
      }
      print_flow(f, o.json);
    }
    const grpc::Status st = r->Finish();
    return st.ok() ? 0 : fail(st);
  }
  if (*flow) {
    auto ctx = client->context(false);
    pb::FlowIdRequest req;
    req.set_flow_id(flow_id);
    pb::Flow f;
    const grpc::Status st = stub.GetFlow(ctx.get(), req, &f);
    if (!st.ok()) return fail(st);
    if (o.json) {
      print_flow(f, true);
    } else {
      std::printf("%s", f.DebugString().c_str());
    }
    return 0;
  }
  if (*anomalies || *watch) {
    auto ctx = client->context(true);
    if (*watch && w_packets) {
      auto rw = stub.StreamPackets(ctx.get());
      std::string err;
      const auto first = parse_filter_words(w_filter, err);
      if (!first) {
        std::fprintf(stderr, "netscope-ctl: --filter: %s\n", err.c_str());
        return 2;
      }
      rw->Write(*first);
      std::mutex out_mu;
      std::thread input;
      if (w_stdin) {
        // Each line replaces the filter on the same call: no reconnect.
        input = std::thread([&] {
          std::string line;
          while (std::getline(std::cin, line)) {
            std::string e;
            const auto f = parse_filter_words(line, e);
            std::lock_guard lock(out_mu);
            if (!f) {
              std::fprintf(stderr, "netscope-ctl: filter: %s\n", e.c_str());
              continue;
            }
            if (!rw->Write(*f)) break;
            std::fprintf(stderr, "netscope-ctl: filter replaced: %s\n", line.c_str());
          }
        });
        input.detach();
      }
      if (!o.json) {
        std::printf("%-10s %-23s %-7s %-22s %-12s %-6s %-14s %s\n", "ID", "TIME (UTC)", "PROTO", "FLOW", "SEQ", "SIZE",
                    "VERDICT", "SOURCE -> DESTINATION");
      }
      pb::PacketSummary p;
      while (rw->Read(&p)) {
        std::lock_guard lock(out_mu);
        print_packet(p, o.json);
        std::fflush(stdout);
      }
      const grpc::Status st = rw->Finish();
      return st.ok() ? 0 : fail(st);
    }
    pb::AnomalyStreamRequest req;
    if (*anomalies) {
      req.set_after_id(after.value_or(0));
      req.set_stored_only(true);
    }
    for (auto t : type_values) req.add_types(t);
    auto r = stub.StreamAnomalies(ctx.get(), req);
    if (!o.json) print_anomaly_header();
    pb::Anomaly a;
    unsigned n = 0;
    while ((limit == 0 || n < limit) && r->Read(&a)) {
      print_anomaly(a, o.json);
      std::fflush(stdout);
      ++n;
    }
    if (limit != 0 && n >= limit) {
      ctx->TryCancel();
      r->Finish();
      return 0;
    }
    const grpc::Status st = r->Finish();
    return st.ok() ? 0 : fail(st);
  }
  pb::TrackerConfig req;
  bool list = false;
  if (*pause) req.set_action(pb::TrackerConfig::PAUSE);
  if (*resume) req.set_action(pb::TrackerConfig::RESUME);
  if (*reset) {
    req.set_action(pb::TrackerConfig::RESET_FLOW);
    req.set_flow_id(reset_id.starts_with("sa:") ? reset_id : "sa:" + reset_id);
  }
  if (*filters) {
    list = true;
    if (*f_list) req.set_action(pb::TrackerConfig::LIST_FILTERS);
    if (*f_add) {
      req.set_action(pb::TrackerConfig::ADD_FILTER);
      req.set_filter_expression(f_expr);
    }
    if (*f_remove) {
      req.set_action(pb::TrackerConfig::REMOVE_FILTER);
      req.set_filter_id(f_id);
    }
  }
  auto ctx = client->context(false);
  pb::ConfigResponse resp;
  const grpc::Status st = stub.UpdateConfig(ctx.get(), req, &resp);
  if (!st.ok()) return fail(st);
  print_config(resp, o.json, list);
  return 0;
}
