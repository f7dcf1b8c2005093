// Per-segment TCP analysis. The flag logic follows Wireshark's tcp_analyze_sequence_number()
// (packet-tcp.c) so that counts can be checked against tshark; the state it keeps is fixed
// and small instead of Wireshark's unbounded per-segment lists. docs/traffic-analysis.md
// gives each definition and every place where the result differs from Wireshark's.
#include "netscope/analysis/tcp.hpp"

namespace netscope::analysis {

namespace {

using Direction = TcpState::Direction;

// Direction::flags
constexpr std::uint8_t kDirSeen = 1u << 0;           // next_seq is known
constexpr std::uint8_t kDirSyn = 1u << 1;
constexpr std::uint8_t kDirFin = 1u << 2;
constexpr std::uint8_t kDirRst = 1u << 3;
constexpr std::uint8_t kDirWsOpt = 1u << 4;          // its SYN carried window scale
constexpr std::uint8_t kDirTs = 1u << 5;             // it sent TCP timestamps
constexpr std::uint8_t kDirLastKeepAlive = 1u << 6;  // its last segment was a keep-alive
constexpr std::uint8_t kDirLastZwp = 1u << 7;        // its last segment was a zero window probe

// Times: 32-bit ns offsets from a base kept in units of 2^31 ns (24 bits of it).
constexpr unsigned kBaseShift = 31;
constexpr std::uint32_t kBaseMask = 0xFFFFFF;
// Wireshark's constants: a fast retransmission follows the duplicate ACKs within 20 ms; a
// segment below the highest sequence within 3 ms (or the handshake RTT) is out of order.
constexpr std::uint32_t kFastRetransmitNs = 20'000'000;
constexpr std::uint32_t kOutOfOrderNs = 3'000'000;

/// now - then, or "very long" when `then` is in the future (time went backwards).
constexpr std::uint32_t elapsed(std::uint32_t now, std::uint32_t then) noexcept {
  return now >= then ? now - then : 0xFFFFFFFFu;
}

// 32-bit sequence (and timestamp) arithmetic, RFC 1982 serial numbers.
constexpr bool seq_lt(std::uint32_t a, std::uint32_t b) noexcept {
  return static_cast<std::int32_t>(a - b) < 0;
}
constexpr bool seq_gt(std::uint32_t a, std::uint32_t b) noexcept { return seq_lt(b, a); }
constexpr bool seq_le(std::uint32_t a, std::uint32_t b) noexcept { return !seq_gt(a, b); }
constexpr bool seq_ge(std::uint32_t a, std::uint32_t b) noexcept { return !seq_lt(a, b); }

std::uint8_t shift_of(const Direction& d) noexcept { return d.scale_dup & 0x0F; }
std::uint8_t dupacks_of(const Direction& d) noexcept { return (d.scale_dup >> 4) & 0x07; }
void set_shift(Direction& d, std::uint8_t s) noexcept {
  d.scale_dup = static_cast<std::uint8_t>((d.scale_dup & 0xF0) | (s & 0x0F));
}
void set_dupacks(Direction& d, unsigned n) noexcept {
  if (n > 7) n = 7;
  d.scale_dup = static_cast<std::uint8_t>((d.scale_dup & 0x8F) | (n << 4));
}

// History letters. Code = direction * 8 + letter; the originator's SYN-ACK ('H') and the
// responder's bare SYN ('s') only happen in a simultaneous open and are not recorded.
constexpr char kHistoryLetters[2][9] = {"SADFRTWG", "hadfrtwg"};
enum HistoryLetter : unsigned { kHistSyn, kHistA, kHistD, kHistF, kHistR, kHistT, kHistW, kHistG };

}  // namespace

std::string_view to_string(TcpEvent e) noexcept {
  switch (e) {
#define NETSCOPE_X(name) \
  case TcpEvent::name:   \
    return #name;
    NETSCOPE_TCP_EVENTS(NETSCOPE_X)
#undef NETSCOPE_X
    case TcpEvent::count_:
      break;
  }
  return "unknown";
}

std::string_view to_string(TcpConnState s) noexcept {
  switch (s) {
    case TcpConnState::none:
      return "none";
    case TcpConnState::syn_sent:
      return "syn_sent";
    case TcpConnState::syn_received:
      return "syn_received";
    case TcpConnState::established:
      return "established";
    case TcpConnState::fin_one:
      return "fin_one";
    case TcpConnState::fin_both:
      return "fin_both";
    case TcpConnState::closed:
      return "closed";
    case TcpConnState::reset:
      return "reset";
  }
  return "unknown";
}

TcpHistory TcpState::history() const noexcept {
  TcpHistory h;
  if (flipped_ != 0) h.text[h.size++] = '^';
  for (unsigned i = 0; i < hist_len_; ++i) {
    const auto code = static_cast<unsigned>((hist_codes_ >> (4 * i)) & 0xF);
    h.text[h.size++] = kHistoryLetters[code >> 3][code & 7];
  }
  h.text[h.size] = '\0';
  return h;
}

TcpHandshakeRtt TcpState::handshake_rtt() const noexcept {
  TcpHandshakeRtt r;
  if (hs_done_ == 0) return r;
  r.server_valid = syn_valid_ != 0 && synack_valid_ != 0;
  r.client_valid = synack_valid_ != 0;
  if (r.server_valid) r.server_ns = syn_t_;
  if (r.client_valid) r.client_ns = synack_t_;
  return r;
}

std::uint8_t TcpState::window_shift(bool originator) const noexcept {
  return ws_both_ != 0 ? shift_of(dir_[originator ? 0 : 1]) : 0;
}

TcpSegmentResult on_segment(TcpState& s, const decode::TcpHeader& h, bool from_originator,
                            std::uint32_t payload_len, std::uint64_t ts_ns) noexcept {
  namespace fl = decode::tcpflag;
  TcpSegmentResult res;
  std::uint32_t ev = 0;
  const bool syn = (h.flags & fl::kSyn) != 0;
  const bool fin = (h.flags & fl::kFin) != 0;
  const bool rst = (h.flags & fl::kRst) != 0;
  const bool ack = (h.flags & fl::kAck) != 0;
  const bool plain = !syn && !fin && !rst;

  // Roles: the sender of a bare SYN is the originator, the sender of a SYN-ACK the
  // responder, whatever the caller's flow table assumed from the first packet it saw.
  const auto state = static_cast<TcpConnState>(s.state_);
  if (syn && !ack && (state == TcpConnState::closed || state == TcpConnState::reset)) {
    s = TcpState{};  // a new connection on the same ports
    ev |= bit(TcpEvent::port_reused);
  }
  if (s.clock_set_ == 0 && syn) s.flipped_ = (ack == from_originator) ? 1 : 0;
  if (s.flipped_ != 0) from_originator = !from_originator;

  // The clock: ns offsets from base_ * 2^31. When an offset would not fit in 32 bits the
  // base moves forward by whole units and older times are clamped to it.
  const std::uint64_t now_units = ts_ns >> kBaseShift;
  const std::uint64_t new_base = now_units > 0 ? now_units - 1 : 0;
  if (s.clock_set_ == 0) {
    s.clock_set_ = 1;
    s.base_ = static_cast<std::uint32_t>(new_base & kBaseMask);
  }
  std::uint64_t base = now_units - ((now_units - s.base_) & kBaseMask);
  if (ts_ns - (base << kBaseShift) > 0xFFFFFFFFull) {
    const std::uint64_t delta = (new_base - base) << kBaseShift;
    const auto clamp = [delta](std::uint32_t& t) {
      const bool kept = t > delta;
      t = kept ? static_cast<std::uint32_t>(t - delta) : 0;
      return kept;
    };
    for (TcpState::Direction& x : s.dir_) {
      clamp(x.next_seq_t);
      clamp(x.last_t);
    }
    for (unsigned i = 0; i < TcpState::kRttSlots; ++i) {
      if (!clamp(s.slot_t_[i])) s.slot_used_ = s.slot_used_ & ~(1u << i) & 0xFu;  // too old to time
    }
    if (s.hs_done_ == 0) {
      if (!clamp(s.syn_t_)) s.syn_valid_ = 0;
      if (!clamp(s.synack_t_)) s.synack_valid_ = 0;
    }
    base = new_base;
    s.base_ = static_cast<std::uint32_t>(new_base & kBaseMask);
  }
  const auto now = static_cast<std::uint32_t>(ts_ns - (base << kBaseShift));

  const unsigned d = from_originator ? 0 : 1;
  Direction& f = s.dir_[d];
  Direction& r = s.dir_[d ^ 1];
  const bool f_known = (f.flags & kDirSeen) != 0;
  const bool r_known = (r.flags & kDirSeen) != 0;
  const std::uint32_t seq = h.seq;
  const std::uint32_t ack_val = ack ? h.ack : 0;
  const std::uint32_t end = seq + payload_len + ((syn || fin) ? 1u : 0u);

  // Options: window scale applies only when both SYNs carried it (RFC 7323 2.2).
  if (syn) {
    if (h.options.window_scale >= 0) {
      f.flags |= kDirWsOpt;
      set_shift(f, static_cast<std::uint8_t>(h.options.window_scale > 14 ? 14 : h.options.window_scale));
    } else {
      f.flags = static_cast<std::uint8_t>(f.flags & ~kDirWsOpt);
      set_shift(f, 0);
    }
    if (ack) s.ws_both_ = ((f.flags & r.flags & kDirWsOpt) != 0) ? 1 : 0;
  }
  if (h.options.has_timestamps) {
    f.flags |= kDirTs;
    if ((r.flags & kDirTs) != 0) s.ts_mode_ = 1;
  }
  res.window = h.window;
  if (!syn && s.ws_both_ != 0) res.window <<= shift_of(f);

  // Per-segment flags, in Wireshark's order.
  bool zero_window_probe = false;
  if (payload_len == 1 && f_known && seq == f.next_seq && r_known && r.window == 0) {
    zero_window_probe = true;
    ev |= bit(TcpEvent::zero_window_probe);
  } else {
    if (h.window == 0 && plain) ev |= bit(TcpEvent::zero_window);
    if (f_known && seq_gt(seq, f.next_seq) && !rst) ev |= bit(TcpEvent::lost_segment);
    if (payload_len <= 1 && f_known && seq == f.next_seq - 1 && plain) ev |= bit(TcpEvent::keep_alive);
    const bool same = payload_len == 0 && plain && f_known && seq == f.next_seq && ack_val == f.last_ack;
    if (same && h.window != 0 && h.window != f.window) ev |= bit(TcpEvent::window_update);
    const bool keep_alive_ack = same && h.window != 0 && h.window == f.window &&
                                (r.flags & kDirLastKeepAlive) != 0;
    const bool zwp_ack = same && h.window == 0 && f.window == 0 && (r.flags & kDirLastZwp) != 0;
    if (!keep_alive_ack && !zwp_ack && same && h.window != 0 && h.window == f.window) {
      ev |= bit(TcpEvent::duplicate_ack);
      set_dupacks(f, dupacks_of(f) + 1u);
    }
  }
  if (ack_val != f.last_ack) set_dupacks(f, 0);
  if (ack && r_known && seq_gt(ack_val, r.next_seq)) ev |= bit(TcpEvent::ack_unseen_segment);

  constexpr std::uint32_t kAnyRetransmission = bit(TcpEvent::retransmission);
  if ((payload_len > 0 || syn || fin) && (ev & bit(TcpEvent::keep_alive)) == 0) {
    bool not_advanced = f_known && seq_lt(seq, f.next_seq);
    if (payload_len > 1 && f_known && f.next_seq - 1 == seq) not_advanced = false;
    const std::uint32_t ooo_ns =
        (s.hs_done_ != 0 && s.syn_valid_ != 0 && s.synack_valid_ != 0) ? s.syn_t_ + s.synack_t_
                                                                       : kOutOfOrderNs;
    if (payload_len > 0 && r.last_ack != 0 && seq_le(seq + payload_len, r.last_ack)) {
      ev |= bit(TcpEvent::spurious_retransmission) | kAnyRetransmission;
    } else if (not_advanced && dupacks_of(r) >= 2 && r.last_ack == seq &&
               elapsed(now, r.last_t) < kFastRetransmitNs) {
      ev |= bit(TcpEvent::fast_retransmission) | kAnyRetransmission;
    } else if (not_advanced && elapsed(now, f.next_seq_t) < ooo_ns && f.next_seq != seq + payload_len) {
      ev |= bit(TcpEvent::out_of_order);
    } else if (not_advanced) {
      ev |= kAnyRetransmission;
    }
  }

  const bool advanced = !zero_window_probe && (!f_known || seq_gt(end, f.next_seq));
  if (advanced) {
    f.next_seq = end;
    f.next_seq_t = now;
    f.flags |= kDirSeen;
  }
  f.window = h.window;
  f.last_ack = ack_val;
  f.last_t = now;
  f.flags = static_cast<std::uint8_t>(f.flags & ~(kDirLastKeepAlive | kDirLastZwp));
  if ((ev & bit(TcpEvent::keep_alive)) != 0) f.flags |= kDirLastKeepAlive;
  if (zero_window_probe) f.flags |= kDirLastZwp;

  // Data RTT. A slot times one segment of one direction: by its end sequence (covered by a
  // cumulative ACK) or, when both sides send timestamps, by its TSval (echoed in TSecr).
  const auto slot_of = [&s](unsigned i, unsigned dir) {
    return ((s.slot_used_ >> i) & 1u) != 0 && ((s.slot_dir_ >> i) & 1u) == dir;
  };
  const auto release_slot = [&s](unsigned i) { s.slot_used_ = s.slot_used_ & ~(1u << i) & 0xFu; };
  const bool ts_mode = s.ts_mode_ != 0;
  if (ack) {
    unsigned best = TcpState::kRttSlots;
    for (unsigned i = 0; i < TcpState::kRttSlots; ++i) {
      if (!slot_of(i, d ^ 1)) continue;
      const std::uint32_t key = s.slot_key_[i];
      bool sample = false;
      if (ts_mode) {
        if (!h.options.has_timestamps) continue;
        sample = key == h.options.ts_ecr;
        if (!sample && !seq_lt(key, h.options.ts_ecr)) continue;  // not echoed yet
      } else {
        if (!seq_ge(ack_val, key)) continue;  // not covered yet
        sample = true;
      }
      if (sample && (best == TcpState::kRttSlots || seq_gt(key, s.slot_key_[best]))) best = i;
      release_slot(i);
    }
    if (best != TcpState::kRttSlots && now >= s.slot_t_[best]) {
      res.rtt_ns = now - s.slot_t_[best];
      ev |= bit(TcpEvent::rtt_sample);
    }
  }
  if (!ts_mode && (ev & kAnyRetransmission) != 0) {
    // Karn: a retransmitted range makes its pending samples ambiguous.
    for (unsigned i = 0; i < TcpState::kRttSlots; ++i) {
      if (slot_of(i, d) && seq_gt(s.slot_key_[i], seq)) release_slot(i);
    }
  }
  if (payload_len > 0 && (ts_mode ? h.options.has_timestamps : advanced)) {
    const std::uint32_t key = ts_mode ? h.options.ts_val : end;
    bool present = false;
    for (unsigned i = 0; i < TcpState::kRttSlots && ts_mode; ++i) {
      present = present || (slot_of(i, d) && s.slot_key_[i] == key);
    }
    const unsigned free_slots = ~static_cast<unsigned>(s.slot_used_) & 0xFu;
    if (!present && free_slots != 0) {
      const auto i = static_cast<unsigned>(std::countr_zero(free_slots));
      s.slot_key_[i] = key;
      s.slot_t_[i] = now;
      s.slot_used_ = s.slot_used_ | (1u << i);
      s.slot_dir_ = d != 0 ? (s.slot_dir_ | (1u << i)) : (s.slot_dir_ & ~(1u << i) & 0xFu);
    }
  }

  // Connection state and handshake RTTs.
  if (rst) {
    f.flags |= kDirRst;
    if (s.half_open()) ev |= bit(TcpEvent::connection_rejected);
    if (s.state_ != static_cast<std::uint32_t>(TcpConnState::reset)) {
      s.state_ = static_cast<std::uint32_t>(TcpConnState::reset);
      ev |= bit(TcpEvent::connection_reset);
    }
  } else {
    auto st = static_cast<TcpConnState>(s.state_);
    if (syn) {
      f.flags |= kDirSyn;
      if (!ack && from_originator) {
        if (st == TcpConnState::none) {
          st = TcpConnState::syn_sent;
          ev |= bit(TcpEvent::connection_attempt);
        }
        if (s.hs_done_ == 0) {  // the most recent SYN, as Wireshark
          s.syn_t_ = now;
          s.syn_valid_ = 1;
        }
      } else if (ack && !from_originator) {
        if (st == TcpConnState::none || st == TcpConnState::syn_sent) st = TcpConnState::syn_received;
        if (s.hs_done_ == 0) {
          s.synack_t_ = now;
          s.synack_valid_ = 1;
        }
      }
    } else if (ack && from_originator && st == TcpConnState::syn_received && r_known &&
               ack_val == r.next_seq) {
      st = TcpConnState::established;
      if (s.hs_done_ == 0) {
        if (s.synack_t_ < s.syn_t_) s.syn_valid_ = 0;  // SYN-ACK before the latest SYN
        if (now < s.synack_t_) s.synack_valid_ = 0;
        const std::uint32_t server = s.synack_t_ - s.syn_t_;
        const std::uint32_t client = now - s.synack_t_;
        s.syn_t_ = s.syn_valid_ != 0 ? server : 0;
        s.synack_t_ = s.synack_valid_ != 0 ? client : 0;
        s.hs_done_ = 1;
        ev |= bit(TcpEvent::handshake_complete);
      }
    }
    if (st == TcpConnState::none && !syn) {
      st = TcpConnState::established;
      s.partial_ = 1;
    }
    if (fin) {
      f.flags |= kDirFin;
      if (st != TcpConnState::closed) {
        st = (r.flags & kDirFin) != 0 ? TcpConnState::fin_both : TcpConnState::fin_one;
      }
    }
    if (st == TcpConnState::fin_both) {
      const auto fin_acked = [&s](unsigned x) {
        const Direction& a = s.dir_[x];
        const Direction& b = s.dir_[x ^ 1];
        return (a.flags & kDirFin) != 0 && b.last_ack != 0 && seq_ge(b.last_ack, a.next_seq);
      };
      if (fin_acked(0) && fin_acked(1)) {
        st = TcpConnState::closed;
        ev |= bit(TcpEvent::connection_closed);
      }
    }
    s.state_ = static_cast<std::uint32_t>(st);
  }

  // History: each letter-case once, in the order first seen.
  const auto add = [&s, d](unsigned letter) {
    const unsigned code = d * 8 + letter;
    const unsigned m = 1u << code;
    if ((s.hist_seen_ & m) != 0) return;
    s.hist_seen_ = s.hist_seen_ | m;
    if (s.hist_len_ < TcpState::kMaxHistory) {
      s.hist_codes_ |= static_cast<std::uint64_t>(code) << (4 * s.hist_len_);
      s.hist_len_ = s.hist_len_ + 1;
    }
  };
  if (syn && ack == (d == 1)) add(kHistSyn);  // S from the originator, h from the responder
  if (payload_len > 0) add(kHistD);
  if (fin) add(kHistF);
  if (rst) add(kHistR);
  if (ack && plain && payload_len == 0) add(kHistA);
  if ((ev & kAnyRetransmission) != 0 && payload_len > 0) add(kHistT);
  if ((ev & bit(TcpEvent::zero_window)) != 0) add(kHistW);
  if ((ev & bit(TcpEvent::lost_segment)) != 0) add(kHistG);

  res.events = ev;
  return res;
}

std::uint32_t tcp_payload_length(const decode::DecodedPacket& p) noexcept {
  if (!p.has(decode::kLayerTcp)) return 0;
  std::size_t ip_end = 0;
  if (p.has(decode::kLayerIpv4)) {
    ip_end = static_cast<std::size_t>(p.l3_offset) + p.ipv4.total_length;
  } else if (p.has(decode::kLayerIpv6) && p.ipv6.payload_length != 0) {
    ip_end = static_cast<std::size_t>(p.l3_offset) + 40 + p.ipv6.payload_length;
  } else {
    return p.payload_len;  // jumbogram: what was decoded
  }
  return ip_end > p.payload_offset ? static_cast<std::uint32_t>(ip_end - p.payload_offset) : 0;
}

}  // namespace netscope::analysis
