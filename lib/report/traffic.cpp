#include "netscope/report/traffic.hpp"

#include <cstdio>

#include "netscope/seq/sa_table.hpp"

namespace netscope::report {

using nlohmann::json;

namespace {

std::string ip(const decode::IpAddr& a) { return a.version == 0 ? std::string() : seq::ip_text(a.bytes, a.version); }

json rate_json(const analysis::Rate& r) {
  return {{"bits_per_second", r.bits_per_second}, {"packets_per_second", r.packets_per_second}};
}

json rates_json(const engine::RateSet& r) {
  return {{"1s", rate_json(r.last_1s)}, {"10s", rate_json(r.last_10s)}, {"60s", rate_json(r.last_60s)}};
}

json host_json(const engine::HostView& h) {
  json j = {{"ip", ip(h.ip)},
            {"vlan", h.vlan},
            {"bytes_sent", h.bytes_sent},
            {"bytes_received", h.bytes_received},
            {"bytes", h.bytes_sent + h.bytes_received},
            {"packets_sent", h.packets_sent},
            {"packets_received", h.packets_received},
            {"first_seen", h.first_ns},
            {"last_seen", h.last_ns},
            {"mac", h.mac_known ? json(mac_text(h.mac)) : json(nullptr)},
            {"mac_changes", h.mac_changes}};
  return j;
}

}  // namespace

std::string mac_text(const decode::MacAddr& m) {
  char b[18];
  std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return b;
}

void put_detection(json& j, const engine::AnomalyEvent& e) {
  if (e.source != engine::AnomalySource::detection) {
    j["source"] = "sequence";
    return;
  }
  j["source"] = "detection";
  j["severity"] = std::string(analysis::to_string(e.severity));
  j["attacker"] = e.attacker.version == 0 ? json(nullptr) : json(ip(e.attacker));
  j["victim"] = e.victim.version == 0 ? json(nullptr) : json(ip(e.victim));
  j["vlan"] = e.vlan;
  j["target_port"] = e.target_port;
  j["first_seen"] = e.first_ns;
  j["threshold"] = e.threshold;
  j["baseline"] = e.baseline;
  if (e.alert == analysis::AlertType::mac_ip_change) {
    j["mac_old"] = mac_text(e.mac_old);
    j["mac_new"] = mac_text(e.mac_new);
  }
}

json top_json(const engine::TrafficView& v) {
  json j;
  j["time"] = v.time_ns;
  json rates = {{"global", rates_json(v.global)}};
  json ports = json::array();
  for (const auto& [id, r] : v.ports) {
    json p = rates_json(r);
    p["port"] = id;
    ports.push_back(p);
  }
  rates["ports"] = ports;
  j["rates"] = rates;
  json flows = json::array();
  for (const engine::TopFlow& f : v.top_flows) {
    flows.push_back({{"ip_version", f.key.ip_version},
                     {"protocol", f.key.protocol},
                     {"vlan", f.key.vlan},
                     {"addr_a", seq::ip_text(f.key.addr_a, f.key.ip_version)},
                     {"port_a", f.key.port_a},
                     {"addr_b", seq::ip_text(f.key.addr_b, f.key.ip_version)},
                     {"port_b", f.key.port_b},
                     {"bytes", f.bytes},
                     {"bytes_error", f.error},
                     {"bits_per_second", f.bits_per_second}});
  }
  j["top_flows"] = flows;
  json hosts = json::array();
  for (const engine::HostView& h : v.top_hosts) hosts.push_back(host_json(h));
  j["top_hosts"] = hosts;
  json alerts = json::object();
  for (std::size_t i = 0; i < analysis::kAlertTypeCount; ++i) {
    alerts[std::string(analysis::to_string(static_cast<analysis::AlertType>(i)))] = v.alerts[i];
  }
  j["alerts"] = alerts;
  j["detection_inputs"] = {{"connection_failures", v.connection_failures},
                           {"destination_seconds", v.destination_seconds},
                           {"late_partials", v.late_partials}};
  return j;
}

json topology_json(const engine::TrafficView& v) {
  json j;
  j["time"] = v.time_ns;
  json hosts = json::array();
  json bindings = json::array();
  for (const engine::HostView& h : v.hosts) {
    hosts.push_back(host_json(h));
    if (h.mac_known) {
      bindings.push_back({{"ip", ip(h.ip)}, {"vlan", h.vlan}, {"mac", mac_text(h.mac)}, {"changes", h.mac_changes}});
    }
  }
  json edges = json::array();
  for (const engine::EdgeView& e : v.edges) {
    edges.push_back({{"a", ip(e.a)},
                     {"b", ip(e.b)},
                     {"vlan", e.vlan},
                     {"bytes_a_to_b", e.bytes_ab},
                     {"bytes_b_to_a", e.bytes_ba},
                     {"bytes", e.bytes_ab + e.bytes_ba},
                     {"packets_a_to_b", e.packets_ab},
                     {"packets_b_to_a", e.packets_ba},
                     {"first_seen", e.first_ns},
                     {"last_seen", e.last_ns}});
  }
  j["hosts"] = hosts;
  j["edges"] = edges;
  j["bindings"] = bindings;
  j["hosts_dropped"] = v.hosts_dropped;
  j["edges_dropped"] = v.edges_dropped;
  return j;
}

json traffic_json(const engine::TrafficView& v) {
  json j = top_json(v);
  j["topology"] = topology_json(v);
  return j;
}

}  // namespace netscope::report
