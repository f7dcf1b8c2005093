// detect, protocol_by_port, tls_sni, quic_long_header and ssh_banner on arbitrary bytes.
// Bytes 0-4 give the ports, the IP protocol (bit 0 of byte 4: UDP) and the SNI buffer size;
// the rest is the first payload.
//
// Contract checked besides memory safety (the payload is exactly sized): a known
// protocol; an SNI of 1..out.size() printable characters, or false with len 0; QUIC
// connection ids within their bound and inside the payload; SSH views inside the payload.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "netscope/l7/detect.hpp"

namespace {

namespace l7 = netscope::l7;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

bool inside(std::string_view v, const std::vector<std::uint8_t>& p) {
  if (v.empty()) return true;
  const auto* b = reinterpret_cast<const char*>(p.data());
  return v.data() >= b && v.data() + v.size() <= b + p.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5) return 0;
  const auto sport = static_cast<std::uint16_t>(data[0] << 8 | data[1]);
  const auto dport = static_cast<std::uint16_t>(data[2] << 8 | data[3]);
  const std::uint8_t proto = (data[4] & 1) != 0 ? 17 : 6;
  const std::size_t sni_size = data[4] >> 1;
  const std::vector<std::uint8_t> payload(data + 5, data + size);
  const l7::Bytes p{payload.data(), payload.size()};

  const l7::AppProtocol app = l7::detect(p, sport, dport, proto);
  require(static_cast<std::size_t>(app) < l7::kAppProtocolCount);
  require(!l7::to_string(app).empty());
  if (payload.empty()) require(app == l7::protocol_by_port(sport, dport, proto));

  std::vector<char> out(sni_size);
  std::size_t len = 12345;
  if (l7::tls_sni(p, out, len)) {
    require(len > 0 && len <= out.size());
    for (std::size_t k = 0; k < len; ++k) require(out[k] > 0x20 && out[k] < 0x7F);
  } else {
    require(len == 0);
  }

  l7::QuicLongHeader q;
  if (l7::quic_long_header(p, q)) {
    require(q.dcid_len <= l7::kQuicMaxCidLen && q.scid_len <= l7::kQuicMaxCidLen);
    require(7u + q.dcid_len + q.scid_len <= payload.size());
    if (proto == 17 && q.known_version && app != l7::AppProtocol::dns) require(app == l7::AppProtocol::quic);
  }

  l7::SshBanner s;
  if (l7::ssh_banner(p, s)) {
    require(!s.software.empty() && !s.proto.empty());
    require(inside(s.proto, payload) && inside(s.software, payload) && inside(s.comments, payload));
  }
  return 0;
}
