#include "netscope/engine/sensors.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>

#include "netscope/engine/worker.hpp"

namespace netscope::engine {

namespace {

constexpr std::uint64_t kSecond = 1'000'000'000ull;
constexpr std::size_t kArpLen = 28;  // Ethernet/IPv4 ARP

const decode::IpAddr& src_of(const decode::DecodedPacket& p) noexcept {
  return p.ip_version == 6 ? p.ipv6.src : p.ipv4.src;
}
const decode::IpAddr& dst_of(const decode::DecodedPacket& p) noexcept {
  return p.ip_version == 6 ? p.ipv6.dst : p.ipv4.dst;
}

decode::IpAddr ip_from(const std::array<std::uint8_t, 16>& bytes, std::uint8_t version) noexcept {
  decode::IpAddr ip;
  ip.bytes = bytes;
  ip.version = version;
  return ip;
}

std::string key_bytes(const void* p, std::size_t n) { return std::string(static_cast<const char*>(p), n); }

}  // namespace

struct Sensors::Destination {
  analysis::HostKey key;
  std::uint64_t last_ns = 0;
  std::uint64_t second = 0;        ///< the second the counts belong to
  std::uint64_t first_second = 0;  ///< first second this worker counted the destination
  std::uint32_t packets = 0;
  std::uint32_t attempts = 0;
  std::uint32_t completed = 0;
  std::uint32_t sent_packets = 0;    ///< of `second`, already reported (reports carry deltas)
  std::uint32_t sent_attempts = 0;
  std::uint32_t sent_completed = 0;
  std::uint16_t syn_port = 0;
  decode::IpAddr syn_src;
};

Sensors::Sensors(const SensorConfig& cfg, RecordSink& sink, std::uint16_t worker, std::uint16_t workers)
    : cfg_(cfg),
      sink_(sink),
      worker_(worker),
      topo_alerts_(1),
      topology_({cfg.max_hosts, cfg.max_edges}, topo_alerts_),
      top_flows_(cfg.top_flows),
      dests_(std::make_unique<analysis::BucketTable<analysis::HostKey, Destination>>(cfg.destinations)),
      top_scratch_(std::make_unique<analysis::SpaceSaving<flow::FlowKey>::Entry[]>(std::max<std::uint32_t>(cfg.top_k, 1))) {
  const analysis::DetectionConfig& d = cfg_.detection;
  const double n = std::max<std::uint16_t>(workers, 1);
  // A destination whose total rate stays below ddos_min_pps / ddos_factor has the
  // threshold ddos_min_pps whatever its exact baseline: seconds below that, split over
  // the workers, need not travel.
  double pps = static_cast<double>(d.ddos_min_pps) / std::max(1.0, d.ddos_factor);
  if (d.ddos_absolute_pps != 0) pps = std::min(pps, static_cast<double>(d.ddos_absolute_pps));
  // A quarter of the even share: sharding by 5-tuple can be skewed (a few busy flows).
  packet_floor_ = static_cast<std::uint32_t>(std::max(1.0, pps / (4.0 * n)));
  syn_floor_ = static_cast<std::uint32_t>(std::max(1.0, static_cast<double>(d.syn_flood_half_open) / (4.0 * n)));
  cfg_.top_k = std::max<std::uint32_t>(cfg_.top_k, 1);
  cfg_.publish_work = std::max<std::uint32_t>(cfg_.publish_work, 1);
}

Sensors::~Sensors() = default;

std::uint64_t Sensors::memory_bytes() const noexcept {
  return topology_.memory_bytes() + top_flows_.memory_bytes() + dests_->memory_bytes();
}

bool Sensors::emit(SensorRecord& r) noexcept {
  r.worker = worker_;
  if (!sink_.on_sensor(r)) {
    counters_.records_dropped.add();
    return false;
  }
  counters_.records.add();
  return true;
}

void Sensors::close_second(Destination& d) noexcept {
  if (d.packets < packet_floor_ && d.attempts < syn_floor_) return;
  if (d.packets == d.sent_packets && d.attempts == d.sent_attempts && d.completed == d.sent_completed) return;
  SensorRecord r;
  r.kind = SensorRecordKind::destination_second;
  r.b = analysis::ip_of(d.key);
  r.vlan = d.key.vlan;
  r.a = d.syn_src;
  r.port = d.syn_port;
  r.time_ns = d.second * kSecond;
  r.v0 = d.packets - d.sent_packets;
  r.v1 = d.attempts - d.sent_attempts;
  r.v2 = d.completed - d.sent_completed;
  r.v3 = d.first_second * kSecond;
  d.sent_packets = d.packets;
  d.sent_attempts = d.attempts;
  d.sent_completed = d.completed;
  emit(r);
}

void Sensors::on_packet(decode::Bytes frame, const decode::DecodedPacket& p, std::uint32_t wire_len,
                        std::uint64_t ts_ns, const flow::FlowKey* flow, std::uint64_t flow_hash, bool forward,
                        const flow::FlowEntry* entry) noexcept {
  now_ns_ = std::max(now_ns_, ts_ns);
  if (p.has(decode::kLayerArp)) [[unlikely]] {
    const std::size_t off = p.l3_offset;
    if (off + kArpLen > frame.size()) return;
    const std::uint8_t* a = frame.data() + off;
    if (a[0] != 0 || a[1] != 1 || a[2] != 0x08 || a[3] != 0x00 || a[4] != 6 || a[5] != 4) return;
    SensorRecord r;
    r.kind = SensorRecordKind::binding;
    std::memcpy(r.mac.data(), a + 8, 6);
    r.a.version = 4;
    std::memcpy(r.a.bytes.data(), a + 14, 4);
    if (r.a.bytes[0] == 0 && r.a.bytes[1] == 0 && r.a.bytes[2] == 0 && r.a.bytes[3] == 0) return;  // probe
    r.vlan = p.vlan_count > 0 ? p.vlans[0].vid : 0;
    r.time_ns = ts_ns;
    counters_.arp_bindings.add();
    emit(r);
    return;
  }
  if (flow == nullptr || p.ip_version == 0) return;
  const decode::IpAddr& src = src_of(p);
  const decode::IpAddr& dst = dst_of(p);
  const std::uint16_t vlan = flow->vlan;
  topology_.observe_traffic(src, dst, vlan, wire_len, 1, ts_ns);
  top_flows_.add(*flow, flow_hash, wire_len);

  // Per-destination counts of this second.
  const analysis::HostKey k = analysis::host_key(dst, vlan);
  bool created = false;
  bool evicted = false;
  Destination victim;
  Destination& d = *dests_->find_or_insert(k, analysis::hash(k), ts_ns, created, evicted, &victim);
  if (evicted) [[unlikely]] {
    counters_.destination_evictions.add();
    close_second(victim);
  }
  const std::uint64_t sec = ts_ns / kSecond;
  if (created) {
    d.second = sec;
    d.first_second = sec;
  } else if (sec > d.second) {
    close_second(d);
    d.second = sec;
    d.packets = 0;
    d.attempts = 0;
    d.completed = 0;
    d.sent_packets = d.sent_attempts = d.sent_completed = 0;
  }
  ++d.packets;

  if (entry == nullptr || !p.has(decode::kLayerTcp)) return;
  // Connection signals from the flow entry, which counted this packet already.
  const std::uint8_t fl = p.tcp.flags;
  const bool from_initiator = forward == entry->initiator_is_a;
  const flow::FlowDirection& init = entry->initiator_is_a ? entry->a_to_b : entry->b_to_a;
  const flow::FlowDirection& resp = entry->initiator_is_a ? entry->b_to_a : entry->a_to_b;
  using namespace decode::tcpflag;
  if (from_initiator) {
    if ((fl & (kSyn | kAck)) == kSyn && init.packets == 1) {
      counters_.connection_attempts.add();
      ++d.attempts;
      d.syn_src = src;
      d.syn_port = p.tcp.dst_port;
    } else if ((fl & (kSyn | kAck | kRst)) == kAck && init.packets == 2 && resp.packets >= 1 &&
               (entry->tcp_flags & kSyn) != 0) {
      counters_.connections_established.add();
      ++d.completed;
    }
  } else if ((fl & kRst) != 0 && resp.packets == 1 && init.packets <= 3 && (entry->tcp_flags & kSyn) != 0) {
    // Rejected: the responder's first answer is a RST (Zeek REJ).
    counters_.connections_failed.add();
    SensorRecord r;
    r.kind = SensorRecordKind::connection_failed;
    r.a = dst;  // the originator
    r.b = src;
    r.port = p.tcp.src_port;
    r.vlan = vlan;
    r.time_ns = ts_ns;
    emit(r);
  }
}

void Sensors::on_flow_end(const flow::FlowEntry& e) noexcept {
  if (e.key.protocol != 6 || e.tcp_flags != decode::tcpflag::kSyn) return;
  const flow::FlowDirection& resp = e.initiator_is_a ? e.b_to_a : e.a_to_b;
  if (resp.packets != 0) return;
  // Unanswered attempt (Zeek S0).
  counters_.connections_failed.add();
  SensorRecord r;
  r.kind = SensorRecordKind::connection_failed;
  r.a = ip_from(e.initiator_is_a ? e.key.addr_a : e.key.addr_b, e.key.ip_version);
  r.b = ip_from(e.initiator_is_a ? e.key.addr_b : e.key.addr_a, e.key.ip_version);
  r.port = e.initiator_is_a ? e.key.port_b : e.key.port_a;
  r.vlan = e.key.vlan;
  r.time_ns = e.last_seen_ns;
  emit(r);
}

bool Sensors::publish_step(std::uint32_t& budget, bool final) noexcept {
  if (phase_ == 0) {
    // No packet since the previous sweep: the seconds counted so far are complete.
    idle_sweep_ = sweeps_ > 0 && now_ns_ == sweep_start_ns_;
    sweep_start_ns_ = now_ns_;
    SensorRecord r;
    r.kind = SensorRecordKind::sweep;
    r.time_ns = now_ns_;
    r.v0 = ++sweeps_;
    emit(r);
    top_pending_ = static_cast<std::uint32_t>(top_flows_.top({top_scratch_.get(), cfg_.top_k}));
    top_sent_ = 0;
    phase_ = 1;
    cursor_ = 0;
  }
  while (budget > 0) {
    if (phase_ == 1) {
      if (top_sent_ == top_pending_) {
        phase_ = 2;
        cursor_ = 0;
        continue;
      }
      const auto& t = top_scratch_[top_sent_++];
      SensorRecord r;
      r.kind = SensorRecordKind::top_flow;
      r.flow = t.key;
      r.v0 = t.count;
      r.v1 = t.error;
      emit(r);
      --budget;
    } else if (phase_ == 2) {
      if (cursor_ >= topology_.host_slots()) {
        phase_ = 3;
        cursor_ = 0;
        continue;
      }
      const analysis::HostInfo* h = topology_.host_at(cursor_++);
      --budget;
      if (h == nullptr || (h->last_ns < last_sweep_ns_ && sweeps_ > 1)) continue;
      SensorRecord r;
      r.kind = SensorRecordKind::host;
      r.a = analysis::ip_of(h->key);
      r.vlan = h->key.vlan;
      r.v0 = h->bytes_sent;
      r.v1 = h->bytes_received;
      r.v2 = h->packets_sent;
      r.v3 = h->packets_received;
      r.v4 = h->first_ns;
      r.time_ns = h->last_ns;
      emit(r);
    } else if (phase_ == 3) {
      if (cursor_ >= topology_.edge_slots()) {
        phase_ = 4;
        cursor_ = 0;
        continue;
      }
      const analysis::EdgeInfo* e = topology_.edge_at(cursor_++);
      --budget;
      if (e == nullptr || (e->last_ns < last_sweep_ns_ && sweeps_ > 1)) continue;
      SensorRecord r;
      r.kind = SensorRecordKind::edge;
      r.a = ip_from(e->key.a, e->key.version);
      r.b = ip_from(e->key.b, e->key.version);
      r.vlan = e->key.vlan;
      r.v0 = e->bytes_ab;
      r.v1 = e->bytes_ba;
      r.v2 = e->packets_ab;
      r.v3 = e->packets_ba;
      r.v4 = e->first_ns;
      r.time_ns = e->last_ns;
      emit(r);
    } else if (phase_ == 4) {
      if (cursor_ >= dests_->capacity()) {
        phase_ = 0;
        last_sweep_ns_ = sweep_start_ns_;
        // Every second before the sweep started (all of them at the end) was sent.
        SensorRecord r;
        r.kind = SensorRecordKind::sweep_done;
        // A worker that never saw a packet has nothing to send: it must not hold the others.
        r.time_ns = now_ns_ == 0                ? ~0ull
                    : final || idle_sweep_      ? (now_ns_ / kSecond + 1) * kSecond
                                                : sweep_start_ns_ / kSecond * kSecond;
        emit(r);
        return true;
      }
      Destination* d = dests_->at(cursor_++);
      --budget;
      // Completed seconds whose destination got no packet since; at the end, all.
      if (d == nullptr || (!final && !idle_sweep_ && d->second >= now_ns_ / kSecond)) continue;
      close_second(*d);
    }
  }
  return false;
}

void Sensors::maintain(std::uint64_t now) noexcept {
  now_ns_ = std::max(now_ns_, now);
  if (phase_ == 0) {
    // Due by the worker's clock, or by the wall clock (checked every 1024 calls): a
    // replayed capture's packet clock stops at its last packet.
    bool due = now_ns_ >= next_sweep_ns_;
    if (!due && (++maintain_calls_ & 1023u) == 0) {
      due = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) >= next_wall_sweep_ns_;
    }
    if (!due) return;
    next_sweep_ns_ = now_ns_ + cfg_.publish_interval_ns;
    next_wall_sweep_ns_ =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) + cfg_.publish_interval_ns;
  }
  std::uint32_t budget = cfg_.publish_work;
  publish_step(budget, false);
}

