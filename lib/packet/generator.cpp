#include "netscope/packet/generator.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <optional>
#include <utility>

#include "netscope/packet/builders.hpp"
#include "netscope/packet/wire.hpp"

namespace netscope::packet {
namespace {

using decode::ethertype::kIpv4;
using decode::ethertype::kIpv6;
using decode::ethertype::kMacsec;
namespace ipproto = decode::ipproto;

std::uint16_t ethertype_of(const IpFields& ip) noexcept { return ip.src.version == 6 ? kIpv6 : kIpv4; }
std::uint8_t ipip_of(const IpFields& ip) noexcept {
  return ip.src.version == 6 ? ipproto::kIpv6 : ipproto::kIpip;
}

/// memcpy for frames: up to 128 bytes (a 64-byte line-rate test) as 16-byte moves, the
/// last one overlapping, that the compiler keeps inline (74 bytes: 5 moves, not the 8 of two
/// overlapping 64-byte copies); longer ones through memcpy.
inline void copy_frame(std::uint8_t* dst, const std::uint8_t* src, std::size_t len) noexcept {
  if (len >= 16 && len <= 128) {
    for (std::size_t o = 0; o + 16 < len; o += 16) __builtin_memcpy(dst + o, src + o, 16);
    __builtin_memcpy(dst + len - 16, src + len - 16, 16);
  } else {
    std::memcpy(dst, src, len);
  }
}

}  // namespace

/// One flow's state. Owned by exactly one Generator (one thread).
struct Generator::Flow {
  FlowSpec spec;
  SequenceEngine seq;
  Rng rng;  ///< sizes and payload
  bool crypto = false;
  std::optional<MacsecProtector> macsec;
  std::optional<EspProtector> esp;
  std::optional<AhProtector> ah;
  std::uint64_t sci = 0;  ///< MACsec SCI used for the IV and as the SA key
  std::size_t l4_header_len = kUdpHeaderLen;
  std::size_t min_len = 0;  ///< smallest frame that fits the headers, bytes written
  std::uint64_t packets = 0;
  std::uint16_t ip_id = 0;
  std::uint32_t tcp_seq = 0;
  std::int64_t swrr = 0;  ///< smooth weighted round-robin credit
  std::uint32_t truth_epoch = ~0u;
  std::size_t truth_sa = 0;
  double interval_ns = 0.0;  ///< 1e9 / rate_pps (flow rates)
  double due_ns = 0.0;       ///< offset of this flow's next frame (flow rates)
  std::uint64_t scheduled = 0;

  // Where the last slow build wrote its parts; build_templates() turns them into offsets.
  std::uint8_t* rec_outer_ip = nullptr;  ///< IPsec outer (or transport) IP header
  std::uint8_t* rec_inner_ip = nullptr;  ///< IP header written by write_ip_packet
  std::uint8_t* rec_seg = nullptr;       ///< L4 header
  std::size_t rec_seg_len = 0;
  std::uint8_t* rec_proto = nullptr;     ///< SecTAG, ESP or AH header

  /// A whole frame as the slow path writes it for sequence number 0, epoch 0, IP id 0 and no
  /// crypto; per frame only the fields listed here change.
  struct Template {
    std::vector<std::uint8_t> bytes;
    std::array<std::uint32_t, 2> ipv4_off{};  ///< IPv4 headers whose id follows ip_id
    std::array<std::uint32_t, 2> ipv4_sum{};  ///< their one's complement sums with id 0 and checksum 0
    std::uint32_t ipv4_count = 0;
    std::uint32_t outer_ip_off = 0;
    std::uint32_t seg_off = 0;
    std::uint32_t seg_len = 0;
    std::uint32_t proto_off = 0;
  };
  /// Frame i uses templates[i % size]; empty: every frame is built field by field.
  std::vector<Template> templates;
  bool dynamic_payload = false;  ///< counter or random payload: filled per frame
  bool l4_recompute = false;     ///< the L4 checksum covers something that changes
  bool natt_v6 = false;          ///< ESP-in-UDP over IPv6: UDP checksum over the ciphertext

