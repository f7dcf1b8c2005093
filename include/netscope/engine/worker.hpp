// The per-lcore analysis engine: decode, classify, track SAs and flows. No DPDK.
//
// One Worker per worker lcore. process() is the per-packet path: noexcept, no allocation,
// no locks, no logging. Counters are single-writer and readable by the control lcore at
// any time. Flow records and anomaly events leave through a RecordSink (on DPDK: rings to
// the control lcore); the SA table is read by the control side only after stop.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "netscope/analysis/alert.hpp"
#include "netscope/decode/field_rules.hpp"
#include "netscope/engine/capture.hpp"
#include "netscope/engine/correlation.hpp"
#include "netscope/decode/packet.hpp"
#include "netscope/engine/sensors.hpp"
#include "netscope/engine/flow_analysis.hpp"
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
  std::uint32_t max_sas = 65536;      ///< per worker
  std::uint32_t max_flows = 262144;   ///< per worker
  std::uint32_t max_events = 100000;  ///< events a CollectingSink keeps
  flow::FlowTimeouts timeouts;
  std::uint32_t expiry_work = 32;     ///< flows expired at most per maintain() call
  std::uint32_t sa_publish_work = 0;  ///< SA table slots visited per maintain() (0: never)
  std::vector<ExtendedSelector> extended;
  std::uint16_t worker_index = 0;     ///< this worker's shard number
  std::uint16_t worker_count = 1;     ///< shards in total (for wrong_lcore)
  std::uint16_t lcore = 0;            ///< for flow records
  FlowAnalysisConfig analysis;        ///< per-flow TCP/L7 analysis and fragment reassembly
  std::vector<decode::FieldRule> rules;  ///< include/exclude rules on decoded fields
  SensorConfig sensors;               ///< measures, detections, topology (engine/sensors.hpp)
  CaptureConfig capture;              ///< frame history, anomaly/malformed capture (engine/capture.hpp)
  CorrelationConfig correlation;      ///< port pairs correlated (engine/correlation.hpp)
};

/// What raised an anomaly: an SA's sequence tracker, or a traffic detection (engine/sensors.hpp).
enum class AnomalySource : std::uint8_t { sequence, detection };

/// One anomaly: a sequence event of an SA (source sequence: sa, expected, got, type) or a
/// detection alert merged on the control lcore (source detection: alert, severity,
/// attacker, victim, ...). The JSON/REST/SQLite "type" is to_string(type) for the first
/// and to_string(alert) for the second (anomaly_type_name()).
struct AnomalyEvent {
  seq::SaKey sa;                   ///< sequence only
  std::uint64_t timestamp_ns = 0;  ///< sequence: the packet; detection: when the threshold was crossed
  std::uint64_t packet_index = 0;  ///< index within the port's input, 0-based (sequence only)
  std::uint64_t expected = 0;
  std::uint64_t got = 0;
  std::uint64_t count = 0;         ///< detection: what was measured (half-open connections, ports, hosts, packets/s)
  seq::EventType type = seq::EventType::gap;  ///< sequence only
  std::uint16_t port = 0;
  AnomalySource source = AnomalySource::sequence;
  // Detection fields (source == detection), fixed size.
  analysis::AlertType alert = analysis::AlertType::syn_flood;  ///< syn_flood, port_scan, host_scan, ddos, mac_ip_change
  analysis::Severity severity = analysis::Severity::info;
  std::uint16_t vlan = 0;          ///< outer VLAN of the hosts
  std::uint16_t target_port = 0;   ///< port_scan: last port tried; host_scan: the port scanned; syn_flood: a port hit
  decode::IpAddr attacker;         ///< scanner / a SYN source; version 0 when unknown (ddos, mac_ip_change)
  decode::IpAddr victim;           ///< destination host, or the IP whose MAC changed
  decode::MacAddr mac_old{};       ///< mac_ip_change only
  decode::MacAddr mac_new{};       ///< mac_ip_change only
  std::uint64_t first_ns = 0;      ///< start of the window or episode that crossed the threshold
  std::uint64_t threshold = 0;     ///< the threshold crossed
  std::uint64_t baseline = 0;      ///< ddos: baseline packets/s (EWMA); 0 otherwise
};

