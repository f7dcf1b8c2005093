#include "netscope/report/report.hpp"

#include <algorithm>
#include <map>
#include <cstring>
#include <tuple>
#include <unordered_map>

#include "netscope/report/correlation.hpp"
#include "netscope/report/traffic.hpp"
#include "netscope/util/text.hpp"
#include "netscope_version.h"

namespace netscope::report {

namespace {

using nlohmann::json;
using engine::Worker;

struct SaRow {
  const seq::SaEntry* entry;
  const seq::SaTable* table;
  std::uint64_t lost_total;
};

auto sa_order(const seq::SaKey& k) {
  return std::make_tuple(static_cast<int>(k.protocol), k.sci, k.an, k.ip_version, k.dst, k.spi,
                         k.udp_encap);
}

std::vector<SaRow> collect_sas(const RunSummary& run) {
  std::vector<SaRow> rows;
  for (const Worker* w : run.workers) {
    w->sas().for_each([&](const seq::SaEntry& e) {
      const auto bm = w->sas().bitmap(e);
      rows.push_back({&e, &w->sas(), e.tracker.counters().lost +
                                          e.tracker.open_holes(bm, w->sas().config())});
    });
  }
  std::sort(rows.begin(), rows.end(), [](const SaRow& a, const SaRow& b) {
    return std::make_tuple(sa_order(a.entry->key), a.entry->port) <
           std::make_tuple(sa_order(b.entry->key), b.entry->port);
  });
  return rows;
}

std::string sa_label(const seq::SaKey& k) {
  char buf[96];
  if (k.protocol == seq::SaProtocol::macsec) {
    std::snprintf(buf, sizeof buf, "sci=%s an=%u", seq::sci_text(k.sci).c_str(), k.an);
  } else {
    std::snprintf(buf, sizeof buf, "spi=0x%08x dst=%s%s", k.spi,
                  seq::ip_text(k.dst, k.ip_version).c_str(), k.udp_encap ? " udp" : "");
  }
  return buf;
}

double bits_per_second(const seq::SaEntry& e) {
  const std::uint64_t span = e.last_seen_ns > e.first_seen_ns ? e.last_seen_ns - e.first_seen_ns : 0;
  if (span == 0) return 0.0;
  return static_cast<double>(e.bytes) * 8.0 * 1e9 / static_cast<double>(span);
}

std::vector<engine::AnomalyEvent> collect_events(const RunSummary& run) {
  std::vector<engine::AnomalyEvent> all = run.events;
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return std::tie(a.timestamp_ns, a.port, a.packet_index) <
           std::tie(b.timestamp_ns, b.port, b.packet_index);
  });
  return all;
}

template <typename F>
std::uint64_t sum(const RunSummary& run, F f) {
  std::uint64_t s = 0;
  for (const Worker* w : run.workers) s += f(w->counters());
  return s;
}

}  // namespace

void add_sa_totals(json& totals, const json& sa) {
  json& t = totals[sa["protocol"].get<std::string>()];
  if (t.is_null()) t = json::object();
  for (const char* k : {"packets", "bytes", "lost", "gaps", "duplicates", "reordered",
                        "out_of_window", "rollovers", "resets", "rekeys", "stuck"}) {
    t[k] = t.value(k, std::uint64_t{0}) + sa[k].get<std::uint64_t>();
  }
  t["sas"] = t.value("sas", std::uint64_t{0}) + 1;
}

void put_sa_identity(json& j, const seq::SaKey& k) {
  j["protocol"] = std::string(seq::to_string(k.protocol));
  if (k.protocol == seq::SaProtocol::macsec) {
    j["sci"] = seq::sci_text(k.sci);
    j["an"] = k.an;
  } else {
    j["spi"] = k.spi;
    j["dst"] = seq::ip_text(k.dst, k.ip_version);
    if (k.protocol == seq::SaProtocol::esp) j["udp_encap"] = k.udp_encap != 0;
  }
}