  Flow(const FlowSpec& s, std::uint64_t seq_seed, std::uint64_t rng_seed, bool no_crypto)
      : spec(s), seq(s.sequence, seq_seed), rng(rng_seed) {
    crypto = spec.crypto == CryptoMode::real && !no_crypto;
    l4_header_len = spec.l4_protocol == ipproto::kTcp ? kTcpHeaderLen : kUdpHeaderLen;
    sci = spec.macsec.sc ? spec.macsec.sci : implicit_sci(spec.src_mac);
    tcp_seq = static_cast<std::uint32_t>(rng.next());
    if (crypto) {
      switch (spec.protocol) {
        case FlowProtocol::macsec:
          macsec.emplace(spec.macsec.cipher, spec.macsec.key, spec.macsec.salt, spec.macsec.ssci);
          break;
        case FlowProtocol::esp:
        case FlowProtocol::esp_udp:
          esp.emplace(spec.ipsec.esp_algorithm, spec.ipsec.key, spec.ipsec.salt);
          break;
        case FlowProtocol::ah:
          ah.emplace(spec.ipsec.ah_algorithm, spec.ipsec.key);
          break;
        default:
          break;
      }
    }
    min_len = compute_min_len();
    if (spec.rate_pps > 0.0) interval_ns = 1e9 / spec.rate_pps;
  }

  /// Prepares the frame templates (fixed sizes and IMIX; random size ranges are built field
  /// by field). Allocates; control plane.
  void build_templates() {
    if (spec.size.kind == FrameSize::Kind::range) return;
    // ESP padding cycles with the frame index modulo 4, IMIX sizes modulo 12.
    const bool esp_flow = spec.protocol == FlowProtocol::esp || spec.protocol == FlowProtocol::esp_udp;
    const std::size_t n = spec.size.kind == FrameSize::Kind::imix ? kImixCycle.size() : esp_flow ? 4 : 1;
    const std::uint64_t saved_packets = packets;
    const std::uint16_t saved_id = ip_id;
    const std::uint32_t saved_seq = tcp_seq;
    const Rng saved_rng = rng;
    const bool saved_crypto = crypto;
    crypto = false;
    std::vector<std::uint8_t> buf(kMaxFrameLen);
    for (std::size_t k = 0; k < n; ++k) {
      packets = k;
      ip_id = 0;
      rec_outer_ip = rec_inner_ip = rec_seg = rec_proto = nullptr;
      const std::size_t len = build_slow(buf, next_len(), SequenceSlot{});
      Template t;
      t.bytes.assign(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(len));
      const auto off = [&](const std::uint8_t* p) {
        return static_cast<std::uint32_t>(p - buf.data());
      };
      for (std::uint8_t* ip : {rec_outer_ip, rec_inner_ip}) {
        if (ip == nullptr || (ip[0] >> 4) != 4) continue;
        std::uint8_t h[kIpv4HeaderLen];
        std::memcpy(h, ip, kIpv4HeaderLen);
        h[10] = h[11] = 0;
        t.ipv4_off[t.ipv4_count] = off(ip);
        t.ipv4_sum[t.ipv4_count] = checksum_add(h);
        ++t.ipv4_count;
      }
      t.outer_ip_off = rec_outer_ip != nullptr ? off(rec_outer_ip) : 0;
      t.seg_off = off(rec_seg);
      t.seg_len = static_cast<std::uint32_t>(rec_seg_len);
      t.proto_off = rec_proto != nullptr ? off(rec_proto) : 0;
      templates.push_back(std::move(t));
    }
    packets = saved_packets;
    ip_id = saved_id;
    tcp_seq = saved_seq;
    rng = saved_rng;
    crypto = saved_crypto;
    dynamic_payload = spec.payload.kind == PayloadSpec::Kind::counter ||
                      spec.payload.kind == PayloadSpec::Kind::random;
    const bool tcp = spec.l4_protocol == ipproto::kTcp;
    const bool l4_checksum = tcp || spec.udp_checksum || spec.ip.src.version == 6;
    l4_recompute = l4_checksum && (tcp || dynamic_payload);
    natt_v6 = spec.protocol == FlowProtocol::esp_udp && outer_ip().src.version == 6;
  }

