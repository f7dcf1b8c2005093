// What netscope-gen sends: flows (protocol, addresses, crypto, sizes, payload, sequence
// pattern) read from YAML (schema in docs/generator.md) or built in.
//
// Control plane only: parsing allocates and throws ConfigError with a message that starts
// with the path of the offending field, e.g. "flows[2].macsec.key: expected 32 hex digits".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "netscope/packet/builders.hpp"
#include "netscope/packet/crypto.hpp"
#include "netscope/packet/sequence.hpp"

namespace netscope::packet {

/// A configuration problem; what() names the field.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class FlowProtocol : std::uint8_t { macsec, esp, esp_udp, ah, udp, tcp };
enum class IpsecMode : std::uint8_t { transport, tunnel };
enum class CryptoMode : std::uint8_t {
  real,  ///< ICVs computed and payload encrypted with the configured keys
  none,  ///< well-formed headers, zero ICV, payload in clear: maximum rate
};

/// Frame size including the 4-byte FCS (64 = the minimum Ethernet frame, 60 bytes written).
struct FrameSize {
  enum class Kind : std::uint8_t { fixed, range, imix };
  Kind kind = Kind::fixed;
  std::uint32_t min = 128;  ///< fixed size, or the range's lower bound
  std::uint32_t max = 128;  ///< the range's upper bound
};

/// Simple IMIX: 64, 570 and 1518-byte frames in the ratio 7:4:1, in a fixed 12-frame cycle.
inline constexpr std::array<std::uint32_t, 12> kImixCycle = {64, 570, 64, 64, 570, 64,
                                                             1518, 64, 570, 64, 570, 64};

struct PayloadSpec {
  enum class Kind : std::uint8_t {
    zero,     ///< all zero
    pattern,  ///< `pattern` repeated
    counter,  ///< byte i of packet k is (k + i) mod 256
    random,   ///< the flow's seeded stream
  };
  Kind kind = Kind::zero;
  std::vector<std::uint8_t> pattern;
};

struct MacsecSpec {
  std::uint64_t sci = 0;      ///< sent when `sc`; without SC the SCI is the source MAC + port 1
  std::uint8_t an = 0;        ///< AN of the first epoch; rekeys cycle it 0..3
  bool es = false;
  bool sc = true;
  bool scb = false;
  bool e = true;              ///< encrypt the secure data
  bool c = true;
  MacsecCipherSuite cipher = MacsecCipherSuite::gcm_aes_128;
  std::vector<std::uint8_t> key;
  std::vector<std::uint8_t> salt;  ///< 12 bytes, XPN suites
  std::uint32_t ssci = 1;          ///< XPN suites
};

struct IpsecSpec {
  std::uint32_t spi = 0x1000;  ///< SPI of the first epoch; a rekey adds 1
  IpsecMode mode = IpsecMode::transport;
  IpFields outer;              ///< tunnel endpoints (tunnel mode)
  bool esn = false;            ///< extended sequence numbers: high 32 bits in the ICV only
  EspAlgorithm esp_algorithm = EspAlgorithm::aes_gcm_128;
  AhAlgorithm ah_algorithm = AhAlgorithm::hmac_sha256_128;
  std::vector<std::uint8_t> key;   ///< AES key (ESP GCM) or HMAC key (ESP NULL, AH)
  std::vector<std::uint8_t> salt;  ///< 4 bytes, ESP AES-GCM
  std::uint16_t nat_t_src_port = decode::kNatTPort;
  std::uint16_t nat_t_dst_port = decode::kNatTPort;
};

struct FlowSpec {
  std::string name;
  FlowProtocol protocol = FlowProtocol::udp;
  std::uint32_t weight = 1;  ///< share of the packet count (when no flow sets rate_pps)
  /// Frames per second of this flow; either every flow sets one or none does. With rates,
  /// each flow has its own schedule (timestamps, TX order) and weights are not used.
  double rate_pps = 0.0;
  CryptoMode crypto = CryptoMode::real;
  MacAddr src_mac{0x02, 0, 0, 0, 0, 0x01};
  MacAddr dst_mac{0x02, 0, 0, 0, 0, 0x02};
  std::vector<VlanSpec> vlans;  ///< outermost first, at most kMaxVlanTags
  IpFields ip;                  ///< the plain packet, the IPsec transport header, or the tunnel's inner header
  std::uint8_t l4_protocol = decode::ipproto::kUdp;  ///< UDP or TCP inside MACsec/ESP/AH
  std::uint16_t src_port = 1024;
  /// 7 (echo): Wireshark shows the payload as data instead of guessing a protocol from
  /// random bytes through its heuristic dissectors.
  std::uint16_t dst_port = 7;
  bool udp_checksum = false;  ///< IPv4 UDP checksum (IPv6 UDP always has one)
  FrameSize size;
  PayloadSpec payload;
  MacsecSpec macsec;
  IpsecSpec ipsec;
  SequenceSpec sequence;

  [[nodiscard]] bool is_ipsec() const noexcept {
    return protocol == FlowProtocol::esp || protocol == FlowProtocol::esp_udp ||
           protocol == FlowProtocol::ah;
  }
  [[nodiscard]] bool has_sequence() const noexcept {
    return protocol == FlowProtocol::macsec || is_ipsec();
  }
  /// XPN cipher suite or ESN: the numbers' high 32 bits reach the crypto.
  [[nodiscard]] bool extended_numbering() const noexcept {
    return protocol == FlowProtocol::macsec ? is_xpn(macsec.cipher) : is_ipsec() && ipsec.esn;
  }
};

struct Scenario {
  std::vector<FlowSpec> flows;
  std::optional<std::uint64_t> count;  ///< default for --count
  std::optional<double> rate_pps;      ///< default for --rate-pps
  /// True when the flows set their own rate_pps (validate() checks all or none do).
  [[nodiscard]] bool flow_rates() const noexcept {
    return !flows.empty() && flows.front().rate_pps > 0.0;
  }
  /// Sum of the flows' rate_pps (0 without flow rates).
  [[nodiscard]] double flow_rate_sum() const noexcept {
    double s = 0.0;
    for (const FlowSpec& f : flows) s += f.rate_pps;
    return s;
  }
};

/// Parses a flow file. Throws ConfigError.
Scenario parse_scenario(std::string_view yaml_text);

/// Reads and parses a flow file. Throws ConfigError (also for an unreadable file).
Scenario load_scenario(const std::string& path);

/// Checks the cross-field rules (key lengths, address families, sequence limits).
/// parse_scenario() calls it; call it again after editing a Scenario. Throws ConfigError.
void validate(const Scenario& scenario);

/// The built-in demo: every protocol variant and every anomaly kind (config/gen-demo.yaml
/// holds the same text).
Scenario builtin_demo_scenario();

/// The YAML text of the built-in demo.
std::string_view builtin_demo_yaml() noexcept;

/// "macsec", "esp", "esp-udp", "ah", "udp", "tcp".
std::string_view to_string(FlowProtocol p) noexcept;

}  // namespace netscope::packet
