// Traffic sensors: measures (top talkers, rates), detections (SYN flood, port scan, host
// scan, DDoS, MAC/IP changes) and topology (hosts, MAC bindings, edges), split in two:
//
//  - Sensors, one per worker, on the per-packet path: counts into fixed tables (no
//    allocation after construction, no locks, bounded work) and sends compact
//    SensorRecords to the control lcore through the worker's RecordSink;
//  - SensorMerger, on the control lcore: merges the records of every worker (flows are
//    sharded by 5-tuple, so one source's scan or one destination's flood is spread over
//    workers), raises the alerts as AnomalyEvents and builds the TrafficView for the
//    APIs and the report.
//
// Definitions and the approximations the split makes: docs/traffic-analysis.md, section
// "Measures, detections and topology".
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <memory>
#include <unordered_map>
#include <vector>

#include "netscope/analysis/alert.hpp"
#include "netscope/analysis/detection.hpp"
#include "netscope/analysis/measures.hpp"
#include "netscope/analysis/topology.hpp"
#include "netscope/decode/packet.hpp"
#include "netscope/flow/flow_table.hpp"
#include "netscope/util/counter.hpp"

namespace netscope::engine {

class RecordSink;
struct AnomalyEvent;

/// Sensor settings (YAML `sensors:`, docs/configuration.md).
struct SensorConfig {
  bool enabled = true;
  analysis::DetectionConfig detection;  ///< thresholds; table sizes apply to the control side
  std::uint32_t max_hosts = 4096;       ///< topology hosts per worker
  std::uint32_t max_edges = 16384;      ///< topology edges per worker
  std::uint32_t top_flows = 256;        ///< flows monitored per worker (space-saving sketch)
  std::uint32_t top_k = 20;             ///< entries of each top list
  std::uint32_t destinations = 16384;   ///< destinations counted per second per worker
  std::uint64_t publish_interval_ns = 1'000'000'000ull;  ///< a worker publishes its tables this often
  std::uint32_t publish_work = 128;     ///< table slots a worker visits per maintain() while publishing
  std::uint32_t merged_hosts = 65536;   ///< hosts the control side keeps (then new ones are ignored, counted)
  std::uint32_t merged_edges = 262144;  ///< edges the control side keeps
};

/// What a SensorRecord carries.
enum class SensorRecordKind : std::uint8_t {
  connection_failed,   ///< a TCP attempt rejected by RST (Zeek REJ) or that ended unanswered (S0)
  destination_second,  ///< one worker's counts for one destination in one completed second
  binding,             ///< an ARP sender binding (IP, MAC)
  sweep,               ///< a worker starts publishing its tables; top_flow records follow
  top_flow,            ///< one entry of the worker's top flows
  host,                ///< one topology host of the worker (changed since the last sweep)
  edge,                ///< one topology edge of the worker (changed since the last sweep)
  sweep_done,          ///< the worker sent every destination second before time_ns
};

/// One record from a worker's Sensors to the SensorMerger. Fixed size, trivially
/// copyable (travels through rte_ring). Field use by kind:
///  connection_failed:  a originator, b responder, port responder port, time_ns.
///  destination_second: b destination, a last SYN source, port last SYN port, time_ns the
///                      second (ns), v0 packets, v1 connection attempts, v2 handshakes
///                      completed (counted since the previous record for that second),
///                      v3 first second the worker counted the destination (ns).
///  binding:            a the IP, mac, time_ns.
///  sweep:              time_ns, v0 sweep number.
///  sweep_done:         time_ns: every destination_second of an earlier second was sent.
///  top_flow:           flow, v0 bytes (upper bound), v1 error bound.
///  host:               a, mac (flag 1: known), v0 bytes sent, v1 bytes received, v2 packets
///                      sent, v3 packets received, time_ns last seen, v4 first seen.
///  edge:               a lower, b upper address, v0 bytes a->b, v1 bytes b->a, v2 packets
///                      a->b, v3 packets b->a, time_ns last seen, v4 first seen.
struct SensorRecord {
  flow::FlowKey flow;
  decode::IpAddr a;
  decode::IpAddr b;
  std::uint16_t vlan = 0;
  std::uint16_t port = 0;
  std::uint16_t worker = 0;
  SensorRecordKind kind = SensorRecordKind::sweep;
  std::uint8_t flag = 0;
  decode::MacAddr mac{};
  std::uint64_t time_ns = 0;
  std::uint64_t v0 = 0, v1 = 0, v2 = 0, v3 = 0, v4 = 0;
};
static_assert(sizeof(SensorRecord) % 8 == 0);

/// Counters of a worker's sensors. One writer.
struct SensorCounters {
  util::Counter records;          ///< handed to the sink
  util::Counter records_dropped;  ///< refused by the sink
  util::Counter connection_attempts;
  util::Counter connections_established;
  util::Counter connections_failed;
  util::Counter destination_evictions;
  util::Counter arp_bindings;
};

/// Per-worker sensors. Only the owning lcore calls them; nothing allocates after the
/// constructor.
class Sensors {
 public:
  /// Allocates every table. `sink` must outlive the sensors.
  Sensors(const SensorConfig& cfg, RecordSink& sink, std::uint16_t worker, std::uint16_t workers);
  ~Sensors();
  Sensors(const Sensors&) = delete;
  Sensors& operator=(const Sensors&) = delete;