  [[nodiscard]] const IpFields& outer_ip() const noexcept {
    return spec.ipsec.mode == IpsecMode::tunnel ? spec.ipsec.outer : spec.ip;
  }
  [[nodiscard]] bool tunnel() const noexcept { return spec.ipsec.mode == IpsecMode::tunnel; }
  [[nodiscard]] std::size_t l2_len() const noexcept {
    return kEthernetHeaderLen + spec.vlans.size() * kVlanTagLen;
  }
  [[nodiscard]] std::size_t esp_iv_len() const noexcept {
    return spec.ipsec.esp_algorithm == EspAlgorithm::null_hmac_sha256_128 ? 0 : 8;
  }
  [[nodiscard]] std::size_t esp_overhead() const noexcept {
    return l2_len() + outer_ip().header_len() +
           (spec.protocol == FlowProtocol::esp_udp ? kUdpHeaderLen : 0) + kEspHeaderLen +
           esp_iv_len() + 16;
  }
  [[nodiscard]] std::size_t ah_icv_field() const noexcept {
    return ah_icv_field_len(icv_len(spec.ipsec.ah_algorithm), outer_ip().src.version == 6);
  }

  [[nodiscard]] std::size_t compute_min_len() const noexcept {
    return std::max(headers_len(), kMinFrameLen);
  }

  /// Bytes of the headers, ICV and trailer, the least a frame of this flow needs.
  [[nodiscard]] std::size_t headers_len() const noexcept {
    const std::size_t ip_packet = spec.ip.header_len() + l4_header_len;
    switch (spec.protocol) {
      case FlowProtocol::macsec:
        return kEthernetHeaderLen + (spec.macsec.sc ? kSectagSciLen : kSectagLen) + 2 +
               spec.vlans.size() * kVlanTagLen + ip_packet + kMacsecIcvLen;
      case FlowProtocol::esp:
      case FlowProtocol::esp_udp: {
        const std::size_t inner = tunnel() ? ip_packet : l4_header_len;
        return esp_overhead() + (inner + kEspTrailerLen + 3) / 4 * 4;
      }
      case FlowProtocol::ah:
        return l2_len() + outer_ip().header_len() + kAhFixedLen + ah_icv_field() +
               (tunnel() ? ip_packet : l4_header_len);
      case FlowProtocol::udp:
      case FlowProtocol::tcp:
        break;
    }
    return l2_len() + ip_packet;
  }

  [[nodiscard]] std::size_t max_len() const noexcept {
    return std::clamp<std::size_t>(spec.size.max - kFcsLen, min_len, kMaxFrameLen);
  }

  std::size_t next_len() noexcept {
    std::size_t size = spec.size.min;
    switch (spec.size.kind) {
      case FrameSize::Kind::fixed:
        break;
      case FrameSize::Kind::range:
        size = spec.size.min + rng.below(std::uint64_t{spec.size.max} - spec.size.min + 1);
        break;
      case FrameSize::Kind::imix:
        size = kImixCycle[packets % kImixCycle.size()];
        break;
    }
    return std::clamp<std::size_t>(size - kFcsLen, min_len, kMaxFrameLen);
  }

  void fill_payload(std::span<std::uint8_t> out) noexcept {
    switch (spec.payload.kind) {
      case PayloadSpec::Kind::zero:
        std::memset(out.data(), 0, out.size());
        break;
      case PayloadSpec::Kind::pattern: {
        const auto& pat = spec.payload.pattern;
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = pat[i % pat.size()];
        break;
      }
      case PayloadSpec::Kind::counter:
        for (std::size_t i = 0; i < out.size(); ++i) {
          out[i] = static_cast<std::uint8_t>(packets + i);
        }
        break;
      case PayloadSpec::Kind::random: {
        std::size_t i = 0;
        for (; i + 8 <= out.size(); i += 8) store_be64(out.data() + i, rng.next());
        if (i < out.size()) {
          std::uint64_t r = rng.next();
          for (; i < out.size(); ++i, r >>= 8) out[i] = static_cast<std::uint8_t>(r);
        }
        break;
      }
    }
  }

  /// L4 header and payload, exactly `len` bytes (>= l4_header_len), checksum with the
  /// pseudo-header of `ip`.
  void write_segment(std::span<std::uint8_t> out, const IpFields& ip, std::size_t len) noexcept {
    const std::span<std::uint8_t> seg = out.first(len);
    rec_seg = seg.data();
    rec_seg_len = len;
    const std::size_t payload = len - l4_header_len;
    if (spec.l4_protocol == ipproto::kTcp) {
      TcpFields tcp;
      tcp.src_port = spec.src_port;
      tcp.dst_port = spec.dst_port;
      tcp.seq = tcp_seq;
      tcp.ack = 1;
      tcp_seq += static_cast<std::uint32_t>(payload);
      write_tcp(seg, tcp);
    } else {
      write_udp(seg, spec.src_port, spec.dst_port, payload);
    }
    fill_payload(seg.subspan(l4_header_len));
    if (spec.l4_protocol == ipproto::kTcp || spec.udp_checksum || ip.src.version == 6) {
      set_l4_checksum(seg, ip, spec.l4_protocol);
    }
  }

