#include "netscope/engine/correlation.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>

#include "netscope/util/hash.hpp"

namespace netscope::engine {

namespace {

constexpr std::uint64_t kLatencyCap = (std::uint64_t{1} << 40) - 1;

std::uint64_t as_u64(std::int64_t v) noexcept { return static_cast<std::uint64_t>(v); }
std::int64_t as_i64(std::uint64_t v) noexcept { return static_cast<std::int64_t>(v); }

}  // namespace

std::size_t latency_bucket(std::int64_t ns) noexcept {
  if (ns < 8) return ns < 0 ? 0 : static_cast<std::size_t>(ns);
  const std::uint64_t v = std::min<std::uint64_t>(static_cast<std::uint64_t>(ns), kLatencyCap);
  const unsigned e = 63u - static_cast<unsigned>(std::countl_zero(v));  // >= 3
  const auto sub = static_cast<std::size_t>((v >> (e - 3)) & 7u);
  return 8 + static_cast<std::size_t>(e - 3) * 8 + sub;
}

std::int64_t latency_bucket_low(std::size_t b) noexcept {
  if (b < 8) return static_cast<std::int64_t>(b);
  const std::size_t e = (b - 8) / 8 + 3;
  const std::size_t sub = (b - 8) % 8;
  return static_cast<std::int64_t>((std::uint64_t{8} + sub) << (e - 3));
}

std::int64_t latency_bucket_high(std::size_t b) noexcept {
  if (b < 8) return static_cast<std::int64_t>(b) + 1;
  const std::size_t e = (b - 8) / 8 + 3;
  const std::size_t sub = (b - 8) % 8;
  return static_cast<std::int64_t>((std::uint64_t{9} + sub) << (e - 3));
}

LatencyStats::LatencyStats() noexcept {
  min.set(as_u64(std::numeric_limits<std::int64_t>::max()));
  max.set(as_u64(std::numeric_limits<std::int64_t>::min()));
}

void LatencyStats::add(std::int64_t ns) noexcept {
  count.add();
  sum.add(as_u64(ns));
  if (ns < as_i64(min.value())) min.set(as_u64(ns));
  if (ns > as_i64(max.value())) max.set(as_u64(ns));
  if (ns < 0) negative.add();
  buckets[latency_bucket(ns)].add();
}

bool correlation_identity(const decode::DecodedPacket& p, decode::Bytes frame, const seq::SaKey* sa,
                          std::uint32_t seq32, std::uint64_t& id) noexcept {
  if (sa != nullptr) {
    // The SA key has no port; the number on the wire is the same on both taps.
    id = util::mix64(seq::hash(*sa) ^ 0x5bd1e9955bd1e995ull, 0x9e3779b97f4a7c15ull ^ seq32);
    return true;
  }
  // Only bytes no router rewrites: no L2 (tags differ between taps), no TTL/hop limit,
  // no IPv4 checksum, no DSCP/ECN.
  alignas(8) std::uint8_t buf[80] = {};
  std::size_t start = 0;
  if (p.has(decode::kLayerIpv4) && p.ip_version == 4) {
    buf[0] = 4;
    buf[1] = p.ipv4.protocol;
    std::memcpy(buf + 2, &p.ipv4.id, 2);
    std::memcpy(buf + 4, &p.ipv4.total_length, 2);
    std::memcpy(buf + 6, &p.ipv4.fragment_offset, 2);
    std::memcpy(buf + 8, p.ipv4.src.bytes.data(), 4);
    std::memcpy(buf + 12, p.ipv4.dst.bytes.data(), 4);
    start = static_cast<std::size_t>(p.l3_offset) + p.ipv4.ihl;
  } else if (p.has(decode::kLayerIpv6) && p.ip_version == 6) {
    buf[0] = 6;
    buf[1] = p.ipv6.next_header;
    std::memcpy(buf + 2, &p.ipv6.payload_length, 2);
    std::memcpy(buf + 4, &p.ipv6.flow_label, 4);
    std::memcpy(buf + 8, p.ipv6.src.bytes.data(), 16);
    std::memcpy(buf + 24, p.ipv6.dst.bytes.data(), 16);
    start = static_cast<std::size_t>(p.l3_offset) + p.ipv6.header_chain_len;
  } else {
    return false;
  }
  if (p.l4_offset != 0) start = p.l4_offset;
  // The first 32 bytes from the L4 header on (ports, TCP numbers, checksums, payload start).
  if (start < frame.size()) {
    const std::size_t n = std::min<std::size_t>(32, frame.size() - start);
    std::memcpy(buf + 40, frame.data() + start, n);
    buf[72] = static_cast<std::uint8_t>(n);
  }
  id = util::hash_key(buf, sizeof buf);
  return true;
}

Correlator::Correlator(const CorrelationConfig& cfg)
    : cfg_(cfg),
      pairs_(std::make_unique<CorrelationCounters[]>(kMaxCorrelationPairs)),
      slab_(std::make_unique<Pending[]>(std::max<std::uint32_t>(cfg.max_pending, 1))),
      index_(std::max<std::uint32_t>(cfg.max_pending, 1)),
      sa_keys_(std::make_unique<seq::SaKey[]>(std::max<std::uint32_t>(cfg.max_sas, 1))),
      sa_pairs_(std::make_unique<std::uint8_t[]>(std::max<std::uint32_t>(cfg.max_sas, 1))),
      sas_(std::make_unique<CorrelationCounters[]>(std::max<std::uint32_t>(cfg.max_sas, 1))),
      sa_index_(std::max<std::uint32_t>(cfg.max_sas, 1)) {
  port_list_.fill(kNoList);
  for (std::size_t i = 0; i < cfg.pairs.size() && i < kMaxCorrelationPairs; ++i) {
    const CorrelationPair& pr = cfg.pairs[i];
    if (pr.a < port_list_.size()) port_list_[pr.a] = static_cast<std::uint8_t>(i * 2);
    if (pr.b < port_list_.size()) port_list_[pr.b] = static_cast<std::uint8_t>(i * 2 + 1);
  }
  // Free list through `next`.
  const std::uint32_t n = std::max<std::uint32_t>(cfg.max_pending, 1);
  for (std::uint32_t i = 0; i < n; ++i) slab_[i].next = i + 1 < n ? i + 1 : kNil;
  free_ = cfg.max_pending == 0 ? kNil : 0;
}

std::uint32_t Correlator::sa_slot(std::uint8_t pair, const seq::SaKey& key) noexcept {
  const std::uint64_t h = seq::hash(key) ^ (std::uint64_t{pair} * 0x9e3779b97f4a7c15ull);
  const std::uint32_t found =
      sa_index_.find(h, [&](std::uint32_t e) { return sa_pairs_[e] == pair && sa_keys_[e] == key; });
  if (found != analysis::HashIndex::kNone) return found;
  if (sa_used_ >= cfg_.max_sas) return kNil;
  const std::uint32_t e = sa_used_++;
  sa_keys_[e] = key;
  sa_pairs_[e] = pair;
  sa_index_.insert(h, e);
  sa_published_.store(sa_used_, std::memory_order_release);
  return e;
}

void Correlator::unlink(std::uint32_t e) noexcept {
  Pending& p = slab_[e];
  List& l = lists_[p.list];
  if (p.prev != kNil) slab_[p.prev].next = p.next; else l.head = p.next;
  if (p.next != kNil) slab_[p.next].prev = p.prev; else l.tail = p.prev;
  index_.erase(p.id, e);
  p.next = free_;
  p.prev = kNil;
  free_ = e;
}

void Correlator::lose(const Pending& e) noexcept {
  const bool from_a = (e.list & 1u) == 0;
  CorrelationCounters& pc = pairs_[e.list >> 1];
  (from_a ? pc.lost_a_to_b : pc.lost_b_to_a).add();
  pc.pending.set(pc.pending.value() - 1);
  if (e.sa != kNil) {
    CorrelationCounters& sc = sas_[e.sa];
    (from_a ? sc.lost_a_to_b : sc.lost_b_to_a).add();
    sc.pending.set(sc.pending.value() - 1);
  }
}

std::uint32_t Correlator::expire_list(std::uint8_t l, std::uint32_t budget) noexcept {
  const std::uint64_t other = lists_[l ^ 1u].clock;
  std::uint32_t n = 0;
  while (n < budget) {
    const std::uint32_t h = lists_[l].head;
    if (h == kNil || slab_[h].ts + cfg_.window_ns >= other) break;
    lose(slab_[h]);
    unlink(h);
    ++n;
  }
  return n;
}

void Correlator::on_packet(std::uint16_t port, std::uint64_t ts, const decode::DecodedPacket& p, decode::Bytes frame,
                           const seq::SaKey* sa, std::uint32_t seq32) noexcept {
  std::uint64_t id = 0;
  if (!correlation_identity(p, frame, sa, seq32, id)) [[unlikely]] {
    pairs_[port_list_[port] >> 1].untracked_non_ip.add();
    // Still advances its side's clock: the other side's packets expire by it.
    List& l = lists_[port_list_[port]];
    l.clock = std::max(l.clock, ts);
    return;
  }
  on_identity(port, ts, id, sa);
}

void Correlator::on_identity(std::uint16_t port, std::uint64_t ts, std::uint64_t id, const seq::SaKey* sa) noexcept {
  const std::uint8_t side_list = port_list_[port];
  const std::uint8_t other_list = side_list ^ 1u;
  const std::uint8_t pair = side_list >> 1;
  const bool is_a = (side_list & 1u) == 0;
  CorrelationCounters& pc = pairs_[pair];
  List& mine = lists_[side_list];
  mine.clock = std::max(mine.clock, ts);
  // This side's clock moved: the other side's packets older than the window are lost.
  expire_list(other_list, 16);

  const std::uint32_t sa_e = sa != nullptr ? sa_slot(pair, *sa) : kNil;
  if (sa != nullptr && sa_e == kNil) [[unlikely]] pc.sa_table_full.add();
  CorrelationCounters* sc = sa_e != kNil ? &sas_[sa_e] : nullptr;

  bool duplicate = false;
  const std::uint32_t found = index_.find(id, [&](std::uint32_t e) {
    const Pending& q = slab_[e];
    if (q.id != id) return false;
    if (q.list == side_list) {
      duplicate = true;
      return false;
    }
    if (q.list != other_list) return false;
    // Copies further apart than the window never match (whichever was processed first).
    const std::uint64_t d = q.ts > ts ? q.ts - ts : ts - q.ts;
    return d <= cfg_.window_ns;
  });
  if (found != analysis::HashIndex::kNone) {
    const Pending& q = slab_[found];
    const std::int64_t lat = is_a ? static_cast<std::int64_t>(q.ts - ts) : static_cast<std::int64_t>(ts - q.ts);
    pc.matched.add();
    pc.latency.add(lat);
    pc.pending.set(pc.pending.value() - 1);
    // The SA slot is the one the waiting copy took (same key, same pair).
    if (q.sa != kNil) {
      CorrelationCounters& qc = sas_[q.sa];
      qc.matched.add();
      qc.latency.add(lat);
      qc.pending.set(qc.pending.value() - 1);
    }
    unlink(found);
    return;
  }
  if (duplicate) {
    pc.duplicates.add();
    if (sc != nullptr) sc->duplicates.add();
    return;
  }
  if (free_ == kNil) {
    expire_list(side_list, 16);  // this side may have packets the other side's clock passed
    expire_list(other_list, 16);
    if (free_ == kNil) [[unlikely]] {
      pc.untracked_full.add();
      if (sc != nullptr) sc->untracked_full.add();
      return;
    }
  }
  const std::uint32_t e = free_;
  Pending& q = slab_[e];
  free_ = q.next;
  q.id = id;
  q.ts = ts;
  q.sa = sa_e;
  q.list = side_list;
  q.next = kNil;
  q.prev = mine.tail;
  if (mine.tail != kNil) slab_[mine.tail].next = e; else mine.head = e;
  mine.tail = e;
  index_.insert(id, e);
  pc.pending.add();
  if (sc != nullptr) sc->pending.add();
}

void Correlator::expire(std::uint32_t budget) noexcept {
  for (std::uint8_t l = 0; l < cfg_.pairs.size() * 2 && l < lists_.size() && budget != 0; ++l) {
    budget -= expire_list(l, budget);
  }
}

void Correlator::flush() noexcept {
  for (std::uint8_t l = 0; l < lists_.size(); ++l) {
    while (lists_[l].head != kNil) {
      const std::uint32_t h = lists_[l].head;
      lose(slab_[h]);
      unlink(h);
    }
  }
}

void LatencySummary::add(const LatencyStats& s) noexcept {
  LatencySummary o;
  o.count = s.count.value();
  o.sum = as_i64(s.sum.value());
  o.min = as_i64(s.min.value());
  o.max = as_i64(s.max.value());
  o.negative = s.negative.value();
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) o.buckets[i] = s.buckets[i].value();
  merge(o);
}