std::uint32_t Sensors::flush(std::uint32_t max) noexcept {
  if (flushed_) return 0;
  max = std::max<std::uint32_t>(max, 1);
  std::uint32_t budget = max;
  // A sweep under way finishes first; then one complete final sweep.
  while (budget > 0) {
    if (phase_ == 0) {
      if (final_started_) {
        flushed_ = true;
        break;
      }
      final_started_ = true;
    }
    publish_step(budget, true);
  }
  return max - budget;
}

std::string_view anomaly_type_name(const AnomalyEvent& e) noexcept {
  return e.source == AnomalySource::detection ? analysis::to_string(e.alert) : seq::to_string(e.type);
}

// ---------------------------------------------------------------------------------------
// Control side.

struct SensorMerger::DestState {
  /// Seconds not yet in the baseline, summed over workers. A worker reports a second when
  /// it sees a later packet for the destination (or in its next sweep), so partial counts
  /// arrive out of step; a second joins the baseline once every worker said it sent all
  /// of it (sweep_done), or when more than kMaxPending seconds wait.
  struct Bucket {
    std::uint64_t packets = 0, attempts = 0, completed = 0;
    bool over = false;  ///< crossed the DDoS threshold: left out of the baseline
  };
  static constexpr std::size_t kMaxPending = 64;
  std::map<std::uint64_t, Bucket> pending;
  std::uint64_t folded_until = 0;  ///< seconds up to this one are in the baseline
  double baseline = 0;
  std::uint64_t learned = 0;
  std::uint64_t ddos_quiet_until = 0;
  std::uint64_t syn_quiet_until = 0;
  decode::IpAddr syn_src;
  std::uint16_t syn_port = 0;
};

