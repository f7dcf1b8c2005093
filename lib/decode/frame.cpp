// Whole-frame decoding, outside in. Each step decodes one header inside [off, end) and
// either advances or records the first malformed header and stops.
#include <algorithm>

#include "netscope/decode/packet.hpp"
#include "wire.hpp"

namespace netscope::decode {

namespace {

// Offsets in DecodedPacket are 16 bits: bytes beyond this are not decoded (wire_len
// still reports the whole frame).
constexpr std::size_t kMaxDecodedLen = 0xFFFF;
constexpr std::size_t kIpv6FixedLen = 40;
constexpr std::size_t kNonEspMarkerLen = 4;
constexpr std::uint8_t kNatKeepalive = 0xFF;

class FrameDecoder {
 public:
  FrameDecoder(Bytes frame, DecodedPacket& out) noexcept
      : base_(frame.data()), end_(std::min(frame.size(), kMaxDecodedLen)), out_(out) {}

  void run() noexcept {
    if (!l2()) return;
    switch (ethertype_) {
      case ethertype::kIpv4:
        ipv4();
        return;
      case ethertype::kIpv6:
        ipv6();
        return;
      case ethertype::kArp:
        out_.layers |= kLayerArp;
        out_.l3_offset = out_.l2_len;
        payload(off_, end_);
        return;
      default:
        payload(off_, end_);
        return;
    }
  }

 private:
  [[nodiscard]] Bytes at(std::size_t off, std::size_t end) const noexcept {
    return Bytes{base_ + off, end - off};
  }

  void payload(std::size_t off, std::size_t end) noexcept {
    out_.payload_offset = static_cast<std::uint16_t>(off);
    out_.payload_len = static_cast<std::uint16_t>(end - off);
  }

  /// Records the first malformed header; the payload fields say where it starts. Returns
  /// false so that the stages returning "continue?" can `return fail(...)`.
  bool fail(Malformed why, std::size_t off, std::size_t end) noexcept {
    out_.malformed = why;
    payload(off, end);
    return false;
  }

  /// Ethernet, tags, MACsec, MPLS. True when an L3 header follows: off_/end_ bound it and
  /// ethertype_ names it (for MPLS, the EtherType of the IP version found).
  [[nodiscard]] bool l2() noexcept {
    const LayerResult eth = decode_ethernet(at(0, end_), out_.eth);
    if (!eth.ok()) return fail(eth.error, 0, end_);
    out_.layers |= kLayerEthernet;
    off_ = eth.length;
    std::uint16_t et = out_.eth.ethertype;
    bool macsec_seen = false;
    // Every pass consumes a tag (at most kMaxVlanTags) or the single SecTAG.
    for (;;) {
      if (et == ethertype::kVlan || et == ethertype::kQinQ || et == ethertype::kQinQOld) {
        if (out_.vlan_count == kMaxVlanTags) {
          return fail(Malformed::vlan_depth_exceeded, off_, end_);
        }
        std::uint16_t next = 0;
        const LayerResult r = decode_vlan(at(off_, end_), et, out_.vlans[out_.vlan_count], next);
        if (!r.ok()) return fail(r.error, off_, end_);
        ++out_.vlan_count;
        out_.layers |= kLayerVlan;
        off_ += r.length;
        et = next;
      } else if (et == ethertype::kMacsec && !macsec_seen) {
        macsec_seen = true;
        Sectag& tag = out_.sectag;
        const LayerResult r = decode_sectag(at(off_, end_), tag);
        if (!r.ok()) return fail(r.error, off_, end_);
        out_.layers |= kLayerMacsec;
        tag.secure_data_offset = static_cast<std::uint16_t>(tag.secure_data_offset + off_);
        const std::size_t secure_begin = tag.secure_data_offset;
        const std::size_t secure_end = secure_begin + tag.secure_data_len;
        if (!tag.integrity_only()) {
          out_.ethertype = et;
          out_.l2_len = static_cast<std::uint16_t>(secure_begin);
          payload(secure_begin, secure_end);
          return false;
        }
        // Integrity only: the secure data is the MSDU, starting with its EtherType.
        end_ = secure_end;
        if (secure_begin + wire::kEthertypeLen > end_) {
          return fail(Malformed::truncated_ethernet, secure_begin, end_);
        }
        et = wire::load16(base_ + secure_begin);
        off_ = secure_begin + wire::kEthertypeLen;
      } else if (et == ethertype::kMplsUnicast || et == ethertype::kMplsMulticast) {
        out_.ethertype = et;
        return mpls();
      } else {
        break;
      }
    }
    out_.ethertype = et;
    ethertype_ = et;
    out_.l2_len = static_cast<std::uint16_t>(off_);
    return true;
  }

