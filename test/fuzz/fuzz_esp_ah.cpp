// decode_esp and decode_ah. The first byte picks the address family for AH (bit 0 set:
// IPv6, whose AH length must be a multiple of 8); the rest is the header.
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
  if (size == 0) return 0;
  const bool ipv6 = (data[0] & 1) != 0;
  const d::Bytes rest{data + 1, size - 1};

  d::EspHeader esp;
  const d::LayerResult e = d::decode_esp(rest, esp);
  require(e.ok() == (rest.size() >= 8));
  require(e.ok() ? e.length == 8 : e.length == 0);

  d::AhHeader ah;
  const d::LayerResult a = d::decode_ah(rest, ipv6, ah);
  if (!a.ok()) {
    require(a.length == 0);
    return 0;
  }
  require(a.length == ah.header_len && a.length >= 12 && a.length <= rest.size());
  require(!ipv6 || a.length % 8 == 0);
  require(ah.icv_offset == 12 && ah.icv_offset + ah.icv_len == ah.header_len);
  return 0;
}