struct SensorMerger::HostParts {
  decode::IpAddr ip;
  std::uint16_t vlan = 0;
  std::vector<SensorRecord> parts;  ///< latest host record of each worker (kind sweep: none)
};

struct SensorMerger::EdgeParts {
  decode::IpAddr a, b;
  std::uint16_t vlan = 0;
  std::vector<SensorRecord> parts;
};

namespace {

analysis::DetectionConfig control_detection(analysis::DetectionConfig d) {
  // The control side's detector only runs the scan detections: keep its flood tables tiny.
  d.syn_destinations = 8;
  d.ddos_destinations = 8;
  return d;
}

}  // namespace

SensorMerger::SensorMerger(const SensorConfig& cfg, std::uint16_t workers)
    : cfg_(cfg),
      workers_(std::max<std::uint16_t>(workers, 1)),
      alert_ring_(1024),
      detector_(control_detection(cfg.detection), alert_ring_),
      bindings_({cfg.merged_hosts, 8}, alert_ring_, cfg.detection.severity[static_cast<std::size_t>(analysis::AlertType::mac_ip_change)]),
      worker_top_(workers_),
      complete_before_(workers_, 0) {}

SensorMerger::~SensorMerger() = default;

void SensorMerger::raise(const analysis::Alert& a) {
  analysis::Alert x = a;
  if (x.type != analysis::AlertType::mac_ip_change) x.severity = cfg_.detection.severity[static_cast<std::size_t>(x.type)];
  ++alerts_[static_cast<std::size_t>(x.type)];
  pending_.push_back(x);
}

