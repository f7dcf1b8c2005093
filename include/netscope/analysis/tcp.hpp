// Per-flow TCP analysis, both directions: connection state, a Zeek-like history string,
// handshake and data RTT, and Wireshark-like per-segment flags (retransmission, fast
// retransmission, out-of-order, duplicate ACK, zero window, lost segment, ...).
//
// All state lives in one small trivially copyable TcpState the caller keeps next to its
// flow entry. on_segment() never allocates, never throws and does bounded work. Every
// definition is in docs/traffic-analysis.md, with how it differs from Wireshark.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "netscope/decode/packet.hpp"

namespace netscope::analysis {

/// What one segment was found to be. A segment can carry several events. The list is
/// stable: names are used as metric label values and JSON keys.
#define NETSCOPE_TCP_EVENTS(X)                                                             \
  X(retransmission)          /* any retransmission: tcp.analysis.retransmission */       \
  X(fast_retransmission)     /* after >= 2 duplicate ACKs, within 20 ms */                \
  X(spurious_retransmission) /* data the receiver had already acknowledged */            \
  X(out_of_order)            /* below the highest sequence, soon after it */             \
  X(lost_segment)            /* starts above the next expected sequence */               \
  X(ack_unseen_segment)      /* acknowledges data the tap never saw */                   \
  X(duplicate_ack)                                                                        \
  X(zero_window)                                                                          \
  X(zero_window_probe)                                                                    \
  X(window_update)                                                                        \
  X(keep_alive)                                                                           \
  X(rtt_sample)              /* TcpSegmentResult::rtt_ns holds a data RTT */              \
  X(connection_attempt)      /* the first SYN of a connection (not a retransmission) */  \
  X(handshake_complete)      /* handshake RTTs are now in the state */                   \
  X(connection_rejected)     /* RST before the handshake completed (Zeek REJ) */         \
  X(connection_closed)       /* both FINs seen and acknowledged */                       \
  X(connection_reset)        /* first RST */                                             \
  X(port_reused)             /* a new SYN on a finished connection: state restarted */

enum class TcpEvent : std::uint8_t {
#define NETSCOPE_X(name) name,
  NETSCOPE_TCP_EVENTS(NETSCOPE_X)
#undef NETSCOPE_X
      count_
};
inline constexpr std::size_t kTcpEventCount = static_cast<std::size_t>(TcpEvent::count_);
static_assert(kTcpEventCount <= 32);

/// The bit of `e` in TcpSegmentResult::events.
constexpr std::uint32_t bit(TcpEvent e) noexcept { return 1u << static_cast<unsigned>(e); }

/// Stable snake_case name of an event ("fast_retransmission"). Never null.
std::string_view to_string(TcpEvent e) noexcept;

/// Calls f(TcpEvent) for each event bit set in `events`, lowest first.
template <typename F>
void for_each_event(std::uint32_t events, F&& f) noexcept {
  while (events != 0) {
    const int i = std::countr_zero(events);
    f(static_cast<TcpEvent>(i));
    events &= events - 1;
  }
}

/// Connection state as seen from the tap (not either endpoint's own state machine).
enum class TcpConnState : std::uint8_t {
  none,          ///< no segment yet
  syn_sent,      ///< originator SYN seen
  syn_received,  ///< responder SYN-ACK seen
  established,   ///< handshake completed, or picked up mid-stream (see partial())
  fin_one,       ///< one side sent FIN
  fin_both,      ///< both sides sent FIN, not both acknowledged yet
  closed,        ///< both FINs acknowledged
  reset,         ///< RST seen (terminal until a new SYN reuses the ports)
};
std::string_view to_string(TcpConnState s) noexcept;

/// What on_segment() found in one segment.
struct TcpSegmentResult {
  std::uint32_t events = 0;  ///< TcpEvent bits
  std::uint32_t window = 0;  ///< advertised window in bytes, scaled when the scale is known
  std::uint64_t rtt_ns = 0;  ///< data RTT sample; valid only with TcpEvent::rtt_sample
  [[nodiscard]] bool has(TcpEvent e) const noexcept { return (events & bit(e)) != 0; }
};

/// The history string, Zeek conn.log style: S h A D F R T W G, upper case from the
/// originator, lower case from the responder, each letter-case at most once, in order;
/// '^' first when the first segment seen was the SYN-ACK (roles flipped, as Zeek does).
struct TcpHistory {
  std::array<char, 20> text{};  ///< NUL-terminated
  std::uint8_t size = 0;
  [[nodiscard]] std::string_view view() const noexcept { return {text.data(), size}; }
};

/// Handshake round-trip times as measured at the tap. server: SYN -> SYN-ACK (tap to
/// responder and back); client: SYN-ACK -> ACK (tap to originator and back). Their sum
/// is Wireshark's tcp.analysis.initial_rtt.
struct TcpHandshakeRtt {
  std::uint64_t server_ns = 0;
  std::uint64_t client_ns = 0;
  bool server_valid = false;
  bool client_valid = false;
};

/// Per-flow TCP analysis state for both directions. Zero-initialised means "no segment
/// seen". Trivially copyable: it may live inside a flow entry and be copied with it.
/// Times are 32-bit nanosecond offsets from a per-flow base that moves forward when they
/// would overflow: intervals below 2^31 ns (2.1 s) are exact, longer ones are known only
/// to be at least that long (enough for every threshold; RTT samples above it are lost).
class TcpState {
 public:
  /// Connection state at the tap.
  [[nodiscard]] TcpConnState state() const noexcept { return static_cast<TcpConnState>(state_); }
  /// The history string so far (at most kMaxHistory letters, plus '^').
  [[nodiscard]] TcpHistory history() const noexcept;
  /// Handshake RTTs; valid once TcpEvent::handshake_complete was reported.
  [[nodiscard]] TcpHandshakeRtt handshake_rtt() const noexcept;
  /// True when the flow was picked up without its SYN (no handshake RTT, no window scale).
  [[nodiscard]] bool partial() const noexcept { return partial_ != 0; }
  /// True when the first segment seen was a SYN-ACK: the caller's originator is really
  /// the responder, and this state swaps the roles back (history starts with '^').
  [[nodiscard]] bool flipped() const noexcept { return flipped_ != 0; }
  /// True while the handshake is under way (syn_sent, syn_received): a flow that expires
  /// in this state was an unanswered attempt (Zeek S0).
  [[nodiscard]] bool half_open() const noexcept {
    return state() == TcpConnState::syn_sent || state() == TcpConnState::syn_received;
  }
  /// True when both directions sent TCP timestamps: data RTT comes from TSval/TSecr.
  [[nodiscard]] bool timestamps() const noexcept { return ts_mode_ != 0; }
  /// Window shift of a direction (0 when window scaling is not in use or unknown).
  /// `originator` as seen by this state (after a flip).
  [[nodiscard]] std::uint8_t window_shift(bool originator) const noexcept;

