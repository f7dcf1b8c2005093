#include "netscope/packet/scenario.hpp"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <sstream>

namespace netscope::packet {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw ConfigError(path + ": " + what);
}

std::string where(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return m.line >= 0 ? " (line " + std::to_string(m.line + 1) + ")" : std::string();
}

void check_keys(const YAML::Node& map, const std::string& path,
                std::initializer_list<std::string_view> allowed) {
  if (!map.IsMap()) fail(path, "expected a mapping" + where(map));
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail(path.empty() ? key : path + "." + key, "unknown key" + where(kv.first) +
                                                      " (expected one of: " + list + ")");
    }
  }
}

std::string scalar(const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar()) fail(path, "expected a single value" + where(n));
  return n.Scalar();
}

std::uint64_t parse_u64(const YAML::Node& n, const std::string& path,
                        std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  std::string s = scalar(n, path);
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  int base = 10;
  std::string_view digits = s;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  }
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
    fail(path, "expected a non-negative integer (decimal or 0x hex), got '" + n.Scalar() + "'" +
                   where(n));
  }
  if (v > max) fail(path, "must be at most " + std::to_string(max) + where(n));
  return v;
}

double parse_double(const YAML::Node& n, const std::string& path) {
  const std::string s = scalar(n, path);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || errno != 0 || !std::isfinite(v)) {
    fail(path, "expected a number, got '" + s + "'" + where(n));
  }
  return v;
}

bool parse_bool(const YAML::Node& n, const std::string& path) {
  const std::string s = scalar(n, path);
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  fail(path, "expected true or false, got '" + s + "'" + where(n));
}

std::vector<std::uint8_t> parse_hex(const YAML::Node& n, const std::string& path) {
  std::string s = scalar(n, path);
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.erase(0, 2);
  std::string digits;
  for (char ch : s) {
    if (ch == ':' || ch == ' ' || ch == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(ch))) {
      fail(path, "expected hex digits, got '" + n.Scalar() + "'" + where(n));
    }
    digits += ch;
  }
  if (digits.empty() || digits.size() % 2 != 0) {
    fail(path, "expected an even number of hex digits" + where(n));
  }
  std::vector<std::uint8_t> out(digits.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(std::stoul(digits.substr(2 * i, 2), nullptr, 16));
  }
  return out;
}

MacAddr parse_mac(const YAML::Node& n, const std::string& path) {
  const std::string s = scalar(n, path);
  MacAddr mac{};
  unsigned b[6];
  char tail = 0;
  if (std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                  &b[5], &tail) != 6) {
    fail(path, "expected a MAC address like 02:00:00:00:00:01, got '" + s + "'" + where(n));
  }
  for (int i = 0; i < 6; ++i) mac[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(b[i]);
  return mac;
}

IpAddr parse_ip(const YAML::Node& n, const std::string& path) {
  const std::string s = scalar(n, path);
  IpAddr ip;
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) {
    ip.version = 4;
  } else if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) {
    ip.version = 6;
  } else {
    fail(path, "expected an IPv4 or IPv6 address, got '" + s + "'" + where(n));
  }
  return ip;
}

// "0x0200000000010001", "0200000000010001" or "02:00:00:00:00:01/1" (system id / port).
std::uint64_t parse_sci(const YAML::Node& n, const std::string& path) {
  const std::string s = scalar(n, path);
  const auto slash = s.find('/');
  if (slash != std::string::npos) {
    const MacAddr mac = parse_mac(YAML::Node(s.substr(0, slash)), path);
    const std::uint64_t port = parse_u64(YAML::Node(s.substr(slash + 1)), path, 0xFFFF);
    return (implicit_sci(mac) & ~std::uint64_t{0xFFFF}) | port;
  }
  const std::vector<std::uint8_t> bytes = parse_hex(n, path);
  if (bytes.size() != 8) fail(path, "expected 16 hex digits or MAC/port" + where(n));
  std::uint64_t sci = 0;
  for (std::uint8_t b : bytes) sci = (sci << 8) | b;
  return sci;
}