  /// One analyzed packet. `flow`: its key and hash when it has one (else nullptr); `entry`:
  /// its flow-table entry after this packet was counted (nullptr when none). Bounded work:
  /// about four table updates. Does not allocate.
  void on_packet(decode::Bytes frame, const decode::DecodedPacket& p, std::uint32_t wire_len,
                 std::uint64_t ts_ns, const flow::FlowKey* flow, std::uint64_t flow_hash, bool forward,
                 const flow::FlowEntry* entry) noexcept;

  /// A flow left the table: an unanswered TCP attempt (SYN only) counts as a failed
  /// connection (Zeek S0). Does not allocate.
  void on_flow_end(const flow::FlowEntry& e) noexcept;

  /// Once per burst: publishes the tables every publish_interval_ns, publish_work slots at
  /// a time. `now`: packet time in replay, wall time live. Does not allocate.
  void maintain(std::uint64_t now) noexcept;

  /// Shutdown: publishes everything still pending (completed seconds, tables, top flows),
  /// at most `max` records per call. Returns the records sent; 0 when done.
  std::uint32_t flush(std::uint32_t max) noexcept;

  [[nodiscard]] const SensorCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::uint64_t memory_bytes() const noexcept;

  struct Destination;

 private:
  bool emit(SensorRecord& r) noexcept;
  void close_second(Destination& d) noexcept;
  bool publish_step(std::uint32_t& budget, bool final) noexcept;

  SensorConfig cfg_;
  RecordSink& sink_;
  std::uint16_t worker_;
  std::uint32_t packet_floor_;  ///< packets/s a destination needs on this worker to be reported
  std::uint32_t syn_floor_;     ///< connection attempts/s likewise
  analysis::AlertRing topo_alerts_;  ///< unused (bindings are merged on the control side)
  analysis::Topology topology_;
  analysis::SpaceSaving<flow::FlowKey> top_flows_;
  std::unique_ptr<analysis::BucketTable<analysis::HostKey, Destination>> dests_;
  std::unique_ptr<analysis::SpaceSaving<flow::FlowKey>::Entry[]> top_scratch_;
  SensorCounters counters_;
  // Publication sweep.
  std::uint64_t next_sweep_ns_ = 0;
  std::uint64_t next_wall_sweep_ns_ = 0;  ///< steady clock
  std::uint32_t maintain_calls_ = 0;
  std::uint64_t sweep_start_ns_ = 0;  ///< packet/wall time the current sweep started
  std::uint64_t last_sweep_ns_ = 0;   ///< start of the previous sweep: entries older are unchanged
  std::uint64_t sweeps_ = 0;
  std::uint64_t now_ns_ = 0;
  std::uint32_t phase_ = 0;           ///< 0 idle, 1 hosts, 2 edges, 3 destinations
  std::uint32_t cursor_ = 0;
  std::uint32_t top_pending_ = 0;     ///< top-flow records of this sweep still to send
  std::uint32_t top_sent_ = 0;
  bool idle_sweep_ = false;          ///< the current sweep started with no packet since the last
  bool final_started_ = false;
  bool flushed_ = false;
};

/// A window of rates (1 s, 10 s, 60 s).
struct RateSet {
  analysis::Rate last_1s, last_10s, last_60s;
};

/// One entry of the top flows (sum over workers of their space-saving counts).
struct TopFlow {
  flow::FlowKey key;
  std::uint64_t bytes = 0;   ///< upper bound of the bytes since start
  std::uint64_t error = 0;   ///< bytes - error is a lower bound
  double bits_per_second = 0;  ///< over the last publication interval (0 when new)
};

/// A host (IP in a VLAN): traffic summed over workers, MAC binding from ARP.
struct HostView {
  decode::IpAddr ip;
  std::uint16_t vlan = 0;
  std::uint64_t bytes_sent = 0, bytes_received = 0, packets_sent = 0, packets_received = 0;
  std::uint64_t first_ns = 0, last_ns = 0;
  decode::MacAddr mac{};
  bool mac_known = false;
  std::uint16_t mac_changes = 0;
};

/// A conversation between two hosts, both directions (a is the lower address).
struct EdgeView {
  decode::IpAddr a, b;
  std::uint16_t vlan = 0;
  std::uint64_t bytes_ab = 0, bytes_ba = 0, packets_ab = 0, packets_ba = 0;
  std::uint64_t first_ns = 0, last_ns = 0;
};

/// What the control side knows about the traffic, published with each Snapshot.
struct TrafficView {
  std::uint64_t time_ns = 0;
  RateSet global;
  std::vector<std::pair<std::uint16_t, RateSet>> ports;  ///< per port id
  std::vector<TopFlow> top_flows;  ///< by bytes, descending, at most top_k
  std::vector<HostView> top_hosts; ///< by bytes sent + received, at most top_k
  std::vector<HostView> hosts;     ///< every host known
  std::vector<EdgeView> edges;     ///< every edge known
  std::array<std::uint64_t, analysis::kAlertTypeCount> alerts{};  ///< raised, by type
  std::uint64_t connection_failures = 0;   ///< merged from workers (scan input)
  std::uint64_t destination_seconds = 0;   ///< per-destination partial counts merged
  std::uint64_t late_partials = 0;         ///< partial counts for a second already closed (ignored)
  std::uint64_t hosts_dropped = 0;         ///< hosts/edges not kept (merged_hosts/edges reached)
  std::uint64_t edges_dropped = 0;
};

/// Control-side merge of every worker's records. Control lcore only; allocates.
class SensorMerger {
 public:
  SensorMerger(const SensorConfig& cfg, std::uint16_t workers);
  ~SensorMerger();

