// decode_ipv6 and its extension header walk on arbitrary bytes.
#include <cstddef>
#include <cstdint>

#include "netscope/decode/packet.hpp"

namespace {
void require(bool ok) {
  if (!ok) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace d = netscope::decode;
  d::Ipv6Header h;
  const d::LayerResult r = d::decode_ipv6(d::Bytes{data, size}, h);
  require(h.ext_count <= d::kMaxIpv6ExtHeaders);
  if (!r.ok()) {
    require(r.length == 0);
    return 0;
  }
  require(r.length >= 40 && r.length <= size && r.length == h.header_chain_len);
  if (h.payload_length != 0) require(r.length <= 40u + h.payload_length);
  require(h.fragment || (h.fragment_offset == 0 && !h.more_fragments));
  namespace p = d::ipproto;
  for (std::size_t i = 0; i < h.ext_count; ++i) {
    const std::uint8_t t = h.ext_types[i];
    require(t == p::kHopByHop || t == p::kRouting || t == p::kFragment || t == p::kDestOpts);
  }
  return 0;
}
