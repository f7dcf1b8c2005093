#include "netscope/engine/worker.hpp"

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

Worker::Worker(const EngineConfig& cfg)
    : cfg_(cfg),
      counters_(std::make_unique<WorkerCounters>()),
      sas_(cfg.max_sas, cfg.tracker),
      flows_(cfg.max_flows) {
  events_.reserve(cfg.max_events);
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

void Worker::record(seq::EventType type, const seq::SaKey& key, std::uint64_t expected,
                    std::uint64_t got, std::uint64_t count, std::uint64_t ts, std::uint16_t port,
                    std::uint64_t index) noexcept {
  WorkerCounters& c = *counters_;
  c.events[static_cast<std::size_t>(type)].add();
  c.events_total.add();
  if (events_.size() < cfg_.max_events) {
    // Within reserved capacity: push_back does not allocate.
    events_.push_back(AnomalyEvent{key, ts, index, expected, got, count, type, port});
  } else {
    c.events_dropped.add();
  }
}

void Worker::track_sa(const decode::DecodedPacket& p, std::uint32_t wire_len, std::uint64_t ts,
                      std::uint16_t port, std::uint64_t index) noexcept {
  seq::SaKey key;
  std::uint32_t seq32 = 0;
  if (!seq::sa_key_of(p, key, seq32)) return;
  bool created = false;
  seq::SaEntry* e = sas_.find_or_insert(key, seq::hash(key), created);
  if (e == nullptr) [[unlikely]] {
    counters_->sa_table_full.add();
    return;
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
  for (std::uint8_t i = 0; i < obs.event_count; ++i) {
    record(obs.events[i], key, obs.expected, obs.got, obs.counts[i], ts, port, index);
  }
}

void Worker::track_flow(const decode::DecodedPacket& p, std::uint32_t wire_len,
                        std::uint64_t ts) noexcept {
  flow::FlowKey key;
  bool forward = true;
  if (!flow::flow_key_of(p, key, forward)) return;
  bool created = false;
  flow::FlowEntry* f = flows_.find_or_insert(key, flow::hash(key), created);
  if (f == nullptr) [[unlikely]] {
    counters_->flow_table_full.add();
    return;
  }
  if (created) {
    counters_->flows_created.add();
    f->first_seen_ns = ts;
    f->initiator_is_a = forward;
  }
  f->last_seen_ns = ts;
  flow::FlowDirection& d = forward ? f->a_to_b : f->b_to_a;
  d.packets += 1;
  d.bytes += wire_len;
  if (p.has(decode::kLayerTcp)) f->tcp_flags |= p.tcp.flags;
}

void Worker::process(decode::Bytes frame, std::uint32_t wire_len, std::uint64_t timestamp_ns,
                     std::uint16_t port, std::uint64_t packet_index) noexcept {
  WorkerCounters& c = *counters_;
  c.packets.add();
  c.bytes.add(wire_len);
  if (port < kMaxPorts) {
    c.ports[port].packets.add();
    c.ports[port].bytes.add(wire_len);
  }
  decode::decode_frame(frame, pkt_);
  if (pkt_.malformed != decode::Malformed::none) [[unlikely]] {
    c.malformed_total.add();
    c.malformed[static_cast<std::size_t>(pkt_.malformed)].add();
  }
  const auto cls = static_cast<std::size_t>(classify(pkt_));
  c.class_packets[cls].add();
  c.class_bytes[cls].add(wire_len);
  track_sa(pkt_, wire_len, timestamp_ns, port, packet_index);
  track_flow(pkt_, wire_len, timestamp_ns);
}

}  // namespace netscope::engine
