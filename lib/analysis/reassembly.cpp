// Fragment reassembly. Datagrams are kept in arrival order of their first fragment (which
// is also timeout order), payload bytes in 1 KiB chunks mapped by offset, and received
// ranges in a small sorted array per datagram for overlap and completeness checks.
#include "netscope/analysis/reassembly.hpp"

#include <algorithm>
#include <cstring>

namespace netscope::analysis {

namespace {

constexpr std::size_t kIpv6FixedLen = 40;
constexpr std::size_t kIpv6FragmentHeaderLen = 8;
constexpr std::size_t kMaxFrame = 65535;  // decode_frame's offsets are 16 bits

std::uint16_t load16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
void store16(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

std::uint16_t ipv4_checksum(const std::uint8_t* h, std::size_t len) noexcept {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < len; i += 2) sum += load16(h + i);
  while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace

std::string_view to_string(FragmentDrop d) noexcept {
  switch (d) {
#define NETSCOPE_X(name)    \
  case FragmentDrop::name: \
    return #name;
    NETSCOPE_FRAGMENT_DROPS(NETSCOPE_X)
#undef NETSCOPE_X
    case FragmentDrop::count_:
      break;
  }
  return "unknown";
}

struct Reassembler::Datagram {
  Key key;
  std::uint64_t hash = 0;
  std::uint64_t first_ns = 0;
  std::uint32_t prev = 0;      ///< arrival list (slot + 1)
  std::uint32_t next = 0;      ///< arrival list, or free list (slot + 1)
  std::uint32_t total = 0;     ///< payload length, known once the last fragment arrived
  std::uint32_t received = 0;  ///< payload bytes held
  std::uint16_t ranges = 0;    ///< entries used in ranges_
  std::uint16_t fragments = 0; ///< fragments that contributed bytes
  std::uint16_t header_len = 0;  ///< L2 + IP header bytes kept from the first fragment
  std::uint16_t l3_offset = 0;
  bool has_first = false;
  bool has_last = false;
  bool used = false;
};

Reassembler::Reassembler(const ReassemblyConfig& cfg)
    : cfg_(cfg), index_(std::max<std::uint32_t>(cfg.max_datagrams, 1)) {
  cfg_.max_datagrams = std::max<std::uint32_t>(cfg_.max_datagrams, 1);
  cfg_.max_fragments = std::max<std::uint16_t>(cfg_.max_fragments, 2);
  chunk_count_ = std::max<std::uint32_t>(cfg_.buffer_bytes / kChunkBytes, 1);
  const std::size_t n = cfg_.max_datagrams;
  slots_ = std::make_unique<Datagram[]>(n);
  ranges_ = std::make_unique<Range[]>(n * cfg_.max_fragments);
  headers_ = std::make_unique<std::uint8_t[]>(n * kMaxHeaderBytes);
  chunk_map_ = std::make_unique<std::uint32_t[]>(n * kChunksPerDatagram);
  chunks_ = std::make_unique<std::uint8_t[]>(static_cast<std::size_t>(chunk_count_) * kChunkBytes);
  free_chunks_ = std::make_unique<std::uint32_t[]>(chunk_count_);
  output_ = std::make_unique<std::uint8_t[]>(kMaxFrame);
  for (std::uint32_t i = 0; i < chunk_count_; ++i) free_chunks_[i] = chunk_count_ - 1 - i;
  free_chunk_count_ = chunk_count_;
  for (std::uint32_t i = 0; i < cfg_.max_datagrams; ++i) {
    slots_[i].next = i + 2 <= cfg_.max_datagrams ? i + 2 : 0;
  }
  free_slot_ = 1;
}

Reassembler::~Reassembler() = default;

std::uint64_t Reassembler::memory_bytes() const noexcept {
  const std::uint64_t n = cfg_.max_datagrams;
  return n * (sizeof(Datagram) + cfg_.max_fragments * sizeof(Range) + kMaxHeaderBytes +
              kChunksPerDatagram * sizeof(std::uint32_t)) +
         static_cast<std::uint64_t>(chunk_count_) * (kChunkBytes + sizeof(std::uint32_t)) + kMaxFrame +
         index_.memory_bytes();
}

void Reassembler::lru_unlink(std::uint32_t slot) noexcept {
  Datagram& d = slots_[slot];
  if (d.prev != 0) {
    slots_[d.prev - 1].next = d.next;
  } else {
    oldest_ = d.next;
  }
  if (d.next != 0) {
    slots_[d.next - 1].prev = d.prev;
  } else {
    newest_ = d.prev;
  }
  d.prev = d.next = 0;
}

void Reassembler::lru_push_back(std::uint32_t slot) noexcept {
  Datagram& d = slots_[slot];
  d.prev = newest_;
  d.next = 0;
  if (newest_ != 0) {
    slots_[newest_ - 1].next = slot + 1;
  } else {
    oldest_ = slot + 1;
  }
  newest_ = slot + 1;
}

void Reassembler::release(std::uint32_t slot) noexcept {
  Datagram& d = slots_[slot];
  std::uint32_t* map = &chunk_map_[static_cast<std::size_t>(slot) * kChunksPerDatagram];
  for (std::uint32_t i = 0; i < kChunksPerDatagram; ++i) {
    if (map[i] != 0) {
      free_chunks_[free_chunk_count_++] = map[i] - 1;
      map[i] = 0;
    }
  }
  index_.erase(d.hash, slot);
  lru_unlink(slot);
  d = Datagram{};
  d.next = free_slot_;
  free_slot_ = slot + 1;
  --used_;
}

void Reassembler::drop(std::uint32_t slot, FragmentDrop why) noexcept {
  counters_.drops[static_cast<std::size_t>(why)].add();
  counters_.fragments_dropped.add(slots_[slot].fragments);
  release(slot);
}

std::uint32_t Reassembler::allocate_slot(const Key& key, std::uint64_t h, std::uint64_t now_ns) noexcept {
  if (free_slot_ == 0) {
    const std::uint32_t victim = oldest_ - 1;  // table full: oldest_ != 0
    drop(victim, now_ns - slots_[victim].first_ns >= cfg_.timeout_ns ? FragmentDrop::timeout
                                                                      : FragmentDrop::too_many_datagrams);
  }
  const std::uint32_t slot = free_slot_ - 1;
  Datagram& d = slots_[slot];
  free_slot_ = d.next;
  d = Datagram{};
  d.key = key;
  d.hash = h;
  d.first_ns = now_ns;
  d.used = true;
  index_.insert(h, slot);
  lru_push_back(slot);
  ++used_;
  return slot;
}

bool Reassembler::ensure_chunks(std::uint32_t slot, std::uint32_t start, std::uint32_t end) noexcept {
  std::uint32_t* map = &chunk_map_[static_cast<std::size_t>(slot) * kChunksPerDatagram];
  const std::uint32_t first = start / kChunkBytes;
  const std::uint32_t last = (end - 1) / kChunkBytes;
  std::uint32_t needed = 0;
  for (std::uint32_t c = first; c <= last; ++c) needed += map[c] == 0 ? 1 : 0;
  // Make room by dropping the oldest other datagrams; they would time out first anyway.
  while (free_chunk_count_ < needed && oldest_ != 0 && oldest_ - 1 != slot) {
    drop(oldest_ - 1, FragmentDrop::buffer_full);
  }
  while (free_chunk_count_ < needed && oldest_ != 0 && slots_[oldest_ - 1].next != 0 &&
         oldest_ - 1 == slot) {
    // This datagram is the oldest: drop the next oldest ones instead.
    drop(slots_[oldest_ - 1].next - 1, FragmentDrop::buffer_full);
  }
  if (free_chunk_count_ < needed) return false;
  for (std::uint32_t c = first; c <= last; ++c) {
    if (map[c] == 0) map[c] = free_chunks_[--free_chunk_count_] + 1;
  }
  return true;
}

void Reassembler::copy_in(std::uint32_t slot, std::uint32_t start, const std::uint8_t* src,
                          std::uint32_t len) noexcept {
  const std::uint32_t* map = &chunk_map_[static_cast<std::size_t>(slot) * kChunksPerDatagram];
  while (len > 0) {
    const std::uint32_t c = start / kChunkBytes;
    const std::uint32_t in = start % kChunkBytes;
    const std::uint32_t n = std::min(len, kChunkBytes - in);
    std::memcpy(&chunks_[static_cast<std::size_t>(map[c] - 1) * kChunkBytes + in], src, n);
    src += n;
    start += n;
    len -= n;
  }
}

FragmentVerdict Reassembler::finish(std::uint32_t slot, ReassembledDatagram& out) noexcept {
  Datagram& d = slots_[slot];
  const std::size_t len = static_cast<std::size_t>(d.header_len) + d.total;
  if (len > kMaxFrame) {
    drop(slot, FragmentDrop::too_big);
    return FragmentVerdict::dropped;
  }
  std::uint8_t* o = output_.get();
  std::memcpy(o, &headers_[static_cast<std::size_t>(slot) * kMaxHeaderBytes], d.header_len);
  const std::uint32_t* map = &chunk_map_[static_cast<std::size_t>(slot) * kChunksPerDatagram];
  for (std::uint32_t off = 0; off < d.total; off += kChunkBytes) {
    const std::uint32_t n = std::min(kChunkBytes, d.total - off);
    std::memcpy(o + d.header_len + off, &chunks_[static_cast<std::size_t>(map[off / kChunkBytes] - 1) * kChunkBytes], n);
  }
  std::uint8_t* ip = o + d.l3_offset;
  const std::uint32_t ip_header = d.header_len - d.l3_offset;
  if (d.key.version == 4) {
    store16(ip + 2, ip_header + d.total);
    store16(ip + 6, load16(ip + 6) & 0x4000u);  // keep DF; clear MF and the offset
    store16(ip + 10, 0);
    store16(ip + 10, ipv4_checksum(ip, ip_header));
  } else {
    store16(ip + 4, ip_header - kIpv6FixedLen + d.total);
  }
  out.frame = decode::Bytes{o, len};
  out.l3_offset = d.l3_offset;
  out.fragments = d.fragments;
  out.ip_version = d.key.version;
  counters_.completed.add();
  release(slot);
  return FragmentVerdict::complete;
}

FragmentVerdict Reassembler::add(decode::Bytes frame, const decode::DecodedPacket& p, std::uint64_t now_ns,
                                 ReassembledDatagram& out) noexcept {
  if (!p.has(decode::kLayerIpFragment) || p.has(decode::kLayerMacsec)) {
    return FragmentVerdict::not_fragment;
  }
  Key key;
  key.vlan = p.vlan_count > 0 ? p.vlans[0].vid : 0;
  std::uint32_t offset = 0;
  bool more = false;
  std::size_t header_len = 0;     // L2 + the IP header(s) a reassembled frame keeps
  std::size_t payload_start = 0;  // first fragment payload byte in `frame`
  std::size_t ip_end = 0;
  std::size_t next_header_pos = 0;  // IPv6: byte to patch with the fragment's next header
  std::uint8_t next_header = 0;
  const std::size_t l3 = p.l3_offset;
  bool bad_header = false;

  if (p.has(decode::kLayerIpv4)) {
    key.src = p.ipv4.src.bytes;
    key.dst = p.ipv4.dst.bytes;
    key.id = p.ipv4.id;
    key.protocol = p.ipv4.protocol;
    key.version = 4;
    offset = p.ipv4.fragment_offset;
    more = p.ipv4.more_fragments;
    header_len = l3 + p.ipv4.ihl;
    payload_start = header_len;
    ip_end = l3 + p.ipv4.total_length;
  } else if (p.has(decode::kLayerIpv6) && p.ipv6.fragment) {
    key.src = p.ipv6.src.bytes;
    key.dst = p.ipv6.dst.bytes;
    key.id = p.ipv6.fragment_id;
    key.version = 6;  // RFC 8200: (source, destination, identification); next headers may differ
    offset = p.ipv6.fragment_offset;
    more = p.ipv6.more_fragments;
    if (offset == 0 && !more) return FragmentVerdict::not_fragment;  // atomic fragment (RFC 6946)
    ip_end = l3 + kIpv6FixedLen + p.ipv6.payload_length;
    // Find the fragment header again: the decoder records that it exists, not where.
    std::size_t pos = l3 + 6;
    std::size_t off = l3 + kIpv6FixedLen;
    std::uint8_t nh = frame.size() > pos ? frame[pos] : 0;
    bool found = false;
    for (std::size_t i = 0; i < decode::kMaxIpv6ExtHeaders && off + 2 <= frame.size(); ++i) {
      if (nh == decode::ipproto::kFragment) {
        found = off + kIpv6FragmentHeaderLen <= frame.size();
        break;
      }
      if (nh != decode::ipproto::kHopByHop && nh != decode::ipproto::kRouting &&
          nh != decode::ipproto::kDestOpts) {
        break;
      }
      pos = off;
      nh = frame[off];
      off += (static_cast<std::size_t>(frame[off + 1]) + 1) * 8;
    }
    if (!found) {
      bad_header = true;
    } else {
      next_header = frame[off];
      next_header_pos = pos;
      header_len = off;  // the fragment header itself is not kept
      payload_start = off + kIpv6FragmentHeaderLen;
      key.protocol = 0;
    }
  } else {
    return FragmentVerdict::not_fragment;
  }
  counters_.fragments.add();

  const std::uint64_t h = hash_bytes(&key, sizeof key);
  std::uint32_t slot = index_.find(h, [&](std::uint32_t e) { return slots_[e].key == key; });
  if (slot != HashIndex::kNone && now_ns - slots_[slot].first_ns >= cfg_.timeout_ns) {
    drop(slot, FragmentDrop::timeout);
    slot = HashIndex::kNone;
  }
  const auto reject = [&](FragmentDrop why) {
    if (slot != HashIndex::kNone) {
      counters_.fragments_dropped.add(1);  // this fragment; drop() adds the datagram's
      drop(slot, why);
    } else {
      counters_.drops[static_cast<std::size_t>(why)].add();
      counters_.fragments_dropped.add(1);
    }
    return FragmentVerdict::dropped;
  };

  if (bad_header || header_len > kMaxHeaderBytes || ip_end > frame.size() || ip_end < payload_start) {
    return reject(FragmentDrop::bad_header);
  }
  const auto len = static_cast<std::uint32_t>(ip_end - payload_start);
  const std::uint32_t start = offset;
  const std::uint32_t end = offset + len;
  if (len == 0 || (more && len % 8 != 0)) return reject(FragmentDrop::bad_offset);
  if (header_len + end > kMaxFrame) return reject(FragmentDrop::too_big);
  if (slot != HashIndex::kNone) {
    const Datagram& d = slots_[slot];
    if (d.has_last && (end > d.total || (!more && end != d.total))) return reject(FragmentDrop::bad_offset);
  }

  if (slot == HashIndex::kNone) slot = allocate_slot(key, h, now_ns);
  Datagram& d = slots_[slot];
  Range* ranges = &ranges_[static_cast<std::size_t>(slot) * cfg_.max_fragments];
  if (!more) {
    for (std::uint16_t i = 0; i < d.ranges; ++i) {
      if (ranges[i].end > end) return reject(FragmentDrop::bad_offset);
    }
  }

  // The parts of [start, end) not received yet, and whether anything overlapped.
  std::array<Range, 8> pieces{};
  std::size_t piece_count = 0;
  bool overlap = false;
  std::uint32_t cur = start;
  for (std::uint16_t i = 0; i < d.ranges && cur < end; ++i) {
    const Range& r = ranges[i];
    if (r.start == start && r.end == end) {  // exact duplicate: ignored
      counters_.duplicates.add();
      return FragmentVerdict::held;
    }
    if (r.end <= cur || r.start >= end) continue;
    overlap = true;
    if (r.start > cur) {
      if (piece_count == pieces.size()) return reject(FragmentDrop::too_many_fragments);
      pieces[piece_count++] = Range{cur, r.start};
    }
    cur = std::max(cur, r.end);
  }
  if (cur < end) {
    if (piece_count == pieces.size()) return reject(FragmentDrop::too_many_fragments);
    pieces[piece_count++] = Range{cur, end};
  }
  if (overlap) {
    if (cfg_.overlap == OverlapPolicy::reject) return reject(FragmentDrop::overlap);
    counters_.overlaps_trimmed.add();
  }
  if (d.ranges + piece_count > cfg_.max_fragments) return reject(FragmentDrop::too_many_fragments);
  for (std::size_t k = 0; k < piece_count; ++k) {
    if (!ensure_chunks(slot, pieces[k].start, pieces[k].end)) return reject(FragmentDrop::buffer_full);
  }
  for (std::size_t k = 0; k < piece_count; ++k) {
    const Range pc = pieces[k];
    copy_in(slot, pc.start, frame.data() + payload_start + (pc.start - start), pc.end - pc.start);
    std::uint16_t at = d.ranges;
    while (at > 0 && ranges[at - 1].start > pc.start) {
      ranges[at] = ranges[at - 1];
      --at;
    }
    ranges[at] = pc;
    ++d.ranges;
    d.received += pc.end - pc.start;
  }
  ++d.fragments;
  if (!more) {
    d.has_last = true;
    d.total = end;
  }
  if (start == 0 && piece_count > 0 && pieces[0].start == 0) {
    std::uint8_t* hdr = &headers_[static_cast<std::size_t>(slot) * kMaxHeaderBytes];
    std::memcpy(hdr, frame.data(), header_len);
    if (key.version == 6) hdr[next_header_pos] = next_header;
    d.header_len = static_cast<std::uint16_t>(header_len);
    d.l3_offset = static_cast<std::uint16_t>(l3);
    d.has_first = true;
  }
  if (d.has_first && d.has_last && d.received == d.total) return finish(slot, out);
  return FragmentVerdict::held;
}

std::uint32_t Reassembler::expire(std::uint64_t now_ns, std::uint32_t max_work) noexcept {
  std::uint32_t n = 0;
  while (n < max_work && oldest_ != 0 && now_ns - slots_[oldest_ - 1].first_ns >= cfg_.timeout_ns) {
    drop(oldest_ - 1, FragmentDrop::timeout);
    ++n;
  }
  return n;
}

}  // namespace netscope::analysis