void SensorMerger::pull_ring() {
  analysis::Alert a;
  while (alert_ring_.pop(a)) raise(a);
}

void SensorMerger::on_destination_second(const SensorRecord& r) {
  ++destination_seconds_;
  const analysis::DetectionConfig& c = cfg_.detection;
  using Bucket = DestState::Bucket;
  const std::uint64_t sec = r.time_ns / kSecond;
  const analysis::HostKey hk = analysis::host_key(r.b, r.vlan);
  auto& slot = dests_[key_bytes(&hk, sizeof hk)];
  if (!slot) {
    slot = std::make_unique<DestState>();
    slot->folded_until = sec > 0 ? sec - 1 : 0;
    // Seconds this destination was counted below the reporting floor are learned as
    // (nearly) empty: its threshold is ddos_min_pps.
    const std::uint64_t first = r.v3 / kSecond;
    slot->learned = sec > first ? sec - first : 0;
  }
  DestState& st = *slot;
  if (sec <= st.folded_until && st.learned > 0) {
    ++late_partials_;
    return;
  }
  // Complete seconds join the baseline (EWMA), in order; seconds nobody reported as zero.
  const auto fold = [&](double packets) {
    st.baseline = st.learned == 0 ? packets : st.baseline + c.ddos_alpha * (packets - st.baseline);
    ++st.learned;
  };
  const auto fold_until = [&](std::uint64_t limit) {
    while (st.folded_until < limit) {
      const auto it = st.pending.begin();
      if (it == st.pending.end() || it->first > limit) {  // silence up to limit: decay at once
        const std::uint64_t empty = limit - st.folded_until;
        if (st.learned > 0) {
          st.baseline *= std::pow(1.0 - c.ddos_alpha, static_cast<double>(std::min<std::uint64_t>(empty, 10000)));
        }
        st.learned += empty;
        st.folded_until = limit;
        break;
      }
      if (it->first > st.folded_until + 1) {  // silent seconds before the next reported one
        const std::uint64_t empty = it->first - st.folded_until - 1;
        if (st.learned > 0) {
          st.baseline *= std::pow(1.0 - c.ddos_alpha, static_cast<double>(std::min<std::uint64_t>(empty, 10000)));
        }
        st.learned += empty;
      }
      if (!it->second.over) fold(static_cast<double>(it->second.packets));
      st.folded_until = it->first;
      st.pending.erase(it);
    }
  };
  std::uint64_t complete = ~0ull;  // seconds before this one are complete on every worker
  for (const std::uint64_t w : complete_before_) complete = std::min(complete, w);
  if (complete != ~0ull && complete > 0) fold_until(std::min(complete - 1, sec > 0 ? sec - 1 : 0));
  while (st.pending.size() >= DestState::kMaxPending && st.pending.begin()->first < sec) {
    fold_until(st.pending.begin()->first);
  }
  Bucket& b = st.pending[sec];
  b.packets += r.v0;
  b.attempts += r.v1;
  b.completed += r.v2;
  if (r.v1 != 0) {
    st.syn_src = r.a;
    st.syn_port = r.port;
  }
  const std::uint64_t at = (sec + 1) * kSecond - 1;  // the counts are complete at the second's end
  if (!b.over) {
    const double threshold = std::max<double>(c.ddos_min_pps, c.ddos_factor * st.baseline);
    const bool relative = st.learned >= c.ddos_warmup_s && static_cast<double>(b.packets) >= threshold;
    const bool absolute = c.ddos_absolute_pps != 0 && b.packets >= c.ddos_absolute_pps;
    if (relative || absolute) {
      b.over = true;
      if (at >= st.ddos_quiet_until) {
        st.ddos_quiet_until = at + c.holdoff_ns;
        analysis::Alert a;
        a.type = analysis::AlertType::ddos;
        a.first_ns = sec * kSecond;
        a.last_ns = at;
        a.count = b.packets;
        a.threshold = relative ? static_cast<std::uint64_t>(std::ceil(threshold)) : c.ddos_absolute_pps;
        a.baseline = static_cast<std::uint64_t>(std::llround(st.baseline));
        a.victim = r.b;
        a.vlan = r.vlan;
        raise(a);
      }
    }
  }
  const std::uint64_t half_open = b.attempts > b.completed ? b.attempts - b.completed : 0;
  if (half_open >= c.syn_flood_half_open && at >= st.syn_quiet_until) {
    st.syn_quiet_until = at + c.holdoff_ns;
    analysis::Alert a;
    a.type = analysis::AlertType::syn_flood;
    a.first_ns = sec * kSecond;
    a.last_ns = at;
    a.count = half_open;
    a.threshold = c.syn_flood_half_open;
    a.attacker = st.syn_src;
    a.victim = r.b;
    a.port = st.syn_port;
    a.vlan = r.vlan;
    raise(a);
  }
}

