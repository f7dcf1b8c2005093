#include "netscope/flow/flow_table.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace netscope::flow {

std::uint64_t hash(const FlowKey& k) noexcept {
  std::uint64_t w[5];
  std::memcpy(w, &k, sizeof w);
  std::uint64_t h = 0x2545F4914F6CDD1Dull;
  for (std::uint64_t x : w) {
    h ^= x + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBull;
    h ^= h >> 31;
  }
  return h;
}

bool flow_key_of(const decode::DecodedPacket& p, FlowKey& key, bool& forward) noexcept {
  key = FlowKey{};
  const decode::IpAddr* src = nullptr;
  const decode::IpAddr* dst = nullptr;
  if (p.has(decode::kLayerIpv4)) {
    src = &p.ipv4.src;
    dst = &p.ipv4.dst;
    key.ip_version = 4;
    key.protocol = p.ipv4.protocol;
  } else if (p.has(decode::kLayerIpv6)) {
    src = &p.ipv6.src;
    dst = &p.ipv6.dst;
    key.ip_version = 6;
    key.protocol = p.ipv6.upper_protocol;
  } else {
    return false;
  }
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  if (p.has(decode::kLayerTcp) && !p.has(decode::kLayerAh)) {
    sport = p.tcp.src_port;
    dport = p.tcp.dst_port;
  } else if (p.has(decode::kLayerUdp) && !p.has(decode::kLayerAh)) {
    sport = p.udp.src_port;
    dport = p.udp.dst_port;
  }
  if (p.vlan_count > 0) {
    key.vlan = p.vlans[0].vid;
  }
  const int cmp = std::memcmp(src->bytes.data(), dst->bytes.data(), 16);
  forward = cmp < 0 || (cmp == 0 && sport <= dport);
  if (forward) {
    key.addr_a = src->bytes;
    key.addr_b = dst->bytes;
    key.port_a = sport;
    key.port_b = dport;
  } else {
    key.addr_a = dst->bytes;
    key.addr_b = src->bytes;
    key.port_a = dport;
    key.port_b = sport;
  }
  return true;
}

FlowTable::FlowTable(std::uint32_t capacity) {
  max_size_ = std::max<std::uint32_t>(capacity, 16);
  slots_ = std::bit_ceil(max_size_ * 2);
  mask_ = slots_ - 1;
  entries_ = std::make_unique<FlowEntry[]>(slots_);
}

FlowEntry* FlowTable::find_or_insert(const FlowKey& key, std::uint64_t h, bool& created) noexcept {
  created = false;
  for (std::uint32_t i = static_cast<std::uint32_t>(h) & mask_;; i = (i + 1) & mask_) {
    FlowEntry& e = entries_[i];
    if (e.used) {
      if (e.key == key) {
        return &e;
      }
      continue;
    }
    if (size_ >= max_size_) {
      return nullptr;
    }
    e = FlowEntry{};
    e.used = true;
    e.key = key;
    ++size_;
    created = true;
    return &e;
  }
}

}  // namespace netscope::flow
