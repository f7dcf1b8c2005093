#include "netscope/engine/flow_analysis.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace netscope::engine {

namespace {

constexpr std::size_t kHttpOut = 8;  // HttpMessage records per call
constexpr std::size_t kDnsOut = 4;   // DnsMessage records per call
constexpr std::uint8_t kTlsSniTries = 3;  // client payload segments searched for a ClientHello

// Detection states.
constexpr std::uint8_t kUndetected = 0;
constexpr std::uint8_t kDetected = 1;

std::uint32_t clamp32(std::uint64_t v) noexcept {
  return v > 0xFFFFFFFFull ? 0xFFFFFFFFu : static_cast<std::uint32_t>(v);
}

void bump16(std::uint16_t& v) noexcept {
  if (v != 0xFFFF) ++v;
}

/// Appends `text` to a fixed buffer, cutting at its end.
template <std::size_t N>
void append(std::array<char, N>& buf, std::uint8_t& len, std::string_view text) noexcept {
  const std::size_t room = N - len;
  const std::size_t n = std::min(room, text.size());
  if (n == 0) return;
  std::memcpy(buf.data() + len, text.data(), n);
  len = static_cast<std::uint8_t>(len + n);
}

}  // namespace

std::string_view FlowTcp::history_view() const noexcept {
  std::size_t n = 0;
  while (n < history.size() && history[n] != '\0') ++n;
  return {history.data(), n};
}

/// Everything kept per flow. Trivial: reset() zero-fills it.
struct FlowAnalyzer::State {
  analysis::TcpState tcp;
  FlowTcp out;
  FlowL7 l7;
  union {
    l7::HttpSession http;
    l7::DnsTcpStream dns_tcp[2];  // [0] client -> server
  } parse;
  std::uint64_t dns_query_ts;
  std::array<std::uint32_t, 2> next_seq;  // next stream byte expected, [0] client -> server
  FlowIcmp icmp;
  std::uint16_t dns_id;
  std::uint8_t stream_known;   // bit d: next_seq[d] is valid
  std::uint8_t detected;       // kUndetected / kDetected
  std::uint8_t client_payloads;
  std::uint8_t pad_[3];
};
static_assert(std::is_trivially_copyable_v<FlowAnalyzer::State>);

std::size_t FlowAnalyzer::state_bytes() noexcept { return sizeof(State); }

FlowAnalyzer::FlowAnalyzer(std::uint32_t slots, const FlowAnalysisConfig& cfg)
    : cfg_(cfg),
      // Raw storage, not `new State[slots]`: State's members have initializers, so that
      // wrote every slot at start (2M slots: 900 MB resident whatever the traffic). The
      // worker zero-fills a slot (reset) when it gives it to a flow, so only the pages of
      // slots ever used become resident.
      states_(static_cast<State*>(::operator new[](sizeof(State) * std::max<std::uint32_t>(slots, 1)))),
      http_out_(std::make_unique<l7::HttpMessage[]>(kHttpOut)),
      dns_out_(std::make_unique<l7::DnsMessage[]>(kDnsOut)) {}

FlowAnalyzer::~FlowAnalyzer() = default;

void FlowAnalyzer::StateDeleter::operator()(State* p) const noexcept { ::operator delete[](static_cast<void*>(p)); }

void FlowAnalyzer::reset(std::uint32_t slot) noexcept { std::memset(static_cast<void*>(&states_[slot]), 0, sizeof(State)); }

void FlowAnalyzer::on_icmp_error(std::uint32_t slot, std::uint8_t type, std::uint8_t code) noexcept {
  FlowIcmp& i = states_[slot].icmp;
  bump16(i.errors);
  i.type = type;
  i.code = code;
}