IpFields parse_ip_fields(const YAML::Node& n, const std::string& path, IpFields ip) {
  check_keys(n, path, {"src", "dst", "ttl", "tos", "flow_label", "id", "df"});
  if (n["src"]) ip.src = parse_ip(n["src"], path + ".src");
  if (n["dst"]) ip.dst = parse_ip(n["dst"], path + ".dst");
  if (n["ttl"]) ip.ttl = static_cast<std::uint8_t>(parse_u64(n["ttl"], path + ".ttl", 255));
  if (n["tos"]) ip.tos = static_cast<std::uint8_t>(parse_u64(n["tos"], path + ".tos", 255));
  if (n["flow_label"]) {
    ip.flow_label = static_cast<std::uint32_t>(parse_u64(n["flow_label"], path + ".flow_label", 0xFFFFF));
  }
  if (n["id"]) ip.id = static_cast<std::uint16_t>(parse_u64(n["id"], path + ".id", 0xFFFF));
  if (n["df"]) ip.dont_fragment = parse_bool(n["df"], path + ".df");
  if (ip.src.version != ip.dst.version) fail(path, "src and dst must be the same IP version");
  return ip;
}

SequenceTrigger parse_trigger(const YAML::Node& n, const std::string& path,
                              std::initializer_list<std::string_view> extra,
                              std::uint32_t* extra_value) {
  std::vector<std::string_view> keys = {"every", "probability", "list"};
  keys.insert(keys.end(), extra.begin(), extra.end());
  if (!n.IsMap()) fail(path, "expected a mapping with every, probability or list" + where(n));
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      fail(path + "." + key, "unknown key" + where(kv.first));
    }
  }
  SequenceTrigger t;
  if (n["every"]) t.every = parse_u64(n["every"], path + ".every");
  if (n["probability"]) {
    t.probability = parse_double(n["probability"], path + ".probability");
    if (t.probability < 0.0 || t.probability >= 1.0) {
      fail(path + ".probability", "must be in [0, 1)" + where(n["probability"]));
    }
  }
  if (n["list"]) {
    const YAML::Node list = n["list"];
    if (!list.IsSequence()) fail(path + ".list", "expected a list of numbers" + where(list));
    for (std::size_t i = 0; i < list.size(); ++i) {
      t.list.push_back(parse_u64(list[i], path + ".list[" + std::to_string(i) + "]"));
    }
  }
  for (std::string_view e : extra) {
    const std::string key(e);
    if (n[key] && extra_value != nullptr) {
      *extra_value = static_cast<std::uint32_t>(parse_u64(n[key], path + "." + key, 1u << 20));
    }
  }
  return t;
}

SequenceSpec parse_sequence(const YAML::Node& n, const std::string& path) {
  check_keys(n, path,
             {"first", "gaps", "duplicates", "reorder", "rekey_every", "rekey_first", "stuck",
              "restart"});
  SequenceSpec s;
  if (n["first"]) s.first = parse_u64(n["first"], path + ".first");
  if (n["gaps"]) s.gaps = parse_trigger(n["gaps"], path + ".gaps", {"size"}, &s.gap_size);
  if (n["duplicates"]) s.duplicates = parse_trigger(n["duplicates"], path + ".duplicates", {}, nullptr);
  if (n["reorder"]) {
    s.reorder = parse_trigger(n["reorder"], path + ".reorder", {"distance"}, &s.reorder_distance);
  }
  if (n["rekey_every"]) s.rekey_every = parse_u64(n["rekey_every"], path + ".rekey_every");
  if (n["rekey_first"]) s.rekey_first = parse_u64(n["rekey_first"], path + ".rekey_first");
  if (n["stuck"]) {
    const YAML::Node st = n["stuck"];
    check_keys(st, path + ".stuck", {"at", "count"});
    if (!st["at"]) fail(path + ".stuck.at", "required" + where(st));
    s.stuck_at = parse_u64(st["at"], path + ".stuck.at");
    if (st["count"]) s.stuck_count = parse_u64(st["count"], path + ".stuck.count");
  }
  if (n["restart"]) {
    const YAML::Node rs = n["restart"];
    check_keys(rs, path + ".restart", {"at", "value"});
    if (!rs["at"]) fail(path + ".restart.at", "required" + where(rs));
    s.restart_at = parse_u64(rs["at"], path + ".restart.at");
    if (rs["value"]) s.restart_value = parse_u64(rs["value"], path + ".restart.value");
  }
  return s;
}