  /// IP header, L4 header and payload of the flow's (inner) packet, exactly `len` bytes.
  void write_ip_packet(std::span<std::uint8_t> out, std::size_t len) noexcept {
    IpFields ip = spec.ip;
    ip.id = ip_id;
    const std::size_t hdr = ip.header_len();
    rec_inner_ip = out.data();
    write_segment(out.subspan(hdr), ip, len - hdr);
    write_ip(out, ip, spec.l4_protocol, len - hdr);
  }

  std::size_t build_plain(std::span<std::uint8_t> buf, std::size_t len) noexcept {
    const std::size_t l2 = write_l2(buf, spec.dst_mac, spec.src_mac, spec.vlans, ethertype_of(spec.ip));
    write_ip_packet(buf.subspan(l2), len - l2);
    return len;
  }

  std::size_t build_macsec(std::span<std::uint8_t> buf, std::size_t len,
                           const SequenceSlot& slot) noexcept {
    const MacsecSpec& m = spec.macsec;
    SectagFields tag;
    tag.es = m.es;
    tag.sc = m.sc;
    tag.scb = m.scb;
    tag.e = m.e;
    tag.c = m.c;
    tag.an = static_cast<std::uint8_t>((m.an + slot.epoch) % 4);
    tag.pn = static_cast<std::uint32_t>(slot.number);
    tag.sci = sci;
    const std::size_t secure_off = kEthernetHeaderLen + tag.len();
    const std::size_t secure_len = len - secure_off - kMacsecIcvLen;
    tag.short_length = macsec_short_length(secure_len);
    write_ethernet(buf, spec.dst_mac, spec.src_mac, kMacsec);
    rec_proto = buf.data() + kEthernetHeaderLen;
    write_sectag(buf.subspan(kEthernetHeaderLen), tag);
    const std::size_t chain =
        write_tag_chain(buf.subspan(secure_off), spec.vlans, ethertype_of(spec.ip));
    write_ip_packet(buf.subspan(secure_off + chain), secure_len - chain);
    const std::span<std::uint8_t> frame = buf.first(len);
    if (crypto) {
      macsec->protect(frame, secure_off, sci, slot.number, m.e);
    } else {
      std::memset(frame.data() + len - kMacsecIcvLen, 0, kMacsecIcvLen);
    }
    return len;
  }

  std::size_t build_esp(std::span<std::uint8_t> buf, std::size_t len,
                        const SequenceSlot& slot) noexcept {
    const bool nat_t = spec.protocol == FlowProtocol::esp_udp;
    IpFields outer = outer_ip();
    outer.id = ip_id;
    const std::size_t ip_off = write_l2(buf, spec.dst_mac, spec.src_mac, spec.vlans, ethertype_of(outer));
    const std::size_t udp_off = ip_off + outer.header_len();
    const std::size_t esp_off = udp_off + (nat_t ? kUdpHeaderLen : 0);
    const std::size_t inner_off = esp_off + kEspHeaderLen + esp_iv_len();
    rec_outer_ip = buf.data() + ip_off;
    rec_proto = buf.data() + esp_off;
    // ESP needs payload + padding + 2 trailer bytes to be a multiple of 4: the frame is
    // up to 3 bytes shorter than asked. The padding length cycles 0..3 across packets.
    std::size_t body = len - inner_off - 16;
    len -= body % 4;
    body -= body % 4;
    const std::size_t inner_min = tunnel() ? spec.ip.header_len() + l4_header_len : l4_header_len;
    const std::size_t pad = std::min<std::size_t>(packets % 4, body - kEspTrailerLen - inner_min);
    const std::size_t inner = body - kEspTrailerLen - pad;
    if (tunnel()) {
      write_ip_packet(buf.subspan(inner_off), inner);
    } else {
      write_segment(buf.subspan(inner_off), outer, inner);
    }
    write_esp_trailer(buf.subspan(inner_off + inner), pad,
                      tunnel() ? ipip_of(spec.ip) : spec.l4_protocol);
    write_esp_header(buf.subspan(esp_off), spec.ipsec.spi + slot.epoch,
                     static_cast<std::uint32_t>(slot.number));
    write_ip(buf.subspan(ip_off), outer, nat_t ? ipproto::kUdp : ipproto::kEsp,
             len - udp_off);
    if (nat_t) {
      write_udp(buf.subspan(udp_off), spec.ipsec.nat_t_src_port, spec.ipsec.nat_t_dst_port,
                len - esp_off);
    }
    const std::span<std::uint8_t> esp_span = buf.subspan(esp_off, len - esp_off);
    if (crypto) {
      esp->protect(esp_span, packets, spec.ipsec.esn, static_cast<std::uint32_t>(slot.number >> 32));
    } else {
      if (esp_iv_len() != 0) store_be64(buf.data() + esp_off + kEspHeaderLen, packets);
      std::memset(buf.data() + len - 16, 0, 16);
    }
    // RFC 3948: zero UDP checksum over IPv4; IPv6 requires one, over the final bytes.
    if (nat_t && outer.src.version == 6) {
      set_l4_checksum(buf.subspan(udp_off, len - udp_off), outer, ipproto::kUdp);
    }
    return len;
  }

