// Per-flow analysis on the worker's path: TCP state/RTT/retransmissions (analysis::TcpState)
// and L7 (HTTP/1.1, DNS over UDP and TCP, TLS SNI, SSH banner, first-payload detection),
// kept in an array parallel to the flow table (one FlowState per table slot). No DPDK.
//
// FlowAnalyzer is owned by one Worker: single writer, noexcept, no allocation after the
// constructor, constant work per packet apart from parsing the packet's own payload.
// Definitions of every field: docs/traffic-analysis.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "netscope/analysis/reassembly.hpp"
#include "netscope/analysis/tcp.hpp"
#include "netscope/decode/packet.hpp"
#include "netscope/flow/flow_table.hpp"
#include "netscope/l7/detect.hpp"
#include "netscope/l7/dns.hpp"
#include "netscope/l7/http.hpp"
#include "netscope/util/counter.hpp"

namespace netscope::engine {

/// TCP counts of one direction of a flow (Wireshark-like segment flags, see tcp.hpp).
struct FlowTcpDirection {
  std::uint32_t retransmissions = 0;       ///< all kinds (tcp.analysis.retransmission)
  std::uint32_t fast_retransmissions = 0;  ///< tcp.analysis.fast_retransmission
  std::uint32_t out_of_order = 0;          ///< tcp.analysis.out_of_order
  std::uint32_t duplicate_acks = 0;        ///< tcp.analysis.duplicate_ack
  std::uint32_t zero_windows = 0;          ///< tcp.analysis.zero_window
  std::uint32_t lost_segments = 0;         ///< tcp.analysis.lost_segment (gaps at the tap)
};

/// Bits of FlowTcp::flags.
namespace flow_tcp_flag {
inline constexpr std::uint8_t kSeen = 1u << 0;        ///< at least one TCP segment analysed
inline constexpr std::uint8_t kPartial = 1u << 1;     ///< picked up without its handshake
inline constexpr std::uint8_t kFlipped = 1u << 2;     ///< first segment was the SYN-ACK
inline constexpr std::uint8_t kTimestamps = 1u << 3;  ///< both sides sent TCP timestamps
inline constexpr std::uint8_t kServerRtt = 1u << 4;   ///< handshake_server_ns is valid
inline constexpr std::uint8_t kClientRtt = 1u << 5;   ///< handshake_client_ns is valid
}  // namespace flow_tcp_flag

/// TCP measures of a flow record: 96 bytes, fixed size.
struct FlowTcp {
  std::array<FlowTcpDirection, 2> dir{};  ///< [0] a -> b, [1] b -> a (FlowKey order)
  std::uint64_t rtt_sum_ns = 0;           ///< data RTT samples, summed
  std::uint32_t rtt_samples = 0;
  std::uint32_t rtt_min_ns = 0;
  std::uint32_t rtt_max_ns = 0;
  std::uint32_t handshake_server_ns = 0;  ///< SYN -> SYN-ACK at the tap (kServerRtt)
  std::uint32_t handshake_client_ns = 0;  ///< SYN-ACK -> ACK at the tap (kClientRtt)
  std::array<char, 18> history{};         ///< Zeek-like history, NUL-terminated
  std::uint8_t state = 0;                 ///< analysis::TcpConnState
  std::uint8_t flags = 0;                 ///< flow_tcp_flag bits
  [[nodiscard]] std::string_view history_view() const noexcept;
};
static_assert(sizeof(FlowTcp) == 96);

/// Bits of FlowL7::flags.
namespace flow_l7_flag {
inline constexpr std::uint8_t kHttpRequest = 1u << 0;   ///< the first request head was read
inline constexpr std::uint8_t kHttpResponse = 1u << 1;  ///< the first final response head was read
inline constexpr std::uint8_t kContentLength = 1u << 2; ///< http_content_length is valid
inline constexpr std::uint8_t kDnsQuery = 1u << 3;      ///< a query was read (name, type)
inline constexpr std::uint8_t kDnsResponse = 1u << 4;   ///< its response was read (rcode, answers)
inline constexpr std::uint8_t kDnsTime = 1u << 5;       ///< dns_response_ns is valid
inline constexpr std::uint8_t kParseError = 1u << 6;    ///< the L7 parser met malformed input
inline constexpr std::uint8_t kGap = 1u << 7;           ///< bytes missing in a parsed TCP stream
}  // namespace flow_l7_flag

inline constexpr std::size_t kFlowNameLen = 64;  ///< bytes of HTTP Host / TLS SNI / DNS name kept
inline constexpr std::size_t kFlowUriLen = 64;   ///< bytes of the first HTTP request-target kept

/// Application-layer fields of a flow record: 160 bytes, fixed size. `name` is the HTTP
/// Host of the first request, the TLS SNI, the DNS query name or the SSH software version,
/// cut at kFlowNameLen bytes.
struct FlowL7 {
  std::uint64_t http_content_length = 0;  ///< Content-Length of the first final response
  std::uint32_t dns_response_ns = 0;      ///< first query -> its response (kDnsTime)
  std::uint16_t http_requests = 0;        ///< request heads (pipelined ones included)
  std::uint16_t http_responses = 0;       ///< final response heads
  std::uint16_t http_status = 0;          ///< status of the first final response
  std::uint16_t dns_qtype = 0;            ///< first query's type
  std::uint16_t dns_answers = 0;          ///< ANCOUNT of its response
  std::uint16_t dns_queries = 0;          ///< queries seen
  std::uint8_t app = 0;                   ///< l7::AppProtocol
  std::uint8_t http_method = 0;           ///< l7::HttpMethod of the first request
  std::uint8_t dns_rcode = 0;
  std::uint8_t flags = 0;                 ///< flow_l7_flag bits
  std::uint8_t name_len = 0;
  std::uint8_t uri_len = 0;
  std::uint8_t pad_[2] = {};
  std::array<char, kFlowNameLen> name{};
  std::array<char, kFlowUriLen> uri{};
  [[nodiscard]] std::string_view name_view() const noexcept { return {name.data(), name_len}; }
  [[nodiscard]] std::string_view uri_view() const noexcept { return {uri.data(), uri_len}; }
};
static_assert(sizeof(FlowL7) == 160);

/// ICMP errors (destination unreachable, time exceeded, ...) that quoted a packet of a flow.
struct FlowIcmp {
  std::uint16_t errors = 0;  ///< ICMP/ICMPv6 errors linked to this flow
  std::uint8_t type = 0;     ///< type and code of the last one
  std::uint8_t code = 0;
};

/// Counters of the per-flow analysis, part of WorkerCounters. One writer.
struct FlowAnalysisCounters {
  std::array<util::Counter, analysis::kTcpEventCount> tcp_events;  ///< by analysis::TcpEvent
  std::array<util::Counter, l7::kAppProtocolCount> app_flows;      ///< flows classified, by protocol
  std::array<util::Counter, l7::kAppProtocolCount> l7_errors;      ///< parse errors, by protocol
  util::Counter l7_gaps;             ///< holes met in TCP streams handed to an L7 parser
  util::Counter http_requests;
  util::Counter dns_messages;
  util::Counter icmp_errors_linked;    ///< ICMP errors whose quoted packet's flow was found
  util::Counter icmp_errors_unlinked;  ///< quoted flow not in the table, or quote too short
};

/// Plain sums of FlowAnalysisCounters and ReassemblyCounters over workers (control side).
struct FlowAnalysisTotals {
  std::array<std::uint64_t, analysis::kTcpEventCount> tcp_events{};
  std::array<std::uint64_t, l7::kAppProtocolCount> app_flows{};
  std::array<std::uint64_t, l7::kAppProtocolCount> l7_errors{};
  std::uint64_t l7_gaps = 0;
  std::uint64_t http_requests = 0;
  std::uint64_t dns_messages = 0;
  std::uint64_t icmp_errors_linked = 0;
  std::uint64_t icmp_errors_unlinked = 0;
  std::uint64_t fragments = 0;            ///< fragments offered to reassembly
  std::uint64_t fragments_reassembled = 0;  ///< datagrams completed
  std::uint64_t fragments_duplicate = 0;
  std::uint64_t fragments_dropped = 0;    ///< fragments discarded, all reasons
  std::array<std::uint64_t, analysis::kFragmentDropCount> fragment_drops{};  ///< drop events by reason
  /// Adds one worker's counters (any thread may read them).
  void add(const FlowAnalysisCounters& c, const analysis::ReassemblyCounters& r) noexcept;
};

/// Per-flow analysis switches (all on by default).
struct FlowAnalysisConfig {
  bool tcp = true;
  bool l7 = true;
  bool reassembly = true;
  analysis::ReassemblyConfig reassembly_config;
};

/// Builds the flow key of the packet an ICMP or ICMPv6 error quotes (its IP header and the
/// first 8 bytes of L4), in canonical order. False when `p` is no ICMP error or the quote
/// is too short. Does not allocate.
bool icmp_quoted_flow(decode::Bytes frame, const decode::DecodedPacket& p, flow::FlowKey& key) noexcept;

/// Per-flow TCP and L7 state, one per flow-table slot.
class FlowAnalyzer {
 public:
  /// Allocates (without touching) state for `slots` flows.
  FlowAnalyzer(std::uint32_t slots, const FlowAnalysisConfig& cfg);
  ~FlowAnalyzer();
  FlowAnalyzer(const FlowAnalyzer&) = delete;
  FlowAnalyzer& operator=(const FlowAnalyzer&) = delete;

