// Hand-built segment sequences for the TCP analyzer: each test states what the segments
// are and what Wireshark's tcp.analysis flags (and Zeek's history) would say of them.
#include "netscope/analysis/tcp.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace netscope::analysis {
namespace {

namespace fl = decode::tcpflag;
constexpr std::uint8_t kSynF = fl::kSyn;
constexpr std::uint8_t kSynAck = fl::kSyn | fl::kAck;
constexpr std::uint8_t kAckF = fl::kAck;
constexpr std::uint8_t kPshAck = fl::kPsh | fl::kAck;
constexpr std::uint8_t kFinAck = fl::kFin | fl::kAck;
constexpr std::uint8_t kRstAck = fl::kRst | fl::kAck;

constexpr std::uint64_t kT0 = 1'700'000'000'000'000'000ull;
constexpr std::uint64_t us(double v) { return static_cast<std::uint64_t>(v * 1000.0); }
constexpr std::uint64_t ms(double v) { return static_cast<std::uint64_t>(v * 1'000'000.0); }

struct Seg {
  bool orig = true;
  std::uint8_t flags = kAckF;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint32_t len = 0;
  std::uint16_t win = 1000;
  std::int16_t wscale = -1;
  bool ts = false;
  std::uint32_t tsval = 0;
  std::uint32_t tsecr = 0;
};

/// A connection under test: the originator's ISN is `ci`, the responder's `si`.
class Conn {
 public:
  Conn(std::uint32_t ci = 1000, std::uint32_t si = 5000) : ci_(ci), si_(si) {}

  TcpSegmentResult send(const Seg& s, std::uint64_t at) {
    decode::TcpHeader h;
    h.flags = s.flags;
    h.seq = s.seq;
    h.ack = s.ack;
    h.window = s.win;
    h.options.window_scale = s.wscale;
    h.options.has_timestamps = s.ts;
    h.options.ts_val = s.tsval;
    h.options.ts_ecr = s.tsecr;
    last = on_segment(state, h, s.orig, s.len, kT0 + at);
    all.push_back(last);
    return last;
  }

  /// SYN at 0, SYN-ACK at `server`, ACK at `server + client`.
  void handshake(std::uint64_t server = ms(1), std::uint64_t client = us(500), bool ts = false,
                 std::int16_t ws_c = -1, std::int16_t ws_s = -1) {
    send({true, kSynF, ci_, 0, 0, 64240, ws_c, ts, 100, 0}, 0);
    send({false, kSynAck, si_, ci_ + 1, 0, 65160, ws_s, ts, 500, 100}, server);
    const TcpSegmentResult r = send({true, kAckF, ci_ + 1, si_ + 1, 0, 1000, -1, ts, 101, 500}, server + client);
    ASSERT_TRUE(r.has(TcpEvent::handshake_complete));
  }

  /// Data at relative sequence `rel` (1 = first byte after the SYN), acknowledging the
  /// other side's relative sequence `ack_rel`.
  TcpSegmentResult data(std::uint32_t rel, std::uint32_t len, std::uint64_t at, bool from_orig = true,
                        std::uint32_t ack_rel = 1) {
    const std::uint32_t seq = (from_orig ? ci_ : si_) + rel;
    const std::uint32_t ack = (from_orig ? si_ : ci_) + ack_rel;
    return send({from_orig, kPshAck, seq, ack, len, 1000}, at);
  }
  /// Responder pure ACK of originator relative sequence `rel`.
  TcpSegmentResult ack(std::uint32_t rel, std::uint64_t at, std::uint16_t win = 1000) {
    return send({false, kAckF, si_ + 1, ci_ + rel, 0, win}, at);
  }

  [[nodiscard]] std::uint32_t count(TcpEvent e) const {
    std::uint32_t n = 0;
    for (const TcpSegmentResult& r : all) n += r.has(e) ? 1 : 0;
    return n;
  }
  [[nodiscard]] std::string history() const { return std::string(state.history().view()); }