  /// One record from worker `r.worker`.
  void on_record(const SensorRecord& r);

  /// Samples the totals (wall clock) for the rate windows: once a second is enough.
  void observe_totals(std::uint64_t now_ns, std::uint64_t packets, std::uint64_t bytes,
                      const std::vector<std::array<std::uint64_t, 3>>& ports);  ///< {id, packets, bytes}

  /// Every alert raised since the last call, as anomaly events (source detection).
  std::vector<AnomalyEvent> take_alerts();

  /// The merged view (top lists, hosts, edges, rates, alert counts). Remembers the top
  /// flows' bytes for the next view's rates.
  [[nodiscard]] TrafficView view(std::uint64_t now_ns);
  [[nodiscard]] const std::array<std::uint64_t, analysis::kAlertTypeCount>& alert_counts() const noexcept {
    return alerts_;
  }

  struct DestState;
  struct HostParts;
  struct EdgeParts;

 private:
  void pull_ring();
  void raise(const analysis::Alert& a);
  void on_destination_second(const SensorRecord& r);

  SensorConfig cfg_;
  std::uint16_t workers_;
  analysis::AlertRing alert_ring_;
  analysis::Detector detector_;   ///< scans (connection failures from every worker)
  analysis::Topology bindings_;   ///< MAC bindings from ARP (mac_ip_change alerts)
  std::vector<analysis::Alert> pending_;
  std::array<std::uint64_t, analysis::kAlertTypeCount> alerts_{};
  std::unordered_map<std::string, std::unique_ptr<DestState>> dests_;
  std::unordered_map<std::string, std::unique_ptr<HostParts>> hosts_;
  std::unordered_map<std::string, std::unique_ptr<EdgeParts>> edges_;
  std::vector<std::vector<TopFlow>> worker_top_;  ///< latest list of each worker
  std::vector<std::uint64_t> complete_before_;    ///< per worker: seconds before this one are complete (0: unknown)
  std::vector<std::vector<TopFlow>> building_top_;
  std::unordered_map<std::string, std::pair<std::uint64_t, std::uint64_t>> prev_flow_bytes_;  ///< key -> (bytes, ns)
  analysis::RateWindow<61> global_;
  std::unordered_map<std::uint16_t, analysis::RateWindow<61>> ports_;
  std::unordered_map<std::uint16_t, std::array<std::uint64_t, 2>> last_port_totals_;
  std::uint64_t last_packets_ = 0, last_bytes_ = 0, last_rate_ns_ = 0;
  std::uint64_t connection_failures_ = 0, destination_seconds_ = 0, late_partials_ = 0;
  std::uint64_t hosts_dropped_ = 0, edges_dropped_ = 0;
};

}  // namespace netscope::engine
