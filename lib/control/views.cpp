#include "netscope/control/views.hpp"

#include "netscope/flow/flow_table.hpp"
#include "netscope/report/report.hpp"
#include "netscope/report/traffic.hpp"

namespace netscope::control {

using nlohmann::json;

void put_sa_identity(json& j, const seq::SaKey& k) { report::put_sa_identity(j, k); }

double bits_per_second(std::uint64_t bytes, std::uint64_t first_ns, std::uint64_t last_ns) noexcept {
  if (last_ns <= first_ns) return 0.0;
  return static_cast<double>(bytes) * 8.0 * 1e9 / static_cast<double>(last_ns - first_ns);
}

json sa_json(const SaView& v) {
  const engine::SaSummary& s = v.s;
  const seq::SequenceCounters& c = s.counters;
  json j;
  j["id"] = v.id;
  put_sa_identity(j, s.key);
  j["port"] = s.port;
  j["lcore"] = s.lcore;
  j["lcores"] = v.lcores;
  j["packets"] = c.packets;
  j["bytes"] = s.bytes;
  j["first_seq"] = s.first_seq;
  j["highest_seq"] = s.highest_seq;
  j["lost"] = c.lost;
  j["gaps"] = c.gaps;
  j["duplicates"] = c.duplicates;
  j["reordered"] = c.reordered;
  j["out_of_window"] = c.out_of_window;
  j["rollovers"] = c.rollovers;
  j["resets"] = c.resets;
  j["rekeys"] = c.rekeys;
  j["stuck"] = c.stuck;
  j["extended"] = s.extended != 0;
  j["extended_inferred"] = s.extended_inferred != 0;
  j["first_seen"] = s.first_seen_ns;
  j["last_seen"] = s.last_seen_ns;
  j["bits_per_second"] = bits_per_second(s.bytes, s.first_seen_ns, s.last_seen_ns);
  return j;
}

json sequence_json(const SaView& v) {
  json j;
  j["id"] = v.id;
  put_sa_identity(j, v.s.key);
  j["packets"] = v.s.counters.packets;
  j["first_seq"] = v.s.first_seq;
  j["highest_seq"] = v.s.highest_seq;
  j["last_seen"] = v.s.last_seen_ns;
  json recent = json::array();
  for (std::size_t i = 0; i < std::min<std::size_t>(v.s.recent_count, v.s.recent.size()); ++i) recent.push_back(v.s.recent[i]);
  j["recent"] = std::move(recent);
  return j;
}

json packet_json(const StoredPacket& sp) {
  const engine::PacketSummary& p = sp.pkt;
  json j = {{"id", sp.id},
            {"timestamp", p.timestamp_ns},
            {"packet_index", p.packet_index},
            {"port", p.port},
            {"lcore", p.lcore},
            {"length", p.wire_len},
            {"class", std::string(engine::to_string(p.cls))},
            {"verdict", std::string(engine::to_string(p.verdict))}};
  if (p.verdict == engine::PacketVerdict::malformed) {
    j["malformed"] = std::string(decode::to_string(static_cast<decode::Malformed>(p.malformed)));
  }
  if (p.has_sa) {
    json sa;
    sa["id"] = sa_id(p.sa);
    put_sa_identity(sa, p.sa);
    j["sa"] = std::move(sa);
    j["seq"] = p.seq;
  }
  if (p.has_flow) {
    const flow::FlowKey& k = p.flow;
    const bool fwd = p.forward;
    j["flow"] = {{"ip_version", k.ip_version},
                 {"protocol", k.protocol},
                 {"src", seq::ip_text(fwd ? k.addr_a : k.addr_b, k.ip_version)},
                 {"src_port", fwd ? k.port_a : k.port_b},
                 {"dst", seq::ip_text(fwd ? k.addr_b : k.addr_a, k.ip_version)},
                 {"dst_port", fwd ? k.port_b : k.port_a},
                 {"vlan", k.vlan}};
  }
  return j;
}

json inspected_json(const InspectedFrame& f) {
  decode::DecodedPacket d;
  decode::decode_frame({f.bytes.data(), f.bytes.size()}, d);
  StoredPacket sp;
  engine::PacketSummary& p = sp.pkt;
  p.timestamp_ns = f.timestamp_ns;
  p.packet_index = f.packet_index;
  p.wire_len = f.wire_len;
  p.port = f.port;
  p.lcore = f.lcore;
  p.cls = engine::classify(d);
  std::uint32_t seq32 = 0;
  p.has_sa = seq::sa_key_of(d, p.sa, seq32);
  p.seq = seq32;
  p.has_flow = flow::flow_key_of(d, p.flow, p.forward);
  // Cut frames decode as truncated: only a frame whole in the snapshot can be malformed.
  if (d.malformed != decode::Malformed::none && f.bytes.size() == f.wire_len) {
    p.verdict = engine::PacketVerdict::malformed;
    p.malformed = static_cast<std::uint8_t>(d.malformed);
  }
  json j = packet_json(sp);
  j.erase("id");
  j.erase("verdict");
  if (p.verdict == engine::PacketVerdict::malformed) j["malformed"] = std::string(decode::to_string(d.malformed));
  j["captured"] = f.bytes.size();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(f.bytes.size() * 2, '0');
  for (std::size_t i = 0; i < f.bytes.size(); ++i) {
    hex[2 * i] = kHex[f.bytes[i] >> 4];
    hex[2 * i + 1] = kHex[f.bytes[i] & 15];
  }
  j["hex"] = std::move(hex);
  return j;
}

json flow_json(const StoredFlow& sf) {
  const engine::FlowRecord& f = sf.rec;
  const std::uint64_t bytes = f.a_to_b.bytes + f.b_to_a.bytes;
  json j = {{"id", sf.id},
          {"ip_version", f.key.ip_version},
          {"protocol", f.key.protocol},
          {"vlan", f.key.vlan},
          {"a", {{"addr", seq::ip_text(f.key.addr_a, f.key.ip_version)}, {"port", f.key.port_a}}},
          {"b", {{"addr", seq::ip_text(f.key.addr_b, f.key.ip_version)}, {"port", f.key.port_b}}},
          {"initiator", f.initiator_is_a ? "a" : "b"},
          {"packets_a_to_b", f.a_to_b.packets},
          {"bytes_a_to_b", f.a_to_b.bytes},
          {"packets_b_to_a", f.b_to_a.packets},
          {"bytes_b_to_a", f.b_to_a.bytes},
          {"packets", f.a_to_b.packets + f.b_to_a.packets},
          {"bytes", bytes},
          {"tcp_flags", f.tcp_flags},
          {"first_seen", f.first_seen_ns},
          {"last_seen", f.last_seen_ns},
          {"bits_per_second", bits_per_second(bytes, f.first_seen_ns, f.last_seen_ns)},
          {"end_reason", std::string(flow::to_string(f.reason))},
          {"lcore", f.lcore}};
  report::put_flow_analysis(j, f);
  return j;
}

json anomaly_json(const StoredEvent& se) {
  const engine::AnomalyEvent& ev = se.ev;
  json j;
  j["id"] = se.id;
  j["type"] = std::string(engine::anomaly_type_name(ev));
  report::put_detection(j, ev);
  if (ev.source == engine::AnomalySource::sequence) {
    j["sa_id"] = sa_id(ev.sa);
    put_sa_identity(j, ev.sa);
  }
  j["port"] = ev.port;
  j["packet_index"] = ev.packet_index;
  j["timestamp"] = ev.timestamp_ns;
  j["expected"] = ev.expected;
  j["got"] = ev.got;
  j["count"] = ev.count;
  return j;
}

json top_json(const Published& p) {
  const Snapshot& s = *p.snap;
  if (!s.traffic) return nullptr;
  json j = report::top_json(*s.traffic);
  json protocols = json::array();
  for (std::size_t i = 0; i < engine::kTrafficClassCount; ++i) {
    if (s.class_packets[i] == 0) continue;
    protocols.push_back({{"protocol", std::string(engine::to_string(static_cast<engine::TrafficClass>(i)))},
                         {"packets", s.class_packets[i]},
                         {"bytes", s.class_bytes[i]},
                         {"share_packets", s.packets > 0 ? static_cast<double>(s.class_packets[i]) / static_cast<double>(s.packets) : 0.0},
                         {"share_bytes", s.bytes > 0 ? static_cast<double>(s.class_bytes[i]) / static_cast<double>(s.bytes) : 0.0}});
  }
  j["protocols"] = protocols;
  return j;
}

json topology_json(const Published& p) {
  const Snapshot& s = *p.snap;
  if (!s.traffic) return nullptr;
  return report::topology_json(*s.traffic);
}

json stats_json(const Published& p) {
  const Snapshot& s = *p.snap;
  json j;
  j["time"] = s.time_ns;
  j["uptime_s"] = s.uptime_s;
  j["paused"] = s.paused;
  j["mode"] = s.mode;
  j["packets"] = s.packets;
  j["bytes"] = s.bytes;
  j["rates"] = {{"packets_per_second", p.pps},
                {"bits_per_second", p.bps},
                {"interval_s", p.prev != nullptr && s.time_ns > p.prev->time_ns
                                   ? static_cast<double>(s.time_ns - p.prev->time_ns) / 1e9
                                   : 0.0}};
  json protocols = json::object();
  for (std::size_t i = 0; i < engine::kTrafficClassCount; ++i) {
    protocols[std::string(engine::to_string(static_cast<engine::TrafficClass>(i)))] = {
        {"packets", s.class_packets[i]}, {"bytes", s.class_bytes[i]}};
  }
  j["protocols"] = protocols;
  std::uint64_t malformed_total = 0;
  json by_reason = json::object();
  for (std::size_t i = 1; i < decode::kMalformedCount; ++i) {
    if (s.malformed[i] == 0) continue;
    malformed_total += s.malformed[i];
    by_reason[std::string(decode::to_string(static_cast<decode::Malformed>(i)))] = s.malformed[i];
  }
  j["malformed"] = {{"total", malformed_total}, {"by_reason", by_reason}};
  json counts = json::object();
  std::uint64_t events_total = 0;
  for (std::size_t i = 0; i < seq::kEventTypeCount; ++i) {
    counts[std::string(seq::to_string(static_cast<seq::EventType>(i)))] = s.events[i];
    events_total += s.events[i];
  }
  j["anomaly_counts"] = counts;
  j["anomalies_total"] = events_total;
  j["events_dropped"] = s.events_dropped;
  j["sas_active"] = s.sas_active;
  j["sa_table_full"] = s.sa_table_full;
  j["flows_active"] = s.flows_active;
  j["flows_created"] = s.flows_created;
  j["flows_expired"] = s.flows_expired;
  j["flows_evicted"] = s.flows_evicted;
  j["flow_records_dropped"] = s.flow_records_dropped;
  j["wrong_lcore"] = s.wrong_lcore;
  j["rules_excluded"] = s.rules_excluded;
  j["ring_drops"] = s.ring_drops;
  j["ring_waits"] = s.ring_waits;
  json ports = json::array();
  for (const PortStats& ps : s.ports) {
    ports.push_back({{"id", ps.id},
                     {"name", ps.name},
                     {"driver", ps.driver},
                     {"link_up", ps.link_up},
                     {"rx_packets", ps.rx_packets},
                     {"rx_bytes", ps.rx_bytes},
                     {"rx_missed", ps.rx_missed},
                     {"rx_errors", ps.rx_errors},
                     {"rx_nombuf", ps.rx_nombuf},
                     {"analyzed_packets", ps.analyzed_packets},
                     {"analyzed_bytes", ps.analyzed_bytes},
                     {"filter", ps.filter},
                     {"filter_passed", ps.filter_passed},
                     {"filter_rejected", ps.filter_rejected}});
    if (ps.xdp_prefilter) {
      ports.back()["xdp_prefilter"] = {
          {"redirected", ps.xdp_redirected}, {"passed", ps.xdp_passed}, {"no_socket", ps.xdp_no_socket}};
    }
  }
  j["ports"] = ports;
  j["generator"] = {{"tx_packets", s.tx_packets}, {"tx_bytes", s.tx_bytes}, {"tx_rate_pps", s.tx_rate_pps}};
  return j;
}

std::optional<std::uint8_t> ip_protocol(std::string_view t) noexcept {
  struct Name {
    std::string_view name;
    std::uint8_t number;
  };
  static constexpr Name kNames[] = {{"icmp", 1}, {"tcp", 6}, {"udp", 17}, {"gre", 47}, {"esp", 50},
                                    {"ah", 51},  {"icmpv6", 58}, {"sctp", 132}};
  for (const Name& n : kNames) {
    if (n.name == t) return n.number;
  }
  if (t.empty() || t.size() > 3) return std::nullopt;
  unsigned v = 0;
  for (char c : t) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > 255) return std::nullopt;
  return static_cast<std::uint8_t>(v);
}

std::optional<seq::SaProtocol> sa_protocol(std::string_view t) noexcept {
  for (seq::SaProtocol p : {seq::SaProtocol::macsec, seq::SaProtocol::esp, seq::SaProtocol::ah}) {
    if (seq::to_string(p) == t) return p;
  }
  return std::nullopt;
}

std::optional<seq::EventType> event_type(std::string_view t) noexcept {
  for (std::size_t i = 0; i < seq::kEventTypeCount; ++i) {
    const auto e = static_cast<seq::EventType>(i);
    if (seq::to_string(e) == t) return e;
  }
  return std::nullopt;
}

}  // namespace netscope::control