/// The anomaly's type name: the sequence event ("gap") or the detection ("port_scan").
std::string_view anomaly_type_name(const AnomalyEvent& e) noexcept;

/// A flow that left a worker's table: expired, evicted or flushed at shutdown.
struct FlowRecord {
  flow::FlowKey key;
  flow::FlowDirection a_to_b;
  flow::FlowDirection b_to_a;
  std::uint64_t first_seen_ns = 0;
  std::uint64_t last_seen_ns = 0;
  std::uint16_t lcore = 0;
  std::uint8_t tcp_flags = 0;
  flow::EndReason reason = flow::EndReason::shutdown;
  bool initiator_is_a = true;
  FlowIcmp icmp;  ///< ICMP errors that quoted this flow
  FlowTcp tcp;    ///< TCP measures (tcp.flags kSeen set when the flow is TCP)
  FlowL7 l7;      ///< application protocol and its fields
};
static_assert(sizeof(FlowRecord) == 360, "flow records cross rings by value: keep them compact");

/// The live state of one SA, published by its worker a few SAs per burst so that the
/// control side sees every SA without reading the worker's table.
struct SaSummary {
  seq::SaKey key;
  seq::SequenceCounters counters;  ///< counters.lost includes the holes open right now
  std::uint64_t bytes = 0;
  std::uint64_t first_seq = 0;
  std::uint64_t highest_seq = 0;
  std::uint64_t first_seen_ns = 0;
  std::uint64_t last_seen_ns = 0;
  std::uint16_t port = 0;
  std::uint16_t lcore = 0;
  std::uint8_t extended = 0;
  std::uint8_t extended_inferred = 0;
  std::uint8_t recent_count = 0;  ///< valid numbers in `recent`
  std::uint8_t pad_ = 0;
  std::array<std::uint64_t, seq::kRecentSeq> recent{};  ///< last packets' numbers, oldest first
};

/// What the tracker made of one packet, as the packet tap shows it.
enum class PacketVerdict : std::uint8_t { none, in_order, gap, duplicate, reordered,
                                          out_of_window, rollover, reset, rekey, stuck, malformed };
std::string_view to_string(PacketVerdict v) noexcept;

/// One analyzed packet, as the packet tap shows it (REST packets/recent, gRPC
/// StreamPackets). Workers emit them only while the control side grants tap budget.
struct PacketSummary {
  std::uint64_t timestamp_ns = 0;
  std::uint64_t packet_index = 0;
  std::uint64_t seq = 0;       ///< extended sequence number / PN when has_sa
  seq::SaKey sa;               ///< valid when has_sa
  flow::FlowKey flow;          ///< valid when has_flow (ordered: a is the lower endpoint)
  std::uint32_t wire_len = 0;
  std::uint16_t port = 0;
  std::uint16_t lcore = 0;
  TrafficClass cls = TrafficClass::other;
  PacketVerdict verdict = PacketVerdict::none;
  std::uint8_t malformed = 0;  ///< decode::Malformed when verdict is malformed
  bool has_sa = false;
  bool has_flow = false;
  bool forward = true;         ///< a -> b direction of `flow`
};

/// Where a worker sends flow records and events. Called on the worker's lcore; must not
/// block for long. Returns false when the record could not be taken (counted as dropped).
class RecordSink {
 public:
  virtual bool on_flow(const FlowRecord& r) noexcept = 0;
  virtual bool on_event(const AnomalyEvent& e) noexcept = 0;
  /// SA state updates; dropping one is harmless (the next round sends it again).
  virtual bool on_sa(const SaSummary&) noexcept { return true; }
  /// Packet tap; dropping one is counted by the worker (tap_dropped).
  virtual bool on_packet(const PacketSummary&) noexcept { return true; }
  /// Sensor records (engine/sensors.hpp) for the control side's SensorMerger.
  virtual bool on_sensor(const SensorRecord&) noexcept { return true; }
  /// Captured frames (engine/capture.hpp): recording and packet-inspector snapshots.
  /// Dropping one is counted by the worker (capture_dropped).
  virtual bool on_capture(const CaptureMeta&, decode::Bytes) noexcept { return true; }

