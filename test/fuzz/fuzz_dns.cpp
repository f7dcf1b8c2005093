// dns_parse, dns_name and dns_parse_tcp on arbitrary bytes. The input is a UDP message,
// and also a TCP stream cut in two at a point chosen by its first byte.
//
// Contract checked besides memory safety (buffers are exactly sized): names within 253
// characters and hashing to qname_hash; at most kDnsMaxAddresses addresses, answers
// within ancount; a message fully inside one segment parses the same whether the stream
// was cut or not; a message cut by a segment end is partial, never an error for it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "netscope/l7/dns.hpp"

namespace {

namespace l7 = netscope::l7;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

void check(const l7::DnsMessage& m) {
  require(static_cast<std::size_t>(m.error) < l7::kDnsErrorCount);
  require(m.qname_len <= l7::kDnsMaxName - 2);
  require(m.address_count <= l7::kDnsMaxAddresses);
  if (m.has(l7::kDnsHeader)) require(m.answers <= m.ancount);
  if (m.has(l7::kDnsQuestion)) {
    require(m.has(l7::kDnsHeader) && m.qdcount > 0);
    require(l7::name_hash_nocase(m.qname_view()) == m.qname_hash);
  }
  if (m.has(l7::kDnsAnswers)) require(m.answers == m.ancount && m.error == l7::DnsError::none);
  for (std::size_t k = 0; k < m.address_count; ++k) {
    require(m.addresses[k].version == 4 || m.addresses[k].version == 6);
  }
}

struct Seen {
  std::uint16_t length, id;
  std::uint8_t sections;
  l7::DnsError error;
  bool partial;
  std::uint16_t answers;
  std::uint32_t qname_hash;
};

std::vector<Seen> tcp(const std::uint8_t* data, std::size_t size, std::size_t cut, std::size_t& dropped) {
  l7::DnsTcpStream st{};
  std::array<l7::DnsMessage, 16> out{};
  std::vector<Seen> seen;
  dropped = 0;
  for (int part = 0; part < 2; ++part) {
    const std::vector<std::uint8_t> seg = part == 0 ? std::vector<std::uint8_t>(data, data + cut)
                                                    : std::vector<std::uint8_t>(data + cut, data + size);
    const l7::DnsTcpResult r = l7::dns_parse_tcp(st, {seg.data(), seg.size()}, out);
    require(r.records <= out.size() && r.records + r.dropped == r.messages);
    dropped += r.dropped;
    std::size_t errors = 0;
    for (std::size_t k = 0; k < r.records; ++k) {
      const l7::DnsMessage& m = out[k];
      check(m);
      if (m.error != l7::DnsError::none) ++errors;
      if (m.partial) require(k + 1 == r.records);  // only the last message may continue
      seen.push_back({m.length, m.has(l7::kDnsHeader) ? m.id : std::uint16_t{0}, m.sections, m.error,
                      m.partial, m.answers, m.qname_hash});
    }
    require(errors == r.errors);
  }
  return seen;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> msg(data, data + size);  // exactly sized
  l7::DnsMessage m;
  const l7::DnsError e = l7::dns_parse({msg.data(), msg.size()}, m);
  require(e == m.error && !m.partial && m.length == (size > 0xFFFF ? 0xFFFF : size));
  check(m);
  require(m.has(l7::kDnsHeader) == (size >= l7::kDnsHeaderLen));

  l7::DnsName name;
  std::size_t next = 0;
  const std::size_t offset = size > 0 ? data[0] % (size + 1) : 0;
  if (l7::dns_name({msg.data(), msg.size()}, offset, name, next) == l7::DnsError::none) {
    require(next > offset && next <= size && name.len <= l7::kDnsMaxName - 2);
  } else {
    require(name.len == 0);
  }

  std::size_t d1 = 0, d2 = 0;
  const std::vector<Seen> whole = tcp(data, size, size, d1);
  const std::vector<Seen> split = tcp(data, size, size > 0 ? data[0] % (size + 1) : 0, d2);
  if (d1 == 0 && d2 == 0) {
    require(whole.size() == split.size());
    for (std::size_t k = 0; k < whole.size(); ++k) {
      require(whole[k].length == split[k].length);
      if (whole[k].partial || split[k].partial) continue;
      require(whole[k].id == split[k].id && whole[k].sections == split[k].sections &&
              whole[k].error == split[k].error && whole[k].answers == split[k].answers &&
              whole[k].qname_hash == split[k].qname_hash);
    }
  }
  return 0;
}
