// decode_frame on arbitrary bytes: every offset must stay inside the frame, and a reused
// DecodedPacket (never zeroed) must give the same answer as a fresh one.
#include <cstddef>
#include <cstdint>

#include "netscope/decode/packet.hpp"

namespace {

using netscope::decode::DecodedPacket;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

bool same_bookkeeping(const DecodedPacket& a, const DecodedPacket& b) {
  return a.layers == b.layers && a.malformed == b.malformed && a.wire_len == b.wire_len &&
         a.vlan_count == b.vlan_count && a.mpls_count == b.mpls_count &&
         a.ethertype == b.ethertype && a.ip_version == b.ip_version &&
         a.l4_protocol == b.l4_protocol && a.l2_len == b.l2_len && a.l3_offset == b.l3_offset &&
         a.l4_offset == b.l4_offset && a.payload_offset == b.payload_offset &&
         a.payload_len == b.payload_len;
}

DecodedPacket reused;  // keeps whatever the previous input left in it

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace d = netscope::decode;
  DecodedPacket fresh;
  d::decode_frame(d::Bytes{data, size}, fresh);
  d::decode_frame(d::Bytes{data, size}, reused);
  require(same_bookkeeping(fresh, reused));

  const DecodedPacket& p = fresh;
  require(p.wire_len == size);
  require(static_cast<std::size_t>(p.malformed) < d::kMalformedCount);
  require(p.l2_len <= size && p.l3_offset <= size && p.l4_offset <= size);
  require(std::size_t{p.payload_offset} + p.payload_len <= size);
  require(p.vlan_count <= d::kMaxVlanTags && p.mpls_count <= d::kMaxMplsLabels);
  if (p.has(d::kLayerMacsec)) {
    require(std::size_t{p.sectag.secure_data_offset} + p.sectag.secure_data_len +
                d::kMacsecIcvLen <=
            size);
  }
  if (p.has(d::kLayerIpv6)) require(p.ipv6.ext_count <= d::kMaxIpv6ExtHeaders);
  if (p.has(d::kLayerTcp)) require(p.tcp.options.sack_blocks <= d::kMaxSackBlocks);
  if (p.malformed == d::Malformed::none) require(p.has(d::kLayerEthernet));
  require(!d::to_string(p.malformed).empty());
  return 0;
}