  std::size_t build_ah(std::span<std::uint8_t> buf, std::size_t len,
                       const SequenceSlot& slot) noexcept {
    IpFields outer = outer_ip();
    outer.id = ip_id;
    const std::size_t ip_off = write_l2(buf, spec.dst_mac, spec.src_mac, spec.vlans, ethertype_of(outer));
    const std::size_t ah_off = ip_off + outer.header_len();
    const std::size_t icv_field = ah_icv_field();
    const std::size_t inner_off = ah_off + kAhFixedLen + icv_field;
    rec_outer_ip = buf.data() + ip_off;
    rec_proto = buf.data() + ah_off;
    if (tunnel()) {
      write_ip_packet(buf.subspan(inner_off), len - inner_off);
    } else {
      write_segment(buf.subspan(inner_off), outer, len - inner_off);
    }
    write_ah(buf.subspan(ah_off), tunnel() ? ipip_of(spec.ip) : spec.l4_protocol, icv_field,
             spec.ipsec.spi + slot.epoch, static_cast<std::uint32_t>(slot.number));
    write_ip(buf.subspan(ip_off), outer, ipproto::kAh, len - ah_off);
    if (crypto) {
      ah->protect(buf.subspan(ip_off, len - ip_off), outer.header_len(), spec.ipsec.esn,
                  static_cast<std::uint32_t>(slot.number >> 32));
    }
    return len;
  }

  /// Every header written field by field: the reference path.
  std::size_t build_slow(std::span<std::uint8_t> buf, std::size_t len,
                         const SequenceSlot& slot) noexcept {
    std::size_t out = 0;
    switch (spec.protocol) {
      case FlowProtocol::macsec: out = build_macsec(buf, len, slot); break;
      case FlowProtocol::esp:
      case FlowProtocol::esp_udp: out = build_esp(buf, len, slot); break;
      case FlowProtocol::ah: out = build_ah(buf, len, slot); break;
      case FlowProtocol::udp:
      case FlowProtocol::tcp: out = build_plain(buf, len); break;
    }
    return out;
  }

  void natt_checksum(std::uint8_t* buf, const Template& t) noexcept {
    const std::size_t len = t.bytes.size();
    const std::size_t udp_off = t.outer_ip_off + kIpv6HeaderLen;
    set_l4_checksum({buf + udp_off, len - udp_off}, outer_ip(), ipproto::kUdp);
  }

  /// The cipher of a frame build_fast wrote from `t` for sequence number `number` as this
  /// flow's packet `packet` (crypto flows only), and what must follow it.
  void seal_fast(std::uint8_t* buf, const Template& t, std::uint64_t number,
                 std::uint64_t packet) noexcept {
    const std::size_t len = t.bytes.size();
    switch (spec.protocol) {
      case FlowProtocol::macsec:
        macsec->protect({buf, len},
                        kEthernetHeaderLen + (spec.macsec.sc ? kSectagSciLen : kSectagLen), sci,
                        number, spec.macsec.e);
        break;
      case FlowProtocol::esp:
      case FlowProtocol::esp_udp:
        esp->protect({buf + t.proto_off, len - t.proto_off}, packet, spec.ipsec.esn,
                     static_cast<std::uint32_t>(number >> 32));
        if (natt_v6) natt_checksum(buf, t);
        break;
      case FlowProtocol::ah:
        ah->protect({buf + t.outer_ip_off, len - t.outer_ip_off}, t.proto_off - t.outer_ip_off,
                    spec.ipsec.esn, static_cast<std::uint32_t>(number >> 32));
        break;
      case FlowProtocol::udp:
      case FlowProtocol::tcp:
        break;
    }
  }