FrameSize parse_size(const YAML::Node& n, const std::string& path) {
  FrameSize size;
  if (n.IsScalar() && n.Scalar() == "imix") {
    size.kind = FrameSize::Kind::imix;
    size.min = 64;
    size.max = 1518;
    return size;
  }
  if (n.IsScalar()) {
    size.min = size.max = static_cast<std::uint32_t>(parse_u64(n, path, kMaxFrameSize));
    return size;
  }
  check_keys(n, path, {"min", "max"});
  if (!n["min"] || !n["max"]) fail(path, "a range needs min and max" + where(n));
  size.kind = FrameSize::Kind::range;
  size.min = static_cast<std::uint32_t>(parse_u64(n["min"], path + ".min", kMaxFrameSize));
  size.max = static_cast<std::uint32_t>(parse_u64(n["max"], path + ".max", kMaxFrameSize));
  return size;
}

PayloadSpec parse_payload(const YAML::Node& n, const std::string& path) {
  PayloadSpec p;
  if (n.IsScalar()) {
    const std::string s = n.Scalar();
    if (s == "zero") p.kind = PayloadSpec::Kind::zero;
    else if (s == "counter") p.kind = PayloadSpec::Kind::counter;
    else if (s == "random") p.kind = PayloadSpec::Kind::random;
    else fail(path, "expected zero, counter, random or {pattern: HEX}, got '" + s + "'" + where(n));
    return p;
  }
  check_keys(n, path, {"pattern"});
  if (!n["pattern"]) fail(path + ".pattern", "required" + where(n));
  p.kind = PayloadSpec::Kind::pattern;
  p.pattern = parse_hex(n["pattern"], path + ".pattern");
  return p;
}

FlowProtocol parse_protocol(const YAML::Node& n, const std::string& path) {
  const std::string s = scalar(n, path);
  for (FlowProtocol p : {FlowProtocol::macsec, FlowProtocol::esp, FlowProtocol::esp_udp,
                         FlowProtocol::ah, FlowProtocol::udp, FlowProtocol::tcp}) {
    if (s == to_string(p)) return p;
  }
  fail(path, "expected macsec, esp, esp-udp, ah, udp or tcp, got '" + s + "'" + where(n));
}

void parse_macsec(const YAML::Node& n, const std::string& path, MacsecSpec& m) {
  check_keys(n, path, {"sci", "an", "es", "sc", "scb", "e", "c", "cipher", "key", "salt", "ssci"});
  if (n["sci"]) m.sci = parse_sci(n["sci"], path + ".sci");
  if (n["an"]) m.an = static_cast<std::uint8_t>(parse_u64(n["an"], path + ".an", 3));
  if (n["es"]) m.es = parse_bool(n["es"], path + ".es");
  if (n["sc"]) m.sc = parse_bool(n["sc"], path + ".sc");
  if (n["scb"]) m.scb = parse_bool(n["scb"], path + ".scb");
  if (n["e"]) m.e = m.c = parse_bool(n["e"], path + ".e");
  if (n["c"]) m.c = parse_bool(n["c"], path + ".c");
  if (n["cipher"]) {
    const std::string c = scalar(n["cipher"], path + ".cipher");
    if (c == "gcm-aes-128") m.cipher = MacsecCipherSuite::gcm_aes_128;
    else if (c == "gcm-aes-256") m.cipher = MacsecCipherSuite::gcm_aes_256;
    else if (c == "gcm-aes-xpn-128") m.cipher = MacsecCipherSuite::gcm_aes_xpn_128;
    else if (c == "gcm-aes-xpn-256") m.cipher = MacsecCipherSuite::gcm_aes_xpn_256;
    else {
      fail(path + ".cipher", "expected gcm-aes-128, gcm-aes-256, gcm-aes-xpn-128 or "
                             "gcm-aes-xpn-256, got '" + c + "'" + where(n["cipher"]));
    }
  }
  if (n["key"]) m.key = parse_hex(n["key"], path + ".key");
  if (n["salt"]) m.salt = parse_hex(n["salt"], path + ".salt");
  if (n["ssci"]) m.ssci = static_cast<std::uint32_t>(parse_u64(n["ssci"], path + ".ssci", 0xFFFFFFFFu));
}