void FlowAnalyzer::fill(std::uint32_t slot, FlowTcp& tcp, FlowL7& l7, FlowIcmp& icmp) const noexcept {
  const State& s = states_[slot];
  tcp = s.out;
  if ((s.out.flags & flow_tcp_flag::kSeen) != 0) {
    tcp.state = static_cast<std::uint8_t>(s.tcp.state());
    const analysis::TcpHistory h = s.tcp.history();
    const std::size_t n = std::min<std::size_t>(h.size, tcp.history.size() - 1);
    std::memcpy(tcp.history.data(), h.text.data(), n);
    tcp.history[n] = '\0';
    const analysis::TcpHandshakeRtt rtt = s.tcp.handshake_rtt();
    if (rtt.server_valid) {
      tcp.flags |= flow_tcp_flag::kServerRtt;
      tcp.handshake_server_ns = clamp32(rtt.server_ns);
    }
    if (rtt.client_valid) {
      tcp.flags |= flow_tcp_flag::kClientRtt;
      tcp.handshake_client_ns = clamp32(rtt.client_ns);
    }
    if (s.tcp.partial()) tcp.flags |= flow_tcp_flag::kPartial;
    if (s.tcp.flipped()) tcp.flags |= flow_tcp_flag::kFlipped;
    if (s.tcp.timestamps()) tcp.flags |= flow_tcp_flag::kTimestamps;
  }
  l7 = s.l7;
  icmp = s.icmp;
}

bool FlowAnalyzer::idle_after(std::uint32_t slot, const decode::DecodedPacket& p) const noexcept {
  if (p.has(decode::kLayerTcp) && cfg_.tcp) return false;  // sequence, RTT and loss need every segment
  if (!cfg_.l7) return true;
  const State& s = states_[slot];
  return s.detected == kDetected && static_cast<l7::AppProtocol>(s.l7.app) != l7::AppProtocol::dns &&
         !p.has(decode::kLayerTcp);
}

bool FlowAnalyzer::on_packet(std::uint32_t slot, decode::Bytes frame, const decode::DecodedPacket& p,
                             bool forward, bool initiator_is_a, std::uint64_t ts_ns,
                             FlowAnalysisCounters& c) noexcept {
  State& s = states_[slot];
  const bool tcp = p.has(decode::kLayerTcp);
  const bool udp = p.has(decode::kLayerUdp);
  bool ended = false;
  bool from_originator = forward == initiator_is_a;
  if (tcp && cfg_.tcp) {
    const std::uint32_t wire_payload = analysis::tcp_payload_length(p);
    const analysis::TcpSegmentResult r = analysis::on_segment(s.tcp, p.tcp, from_originator, wire_payload, ts_ns);
    s.out.flags |= flow_tcp_flag::kSeen;
    FlowTcpDirection& d = s.out.dir[forward ? 0 : 1];
    using analysis::TcpEvent;
    if (r.has(TcpEvent::retransmission)) ++d.retransmissions;
    if (r.has(TcpEvent::fast_retransmission)) ++d.fast_retransmissions;
    if (r.has(TcpEvent::out_of_order)) ++d.out_of_order;
    if (r.has(TcpEvent::duplicate_ack)) ++d.duplicate_acks;
    if (r.has(TcpEvent::zero_window)) ++d.zero_windows;
    if (r.has(TcpEvent::lost_segment)) ++d.lost_segments;
    if (r.has(TcpEvent::rtt_sample)) {
      const std::uint32_t rtt = clamp32(r.rtt_ns);
      if (s.out.rtt_samples == 0 || rtt < s.out.rtt_min_ns) s.out.rtt_min_ns = rtt;
      s.out.rtt_max_ns = std::max(s.out.rtt_max_ns, rtt);
      s.out.rtt_sum_ns += rtt;
      ++s.out.rtt_samples;
    }
    analysis::for_each_event(r.events, [&c](TcpEvent e) { c.tcp_events[static_cast<std::size_t>(e)].add(); });
    ended = r.has(TcpEvent::connection_closed) || r.has(TcpEvent::connection_reset);
    // The analyser knows the real originator (SYN sender) even when the table guessed wrong.
    if (s.tcp.flipped()) from_originator = !from_originator;
  }
  if (!cfg_.l7 || (!tcp && !udp)) return ended;

  const std::size_t off = p.payload_offset;
  const std::size_t cap = off <= frame.size() ? std::min<std::size_t>(p.payload_len, frame.size() - off) : 0;
  const decode::Bytes payload = cap != 0 ? frame.subspan(off, cap) : decode::Bytes{};
  if (s.detected == kUndetected && !payload.empty()) {
    const std::uint16_t sport = tcp ? p.tcp.src_port : p.udp.src_port;
    const std::uint16_t dport = tcp ? p.tcp.dst_port : p.udp.dst_port;
    const l7::AppProtocol app = l7::detect(payload, sport, dport, tcp ? 6 : 17);
    s.detected = kDetected;
    s.l7.app = static_cast<std::uint8_t>(app);
    c.app_flows[static_cast<std::size_t>(app)].add();
  }
  if (tcp) {
    on_tcp_payload(s, p, payload, analysis::tcp_payload_length(p), from_originator, ts_ns, c);
  } else if (!payload.empty() && static_cast<l7::AppProtocol>(s.l7.app) == l7::AppProtocol::dns) {
    l7::DnsMessage& m = dns_out_[0];
    l7::dns_parse(payload, m);
    on_dns(s, m, ts_ns, c);
  }
  return ended;
}