void SensorMerger::on_record(const SensorRecord& r) {
  const std::uint16_t w = r.worker < workers_ ? r.worker : static_cast<std::uint16_t>(workers_ - 1);
  switch (r.kind) {
    case SensorRecordKind::connection_failed:
      ++connection_failures_;
      detector_.on_connection_failed(r.a, r.b, r.port, r.vlan, r.time_ns);
      pull_ring();
      break;
    case SensorRecordKind::destination_second:
      on_destination_second(r);
      break;
    case SensorRecordKind::binding:
      bindings_.observe_binding(r.a, r.mac, r.vlan, r.time_ns);
      pull_ring();
      break;
    case SensorRecordKind::sweep:
      worker_top_[w].clear();
      break;
    case SensorRecordKind::sweep_done:
      complete_before_[w] = std::max<std::uint64_t>(complete_before_[w], r.time_ns == ~0ull ? ~0ull : r.time_ns / kSecond);
      break;
    case SensorRecordKind::top_flow:
      if (worker_top_[w].size() < cfg_.top_k) worker_top_[w].push_back({r.flow, r.v0, r.v1, 0});
      break;
    case SensorRecordKind::host: {
      const analysis::HostKey hk = analysis::host_key(r.a, r.vlan);
      auto& slot = hosts_[key_bytes(&hk, sizeof hk)];
      if (!slot) {
        if (hosts_.size() > cfg_.merged_hosts) {
          hosts_.erase(key_bytes(&hk, sizeof hk));
          ++hosts_dropped_;
          break;
        }
        slot = std::make_unique<HostParts>();
        slot->ip = r.a;
        slot->vlan = r.vlan;
        slot->parts.resize(workers_);
      }
      slot->parts[w] = r;
      break;
    }
    case SensorRecordKind::edge: {
      analysis::HostPairKey ek;
      ek.a = r.a.bytes;
      ek.b = r.b.bytes;
      ek.version = r.a.version;
      ek.vlan = r.vlan;
      auto& slot = edges_[key_bytes(&ek, sizeof ek)];
      if (!slot) {
        if (edges_.size() > cfg_.merged_edges) {
          edges_.erase(key_bytes(&ek, sizeof ek));
          ++edges_dropped_;
          break;
        }
        slot = std::make_unique<EdgeParts>();
        slot->a = r.a;
        slot->b = r.b;
        slot->vlan = r.vlan;
        slot->parts.resize(workers_);
      }
      slot->parts[w] = r;
      break;
    }
  }
}