  static constexpr std::size_t kMaxHistory = 16;  ///< letters kept
  static constexpr std::size_t kRttSlots = 4;     ///< outstanding segments timed at once

  /// One direction. Internal: public only so that its size can be checked.
  struct Direction {
    std::uint32_t next_seq = 0;    ///< highest sequence number seen plus its length
    std::uint32_t last_ack = 0;    ///< ACK field of the last segment (0 without ACK)
    std::uint32_t next_seq_t = 0;  ///< time next_seq last advanced
    std::uint32_t last_t = 0;      ///< time of the last segment
    std::uint16_t window = 0;      ///< raw window field of the last segment
    std::uint8_t scale_dup = 0;    ///< bits 0-3 window shift, 4-6 duplicate ACKs (saturate at 7)
    std::uint8_t flags = 0;        ///< kDir* bits (tcp.cpp)
  };

 private:
  friend TcpSegmentResult on_segment(TcpState& s, const decode::TcpHeader& h, bool from_originator,
                                     std::uint32_t payload_len, std::uint64_t ts_ns) noexcept;

  std::array<Direction, 2> dir_{};                   ///< [0] originator, [1] responder
  std::array<std::uint32_t, kRttSlots> slot_key_{};  ///< end sequence, or TSval in timestamp mode
  std::array<std::uint32_t, kRttSlots> slot_t_{};    ///< time the timed segment was seen
  std::uint32_t syn_t_ = 0;     ///< SYN time; the server-side RTT (ns) once complete
  std::uint32_t synack_t_ = 0;  ///< SYN-ACK time; the client-side RTT (ns) once complete
  std::uint64_t hist_codes_ = 0;  ///< history: 16 codes of 4 bits, oldest in the low bits
  std::uint32_t hist_seen_ : 16 = 0;  ///< one bit per history code already recorded
  std::uint32_t hist_len_ : 5 = 0;
  std::uint32_t state_ : 3 = 0;
  std::uint32_t hs_done_ : 1 = 0;     ///< the handshake fields hold RTTs
  std::uint32_t syn_valid_ : 1 = 0;
  std::uint32_t synack_valid_ : 1 = 0;
  std::uint32_t ws_both_ : 1 = 0;     ///< both SYNs carried window scale: shifts apply
  std::uint32_t ts_mode_ : 1 = 0;
  std::uint32_t partial_ : 1 = 0;
  std::uint32_t flipped_ : 1 = 0;
  std::uint32_t clock_set_ : 1 = 0;
  std::uint32_t base_ : 24 = 0;       ///< time base in units of 2^31 ns, modulo 2^24
  std::uint32_t slot_used_ : 4 = 0;   ///< bit i: slot i holds a timed segment
  std::uint32_t slot_dir_ : 4 = 0;    ///< bit i: slot i times a responder segment
};
static_assert(sizeof(TcpState::Direction) == 20);
static_assert(sizeof(TcpState) <= 96, "TCP state must stay within its per-flow budget");
static_assert(std::is_trivially_copyable_v<TcpState>);

/// Analyses one TCP segment of the flow owning `s`. `from_originator`: the segment goes
/// from the endpoint that sent the first packet (FlowEntry::initiator_is_a == forward).
/// `payload_len`: TCP payload bytes (IP length minus headers, not the captured length).
/// `ts_ns`: capture time; should not go backwards within a flow. Does not allocate;
/// constant work (at most kRttSlots slot visits). Single writer: the flow's lcore.
TcpSegmentResult on_segment(TcpState& s, const decode::TcpHeader& h, bool from_originator,
                            std::uint32_t payload_len, std::uint64_t ts_ns) noexcept;

/// TCP payload length of a decoded packet from its IP and TCP header lengths, so that a
/// capture cut by a snap length still gives the length on the wire. 0 without TCP.
std::uint32_t tcp_payload_length(const decode::DecodedPacket& p) noexcept;

}  // namespace netscope::analysis
