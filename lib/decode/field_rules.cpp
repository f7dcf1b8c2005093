#include "netscope/decode/field_rules.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace netscope::decode {

namespace {

std::vector<std::string_view> split_spaces(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::uint64_t parse_number(std::string_view v, std::uint64_t max, std::string_view key) {
  int base = 10;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    v.remove_prefix(2);
    base = 16;
  }
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n, base);
  if (ec != std::errc() || end != v.data() + v.size() || v.empty() || n > max) {
    throw RuleError(std::string(key) + "=" + std::string(v) + ": expected a number up to " + std::to_string(max));
  }
  return n;
}

MacAddr parse_mac(std::string_view v, std::string_view key) {
  MacAddr m{};
  const std::string bad = std::string(key) + "=" + std::string(v) + ": expected a MAC address aa:bb:cc:dd:ee:ff";
  if (v.size() != 17) throw RuleError(bad);
  for (std::size_t i = 0; i < 6; ++i) {
    if (i > 0 && v[i * 3 - 1] != ':' && v[i * 3 - 1] != '-') throw RuleError(bad);
    unsigned b = 0;
    const auto [end, ec] = std::from_chars(v.data() + i * 3, v.data() + i * 3 + 2, b, 16);
    if (ec != std::errc() || end != v.data() + i * 3 + 2) throw RuleError(bad);
    m[i] = static_cast<std::uint8_t>(b);
  }
  return m;
}

IpPrefix parse_prefix(std::string_view v, std::string_view key) {
  const std::string bad = std::string(key) + "=" + std::string(v) + ": expected an IPv4/IPv6 address or prefix";
  const auto slash = v.find('/');
  const std::string addr(v.substr(0, slash));
  IpPrefix p;
  if (inet_pton(AF_INET, addr.c_str(), p.addr.bytes.data()) == 1) {
    p.addr.version = 4;
    p.bits = 32;
  } else if (inet_pton(AF_INET6, addr.c_str(), p.addr.bytes.data()) == 1) {
    p.addr.version = 6;
    p.bits = 128;
  } else {
    throw RuleError(bad);
  }
  if (slash != std::string_view::npos) {
    const std::uint8_t max = p.bits;
    p.bits = static_cast<std::uint8_t>(parse_number(v.substr(slash + 1), max, key));
  }
  for (std::size_t i = 0; i < 16; ++i) {  // clear host bits
    const int keep = std::clamp(static_cast<int>(p.bits) - static_cast<int>(i) * 8, 0, 8);
    p.addr.bytes[i] &= static_cast<std::uint8_t>(0xFF00u >> keep);
  }
  return p;
}

RuleProtocol parse_protocol(std::string_view v) {
  static constexpr std::pair<std::string_view, RuleProtocol> kNames[] = {
      {"macsec", RuleProtocol::macsec}, {"esp", RuleProtocol::esp},   {"ah", RuleProtocol::ah},
      {"tcp", RuleProtocol::tcp},       {"udp", RuleProtocol::udp},   {"icmp", RuleProtocol::icmp},
      {"icmpv6", RuleProtocol::icmpv6}, {"ipv4", RuleProtocol::ipv4}, {"ipv6", RuleProtocol::ipv6},
      {"arp", RuleProtocol::arp}};
  for (const auto& [name, p] : kNames) {
    if (v == name) return p;
  }
  throw RuleError("protocol=" + std::string(v) + ": expected macsec, esp, ah, tcp, udp, icmp, icmpv6, ipv4, ipv6 or arp");
}

bool in_prefix(const IpPrefix& pre, const IpAddr& a) noexcept {
  if (a.version != pre.addr.version) return false;
  const unsigned full = pre.bits / 8u;
  for (unsigned i = 0; i < full; ++i) {
    if (a.bytes[i] != pre.addr.bytes[i]) return false;
  }
  const unsigned rest = pre.bits % 8u;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF00u >> rest);
  return (a.bytes[full] & mask) == pre.addr.bytes[full];
}

bool has_protocol(const DecodedPacket& p, RuleProtocol proto) noexcept {
  switch (proto) {
    case RuleProtocol::macsec: return p.has(kLayerMacsec);
    case RuleProtocol::esp: return p.has(kLayerEsp);
    case RuleProtocol::ah: return p.has(kLayerAh);
    case RuleProtocol::tcp: return p.has(kLayerTcp);
    case RuleProtocol::udp: return p.has(kLayerUdp);
    case RuleProtocol::icmp: return p.has(kLayerIcmp);
    case RuleProtocol::icmpv6: return p.has(kLayerIcmpv6);
    case RuleProtocol::ipv4: return p.has(kLayerIpv4);
    case RuleProtocol::ipv6: return p.has(kLayerIpv6);
    case RuleProtocol::arp: return p.has(kLayerArp);
  }
  return false;
}

}  // namespace

