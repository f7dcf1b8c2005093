#include "netscope/packet/generator.hpp"

#include <algorithm>
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

  std::size_t build(std::span<std::uint8_t> buf, const SequenceSlot& slot) noexcept {
    const std::size_t len = next_len();
    std::size_t out = 0;
    switch (spec.protocol) {
      case FlowProtocol::macsec: out = build_macsec(buf, len, slot); break;
      case FlowProtocol::esp:
      case FlowProtocol::esp_udp: out = build_esp(buf, len, slot); break;
      case FlowProtocol::ah: out = build_ah(buf, len, slot); break;
      case FlowProtocol::udp:
      case FlowProtocol::tcp: out = build_plain(buf, len); break;
    }
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
    const Flow& f = *flows_.back();
    if (f.min_len > kMaxFrameLen) {
      throw ConfigError(path + ".size: the headers alone exceed 9000 bytes");
    }
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
  const double interval = 1e9 / opt_.rate_pps;
  if (opt_.pacing == Pacing::constant) {
    return static_cast<std::uint64_t>(static_cast<double>(produced_) * interval);
  }
  if (produced_ > 0) clock_ns_ += -std::log1p(-pacing_rng_.uniform()) * interval;
  return static_cast<std::uint64_t>(clock_ns_);
}

std::size_t Generator::next(std::span<std::uint8_t> buf, std::uint64_t& timestamp_ns) noexcept {
  if (flows_.empty() || buf.size() < max_frame_len_) return 0;
  if (opt_.count != 0 && produced_ >= opt_.count) return 0;
  const std::uint64_t offset = timestamp();
  if (opt_.duration_ns != 0 && offset >= opt_.duration_ns) return 0;
  Flow& f = *flows_[pick()];
  const SequenceSlot slot = f.spec.has_sequence() ? f.seq.next() : SequenceSlot{};
  const std::size_t len = f.build(buf, slot);
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
  timestamp_ns = opt_.start_time_ns + offset;
  ++produced_;
  bytes_ += len;
  return len;
}

std::string Generator::finish_truth() {
  truth_.finish();
  return truth_.to_json();
}

}  // namespace netscope::packet
