// Include/exclude rules on decoded fields: protocol, MACsec SCI, ESP/AH SPI, MAC and IP
// addresses, ports. They decide which decoded packets are analyzed, after the tcpdump
// filter (which sees raw bytes) and the decoders.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "netscope/decode/packet.hpp"

namespace netscope::decode {

/// A bad rule text; the message names the token.
class RuleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Protocols a rule can name. A packet "is" every protocol it contains: ESP in UDP 4500
/// is esp and udp, a MACsec frame carrying IPv4 (integrity only) is macsec and ipv4.
enum class RuleProtocol : std::uint8_t { macsec, esp, ah, tcp, udp, icmp, icmpv6, ipv4, ipv6, arp };

struct IpPrefix {
  IpAddr addr;            ///< host bits cleared
  std::uint8_t bits = 0;  ///< prefix length (32 or 128 for one address)
};

/// One rule: an action and the fields it matches; every given field must match (AND).
struct FieldRule {
  enum Field : std::uint32_t {
    kProtocol = 1u << 0,
    kSci = 1u << 1,
    kSpi = 1u << 2,
    kMac = 1u << 3,  ///< source or destination
    kSrcMac = 1u << 4,
    kDstMac = 1u << 5,
    kIp = 1u << 6,   ///< source or destination, outer IP header
    kSrcIp = 1u << 7,
    kDstIp = 1u << 8,
    kPort = 1u << 9,  ///< source or destination, TCP or UDP
    kSrcPort = 1u << 10,
    kDstPort = 1u << 11,
  };
  bool include = false;  ///< include rule; else exclude
  std::uint32_t fields = 0;
  RuleProtocol protocol = RuleProtocol::macsec;
  std::uint64_t sci = 0;
  std::uint32_t spi = 0;  ///< ESP or AH
  MacAddr mac{}, src_mac{}, dst_mac{};
  IpPrefix ip, src_ip, dst_ip;
  std::uint16_t port = 0, src_port = 0, dst_port = 0;
  std::string text;  ///< as given, for messages and the APIs
};

/// Parses "include|exclude KEY=VALUE ..." with keys protocol (macsec, esp, ah, tcp, udp,
/// icmp, icmpv6, ipv4, ipv6, arp), sci (16 hex digits), spi (decimal or 0x hex), mac,
/// src_mac, dst_mac (aa:bb:cc:dd:ee:ff), ip, src_ip, dst_ip (address or CIDR prefix, v4
/// or v6), port, src_port, dst_port. At least one key. Throws RuleError.
FieldRule parse_field_rule(std::string_view text);

/// Whether every field of `r` matches `p`. Does not allocate.
bool matches(const FieldRule& r, const DecodedPacket& p) noexcept;

/// An ordered rule set. A packet is analyzed when, if there are include rules, it matches
/// at least one of them, and it matches no exclude rule.
class FieldRules {
 public:
  FieldRules() = default;
  explicit FieldRules(std::vector<FieldRule> rules);
  /// Per-packet decision. Does not allocate, lock or throw.
  bool accept(const DecodedPacket& p) const noexcept;
  bool empty() const noexcept { return rules_.empty(); }
  const std::vector<FieldRule>& rules() const noexcept { return rules_; }

 private:
  std::vector<FieldRule> rules_;
  bool has_include_ = false;
};

}  // namespace netscope::decode