  /// A new flow took `slot`: forget what the slot held. Does not allocate.
  void reset(std::uint32_t slot) noexcept;

  /// True when later packets of the non-TCP flow in `slot` have nothing left to analyze:
  /// its application was detected and is not one whose messages are parsed (DNS). The
  /// worker then stops calling on_packet for it, which keeps the flow's analysis state out
  /// of the cache (at 1M flows that state is one more miss per packet). Call right after
  /// on_packet (the state is in cache then).
  [[nodiscard]] bool idle_after(std::uint32_t slot, const decode::DecodedPacket& p) const noexcept;

  /// Analyses one packet of the flow in `slot`. `frame`: the captured bytes `p` was decoded
  /// from; `forward`: a -> b; `initiator_is_a` from the flow entry. Returns true when the
  /// TCP connection just ended (closed or reset). Does not allocate.
  bool on_packet(std::uint32_t slot, decode::Bytes frame, const decode::DecodedPacket& p, bool forward,
                 bool initiator_is_a, std::uint64_t ts_ns, FlowAnalysisCounters& c) noexcept;

  /// An ICMP error quoted a packet of the flow in `slot`.
  void on_icmp_error(std::uint32_t slot, std::uint8_t type, std::uint8_t code) noexcept;

  /// Copies the flow's measures out (for its record).
  void fill(std::uint32_t slot, FlowTcp& tcp, FlowL7& l7, FlowIcmp& icmp) const noexcept;

