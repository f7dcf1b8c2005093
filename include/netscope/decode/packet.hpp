// Zero-copy, bounded, allocation-free decoders for the frames NetScope analyzes.
//
// Every decoder takes a byte span, never reads outside it, never allocates and never
// throws. Malformed input is reported as a typed `Malformed` reason; the caller counts it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace netscope::decode {

using Bytes = std::span<const std::uint8_t>;

/// Depth limits: stacks deeper than these are malformed, which bounds the work per frame.
inline constexpr std::size_t kMaxVlanTags = 4;     ///< 802.1Q/802.1ad tags
inline constexpr std::size_t kMaxMplsLabels = 8;   ///< MPLS label stack entries
inline constexpr std::size_t kMaxIpv6ExtHeaders = 8;
inline constexpr std::size_t kMaxSackBlocks = 4;
inline constexpr std::size_t kMacsecIcvLen = 16;   ///< default GCM-AES ICV length

/// EtherTypes and IP protocol numbers used by the decoders.
namespace ethertype {
inline constexpr std::uint16_t kIpv4 = 0x0800;
inline constexpr std::uint16_t kArp = 0x0806;
inline constexpr std::uint16_t kVlan = 0x8100;     ///< 802.1Q C-tag
inline constexpr std::uint16_t kQinQ = 0x88A8;     ///< 802.1ad S-tag
inline constexpr std::uint16_t kQinQOld = 0x9100;  ///< pre-standard S-tag
inline constexpr std::uint16_t kIpv6 = 0x86DD;
inline constexpr std::uint16_t kMplsUnicast = 0x8847;
inline constexpr std::uint16_t kMplsMulticast = 0x8848;
inline constexpr std::uint16_t kMacsec = 0x88E5;
}  // namespace ethertype

namespace ipproto {
inline constexpr std::uint8_t kHopByHop = 0;
inline constexpr std::uint8_t kIcmp = 1;
inline constexpr std::uint8_t kTcp = 6;
inline constexpr std::uint8_t kUdp = 17;
inline constexpr std::uint8_t kIpv6 = 41;
inline constexpr std::uint8_t kRouting = 43;
inline constexpr std::uint8_t kFragment = 44;
inline constexpr std::uint8_t kEsp = 50;
inline constexpr std::uint8_t kAh = 51;
inline constexpr std::uint8_t kIcmpv6 = 58;
inline constexpr std::uint8_t kNoNext = 59;
inline constexpr std::uint8_t kDestOpts = 60;
inline constexpr std::uint8_t kIpip = 4;
}  // namespace ipproto

inline constexpr std::uint16_t kNatTPort = 4500;  ///< UDP-encapsulated ESP (RFC 3948)

/// Why a frame could not be fully decoded. `none` means the frame decoded cleanly.
/// The list is stable: names are used as metric label values and JSON keys.
#define NETSCOPE_MALFORMED_REASONS(X) \
  X(none)                             \
  X(truncated_ethernet)               \
  X(truncated_vlan)                   \
  X(vlan_depth_exceeded)              \
  X(truncated_mpls)                   \
  X(mpls_depth_exceeded)              \
  X(bad_mpls_payload)                 \
  X(truncated_ipv4)                   \
  X(bad_ipv4_version)                 \
  X(bad_ipv4_header_length)           \
  X(bad_ipv4_total_length)            \
  X(bad_ipv4_checksum)                \
  X(bad_ipv4_options)                 \
  X(truncated_ipv6)                   \
  X(bad_ipv6_version)                 \
  X(bad_ipv6_payload_length)          \
  X(truncated_ipv6_ext)               \
  X(ipv6_ext_depth_exceeded)          \
  X(truncated_tcp)                    \
  X(bad_tcp_data_offset)              \
  X(bad_tcp_options)                  \
  X(truncated_udp)                    \
  X(bad_udp_length)                   \
  X(truncated_icmp)                   \
  X(truncated_icmpv6)                 \
  X(truncated_sectag)                 \
  X(bad_sectag_version)               \
  X(bad_sectag_tci)                   \
  X(bad_sectag_short_length)          \
  X(truncated_macsec_icv)             \
  X(truncated_esp)                    \
  X(truncated_ah)                     \
  X(bad_ah_length)

enum class Malformed : std::uint8_t {
#define NETSCOPE_X(name) name,
  NETSCOPE_MALFORMED_REASONS(NETSCOPE_X)
#undef NETSCOPE_X
      count_
};
inline constexpr std::size_t kMalformedCount = static_cast<std::size_t>(Malformed::count_);

/// Stable snake_case name of a reason ("truncated_sectag"). Never null.
std::string_view to_string(Malformed m) noexcept;