  /// A copy of the template with the changing fields patched: the same bytes as build_slow.
  /// With `defer` the cipher is left to the caller (seal_fast with `t`, the sequence number
  /// and the packet index before build() increments it).
  std::size_t build_fast(std::uint8_t* buf, const SequenceSlot& slot, const Template& t,
                         bool defer) noexcept {
    const std::size_t len = t.bytes.size();
    copy_frame(buf, t.bytes.data(), len);
    for (std::uint32_t k = 0; k < t.ipv4_count; ++k) {
      // RFC 1624: only the id word differs from the template's sum.
      std::uint8_t* ip = buf + t.ipv4_off[k];
      std::uint32_t sum = t.ipv4_sum[k] + ip_id;
      sum = (sum & 0xFFFFu) + (sum >> 16);
      sum = (sum & 0xFFFFu) + (sum >> 16);
      store_be16(ip + 4, ip_id);
      store_be16(ip + 10, static_cast<std::uint16_t>(~sum));
    }
    std::uint8_t* seg = buf + t.seg_off;
    if (spec.l4_protocol == ipproto::kTcp) {
      store_be32(seg + 4, tcp_seq);
      tcp_seq += static_cast<std::uint32_t>(t.seg_len - l4_header_len);
    }
    if (dynamic_payload) fill_payload({seg + l4_header_len, t.seg_len - l4_header_len});
    if (l4_recompute) set_l4_checksum({seg, t.seg_len}, spec.ip, spec.l4_protocol);
    std::uint8_t* p = buf + t.proto_off;
    switch (spec.protocol) {
      case FlowProtocol::macsec: {
        const MacsecSpec& m = spec.macsec;
        p[0] = static_cast<std::uint8_t>((p[0] & 0xFCu) | ((m.an + slot.epoch) % 4));
        store_be32(p + 2, static_cast<std::uint32_t>(slot.number));
        if (crypto && !defer) seal_fast(buf, t, slot.number, packets);
        break;
      }
      case FlowProtocol::esp:
      case FlowProtocol::esp_udp: {
        store_be32(p, spec.ipsec.spi + slot.epoch);
        store_be32(p + 4, static_cast<std::uint32_t>(slot.number));
        if (esp_iv_len() != 0) store_be64(p + kEspHeaderLen, packets);
        // With crypto the NAT-T checksum over IPv6 follows the cipher, in seal_fast.
        if (crypto) {
          if (!defer) seal_fast(buf, t, slot.number, packets);
        } else if (natt_v6) {
          natt_checksum(buf, t);
        }
        break;
      }
      case FlowProtocol::ah:
        store_be32(p + 4, spec.ipsec.spi + slot.epoch);
        store_be32(p + 8, static_cast<std::uint32_t>(slot.number));
        if (crypto && !defer) seal_fast(buf, t, slot.number, packets);
        break;
      case FlowProtocol::udp:
      case FlowProtocol::tcp:
        break;
    }
    return len;
  }

  [[nodiscard]] const Template& template_now() const noexcept {
    return templates.size() == 1 ? templates[0] : templates[packets % templates.size()];
  }

  std::size_t build(std::uint8_t* buf, const SequenceSlot& slot) noexcept {
    const std::size_t out = templates.empty() ? build_slow({buf, kMaxFrameLen}, next_len(), slot)
                                              : build_fast(buf, slot, template_now(), false);
    ++packets;
    ++ip_id;
    return out;
  }

  /// build() from a template with the cipher left out; `t` is template_now().
  std::size_t build_deferred(std::uint8_t* buf, const SequenceSlot& slot,
                             const Template& t) noexcept {
    const std::size_t out = build_fast(buf, slot, t, true);
    ++packets;
    ++ip_id;
    return out;
  }