void LatencySummary::merge(const LatencySummary& o) noexcept {
  if (o.count == 0) return;
  count += o.count;
  sum += o.sum;
  min = std::min(min, o.min);
  max = std::max(max, o.max);
  negative += o.negative;
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) buckets[i] += o.buckets[i];
}

std::int64_t LatencySummary::quantile(double q) const noexcept {
  if (count == 0) return 0;
  std::uint64_t total = 0;
  for (const std::uint64_t b : buckets) total += b;
  if (total == 0) return 0;
  auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total) + 0.999999);
  rank = std::clamp<std::uint64_t>(rank, 1, total);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) {
    if (seen + buckets[i] >= rank) {
      // Linear within the bucket, whose ends are narrowed to the values seen (min, max).
      const std::int64_t lo = std::clamp(latency_bucket_low(i), min, max);
      const std::int64_t hi = std::clamp(latency_bucket_high(i) - 1, min, max);
      const double f = static_cast<double>(rank - seen) / static_cast<double>(buckets[i]);
      return lo + static_cast<std::int64_t>(f * static_cast<double>(hi - lo) + 0.5);
    }
    seen += buckets[i];
  }
  return max;
}

void CorrelationTotals::add(const CorrelationCounters& c) noexcept {
  matched += c.matched.value();
  lost_a_to_b += c.lost_a_to_b.value();
  lost_b_to_a += c.lost_b_to_a.value();
  duplicates += c.duplicates.value();
  untracked_full += c.untracked_full.value();
  untracked_non_ip += c.untracked_non_ip.value();
  pending += c.pending.value();
  sa_table_full += c.sa_table_full.value();
  latency.add(c.latency);
}