void FlowAnalyzer::on_tcp_payload(State& s, const decode::DecodedPacket& p, decode::Bytes payload,
                                  std::uint32_t wire_len, bool from_client, std::uint64_t ts_ns,
                                  FlowAnalysisCounters& c) noexcept {
  const std::size_t d = from_client ? 0 : 1;
  const std::uint8_t bit = static_cast<std::uint8_t>(1u << d);
  if ((p.tcp.flags & decode::tcpflag::kSyn) != 0) {
    s.next_seq[d] = p.tcp.seq + 1;
    s.stream_known |= bit;
    return;  // data on a SYN (TFO) is not parsed
  }
  if (wire_len == 0) return;
  const auto app = static_cast<l7::AppProtocol>(s.l7.app);
  const bool parsed = app == l7::AppProtocol::http || app == l7::AppProtocol::dns;
  if ((s.stream_known & bit) == 0) {
    // Picked up mid-stream: the parser waits for the start of a message.
    s.next_seq[d] = p.tcp.seq;
    s.stream_known |= bit;
    if (parsed) on_gap(s, from_client, 0, c);
  }
  // Sequence-space position of this segment relative to the next expected byte.
  const auto delta = static_cast<std::int32_t>(p.tcp.seq - s.next_seq[d]);
  std::size_t skip = 0;
  if (delta < 0) {
    const std::int64_t end = static_cast<std::int64_t>(delta) + wire_len;
    if (end <= 0) return;  // all of it was handed over already (retransmission)
    skip = static_cast<std::size_t>(-static_cast<std::int64_t>(delta));
  } else if (delta > 0) {
    if (parsed) on_gap(s, from_client, static_cast<std::uint32_t>(delta), c);
  }
  s.next_seq[d] = p.tcp.seq + wire_len;
  if (skip >= payload.size()) {
    if (parsed && payload.size() < wire_len) on_gap(s, from_client, wire_len - std::max(skip, payload.size()), c);
    return;
  }
  const decode::Bytes fresh = payload.subspan(skip);
  switch (app) {
    case l7::AppProtocol::tls:
      if (from_client && s.l7.name_len == 0 && s.client_payloads < kTlsSniTries) {
        ++s.client_payloads;
        std::size_t len = 0;
        if (l7::tls_sni(fresh, std::span<char>(s.l7.name.data(), s.l7.name.size()), len)) {
          s.l7.name_len = static_cast<std::uint8_t>(len);
        }
      }
      break;
    case l7::AppProtocol::ssh:
      if (s.l7.name_len == 0 && s.client_payloads < kTlsSniTries) {
        ++s.client_payloads;
        l7::SshBanner b;
        if (l7::ssh_banner(fresh, b)) append(s.l7.name, s.l7.name_len, b.software);
      }
      break;
    case l7::AppProtocol::http:
    case l7::AppProtocol::dns:
      on_stream(s, fresh, from_client, ts_ns, c);
      // Bytes on the wire beyond the capture: a hole the parser must know about.
      if (skip + fresh.size() < wire_len) on_gap(s, from_client, wire_len - skip - fresh.size(), c);
      break;
    default:
      break;
  }
}

void FlowAnalyzer::on_gap(State& s, bool from_client, std::uint64_t bytes, FlowAnalysisCounters& c) noexcept {
  c.l7_gaps.add();
  s.l7.flags |= flow_l7_flag::kGap;
  if (static_cast<l7::AppProtocol>(s.l7.app) == l7::AppProtocol::http) {
    l7::http_gap(s.parse.http, from_client ? l7::HttpDirection::request : l7::HttpDirection::response, bytes);
  } else {
    l7::dns_tcp_gap(s.parse.dns_tcp[from_client ? 0 : 1], bytes);
  }
}