  [[nodiscard]] bool mpls() noexcept {
    for (;;) {
      if (out_.mpls_count == kMaxMplsLabels) {
        return fail(Malformed::mpls_depth_exceeded, off_, end_);
      }
      MplsEntry& e = out_.mpls[out_.mpls_count];
      const LayerResult r = decode_mpls(at(off_, end_), e);
      if (!r.ok()) return fail(r.error, off_, end_);
      ++out_.mpls_count;
      out_.layers |= kLayerMpls;
      off_ += r.length;
      if (e.bottom) break;
    }
    // No EtherType after the stack: the first nibble tells IPv4 from IPv6 (RFC 4385).
    if (off_ >= end_) return fail(Malformed::truncated_mpls, off_, end_);
    switch (base_[off_] >> 4) {
      case 4:
        ethertype_ = ethertype::kIpv4;
        break;
      case 6:
        ethertype_ = ethertype::kIpv6;
        break;
      default:
        return fail(Malformed::bad_mpls_payload, off_, end_);
    }
    out_.l2_len = static_cast<std::uint16_t>(off_);
    return true;
  }

  void ipv4() noexcept {
    out_.l3_offset = static_cast<std::uint16_t>(off_);
    Ipv4Header& ip = out_.ipv4;
    const LayerResult r = decode_ipv4(at(off_, end_), ip);
    if (!r.ok()) {
      fail(r.error, off_, end_);
      return;
    }
    out_.layers |= kLayerIpv4;
    out_.ip_version = 4;
    // Beyond total_length is Ethernet padding; short of it, the capture was cut (snaplen).
    const std::size_t ip_end = std::min(end_, off_ + ip.total_length);
    const std::size_t l4 = off_ + r.length;
    if (ip.more_fragments || ip.fragment_offset != 0) out_.layers |= kLayerIpFragment;
    if (ip.fragment_offset != 0) {
      out_.l4_protocol = ip.protocol;
      out_.l4_offset = static_cast<std::uint16_t>(l4);
      payload(l4, ip_end);
      return;
    }
    transport(ip.protocol, l4, ip_end, false);
  }

  void ipv6() noexcept {
    out_.l3_offset = static_cast<std::uint16_t>(off_);
    Ipv6Header& ip = out_.ipv6;
    const LayerResult r = decode_ipv6(at(off_, end_), ip);
    if (!r.ok()) {
      fail(r.error, off_, end_);
      return;
    }
    out_.layers |= kLayerIpv6;
    out_.ip_version = 6;
    const bool jumbo = ip.payload_length == 0 && ip.next_header == ipproto::kHopByHop;
    const std::size_t ip_end =
        jumbo ? end_ : std::min(end_, off_ + kIpv6FixedLen + ip.payload_length);
    const std::size_t l4 = off_ + r.length;
    if (ip.fragment) out_.layers |= kLayerIpFragment;
    if (ip.fragment_offset != 0) {
      out_.l4_protocol = ip.upper_protocol;
      out_.l4_offset = static_cast<std::uint16_t>(l4);
      payload(l4, ip_end);
      return;
    }
    transport(ip.upper_protocol, l4, ip_end, true);
  }