namespace {

/// Orders SA keys by their identity fields (stable output).
struct SaKeyLess {
  bool operator()(const seq::SaKey& x, const seq::SaKey& y) const noexcept {
    return std::memcmp(&x, &y, sizeof x) < 0;
  }
};

}  // namespace

CorrelationView merge_correlation(const std::vector<const Correlator*>& workers) {
  CorrelationView v;
  if (workers.empty() || workers.front() == nullptr) return v;
  const CorrelationConfig& cfg = workers.front()->config();
  v.window_ns = cfg.window_ns;
  const std::size_t np = std::min(cfg.pairs.size(), kMaxCorrelationPairs);
  std::vector<std::map<seq::SaKey, CorrelationTotals, SaKeyLess>> per_sa(np);
  v.pairs.resize(np);
  for (std::size_t i = 0; i < np; ++i) v.pairs[i].ports = cfg.pairs[i];
  for (const Correlator* w : workers) {
    if (w == nullptr) continue;
    for (std::size_t i = 0; i < np; ++i) v.pairs[i].totals.add(w->pair(i));
    const std::uint32_t n = w->sa_count();
    for (std::uint32_t s = 0; s < n; ++s) {
      if (w->sa_pair(s) < np) per_sa[w->sa_pair(s)][w->sa_key(s)].add(w->sa(s));
    }
  }
  for (std::size_t i = 0; i < np; ++i) {
    for (auto& [k, t] : per_sa[i]) v.pairs[i].sas.push_back({k, t});
  }
  return v;
}

}  // namespace netscope::engine