void FlowAnalyzer::on_stream(State& s, decode::Bytes bytes, bool from_client, std::uint64_t ts_ns,
                             FlowAnalysisCounters& c) noexcept {
  if (static_cast<l7::AppProtocol>(s.l7.app) == l7::AppProtocol::http) {
    const l7::HttpResult r = l7::http_parse(
        s.parse.http, from_client ? l7::HttpDirection::request : l7::HttpDirection::response, bytes,
        std::span<l7::HttpMessage>(http_out_.get(), kHttpOut));
    for (std::size_t i = 0; i < r.records; ++i) on_http(s, http_out_[i], c);
    if (!r.ok()) {
      c.l7_errors[static_cast<std::size_t>(l7::AppProtocol::http)].add();
      s.l7.flags |= flow_l7_flag::kParseError;
    }
    return;
  }
  const l7::DnsTcpResult r = l7::dns_parse_tcp(s.parse.dns_tcp[from_client ? 0 : 1], bytes,
                                               std::span<l7::DnsMessage>(dns_out_.get(), kDnsOut));
  for (std::size_t i = 0; i < r.records; ++i) on_dns(s, dns_out_[i], ts_ns, c);
}

void FlowAnalyzer::on_http(State& s, const l7::HttpMessage& m, FlowAnalysisCounters& c) noexcept {
  const bool complete = m.has(l7::http_flag::kComplete);
  if (m.has(l7::http_flag::kRequest)) {
    if (complete) {
      bump16(s.l7.http_requests);
      c.http_requests.add();
    }
    if (m.index != 0 || (s.l7.flags & flow_l7_flag::kHttpRequest) != 0) return;
    // The first request head, possibly over several segments: collect its pieces.
    if (m.method != l7::HttpMethod::none) s.l7.http_method = static_cast<std::uint8_t>(m.method);
    append(s.l7.name, s.l7.name_len, m.host_view());
    append(s.l7.uri, s.l7.uri_len, m.uri_view());
    if (complete) s.l7.flags |= flow_l7_flag::kHttpRequest;
    return;
  }
  if (!complete || m.has(l7::http_flag::kInterim)) return;
  bump16(s.l7.http_responses);
  if ((s.l7.flags & flow_l7_flag::kHttpResponse) != 0) return;
  s.l7.flags |= flow_l7_flag::kHttpResponse;
  s.l7.http_status = m.status;
  if (m.has(l7::http_flag::kHasContentLength)) {
    s.l7.flags |= flow_l7_flag::kContentLength;
    s.l7.http_content_length = m.content_length;
  }
}

void FlowAnalyzer::on_dns(State& s, const l7::DnsMessage& m, std::uint64_t ts_ns, FlowAnalysisCounters& c) noexcept {
  c.dns_messages.add();
  if (m.error != l7::DnsError::none && !m.partial) {
    c.l7_errors[static_cast<std::size_t>(l7::AppProtocol::dns)].add();
    s.l7.flags |= flow_l7_flag::kParseError;
  }
  if (!m.has(l7::kDnsHeader)) return;
  const bool first_question = (s.l7.flags & flow_l7_flag::kDnsQuery) == 0 && m.has(l7::kDnsQuestion);
  if (!m.is_response()) {
    bump16(s.l7.dns_queries);
    if (!first_question) return;
    s.l7.flags |= flow_l7_flag::kDnsQuery;
    s.dns_id = m.id;
    s.dns_query_ts = ts_ns;
    s.l7.dns_qtype = m.qtype;
    s.l7.name_len = 0;
    append(s.l7.name, s.l7.name_len, m.qname_view());
    return;
  }
  if ((s.l7.flags & flow_l7_flag::kDnsResponse) != 0) return;
  if (first_question) {
    // Only the response was seen: take the question from it.
    s.l7.flags |= flow_l7_flag::kDnsQuery;
    s.l7.dns_qtype = m.qtype;
    s.l7.name_len = 0;
    append(s.l7.name, s.l7.name_len, m.qname_view());
  } else if (m.id != s.dns_id) {
    return;  // answers another query
  } else if (s.dns_query_ts != 0 && ts_ns >= s.dns_query_ts) {
    s.l7.flags |= flow_l7_flag::kDnsTime;
    s.l7.dns_response_ns = clamp32(ts_ns - s.dns_query_ts);
  }
  s.l7.flags |= flow_l7_flag::kDnsResponse;
  s.l7.dns_rcode = m.rcode();
  s.l7.dns_answers = m.ancount;
}