  TcpState state;
  TcpSegmentResult last;
  std::vector<TcpSegmentResult> all;
  std::uint32_t ci_, si_;
};

TEST(TcpState, IsSmallAndTriviallyCopyable) {
  static_assert(std::is_trivially_copyable_v<TcpState>);
  EXPECT_LE(sizeof(TcpState), 96u);
  const TcpState s;
  EXPECT_EQ(s.state(), TcpConnState::none);
  EXPECT_EQ(s.history().view(), "");
  EXPECT_FALSE(s.handshake_rtt().server_valid);
}

TEST(TcpAnalysis, HandshakeRttClientAndServerSide) {
  Conn c;
  EXPECT_EQ(c.send({true, kSynF, 1000, 0, 0, 64240}, 0).events, bit(TcpEvent::connection_attempt));
  EXPECT_EQ(c.state.state(), TcpConnState::syn_sent);
  EXPECT_TRUE(c.state.half_open());
  EXPECT_EQ(c.send({false, kSynAck, 5000, 1001, 0, 65160}, ms(1)).events, 0u);
  EXPECT_EQ(c.state.state(), TcpConnState::syn_received);
  const TcpSegmentResult r = c.send({true, kAckF, 1001, 5001, 0, 1000}, ms(1.5));
  EXPECT_EQ(r.events, bit(TcpEvent::handshake_complete));
  EXPECT_EQ(c.state.state(), TcpConnState::established);
  const TcpHandshakeRtt rtt = c.state.handshake_rtt();
  ASSERT_TRUE(rtt.server_valid);
  ASSERT_TRUE(rtt.client_valid);
  EXPECT_EQ(rtt.server_ns, ms(1));
  EXPECT_EQ(rtt.client_ns, us(500));
  EXPECT_EQ(c.history(), "ShA");
  EXPECT_FALSE(c.state.partial());
}

TEST(TcpAnalysis, RetransmittedSynUsesTheLatestSyn) {
  Conn c;
  c.send({true, kSynF, 1000, 0, 0, 64240}, 0);
  const TcpSegmentResult again = c.send({true, kSynF, 1000, 0, 0, 64240}, ms(1000));
  EXPECT_TRUE(again.has(TcpEvent::retransmission));
  EXPECT_FALSE(again.has(TcpEvent::connection_attempt));  // the same attempt
  c.send({false, kSynAck, 5000, 1001, 0, 65160}, ms(1002));
  c.send({true, kAckF, 1001, 5001, 0, 1000}, ms(1003));
  const TcpHandshakeRtt rtt = c.state.handshake_rtt();
  EXPECT_EQ(rtt.server_ns, ms(2));
  EXPECT_EQ(rtt.client_ns, ms(1));
  EXPECT_EQ(c.history(), "ShA");  // the retransmitted SYN has no payload: no 'T'
}

TEST(TcpAnalysis, HistoryOfACompleteConversationAndClose) {
  Conn c;
  c.handshake();
  c.data(1, 100, ms(10));                                 // D
  c.ack(101, ms(11));                                     // a
  c.data(1, 200, ms(12), false, 101);                     // d
  c.send({true, kAckF, 1101, 5201, 0, 1000}, ms(13));     // A (already)
  c.send({true, kFinAck, 1101, 5201, 0, 1000}, ms(14));   // F
  EXPECT_EQ(c.state.state(), TcpConnState::fin_one);
  c.send({false, kFinAck, 5201, 1102, 0, 1000}, ms(15));  // f
  EXPECT_EQ(c.state.state(), TcpConnState::fin_both);
  const TcpSegmentResult last = c.send({true, kAckF, 1102, 5202, 0, 1000}, ms(16));
  EXPECT_TRUE(last.has(TcpEvent::connection_closed));
  EXPECT_EQ(c.state.state(), TcpConnState::closed);
  EXPECT_EQ(c.history(), "ShADadFf");
  EXPECT_EQ(c.count(TcpEvent::retransmission), 0u);
  EXPECT_EQ(c.count(TcpEvent::duplicate_ack), 0u);
  EXPECT_EQ(c.count(TcpEvent::lost_segment), 0u);
}

TEST(TcpAnalysis, RejectedAttemptIsReset) {
  Conn c;
  c.send({true, kSynF, 1000, 0, 0, 64240}, 0);
  const TcpSegmentResult r = c.send({false, kRstAck, 0, 1001, 0, 0}, ms(1));
  EXPECT_TRUE(r.has(TcpEvent::connection_reset));
  EXPECT_TRUE(r.has(TcpEvent::connection_rejected));
  EXPECT_FALSE(c.state.half_open());
  EXPECT_FALSE(r.has(TcpEvent::zero_window));  // RST segments never count as zero window
  EXPECT_EQ(c.state.state(), TcpConnState::reset);
  EXPECT_EQ(c.history(), "Sr");
  EXPECT_FALSE(c.state.handshake_rtt().server_valid);
}

TEST(TcpAnalysis, ResetAfterDataAndPortReuse) {
  Conn c;
  c.handshake();
  c.data(1, 10, ms(5));
  const TcpSegmentResult r = c.send({true, kRstAck, 1011, 5001, 0, 0}, ms(6));
  EXPECT_TRUE(r.has(TcpEvent::connection_reset));
  EXPECT_FALSE(r.has(TcpEvent::connection_rejected));  // it was established
  EXPECT_EQ(c.history(), "ShADR");
  // A second RST is not a second reset.
  EXPECT_FALSE(c.send({true, kRstAck, 1011, 5001, 0, 0}, ms(7)).has(TcpEvent::connection_reset));
  // The same ports, a new connection.
  const TcpSegmentResult syn = c.send({true, kSynF, 777777, 0, 0, 64240}, ms(100));
  EXPECT_TRUE(syn.has(TcpEvent::port_reused));
  EXPECT_TRUE(syn.has(TcpEvent::connection_attempt));
  EXPECT_FALSE(syn.has(TcpEvent::retransmission));
  EXPECT_EQ(c.state.state(), TcpConnState::syn_sent);
  EXPECT_EQ(c.history(), "S");
}

TEST(TcpAnalysis, PickedUpMidStream) {
  Conn c;
  EXPECT_EQ(c.data(5000, 100, 0).events, 0u);
  EXPECT_TRUE(c.state.partial());
  EXPECT_EQ(c.state.state(), TcpConnState::established);
  EXPECT_EQ(c.ack(5100, ms(1)).events, bit(TcpEvent::rtt_sample));
  EXPECT_EQ(c.history(), "Da");
  EXPECT_FALSE(c.state.handshake_rtt().client_valid);
}

TEST(TcpAnalysis, DataRttFromCoveringAckWithoutTimestamps) {
  Conn c;
  c.handshake();
  EXPECT_FALSE(c.state.timestamps());
  c.data(1, 100, ms(10));
  TcpSegmentResult r = c.ack(101, ms(12));
  ASSERT_TRUE(r.has(TcpEvent::rtt_sample));
  EXPECT_EQ(r.rtt_ns, ms(2));
  // Three segments, one cumulative ACK: the sample is the newest covered segment's.
  c.data(101, 100, ms(20));
  c.data(201, 100, ms(21));
  c.data(301, 100, ms(22));
  r = c.ack(401, ms(30));
  ASSERT_TRUE(r.has(TcpEvent::rtt_sample));
  EXPECT_EQ(r.rtt_ns, ms(8));
  // A partial ACK covers nothing: no sample, then the rest.
  c.data(401, 100, ms(40));
  EXPECT_FALSE(c.ack(450, ms(41)).has(TcpEvent::rtt_sample));
  r = c.ack(501, ms(43));
  ASSERT_TRUE(r.has(TcpEvent::rtt_sample));
  EXPECT_EQ(r.rtt_ns, ms(3));
  // Karn: a retransmitted segment gives no sample.
  c.data(501, 100, ms(50));
  EXPECT_TRUE(c.data(501, 100, ms(300)).has(TcpEvent::retransmission));
  EXPECT_FALSE(c.ack(601, ms(301)).has(TcpEvent::rtt_sample));
  // Samples in the other direction too.
  c.data(1, 50, ms(400), false, 601);
  r = c.send({true, kAckF, 1601, 5051, 0, 1000}, ms(405));
  ASSERT_TRUE(r.has(TcpEvent::rtt_sample));
  EXPECT_EQ(r.rtt_ns, ms(5));
}

TEST(TcpAnalysis, DataRttBoundedWhenManySegmentsAreOutstanding) {
  Conn c;
  c.handshake();
  for (std::uint32_t i = 0; i < 10; ++i) c.data(1 + i * 100, 100, ms(10) + us(10) * i);
  // Only the first kRttSlots segments were timed: acking the 10th covers the 4th as newest.
  const TcpSegmentResult r = c.ack(1001, ms(20));
  ASSERT_TRUE(r.has(TcpEvent::rtt_sample));
  EXPECT_EQ(r.rtt_ns, ms(20) - ms(10) - us(30));
  // Slots are free again.
  c.data(1001, 100, ms(30));
  EXPECT_TRUE(c.ack(1101, ms(31)).has(TcpEvent::rtt_sample));
}

TEST(TcpAnalysis, DataRttFromTimestamps) {
  Conn c;
  c.handshake(ms(1), us(500), true);
  EXPECT_TRUE(c.state.timestamps());
  c.send({true, kPshAck, 1001, 5001, 100, 1000, -1, true, 200, 500}, ms(10));
  TcpSegmentResult r = c.send({false, kAckF, 5001, 1101, 0, 1000, -1, true, 600, 200}, ms(13));
  ASSERT_TRUE(r.has(TcpEvent::rtt_sample));
  EXPECT_EQ(r.rtt_ns, ms(3));
  // A retransmission carries a newer TSval: its echo times it (no Karn ambiguity).
  c.send({true, kPshAck, 1101, 5001, 100, 1000, -1, true, 210, 600}, ms(20));
  r = c.send({true, kPshAck, 1101, 5001, 100, 1000, -1, true, 300, 600}, ms(500));
  EXPECT_TRUE(r.has(TcpEvent::retransmission));
  r = c.send({false, kAckF, 5001, 1201, 0, 1000, -1, true, 700, 300}, ms(501));
  ASSERT_TRUE(r.has(TcpEvent::rtt_sample));
  EXPECT_EQ(r.rtt_ns, ms(1));
  // The stale slot (TSval 210, never echoed) was released by the newer echo: all four
  // slots are free for new TSvals; an echo of the newest releases the older ones.
  for (std::uint32_t i = 0; i < 4; ++i) {
    c.send({true, kPshAck, 1201 + i * 10, 5001, 10, 1000, -1, true, 400 + i, 700}, ms(600) + ms(i));
  }
  r = c.send({false, kAckF, 5001, 1241, 0, 1000, -1, true, 701, 403}, ms(610));
  ASSERT_TRUE(r.has(TcpEvent::rtt_sample));
  EXPECT_EQ(r.rtt_ns, ms(7));
}

TEST(TcpAnalysis, Retransmission) {
  Conn c;
  c.handshake();
  c.data(1, 100, ms(10));
  c.data(101, 100, ms(10.01));
  const TcpSegmentResult r = c.data(1, 100, ms(210));  // 200 ms later: an RTO
  EXPECT_TRUE(r.has(TcpEvent::retransmission));
  EXPECT_FALSE(r.has(TcpEvent::fast_retransmission));
  EXPECT_FALSE(r.has(TcpEvent::out_of_order));
  EXPECT_FALSE(r.has(TcpEvent::spurious_retransmission));
  EXPECT_EQ(c.history(), "ShADT");
}

TEST(TcpAnalysis, FastRetransmissionAfterThreeDuplicateAcks) {
  Conn c;
  c.handshake();
  c.data(1, 100, ms(10));
  c.ack(101, ms(11));  // new ACK
  // 101 is lost after the tap; 201, 301, 401 arrive and each triggers a duplicate ACK.
  c.data(101, 100, ms(12));
  c.data(201, 100, ms(12.01));
  c.data(301, 100, ms(12.02));
  c.data(401, 100, ms(12.03));
  EXPECT_TRUE(c.ack(101, ms(13)).has(TcpEvent::duplicate_ack));
  EXPECT_TRUE(c.ack(101, ms(13.01)).has(TcpEvent::duplicate_ack));
  EXPECT_TRUE(c.ack(101, ms(13.02)).has(TcpEvent::duplicate_ack));
  const TcpSegmentResult r = c.data(101, 100, ms(13.5));
  EXPECT_TRUE(r.has(TcpEvent::fast_retransmission));
  EXPECT_TRUE(r.has(TcpEvent::retransmission));
  EXPECT_FALSE(r.has(TcpEvent::out_of_order));
  EXPECT_FALSE(c.ack(501, ms(14)).has(TcpEvent::duplicate_ack));
  EXPECT_EQ(c.count(TcpEvent::duplicate_ack), 3u);
  EXPECT_EQ(c.count(TcpEvent::fast_retransmission), 1u);
  EXPECT_EQ(c.count(TcpEvent::retransmission), 1u);
}

TEST(TcpAnalysis, RetransmissionLongAfterDuplicateAcksIsNotFast) {
  Conn c;
  c.handshake();
  c.data(1, 100, ms(10));
  c.ack(101, ms(11));
  c.data(101, 100, ms(12));
  c.data(201, 100, ms(12.01));
  c.ack(101, ms(13));
  c.ack(101, ms(13.01));
  const TcpSegmentResult r = c.data(101, 100, ms(40));  // > 20 ms after the last dup ACK
  EXPECT_TRUE(r.has(TcpEvent::retransmission));
  EXPECT_FALSE(r.has(TcpEvent::fast_retransmission));
}

TEST(TcpAnalysis, OutOfOrderAndLostSegment) {
  Conn c;
  c.handshake();  // handshake RTT 1.5 ms: the out-of-order window
  c.data(1, 100, ms(10));
  TcpSegmentResult r = c.data(201, 100, ms(10.01));  // 101..200 not seen yet
  EXPECT_TRUE(r.has(TcpEvent::lost_segment));
  r = c.data(101, 100, ms(10.02));  // arrives 10 us later: reordered, not retransmitted
  EXPECT_TRUE(r.has(TcpEvent::out_of_order));
  EXPECT_FALSE(r.has(TcpEvent::retransmission));
  EXPECT_FALSE(r.has(TcpEvent::lost_segment));
  EXPECT_EQ(c.history(), "ShADG");
  // The same gap filled much later is a retransmission.
  c.data(301, 100, ms(20));
  c.data(501, 100, ms(20.01));
  r = c.data(401, 100, ms(30));
  EXPECT_TRUE(r.has(TcpEvent::retransmission));
  EXPECT_FALSE(r.has(TcpEvent::out_of_order));
  EXPECT_EQ(c.count(TcpEvent::lost_segment), 2u);
  EXPECT_EQ(c.count(TcpEvent::out_of_order), 1u);
}

TEST(TcpAnalysis, AckOfUnseenSegment) {
  Conn c;
  c.handshake();
  c.data(1, 100, ms(10));
  EXPECT_TRUE(c.ack(301, ms(11)).has(TcpEvent::ack_unseen_segment));
  EXPECT_FALSE(c.ack(101, ms(12)).has(TcpEvent::ack_unseen_segment));
}

TEST(TcpAnalysis, ZeroWindowProbeAndWindowUpdate) {
  Conn c;
  c.handshake();
  c.data(1, 100, ms(10));
  TcpSegmentResult r = c.ack(101, ms(11), 0);  // receiver full
  EXPECT_TRUE(r.has(TcpEvent::zero_window));
  r = c.data(101, 1, ms(211));  // one-byte probe at the next sequence
  EXPECT_TRUE(r.has(TcpEvent::zero_window_probe));
  EXPECT_FALSE(r.has(TcpEvent::retransmission));
  EXPECT_FALSE(r.has(TcpEvent::lost_segment));
  r = c.ack(101, ms(212), 0);  // probe ACK, still zero: not a duplicate ACK
  EXPECT_TRUE(r.has(TcpEvent::zero_window));
  EXPECT_FALSE(r.has(TcpEvent::duplicate_ack));
  r = c.ack(101, ms(300), 4000);  // the window opens
  EXPECT_TRUE(r.has(TcpEvent::window_update));
  EXPECT_FALSE(r.has(TcpEvent::duplicate_ack));
  // The probe did not advance the sequence: the next data starts at 101 without a flag.
  r = c.data(101, 100, ms(301));
  EXPECT_EQ(r.events & (bit(TcpEvent::retransmission) | bit(TcpEvent::lost_segment) |
                        bit(TcpEvent::out_of_order)),
            0u);
  EXPECT_EQ(c.history(), "ShADaw");
  EXPECT_EQ(c.count(TcpEvent::zero_window), 2u);
}

TEST(TcpAnalysis, KeepAliveIsNotARetransmissionNorItsAckADuplicate) {
  Conn c;
  c.handshake();
  c.data(1, 100, ms(10));
  c.ack(101, ms(11));
  TcpSegmentResult r = c.send({true, kAckF, 1100, 5001, 0, 1000}, ms(60000));
  EXPECT_TRUE(r.has(TcpEvent::keep_alive));
  EXPECT_FALSE(r.has(TcpEvent::retransmission));
  r = c.ack(101, ms(60001));
  EXPECT_FALSE(r.has(TcpEvent::duplicate_ack));
}

TEST(TcpAnalysis, SpuriousRetransmission) {
  Conn c;
  c.handshake();
  c.data(1, 100, ms(10));
  c.ack(101, ms(11));
  const TcpSegmentResult r = c.data(1, 100, ms(300));
  EXPECT_TRUE(r.has(TcpEvent::spurious_retransmission));
  EXPECT_TRUE(r.has(TcpEvent::retransmission));
}

TEST(TcpAnalysis, WindowScaleAppliesOnlyWhenBothSidesSentIt) {
  Conn c;
  c.handshake(ms(1), us(500), false, 7, 8);
  EXPECT_EQ(c.state.window_shift(true), 7);
  EXPECT_EQ(c.state.window_shift(false), 8);
  EXPECT_EQ(c.data(1, 100, ms(10)).window, 1000u << 7);
  EXPECT_EQ(c.ack(101, ms(11), 50).window, 50u << 8);

  Conn d;
  d.handshake(ms(1), us(500), false, 7, -1);  // the responder did not agree
  EXPECT_EQ(d.state.window_shift(true), 0);
  EXPECT_EQ(d.data(1, 100, ms(10)).window, 1000u);
}

TEST(TcpAnalysis, SequenceWrapAcross2To32) {
  Conn c(0xFFFFFF00u, 0xFFFFFFF0u);
  c.handshake();
  // Originator data 0xFFFFFF01..0xFFFFFFC8, then 0xFFFFFFC9..0x0000002C across the wrap.
  EXPECT_EQ(c.data(1, 200, ms(10)).events, 0u);
  EXPECT_EQ(c.data(201, 100, ms(10.01)).events, 0u);
  TcpSegmentResult r = c.ack(301, ms(12));  // ack 0x0000002D covers both
  ASSERT_TRUE(r.has(TcpEvent::rtt_sample));
  EXPECT_EQ(r.rtt_ns, ms(12) - ms(10.01));
  r = c.data(1, 200, ms(300));  // 0xFFFFFF01 again: below next_seq across the wrap
  EXPECT_TRUE(r.has(TcpEvent::retransmission));
  EXPECT_TRUE(r.has(TcpEvent::spurious_retransmission));  // it had been acknowledged
  EXPECT_FALSE(r.has(TcpEvent::lost_segment));
  // The responder's sequence wraps after 16 bytes.
  r = c.data(1, 100, ms(400), false, 301);
  EXPECT_EQ(r.events & bit(TcpEvent::lost_segment), 0u);
  r = c.data(101, 100, ms(400.01), false, 301);
  EXPECT_EQ(r.events & bit(TcpEvent::lost_segment), 0u);
  r = c.data(301, 100, ms(400.02), false, 301);  // skips 100 bytes after the wrap
  EXPECT_TRUE(r.has(TcpEvent::lost_segment));
  EXPECT_EQ(c.count(TcpEvent::out_of_order), 0u);
}

TEST(TcpAnalysis, HistoryHoldsEveryLetterOnce) {
  Conn c;
  c.send({true, kSynF, 1000, 0, 0, 0}, 0);                    // S
  c.send({false, kSynAck, 5000, 1001, 0, 0}, ms(1));          // h
  c.send({true, kSynAck, 1000, 5001, 0, 0}, ms(2));           // H: simultaneous open, not kept
  c.send({false, kSynF, 5000, 0, 0, 0}, ms(3));               // s: not kept
  c.send({true, kAckF, 1001, 5001, 0, 0}, ms(4));             // A W
  c.send({false, kAckF, 5001, 1001, 0, 0}, ms(5));            // a w
  c.data(1, 10, ms(6));                                       // D
  c.data(1, 10, ms(7), false);                                // d
  c.data(1, 10, ms(100));                                     // T
  c.data(1, 10, ms(100), false);                              // t
  c.data(100, 10, ms(101));                                   // G
  c.data(100, 10, ms(101), false);                            // g
  c.send({true, kFinAck, 1110, 5011, 0, 10}, ms(102));        // F
  c.send({false, kFinAck, 5110, 1111, 0, 10}, ms(103));       // f
  c.send({true, kRstAck, 1111, 5111, 0, 0}, ms(104));         // R
  c.send({false, kRstAck, 5111, 1111, 0, 0}, ms(105));        // r
  c.data(1, 10, ms(106));                                     // D again: nothing new
  EXPECT_EQ(c.history(), "ShAWawDdTtGgFfRr");
  EXPECT_EQ(c.state.history().size, TcpState::kMaxHistory);
}

TEST(TcpAnalysis, FirstSegmentSynAckFlipsTheRoles) {
  // The capture missed the SYN: the caller takes the SYN-ACK's sender for the originator.
  Conn c;
  TcpSegmentResult r = c.send({true, kSynAck, 5000, 1001, 0, 65160}, 0);
  EXPECT_TRUE(c.state.flipped());
  EXPECT_EQ(c.state.state(), TcpConnState::syn_received);
  r = c.send({false, kAckF, 1001, 5001, 0, 1000}, us(300));  // the real originator's ACK
  EXPECT_TRUE(r.has(TcpEvent::handshake_complete));
  const TcpHandshakeRtt rtt = c.state.handshake_rtt();
  EXPECT_FALSE(rtt.server_valid);
  ASSERT_TRUE(rtt.client_valid);
  EXPECT_EQ(rtt.client_ns, us(300));
  c.send({false, kPshAck, 1001, 5001, 100, 1000}, ms(1));
  EXPECT_EQ(c.history(), "^hAD");
}

TEST(TcpAnalysis, LongIdleIntervalsDoNotAlias) {
  // 2^32 ns (4.29 s) plus a little after the last new data: without the moving time base
  // a 32-bit clock would see "a few microseconds" and call the retransmission
  // out-of-order.
  Conn c;
  c.handshake();
  c.data(1, 100, ms(10));
  c.data(101, 100, ms(10.001));
  const std::uint64_t later = ms(10.001) + (1ull << 32) + us(5);
  const TcpSegmentResult r = c.data(1, 100, later);
  EXPECT_TRUE(r.has(TcpEvent::retransmission));
  EXPECT_FALSE(r.has(TcpEvent::out_of_order));
  // A segment outstanding longer than 2^31 ns is not timed (its sample would be unsure).
  c.data(201, 100, later + ms(1));
  const TcpSegmentResult a = c.ack(301, later + ms(1) + 3 * (1ull << 31));
  EXPECT_FALSE(a.has(TcpEvent::rtt_sample));
  // Times keep working after the base moved: a 2 ms RTT.
  c.data(301, 100, later + ms(10000));
  const TcpSegmentResult b = c.ack(401, later + ms(10002));
  ASSERT_TRUE(b.has(TcpEvent::rtt_sample));
  EXPECT_EQ(b.rtt_ns, ms(2));
}

TEST(TcpAnalysis, WorksFromTimeZero) {
  TcpState s;
  decode::TcpHeader h;
  h.flags = kSynF;
  h.seq = 1;
  on_segment(s, h, true, 0, 0);
  h.flags = kSynAck;
  h.seq = 100;
  h.ack = 2;
  on_segment(s, h, false, 0, 1000);
  h.flags = kAckF;
  h.seq = 2;
  h.ack = 101;
  h.window = 10;
  EXPECT_TRUE(on_segment(s, h, true, 0, 3000).has(TcpEvent::handshake_complete));
  EXPECT_EQ(s.handshake_rtt().server_ns, 1000u);
  EXPECT_EQ(s.handshake_rtt().client_ns, 2000u);
}

TEST(TcpAnalysis, EventNames) {
  EXPECT_EQ(to_string(TcpEvent::fast_retransmission), "fast_retransmission");
  EXPECT_EQ(to_string(TcpEvent::port_reused), "port_reused");
  EXPECT_EQ(to_string(TcpConnState::fin_both), "fin_both");
  std::vector<TcpEvent> seen;
  for_each_event(bit(TcpEvent::lost_segment) | bit(TcpEvent::retransmission),
                 [&](TcpEvent e) { seen.push_back(e); });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], TcpEvent::retransmission);
  EXPECT_EQ(seen[1], TcpEvent::lost_segment);
}

TEST(TcpAnalysis, PayloadLengthFromIpHeaders) {
  decode::DecodedPacket p;
  p.layers = decode::kLayerEthernet | decode::kLayerIpv4 | decode::kLayerTcp;
  p.l3_offset = 14;
  p.ipv4.total_length = 20 + 32 + 1000;
  p.payload_offset = 14 + 20 + 32;
  p.payload_len = 100;  // captured bytes only
  EXPECT_EQ(tcp_payload_length(p), 1000u);
  p.layers = decode::kLayerEthernet | decode::kLayerIpv6 | decode::kLayerTcp;
  p.ipv6.payload_length = 20 + 500;
  p.payload_offset = 14 + 40 + 20;
  EXPECT_EQ(tcp_payload_length(p), 500u);
  p.layers = decode::kLayerEthernet | decode::kLayerIpv6;
  EXPECT_EQ(tcp_payload_length(p), 0u);
}

}  // namespace
}  // namespace netscope::analysis