void parse_ipsec(const YAML::Node& n, const std::string& path, bool esp, const IpFields& inner,
                 IpsecSpec& s) {
  if (esp) {
    check_keys(n, path, {"spi", "mode", "outer", "esn", "algorithm", "key", "salt", "nat_t"});
  } else {
    check_keys(n, path, {"spi", "mode", "outer", "esn", "algorithm", "key"});
  }
  if (n["spi"]) s.spi = static_cast<std::uint32_t>(parse_u64(n["spi"], path + ".spi", 0xFFFFFFFFu));
  if (n["mode"]) {
    const std::string m = scalar(n["mode"], path + ".mode");
    if (m == "transport") s.mode = IpsecMode::transport;
    else if (m == "tunnel") s.mode = IpsecMode::tunnel;
    else fail(path + ".mode", "expected transport or tunnel, got '" + m + "'" + where(n["mode"]));
  }
  if (n["outer"]) s.outer = parse_ip_fields(n["outer"], path + ".outer", inner);
  if (n["esn"]) s.esn = parse_bool(n["esn"], path + ".esn");
  if (n["algorithm"]) {
    const std::string a = scalar(n["algorithm"], path + ".algorithm");
    if (esp && a == "aes-gcm-128") s.esp_algorithm = EspAlgorithm::aes_gcm_128;
    else if (esp && a == "aes-gcm-256") s.esp_algorithm = EspAlgorithm::aes_gcm_256;
    else if (esp && a == "null-hmac-sha256-128") s.esp_algorithm = EspAlgorithm::null_hmac_sha256_128;
    else if (!esp && a == "hmac-sha256-128") s.ah_algorithm = AhAlgorithm::hmac_sha256_128;
    else if (!esp && a == "hmac-sha1-96") s.ah_algorithm = AhAlgorithm::hmac_sha1_96;
    else {
      fail(path + ".algorithm",
           std::string(esp ? "expected aes-gcm-128, aes-gcm-256 or null-hmac-sha256-128"
                           : "expected hmac-sha256-128 or hmac-sha1-96") +
               ", got '" + a + "'" + where(n["algorithm"]));
    }
  }
  if (n["key"]) s.key = parse_hex(n["key"], path + ".key");
  if (esp && n["salt"]) s.salt = parse_hex(n["salt"], path + ".salt");
  if (esp && n["nat_t"]) {
    const YAML::Node nt = n["nat_t"];
    check_keys(nt, path + ".nat_t", {"src_port", "dst_port"});
    if (nt["src_port"]) {
      s.nat_t_src_port = static_cast<std::uint16_t>(parse_u64(nt["src_port"], path + ".nat_t.src_port", 0xFFFF));
    }
    if (nt["dst_port"]) {
      s.nat_t_dst_port = static_cast<std::uint16_t>(parse_u64(nt["dst_port"], path + ".nat_t.dst_port", 0xFFFF));
    }
  }
}

