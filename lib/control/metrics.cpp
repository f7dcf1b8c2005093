#include "netscope/control/metrics.hpp"

#include "netscope/control/exposition.hpp"
#include "netscope_version.h"

namespace netscope::control {

namespace {

constexpr seq::SaProtocol kSaProtocols[] = {seq::SaProtocol::macsec, seq::SaProtocol::esp,
                                             seq::SaProtocol::ah};

std::string proto_name(seq::SaProtocol p) { return std::string(seq::to_string(p)); }

/// Per-flow analysis (docs/traffic-analysis.md): TCP events, L7, ICMP links, reassembly.
void flow_analysis_metrics(Exposition& x, const engine::FlowAnalysisTotals& a) {
  const auto C = MetricType::counter;
  x.family("netscope_tcp_events_total", "TCP segment events found by the per-flow analysis, by event.", C);
  for (std::size_t i = 0; i < a.tcp_events.size(); ++i) {
    x.sample("netscope_tcp_events_total", {{"event", std::string(analysis::to_string(static_cast<analysis::TcpEvent>(i)))}},
             a.tcp_events[i]);
  }
  x.family("netscope_app_flows_total", "Flows classified by application protocol (first payload).", C);
  x.family("netscope_l7_parse_errors_total", "Malformed application messages, by protocol.", C);
  for (std::size_t i = 0; i < a.app_flows.size(); ++i) {
    const std::string p(l7::to_string(static_cast<l7::AppProtocol>(i)));
    x.sample("netscope_app_flows_total", {{"protocol", p}}, a.app_flows[i]);
    if (i == static_cast<std::size_t>(l7::AppProtocol::http) || i == static_cast<std::size_t>(l7::AppProtocol::dns)) {
      x.sample("netscope_l7_parse_errors_total", {{"protocol", p}}, a.l7_errors[i]);
    }
  }
  x.family("netscope_l7_stream_gaps_total", "Holes met in TCP streams handed to an L7 parser.", C);
  x.sample("netscope_l7_stream_gaps_total", {}, a.l7_gaps);
  x.family("netscope_http_requests_total", "HTTP request heads parsed.", C);
  x.sample("netscope_http_requests_total", {}, a.http_requests);
  x.family("netscope_dns_messages_total", "DNS messages parsed (UDP and TCP).", C);
  x.sample("netscope_dns_messages_total", {}, a.dns_messages);
  x.family("netscope_icmp_errors_total", "ICMP errors, by whether the flow they quote was found.", C);
  x.sample("netscope_icmp_errors_total", {{"linked", "true"}}, a.icmp_errors_linked);
  x.sample("netscope_icmp_errors_total", {{"linked", "false"}}, a.icmp_errors_unlinked);
  x.family("netscope_ip_fragments_total", "IP fragments offered to reassembly.", C);
  x.sample("netscope_ip_fragments_total", {}, a.fragments);
  x.family("netscope_ip_datagrams_reassembled_total", "IP datagrams reassembled from fragments.", C);
  x.sample("netscope_ip_datagrams_reassembled_total", {}, a.fragments_reassembled);
  x.family("netscope_ip_fragments_duplicate_total", "Exact duplicate fragments ignored.", C);
  x.sample("netscope_ip_fragments_duplicate_total", {}, a.fragments_duplicate);
  x.family("netscope_ip_fragments_dropped_total", "Fragments discarded (all reasons).", C);
  x.sample("netscope_ip_fragments_dropped_total", {}, a.fragments_dropped);
  x.family("netscope_ip_fragment_drops_total", "Reassembly drop events, by reason.", C);
  for (std::size_t i = 0; i < a.fragment_drops.size(); ++i) {
    x.sample("netscope_ip_fragment_drops_total",
             {{"reason", std::string(analysis::to_string(static_cast<analysis::FragmentDrop>(i)))}}, a.fragment_drops[i]);
  }
}

/// Cross-port correlation (docs/metrics.md): per pair, packets by result and latency.
void correlation_metrics(Exposition& x, const engine::CorrelationView& v) {
  x.family("netscope_correlation_packets_total",
           "Packets of a correlated port pair, by result: matched (seen on both ports), lost_a_to_b (only on a), "
           "lost_b_to_a (only on b), duplicate, untracked (table full or non-IP).", MetricType::counter);
  x.family("netscope_correlation_untracked_total", "Packets of a pair not correlated, by reason.", MetricType::counter);
  x.family("netscope_correlation_pending", "Packets waiting for their copy on the other port.", MetricType::gauge);
  x.family("netscope_correlation_latency_seconds",
           "One-way latency from port a to port b of matched packets (packet timestamps).", MetricType::summary);
  x.family("netscope_correlation_latency_min_seconds", "Lowest one-way latency of a pair.", MetricType::gauge);
  x.family("netscope_correlation_latency_max_seconds", "Highest one-way latency of a pair.", MetricType::gauge);
  for (const engine::CorrelationPairView& p : v.pairs) {
    const std::string pair = p.name_a + "-" + p.name_b;
    const engine::CorrelationTotals& t = p.totals;
    const std::pair<const char*, std::uint64_t> results[] = {
        {"matched", t.matched}, {"lost_a_to_b", t.lost_a_to_b}, {"lost_b_to_a", t.lost_b_to_a},
        {"duplicate", t.duplicates}, {"untracked", t.untracked_full + t.untracked_non_ip}};
    for (const auto& [r, n] : results) {
      x.sample("netscope_correlation_packets_total", {{"pair", pair}, {"a", p.name_a}, {"b", p.name_b}, {"result", r}}, n);
    }
    x.sample("netscope_correlation_untracked_total", {{"pair", pair}, {"reason", "table_full"}}, t.untracked_full);
    x.sample("netscope_correlation_untracked_total", {{"pair", pair}, {"reason", "non_ip"}}, t.untracked_non_ip);
    x.sample("netscope_correlation_pending", {{"pair", pair}}, t.pending);
    const engine::LatencySummary& l = t.latency;
    std::vector<std::pair<double, double>> q;
    if (l.count != 0) {
      for (const double p_ : {0.5, 0.9, 0.99}) q.emplace_back(p_, static_cast<double>(l.quantile(p_)) / 1e9);
      x.sample("netscope_correlation_latency_min_seconds", {{"pair", pair}}, static_cast<double>(l.min) / 1e9);
      x.sample("netscope_correlation_latency_max_seconds", {{"pair", pair}}, static_cast<double>(l.max) / 1e9);
    }
    x.summary("netscope_correlation_latency_seconds", {{"pair", pair}}, q, static_cast<double>(l.sum) / 1e9, l.count);
  }
}

void snapshot_metrics(Exposition& x, const Published& pub) {
  const Snapshot& s = *pub.snap;
  const auto C = MetricType::counter;
  const auto G = MetricType::gauge;

  x.family("netscope_uptime_seconds", "Seconds since the analyzer started.", G);
  x.sample("netscope_uptime_seconds", {}, s.uptime_s);
  x.family("netscope_snapshot_timestamp_seconds", "Wall-clock time of the latest published snapshot.", G);
  x.sample("netscope_snapshot_timestamp_seconds", {}, static_cast<double>(s.time_ns) / 1e9);
  x.family("netscope_capture_paused", "1 while analysis is paused through the API.", G);
  x.sample("netscope_capture_paused", {}, std::uint64_t{s.paused ? 1u : 0u});

  // Ports.
  x.family("netscope_port_link_up", "1 when the port's link is up.", G);
  x.family("netscope_port_rx_packets_total", "Packets received by the port (PMD ipackets).", C);
  x.family("netscope_port_rx_bytes_total", "Bytes received by the port (PMD ibytes).", C);
  x.family("netscope_port_rx_missed_packets_total", "Packets the NIC dropped for lack of RX descriptors (imissed).", C);
  x.family("netscope_port_rx_nombuf_total", "RX mbuf allocation failures (rx_nombuf).", C);
  x.family("netscope_port_rx_errors_total", "Erroneous received packets (ierrors).", C);
  x.family("netscope_port_analyzed_packets_total", "Packets of the port that workers analyzed.", C);
  x.family("netscope_port_analyzed_bytes_total", "Bytes of the port that workers analyzed.", C);
  x.family("netscope_port_filter_packets_total",
           "Received packets by the port's tcpdump filter result (passed is all of them without a filter).", C);
  bool any_xdp = false;
  for (const PortStats& p : s.ports) any_xdp |= p.xdp_prefilter;
  if (any_xdp) {
    x.family("netscope_port_xdp_packets_total",
             "Frames seen by NetScope's XDP pre-filter on the port's interface, by action: redirected to "
             "NetScope, passed to the kernel (not wanted), no_socket (wanted, no socket on the queue).",
             C);
  }
  for (const PortStats& p : s.ports) {
    const std::vector<Label> l{{"port", std::to_string(p.id)}};
    x.sample("netscope_port_link_up", l, std::uint64_t{p.link_up ? 1u : 0u});
    x.sample("netscope_port_rx_packets_total", l, p.rx_packets);
    x.sample("netscope_port_rx_bytes_total", l, p.rx_bytes);
    x.sample("netscope_port_rx_missed_packets_total", l, p.rx_missed);
    x.sample("netscope_port_rx_nombuf_total", l, p.rx_nombuf);
    x.sample("netscope_port_rx_errors_total", l, p.rx_errors);
    x.sample("netscope_port_analyzed_packets_total", l, p.analyzed_packets);
    x.sample("netscope_port_analyzed_bytes_total", l, p.analyzed_bytes);
    x.sample("netscope_port_filter_packets_total", {{"port", std::to_string(p.id)}, {"result", "passed"}},
             p.filter_passed);
    x.sample("netscope_port_filter_packets_total", {{"port", std::to_string(p.id)}, {"result", "rejected"}},
             p.filter_rejected);
    if (p.xdp_prefilter) {
      const std::string id = std::to_string(p.id);
      x.sample("netscope_port_xdp_packets_total", {{"port", id}, {"action", "redirected"}}, p.xdp_redirected);
      x.sample("netscope_port_xdp_packets_total", {{"port", id}, {"action", "passed"}}, p.xdp_passed);
      x.sample("netscope_port_xdp_packets_total", {{"port", id}, {"action", "no_socket"}}, p.xdp_no_socket);
    }
  }

  // Lcores.
  x.family("netscope_lcore_packets_total", "Packets handled by the lcore.", C);
  x.family("netscope_lcore_ring_entries", "Current fill of the lcore's input ring(s) (pipeline mode).", G);
  x.family("netscope_lcore_ring_capacity_entries", "Size of the lcore's input ring(s) (pipeline mode).", G);
  if (s.tsc_hz != 0) {
    x.family("netscope_lcore_busy_seconds_total", "Time in bursts that returned packets (TSC cycles / TSC Hz).", C);
    x.family("netscope_lcore_idle_seconds_total", "Time polling empty queues (TSC cycles / TSC Hz).", C);
  }
  for (const LcoreStats& l : s.lcores) {
    const std::vector<Label> lab{{"lcore", std::to_string(l.lcore)}, {"role", l.role}};
    x.sample("netscope_lcore_packets_total", lab, l.packets);
    x.sample("netscope_lcore_ring_entries", lab, l.ring_fill);
    x.sample("netscope_lcore_ring_capacity_entries", lab, l.ring_size);
    if (s.tsc_hz != 0) {
      const double hz = static_cast<double>(s.tsc_hz);
      x.sample("netscope_lcore_busy_seconds_total", lab, static_cast<double>(l.busy_cycles) / hz);
      x.sample("netscope_lcore_idle_seconds_total", lab, static_cast<double>(l.idle_cycles) / hz);
    }
  }

  // Traffic classes.
  x.family("netscope_packets_total", "Packets analyzed, by traffic class (each packet in exactly one).", C);
  x.family("netscope_bytes_total", "Bytes analyzed (as on the wire, no FCS), by traffic class.", C);
  for (std::size_t i = 0; i < engine::kTrafficClassCount; ++i) {
    const std::vector<Label> l{{"proto", std::string(engine::to_string(static_cast<engine::TrafficClass>(i)))}};
    x.sample("netscope_packets_total", l, s.class_packets[i]);
    x.sample("netscope_bytes_total", l, s.class_bytes[i]);
  }
  x.family("netscope_malformed_packets_total", "Frames that could not be fully decoded, by reason.", C);
  for (std::size_t i = 1; i < decode::kMalformedCount; ++i) {
    x.sample("netscope_malformed_packets_total",
             {{"reason", std::string(decode::to_string(static_cast<decode::Malformed>(i)))}}, s.malformed[i]);
  }
  x.family("netscope_anomalies_total", "Sequence anomalies detected, by type.", C);
  for (std::size_t i = 0; i < seq::kEventTypeCount; ++i) {
    x.sample("netscope_anomalies_total", {{"type", std::string(seq::to_string(static_cast<seq::EventType>(i)))}},
             s.events[i]);
  }
  x.family("netscope_events_dropped_total", "Anomaly events a worker could not hand to the control lcore.", C);
  x.sample("netscope_events_dropped_total", {}, s.events_dropped);
  if (s.traffic) {
    x.family("netscope_alerts_total", "Traffic detection alerts raised (SYN flood, scans, DDoS, MAC/IP change), by type.", C);
    for (std::size_t i = 0; i < analysis::kAlertTypeCount; ++i) {
      x.sample("netscope_alerts_total", {{"type", std::string(analysis::to_string(static_cast<analysis::AlertType>(i)))}},
               s.traffic->alerts[i]);
    }
    x.family("netscope_topology_hosts", "Hosts known to the topology.", G);
    x.sample("netscope_topology_hosts", {}, static_cast<std::uint64_t>(s.traffic->hosts.size()));
    x.family("netscope_topology_edges", "Host pairs (edges) known to the topology.", G);
    x.sample("netscope_topology_edges", {}, static_cast<std::uint64_t>(s.traffic->edges.size()));
  }
  if (s.correlation) correlation_metrics(x, *s.correlation);

  // SA totals by protocol, summed over every SA known.
  struct Totals {
    std::uint64_t sas = 0, bytes = 0;
    seq::SequenceCounters c;
  };
  std::array<Totals, 4> t{};
  for (const engine::SaSummary& sa : s.sas) {
    const auto i = static_cast<std::size_t>(sa.key.protocol) & 3u;
    Totals& a = t[i];
    ++a.sas;
    a.bytes += sa.bytes;
    a.c.packets += sa.counters.packets;
    a.c.lost += sa.counters.lost;
    a.c.gaps += sa.counters.gaps;
    a.c.duplicates += sa.counters.duplicates;
    a.c.reordered += sa.counters.reordered;
    a.c.out_of_window += sa.counters.out_of_window;
    a.c.rollovers += sa.counters.rollovers;
    a.c.resets += sa.counters.resets;
    a.c.rekeys += sa.counters.rekeys;
    a.c.stuck += sa.counters.stuck;
  }
  using Get = std::uint64_t (*)(const Totals&);
  struct SaMetric {
    const char* name;
    const char* help;
    MetricType type;
    Get get;
  };
  const SaMetric sa_metrics[] = {
      {"netscope_sa_active", "Security associations known, by protocol.", G, [](const Totals& a) { return a.sas; }},
      {"netscope_sa_packets_total", "Packets of tracked SAs.", C, [](const Totals& a) { return a.c.packets; }},
      {"netscope_sa_bytes_total", "Bytes of tracked SAs.", C, [](const Totals& a) { return a.bytes; }},
      {"netscope_sa_lost_packets", "Sequence numbers missing (closed holes plus holes open now; may go down when late packets fill a hole).", G,
       [](const Totals& a) { return a.c.lost; }},
      {"netscope_sa_gaps_total", "Gap events.", C, [](const Totals& a) { return a.c.gaps; }},
      {"netscope_sa_duplicates_total", "Duplicate sequence numbers.", C, [](const Totals& a) { return a.c.duplicates; }},
      {"netscope_sa_reordered_total", "Late packets inside the window.", C, [](const Totals& a) { return a.c.reordered; }},
      {"netscope_sa_out_of_window_total", "Late packets below the window.", C, [](const Totals& a) { return a.c.out_of_window; }},
      {"netscope_sa_rollovers_total", "Sequence number rollovers (ESN/XPN).", C, [](const Totals& a) { return a.c.rollovers; }},
      {"netscope_sa_resets_total", "Sequence resets (large backward jumps).", C, [](const Totals& a) { return a.c.resets; }},
      {"netscope_sa_rekeys_total", "MACsec association number changes.", C, [](const Totals& a) { return a.c.rekeys; }},
      {"netscope_sa_stuck_total", "Runs of packets repeating one sequence number.", C, [](const Totals& a) { return a.c.stuck; }},
  };
  for (const SaMetric& m : sa_metrics) {
    x.family(m.name, m.help, m.type);
    for (seq::SaProtocol p : kSaProtocols) {
      x.sample(m.name, {{"proto", proto_name(p)}}, m.get(t[static_cast<std::size_t>(p)]));
    }
  }
  x.family("netscope_sa_table_full_packets_total", "Packets of new SAs that found the SA table full.", C);
  x.sample("netscope_sa_table_full_packets_total", {}, s.sa_table_full);

  // Flows, rings, placement.
  x.family("netscope_flows_active", "Flows in the worker tables.", G);
  x.sample("netscope_flows_active", {}, s.flows_active);
  x.family("netscope_flows_created_total", "Flows created.", C);
  x.sample("netscope_flows_created_total", {}, s.flows_created);
  x.family("netscope_flows_expired_total", "Flows expired by idle timeout.", C);
  x.sample("netscope_flows_expired_total", {}, s.flows_expired);
  x.family("netscope_flows_evicted_total", "Flows evicted (least recently used) from a full table.", C);
  x.sample("netscope_flows_evicted_total", {}, s.flows_evicted);
  x.family("netscope_flow_records_dropped_total", "Flow records a worker could not hand to the control lcore.", C);
  x.sample("netscope_flow_records_dropped_total", {}, s.flow_records_dropped);
  x.family("netscope_ring_dropped_packets_total", "Packets dropped on a full RX-to-worker ring (pipeline, live).", C);
  x.sample("netscope_ring_dropped_packets_total", {}, s.ring_drops);
  x.family("netscope_ring_waits_total", "Back-pressure waits on a full RX-to-worker ring (pipeline, replay).", C);
  x.sample("netscope_ring_waits_total", {}, s.ring_waits);
  x.family("netscope_wrong_lcore_packets_total", "Packets analyzed on a worker that does not own their SA or flow.", C);
  x.sample("netscope_wrong_lcore_packets_total", {}, s.wrong_lcore);
  x.family("netscope_packet_tap_packets_total", "Packet summaries the workers handed to the packet tap (sampled; api.packet_tap_pps).", C);
  x.sample("netscope_packet_tap_packets_total", {}, s.tap_packets);
  x.family("netscope_packet_tap_dropped_total", "Packet summaries lost on a full worker-to-control tap ring.", C);
  x.sample("netscope_packet_tap_dropped_total", {}, s.tap_dropped);
  x.family("netscope_api_sa_resets_total", "SAs reset through the API (flows/{id}/reset).", C);
  x.sample("netscope_api_sa_resets_total", {}, s.sa_resets);
  x.family("netscope_rules_excluded_packets_total",
           "Packets the include/exclude rules on decoded fields kept out of the analysis.", C);
  x.sample("netscope_rules_excluded_packets_total", {}, s.rules_excluded);
  if (s.recording.enabled) {
    const RecordingStats& r = s.recording;
    x.family("netscope_recording_frames_total", "Frames written to pcapng files, by why they were recorded.", C);
    for (std::size_t i = 0; i < r.by_reason.size(); ++i) {
      const auto reason = static_cast<engine::CaptureReason>(i);
      if (reason == engine::CaptureReason::inspect) continue;  // never written to files
      x.sample("netscope_recording_frames_total", {{"reason", std::string(engine::to_string(reason))}}, r.by_reason[i]);
    }
    x.family("netscope_recording_dropped_total", "Frames to record that were lost: queue full or a write error.", C);
    x.sample("netscope_recording_dropped_total", {}, r.dropped);
    x.family("netscope_recording_bytes_total", "Bytes written to pcapng files (block headers included).", C);
    x.sample("netscope_recording_bytes_total", {}, r.bytes);
    x.family("netscope_recording_files", "pcapng files on disk now (after rotation and the total cap).", G);
    x.sample("netscope_recording_files", {}, r.files);
    x.family("netscope_recording_files_deleted_total", "pcapng files deleted to keep recording.max_total.", C);
    x.sample("netscope_recording_files_deleted_total", {}, r.files_deleted);
  }
  flow_analysis_metrics(x, s.analysis);
  x.family("netscope_mempool_in_use_mbufs", "Mbufs of the packet pool in use.", G);
  x.sample("netscope_mempool_in_use_mbufs", {}, s.mempool_in_use);
  x.family("netscope_mempool_size_mbufs", "Mbufs in the packet pool.", G);
  x.sample("netscope_mempool_size_mbufs", {}, s.mempool_size);

  // Generator.
  x.family("netscope_generator_tx_packets_total", "Packets sent by generator TX lcores.", C);
  x.sample("netscope_generator_tx_packets_total", {}, s.tx_packets);
  x.family("netscope_generator_tx_bytes_total", "Bytes sent by generator TX lcores.", C);
  x.sample("netscope_generator_tx_bytes_total", {}, s.tx_bytes);
  x.family("netscope_generator_tx_rate_packets_per_second", "Packet rate the generator achieved recently.", G);
  x.sample("netscope_generator_tx_rate_packets_per_second", {}, s.tx_rate_pps);
}

void hub_metrics(Exposition& x, const HubState& st) {
  const auto C = MetricType::counter;
  const auto G = MetricType::gauge;
  const HubCounters& h = st.counters;
  const auto ld = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };

  x.family("netscope_hub_snapshots_total", "Snapshots the control lcore published to the hub.", C);
  x.sample("netscope_hub_snapshots_total", {}, ld(h.snapshots));
  x.family("netscope_hub_records_total", "Anomalies and finished flows the hub received, by type.", C);
  x.sample("netscope_hub_records_total", {{"type", "anomaly"}}, ld(h.events_received));
  x.sample("netscope_hub_records_total", {{"type", "flow"}}, ld(h.flows_received));
  x.family("netscope_hub_dropped_records_total",
           "Records the hub dropped: ingest buffer full (anomaly, flow), database queue full (database), command queue full (command).", C);
  x.sample("netscope_hub_dropped_records_total", {{"reason", "anomaly"}}, ld(h.ingest_dropped_events));
  x.sample("netscope_hub_dropped_records_total", {{"reason", "flow"}}, ld(h.ingest_dropped_flows));
  x.sample("netscope_hub_dropped_records_total", {{"reason", "database"}}, ld(st.db.rows_dropped));
  x.sample("netscope_hub_dropped_records_total", {{"reason", "command"}}, ld(h.commands_dropped));
  x.sample("netscope_hub_dropped_records_total", {{"reason", "packet"}}, ld(h.ingest_dropped_packets));

  x.family("netscope_api_requests_total", "HTTP requests received by the API server.", C);
  x.sample("netscope_api_requests_total", {}, ld(h.http_requests));
  x.family("netscope_api_rejected_requests_total", "HTTP requests answered with an error, by reason.", C);
  for (std::size_t i = 0; i < kRejectionCount; ++i) {
    x.sample("netscope_api_rejected_requests_total", {{"reason", std::string(to_string(static_cast<Rejection>(i)))}},
             ld(h.rejected[i]));
  }
  x.family("netscope_ws_clients", "WebSocket clients connected, by stream.", G);
  x.family("netscope_ws_messages_total", "WebSocket messages sent, by stream.", C);
  x.family("netscope_ws_slow_clients_closed_total", "WebSocket clients closed (1008) because their send queue overflowed.", C);
  for (std::size_t i = 0; i < kStreamCount; ++i) {
    const std::vector<Label> l{{"type", std::string(to_string(static_cast<Stream>(i)))}};
    x.sample("netscope_ws_clients", l, ld(h.ws_clients[i]));
    x.sample("netscope_ws_messages_total", l, ld(h.ws_messages[i]));
    x.sample("netscope_ws_slow_clients_closed_total", l, ld(h.ws_slow_closed[i]));
  }
  x.family("netscope_ws_rejected_connections_total", "WebSocket connections refused (too many clients).", C);
  x.sample("netscope_ws_rejected_connections_total", {}, ld(h.ws_rejected));

  if (st.db_enabled.load(std::memory_order_relaxed)) {
    x.family("netscope_db_rows_written_total", "Rows written to the SQLite database.", C);
    x.sample("netscope_db_rows_written_total", {}, ld(st.db.rows_written));
    x.family("netscope_db_batches_total", "Database transactions committed.", C);
    x.sample("netscope_db_batches_total", {}, ld(st.db.batches));
    x.family("netscope_db_errors_total", "Database statements that failed.", C);
    x.sample("netscope_db_errors_total", {}, ld(st.db.errors));
    x.family("netscope_db_queue_rows", "Rows waiting for the database writer.", G);
    x.sample("netscope_db_queue_rows", {}, ld(st.db.queued));
  }
}

}  // namespace

std::string render_metrics(const HubState& st) {
  Exposition x;
  x.family("netscope_build_info", "NetScope build; the value is always 1.", MetricType::gauge);
  const auto pub = st.published();
  x.sample("netscope_build_info", {{"version", NETSCOPE_VERSION}}, std::uint64_t{1});
  if (pub != nullptr) snapshot_metrics(x, *pub);
  hub_metrics(x, st);
  return x.text();
}

}  // namespace netscope::control