  /// The header after the IP chain: `l4_protocol`/`l4_offset` name it, even when it is AH
  /// and the transport header is found inside.
  void transport(std::uint8_t proto, std::size_t off, std::size_t end, bool over_ipv6) noexcept {
    out_.l4_protocol = proto;
    out_.l4_offset = static_cast<std::uint16_t>(off);
    if (proto != ipproto::kAh) {
      upper(proto, off, end);
      return;
    }
    AhHeader& ah = out_.ah;
    const LayerResult r = decode_ah(at(off, end), over_ipv6, ah);
    if (!r.ok()) {
      fail(r.error, off, end);
      return;
    }
    out_.layers |= kLayerAh;
    upper(ah.next_header, off + r.length, end);
  }

  /// Transport, ESP or tunnelled IP; never AH, so AH-in-AH stops after the first.
  void upper(std::uint8_t proto, std::size_t off, std::size_t end) noexcept {
    switch (proto) {
      case ipproto::kTcp: {
        const LayerResult r = decode_tcp(at(off, end), out_.tcp);
        if (!r.ok()) {
          fail(r.error, off, end);
          return;
        }
        out_.layers |= kLayerTcp;
        payload(off + r.length, end);
        return;
      }
      case ipproto::kUdp:
        udp(off, end);
        return;
      case ipproto::kIcmp: {
        const LayerResult r = decode_icmp(at(off, end), out_.icmp);
        if (!r.ok()) {
          fail(r.error, off, end);
          return;
        }
        out_.layers |= kLayerIcmp;
        payload(off + r.length, end);
        return;
      }
      case ipproto::kIcmpv6: {
        const LayerResult r = decode_icmpv6(at(off, end), out_.icmp);
        if (!r.ok()) {
          fail(r.error, off, end);
          return;
        }
        out_.layers |= kLayerIcmpv6;
        payload(off + r.length, end);
        return;
      }
      case ipproto::kEsp:
        esp(off, end, 0);
        return;
      case ipproto::kIpip:
      case ipproto::kIpv6:
        out_.layers |= kLayerInnerIp;
        payload(off, end);
        return;
      default:
        payload(off, end);
        return;
    }
  }

  void udp(std::size_t off, std::size_t end) noexcept {
    UdpHeader& u = out_.udp;
    const LayerResult r = decode_udp(at(off, end), u);
    if (!r.ok()) {
      fail(r.error, off, end);
      return;
    }
    out_.layers |= kLayerUdp;
    const std::size_t udp_end = std::min(end, off + u.length);
    const std::size_t data = off + r.length;
    payload(data, udp_end);
    if (u.src_port != kNatTPort && u.dst_port != kNatTPort) return;
    // RFC 3948: a one-byte 0xFF is a NAT keepalive, a zero SPI marks IKE, else ESP.
    const std::size_t len = udp_end - data;
    if (len == 0 || (len == 1 && base_[data] == kNatKeepalive)) return;
    if (len >= kNonEspMarkerLen && wire::load32(base_ + data) == 0) {
      out_.layers |= kLayerIkeNatT;
      payload(data + kNonEspMarkerLen, udp_end);
      return;
    }
    esp(data, udp_end, kLayerNatT);
  }

  void esp(std::size_t off, std::size_t end, std::uint32_t extra_layers) noexcept {
    const LayerResult r = decode_esp(at(off, end), out_.esp);
    if (!r.ok()) {
      fail(r.error, off, end);
      return;
    }
    out_.layers |= kLayerEsp | extra_layers;
    payload(off + r.length, end);
  }

  const std::uint8_t* base_;
  std::size_t off_ = 0;
  std::size_t end_;
  std::uint16_t ethertype_ = 0;
  DecodedPacket& out_;
};

}  // namespace

void decode_frame(Bytes frame, DecodedPacket& out) noexcept {
  out.layers = 0;
  out.malformed = Malformed::none;
  out.wire_len = static_cast<std::uint32_t>(frame.size());
  out.vlan_count = 0;
  out.mpls_count = 0;
  out.ethertype = 0;
  out.ip_version = 0;
  out.l4_protocol = 0;
  out.l2_len = 0;
  out.l3_offset = 0;
  out.l4_offset = 0;
  out.payload_offset = 0;
  out.payload_len = 0;
  FrameDecoder(frame, out).run();
}

}  // namespace netscope::decode