/// JSON needs valid UTF-8: packet text is made printable ASCII.
std::string wire_text(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out.push_back(ch);
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

namespace {

json tcp_direction_json(const engine::FlowTcpDirection& d) {
  return {{"retransmissions", d.retransmissions}, {"fast_retransmissions", d.fast_retransmissions},
          {"out_of_order", d.out_of_order},       {"duplicate_acks", d.duplicate_acks},
          {"zero_windows", d.zero_windows},       {"lost_segments", d.lost_segments}};
}

}  // namespace

void put_flow_analysis(json& j, const engine::FlowRecord& f) {
  using namespace engine;
  const FlowL7& l = f.l7;
  const auto app = static_cast<l7::AppProtocol>(l.app < l7::kAppProtocolCount ? l.app : 0);
  j["app"] = std::string(l7::to_string(app));
  j["icmp_errors"] = f.icmp.errors;
  if (f.icmp.errors != 0) j["icmp_last"] = {{"type", f.icmp.type}, {"code", f.icmp.code}};
  const FlowTcp& t = f.tcp;
  if ((t.flags & flow_tcp_flag::kSeen) != 0) {
    json rtt = json::object();
    rtt["samples"] = t.rtt_samples;
    if (t.rtt_samples != 0) {
      rtt["min_ns"] = t.rtt_min_ns;
      rtt["avg_ns"] = t.rtt_sum_ns / t.rtt_samples;
      rtt["max_ns"] = t.rtt_max_ns;
    }
    j["tcp"] = {
        {"state", std::string(analysis::to_string(static_cast<analysis::TcpConnState>(t.state)))},
        {"history", wire_text(t.history_view())},
        {"handshake_server_rtt_ns", (t.flags & flow_tcp_flag::kServerRtt) != 0 ? json(t.handshake_server_ns) : json()},
        {"handshake_client_rtt_ns", (t.flags & flow_tcp_flag::kClientRtt) != 0 ? json(t.handshake_client_ns) : json()},
        {"data_rtt", rtt},
        {"partial", (t.flags & flow_tcp_flag::kPartial) != 0},
        {"flipped", (t.flags & flow_tcp_flag::kFlipped) != 0},
        {"timestamps", (t.flags & flow_tcp_flag::kTimestamps) != 0},
        {"a_to_b", tcp_direction_json(t.dir[0])},
        {"b_to_a", tcp_direction_json(t.dir[1])}};
  }
  if ((l.flags & (flow_l7_flag::kHttpRequest | flow_l7_flag::kHttpResponse)) != 0 || l.http_requests != 0) {
    json h = {{"requests", l.http_requests}, {"responses", l.http_responses}};
    if ((l.flags & flow_l7_flag::kHttpRequest) != 0) {
      h["method"] = std::string(l7::to_string(static_cast<l7::HttpMethod>(l.http_method)));
      h["host"] = wire_text(l.name_view());
      h["uri"] = wire_text(l.uri_view());
    }
    if ((l.flags & flow_l7_flag::kHttpResponse) != 0) h["status"] = l.http_status;
    if ((l.flags & flow_l7_flag::kContentLength) != 0) h["content_length"] = l.http_content_length;
    j["http"] = h;
  }
  if ((l.flags & flow_l7_flag::kDnsQuery) != 0) {
    json d = {{"qname", wire_text(l.name_view())}, {"qtype", l.dns_qtype}, {"queries", l.dns_queries}};
    if ((l.flags & flow_l7_flag::kDnsResponse) != 0) {
      d["rcode"] = l.dns_rcode;
      d["answers"] = l.dns_answers;
    }
    if ((l.flags & flow_l7_flag::kDnsTime) != 0) d["response_time_ns"] = l.dns_response_ns;
    j["dns"] = d;
  }
  if (app == l7::AppProtocol::tls && l.name_len != 0) j["tls"] = {{"sni", wire_text(l.name_view())}};
  if (app == l7::AppProtocol::ssh && l.name_len != 0) j["ssh"] = {{"software", wire_text(l.name_view())}};
  if ((l.flags & flow_l7_flag::kParseError) != 0) j["l7_parse_error"] = true;
  if ((l.flags & flow_l7_flag::kGap) != 0) j["l7_gap"] = true;
}

json build_json(const RunSummary& run) {
  const config::Config& cfg = *run.config;
  json doc;
  doc["version"] = kReportVersion;
  doc["generator"] = std::string("netscope ") + NETSCOPE_VERSION;
  doc["run"] = {
      {"start", run.start_unix_ns},
      {"end", run.end_unix_ns},
      {"wall_seconds", run.wall_seconds},
      {"stop_reason", run.stop_reason},
      {"workers", run.workers.size()},
      {"mode", run.mode},
      {"window", cfg.engine.tracker.window},
      {"reset_threshold", cfg.engine.tracker.reset_threshold},
      {"stuck_threshold", cfg.engine.tracker.stuck_threshold},
  };
  if (!run.capture_warning.empty()) doc["run"]["warning"] = run.capture_warning;
  if (!run.generator.is_null()) doc["generator_tx"] = run.generator;
  if (!run.traffic.is_null()) doc["traffic"] = run.traffic;
  if (!run.correlation.is_null()) doc["correlation"] = run.correlation;
  if (!run.recording.is_null()) doc["recording"] = run.recording;

  // Totals.
  json totals;
  totals["packets"] = sum(run, [](const auto& c) { return c.packets.value(); });
  totals["bytes"] = sum(run, [](const auto& c) { return c.bytes.value(); });
  json protocols = json::object();
  for (std::size_t i = 0; i < engine::kTrafficClassCount; ++i) {
    protocols[std::string(engine::to_string(static_cast<engine::TrafficClass>(i)))] = {
        {"packets", sum(run, [i](const auto& c) { return c.class_packets[i].value(); })},
        {"bytes", sum(run, [i](const auto& c) { return c.class_bytes[i].value(); })}};
  }
  totals["protocols"] = protocols;
  json malformed = json::object();
  for (std::size_t i = 1; i < decode::kMalformedCount; ++i) {
    const std::uint64_t n = sum(run, [i](const auto& c) { return c.malformed[i].value(); });
    if (n != 0) malformed[std::string(decode::to_string(static_cast<decode::Malformed>(i)))] = n;
  }
  totals["malformed"] = {{"total", sum(run, [](const auto& c) { return c.malformed_total.value(); })},
                         {"by_reason", malformed}};
  totals["sa_table_full"] = sum(run, [](const auto& c) { return c.sa_table_full.value(); });
  totals["flows_created"] = sum(run, [](const auto& c) { return c.flows_created.value(); });
  totals["flows_expired"] = sum(run, [](const auto& c) { return c.flows_expired.value(); });
  totals["flows_evicted"] = sum(run, [](const auto& c) { return c.flows_evicted.value(); });
  totals["flow_records_dropped"] = sum(run, [](const auto& c) { return c.flow_records_dropped.value(); });
  totals["events_dropped"] = sum(run, [](const auto& c) { return c.events_dropped.value(); });
  totals["wrong_lcore"] = sum(run, [](const auto& c) { return c.wrong_lcore.value(); });
  totals["rules_excluded"] = sum(run, [](const auto& c) { return c.rules_excluded.value(); });
  totals["ring_drops"] = run.ring_drops;
  totals["ring_waits"] = run.ring_waits;
  doc["totals"] = totals;

  // Ports.
  json ports = json::array();
  for (const PortSummary& p : run.ports) {
    json jp = {{"id", p.id},
               {"name", p.name},
               {"driver", p.driver},
               {"replay", p.replay},
               {"rx_packets", p.rx_packets},
               {"rx_bytes", p.rx_bytes},
               {"rx_missed", p.rx_missed},
               {"rx_errors", p.rx_errors},
               {"rx_nombuf", p.rx_nombuf}};
    if (!p.filter.empty()) {
      jp["filter"] = p.filter;
      jp["filter_passed"] = p.filter_passed;
      jp["filter_rejected"] = p.filter_rejected;
    }
    if (!p.xdp.is_null()) jp["xdp_prefilter"] = p.xdp;
    if (p.replay) {
      jp["source"] = p.source;
      jp["capture_packets"] = p.expected_packets;
    }
    if (p.id < engine::kMaxPorts) {
      jp["analyzed_packets"] = sum(run, [&](const auto& c) { return c.ports[p.id].packets.value(); });
      jp["analyzed_bytes"] = sum(run, [&](const auto& c) { return c.ports[p.id].bytes.value(); });
    }
    ports.push_back(jp);
  }
  doc["ports"] = ports;

  // SAs.
  json sas = json::array();
  json sa_totals = json::object();
  for (const SaRow& r : collect_sas(run)) {
    const seq::SaEntry& e = *r.entry;
    const seq::SequenceCounters& c = e.tracker.counters();
    json j;
    put_sa_identity(j, e.key);
    j["port"] = e.port;
    j["packets"] = c.packets;
    j["bytes"] = e.bytes;
    j["first_seq"] = e.tracker.first_seq();
    j["highest_seq"] = e.tracker.highest();
    j["lost"] = r.lost_total;
    j["gaps"] = c.gaps;
    j["duplicates"] = c.duplicates;
    j["reordered"] = c.reordered;
    j["out_of_window"] = c.out_of_window;
    j["rollovers"] = c.rollovers;
    j["resets"] = c.resets;
    j["rekeys"] = c.rekeys;
    j["stuck"] = c.stuck;
    j["extended"] = e.tracker.extended();
    j["extended_inferred"] = e.tracker.extended_inferred();
    j["first_seen"] = e.first_seen_ns;
    j["last_seen"] = e.last_seen_ns;
    j["bits_per_second"] = bits_per_second(e);
    sas.push_back(j);
    add_sa_totals(sa_totals, j);
  }
  doc["totals"]["sas"] = sa_totals;
  doc["sas"] = sas;

  // Flows, largest first. Records of one key (the two directions of an ESP pair on two
  // workers, or a flow that expired and came back) are summed.
  struct FlowKeyHash {
    std::size_t operator()(const flow::FlowKey& k) const noexcept { return flow::hash(k); }
  };
  std::unordered_map<flow::FlowKey, engine::FlowRecord, FlowKeyHash> merged;
  merged.reserve(run.flows.size());
  for (const engine::FlowRecord& r : run.flows) {
    auto [it, fresh] = merged.try_emplace(r.key, r);
    if (fresh) continue;
    engine::FlowRecord& m = it->second;
    if (r.first_seen_ns < m.first_seen_ns) {
      m.first_seen_ns = r.first_seen_ns;
      m.initiator_is_a = r.initiator_is_a;
      // Analysis fields describe one connection: the earliest record's are kept.
      m.icmp = r.icmp;
      m.tcp = r.tcp;
      m.l7 = r.l7;
    }
    m.last_seen_ns = std::max(m.last_seen_ns, r.last_seen_ns);
    m.a_to_b.packets += r.a_to_b.packets;
    m.a_to_b.bytes += r.a_to_b.bytes;
    m.b_to_a.packets += r.b_to_a.packets;
    m.b_to_a.bytes += r.b_to_a.bytes;
    m.tcp_flags |= r.tcp_flags;
  }
  std::vector<const engine::FlowRecord*> flows;
  flows.reserve(merged.size());
  for (const auto& [k, r] : merged) flows.push_back(&r);
  auto order = [](const engine::FlowRecord* a, const engine::FlowRecord* b) {
    const auto ab = a->a_to_b.bytes + a->b_to_a.bytes;
    const auto bb = b->a_to_b.bytes + b->b_to_a.bytes;
    if (ab != bb) return ab > bb;
    if (a->first_seen_ns != b->first_seen_ns) return a->first_seen_ns < b->first_seen_ns;
    return std::memcmp(&a->key, &b->key, sizeof a->key) < 0;
  };
  const std::size_t flow_limit = std::min<std::size_t>(flows.size(), cfg.max_report_flows);
  std::partial_sort(flows.begin(), flows.begin() + static_cast<std::ptrdiff_t>(flow_limit), flows.end(), order);
  json jflows = json::array();
  for (std::size_t i = 0; i < flow_limit; ++i) {
    const engine::FlowRecord& f = *flows[i];
    jflows.push_back({{"ip_version", f.key.ip_version},
                      {"protocol", f.key.protocol},
                      {"vlan", f.key.vlan},
                      {"a", {{"addr", seq::ip_text(f.key.addr_a, f.key.ip_version)}, {"port", f.key.port_a}}},
                      {"b", {{"addr", seq::ip_text(f.key.addr_b, f.key.ip_version)}, {"port", f.key.port_b}}},
                      {"initiator", f.initiator_is_a ? "a" : "b"},
                      {"packets_a_to_b", f.a_to_b.packets},
                      {"bytes_a_to_b", f.a_to_b.bytes},
                      {"packets_b_to_a", f.b_to_a.packets},
                      {"bytes_b_to_a", f.b_to_a.bytes},
                      {"tcp_flags", f.tcp_flags},
                      {"first_seen", f.first_seen_ns},
                      {"last_seen", f.last_seen_ns}});
    put_flow_analysis(jflows.back(), f);
  }
  doc["flows"] = jflows;
  doc["flows_total"] = flows.size();
  doc["flows_left_out"] = flows.size() - flow_limit;

  // Anomalies.
  const auto events = collect_events(run);
  json counts = json::object();
  for (std::size_t i = 0; i < seq::kEventTypeCount; ++i) {
    counts[std::string(seq::to_string(static_cast<seq::EventType>(i)))] =
        sum(run, [i](const auto& c) { return c.events[i].value(); });
  }
  std::uint64_t total = sum(run, [](const auto& c) { return c.events_total.value(); });
  // Detection alerts are raised on the control side: counted from the events it kept.
  for (const auto& ev : events) {
    if (ev.source != engine::AnomalySource::detection) continue;
    const std::string name(analysis::to_string(ev.alert));
    counts[name] = counts.value(name, std::uint64_t{0}) + 1;
    ++total;
  }
  json anomalies = json::array();
  const std::size_t limit = std::min<std::size_t>(events.size(), cfg.max_anomalies);
  for (std::size_t i = 0; i < limit; ++i) {
    const auto& ev = events[i];
    json j;
    j["type"] = std::string(engine::anomaly_type_name(ev));
    put_detection(j, ev);
    if (ev.source == engine::AnomalySource::sequence) put_sa_identity(j, ev.sa);
    j["port"] = ev.port;
    j["packet_index"] = ev.packet_index;
    j["timestamp"] = ev.timestamp_ns;
    j["expected"] = ev.expected;
    j["got"] = ev.got;
    j["count"] = ev.count;
    anomalies.push_back(j);
  }
  doc["anomaly_counts"] = counts;
  doc["anomalies_total"] = total;
  doc["anomalies_left_out"] = total - limit;
  doc["anomalies"] = anomalies;
  return doc;
}

void write_text(const RunSummary& run, std::FILE* out) {
  const json doc = build_json(run);
  const auto& totals = doc["totals"];
  std::fprintf(out, "\nNetScope report (netscope %s)\n", NETSCOPE_VERSION);
  std::fprintf(out, "  stopped: %s after %.3f s, %zu worker lcore(s)\n", run.stop_reason.c_str(),
               run.wall_seconds, run.workers.size());
  if (!run.capture_warning.empty()) std::fprintf(out, "  WARNING: %s\n", run.capture_warning.c_str());
  std::fprintf(out, "\nTotals: %llu packets, %llu bytes\n",
               static_cast<unsigned long long>(totals["packets"].get<std::uint64_t>()),
               static_cast<unsigned long long>(totals["bytes"].get<std::uint64_t>()));
  for (const auto& [name, v] : totals["protocols"].items()) {
    if (v["packets"].get<std::uint64_t>() == 0) continue;
    std::fprintf(out, "  %-10s %12llu packets %15llu bytes\n", name.c_str(),
                 static_cast<unsigned long long>(v["packets"].get<std::uint64_t>()),
                 static_cast<unsigned long long>(v["bytes"].get<std::uint64_t>()));
  }

  std::fprintf(out, "\nPorts:\n  %-4s %-14s %-10s %12s %12s %8s %8s %8s  %s\n", "id", "name",
               "driver", "rx_packets", "analyzed", "missed", "errors", "nombuf", "source");
  for (const auto& p : doc["ports"]) {
    std::fprintf(out, "  %-4u %-14s %-10s %12llu %12llu %8llu %8llu %8llu  %s\n",
                 p["id"].get<unsigned>(), p["name"].get<std::string>().c_str(),
                 p["driver"].get<std::string>().c_str(),
                 static_cast<unsigned long long>(p["rx_packets"].get<std::uint64_t>()),
                 static_cast<unsigned long long>(p.value("analyzed_packets", std::uint64_t{0})),
                 static_cast<unsigned long long>(p["rx_missed"].get<std::uint64_t>()),
                 static_cast<unsigned long long>(p["rx_errors"].get<std::uint64_t>()),
                 static_cast<unsigned long long>(p["rx_nombuf"].get<std::uint64_t>()),
                 p.value("source", std::string()).c_str());
  }

  const auto& sas = doc["sas"];
  std::fprintf(out, "\nSecurity associations: %zu\n", sas.size());
  if (!sas.empty()) {
    std::fprintf(out, "  %-7s %-40s %4s %10s %10s %8s %6s %6s %6s %6s %4s %4s %4s %4s\n", "proto",
                 "sa", "port", "packets", "highest", "lost", "gaps", "dup", "reord", "oow",
                 "roll", "rst", "rkey", "stck");
    std::size_t shown = 0;
    for (const SaRow& r : collect_sas(run)) {
      if (++shown > 200) {
        std::fprintf(out, "  ... %zu more in the JSON report\n", sas.size() - 200);
        break;
      }
      const auto& e = *r.entry;
      const auto& c = e.tracker.counters();
      std::fprintf(out, "  %-7s %-40s %4u %10llu %10llu %8llu %6llu %6llu %6llu %6llu %4llu %4llu %4llu %4llu\n",
                   std::string(seq::to_string(e.key.protocol)).c_str(), sa_label(e.key).c_str(),
                   e.port, static_cast<unsigned long long>(c.packets),
                   static_cast<unsigned long long>(e.tracker.highest()),
                   static_cast<unsigned long long>(r.lost_total),
                   static_cast<unsigned long long>(c.gaps),
                   static_cast<unsigned long long>(c.duplicates),
                   static_cast<unsigned long long>(c.reordered),
                   static_cast<unsigned long long>(c.out_of_window),
                   static_cast<unsigned long long>(c.rollovers),
                   static_cast<unsigned long long>(c.resets),
                   static_cast<unsigned long long>(c.rekeys),
                   static_cast<unsigned long long>(c.stuck));
    }
  }

  std::fprintf(out, "\nAnomalies: %llu", static_cast<unsigned long long>(doc["anomalies_total"].get<std::uint64_t>()));
  std::string sep = " (";
  for (const auto& [name, v] : doc["anomaly_counts"].items()) {
    if (v.get<std::uint64_t>() == 0) continue;
    std::fprintf(out, "%s%s %llu", sep.c_str(), name.c_str(), static_cast<unsigned long long>(v.get<std::uint64_t>()));
    sep = ", ";
  }
  std::fprintf(out, "%s\n", sep == ", " ? ")" : "");
  std::size_t shown = 0;
  for (const auto& a : doc["anomalies"]) {
    if (++shown > 20) {
      std::fprintf(out, "  ... see the JSON report for all listed anomalies\n");
      break;
    }
    if (a.value("source", "") == "detection") {
      const auto text = [](const json& v) { return v.is_string() ? v.get<std::string>() : std::string("-"); };
      std::fprintf(out, "  %s %-13s %-8s attacker %s victim %s port %u count %llu threshold %llu\n",
                   util::rfc3339_ns(a["timestamp"].get<std::uint64_t>()).c_str(), a["type"].get<std::string>().c_str(),
                   a["severity"].get<std::string>().c_str(), text(a["attacker"]).c_str(), text(a["victim"]).c_str(),
                   a["target_port"].get<unsigned>(), static_cast<unsigned long long>(a["count"].get<std::uint64_t>()),
                   static_cast<unsigned long long>(a["threshold"].get<std::uint64_t>()));
      continue;
    }
    std::string sa = a["protocol"].get<std::string>() == "macsec"
                         ? "sci=" + a["sci"].get<std::string>() + " an=" + std::to_string(a["an"].get<int>())
                         : "spi=" + std::to_string(a["spi"].get<std::uint32_t>()) + " dst=" + a["dst"].get<std::string>();
    std::fprintf(out, "  %s %-13s %-6s %-34s port %u frame %llu expected %llu got %llu count %llu\n",
                 util::rfc3339_ns(a["timestamp"].get<std::uint64_t>()).c_str(),
                 a["type"].get<std::string>().c_str(), a["protocol"].get<std::string>().c_str(),
                 sa.c_str(), a["port"].get<unsigned>(),
                 static_cast<unsigned long long>(a["packet_index"].get<std::uint64_t>() + 1),
                 static_cast<unsigned long long>(a["expected"].get<std::uint64_t>()),
                 static_cast<unsigned long long>(a["got"].get<std::uint64_t>()),
                 static_cast<unsigned long long>(a["count"].get<std::uint64_t>()));
  }

  const auto& mal = totals["malformed"];
  std::fprintf(out, "\nMalformed: %llu\n", static_cast<unsigned long long>(mal["total"].get<std::uint64_t>()));
  for (const auto& [name, v] : mal["by_reason"].items()) {
    std::fprintf(out, "  %-28s %llu\n", name.c_str(), static_cast<unsigned long long>(v.get<std::uint64_t>()));
  }
  std::fprintf(out, "\nFlows: %llu (top 10 by bytes)\n",
               static_cast<unsigned long long>(doc["flows_total"].get<std::uint64_t>()));
  shown = 0;
  for (const auto& f : doc["flows"]) {
    if (++shown > 10) break;
    std::fprintf(out, "  proto %-3u %s:%u <-> %s:%u  %llu/%llu packets  %llu/%llu bytes\n",
                 f["protocol"].get<unsigned>(), f["a"]["addr"].get<std::string>().c_str(),
                 f["a"]["port"].get<unsigned>(), f["b"]["addr"].get<std::string>().c_str(),
                 f["b"]["port"].get<unsigned>(),
                 static_cast<unsigned long long>(f["packets_a_to_b"].get<std::uint64_t>()),
                 static_cast<unsigned long long>(f["packets_b_to_a"].get<std::uint64_t>()),
                 static_cast<unsigned long long>(f["bytes_a_to_b"].get<std::uint64_t>()),
                 static_cast<unsigned long long>(f["bytes_b_to_a"].get<std::uint64_t>()));
  }
  write_correlation_text(run.correlation, out);
  if (const json& r = run.recording; !r.is_null()) {
    std::fprintf(out, "\nRecording: %llu frames in %zu file(s) under %s (anomaly %llu, context %llu, filter %llu, malformed %llu), %llu lost\n",
                 static_cast<unsigned long long>(r["frames"].get<std::uint64_t>()), r["files"].size(),
                 r["dir"].get<std::string>().c_str(), static_cast<unsigned long long>(r["by_reason"]["anomaly"].get<std::uint64_t>()),
                 static_cast<unsigned long long>(r["by_reason"]["context"].get<std::uint64_t>()),
                 static_cast<unsigned long long>(r["by_reason"]["filter"].get<std::uint64_t>()),
                 static_cast<unsigned long long>(r["by_reason"]["malformed"].get<std::uint64_t>()),
                 static_cast<unsigned long long>(r["dropped"].get<std::uint64_t>()));
  }
  std::fflush(out);
}

}  // namespace netscope::report