/// Layers present in a decoded frame, as bits of DecodedPacket::layers.
enum Layer : std::uint32_t {
  kLayerEthernet = 1u << 0,
  kLayerVlan = 1u << 1,
  kLayerMpls = 1u << 2,
  kLayerMacsec = 1u << 3,
  kLayerIpv4 = 1u << 4,
  kLayerIpv6 = 1u << 5,
  kLayerAh = 1u << 6,
  kLayerEsp = 1u << 7,
  kLayerTcp = 1u << 8,
  kLayerUdp = 1u << 9,
  kLayerIcmp = 1u << 10,
  kLayerIcmpv6 = 1u << 11,
  kLayerArp = 1u << 12,
  kLayerIpFragment = 1u << 13,  ///< IPv4 MF/offset or IPv6 fragment header: no L4 past offset 0
  kLayerNatT = 1u << 14,        ///< ESP inside UDP 4500
  kLayerIkeNatT = 1u << 15,     ///< UDP 4500 with the non-ESP marker (IKE)
  kLayerInnerIp = 1u << 16,     ///< tunnel-mode / IP-in-IP inner header seen (after AH)
};

using MacAddr = std::array<std::uint8_t, 6>;

/// An IPv4 or IPv6 address; IPv4 uses the first 4 bytes, the rest zero.
struct IpAddr {
  std::array<std::uint8_t, 16> bytes{};  ///< network order
  std::uint8_t version = 0;              ///< 4 or 6, 0 when absent
  friend bool operator==(const IpAddr&, const IpAddr&) = default;
};

struct EthernetHeader {
  MacAddr dst{};
  MacAddr src{};
  std::uint16_t ethertype = 0;  ///< outermost EtherType (before VLAN tags)
};

struct VlanTag {
  std::uint16_t tpid = 0;  ///< 0x8100, 0x88A8 or 0x9100
  std::uint8_t pcp = 0;
  bool dei = false;
  std::uint16_t vid = 0;
};

struct MplsEntry {
  std::uint32_t label = 0;
  std::uint8_t tc = 0;
  bool bottom = false;
  std::uint8_t ttl = 0;
};

/// MACsec SecTAG (IEEE 802.1AE-2018 clause 9.3) plus where the secure data and ICV are.
struct Sectag {
  std::uint8_t tci = 0;       ///< the six TCI bits (V ES SC SCB E C) as on the wire, bits 7..2
  std::uint8_t an = 0;        ///< association number, 0..3
  bool version = false;       ///< V bit; must be 0
  bool es = false;            ///< end station
  bool sc = false;            ///< SCI present
  bool scb = false;           ///< single copy broadcast
  bool encrypted = false;     ///< E bit
  bool changed = false;       ///< C bit (E and C set together means confidentiality)
  std::uint8_t short_length = 0;  ///< SL, 0 when the secure data is 48 bytes or more
  std::uint32_t pn = 0;       ///< packet number (low 32 bits for XPN suites)
  bool has_sci = false;
  std::uint64_t sci = 0;      ///< SCI as a big-endian 64-bit number (MAC << 16 | port)
  std::uint16_t header_len = 0;    ///< SecTAG length including its EtherType: 8, or 16 with an SCI
  std::uint16_t secure_data_offset = 0;  ///< from frame start
  std::uint16_t secure_data_len = 0;     ///< bytes between SecTAG and ICV
  /// True when the secure data is integrity-protected only (E=0) and can be decoded further.
  [[nodiscard]] bool integrity_only() const noexcept { return !encrypted; }
};

struct Ipv4Header {
  std::uint8_t ihl = 0;  ///< header length in bytes
  std::uint8_t tos = 0;
  std::uint16_t total_length = 0;
  std::uint16_t id = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  std::uint16_t fragment_offset = 0;  ///< in bytes
  std::uint8_t ttl = 0;
  std::uint8_t protocol = 0;
  std::uint16_t checksum = 0;
  IpAddr src, dst;
  std::uint8_t options_len = 0;
};

struct Ipv6Header {
  std::uint8_t traffic_class = 0;
  std::uint32_t flow_label = 0;
  std::uint16_t payload_length = 0;
  std::uint8_t next_header = 0;  ///< first next-header value
  std::uint8_t hop_limit = 0;
  IpAddr src, dst;
  std::uint8_t ext_count = 0;            ///< extension headers walked
  std::array<std::uint8_t, kMaxIpv6ExtHeaders> ext_types{};
  std::uint8_t upper_protocol = 0;       ///< protocol after the chain (ESP/AH stop the walk)
  bool fragment = false;
  std::uint32_t fragment_id = 0;
  std::uint16_t fragment_offset = 0;     ///< in bytes
  bool more_fragments = false;
  std::uint16_t header_chain_len = 0;    ///< fixed header plus walked extensions
};

struct TcpOptions {
  std::uint16_t mss = 0;           ///< 0 when absent
  std::int16_t window_scale = -1;  ///< -1 when absent
  bool sack_permitted = false;
  std::uint8_t sack_blocks = 0;
  std::array<std::uint32_t, kMaxSackBlocks * 2> sack{};  ///< left,right edge pairs
  bool has_timestamps = false;
  std::uint32_t ts_val = 0;
  std::uint32_t ts_ecr = 0;
};

struct TcpHeader {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t data_offset = 0;  ///< header length in bytes
  std::uint8_t flags = 0;        ///< CWR ECE URG ACK PSH RST SYN FIN (low byte)
  std::uint16_t window = 0;
  std::uint16_t checksum = 0;
  std::uint16_t urgent = 0;
  TcpOptions options;
};