FieldRule parse_field_rule(std::string_view text) {
  const std::vector<std::string_view> words = split_spaces(text);
  if (words.empty()) throw RuleError("empty rule: expected 'include|exclude KEY=VALUE ...'");
  FieldRule r;
  r.text = std::string(text);
  if (words[0] == "include") {
    r.include = true;
  } else if (words[0] != "exclude") {
    throw RuleError("'" + std::string(words[0]) + "': a rule starts with include or exclude");
  }
  if (words.size() < 2) throw RuleError("'" + std::string(text) + "': a rule needs at least one KEY=VALUE");
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string_view w = words[i];
    const auto eq = w.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == w.size()) {
      throw RuleError("'" + std::string(w) + "': expected KEY=VALUE");
    }
    const std::string_view key = w.substr(0, eq);
    const std::string_view v = w.substr(eq + 1);
    std::uint32_t bit = 0;
    if (key == "protocol" || key == "proto") {
      bit = FieldRule::kProtocol;
      r.protocol = parse_protocol(v);
    } else if (key == "sci") {
      bit = FieldRule::kSci;
      r.sci = parse_number(v.size() == 16 ? std::string("0x") + std::string(v) : std::string(v), ~std::uint64_t{0},
                           key);
    } else if (key == "spi") {
      bit = FieldRule::kSpi;
      r.spi = static_cast<std::uint32_t>(parse_number(v, 0xFFFFFFFFu, key));
    } else if (key == "mac") {
      bit = FieldRule::kMac;
      r.mac = parse_mac(v, key);
    } else if (key == "src_mac") {
      bit = FieldRule::kSrcMac;
      r.src_mac = parse_mac(v, key);
    } else if (key == "dst_mac") {
      bit = FieldRule::kDstMac;
      r.dst_mac = parse_mac(v, key);
    } else if (key == "ip") {
      bit = FieldRule::kIp;
      r.ip = parse_prefix(v, key);
    } else if (key == "src_ip") {
      bit = FieldRule::kSrcIp;
      r.src_ip = parse_prefix(v, key);
    } else if (key == "dst_ip") {
      bit = FieldRule::kDstIp;
      r.dst_ip = parse_prefix(v, key);
    } else if (key == "port") {
      bit = FieldRule::kPort;
      r.port = static_cast<std::uint16_t>(parse_number(v, 65535, key));
    } else if (key == "src_port") {
      bit = FieldRule::kSrcPort;
      r.src_port = static_cast<std::uint16_t>(parse_number(v, 65535, key));
    } else if (key == "dst_port") {
      bit = FieldRule::kDstPort;
      r.dst_port = static_cast<std::uint16_t>(parse_number(v, 65535, key));
    } else {
      throw RuleError("'" + std::string(key) +
                      "': unknown key (protocol, sci, spi, mac, src_mac, dst_mac, ip, src_ip, dst_ip, port, "
                      "src_port, dst_port)");
    }
    if (r.fields & bit) throw RuleError("'" + std::string(key) + "' given twice in '" + std::string(text) + "'");
    r.fields |= bit;
  }
  return r;
}

bool matches(const FieldRule& r, const DecodedPacket& p) noexcept {
  const std::uint32_t f = r.fields;
  if ((f & FieldRule::kProtocol) && !has_protocol(p, r.protocol)) return false;
  if ((f & FieldRule::kSci) && !(p.has(kLayerMacsec) && p.sectag.has_sci && p.sectag.sci == r.sci)) return false;
  if (f & FieldRule::kSpi) {
    const bool esp = p.has(kLayerEsp) && p.esp.spi == r.spi;
    const bool ah = p.has(kLayerAh) && p.ah.spi == r.spi;
    if (!esp && !ah) return false;
  }
  if (f & (FieldRule::kMac | FieldRule::kSrcMac | FieldRule::kDstMac)) {
    if (!p.has(kLayerEthernet)) return false;
    if ((f & FieldRule::kMac) && p.eth.src != r.mac && p.eth.dst != r.mac) return false;
    if ((f & FieldRule::kSrcMac) && p.eth.src != r.src_mac) return false;
    if ((f & FieldRule::kDstMac) && p.eth.dst != r.dst_mac) return false;
  }
  if (f & (FieldRule::kIp | FieldRule::kSrcIp | FieldRule::kDstIp)) {
    const IpAddr* src = nullptr;
    const IpAddr* dst = nullptr;
    if (p.has(kLayerIpv4)) {
      src = &p.ipv4.src;
      dst = &p.ipv4.dst;
    } else if (p.has(kLayerIpv6)) {
      src = &p.ipv6.src;
      dst = &p.ipv6.dst;
    } else {
      return false;
    }
    if ((f & FieldRule::kIp) && !in_prefix(r.ip, *src) && !in_prefix(r.ip, *dst)) return false;
    if ((f & FieldRule::kSrcIp) && !in_prefix(r.src_ip, *src)) return false;
    if ((f & FieldRule::kDstIp) && !in_prefix(r.dst_ip, *dst)) return false;
  }
  if (f & (FieldRule::kPort | FieldRule::kSrcPort | FieldRule::kDstPort)) {
    std::uint16_t sp = 0;
    std::uint16_t dp = 0;
    if (p.has(kLayerTcp)) {
      sp = p.tcp.src_port;
      dp = p.tcp.dst_port;
    } else if (p.has(kLayerUdp)) {
      sp = p.udp.src_port;
      dp = p.udp.dst_port;
    } else {
      return false;
    }
    if ((f & FieldRule::kPort) && sp != r.port && dp != r.port) return false;
    if ((f & FieldRule::kSrcPort) && sp != r.src_port) return false;
    if ((f & FieldRule::kDstPort) && dp != r.dst_port) return false;
  }
  return true;
}

FieldRules::FieldRules(std::vector<FieldRule> rules) : rules_(std::move(rules)) {
  has_include_ = std::any_of(rules_.begin(), rules_.end(), [](const FieldRule& r) { return r.include; });
}

bool FieldRules::accept(const DecodedPacket& p) const noexcept {
  bool included = !has_include_;
  for (const FieldRule& r : rules_) {
    if (r.include) {
      if (!included && matches(r, p)) included = true;
    } else if (matches(r, p)) {
      return false;
    }
  }
  return included;
}

}  // namespace netscope::decode
