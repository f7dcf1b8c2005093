// Ethernet II, 802.1Q/802.1ad tags and MPLS label stack entries.
#include "netscope/decode/packet.hpp"
#include "wire.hpp"

namespace netscope::decode {

namespace {
constexpr std::size_t kEthernetLen = 14;
constexpr std::size_t kVlanLen = 4;
constexpr std::size_t kMplsLen = 4;
}  // namespace

LayerResult decode_ethernet(Bytes data, EthernetHeader& out) noexcept {
  if (data.size() < kEthernetLen) return {Malformed::truncated_ethernet, 0};
  const std::uint8_t* p = data.data();
  for (std::size_t i = 0; i < 6; ++i) {
    out.dst[i] = p[i];
    out.src[i] = p[6 + i];
  }
  out.ethertype = wire::load16(p + 12);
  return {Malformed::none, kEthernetLen};
}

LayerResult decode_vlan(Bytes data, std::uint16_t tpid, VlanTag& out,
                        std::uint16_t& next_ethertype) noexcept {
  if (data.size() < kVlanLen) return {Malformed::truncated_vlan, 0};
  const std::uint16_t tci = wire::load16(data.data());
  out.tpid = tpid;
  out.pcp = static_cast<std::uint8_t>(tci >> 13);
  out.dei = (tci & 0x1000) != 0;
  out.vid = static_cast<std::uint16_t>(tci & 0x0FFF);
  next_ethertype = wire::load16(data.data() + 2);
  return {Malformed::none, kVlanLen};
}

LayerResult decode_mpls(Bytes data, MplsEntry& out) noexcept {
  if (data.size() < kMplsLen) return {Malformed::truncated_mpls, 0};
  const std::uint32_t e = wire::load32(data.data());
  out.label = e >> 12;
  out.tc = static_cast<std::uint8_t>((e >> 9) & 0x7);
  out.bottom = (e & 0x100) != 0;
  out.ttl = static_cast<std::uint8_t>(e & 0xFF);
  return {Malformed::none, kMplsLen};
}

}  // namespace netscope::decode
