#include "netscope/analysis/topology.hpp"

#include <cstring>

namespace netscope::analysis {

namespace {

constexpr std::size_t kArpLen = 28;  // Ethernet/IPv4 ARP

}  // namespace

Topology::Topology(const TopologyConfig& cfg, AlertRing& alerts, Severity mac_change_severity)
    : alerts_(alerts), mac_change_severity_(mac_change_severity), hosts_(cfg.max_hosts), edges_(cfg.max_edges) {}

HostInfo& Topology::host(const decode::IpAddr& ip, std::uint16_t vlan, std::uint64_t now_ns) noexcept {
  const HostKey k = host_key(ip, vlan);
  bool created = false;
  bool evicted = false;
  HostInfo& h = *hosts_.find_or_insert(k, hash(k), now_ns, created, evicted);
  if (evicted) counters_.host_evictions.add();
  if (created) h.first_ns = now_ns;
  return h;
}

void Topology::observe_binding(const decode::IpAddr& ip, const decode::MacAddr& mac, std::uint16_t vlan,
                               std::uint64_t now_ns) noexcept {
  counters_.bindings.add();
  HostInfo& h = host(ip, vlan, now_ns);
  if (h.mac_known && h.mac != mac) {
    counters_.mac_changes.add();
    if (h.mac_changes != 0xFFFF) ++h.mac_changes;
    Alert a;
    a.type = AlertType::mac_ip_change;
    a.severity = mac_change_severity_;
    a.first_ns = h.mac_seen_ns;
    a.last_ns = now_ns;
    a.count = h.mac_changes;
    a.victim = ip;
    a.mac_old = h.mac;
    a.mac_new = mac;
    a.vlan = vlan;
    alerts_.push(a);
  }
  h.mac = mac;
  h.mac_known = true;
  h.mac_seen_ns = now_ns;
}

bool Topology::observe_arp(decode::Bytes frame, const decode::DecodedPacket& p, std::uint64_t now_ns) noexcept {
  if (!p.has(decode::kLayerArp)) return false;
  const std::size_t off = p.l3_offset;
  if (off + kArpLen > frame.size()) {
    counters_.bad_arp.add();
    return false;
  }
  const std::uint8_t* a = frame.data() + off;
  // htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4
  if (a[0] != 0 || a[1] != 1 || a[2] != 0x08 || a[3] != 0x00 || a[4] != 6 || a[5] != 4) {
    counters_.bad_arp.add();
    return false;
  }
  decode::MacAddr mac;
  std::memcpy(mac.data(), a + 8, 6);
  decode::IpAddr ip;
  ip.version = 4;
  std::memcpy(ip.bytes.data(), a + 14, 4);
  if (ip.bytes[0] == 0 && ip.bytes[1] == 0 && ip.bytes[2] == 0 && ip.bytes[3] == 0) return true;  // probe
  observe_binding(ip, mac, p.vlan_count > 0 ? p.vlans[0].vid : 0, now_ns);
  return true;
}

void Topology::observe_traffic(const decode::IpAddr& src, const decode::IpAddr& dst, std::uint16_t vlan,
                               std::uint64_t bytes, std::uint64_t packets, std::uint64_t now_ns) noexcept {
  HostInfo& s = host(src, vlan, now_ns);
  s.bytes_sent += bytes;
  s.packets_sent += packets;
  HostInfo& d = host(dst, vlan, now_ns);
  d.bytes_received += bytes;
  d.packets_received += packets;

  const bool forward = std::memcmp(src.bytes.data(), dst.bytes.data(), 16) <= 0;
  HostPairKey k;
  k.a = forward ? src.bytes : dst.bytes;
  k.b = forward ? dst.bytes : src.bytes;
  k.version = src.version;
  k.vlan = vlan;
  bool created = false;
  bool evicted = false;
  EdgeInfo& e = *edges_.find_or_insert(k, hash(k), now_ns, created, evicted);
  if (evicted) counters_.edge_evictions.add();
  if (created) e.first_ns = now_ns;
  if (forward) {
    e.bytes_ab += bytes;
    e.packets_ab += packets;
  } else {
    e.bytes_ba += bytes;
    e.packets_ba += packets;
  }
}

const HostInfo* Topology::find_host(const decode::IpAddr& ip, std::uint16_t vlan) noexcept {
  const HostKey k = host_key(ip, vlan);
  return hosts_.find(k, hash(k));
}

const EdgeInfo* Topology::find_edge(const decode::IpAddr& x, const decode::IpAddr& y, std::uint16_t vlan) noexcept {
  const bool forward = std::memcmp(x.bytes.data(), y.bytes.data(), 16) <= 0;
  HostPairKey k;
  k.a = forward ? x.bytes : y.bytes;
  k.b = forward ? y.bytes : x.bytes;
  k.version = x.version;
  k.vlan = vlan;
  return edges_.find(k, hash(k));
}

}  // namespace netscope::analysis
