// decode_sectag on the bytes after the 0x88E5 EtherType.
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
  d::Sectag s;
  const d::LayerResult r = d::decode_sectag(d::Bytes{data, size}, s);
  if (!r.ok()) {
    require(r.length == 0);
    return 0;
  }
  require(r.length == 6 || r.length == 14);
  require(s.header_len == r.length + 2);
  require(s.has_sci == s.sc);
  require(!s.version && !(s.es && s.sc) && !(!s.encrypted && s.changed));
  require(s.an <= 3 && s.short_length < 48);
  require(s.secure_data_offset == r.length);
  require(std::size_t{s.secure_data_offset} + s.secure_data_len + d::kMacsecIcvLen <= size);
  if (s.short_length != 0) require(s.secure_data_len == s.short_length);
  return 0;
}