std::vector<AnomalyEvent> SensorMerger::take_alerts() {
  std::vector<AnomalyEvent> out;
  out.reserve(pending_.size());
  for (const analysis::Alert& a : pending_) {
    AnomalyEvent e;
    e.source = AnomalySource::detection;
    e.alert = a.type;
    e.severity = a.severity;
    e.timestamp_ns = a.last_ns;
    e.first_ns = a.first_ns;
    e.count = a.count;
    e.threshold = a.threshold;
    e.baseline = a.baseline;
    e.attacker = a.attacker;
    e.victim = a.victim;
    e.mac_old = a.mac_old;
    e.mac_new = a.mac_new;
    e.target_port = a.port;
    e.vlan = a.vlan;
    out.push_back(e);
  }
  pending_.clear();
  return out;
}

void SensorMerger::observe_totals(std::uint64_t now_ns, std::uint64_t packets, std::uint64_t bytes,
                                  const std::vector<std::array<std::uint64_t, 3>>& ports) {
  if (last_rate_ns_ != 0 && packets >= last_packets_ && bytes >= last_bytes_) {
    global_.add(now_ns, bytes - last_bytes_, packets - last_packets_);
  }
  last_packets_ = packets;
  last_bytes_ = bytes;
  for (const auto& p : ports) {
    const auto id = static_cast<std::uint16_t>(p[0]);
    auto it = last_port_totals_.find(id);
    if (it != last_port_totals_.end() && p[1] >= it->second[0] && p[2] >= it->second[1]) {
      ports_[id].add(now_ns, p[2] - it->second[1], p[1] - it->second[0]);
    } else {
      ports_[id].add(now_ns, 0, 0);
    }
    last_port_totals_[id] = {p[1], p[2]};
  }
  last_rate_ns_ = now_ns;
}