 protected:
  ~RecordSink() = default;
};

/// A sink that keeps records in vectors reserved up front (tests, benchmarks).
class CollectingSink final : public RecordSink {
 public:
  CollectingSink(std::size_t max_flows, std::size_t max_events);
  bool on_flow(const FlowRecord& r) noexcept override;
  bool on_event(const AnomalyEvent& e) noexcept override;
  std::vector<FlowRecord> flows;
  std::vector<AnomalyEvent> events;
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
  util::Counter events_dropped;   ///< the sink refused them (still counted above)
  util::Counter sa_table_full;    ///< packets of new SAs that found the table full
  util::Counter sas_created;
  util::Counter flows_created;
  util::Counter flows_expired;
  util::Counter flows_evicted;    ///< table full: least recently used flow evicted
  util::Counter flows_active;
  util::Counter flow_records_dropped;  ///< the sink refused them
  util::Counter wrong_lcore;      ///< packets whose SA/flow another worker owns
  util::Counter rules_excluded;   ///< packets the field rules kept out of the analysis
  FlowAnalysisCounters analysis;  ///< per-flow TCP/L7 analysis
  util::Counter tap_packets;      ///< packet summaries handed to the sink (tap)
  util::Counter tap_dropped;      ///< packet summaries the sink refused
  util::Counter sa_resets;        ///< SAs reset on request (API)
  util::Counter captured;         ///< frames handed to the sink for recording
  util::Counter capture_dropped;  ///< captured frames the sink refused (recording and inspector)
  util::Counter inspect_snapshots;  ///< packet-inspector snapshots sent
  std::array<PortCounters, kMaxPorts> ports;
};

/// One received frame, for Worker::process_burst.
struct FrameRef {
  decode::Bytes bytes;            ///< captured bytes (possibly fewer than wire_len)
  std::uint32_t wire_len = 0;
  std::uint16_t port = 0;
  std::uint64_t timestamp_ns = 0;
  std::uint64_t packet_index = 0;
};

inline constexpr std::size_t kBurstChunk = 32;  ///< staged frames kept (a power of two)
inline constexpr std::size_t kFrameDistance = 4;     ///< frames whose bytes are prefetched ahead of staging
inline constexpr std::size_t kLookupDistance = 6;    ///< frames staged ahead of their table lookup
inline constexpr std::size_t kAnalyzeDistance = 8;   ///< frames looked up ahead of their analysis

class Worker {
 public:
  /// `sink` must outlive the worker.
  Worker(const EngineConfig& cfg, RecordSink& sink);

  /// Analyzes one frame. `frame` holds the captured bytes (possibly fewer than wire_len).
  /// Does not allocate. Only the owning lcore may call it.
  void process(decode::Bytes frame, std::uint32_t wire_len, std::uint64_t timestamp_ns,
               std::uint16_t port, std::uint64_t packet_index) noexcept;

  /// Analyzes a burst: decodes every frame and prefetches its SA and flow index slots
  /// before any lookup (DPDK l3fwd-style), then tracks them in order. Does not allocate.
  void process_burst(std::span<const FrameRef> frames) noexcept;

  /// Expires at most cfg.expiry_work idle flows at `now` (packet time in replay, wall
  /// time live). Call once per burst. Does not allocate.
  void maintain(std::uint64_t now) noexcept;

  /// Packet tap: the worker hands a PacketSummary to the sink for each packet while its
  /// total tapped count (counters().tap_packets) is below `total`. Any thread (control).
  void grant_tap(std::uint64_t total) noexcept {
    if (tap_grant_.load(std::memory_order_relaxed) != total) tap_grant_.store(total, std::memory_order_relaxed);
  }

  /// Replaces the field rules (API): the worker loads the pointer once per burst. `r`
  /// must stay valid until the worker stops (the control side keeps every set). Any thread.
  void set_rules(const decode::FieldRules* r) noexcept { rules_.store(r, std::memory_order_release); }

