#include "netscope/engine/worker.hpp"

#include <algorithm>
#include <cstring>

namespace netscope::engine {

std::string_view to_string(TrafficClass c) noexcept {
  switch (c) {
#define NETSCOPE_X(name)    \
  case TrafficClass::name: \
    return #name;
    NETSCOPE_TRAFFIC_CLASSES(NETSCOPE_X)
#undef NETSCOPE_X
    case TrafficClass::count_:
      break;
  }
  return "unknown";
}

std::string_view to_string(PacketVerdict v) noexcept {
  switch (v) {
    case PacketVerdict::none: return "none";
    case PacketVerdict::in_order: return "in_order";
    case PacketVerdict::gap: return "gap";
    case PacketVerdict::duplicate: return "duplicate";
    case PacketVerdict::reordered: return "reordered";
    case PacketVerdict::out_of_window: return "out_of_window";
    case PacketVerdict::rollover: return "rollover";
    case PacketVerdict::reset: return "reset";
    case PacketVerdict::rekey: return "rekey";
    case PacketVerdict::stuck: return "stuck";
    case PacketVerdict::malformed: return "malformed";
  }
  return "unknown";
}

TrafficClass classify(const decode::DecodedPacket& p) noexcept {
  using namespace decode;
  if (p.has(kLayerMacsec)) return TrafficClass::macsec;
  if (p.has(kLayerAh)) return TrafficClass::ah;
  if (p.has(kLayerEsp)) return TrafficClass::esp;
  if (p.has(kLayerIkeNatT)) return TrafficClass::ike;
  if (p.has(kLayerTcp)) return TrafficClass::tcp;
  if (p.has(kLayerUdp)) return TrafficClass::udp;
  if (p.has(kLayerIcmp)) return TrafficClass::icmp;
  if (p.has(kLayerIcmpv6)) return TrafficClass::icmpv6;
  if (p.has(kLayerIpv4) || p.has(kLayerIpv6)) return TrafficClass::other_ip;
  if (p.has(kLayerArp) || p.ethertype == ethertype::kArp) return TrafficClass::arp;
  return TrafficClass::other;
}

namespace {

/// Byte-wise Toeplitz tables for the periodic 0x6D5A key: for a byte at offset i, the
/// 32-bit key window starts at bit 8*i; with a 16-bit period only (i % 2) matters.
struct ToeplitzTables {
  std::array<std::array<std::uint32_t, 256>, 2> t{};
  ToeplitzTables() {
    const std::uint8_t key[8] = {0x6D, 0x5A, 0x6D, 0x5A, 0x6D, 0x5A, 0x6D, 0x5A};
    for (int phase = 0; phase < 2; ++phase) {
      for (int b = 0; b < 256; ++b) {
        std::uint32_t h = 0;
        for (int bit = 0; bit < 8; ++bit) {
          if ((b >> (7 - bit)) & 1) {
            // Key window of 32 bits starting at bit (phase*8 + bit).
            const int start = phase * 8 + bit;
            std::uint64_t k = 0;
            for (int i = 0; i < 8; ++i) k = (k << 8) | key[i];
            h ^= static_cast<std::uint32_t>(k >> (32 - start));
          }
        }
        t[static_cast<std::size_t>(phase)][static_cast<std::size_t>(b)] = h;
      }
    }
  }
};
const ToeplitzTables kToeplitz;

}  // namespace

std::uint32_t toeplitz_6d5a(std::span<const std::uint8_t> data) noexcept {
  std::uint32_t h = 0;
  for (std::size_t i = 0; i < data.size(); ++i) h ^= kToeplitz.t[i & 1][data[i]];
  return h;
}

std::uint32_t shard_hash(const seq::SaKey& sa) noexcept {
  std::uint8_t buf[20];
  if (sa.protocol == seq::SaProtocol::macsec) {
    for (int i = 0; i < 8; ++i) buf[i] = static_cast<std::uint8_t>(sa.sci >> (56 - 8 * i));
    return toeplitz_6d5a({buf, 8});
  }
  const std::size_t alen = sa.ip_version == 6 ? 16 : 4;
  std::memcpy(buf, sa.dst.data(), alen);
  for (int i = 0; i < 4; ++i) buf[alen + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(sa.spi >> (24 - 8 * i));
  return toeplitz_6d5a({buf, alen + 4});
}

std::uint32_t shard_hash(const decode::DecodedPacket& p) noexcept {
  std::uint8_t buf[36];
  seq::SaKey sa;
  std::uint32_t seq32 = 0;
  if (seq::sa_key_of(p, sa, seq32)) return shard_hash(sa);
  flow::FlowKey k;
  bool fwd = true;
  if (flow::flow_key_of(p, k, fwd)) {
    const std::size_t alen = k.ip_version == 6 ? 16 : 4;
    std::memcpy(buf, k.addr_a.data(), alen);
    std::memcpy(buf + alen, k.addr_b.data(), alen);
    buf[2 * alen] = static_cast<std::uint8_t>(k.port_a >> 8);
    buf[2 * alen + 1] = static_cast<std::uint8_t>(k.port_a);
    buf[2 * alen + 2] = static_cast<std::uint8_t>(k.port_b >> 8);
    buf[2 * alen + 3] = static_cast<std::uint8_t>(k.port_b);
    return toeplitz_6d5a({buf, 2 * alen + 4});
  }
  const bool src_first = std::memcmp(p.eth.src.data(), p.eth.dst.data(), 6) <= 0;
  std::memcpy(buf, src_first ? p.eth.src.data() : p.eth.dst.data(), 6);
  std::memcpy(buf + 6, src_first ? p.eth.dst.data() : p.eth.src.data(), 6);
  return toeplitz_6d5a({buf, 12});
}

CollectingSink::CollectingSink(std::size_t max_flows, std::size_t max_events) {
  flows.reserve(max_flows);
  events.reserve(max_events);
}

bool CollectingSink::on_flow(const FlowRecord& r) noexcept {
  if (flows.size() == flows.capacity()) return false;
  flows.push_back(r);
  return true;
}

bool CollectingSink::on_event(const AnomalyEvent& e) noexcept {
  if (events.size() == events.capacity()) return false;
  events.push_back(e);
  return true;
}

Worker::Worker(const EngineConfig& cfg, RecordSink& sink)
    : cfg_(cfg),
      sink_(sink),
      counters_(std::make_unique<WorkerCounters>()),
      sas_(cfg.max_sas, cfg.tracker),
      flows_(cfg.max_flows),
      pkts_(std::make_unique<decode::DecodedPacket[]>(kBurstChunk)),
      staged_(std::make_unique<Staged[]>(kBurstChunk)),
      analyzer_(flows_.capacity(), cfg.analysis),
      reasm_(std::make_unique<analysis::Reassembler>(cfg.analysis.reassembly_config)),
      reasm_pkt_(std::make_unique<decode::DecodedPacket>()) {
  if (cfg.sensors.enabled) sensors_ = std::make_unique<Sensors>(cfg.sensors, sink, cfg.worker_index, cfg.worker_count);
  if (!cfg.correlation.pairs.empty()) corr_ = std::make_unique<Correlator>(cfg.correlation);
  const CaptureConfig& cc = cfg.capture;
  capturing_ = cc.anomalies || cc.malformed;
  const std::uint32_t depth = std::max(cc.history, cc.anomalies && cc.before != 0 ? cc.before + 1 : 0u);
  if (depth != 0 && cc.ports != 0) {
    history_ = std::make_unique<FrameHistory>(std::min<std::uint32_t>(cc.ports, kMaxPorts), depth, cc.snaplen);
  }
}

bool Worker::extended_for(const seq::SaKey& key) const noexcept {
  for (const ExtendedSelector& s : cfg_.extended) {
    if (s.protocol != key.protocol) continue;
    if (key.protocol == seq::SaProtocol::macsec) {
      if (s.sci == 0 || s.sci == key.sci) return true;
    } else if (s.spi == 0 || s.spi == key.spi) {
      return true;
    }
  }
  return false;
}

namespace {

/// The description of a captured frame (anomaly fields left empty).
CaptureMeta frame_meta(std::uint64_t ts, std::uint64_t index, std::uint32_t wire_len, std::uint16_t port,
                       CaptureReason reason) noexcept {
  CaptureMeta m;
  m.timestamp_ns = ts;
  m.packet_index = index;
  m.wire_len = wire_len;
  m.port = port;
  m.reason = reason;
  return m;
}

}  // namespace

void Worker::record(seq::EventType type, const seq::SaKey& key, std::uint64_t expected,
                    std::uint64_t got, std::uint64_t count, std::uint64_t ts, std::uint16_t port,
                    std::uint64_t index) noexcept {
  WorkerCounters& c = *counters_;
  c.events[static_cast<std::size_t>(type)].add();
  c.events_total.add();
  if (!sink_.on_event(AnomalyEvent{key, ts, index, expected, got, count, type, port})) {
    c.events_dropped.add();
  }
  if (cfg_.capture.anomalies && !pending_) [[unlikely]] {
    // The first event of a packet names it in the recording (a rollover comes first).
    pending_ = true;
    pending_meta_ = frame_meta(ts, index, 0, port, CaptureReason::anomaly);
    pending_meta_.expected = expected;
    pending_meta_.got = got;
    pending_meta_.sa = key;
    pending_meta_.event = type;
  }
}

void Worker::emit_capture(CaptureMeta m, decode::Bytes bytes) noexcept {
  m.lcore = cfg_.lcore;
  counters_->captured.add();
  if (!sink_.on_capture(m, bytes)) counters_->capture_dropped.add();
}

void Worker::capture(const FrameRef& f, const decode::DecodedPacket& p) noexcept {
  const CaptureConfig& cc = cfg_.capture;
  const std::uint16_t port = f.port;
  const bool held = history_ != nullptr && history_->size(port) != 0;  // this frame is its newest
  const decode::Bytes bytes = f.bytes.first(std::min<std::size_t>(f.bytes.size(), cc.capture_snaplen));
  CaptureMeta m = frame_meta(f.timestamp_ns, f.packet_index, f.wire_len, port, CaptureReason::context);
  m.malformed = p.malformed;
  if (pending_) {
    pending_ = false;
    if (held) {
      // The port's frames before this one, oldest first, that no earlier anomaly took.
      for (std::uint32_t age = std::min(cc.before, history_->size(port) - 1); age >= 1; --age) {
        FrameHistory::Slot& s = history_->slot(port, age);
        if (s.captured) continue;
        s.captured = true;
        emit_capture(frame_meta(s.timestamp_ns, s.packet_index, s.wire_len, port, CaptureReason::context),
                     history_->bytes(port, age));
      }
      history_->slot(port, 0).captured = true;
    }
    pending_meta_.wire_len = f.wire_len;
    pending_meta_.malformed = p.malformed;
    pending_meta_.reason = CaptureReason::anomaly;
    emit_capture(pending_meta_, bytes);
    if (port < kMaxPorts) after_left_[port] = cc.after;
    return;
  }
  if (port < kMaxPorts && after_left_[port] != 0) {
    --after_left_[port];
    if (held) history_->slot(port, 0).captured = true;
    m.reason = CaptureReason::context;
    emit_capture(m, bytes);
    return;
  }
  if (cc.malformed && p.malformed != decode::Malformed::none) {
    if (held) history_->slot(port, 0).captured = true;
    m.reason = CaptureReason::malformed;
    emit_capture(m, bytes);
  }
}

void Worker::send_snapshot() noexcept {
  const std::uint32_t n = snapshot_request_.load(std::memory_order_relaxed);
  if (n == snapshot_served_) [[likely]] return;
  snapshot_served_ = n;
  if (history_ == nullptr) return;
  counters_->inspect_snapshots.add();
  for (std::uint16_t port = 0; port < history_->ports(); ++port) {
    for (std::uint32_t age = history_->size(port); age-- > 0;) {
      const FrameHistory::Slot& s = history_->slot(port, age);
      CaptureMeta m = frame_meta(s.timestamp_ns, s.packet_index, s.wire_len, port, CaptureReason::inspect);
      m.lcore = cfg_.lcore;
      m.snapshot = n;
      if (!sink_.on_capture(m, history_->bytes(port, age))) counters_->capture_dropped.add();
    }
  }
}

void Worker::emit_flow(const flow::FlowEntry& e, flow::EndReason reason, std::uint32_t slot) noexcept {
  FlowRecord r;
  r.key = e.key;
  r.a_to_b = e.a_to_b;
  r.b_to_a = e.b_to_a;
  r.first_seen_ns = e.first_seen_ns;
  r.last_seen_ns = e.last_seen_ns;
  r.lcore = cfg_.lcore;
  r.tcp_flags = e.tcp_flags;
  r.reason = reason;
  r.initiator_is_a = e.initiator_is_a;
  analyzer_.fill(slot, r.tcp, r.l7, r.icmp);
  if (!sink_.on_flow(r)) counters_->flow_records_dropped.add();
  if (sensors_) sensors_->on_flow_end(e);
}

PacketVerdict Worker::track_sa(const decode::DecodedPacket& p, const Staged& s, std::uint32_t wire_len,
                               std::uint64_t ts, std::uint16_t port, std::uint64_t index,
                               std::uint64_t& seq) noexcept {
  (void)p;
  const seq::SaKey& key = s.sa_key;
  const std::uint32_t seq32 = s.seq32;
  bool created = false;
  seq::SaEntry* e = s.sa_entry != nullptr ? s.sa_entry : sas_.find_or_insert(key, s.sa_hash, created);
  if (e == nullptr) [[unlikely]] {
    counters_->sa_table_full.add();
    seq = seq32;
    return PacketVerdict::none;
  }
  if (created) [[unlikely]] {
    counters_->sas_created.add();
    e->tracker.init(extended_for(key));
    e->first_seen_ns = ts;
    e->port = port;
    if (key.protocol == seq::SaProtocol::macsec) {
      const seq::SaEntry* prev = sas_.previous_an(key);
      if (prev != nullptr && prev->tracker.started() &&
          static_cast<std::uint64_t>(seq32) < prev->tracker.highest()) {
        e->tracker.counters().rekeys += 1;
        record(seq::EventType::rekey, key, prev->tracker.highest() + 1, seq32, 1, ts, port, index);
      }
    }
  }
  e->bytes += wire_len;
  e->last_seen_ns = ts;
  const seq::Observation obs = e->tracker.track(seq32, sas_.bitmap(*e), sas_.config());
  sas_.note_recent(*e, obs.got);
  seq = obs.got;
  for (std::uint8_t i = 0; i < obs.event_count; ++i) {
    record(obs.events[i], key, obs.expected, obs.got, obs.counts[i], ts, port, index);
  }
  if (obs.event_count == 0) return PacketVerdict::in_order;
  // The tap shows the event that says most about this packet: a rollover comes with
  // the packet's own verdict as its second event.
  const seq::EventType t = obs.event_count == 2 && obs.events[0] == seq::EventType::rollover ? obs.events[1] : obs.events[0];
  return static_cast<PacketVerdict>(static_cast<std::uint8_t>(t) + 2);
}

void Worker::tap(const FrameRef& f, const decode::DecodedPacket& p, const Staged& s, TrafficClass cls,
                 PacketVerdict v, std::uint64_t seq) noexcept {
  PacketSummary t;
  t.timestamp_ns = f.timestamp_ns;
  t.packet_index = f.packet_index;
  t.seq = seq;
  if (s.has_sa) t.sa = s.sa_key;
  if (s.has_flow) t.flow = s.flow_key;
  t.wire_len = f.wire_len;
  t.port = f.port;
  t.lcore = cfg_.lcore;
  t.cls = cls;
  t.malformed = static_cast<std::uint8_t>(p.malformed);
  t.verdict = p.malformed != decode::Malformed::none && v == PacketVerdict::none ? PacketVerdict::malformed : v;
  t.has_sa = s.has_sa;
  t.has_flow = s.has_flow;
  t.forward = s.forward;
  counters_->tap_packets.add();
  if (!sink_.on_packet(t)) counters_->tap_dropped.add();
}

bool Worker::request_sa_reset(const seq::SaKey& key) noexcept {
  const std::uint32_t head = reset_head_.load(std::memory_order_relaxed);
  if (head - reset_tail_.load(std::memory_order_acquire) >= reset_keys_.size()) return false;
  reset_keys_[head % reset_keys_.size()] = key;
  reset_head_.store(head + 1, std::memory_order_release);
  return true;
}

void Worker::apply_resets() noexcept {
  const std::uint32_t head = reset_head_.load(std::memory_order_acquire);
  std::uint32_t tail = reset_tail_.load(std::memory_order_relaxed);
  if (tail == head) [[likely]] return;
  for (; tail != head; ++tail) {
    const seq::SaKey& key = reset_keys_[tail % reset_keys_.size()];
    if (seq::SaEntry* e = sas_.lookup(key, seq::hash(key))) {
      sas_.reset(*e, extended_for(key));
      counters_->sa_resets.add();
      sink_.on_sa(summarize(sas_, *e, cfg_.lcore));
    }
  }
  reset_tail_.store(tail, std::memory_order_release);
}

bool Worker::restore_sa(const SaSummary& s) noexcept {
  bool created = false;
  seq::SaEntry* e = sas_.find_or_insert(s.key, seq::hash(s.key), created);
  if (e == nullptr) return false;
  if (created) counters_->sas_created.add();
  e->tracker.restore(s.counters, s.first_seq, s.highest_seq, s.extended != 0 || extended_for(s.key),
                     s.extended_inferred != 0, sas_.bitmap(*e));
  e->bytes = s.bytes;
  e->first_seen_ns = s.first_seen_ns;
  e->last_seen_ns = s.last_seen_ns;
  e->port = s.port;
  return true;
}

flow::FlowEntry* Worker::insert_flow(const flow::FlowKey& key, std::uint64_t h, std::uint64_t ts,
                                     bool& created) noexcept {
  // A new flow in a full table: first retire flows that are already idle past their
  // timeout, so that only live flows are ever evicted.
  if (flows_.size() == flows_.capacity()) maintain(std::max(clock_, ts));
  bool evicted = false;
  flow::FlowEntry victim;  // here, not in track_flow: zeroing 128 bytes per packet showed in profiles
  flow::FlowEntry* f = flows_.find_or_insert(key, h, created, victim, evicted);
  if (evicted) [[unlikely]] {
    counters_->flows_evicted.add();
    emit_flow(victim, flow::EndReason::table_full, flows_.slot_of(*f));  // f took its slot
  }
  return f;
}

void Worker::track_flow(const decode::DecodedPacket& p, const Staged& s, std::uint32_t wire_len,
                        std::uint64_t ts, decode::Bytes frame) noexcept {
  const flow::FlowKey& key = s.flow_key;
  const bool forward = s.forward;
  const std::uint64_t h = s.flow_hash;
  bool created = false;
  flow::FlowEntry* f = flows_.find(key, h);
  if (f == nullptr) [[unlikely]] {
    f = insert_flow(key, h, ts, created);
  }
  const std::uint32_t slot = flows_.slot_of(*f);
  if (created) {
    analyzer_.reset(slot);
    counters_->flows_created.add();
    f->first_seen_ns = ts;
    f->last_seen_ns = ts;
    f->initiator_is_a = forward;
    f->analysis_idle = false;
  }
  flows_.touch(*f, ts);
  flow::FlowDirection& d = forward ? f->a_to_b : f->b_to_a;
  d.packets += 1;
  d.bytes += wire_len;
  if (p.has(decode::kLayerTcp)) {
    f->tcp_flags |= p.tcp.flags;
    if ((p.tcp.flags & (decode::tcpflag::kFin | decode::tcpflag::kRst)) != 0) flows_.mark_closed(*f);
  }
  if (!f->analysis_idle) {
    if (analyzer_.on_packet(slot, frame, p, forward, f->initiator_is_a, ts, counters_->analysis)) {
      flows_.mark_closed(*f);
    }
    f->analysis_idle = analyzer_.idle_after(slot, p);
  }
}

void Worker::track_fragment(const FrameRef& f, const decode::DecodedPacket& p) noexcept {
  analysis::ReassembledDatagram dg;
  if (reasm_->add(f.bytes, p, f.timestamp_ns, dg) != analysis::FragmentVerdict::complete) return;
  // The whole datagram is tracked as one packet of its flow (its length as reassembled).
  decode::DecodedPacket& whole = *reasm_pkt_;
  decode::decode_frame(dg.frame, whole);
  Staged s;
  if (!flow::flow_key_of(whole, s.flow_key, s.forward)) return;
  s.flow_hash = flow::hash(s.flow_key);
  s.has_flow = true;
  track_flow(whole, s, static_cast<std::uint32_t>(dg.frame.size()), f.timestamp_ns, dg.frame);
}

void Worker::link_icmp_error(decode::Bytes frame, const decode::DecodedPacket& p) noexcept {
  flow::FlowKey key;
  if (!icmp_quoted_flow(frame, p, key)) return;
  if (flow::FlowEntry* e = flows_.find(key, flow::hash(key))) {
    analyzer_.on_icmp_error(flows_.slot_of(*e), p.icmp.type, p.icmp.code);
    counters_->analysis.icmp_errors_linked.add();
  } else {
    counters_->analysis.icmp_errors_unlinked.add();
  }
}

void Worker::stage(const FrameRef& f, decode::DecodedPacket& p, Staged& s) noexcept {
  decode::decode_frame(f.bytes, p);
  s.sa_entry = nullptr;
  s.has_sa = seq::sa_key_of(p, s.sa_key, s.seq32);
  if (s.has_sa) {
    s.sa_hash = seq::hash(s.sa_key);
    sas_.prefetch(s.sa_hash);
  }
  // Fragments are tracked once reassembled (track_fragment), not one by one.
  s.has_flow = !(cfg_.analysis.reassembly && p.has(decode::kLayerIpFragment)) &&
               flow::flow_key_of(p, s.flow_key, s.forward, s.flow_hash);
  if (s.has_flow) flows_.prefetch(s.flow_hash);
}

void Worker::analyze(const FrameRef& f, const decode::DecodedPacket& p, const Staged& s) noexcept {
  WorkerCounters& c = *counters_;
  clock_ = std::max(clock_, f.timestamp_ns);
  // Port counters include excluded packets: the replay end waits for every received one.
  if (f.port < kMaxPorts) {
    c.ports[f.port].packets.add();
    c.ports[f.port].bytes.add(f.wire_len);
  }
  if (history_ != nullptr) history_->push(f.port, f.bytes, f.wire_len, f.timestamp_ns, f.packet_index);
  if (!rules_now_->empty() && !rules_now_->accept(p)) [[unlikely]] {
    c.rules_excluded.add();
    return;
  }
  c.packets.add();
  c.bytes.add(f.wire_len);
  if (p.malformed != decode::Malformed::none) [[unlikely]] {
    c.malformed_total.add();
    c.malformed[static_cast<std::size_t>(p.malformed)].add();
  }
  if (cfg_.worker_count > 1 && shard_hash(p) % cfg_.worker_count != cfg_.worker_index) {
    c.wrong_lcore.add();
  }
  const auto cls = static_cast<std::size_t>(classify(p));
  c.class_packets[cls].add();
  c.class_bytes[cls].add(f.wire_len);
  PacketVerdict verdict = PacketVerdict::none;
  std::uint64_t seq = 0;
  // A pair's b side is the same traffic again: its SAs' numbers are tracked on side a only
  // (one sequence space per SA), the b side is measured by the correlation.
  const bool correlated = corr_ != nullptr && corr_->wants(f.port);
  if (s.has_sa && !(correlated && corr_->is_b(f.port))) {
    verdict = track_sa(p, s, f.wire_len, f.timestamp_ns, f.port, f.packet_index, seq);
  }
  if (correlated) corr_->on_packet(f.port, f.timestamp_ns, p, f.bytes, s.has_sa ? &s.sa_key : nullptr, s.seq32);
  if (s.has_flow) track_flow(p, s, f.wire_len, f.timestamp_ns, f.bytes);
  if (p.has(decode::kLayerIpFragment) && cfg_.analysis.reassembly) [[unlikely]] track_fragment(f, p);
  if (p.has(decode::kLayerIcmp) || p.has(decode::kLayerIcmpv6)) [[unlikely]] link_icmp_error(f.bytes, p);
  if (c.tap_packets.value() < tap_grant_.load(std::memory_order_relaxed)) [[unlikely]] tap(f, p, s, static_cast<TrafficClass>(cls), verdict, seq);
  if (sensors_) {
    sensors_->on_packet(f.bytes, p, f.wire_len, f.timestamp_ns, s.has_flow ? &s.flow_key : nullptr, s.flow_hash,
                        s.forward, s.has_flow && p.has(decode::kLayerTcp) ? flows_.find(s.flow_key, s.flow_hash) : nullptr);
  }
}

void Worker::lookup(Staged& s) noexcept {
  if (s.has_sa) {
    s.sa_entry = sas_.lookup(s.sa_key, s.sa_hash);
    if (s.sa_entry != nullptr) sas_.prefetch_entry(*s.sa_entry);
  }
  if (s.has_flow) flows_.prefetch_entry(s.flow_hash);
}

void Worker::process_burst(std::span<const FrameRef> frames) noexcept {
  rules_now_ = rules_.load(std::memory_order_acquire);
  // A software pipeline over the burst: at step t, frame t is staged (decoded, hashed, its
  // index slot prefetched), frame t - kLookupDistance is looked up (index slot read, its
  // entries prefetched) and frame t - kLookupDistance - kAnalyzeDistance is analyzed. The
  // prefetches are spread evenly over the work instead of issued 64 at a time, which
  // filled the core's line fill buffers and stalled on them; frames are analyzed in order.
  static_assert(kLookupDistance + kAnalyzeDistance < kBurstChunk, "a staged slot is reused kBurstChunk frames later");
  constexpr std::size_t kMask = kBurstChunk - 1;
  static_assert((kBurstChunk & kMask) == 0);
  const std::size_t n = frames.size();
  for (std::size_t t = 0; t < n + kLookupDistance + kAnalyzeDistance; ++t) {
    if (t < n) {
      if (t + kFrameDistance < n) __builtin_prefetch(frames[t + kFrameDistance].bytes.data());
      stage(frames[t], pkts_[t & kMask], staged_[t & kMask]);
    }
    if (t >= kLookupDistance && t - kLookupDistance < n) lookup(staged_[(t - kLookupDistance) & kMask]);
    if (t >= kLookupDistance + kAnalyzeDistance) {
      const std::size_t i = t - kLookupDistance - kAnalyzeDistance;
      analyze(frames[i], pkts_[i & kMask], staged_[i & kMask]);
      if (capturing_) [[unlikely]] capture(frames[i], pkts_[i & kMask]);
    }
  }
}

void Worker::process(decode::Bytes frame, std::uint32_t wire_len, std::uint64_t timestamp_ns,
                     std::uint16_t port, std::uint64_t packet_index) noexcept {
  const FrameRef f{frame, wire_len, port, timestamp_ns, packet_index};
  rules_now_ = rules_.load(std::memory_order_acquire);
  stage(f, pkts_[0], staged_[0]);
  analyze(f, pkts_[0], staged_[0]);
  if (capturing_) [[unlikely]] capture(f, pkts_[0]);
}

SaSummary summarize(const seq::SaTable& t, const seq::SaEntry& e, std::uint16_t lcore) noexcept {
  SaSummary s;
  s.key = e.key;
  s.counters = e.tracker.counters();
  s.counters.lost += e.tracker.open_holes(t.bitmap(e), t.config());
  s.bytes = e.bytes;
  s.first_seq = e.tracker.first_seq();
  s.highest_seq = e.tracker.highest();
  s.first_seen_ns = e.first_seen_ns;
  s.last_seen_ns = e.last_seen_ns;
  s.port = e.port;
  s.lcore = lcore;
  s.extended = e.tracker.extended() ? 1 : 0;
  s.extended_inferred = e.tracker.extended_inferred() ? 1 : 0;
  s.recent_count = static_cast<std::uint8_t>(t.recent(e, s.recent));
  return s;
}

void Worker::publish_all_sas() noexcept {
  sas_.for_each([this](const seq::SaEntry& e) { sink_.on_sa(summarize(sas_, e, cfg_.lcore)); });
}

void Worker::maintain(std::uint64_t now) noexcept {
  apply_resets();
  send_snapshot();
  for (std::uint32_t i = 0; i < cfg_.sa_publish_work && sas_.size() != 0; ++i) {
    if (const seq::SaEntry* e = sas_.slot(sa_cursor_)) {
      if (!sink_.on_sa(summarize(sas_, *e, cfg_.lcore))) break;
    }
    sa_cursor_ = sa_cursor_ + 1 == sas_.slots() ? 0 : sa_cursor_ + 1;
  }
  const std::uint32_t n = flows_.expire(now, cfg_.timeouts, cfg_.expiry_work,
                                        [this](const flow::FlowEntry& e) {
                                          emit_flow(e, flow::EndReason::idle_timeout, flows_.slot_of(e));
                                        });
  if (n != 0) counters_->flows_expired.add(n);
  reasm_->expire(now, 64);
  counters_->flows_active.set(flows_.size());
  if (sensors_) sensors_->maintain(now);
  if (corr_) corr_->expire(256);
}

std::uint32_t Worker::flush(std::uint32_t max) noexcept {
  send_snapshot();
  if (corr_) corr_->flush();  // the input ended: what still waits was not seen on the other port
  std::uint32_t n =
      flows_.drain([this](const flow::FlowEntry& e) { emit_flow(e, flow::EndReason::shutdown, flows_.slot_of(e)); }, max);
  counters_->flows_active.set(flows_.size());
  // Then the sensors' last records (pending seconds, tables), within the same budget.
  if (sensors_ && n < max) n += sensors_->flush(max - n);
  return n;
}

}  // namespace netscope::engine
