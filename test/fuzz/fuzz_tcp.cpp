// decode_tcp and its options walk on arbitrary bytes.
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
  d::TcpHeader h;
  const d::LayerResult r = d::decode_tcp(d::Bytes{data, size}, h);
  if (!r.ok()) {
    require(r.length == 0);
    return 0;
  }
  require(r.length == h.data_offset && r.length >= 20 && r.length <= 60 && r.length <= size);
  require(h.options.sack_blocks <= d::kMaxSackBlocks);
  require(h.options.window_scale >= -1 && h.options.window_scale <= 255);
  return 0;
}