void FlowAnalysisTotals::add(const FlowAnalysisCounters& c, const analysis::ReassemblyCounters& r) noexcept {
  for (std::size_t i = 0; i < tcp_events.size(); ++i) tcp_events[i] += c.tcp_events[i].value();
  for (std::size_t i = 0; i < app_flows.size(); ++i) {
    app_flows[i] += c.app_flows[i].value();
    l7_errors[i] += c.l7_errors[i].value();
  }
  l7_gaps += c.l7_gaps.value();
  http_requests += c.http_requests.value();
  dns_messages += c.dns_messages.value();
  icmp_errors_linked += c.icmp_errors_linked.value();
  icmp_errors_unlinked += c.icmp_errors_unlinked.value();
  fragments += r.fragments.value();
  fragments_reassembled += r.completed.value();
  fragments_duplicate += r.duplicates.value();
  fragments_dropped += r.fragments_dropped.value();
  for (std::size_t i = 0; i < fragment_drops.size(); ++i) fragment_drops[i] += r.drops[i].value();
}

bool icmp_quoted_flow(decode::Bytes frame, const decode::DecodedPacket& p, flow::FlowKey& key) noexcept {
  bool v6 = false;
  if (p.has(decode::kLayerIcmp)) {
    // Destination unreachable, source quench, redirect, time exceeded, parameter problem.
    const std::uint8_t t = p.icmp.type;
    if (t != 3 && t != 4 && t != 5 && t != 11 && t != 12) return false;
  } else if (p.has(decode::kLayerIcmpv6)) {
    if (p.icmp.type < 1 || p.icmp.type > 4) return false;  // errors are types 1-4
    v6 = true;
  } else {
    return false;
  }
  // The quote follows the 8-byte ICMP header.
  const std::size_t q = static_cast<std::size_t>(p.l4_offset) + 8;
  if (q >= frame.size()) return false;
  const decode::Bytes b = frame.subspan(q);
  key = flow::FlowKey{};
  const std::uint8_t* src = nullptr;
  const std::uint8_t* dst = nullptr;
  std::size_t l4 = 0;
  std::uint8_t proto = 0;
  if (!v6) {
    if (b.size() < 20 || (b[0] >> 4) != 4) return false;
    const std::size_t ihl = static_cast<std::size_t>(b[0] & 0xF) * 4;
    if (ihl < 20) return false;
    proto = b[9];
    src = &b[12];
    dst = &b[16];
    l4 = ihl;
    // A quoted non-first fragment has no ports.
    if (((b[6] & 0x1F) | b[7]) != 0) l4 = 0;
    key.ip_version = 4;
    std::memcpy(key.addr_a.data(), src, 4);
    std::memcpy(key.addr_b.data(), dst, 4);
  } else {
    if (b.size() < 40 || (b[0] >> 4) != 6) return false;
    proto = b[6];  // extension headers in the quote are not walked: no ports then
    src = &b[8];
    dst = &b[24];
    l4 = 40;
    key.ip_version = 6;
    std::memcpy(key.addr_a.data(), src, 16);
    std::memcpy(key.addr_b.data(), dst, 16);
  }
  key.protocol = proto;
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  if ((proto == decode::ipproto::kTcp || proto == decode::ipproto::kUdp) && l4 != 0) {
    if (b.size() < l4 + 4) return false;
    sport = static_cast<std::uint16_t>((b[l4] << 8) | b[l4 + 1]);
    dport = static_cast<std::uint16_t>((b[l4 + 2] << 8) | b[l4 + 3]);
  }
  if (p.vlan_count > 0) key.vlan = p.vlans[0].vid;
  // Canonical order, as flow_key_of() builds it.
  const int cmp = std::memcmp(key.addr_a.data(), key.addr_b.data(), 16);
  if (cmp < 0 || (cmp == 0 && sport <= dport)) {
    key.port_a = sport;
    key.port_b = dport;
  } else {
    std::swap(key.addr_a, key.addr_b);
    key.port_a = dport;
    key.port_b = sport;
  }
  return true;
}

}  // namespace netscope::engine
