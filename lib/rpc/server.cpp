#include "netscope/rpc/server.hpp"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "netscope.grpc.pb.h"
#include "netscope/control/api.hpp"
#include "netscope/control/query.hpp"
#include "netscope/control/state.hpp"
#include "netscope/control/views.hpp"
#include "netscope_version.h"

namespace netscope::rpc {

namespace {

namespace pb = ::netscope::v1;
using control::HubState;
using grpc::ServerContext;
using grpc::Status;
using grpc::StatusCode;

constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr std::size_t kBatch = 1024;               ///< records copied out of a store at once
constexpr std::uint64_t kMaxHistoryPoints = 10000;  ///< as the REST history
constexpr double kServingAge = 5.0;                 ///< seconds a snapshot stays fresh

std::int64_t ms(std::uint64_t ns) { return static_cast<std::int64_t>(ns / 1'000'000ull); }

pb::Flow::Protocol flow_protocol(seq::SaProtocol p) {
  switch (p) {
    case seq::SaProtocol::macsec: return pb::Flow::MACSEC;
    case seq::SaProtocol::ah: return pb::Flow::IPSEC_AH;
    case seq::SaProtocol::esp: return pb::Flow::IPSEC_ESP;
  }
  return pb::Flow::GENERIC;
}

pb::Anomaly::AnomalyType anomaly_type(seq::EventType t) {
  switch (t) {
    case seq::EventType::gap: return pb::Anomaly::GAP;
    case seq::EventType::duplicate: return pb::Anomaly::DUPLICATE;
    case seq::EventType::reordered: return pb::Anomaly::REORDERED;
    case seq::EventType::out_of_window: return pb::Anomaly::OUT_OF_WINDOW;
    case seq::EventType::rollover: return pb::Anomaly::ROLLOVER;
    case seq::EventType::reset: return pb::Anomaly::RESET;
    case seq::EventType::rekey: return pb::Anomaly::REKEY;
    case seq::EventType::stuck: return pb::Anomaly::STUCK;
    case seq::EventType::count_: break;
  }
  return pb::Anomaly::OUT_OF_ORDER;
}

pb::PacketSummary::Verdict verdict(engine::PacketVerdict v) {
  using V = engine::PacketVerdict;
  switch (v) {
    case V::none: return pb::PacketSummary::NONE;
    case V::in_order: return pb::PacketSummary::IN_ORDER;
    case V::gap: return pb::PacketSummary::GAP;
    case V::duplicate: return pb::PacketSummary::DUPLICATE;
    case V::reordered: return pb::PacketSummary::REORDERED;
    case V::out_of_window: return pb::PacketSummary::OUT_OF_WINDOW;
    case V::rollover: return pb::PacketSummary::ROLLOVER;
    case V::reset: return pb::PacketSummary::RESET;
    case V::rekey: return pb::PacketSummary::REKEY;
    case V::stuck: return pb::PacketSummary::STUCK;
    case V::malformed: return pb::PacketSummary::MALFORMED;
  }
  return pb::PacketSummary::NONE;
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

/// Capstone-style source/destination identifiers of an SA.
void sa_identifiers(const seq::SaKey& k, std::string* src, std::string* dst) {
  if (k.protocol == seq::SaProtocol::macsec) {
    *src = seq::sci_text(k.sci);
    *dst = "an " + std::to_string(k.an);
  } else {
    *src = "spi " + hex32(k.spi);
    *dst = seq::ip_text(k.dst, k.ip_version);
  }
}

std::string endpoint(const std::array<std::uint8_t, 16>& addr, std::uint8_t version, std::uint16_t port) {
  const std::string a = seq::ip_text(addr, version);
  return (version == 6 ? "[" + a + "]" : a) + ":" + std::to_string(port);
}

std::string sa_flow_id(std::uint64_t id) { return "sa:" + std::to_string(id); }

void fill_sa(const control::SaView& v, pb::Flow* f) {
  const engine::SaSummary& s = v.s;
  const seq::SequenceCounters& c = s.counters;
  f->set_flow_id(sa_flow_id(v.id));
  f->set_protocol(flow_protocol(s.key.protocol));
  sa_identifiers(s.key, f->mutable_source_identifier(), f->mutable_dest_identifier());
  f->set_current_sequence_number(s.highest_seq);
  f->set_packet_count(c.packets);
  f->set_anomaly_count(c.gaps + c.duplicates + c.reordered + c.out_of_window + c.rollovers + c.resets +
                       c.rekeys + c.stuck);
  f->set_first_seen_ms(ms(s.first_seen_ns));
  f->set_last_seen_ms(ms(s.last_seen_ns));
  f->set_id(v.id);
  f->set_bytes(s.bytes);
  f->set_bits_per_second(control::bits_per_second(s.bytes, s.first_seen_ns, s.last_seen_ns));
  f->set_first_seen_ns(s.first_seen_ns);
  f->set_last_seen_ns(s.last_seen_ns);
  f->set_port(s.port);
  pb::SaCounters* sc = f->mutable_sa();
  sc->set_first_seq(s.first_seq);
  sc->set_lost(c.lost);
  sc->set_gaps(c.gaps);
  sc->set_duplicates(c.duplicates);
  sc->set_reordered(c.reordered);
  sc->set_out_of_window(c.out_of_window);
  sc->set_rollovers(c.rollovers);
  sc->set_resets(c.resets);
  sc->set_rekeys(c.rekeys);
  sc->set_stuck(c.stuck);
  sc->set_extended(s.extended != 0);
  sc->set_extended_inferred(s.extended_inferred != 0);
  if (s.key.protocol == seq::SaProtocol::macsec) {
    sc->set_sci(s.key.sci);
    sc->set_an(s.key.an);
  } else {
    sc->set_spi(s.key.spi);
    sc->set_dst(seq::ip_text(s.key.dst, s.key.ip_version));
    sc->set_udp_encap(s.key.udp_encap != 0);
  }
  for (std::uint16_t l : v.lcores) sc->add_lcores(l);
}

void fill_flow(const control::StoredFlow& sf, pb::Flow* f) {
  const engine::FlowRecord& r = sf.rec;
  const std::uint64_t bytes = r.a_to_b.bytes + r.b_to_a.bytes;
  f->set_flow_id("flow:" + std::to_string(sf.id));
  f->set_protocol(pb::Flow::GENERIC);
  f->set_source_identifier(endpoint(r.key.addr_a, r.key.ip_version, r.key.port_a));
  f->set_dest_identifier(endpoint(r.key.addr_b, r.key.ip_version, r.key.port_b));
  f->set_packet_count(r.a_to_b.packets + r.b_to_a.packets);
  f->set_first_seen_ms(ms(r.first_seen_ns));
  f->set_last_seen_ms(ms(r.last_seen_ns));
  f->set_id(sf.id);
  f->set_bytes(bytes);
  f->set_bits_per_second(control::bits_per_second(bytes, r.first_seen_ns, r.last_seen_ns));
  f->set_first_seen_ns(r.first_seen_ns);
  f->set_last_seen_ns(r.last_seen_ns);
  pb::GenericFlow* g = f->mutable_generic();
  g->set_ip_version(r.key.ip_version);
  g->set_ip_protocol(r.key.protocol);
  g->set_vlan(r.key.vlan);
  g->set_packets_a_to_b(r.a_to_b.packets);
  g->set_bytes_a_to_b(r.a_to_b.bytes);
  g->set_packets_b_to_a(r.b_to_a.packets);
  g->set_bytes_b_to_a(r.b_to_a.bytes);
  g->set_tcp_flags(r.tcp_flags);
  g->set_end_reason(std::string(flow::to_string(r.reason)));
  g->set_initiator_is_a(r.initiator_is_a);
  g->set_lcore(r.lcore);
}

void fill_anomaly(const control::StoredEvent& se, pb::Anomaly* a) {
  const engine::AnomalyEvent& e = se.ev;
  const std::uint64_t sid = control::sa_id(e.sa);
  a->set_anomaly_id(std::to_string(se.id));
  a->set_flow_id(sa_flow_id(sid));
  a->set_anomaly_type(anomaly_type(e.type));
  a->set_sequence_number(e.got);
  a->set_expected_sequence_number(e.expected);
  a->set_timestamp_ms(ms(e.timestamp_ns));
  a->set_packet_count(e.count);
  a->set_id(se.id);
  a->set_sa_id(sid);
  a->set_timestamp_ns(e.timestamp_ns);
  a->set_port(e.port);
  a->set_packet_index(e.packet_index);
  a->set_protocol(flow_protocol(e.sa.protocol));
  sa_identifiers(e.sa, a->mutable_source_identifier(), a->mutable_dest_identifier());
}

void fill_packet(const control::StoredPacket& sp, std::uint32_t filter_seq, pb::PacketSummary* m) {
  const engine::PacketSummary& p = sp.pkt;
  m->set_timestamp_ms(ms(p.timestamp_ns));
  if (p.has_sa) {
    m->set_flow_id(sa_flow_id(control::sa_id(p.sa)));
    m->set_sequence_number(p.seq);
    m->set_protocol(flow_protocol(p.sa.protocol));
  } else {
    m->set_protocol(pb::Flow::GENERIC);
  }
  m->set_packet_size(p.wire_len);
  m->set_is_anomaly(p.verdict != engine::PacketVerdict::none && p.verdict != engine::PacketVerdict::in_order);
  m->set_verdict(verdict(p.verdict));
  m->set_id(sp.id);
  m->set_timestamp_ns(p.timestamp_ns);
  m->set_port(p.port);
  m->set_packet_index(p.packet_index);
  m->set_filter_seq(filter_seq);
  if (p.has_flow) {
    const flow::FlowKey& k = p.flow;
    std::string a = endpoint(k.addr_a, k.ip_version, k.port_a);
    std::string b = endpoint(k.addr_b, k.ip_version, k.port_b);
    m->set_source(p.forward ? a : b);
    m->set_destination(p.forward ? b : a);
    m->set_ip_protocol(k.protocol);
  }
}

void fill_stats(const control::Published& p, pb::Statistics* st) {
  const control::Snapshot& s = *p.snap;
  const control::HistoryPoint h = control::history_point(s);
  st->set_timestamp_ms(ms(s.time_ns));
  st->set_total_packets(s.packets);
  st->set_packets_per_second(p.pps);
  st->set_active_flows(static_cast<std::int32_t>(std::min<std::uint64_t>(s.flows_active, INT32_MAX)));
  std::uint64_t events = 0;
  for (std::size_t i = 0; i < seq::kEventTypeCount; ++i) {
    events += s.events[i];
    pb::AnomalyCount* c = st->add_anomaly_counts();
    c->set_type(anomaly_type(static_cast<seq::EventType>(i)));
    c->set_count(s.events[i]);
  }
  st->set_anomalies_detected(events);
  st->set_bytes_processed(s.bytes);
  const double seen = static_cast<double>(h.packets + h.dropped);
  st->set_capture_loss_percent(seen > 0 ? 100.0 * static_cast<double>(h.dropped) / seen : 0.0);
  st->set_timestamp_ns(s.time_ns);
  st->set_bits_per_second(p.bps);
  st->set_uptime_s(s.uptime_s);
  st->set_paused(s.paused);
  st->set_mode(s.mode);
  st->set_sas_active(s.sas_active);
  st->set_flows_created(s.flows_created);
  st->set_malformed_packets(h.malformed);
  st->set_dropped_packets(h.dropped);
}

/// One history interval: cumulative counters at its end, rates over it.
void fill_interval(const control::HistoryPoint& last, std::uint64_t start_s, std::uint64_t interval,
                   std::uint64_t samples, std::uint64_t packets, std::uint64_t bytes, std::uint64_t anomalies,
                   std::uint64_t dropped, pb::Statistics* st) {
  const double secs = static_cast<double>(interval);
  st->set_timestamp_ms(static_cast<std::int64_t>(start_s * 1000));
  st->set_timestamp_ns(start_s * 1'000'000'000ull);
  st->set_total_packets(last.packets);
  st->set_bytes_processed(last.bytes);
  st->set_anomalies_detected(last.anomalies);
  st->set_flows_created(last.flows_created);
  st->set_malformed_packets(last.malformed);
  st->set_dropped_packets(last.dropped);
  st->set_packets_per_second(static_cast<double>(packets) / secs);
  st->set_bits_per_second(static_cast<double>(bytes) * 8.0 / secs);
  const double seen = static_cast<double>(packets + dropped);
  st->set_capture_loss_percent(seen > 0 ? 100.0 * static_cast<double>(dropped) / seen : 0.0);
  st->set_interval_s(static_cast<std::uint32_t>(interval));
  st->set_samples(static_cast<std::uint32_t>(samples));
  st->set_interval_packets(packets);
  st->set_interval_anomalies(anomalies);
}

/// "sa:<id>" / "flow:<id>" -> (is_sa, id). Nullopt when malformed.
std::optional<std::pair<bool, std::uint64_t>> parse_flow_id(const std::string& text) {
  bool is_sa = false;
  std::string_view rest;
  if (text.starts_with("sa:")) {
    is_sa = true;
    rest = std::string_view(text).substr(3);
  } else if (text.starts_with("flow:")) {
    rest = std::string_view(text).substr(5);
  } else {
    return std::nullopt;
  }
  const auto id = control::parse_id(rest);
  if (!id) return std::nullopt;
  return std::make_pair(is_sa, *id);
}

Status invalid(const std::string& msg) { return {StatusCode::INVALID_ARGUMENT, msg}; }

bool same_secret(const std::string& a, const std::string& b) noexcept {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

/// "ipv4:127.0.0.1:5000" -> "ipv4:127.0.0.1": the rate-limit key is the address.
std::string peer_address(const std::string& peer) {
  const auto colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

std::string read_file(const std::string& path, const char* key) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error(std::string("grpc.") + key + ": cannot read '" + path + "'");
  std::stringstream s;
  s << f.rdbuf();
  if (s.str().empty()) throw std::runtime_error(std::string("grpc.") + key + ": '" + path + "' is empty");
  return s.str();
}

/// Index of the first record with id > after in an id-ordered deque.
template <typename T>
std::size_t first_after(const std::deque<T>& items, std::uint64_t after) {
  const auto it = std::upper_bound(items.begin(), items.end(), after,
                                   [](std::uint64_t v, const T& t) { return v < t.id; });
  return static_cast<std::size_t>(it - items.begin());
}

/// Copies up to kBatch records with id > `after`; `missed` gets the ids that left the
/// store before they could be read.
template <typename T>
std::vector<T> next_batch(const control::RecordStore<T>& store, std::uint64_t after, std::uint64_t& missed) {
  return store.read([&](const std::deque<T>& items) {
    std::vector<T> out;
    if (items.empty()) return out;
    if (items.front().id > after + 1) missed += items.front().id - after - 1;
    const std::size_t i = first_after(items, after);
    const std::size_t n = std::min(kBatch, items.size() - i);
    out.assign(items.begin() + static_cast<std::ptrdiff_t>(i), items.begin() + static_cast<std::ptrdiff_t>(i + n));
    return out;
  });
}

template <typename T>
std::uint64_t last_id(const control::RecordStore<T>& store) {
  return store.read([](const std::deque<T>& items) { return items.empty() ? std::uint64_t{0} : items.back().id; });
}

/// The filter of one StreamPackets call, as the client last sent it.
struct PacketMatch {
  std::uint32_t seq = 0;  ///< 0: no filter received yet (nothing is sent)
  pb::PacketFilter::Protocol protocol = pb::PacketFilter::ALL;
  std::uint64_t sa = 0;
  bool anomalies_only = false;
  std::optional<std::uint32_t> port;

  [[nodiscard]] bool matches(const engine::PacketSummary& p) const {
    if (seq == 0) return false;
    if (port && p.port != *port) return false;
    if (anomalies_only && (p.verdict == engine::PacketVerdict::none || p.verdict == engine::PacketVerdict::in_order)) {
      return false;
    }
    switch (protocol) {
      case pb::PacketFilter::ALL: break;
      case pb::PacketFilter::MACSEC:
        if (!p.has_sa || p.sa.protocol != seq::SaProtocol::macsec) return false;
        break;
      case pb::PacketFilter::IPSEC_AH:
        if (!p.has_sa || p.sa.protocol != seq::SaProtocol::ah) return false;
        break;
      case pb::PacketFilter::IPSEC_ESP:
        if (!p.has_sa || p.sa.protocol != seq::SaProtocol::esp) return false;
        break;
      case pb::PacketFilter::GENERIC:
        if (p.has_sa) return false;
        break;
      default: return false;
    }
    if (sa != 0 && (!p.has_sa || control::sa_id(p.sa) != sa)) return false;
    return true;
  }
};

class Service final : public pb::NetworkTracker::Service {
 public:
  Service(HubState& st, const GrpcConfig& cfg) : st_(st), cfg_(cfg), limiter_(cfg.rate_limit, cfg.rate_limit_burst) {}

  void begin_stop() { stopping_.store(true); }

  Status GetCurrentStats(ServerContext* ctx, const pb::StatsRequest*, pb::Statistics* out) override {
    if (Status s = admit(ctx); !s.ok()) return s;
    const auto pub = st_.published();
    if (pub == nullptr) return {StatusCode::UNAVAILABLE, "no snapshot published yet; retry in a second"};
    fill_stats(*pub, out);
    return Status::OK;
  }

  Status GetStatsHistory(ServerContext* ctx, const pb::StatsHistoryRequest* req,
                         grpc::ServerWriter<pb::Statistics>* w) override {
    if (Status s = admit(ctx); !s.ok()) return s;
    const std::uint64_t max_duration = std::max<std::uint64_t>(st_.cfg.history_seconds, 1);
    const std::uint64_t duration = req->duration_s() == 0 ? std::min<std::uint64_t>(300, max_duration) : req->duration_s();
    if (duration > max_duration) {
      return invalid("duration_s: at most " + std::to_string(max_duration) + " (the configured history)");
    }
    const std::uint64_t interval = req->interval_s() == 0 ? 1 : req->interval_s();
    if (interval > duration) return invalid("interval_s: must not exceed duration_s");
    const std::uint64_t buckets = (duration + interval - 1) / interval;
    if (buckets > kMaxHistoryPoints) return invalid("duration_s/interval_s gives more than 10000 points; raise interval_s");
    StreamSlot slot(*this);
    if (!slot.ok()) return too_many_streams();
    const auto pub = st_.published();
    if (pub == nullptr && !req->follow()) return {StatusCode::UNAVAILABLE, "no snapshot published yet; retry in a second"};
    std::uint64_t last_s = 0;  // second of the last point sent
    if (pub != nullptr) {
      const std::uint64_t end_s = pub->snap->time_ns / 1'000'000'000ull + 1;
      const std::uint64_t start_s = end_s - std::min(end_s, buckets * interval);
      const auto pts = st_.history.since(start_s * 1'000'000'000ull);
      std::size_t i = 1;
      control::HistoryPoint last = pts.empty() ? control::HistoryPoint{} : pts.front();
      for (std::uint64_t b = 0; b < buckets; ++b) {
        const std::uint64_t lo = start_s + b * interval, hi = lo + interval;
        std::uint64_t samples = 0, packets = 0, bytes = 0, anomalies = 0, dropped = 0;
        for (; i < pts.size() && pts[i].time_ns / 1'000'000'000ull < hi; ++i) {
          const control::HistoryPoint& x = pts[i - 1];
          const control::HistoryPoint& y = pts[i];
          last = y;
          if (y.time_ns / 1'000'000'000ull < lo) continue;
          packets += control::counter_delta(x.packets, y.packets);
          bytes += control::counter_delta(x.bytes, y.bytes);
          anomalies += control::counter_delta(x.anomalies, y.anomalies);
          dropped += control::counter_delta(x.dropped, y.dropped);
          ++samples;
        }
        pb::Statistics st;
        fill_interval(last, lo, interval, samples, packets, bytes, anomalies, dropped, &st);
        if (!w->Write(st)) return Status::OK;
      }
      last_s = end_s - 1;
    }
    if (!req->follow()) return Status::OK;
    // Follow: one point per new snapshot, rates against the one before.
    std::uint64_t gen = st_.updates.generation();
    std::shared_ptr<const control::Published> prev = pub;
    for (;;) {
      if (const auto end = ended(ctx)) return *end;
      gen = st_.updates.wait(gen, std::chrono::steady_clock::now() + kPollInterval);
      const auto cur = st_.published();
      if (cur == nullptr || cur == prev) continue;
      const std::uint64_t t = cur->snap->time_ns / 1'000'000'000ull;
      if (t <= last_s && prev != nullptr) {
        prev = cur;
        continue;
      }
      pb::Statistics st;
      fill_stats(*cur, &st);
      st.set_interval_s(1);
      st.set_samples(1);
      if (prev != nullptr) {
        st.set_interval_packets(control::counter_delta(prev->snap->packets, cur->snap->packets));
        std::uint64_t a = 0, b = 0;
        for (std::size_t k = 0; k < seq::kEventTypeCount; ++k) {
          a += prev->snap->events[k];
          b += cur->snap->events[k];
        }
        st.set_interval_anomalies(control::counter_delta(a, b));
      }
      last_s = t;
      prev = cur;
      if (!w->Write(st)) return Status::OK;
    }
  }

  Status GetFlows(ServerContext* ctx, const pb::FlowsRequest* req, grpc::ServerWriter<pb::Flow>* w) override {
    if (Status s = admit(ctx); !s.ok()) return s;
    if (!pb::FlowsRequest::Kind_IsValid(req->kind())) return invalid("kind: ALL, SAS or GENERIC");
    StreamSlot slot(*this);
    if (!slot.ok()) return too_many_streams();
    std::uint64_t left = req->limit() == 0 ? UINT64_MAX : req->limit();
    if (req->kind() != pb::FlowsRequest::GENERIC) {
      if (const auto pub = st_.published()) {
        pb::Flow f;
        for (const control::SaView& v : pub->sas) {
          if (left == 0) break;
          if (v.s.counters.lost < req->min_lost()) continue;
          if (ctx->IsCancelled()) return {StatusCode::CANCELLED, "cancelled"};
          f.Clear();
          fill_sa(v, &f);
          if (!w->Write(f)) return Status::OK;
          --left;
        }
      }
    }
    if (req->kind() != pb::FlowsRequest::SAS) {
      std::uint64_t after = 0, missed = 0;
      pb::Flow f;
      while (left > 0) {
        const auto part = next_batch(st_.flows, after, missed);
        if (part.empty()) break;
        for (const control::StoredFlow& sf : part) {
          if (left == 0) break;
          if (ctx->IsCancelled()) return {StatusCode::CANCELLED, "cancelled"};
          f.Clear();
          fill_flow(sf, &f);
          if (!w->Write(f)) return Status::OK;
          --left;
        }
        after = part.back().id;
      }
    }
    return Status::OK;
  }

  Status GetFlow(ServerContext* ctx, const pb::FlowIdRequest* req, pb::Flow* out) override {
    if (Status s = admit(ctx); !s.ok()) return s;
    const auto id = parse_flow_id(req->flow_id());
    if (!id) return invalid("flow_id: expected \"sa:<id>\" or \"flow:<id>\" with an id 1..2^53-1");
    if (id->first) {
      const auto pub = st_.published();
      const control::SaView* v = pub != nullptr ? pub->find_sa(id->second) : nullptr;
      if (v == nullptr) return {StatusCode::NOT_FOUND, "no SA with id " + std::to_string(id->second)};
      fill_sa(*v, out);
      return Status::OK;
    }
    const auto f = st_.flows.get(id->second);
    if (!f) return {StatusCode::NOT_FOUND, "no finished flow with id " + std::to_string(id->second) + " is kept"};
    fill_flow(*f, out);
    return Status::OK;
  }

  Status StreamAnomalies(ServerContext* ctx, const pb::AnomalyStreamRequest* req,
                         grpc::ServerWriter<pb::Anomaly>* w) override {
    if (Status s = admit(ctx); !s.ok()) return s;
    std::array<bool, seq::kEventTypeCount> want{};
    if (req->types().empty()) want.fill(true);
    for (int t : req->types()) {
      bool known = false;
      for (std::size_t i = 0; i < seq::kEventTypeCount; ++i) {
        if (anomaly_type(static_cast<seq::EventType>(i)) == t) {
          want[i] = true;
          known = true;
        }
      }
      if (!known) {
        return invalid("types: " + std::to_string(t) +
                       " is not a type NetScope reports (DUPLICATE, GAP, ROLLOVER, REORDERED, OUT_OF_WINDOW, RESET, "
                       "REKEY, STUCK)");
      }
    }
    if (req->sa_id() >= control::kIdLimit) return invalid("sa_id: must be below 2^53");
    StreamSlot slot(*this);
    if (!slot.ok()) return too_many_streams();
    std::uint64_t gen = st_.updates.generation();
    std::uint64_t after = req->has_after_id() ? req->after_id() : last_id(st_.events);
    const std::uint64_t end_id = last_id(st_.events);  // stored_only: the listing ends here
    std::uint64_t missed = 0;
    pb::Anomaly a;
    for (;;) {
      const auto part = next_batch(st_.events, after, missed);
      for (std::size_t i = 0; i < part.size(); ++i) {
        const control::StoredEvent& e = part[i];
        after = e.id;
        if (!want[static_cast<std::size_t>(e.ev.type)]) continue;
        if (req->sa_id() != 0 && control::sa_id(e.ev.sa) != req->sa_id()) continue;
        a.Clear();
        fill_anomaly(e, &a);
        a.set_missed(missed);
        missed = 0;
        if (!w->Write(a)) return Status::OK;
      }
      if (req->stored_only() && (after >= end_id || part.empty())) return Status::OK;
      if (const auto end = ended(ctx)) return *end;
      if (part.size() < kBatch) gen = st_.updates.wait(gen, std::chrono::steady_clock::now() + kPollInterval);
    }
  }

  Status StreamPackets(ServerContext* ctx, grpc::ServerReaderWriter<pb::PacketSummary, pb::PacketFilter>* rw) override {
    if (Status s = admit(ctx); !s.ok()) return s;
    StreamSlot slot(*this);
    if (!slot.ok()) return too_many_streams();
    struct Subscription {
      std::atomic<std::uint32_t>& n;
      explicit Subscription(std::atomic<std::uint32_t>& c) : n(c) { n.fetch_add(1); }
      ~Subscription() { n.fetch_sub(1); }
    } sub(st_.packet_subscribers);

    std::mutex mu;
    PacketMatch match;           // guarded by mu
    std::string filter_error;    // guarded by mu
    std::atomic<bool> reader_done{false};
    std::thread reader([&] {
      pb::PacketFilter f;
      while (rw->Read(&f)) {
        PacketMatch m;
        std::string err;
        if (!pb::PacketFilter::Protocol_IsValid(f.protocol_filter())) {
          err = "protocol_filter: ALL, MACSEC, IPSEC_AH, IPSEC_ESP or GENERIC";
        } else if (!f.flow_id_filter().empty()) {
          const auto id = parse_flow_id(f.flow_id_filter());
          if (!id || !id->first) err = "flow_id_filter: expected \"sa:<id>\" (packets are matched by SA)";
          else m.sa = id->second;
        }
        if (f.has_port() && f.port() > 65535) err = "port: 0..65535";
        std::lock_guard lock(mu);
        if (!err.empty()) {
          filter_error = err;
          break;
        }
        m.seq = match.seq + 1;
        m.protocol = f.protocol_filter();
        m.anomalies_only = f.anomalies_only();
        if (f.has_port()) m.port = f.port();
        match = m;
      }
      reader_done.store(true);
    });

    std::uint64_t gen = st_.updates.generation();
    std::uint64_t after = last_id(st_.packets);
    std::uint64_t missed = 0;
    pb::PacketSummary m;
    Status result = Status::OK;
    for (;;) {
      PacketMatch cur;
      {
        std::lock_guard lock(mu);
        if (!filter_error.empty()) {
          result = invalid(filter_error);
          break;
        }
        cur = match;
      }
      // The client half-closed: it sends no more filters and ends the call.
      if (reader_done.load()) break;
      if (const auto end = ended(ctx)) {
        result = *end;
        break;
      }
      const auto part = next_batch(st_.packets, after, missed);
      bool write_failed = false;
      for (std::size_t i = 0; i < part.size(); ++i) {
        const control::StoredPacket& p = part[i];
        after = p.id;
        if (!cur.matches(p.pkt)) continue;
        m.Clear();
        fill_packet(p, cur.seq, &m);
        m.set_missed(missed);
        missed = 0;
        if (!rw->Write(m)) {
          write_failed = true;
          break;
        }
      }
      if (cur.seq == 0) missed = 0;  // nothing was asked for yet
      if (write_failed) break;
      if (part.size() < kBatch) gen = st_.updates.wait(gen, std::chrono::steady_clock::now() + kPollInterval);
    }
    if (!reader_done.load()) ctx->TryCancel();
    reader.join();
    return result;
  }

  Status UpdateConfig(ServerContext* ctx, const pb::TrackerConfig* req, pb::ConfigResponse* out) override {
    if (Status s = admit(ctx); !s.ok()) return s;
    const auto queue_full = [] { return Status(StatusCode::RESOURCE_EXHAUSTED, "command queue full; retry later"); };
    using control::Command;
    switch (req->action()) {
      case pb::TrackerConfig::PAUSE:
      case pb::TrackerConfig::RESUME: {
        const bool pause = req->action() == pb::TrackerConfig::PAUSE;
        if (!st_.push_command({pause ? Command::Type::pause : Command::Type::resume, 0, {}})) return queue_full();
        out->set_message(pause ? "pause queued" : "resume queued");
        break;
      }
      case pb::TrackerConfig::RESET_FLOW: {
        const auto id = parse_flow_id(req->flow_id());
        if (!id || !id->first) return invalid("flow_id: expected \"sa:<id>\" (only an SA's sequence state can be reset)");
        const auto pub = st_.published();
        if (pub == nullptr || pub->find_sa(id->second) == nullptr) {
          return {StatusCode::NOT_FOUND, "no SA with id " + std::to_string(id->second)};
        }
        if (!st_.push_command({Command::Type::reset_flow, id->second, {}})) return queue_full();
        out->set_message("reset of " + req->flow_id() + " queued");
        break;
      }
      case pb::TrackerConfig::ADD_FILTER: {
        const std::string& e = req->filter_expression();
        if (const control::TextProblem bad = control::check_filter_expression(e)) {
          return invalid("filter_expression: " + bad.message);
        }
        const auto f = st_.add_filter(e);
        if (!f) return queue_full();
        out->set_filter_id(f->id);
        out->set_message("filter " + std::to_string(f->id) + " added");
        break;
      }
      case pb::TrackerConfig::REMOVE_FILTER: {
        if (req->filter_id() == 0 || req->filter_id() >= control::kIdLimit) return invalid("filter_id: 1..2^53-1");
        try {
          if (!st_.remove_filter(req->filter_id())) {
            return {StatusCode::NOT_FOUND, "no filter with id " + std::to_string(req->filter_id())};
          }
        } catch (const control::ApiError&) {
          return queue_full();
        }
        out->set_message("filter " + std::to_string(req->filter_id()) + " removed");
        break;
      }
      case pb::TrackerConfig::ADD_RULE: {
        const std::string& t = req->rule();
        if (const control::TextProblem bad = control::check_field_rule(t)) return invalid("rule: " + bad.message);
        const auto f = st_.add_rule(t);
        if (!f) return queue_full();
        out->set_rule_id(f->id);
        out->set_message("rule " + std::to_string(f->id) + " added");
        break;
      }
      case pb::TrackerConfig::REMOVE_RULE: {
        if (req->rule_id() == 0 || req->rule_id() >= control::kIdLimit) return invalid("rule_id: 1..2^53-1");
        try {
          if (!st_.remove_rule(req->rule_id())) {
            return {StatusCode::NOT_FOUND, "no rule with id " + std::to_string(req->rule_id())};
          }
        } catch (const control::ApiError&) {
          return queue_full();
        }
        out->set_message("rule " + std::to_string(req->rule_id()) + " removed");
        break;
      }
      case pb::TrackerConfig::LIST_FILTERS: break;
      default:
        return invalid("action: PAUSE, RESUME, RESET_FLOW, ADD_FILTER, REMOVE_FILTER, LIST_FILTERS, ADD_RULE or REMOVE_RULE");
    }
    out->set_accepted(req->action() != pb::TrackerConfig::LIST_FILTERS);
    const auto pub = st_.published();
    out->set_paused(pub != nullptr && pub->snap->paused);
    for (const control::Filter& f : st_.filters()) {
      pb::Filter* x = out->add_filters();
      x->set_id(f.id);
      x->set_expression(f.expression);
      x->set_created_ns(f.created_ns);
    }
    for (const control::Filter& f : st_.rules()) {
      pb::Filter* x = out->add_rules();
      x->set_id(f.id);
      x->set_expression(f.expression);
      x->set_created_ns(f.created_ns);
    }
    return Status::OK;
  }

  Status InspectPackets(ServerContext* ctx, const pb::InspectRequest* req, pb::InspectedPackets* out) override {
    if (Status s = admit(ctx); !s.ok()) return s;
    if (req->limit() > 4096) return invalid("limit: 1..4096 (0: every frame kept)");
    const auto pub = st_.published();
    if (pub == nullptr) return {StatusCode::UNAVAILABLE, "no snapshot published yet; retry in a second"};
    const control::Snapshot& snap = *pub->snap;
    if (!snap.inspector) return {StatusCode::NOT_FOUND, "the packet inspector is off (inspector.packets: 0)"};
    const control::InspectorView& v = *snap.inspector;
    const bool one = req->has_port();
    if (one && std::none_of(snap.ports.begin(), snap.ports.end(),
                            [&](const control::PortStats& p) { return p.id == req->port(); })) {
      return {StatusCode::NOT_FOUND, "no port " + std::to_string(req->port())};
    }
    out->set_updated_ns(v.updated_ns);
    out->set_per_port(v.per_port);
    out->set_snaplen(v.snaplen);
    const std::size_t limit = req->limit() == 0 ? std::size_t{4096} : req->limit();
    for (const control::PortStats& p : snap.ports) {
      if (one && p.id != req->port()) continue;
      pb::InspectedPort* port = out->add_ports();
      port->set_port(p.id);
      port->set_name(p.name);
      if (p.id >= v.ports.size()) continue;
      const auto& frames = v.ports[p.id];
      for (std::size_t i = frames.size() > limit ? frames.size() - limit : 0; i < frames.size(); ++i) {
        const control::InspectedFrame& f = frames[i];
        pb::InspectedPacket* x = port->add_packets();
        x->set_timestamp_ns(f.timestamp_ns);
        x->set_packet_index(f.packet_index);
        x->set_port(f.port);
        x->set_lcore(f.lcore);
        x->set_wire_length(f.wire_len);
        x->set_data(f.bytes.data(), f.bytes.size());
      }
    }
    return Status::OK;
  }

  Status HealthCheck(ServerContext* ctx, const pb::HealthRequest*, pb::HealthStatus* out) override {
    if (Status s = admit(ctx); !s.ok()) return s;
    const auto pub = st_.published();
    const std::uint64_t now = control::wall_ns();
    const double age = pub != nullptr ? static_cast<double>(now - std::min(now, pub->received_ns)) / 1e9 : -1.0;
    out->set_status(pub != nullptr && age < kServingAge ? pb::HealthStatus::SERVING : pb::HealthStatus::NOT_SERVING);
    out->set_version(NETSCOPE_VERSION);
    out->set_uptime_s(static_cast<double>(now - std::min(now, st_.start_ns)) / 1e9);
    out->set_snapshot_age_s(age);
    std::string db = "disabled";
    if (st_.db_enabled.load()) db = st_.db.errors.load() == 0 ? "ok" : "errors";
    out->set_database(db);
    out->set_streams(streams_.load());
    return Status::OK;
  }

 private:
  /// Counts one open stream; refuses beyond max_streams.
  class StreamSlot {
   public:
    explicit StreamSlot(Service& s) : s_(s), ok_(s.streams_.fetch_add(1) < s.cfg_.max_streams) {}
    ~StreamSlot() { s_.streams_.fetch_sub(1); }
    StreamSlot(const StreamSlot&) = delete;
    StreamSlot& operator=(const StreamSlot&) = delete;
    [[nodiscard]] bool ok() const noexcept { return ok_; }

   private:
    Service& s_;
    bool ok_;
  };

  Status too_many_streams() const {
    return {StatusCode::RESOURCE_EXHAUSTED, "more than " + std::to_string(cfg_.max_streams) + " open streams"};
  }

  /// Bearer token and per-client rate limit, for every call.
  Status admit(ServerContext* ctx) {
    if (!cfg_.token.empty()) {
      const auto& md = ctx->client_metadata();
      const auto it = md.find("authorization");
      if (it == md.end()) {
        return {StatusCode::UNAUTHENTICATED, "missing bearer token (metadata 'authorization: Bearer <token>')"};
      }
      const std::string value(it->second.data(), it->second.size());
      if (!value.starts_with("Bearer ") || !same_secret(value.substr(7), cfg_.token)) {
        return {StatusCode::UNAUTHENTICATED, "wrong bearer token"};
      }
    }
    const std::uint64_t wait = limiter_.admit(peer_address(ctx->peer()), std::chrono::steady_clock::now());
    if (wait != 0) {
      return {StatusCode::RESOURCE_EXHAUSTED, "rate limit of " + std::to_string(cfg_.rate_limit) +
                                                  " calls/s exceeded; retry after " + std::to_string(wait) + " s"};
    }
    return Status::OK;
  }

  /// Why a stream must end now, if it must: the client went away or the server stops.
  std::optional<Status> ended(ServerContext* ctx) const {
    if (ctx->IsCancelled()) return Status(StatusCode::CANCELLED, "call cancelled or deadline exceeded");
    if (stopping_.load()) return Status(StatusCode::UNAVAILABLE, "server shutting down");
    return std::nullopt;
  }

  HubState& st_;
  const GrpcConfig& cfg_;
  control::RateLimiter limiter_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint32_t> streams_{0};
};

}  // namespace

struct GrpcServer::Impl {
  HubState& st;
  GrpcConfig cfg;
  Service service;
  std::unique_ptr<grpc::Server> server;
  std::string bound;
  bool stopped = false;

  Impl(HubState& s, GrpcConfig c) : st(s), cfg(std::move(c)), service(st, cfg) {}
};

GrpcServer::GrpcServer(control::HubState& state, GrpcConfig cfg)
    : impl_(std::make_unique<Impl>(state, std::move(cfg))) {}

GrpcServer::~GrpcServer() { stop(); }

void GrpcServer::start() {
  Impl& m = *impl_;
  const GrpcConfig& c = m.cfg;
  const auto colon = c.listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw std::runtime_error("grpc.listen: '" + c.listen + "' must be ADDR:PORT (e.g. 127.0.0.1:50051)");
  }
  if (c.tls_certificate.empty() != c.tls_key.empty()) {
    throw std::runtime_error("grpc: tls_certificate and tls_key go together");
  }
  if (!c.client_ca.empty() && c.tls_certificate.empty()) {
    throw std::runtime_error("grpc.client_ca: mTLS needs tls_certificate and tls_key");
  }
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  if (!c.tls_certificate.empty()) {
    grpc::SslServerCredentialsOptions o(c.client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                                            : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    o.pem_key_cert_pairs.push_back({read_file(c.tls_key, "tls_key"), read_file(c.tls_certificate, "tls_certificate")});
    if (!c.client_ca.empty()) o.pem_root_certs = read_file(c.client_ca, "client_ca");
    creds = grpc::SslServerCredentials(o);
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder b;
  int port = 0;
  b.AddListeningPort(c.listen, creds, &port);
  b.RegisterService(&m.service);
  m.server = b.BuildAndStart();
  if (m.server == nullptr || port == 0) {
    m.server.reset();
    throw std::runtime_error("gRPC: cannot listen on " + c.listen + " (address in use or invalid)");
  }
  m.bound = c.listen.substr(0, colon) + ":" + std::to_string(port);
  if (auto* h = m.server->GetHealthCheckService()) {
    h->SetServingStatus(true);
    h->SetServingStatus("netscope.v1.NetworkTracker", true);
  }
}

void GrpcServer::stop() {
  Impl& m = *impl_;
  if (m.server == nullptr || m.stopped) return;
  m.stopped = true;
  if (auto* h = m.server->GetHealthCheckService()) h->SetServingStatus(false);
  m.service.begin_stop();
  m.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  m.server->Wait();
}

std::string GrpcServer::bound_address() const { return impl_->bound; }

bool GrpcServer::tls() const noexcept { return !impl_->cfg.tls_certificate.empty(); }

}  // namespace netscope::rpc