  /// Asks the worker to send its frame history (CaptureReason::inspect, snapshot number
  /// `n`) in its next maintain() or flush(). Any thread (control); the last n wins.
  void request_snapshot(std::uint32_t n) noexcept { snapshot_request_.store(n, std::memory_order_relaxed); }

  /// Asks the worker to reset an SA's sequence state (done in its next maintain()).
  /// Called by one control thread only. False when the mailbox is full (try again).
  bool request_sa_reset(const seq::SaKey& key) noexcept;

  /// Puts back an SA saved earlier (restart with the same database) before any packet
  /// is processed. False when the table is full. Not for the per-packet path.
  bool restore_sa(const SaSummary& s) noexcept;

  /// Publishes the current state of every SA now (control side asks at the end of a
  /// live period, tests). Not for the per-packet path.
  void publish_all_sas() noexcept;

  /// Sends up to `max` flows still in the table to the sink (end reason shutdown), then,
  /// within the same budget, the sensors' last records (Sensors::flush). Returns how many
  /// flows plus sensor work items were sent; 0 when both are done (call until then).
  std::uint32_t flush(std::uint32_t max = 0xFFFFFFFFu) noexcept;

  [[nodiscard]] const WorkerCounters& counters() const noexcept { return *counters_; }
  [[nodiscard]] const seq::SaTable& sas() const noexcept { return sas_; }
  [[nodiscard]] const flow::FlowTable& flows() const noexcept { return flows_; }
  /// Fragment reassembly counters (readable from any thread).
  [[nodiscard]] const analysis::ReassemblyCounters& reassembly() const noexcept { return reasm_->counters(); }
  [[nodiscard]] const EngineConfig& config() const noexcept { return cfg_; }
  /// The traffic sensors, or nullptr when cfg.sensors.enabled is false.
  [[nodiscard]] const Sensors* sensors() const noexcept { return sensors_.get(); }
  /// Cross-port correlation, or nullptr when no pair is configured (readable from any thread).
  [[nodiscard]] const Correlator* correlator() const noexcept { return corr_.get(); }
  /// Highest packet timestamp seen (replay clock).
  [[nodiscard]] std::uint64_t clock() const noexcept { return clock_; }

 private:
  /// What the decode-ahead stage found for one frame of a burst.
  struct Staged {
    seq::SaKey sa_key;
    flow::FlowKey flow_key;
    std::uint64_t sa_hash = 0;
    std::uint64_t flow_hash = 0;
    seq::SaEntry* sa_entry = nullptr;  ///< found in the second prefetch round, if it existed
    std::uint32_t seq32 = 0;
    bool has_sa = false;
    bool has_flow = false;
    bool forward = true;
  };
  void stage(const FrameRef& f, decode::DecodedPacket& p, Staged& s) noexcept;
  /// Reads the staged frame's index slots and prefetches its entries (SA found here).
  void lookup(Staged& s) noexcept;
  void analyze(const FrameRef& f, const decode::DecodedPacket& p, const Staged& s) noexcept;
  /// Returns the verdict for the packet tap; the extended number goes to `seq`.
  PacketVerdict track_sa(const decode::DecodedPacket& p, const Staged& s, std::uint32_t wire_len,
                         std::uint64_t ts, std::uint16_t port, std::uint64_t index,
                         std::uint64_t& seq) noexcept;
  void tap(const FrameRef& f, const decode::DecodedPacket& p, const Staged& s, TrafficClass cls,
           PacketVerdict v, std::uint64_t seq) noexcept;
  void apply_resets() noexcept;
  /// After a frame's analysis: records it when it raised an anomaly (with the port's
  /// history before it), follows an anomaly, or is malformed.
  void capture(const FrameRef& f, const decode::DecodedPacket& p) noexcept;
  void emit_capture(CaptureMeta m, decode::Bytes bytes) noexcept;
  void send_snapshot() noexcept;
  /// The slow path of track_flow: a flow not in the table (may retire or evict others).
  [[gnu::noinline]] flow::FlowEntry* insert_flow(const flow::FlowKey& key, std::uint64_t h, std::uint64_t ts,
                                                 bool& created) noexcept;
  void track_flow(const decode::DecodedPacket& p, const Staged& s, std::uint32_t wire_len,
                  std::uint64_t ts, decode::Bytes frame) noexcept;
  /// Fragments: reassembles, then tracks the whole datagram's flow.
  void track_fragment(const FrameRef& f, const decode::DecodedPacket& p) noexcept;
  /// ICMP errors: counts them on the flow of the packet they quote.
  void link_icmp_error(decode::Bytes frame, const decode::DecodedPacket& p) noexcept;
  void record(seq::EventType type, const seq::SaKey& key, std::uint64_t expected,
              std::uint64_t got, std::uint64_t count, std::uint64_t ts, std::uint16_t port,
              std::uint64_t index) noexcept;
  void emit_flow(const flow::FlowEntry& e, flow::EndReason reason, std::uint32_t slot) noexcept;
  [[nodiscard]] bool extended_for(const seq::SaKey& key) const noexcept;

