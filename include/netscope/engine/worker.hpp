// The per-lcore analysis engine: decode, classify, track SAs and flows. No DPDK.
//
// One Worker per RX/worker lcore. process() is the per-packet path: noexcept, no
// allocation, no locks, no logging. Counters are single-writer and readable by the
// control lcore at any time; tables and the event buffer are read only after stop.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "netscope/decode/packet.hpp"
#include "netscope/flow/flow_table.hpp"
#include "netscope/seq/sa_table.hpp"
#include "netscope/seq/tracker.hpp"
#include "netscope/util/counter.hpp"

namespace netscope::engine {

inline constexpr std::size_t kMaxPorts = 32;

/// Traffic classes for per-protocol totals; each packet counts in exactly one.
#define NETSCOPE_TRAFFIC_CLASSES(X) \
  X(macsec)                         \
  X(esp)                            \
  X(ah)                             \
  X(ike)                            \
  X(tcp)                            \
  X(udp)                            \
  X(icmp)                           \
  X(icmpv6)                         \
  X(other_ip)                       \
  X(arp)                            \
  X(other)

enum class TrafficClass : std::uint8_t {
#define NETSCOPE_X(name) name,
  NETSCOPE_TRAFFIC_CLASSES(NETSCOPE_X)
#undef NETSCOPE_X
      count_
};
inline constexpr std::size_t kTrafficClassCount = static_cast<std::size_t>(TrafficClass::count_);
std::string_view to_string(TrafficClass c) noexcept;

/// Declares extended (ESN/XPN) numbering for the SAs it matches. Zero fields match any.
struct ExtendedSelector {
  seq::SaProtocol protocol = seq::SaProtocol::macsec;
  std::uint64_t sci = 0;  ///< MACsec: 0 matches any SCI
  std::uint32_t spi = 0;  ///< ESP/AH: 0 matches any SPI
};

struct EngineConfig {
  seq::TrackerConfig tracker;
  std::uint32_t max_sas = 65536;
  std::uint32_t max_flows = 262144;
  std::uint32_t max_events = 100000;  ///< anomaly events kept per worker
  std::vector<ExtendedSelector> extended;
};

/// One anomaly, as recorded on the data plane.
struct AnomalyEvent {
  seq::SaKey sa;
  std::uint64_t timestamp_ns = 0;
  std::uint64_t packet_index = 0;  ///< index within the port's input, 0-based
  std::uint64_t expected = 0;
  std::uint64_t got = 0;
  std::uint64_t count = 0;
  seq::EventType type = seq::EventType::gap;
  std::uint16_t port = 0;
};

struct alignas(64) PortCounters {
  util::Counter packets;
  util::Counter bytes;
};

/// Counters of one worker. One writer (its lcore), any reader.
struct alignas(64) WorkerCounters {
  util::Counter packets;
  util::Counter bytes;
  util::Counter malformed_total;
  std::array<util::Counter, decode::kMalformedCount> malformed;
  std::array<util::Counter, kTrafficClassCount> class_packets;
  std::array<util::Counter, kTrafficClassCount> class_bytes;
  std::array<util::Counter, seq::kEventTypeCount> events;
  util::Counter events_total;
  util::Counter events_dropped;   ///< not kept in the event buffer (still counted above)
  util::Counter sa_table_full;    ///< packets of new SAs that found the table full
  util::Counter flow_table_full;  ///< packets of new flows that found the table full
  util::Counter sas_created;
  util::Counter flows_created;
  std::array<PortCounters, kMaxPorts> ports;
};

class Worker {
 public:
  explicit Worker(const EngineConfig& cfg);

  /// Analyzes one frame. `frame` holds the captured bytes (possibly fewer than wire_len).
  /// Does not allocate. Only the owning lcore may call it.
  void process(decode::Bytes frame, std::uint32_t wire_len, std::uint64_t timestamp_ns,
               std::uint16_t port, std::uint64_t packet_index) noexcept;

  [[nodiscard]] const WorkerCounters& counters() const noexcept { return *counters_; }
  [[nodiscard]] const seq::SaTable& sas() const noexcept { return sas_; }
  [[nodiscard]] const flow::FlowTable& flows() const noexcept { return flows_; }
  [[nodiscard]] const std::vector<AnomalyEvent>& events() const noexcept { return events_; }
  [[nodiscard]] const EngineConfig& config() const noexcept { return cfg_; }

 private:
  void track_sa(const decode::DecodedPacket& p, std::uint32_t wire_len, std::uint64_t ts,
                std::uint16_t port, std::uint64_t index) noexcept;
  void track_flow(const decode::DecodedPacket& p, std::uint32_t wire_len, std::uint64_t ts) noexcept;
  void record(seq::EventType type, const seq::SaKey& key, std::uint64_t expected,
              std::uint64_t got, std::uint64_t count, std::uint64_t ts, std::uint16_t port,
              std::uint64_t index) noexcept;
  [[nodiscard]] bool extended_for(const seq::SaKey& key) const noexcept;

  EngineConfig cfg_;
  std::unique_ptr<WorkerCounters> counters_;
  seq::SaTable sas_;
  flow::FlowTable flows_;
  std::vector<AnomalyEvent> events_;  ///< capacity reserved at start, never grows past it
  decode::DecodedPacket pkt_;
};

/// Traffic class of a decoded packet.
TrafficClass classify(const decode::DecodedPacket& p) noexcept;

}  // namespace netscope::engine