  [[nodiscard]] SaId sa_id(std::uint32_t epoch) const noexcept {
    SaId id;
    if (spec.protocol == FlowProtocol::macsec) {
      id.protocol = SaProtocol::macsec;
      id.sci = sci;
      id.an = static_cast<std::uint8_t>((spec.macsec.an + epoch) % 4);
    } else {
      id.protocol = spec.protocol == FlowProtocol::ah ? SaProtocol::ah : SaProtocol::esp;
      id.spi = spec.ipsec.spi + epoch;
      id.dst = outer_ip().dst;
      id.udp_encap = spec.protocol == FlowProtocol::esp_udp;
    }
    return id;
  }
};

Generator::Generator(const Scenario& scenario, const GeneratorOptions& options)
    : opt_(options), pacing_rng_(derive_seed(options.seed, ~0ull)), truth_(options.truth) {
  validate(scenario);
  if (!(opt_.rate_pps > 0.0)) throw ConfigError("rate_pps: must be positive");
  interval_ns_ = 1e9 / opt_.rate_pps;
  flow_rates_ = scenario.flow_rates();
  if (opt_.shard_count == 0 || opt_.shard_index >= opt_.shard_count) {
    throw ConfigError("shard_index: must be below shard_count");
  }
  for (std::size_t i = 0; i < scenario.flows.size(); ++i) {
    if (i % opt_.shard_count != opt_.shard_index) continue;
    const std::string path = "flows[" + std::to_string(i) + "]";
    try {
      flows_.push_back(std::make_unique<Flow>(scenario.flows[i], derive_seed(opt_.seed, 2 * i),
                                              derive_seed(opt_.seed, 2 * i + 1),
                                              opt_.force_no_crypto));
    } catch (const std::exception& e) {
      throw ConfigError(path + ": " + e.what());
    }
    Flow& f = *flows_.back();
    if (f.min_len > kMaxFrameLen) {
      throw ConfigError(path + ".size: the headers alone exceed 9000 bytes");
    }
    if (opt_.templates) f.build_templates();
    total_weight_ += f.spec.weight;
    max_frame_len_ = std::max(max_frame_len_, f.max_len());
  }
}

Generator::~Generator() = default;
Generator::Generator(Generator&&) noexcept = default;
Generator& Generator::operator=(Generator&&) noexcept = default;

std::size_t Generator::flow_count() const noexcept { return flows_.size(); }
const FlowSpec& Generator::flow(std::size_t i) const noexcept { return flows_[i]->spec; }
std::uint64_t Generator::flow_packets(std::size_t i) const noexcept { return flows_[i]->packets; }

std::size_t Generator::pick() noexcept {
  // Smooth weighted round-robin (as in nginx): deterministic and exact to within one
  // packet per flow for any count.
  std::size_t best = 0;
  for (std::size_t i = 0; i < flows_.size(); ++i) {
    flows_[i]->swrr += flows_[i]->spec.weight;
    if (flows_[i]->swrr > flows_[best]->swrr) best = i;
  }
  flows_[best]->swrr -= total_weight_;
  return best;
}

std::uint64_t Generator::timestamp() noexcept {
  if (opt_.pacing == Pacing::constant) {
    return static_cast<std::uint64_t>(static_cast<double>(produced_) * interval_ns_);
  }
  if (produced_ > 0) clock_ns_ += -std::log1p(-pacing_rng_.uniform()) * interval_ns_;
  return static_cast<std::uint64_t>(clock_ns_);
}

double Generator::requested_pps() const noexcept {
  if (!flow_rates_) return opt_.rate_pps;
  double s = 0.0;
  for (const auto& f : flows_) s += f->spec.rate_pps;
  return s;
}

inline std::size_t Generator::produce(std::uint8_t* buf, std::uint64_t& offset, Sealing* seal,
                                      std::size_t* pending) noexcept {
  if (opt_.count != 0 && produced_ >= opt_.count) return 0;
  std::size_t fi = 0;
  if (flow_rates_) {
    // Earliest due flow first (lowest index on ties); each flow keeps its own rate.
    for (std::size_t i = 1; i < flows_.size(); ++i) {
      if (flows_[i]->due_ns < flows_[fi]->due_ns) fi = i;
    }
    offset = static_cast<std::uint64_t>(flows_[fi]->due_ns);
    if (opt_.duration_ns != 0 && offset >= opt_.duration_ns) return 0;
    Flow& s = *flows_[fi];
    ++s.scheduled;
    if (opt_.pacing == Pacing::constant) {
      s.due_ns = static_cast<double>(s.scheduled) * s.interval_ns;
    } else {
      s.due_ns += -std::log1p(-pacing_rng_.uniform()) * s.interval_ns;
    }
  } else {
    // Constant timestamps follow from produced_ alone: skipped when nobody needs them.
    if (want_time_ || opt_.pacing != Pacing::constant) {
      offset = timestamp();
      if (opt_.duration_ns != 0 && offset >= opt_.duration_ns) return 0;
    }
    if (flows_.size() > 1) fi = pick();
  }
  Flow& f = *flows_[fi];
  const SequenceSlot slot = f.spec.has_sequence() ? f.seq.next() : SequenceSlot{};
  std::size_t len = 0;
  if (seal != nullptr && f.crypto && !f.templates.empty()) {
    const Flow::Template& t = f.template_now();
    seal[*pending] = Sealing{&f, buf, &t, slot.number, f.packets};
    ++*pending;
    len = f.build_deferred(buf, slot, t);
  } else {
    len = f.build(buf, slot);
  }
  if (opt_.track_truth && f.spec.has_sequence()) {
    if (slot.epoch != f.truth_epoch) {
      // A flow starting with ESN/XPN high bits: the receiver cannot know its absolute numbers.
      const bool absolute = !(slot.epoch == 0 && f.spec.extended_numbering() &&
                              (f.spec.sequence.first >> 32) != 0);
      f.truth_sa = truth_.sa(f.sa_id(slot.epoch), absolute);
      f.truth_epoch = slot.epoch;
    }
    truth_.observe(f.truth_sa, static_cast<std::uint32_t>(slot.number), len);
  }
  ++produced_;
  bytes_ += len;
  return len;
}

std::size_t Generator::next(std::span<std::uint8_t> buf, std::uint64_t& timestamp_ns) noexcept {
  if (flows_.empty() || buf.size() < max_frame_len_) return 0;
  std::uint64_t offset = 0;
  want_time_ = true;
  const std::size_t len = produce(buf.data(), offset);
  if (len != 0) timestamp_ns = opt_.start_time_ns + offset;
  return len;
}

std::size_t Generator::burst_one_flow(std::uint8_t* const* bufs, std::uint32_t* lens,
                                      std::size_t n) noexcept {
  Flow& f = *flows_[0];
  if (opt_.count != 0) n = static_cast<std::size_t>(std::min<std::uint64_t>(n, opt_.count - produced_));
  const bool numbered = f.spec.has_sequence();
  const bool crypto = f.crypto;
  Sealing seal[kSealBatch];
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < n;) {
    const std::size_t first = i;
    const std::size_t stop = std::min(n, i + kSealBatch);
    for (; i < stop; ++i) {
      const SequenceSlot slot = numbered ? f.seq.next() : SequenceSlot{};
      const Flow::Template& t = f.template_now();
      if (crypto) seal[i - first] = Sealing{&f, bufs[i], &t, slot.number, f.packets};
      const std::size_t len = f.build_deferred(bufs[i], slot, t);
      lens[i] = static_cast<std::uint32_t>(len);
      bytes += len;
    }
    if (crypto) {
      for (std::size_t k = 0; k < i - first; ++k) {
        f.seal_fast(seal[k].buf, *static_cast<const Flow::Template*>(seal[k].tmpl), seal[k].number,
                    seal[k].packet);
      }
    }
  }
  produced_ += n;
  bytes_ += bytes;
  return n;
}

