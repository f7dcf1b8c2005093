// decode_ipv4 (header checksum, options walk) on arbitrary bytes.
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
  d::Ipv4Header h;
  const d::LayerResult r = d::decode_ipv4(d::Bytes{data, size}, h);
  if (!r.ok()) {
    require(r.length == 0);
    return 0;
  }
  require(r.length == h.ihl && h.ihl >= 20 && h.ihl <= 60 && r.length <= size);
  require(h.total_length >= h.ihl);
  require(h.options_len == h.ihl - 20);
  require(h.src.version == 4 && h.dst.version == 4);
  require(h.fragment_offset % 8 == 0);
  return 0;
}