TrafficView SensorMerger::view(std::uint64_t now_ns) {
  TrafficView v;
  v.time_ns = now_ns;
  const auto rates = [now_ns](const analysis::RateWindow<61>& w) {
    return RateSet{w.rate(now_ns, 1), w.rate(now_ns, 10), w.rate(now_ns, 60)};
  };
  v.global = rates(global_);
  for (const auto& [id, w] : ports_) v.ports.emplace_back(id, rates(w));
  std::sort(v.ports.begin(), v.ports.end(), [](const auto& x, const auto& y) { return x.first < y.first; });

  // Top flows: a flow lives on one worker, but sum anyway (robust to re-sharding).
  std::unordered_map<std::string, TopFlow> flows;
  for (const auto& list : worker_top_) {
    for (const TopFlow& t : list) {
      TopFlow& f = flows[key_bytes(&t.key, sizeof t.key)];
      f.key = t.key;
      f.bytes += t.bytes;
      f.error += t.error;
    }
  }
  std::unordered_map<std::string, std::pair<std::uint64_t, std::uint64_t>> prev;
  for (auto& [k, f] : flows) {
    const auto it = prev_flow_bytes_.find(k);
    if (it != prev_flow_bytes_.end() && now_ns > it->second.second && f.bytes >= it->second.first) {
      f.bits_per_second = static_cast<double>(f.bytes - it->second.first) * 8e9 /
                          static_cast<double>(now_ns - it->second.second);
    }
    prev[k] = {f.bytes, now_ns};
    v.top_flows.push_back(f);
  }
  prev_flow_bytes_ = std::move(prev);
  std::sort(v.top_flows.begin(), v.top_flows.end(), [](const TopFlow& x, const TopFlow& y) {
    return x.bytes != y.bytes ? x.bytes > y.bytes : std::memcmp(&x.key, &y.key, sizeof x.key) < 0;
  });
  if (v.top_flows.size() > cfg_.top_k) v.top_flows.resize(cfg_.top_k);

  // Hosts: traffic summed over workers, MAC from the ARP bindings.
  std::unordered_map<std::string, bool> listed;
  for (const auto& [k, h] : hosts_) {
    HostView hv;
    hv.ip = h->ip;
    hv.vlan = h->vlan;
    for (const SensorRecord& r : h->parts) {
      if (r.kind != SensorRecordKind::host) continue;
      hv.bytes_sent += r.v0;
      hv.bytes_received += r.v1;
      hv.packets_sent += r.v2;
      hv.packets_received += r.v3;
      hv.first_ns = hv.first_ns == 0 ? r.v4 : std::min(hv.first_ns, r.v4);
      hv.last_ns = std::max(hv.last_ns, r.time_ns);
    }
    if (const analysis::HostInfo* b = bindings_.find_host(h->ip, h->vlan); b != nullptr && b->mac_known) {
      hv.mac = b->mac;
      hv.mac_known = true;
      hv.mac_changes = b->mac_changes;
    }
    listed[k] = true;
    v.hosts.push_back(hv);
  }
  bindings_.for_each_host([&](const analysis::HostInfo& b) {
    if (!b.mac_known || listed.count(key_bytes(&b.key, sizeof b.key)) != 0) return;
    HostView hv;
    hv.ip = analysis::ip_of(b.key);
    hv.vlan = b.key.vlan;
    hv.mac = b.mac;
    hv.mac_known = true;
    hv.mac_changes = b.mac_changes;
    hv.first_ns = b.first_ns;
    hv.last_ns = b.last_ns;
    v.hosts.push_back(hv);
  });
  const auto host_order = [](const HostView& x, const HostView& y) {
    const std::uint64_t a = x.bytes_sent + x.bytes_received;
    const std::uint64_t b = y.bytes_sent + y.bytes_received;
    return a != b ? a > b : std::memcmp(x.ip.bytes.data(), y.ip.bytes.data(), 16) < 0;
  };
  std::sort(v.hosts.begin(), v.hosts.end(), host_order);
  v.top_hosts.assign(v.hosts.begin(), v.hosts.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(v.hosts.size(), cfg_.top_k)));

  for (const auto& [k, e] : edges_) {
    EdgeView ev;
    ev.a = e->a;
    ev.b = e->b;
    ev.vlan = e->vlan;
    for (const SensorRecord& r : e->parts) {
      if (r.kind != SensorRecordKind::edge) continue;
      ev.bytes_ab += r.v0;
      ev.bytes_ba += r.v1;
      ev.packets_ab += r.v2;
      ev.packets_ba += r.v3;
      ev.first_ns = ev.first_ns == 0 ? r.v4 : std::min(ev.first_ns, r.v4);
      ev.last_ns = std::max(ev.last_ns, r.time_ns);
    }
    v.edges.push_back(ev);
  }
  std::sort(v.edges.begin(), v.edges.end(), [](const EdgeView& x, const EdgeView& y) {
    const std::uint64_t a = x.bytes_ab + x.bytes_ba;
    const std::uint64_t b = y.bytes_ab + y.bytes_ba;
    return a != b ? a > b : std::memcmp(x.a.bytes.data(), y.a.bytes.data(), 16) < 0;
  });

  v.alerts = alerts_;
  v.connection_failures = connection_failures_;
  v.destination_seconds = destination_seconds_;
  v.late_partials = late_partials_;
  v.hosts_dropped = hosts_dropped_;
  v.edges_dropped = edges_dropped_;
  return v;
}

}  // namespace netscope::engine
