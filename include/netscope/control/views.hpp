// JSON views of SAs, flows, anomalies and snapshots, with the field names of the JSON
// report (docs/report-format.md) plus the API ids. Control plane only; allocates.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "netscope/control/state.hpp"

namespace netscope::control {

/// Adds the SA identity fields: protocol, then sci + an (MACsec) or spi + dst (+ udp_encap).
void put_sa_identity(nlohmann::json& j, const seq::SaKey& k);

/// bytes x 8 over last_seen - first_seen; 0 for a single instant.
[[nodiscard]] double bits_per_second(std::uint64_t bytes, std::uint64_t first_ns, std::uint64_t last_ns) noexcept;

[[nodiscard]] nlohmann::json sa_json(const SaView& v);
[[nodiscard]] nlohmann::json flow_json(const StoredFlow& f);
[[nodiscard]] nlohmann::json anomaly_json(const StoredEvent& e);
/// One packet-tap summary (GET /api/v1/packets/recent).
[[nodiscard]] nlohmann::json packet_json(const StoredPacket& p);
/// A packet-inspector frame: what its bytes decode to (class, SA and number, flow), as
/// packet_json shows a tapped packet, with the bytes in hex.
[[nodiscard]] nlohmann::json inspected_json(const InspectedFrame& f);
/// GET /api/v1/sas/{id}/sequence: the SA's latest numbers, oldest first.
[[nodiscard]] nlohmann::json sequence_json(const SaView& v);
/// The stats/current document (also the data of each stats stream message).
[[nodiscard]] nlohmann::json stats_json(const Published& p);
/// GET /api/v1/top: rates, protocol distribution, top flows and hosts, alert counts.
/// Null when the snapshot has no traffic view (sensors disabled).
[[nodiscard]] nlohmann::json top_json(const Published& p);
/// GET /api/v1/topology: hosts, MAC bindings, edges. Null when sensors are disabled.
[[nodiscard]] nlohmann::json topology_json(const Published& p);

/// IP protocol number of a name ("tcp", "udp", "icmp", "icmpv6", "esp", "ah", "gre",
/// "sctp") or of a decimal 0..255.
[[nodiscard]] std::optional<std::uint8_t> ip_protocol(std::string_view text) noexcept;
/// SA protocol of "macsec", "esp", "ah".
[[nodiscard]] std::optional<seq::SaProtocol> sa_protocol(std::string_view text) noexcept;
/// Event type of its stable name ("gap").
[[nodiscard]] std::optional<seq::EventType> event_type(std::string_view text) noexcept;

}  // namespace netscope::control