namespace tcpflag {
inline constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10,
                              kUrg = 0x20, kEce = 0x40, kCwr = 0x80;
}

struct UdpHeader {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint16_t length = 0;
  std::uint16_t checksum = 0;
};

struct IcmpHeader {
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint16_t checksum = 0;
  std::uint32_t rest = 0;  ///< identifier/sequence or unused
};

struct EspHeader {
  std::uint32_t spi = 0;
  std::uint32_t seq = 0;
};

struct AhHeader {
  std::uint8_t next_header = 0;
  std::uint8_t payload_len = 0;  ///< raw field: (length in 32-bit words) - 2
  std::uint16_t header_len = 0;  ///< total AH length in bytes: (payload_len + 2) * 4
  std::uint32_t spi = 0;
  std::uint32_t seq = 0;
  std::uint16_t icv_offset = 0;  ///< from AH start
  std::uint16_t icv_len = 0;
};

/// Result of a single-layer decoder: how many bytes the header used, or why it failed.
struct LayerResult {
  Malformed error = Malformed::none;
  std::uint16_t length = 0;  ///< header bytes consumed when error == none
  [[nodiscard]] bool ok() const noexcept { return error == Malformed::none; }
};

// Single-layer decoders. Each reads only `data` (which starts at the header) and fills
// `out`. Does not allocate. Never reads past data.size().
LayerResult decode_ethernet(Bytes data, EthernetHeader& out) noexcept;
LayerResult decode_vlan(Bytes data, std::uint16_t tpid, VlanTag& out, std::uint16_t& next_ethertype) noexcept;
LayerResult decode_mpls(Bytes data, MplsEntry& out) noexcept;
/// `data` starts right after the 0x88E5 EtherType; `out` offsets are relative to `data`.
LayerResult decode_sectag(Bytes data, Sectag& out) noexcept;
/// Verifies the header checksum; `data` may extend past total_length (Ethernet padding).
LayerResult decode_ipv4(Bytes data, Ipv4Header& out) noexcept;
/// Walks the extension header chain up to kMaxIpv6ExtHeaders; stops at ESP, AH, a
/// non-first fragment, or an upper-layer protocol. `length` is header_chain_len.
LayerResult decode_ipv6(Bytes data, Ipv6Header& out) noexcept;
LayerResult decode_tcp(Bytes data, TcpHeader& out) noexcept;
LayerResult decode_udp(Bytes data, UdpHeader& out) noexcept;
LayerResult decode_icmp(Bytes data, IcmpHeader& out) noexcept;
LayerResult decode_icmpv6(Bytes data, IcmpHeader& out) noexcept;
LayerResult decode_esp(Bytes data, EspHeader& out) noexcept;
/// IPv4 AH must have a length multiple of 4 bytes, IPv6 AH a multiple of 8 (RFC 4302 2.2).
LayerResult decode_ah(Bytes data, bool ipv6, AhHeader& out) noexcept;

/// A whole frame, decoded from the outside in. Offsets are from the frame start.
struct DecodedPacket {
  std::uint32_t layers = 0;  ///< Layer bits
  Malformed malformed = Malformed::none;  ///< first problem met; layers before it are valid
  std::uint32_t wire_len = 0;  ///< frame length as received

  EthernetHeader eth;
  std::uint8_t vlan_count = 0;
  std::array<VlanTag, kMaxVlanTags> vlans{};
  std::uint8_t mpls_count = 0;
  std::array<MplsEntry, kMaxMplsLabels> mpls{};
  std::uint16_t ethertype = 0;  ///< innermost EtherType (after tags; inside SecTAG if integrity-only)

  Sectag sectag;

  std::uint8_t ip_version = 0;  ///< outer IP version (4/6), 0 when none
  Ipv4Header ipv4;
  Ipv6Header ipv6;
  std::uint8_t l4_protocol = 0;  ///< IP protocol of the transport/security header reached

  AhHeader ah;
  EspHeader esp;
  TcpHeader tcp;
  UdpHeader udp;
  IcmpHeader icmp;

  std::uint16_t l2_len = 0;        ///< bytes up to the L3 header (incl. tags, SecTAG)
  std::uint16_t l3_offset = 0;
  std::uint16_t l4_offset = 0;
  std::uint16_t payload_offset = 0;  ///< first byte after the last decoded header
  std::uint16_t payload_len = 0;

  [[nodiscard]] bool has(Layer l) const noexcept { return (layers & l) != 0; }
};

/// Decodes a frame from Ethernet inward: tags, MPLS, MACsec SecTAG (continuing into the
/// payload when integrity-only), IPv4/IPv6, AH (continuing into the protected payload),
/// ESP (also UDP 4500 NAT-T), TCP, UDP, ICMP/ICMPv6. Stops at the first malformed header
/// and records its reason. Resets `layers`, `malformed`, the counts and offsets; a header
/// struct is meaningful only when its Layer bit is set (not cleared, to keep this cheap).
/// Does not allocate.
void decode_frame(Bytes frame, DecodedPacket& out) noexcept;

}  // namespace netscope::decode