  /// Bytes of state per flow.
  static std::size_t state_bytes() noexcept;

  struct State;

 private:
  void on_tcp_payload(State& s, const decode::DecodedPacket& p, decode::Bytes payload,
                      std::uint32_t wire_len, bool from_client, std::uint64_t ts_ns,
                      FlowAnalysisCounters& c) noexcept;
  void on_stream(State& s, decode::Bytes bytes, bool from_client, std::uint64_t ts_ns,
                 FlowAnalysisCounters& c) noexcept;
  void on_gap(State& s, bool from_client, std::uint64_t bytes, FlowAnalysisCounters& c) noexcept;
  void on_dns(State& s, const l7::DnsMessage& m, std::uint64_t ts_ns, FlowAnalysisCounters& c) noexcept;
  void on_http(State& s, const l7::HttpMessage& m, FlowAnalysisCounters& c) noexcept;

  FlowAnalysisConfig cfg_;
  struct StateDeleter {
    void operator()(State* p) const noexcept;
  };
  std::unique_ptr<State[], StateDeleter> states_;  ///< raw storage: a slot is zero-filled (reset) when a flow takes it
  std::unique_ptr<l7::HttpMessage[]> http_out_;  ///< per-call scratch
  std::unique_ptr<l7::DnsMessage[]> dns_out_;    ///< per-call scratch
};

}  // namespace netscope::engine