  EngineConfig cfg_;
  decode::FieldRules own_rules_{cfg_.rules};  ///< after cfg_: built from it
  alignas(64) std::atomic<const decode::FieldRules*> rules_{&own_rules_};  ///< swapped by control (API)
  const decode::FieldRules* rules_now_ = &own_rules_;  ///< loaded once per burst
  RecordSink& sink_;
  std::unique_ptr<WorkerCounters> counters_;
  seq::SaTable sas_;
  flow::FlowTable flows_;
  std::unique_ptr<decode::DecodedPacket[]> pkts_;  ///< kBurstChunk decoded frames
  std::unique_ptr<Staged[]> staged_;                ///< kBurstChunk staged keys
  std::uint64_t clock_ = 0;
  std::uint32_t sa_cursor_ = 0;  ///< next SA table slot to publish
  std::unique_ptr<Sensors> sensors_;  ///< measures, detections, topology (optional)
  std::unique_ptr<Correlator> corr_;  ///< cross-port correlation (optional)
  FlowAnalyzer analyzer_;        ///< per-flow TCP/L7 state, parallel to flows_
  std::unique_ptr<analysis::Reassembler> reasm_;
  std::unique_ptr<decode::DecodedPacket> reasm_pkt_;  ///< a reassembled datagram, decoded
  alignas(64) std::atomic<std::uint64_t> tap_grant_{0};  ///< written by control
  alignas(64) std::atomic<std::uint32_t> reset_head_{0};  ///< written by control
  std::atomic<std::uint32_t> reset_tail_{0};              ///< written by the worker
  std::array<seq::SaKey, 8> reset_keys_{};
  std::unique_ptr<FrameHistory> history_;     ///< last frames per port, or none
  bool capturing_ = false;                    ///< anomalies or malformed frames are captured
  bool pending_ = false;                      ///< the frame being analyzed raised an anomaly
  CaptureMeta pending_meta_;
  std::array<std::uint32_t, kMaxPorts> after_left_{};  ///< context frames still to capture
  alignas(64) std::atomic<std::uint32_t> snapshot_request_{0};  ///< written by control
  std::uint32_t snapshot_served_ = 0;
};

/// The summary of one SA entry (lost includes its open holes).
SaSummary summarize(const seq::SaTable& t, const seq::SaEntry& e, std::uint16_t lcore) noexcept;

/// Traffic class of a decoded packet.
TrafficClass classify(const decode::DecodedPacket& p) noexcept;

/// The shard hash that decides which worker owns a packet: all packets of one SA hash
/// alike (MACsec: the SCI; ESP/AH: destination and SPI), and both directions of an IP
/// flow hash alike (Toeplitz over the ordered 5-tuple with the symmetric 0x6D5A key).
/// Non-IP frames hash the ordered MAC pair.
std::uint32_t shard_hash(const decode::DecodedPacket& p) noexcept;
/// The shard hash of an SA's packets (shard_hash of any of them), from its key alone.
std::uint32_t shard_hash(const seq::SaKey& sa) noexcept;

/// Toeplitz hash of `data` with the repeated 0x6D5A key (rte_softrss-compatible).
std::uint32_t toeplitz_6d5a(std::span<const std::uint8_t> data) noexcept;

}  // namespace netscope::engine