FlowSpec parse_flow(const YAML::Node& n, const std::string& path) {
  check_keys(n, path,
             {"name", "protocol", "weight", "rate_pps", "crypto", "eth", "vlan", "ip", "l4", "size", "payload",
              "macsec", "esp", "ah", "sequence"});
  FlowSpec f;
  if (!n["protocol"]) fail(path + ".protocol", "required" + where(n));
  f.protocol = parse_protocol(n["protocol"], path + ".protocol");
  f.name = n["name"] ? scalar(n["name"], path + ".name") : path;
  if (n["weight"]) f.weight = static_cast<std::uint32_t>(parse_u64(n["weight"], path + ".weight", 1'000'000));
  if (n["rate_pps"]) {
    f.rate_pps = parse_double(n["rate_pps"], path + ".rate_pps");
    if (!(f.rate_pps > 0.0)) fail(path + ".rate_pps", "must be positive" + where(n["rate_pps"]));
  }
  if (n["crypto"]) {
    const std::string c = scalar(n["crypto"], path + ".crypto");
    if (c == "real") f.crypto = CryptoMode::real;
    else if (c == "none") f.crypto = CryptoMode::none;
    else fail(path + ".crypto", "expected real or none, got '" + c + "'" + where(n["crypto"]));
  }
  f.ip.src.version = f.ip.dst.version = 4;
  f.ip.src.bytes = {10, 0, 0, 1};
  f.ip.dst.bytes = {10, 0, 0, 2};
  if (n["eth"]) {
    const YAML::Node e = n["eth"];
    check_keys(e, path + ".eth", {"src", "dst"});
    if (e["src"]) f.src_mac = parse_mac(e["src"], path + ".eth.src");
    if (e["dst"]) f.dst_mac = parse_mac(e["dst"], path + ".eth.dst");
  }
  if (n["vlan"]) {
    const YAML::Node v = n["vlan"];
    if (!v.IsSequence()) fail(path + ".vlan", "expected a list of tags, outermost first" + where(v));
    if (v.size() > kMaxVlanTags) fail(path + ".vlan", "at most 2 tags (QinQ)" + where(v));
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string tp = path + ".vlan[" + std::to_string(i) + "]";
      check_keys(v[i], tp, {"vid", "pcp", "dei", "tpid"});
      VlanSpec tag;
      // The outer tag of a QinQ pair is an 802.1ad S-tag unless told otherwise.
      tag.tpid = v.size() == 2 && i == 0 ? decode::ethertype::kQinQ : decode::ethertype::kVlan;
      if (!v[i]["vid"]) fail(tp + ".vid", "required" + where(v[i]));
      tag.vid = static_cast<std::uint16_t>(parse_u64(v[i]["vid"], tp + ".vid", 4095));
      if (v[i]["pcp"]) tag.pcp = static_cast<std::uint8_t>(parse_u64(v[i]["pcp"], tp + ".pcp", 7));
      if (v[i]["dei"]) tag.dei = parse_bool(v[i]["dei"], tp + ".dei");
      if (v[i]["tpid"]) tag.tpid = static_cast<std::uint16_t>(parse_u64(v[i]["tpid"], tp + ".tpid", 0xFFFF));
      f.vlans.push_back(tag);
    }
  }
  if (n["ip"]) f.ip = parse_ip_fields(n["ip"], path + ".ip", f.ip);
  f.l4_protocol = f.protocol == FlowProtocol::tcp ? decode::ipproto::kTcp : decode::ipproto::kUdp;
  if (n["l4"]) {
    const YAML::Node l = n["l4"];
    check_keys(l, path + ".l4", {"protocol", "src_port", "dst_port", "checksum"});
    if (l["protocol"]) {
      const std::string p = scalar(l["protocol"], path + ".l4.protocol");
      if (p == "udp") f.l4_protocol = decode::ipproto::kUdp;
      else if (p == "tcp") f.l4_protocol = decode::ipproto::kTcp;
      else fail(path + ".l4.protocol", "expected udp or tcp, got '" + p + "'" + where(l["protocol"]));
      if ((f.protocol == FlowProtocol::udp && p != "udp") ||
          (f.protocol == FlowProtocol::tcp && p != "tcp")) {
        fail(path + ".l4.protocol", "contradicts protocol: " + std::string(to_string(f.protocol)));
      }
    }
    if (l["src_port"]) f.src_port = static_cast<std::uint16_t>(parse_u64(l["src_port"], path + ".l4.src_port", 0xFFFF));
    if (l["dst_port"]) f.dst_port = static_cast<std::uint16_t>(parse_u64(l["dst_port"], path + ".l4.dst_port", 0xFFFF));
    if (l["checksum"]) f.udp_checksum = parse_bool(l["checksum"], path + ".l4.checksum");
  }
  if (n["size"]) f.size = parse_size(n["size"], path + ".size");
  if (n["payload"]) f.payload = parse_payload(n["payload"], path + ".payload");

  const bool esp = f.protocol == FlowProtocol::esp || f.protocol == FlowProtocol::esp_udp;
  f.ipsec.outer = f.ip;
  for (const char* section : {"macsec", "esp", "ah"}) {
    if (!n[section]) continue;
    const bool fits = (std::string(section) == "macsec" && f.protocol == FlowProtocol::macsec) ||
                      (std::string(section) == "esp" && esp) ||
                      (std::string(section) == "ah" && f.protocol == FlowProtocol::ah);
    if (!fits) {
      fail(path + "." + section, "not allowed with protocol: " + std::string(to_string(f.protocol)));
    }
  }
  if (n["macsec"]) parse_macsec(n["macsec"], path + ".macsec", f.macsec);
  if (f.protocol == FlowProtocol::macsec && !(n["macsec"] && n["macsec"]["sci"])) {
    f.macsec.sci = implicit_sci(f.src_mac);
  }
  if (n["esp"]) parse_ipsec(n["esp"], path + ".esp", true, f.ip, f.ipsec);
  if (n["ah"]) parse_ipsec(n["ah"], path + ".ah", false, f.ip, f.ipsec);
  if (n["sequence"]) {
    if (!f.has_sequence()) {
      fail(path + ".sequence", "only macsec, esp, esp-udp and ah flows carry sequence numbers");
    }
    f.sequence = parse_sequence(n["sequence"], path + ".sequence");
  }
  return f;
}