std::size_t Generator::next_burst(std::uint8_t* const* bufs, std::uint32_t* lens,
                                  std::size_t n) noexcept {
  if (flows_.empty()) return 0;
  want_time_ = opt_.duration_ns != 0;
  if (flows_.size() == 1 && !flow_rates_ && !want_time_ && opt_.pacing == Pacing::constant &&
      !opt_.track_truth && !flows_[0]->templates.empty()) {
    return burst_one_flow(bufs, lens, n);
  }
  Sealing seal[kSealBatch];
  std::size_t i = 0;
  bool end = false;
  while (i < n && !end) {
    const std::size_t stop = std::min(n, i + kSealBatch);
    std::size_t pending = 0;
    for (; i < stop; ++i) {
      std::uint64_t offset = 0;
      const std::size_t len = produce(bufs[i], offset, seal, &pending);
      if (len == 0) {
        end = true;
        break;
      }
      lens[i] = static_cast<std::uint32_t>(len);
    }
    for (std::size_t k = 0; k < pending; ++k) {
      const Sealing& s = seal[k];
      s.flow->seal_fast(s.buf, *static_cast<const Flow::Template*>(s.tmpl), s.number, s.packet);
    }
  }
  return i;
}

std::string Generator::finish_truth() {
  truth_.finish();
  return truth_.to_json();
}

}  // namespace netscope::packet
