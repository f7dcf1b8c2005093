// JSON shapes of the traffic sensors, shared by the report and the control-plane APIs:
// detection fields of an anomaly, top talkers, topology. Documented in docs/api.md.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "netscope/engine/sensors.hpp"
#include "netscope/engine/worker.hpp"

namespace netscope::report {

/// "aa:bb:cc:dd:ee:ff".
std::string mac_text(const decode::MacAddr& m);

/// Adds the fields of a detection anomaly (source "detection": severity, attacker, victim,
/// vlan, target_port, first_seen, threshold, baseline, mac_old/mac_new). A sequence
/// anomaly only gets "source": "sequence".
void put_detection(nlohmann::json& j, const engine::AnomalyEvent& e);

/// {"rates", "protocols"?, "top_flows", "top_hosts", "alerts"}: measures (GET /api/v1/top).
nlohmann::json top_json(const engine::TrafficView& v);

/// {"hosts", "edges", "bindings"}: topology (GET /api/v1/topology).
nlohmann::json topology_json(const engine::TrafficView& v);

/// Both, for the report's "traffic" section.
nlohmann::json traffic_json(const engine::TrafficView& v);

}  // namespace netscope::report
