#include "netscope/flow/flow_table.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>

#include "netscope/util/hash.hpp"

namespace netscope::flow {

std::string_view to_string(EndReason r) noexcept {
  switch (r) {
    case EndReason::idle_timeout:
      return "idle_timeout";
    case EndReason::table_full:
      return "table_full";
    case EndReason::shutdown:
      return "shutdown";
  }
  return "unknown";
}

std::uint64_t hash(const FlowKey& k) noexcept { return util::hash_key(&k, sizeof k); }

bool flow_key_of(const decode::DecodedPacket& p, FlowKey& key, bool& forward) noexcept {
  std::uint64_t h = 0;
  return flow_key_of(p, key, forward, h);
}

bool flow_key_of(const decode::DecodedPacket& p, FlowKey& key, bool& forward, std::uint64_t& h) noexcept {
  const decode::IpAddr* src = nullptr;
  const decode::IpAddr* dst = nullptr;
  std::uint64_t version = 0;
  std::uint64_t protocol = 0;
  if (p.has(decode::kLayerIpv4)) {
    src = &p.ipv4.src;
    dst = &p.ipv4.dst;
    version = 4;
    protocol = p.ipv4.protocol;
  } else if (p.has(decode::kLayerIpv6)) {
    src = &p.ipv6.src;
    dst = &p.ipv6.dst;
    version = 6;
    protocol = p.ipv6.upper_protocol;
  } else {
    key = FlowKey{};
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
  const std::uint64_t vlan = p.vlan_count > 0 ? p.vlans[0].vid : 0;
  // Byte order of the addresses, as memcmp would give it, from two big-endian words each.
  std::uint64_t sw[2], dw[2];
  std::memcpy(sw, src->bytes.data(), 16);
  std::memcpy(dw, dst->bytes.data(), 16);
  const std::uint64_t s0 = __builtin_bswap64(sw[0]), d0 = __builtin_bswap64(dw[0]);
  const std::uint64_t s1 = __builtin_bswap64(sw[1]), d1 = __builtin_bswap64(dw[1]);
  const int cmp = s0 != d0 ? (s0 < d0 ? -1 : 1) : (s1 != d1 ? (s1 < d1 ? -1 : 1) : 0);
  forward = cmp < 0 || (cmp == 0 && sport <= dport);
  const std::uint64_t port_a = forward ? sport : dport;
  const std::uint64_t port_b = forward ? dport : sport;
  // The key as five whole words: hash() reads it as words right after, and a word load
  // over several narrower stores cannot be forwarded from the store buffer (a stall that
  // showed as a third of hash()'s time).
  std::uint64_t w[5];
  if (forward) {
    w[0] = sw[0], w[1] = sw[1], w[2] = dw[0], w[3] = dw[1];
  } else {
    w[0] = dw[0], w[1] = dw[1], w[2] = sw[0], w[3] = sw[1];
  }
  static_assert(offsetof(FlowKey, port_a) == 32 && offsetof(FlowKey, port_b) == 34 && offsetof(FlowKey, vlan) == 36 &&
                offsetof(FlowKey, protocol) == 38 && offsetof(FlowKey, ip_version) == 39);
  static_assert(std::endian::native == std::endian::little);
  w[4] = port_a | port_b << 16 | vlan << 32 | protocol << 48 | version << 56;
  std::memcpy(&key, w, sizeof w);
  h = util::hash_key(w, sizeof w);  // == hash(key), from the words still in registers
  return true;
}

FlowTable::FlowTable(std::uint32_t capacity) {
  capacity_ = std::max<std::uint32_t>(capacity, 16);
  slots_ = std::bit_ceil(capacity_ * 2);
  mask_ = slots_ - 1;
  entries_ = util::LargeArray<FlowEntry>(capacity_);
  index_ = util::LargeArray<std::uint64_t>(slots_);
  // Free list through lru_next.
  for (std::uint32_t i = 0; i < capacity_; ++i) {
    entries_[i].lru_next = i + 2 <= capacity_ ? i + 2 : 0;
  }
  free_head_ = 1;
}

std::uint64_t FlowTable::memory_bytes() const noexcept {
  return static_cast<std::uint64_t>(capacity_) * sizeof(FlowEntry) +
         static_cast<std::uint64_t>(slots_) * sizeof(std::uint64_t);
}

FlowEntry* FlowTable::find(const FlowKey& key, std::uint64_t h) noexcept {
  const auto tag = static_cast<std::uint32_t>(h);
  for (std::uint32_t i = tag & mask_;; i = (i + 1) & mask_) {
    const std::uint64_t s = index_[i];
    if (s == 0) return nullptr;
    if (static_cast<std::uint32_t>(s >> 32) == tag) {
      FlowEntry& e = entries_[static_cast<std::uint32_t>(s) - 1];
      if (e.key == key) return &e;
    }
  }
}

void FlowTable::unlink(FlowEntry& e) noexcept {
  const std::uint32_t self = index_of(e) + 1;
  if (e.lru_prev != 0) {
    entries_[e.lru_prev - 1].lru_next = e.lru_next;
  } else if (head_[e.list] == self) {
    head_[e.list] = e.lru_next;
  }
  if (e.lru_next != 0) {
    entries_[e.lru_next - 1].lru_prev = e.lru_prev;
  } else if (tail_[e.list] == self) {
    tail_[e.list] = e.lru_prev;
  }
  e.lru_prev = e.lru_next = 0;
}

void FlowTable::push_front(FlowEntry& e, std::uint8_t list) noexcept {
  const std::uint32_t self = index_of(e) + 1;
  e.list = list;
  e.lru_prev = 0;
  e.lru_next = head_[list];
  if (head_[list] != 0) entries_[head_[list] - 1].lru_prev = self;
  head_[list] = self;
  if (tail_[list] == 0) tail_[list] = self;
}

void FlowTable::relink(FlowEntry& e) noexcept {
  e.linked_ns = e.last_seen_ns;
  if (head_[e.list] == index_of(e) + 1) return;
  unlink(e);
  push_front(e, e.list);
}

void FlowTable::mark_closed(FlowEntry& e) noexcept {
  if (e.list == 1) return;
  unlink(e);
  e.linked_ns = e.last_seen_ns;
  push_front(e, 1);
}

void FlowTable::remove(FlowEntry& e) noexcept {
  unlink(e);
  // Backward-shift deletion keeps linear probing chains intact without tombstones.
  const std::uint32_t self = index_of(e) + 1;
  std::uint32_t i = e.hash & mask_;
  while (static_cast<std::uint32_t>(index_[i]) != self) i = (i + 1) & mask_;
  std::uint32_t hole = i;
  for (std::uint32_t j = (hole + 1) & mask_; index_[j] != 0; j = (j + 1) & mask_) {
    const std::uint32_t home = static_cast<std::uint32_t>(index_[j] >> 32) & mask_;
    // Move j into the hole when its home is not in (hole, j] (cyclically).
    const bool in_between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!in_between) {
      index_[hole] = index_[j];
      hole = j;
    }
  }
  index_[hole] = 0;
  e.used = false;
  e.lru_next = free_head_;
  free_head_ = self;
  --size_;
}

FlowEntry* FlowTable::find_or_insert(const FlowKey& key, std::uint64_t h, bool& created,
                                     FlowEntry& evicted, bool& did_evict) noexcept {
  created = false;
  did_evict = false;
  if (FlowEntry* e = find(key, h)) return e;
  if (free_head_ == 0) {
    // Full: evict the least recently used flow, closed ones first. Entries used since they
    // were linked go back to the head (at most a few per insertion: amortized O(1)).
    std::uint8_t l = tail_[1] != 0 ? 1 : 0;
    for (int tries = 0; tries < 8; ++tries) {
      FlowEntry& t = entries_[tail_[l] - 1];
      if (t.last_seen_ns == t.linked_ns || !t.stamped) break;
      relink(t);
    }
    const std::uint32_t victim = tail_[l];
    evicted = entries_[victim - 1];
    did_evict = true;
    remove(entries_[victim - 1]);
  }
  const std::uint32_t self = free_head_;
  FlowEntry& e = entries_[self - 1];
  free_head_ = e.lru_next;
  e = FlowEntry{};
  e.key = key;
  e.hash = static_cast<std::uint32_t>(h);
  e.used = true;
  std::uint32_t i = e.hash & mask_;
  while (index_[i] != 0) i = (i + 1) & mask_;
  index_[i] = (static_cast<std::uint64_t>(e.hash) << 32) | self;
  push_front(e, 0);
  ++size_;
  created = true;
  return &e;
}

}  // namespace netscope::flow