std::string section_of(const FlowSpec& f) {
  switch (f.protocol) {
    case FlowProtocol::macsec: return "macsec";
    case FlowProtocol::ah: return "ah";
    default: return "esp";
  }
}

}  // namespace

std::string_view to_string(FlowProtocol p) noexcept {
  switch (p) {
    case FlowProtocol::macsec: return "macsec";
    case FlowProtocol::esp: return "esp";
    case FlowProtocol::esp_udp: return "esp-udp";
    case FlowProtocol::ah: return "ah";
    case FlowProtocol::udp: return "udp";
    case FlowProtocol::tcp: return "tcp";
  }
  return "udp";
}

void validate(const Scenario& sc) {
  if (sc.flows.empty()) fail("flows", "at least one flow is required");
  if (sc.rate_pps && !(*sc.rate_pps > 0.0)) fail("rate_pps", "must be positive");
  const bool flow_rates = sc.flows.front().rate_pps != 0.0;
  for (std::size_t i = 0; i < sc.flows.size(); ++i) {
    const FlowSpec& f = sc.flows[i];
    const std::string path = "flows[" + std::to_string(i) + "]";
    if (f.weight == 0) fail(path + ".weight", "must be at least 1");
    if ((f.rate_pps != 0.0) != flow_rates) {
      fail(path + ".rate_pps", "give rate_pps to every flow or to none (flows[0] " +
                                   std::string(flow_rates ? "has" : "has none") + ")");
    }
    if (flow_rates && !(f.rate_pps > 0.0 && f.rate_pps <= 1e9)) {
      fail(path + ".rate_pps", "must be in (0, 1e9]");
    }
    if (flow_rates && sc.rate_pps) {
      fail("rate_pps", "the flows set their own rate_pps; remove the file-wide rate_pps");
    }
    if (f.ip.src.version != f.ip.dst.version || (f.ip.src.version != 4 && f.ip.src.version != 6)) {
      fail(path + ".ip", "src and dst must both be IPv4 or both IPv6");
    }
    if (f.vlans.size() > kMaxVlanTags) fail(path + ".vlan", "at most 2 tags (QinQ)");
    const FrameSize& sz = f.size;
    if (sz.min < kMinFrameSize || sz.max > kMaxFrameSize || sz.min > sz.max) {
      fail(path + ".size", "frame sizes must satisfy 64 <= min <= max <= 9000 (FCS included)");
    }
    if (f.payload.kind == PayloadSpec::Kind::pattern && f.payload.pattern.empty()) {
      fail(path + ".payload.pattern", "must not be empty");
    }
    const bool real = f.crypto == CryptoMode::real;
    const std::string sec = path + "." + section_of(f);
    if (f.protocol == FlowProtocol::macsec) {
      const MacsecSpec& m = f.macsec;
      if (m.an > 3) fail(sec + ".an", "must be 0..3");
      if (real && m.key.size() != key_len(m.cipher)) {
        fail(sec + ".key", "expected " + std::to_string(key_len(m.cipher) * 2) +
                               " hex digits for this cipher (or crypto: none)");
      }
      if (real && is_xpn(m.cipher) && m.salt.size() != kGcmIvLen) {
        fail(sec + ".salt", "XPN cipher suites need a 24-hex-digit salt");
      }
    }
    if (f.is_ipsec()) {
      const IpsecSpec& s = f.ipsec;
      if (s.spi == 0) fail(sec + ".spi", "must not be 0");
      if (s.mode == IpsecMode::tunnel &&
          (s.outer.src.version != s.outer.dst.version ||
           (s.outer.src.version != 4 && s.outer.src.version != 6))) {
        fail(sec + ".outer", "tunnel endpoints src and dst must both be IPv4 or both IPv6");
      }
      if (real && f.protocol != FlowProtocol::ah) {
        if (s.esp_algorithm == EspAlgorithm::null_hmac_sha256_128) {
          if (s.key.empty()) fail(sec + ".key", "the HMAC key is required (or crypto: none)");
        } else {
          const std::size_t want = s.esp_algorithm == EspAlgorithm::aes_gcm_128 ? 16 : 32;
          if (s.key.size() != want) {
            fail(sec + ".key", "expected " + std::to_string(want * 2) +
                                   " hex digits for this algorithm (or crypto: none)");
          }
          if (s.salt.size() != 4) fail(sec + ".salt", "AES-GCM needs an 8-hex-digit salt (RFC 4106)");
        }
      }
      if (real && f.protocol == FlowProtocol::ah && s.key.empty()) {
        fail(sec + ".key", "the HMAC key is required (or crypto: none)");
      }
    }
    if (f.has_sequence()) {
      const SequenceSpec& q = f.sequence;
      const std::string sp = path + ".sequence";
      if (!f.extended_numbering() && q.first > 0xFFFFFFFFu) {
        fail(sp + ".first", "above 2^32-1 needs extended numbering (esn: true or an XPN cipher)");
      }
      if (q.gaps.every == 1) fail(sp + ".gaps.every", "1 would skip every number; use 2 or more");
      if (q.gap_size == 0) fail(sp + ".gaps.size", "must be at least 1");
      if (q.reorder.every == 1) fail(sp + ".reorder.every", "must be at least 2");
      if (q.reorder.enabled() && q.reorder_distance == 0) {
        fail(sp + ".reorder.distance", "must be at least 1");
      }
    }
  }
}

Scenario parse_scenario(std::string_view yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    throw ConfigError("config: line " + std::to_string(e.mark.line + 1) + ", column " +
                      std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  Scenario sc;
  try {
    check_keys(root, "", {"flows", "count", "rate_pps"});
    if (root["count"]) sc.count = parse_u64(root["count"], "count");
    if (root["rate_pps"]) sc.rate_pps = parse_double(root["rate_pps"], "rate_pps");
    const YAML::Node flows = root["flows"];
    if (!flows || !flows.IsSequence()) fail("flows", "required: a list of flows");
    for (std::size_t i = 0; i < flows.size(); ++i) {
      sc.flows.push_back(parse_flow(flows[i], "flows[" + std::to_string(i) + "]"));
    }
  } catch (const YAML::Exception& e) {
    throw ConfigError("config: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  validate(sc);
  return sc;
}

Scenario load_scenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str());
}

Scenario builtin_demo_scenario() { return parse_scenario(builtin_demo_yaml()); }

}  // namespace netscope::packet
