// Traffic measures with fixed memory: bit and packet rates over sliding windows of
// per-second buckets, and top talkers (flows and hosts by bytes) with a space-saving
// sketch (Metwally, Agrawal, El Abbadi 2005).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "netscope/analysis/hash_index.hpp"
#include "netscope/flow/flow_table.hpp"

namespace netscope::analysis {

inline constexpr std::uint64_t kNsPerSecond = 1'000'000'000ull;

/// Average rates over a window.
struct Rate {
  double bits_per_second = 0;
  double packets_per_second = 0;
};

/// Bytes and packets in a ring of `Seconds` one-second buckets. rate() averages the last
/// complete seconds (the current, partial one is left out), so a window can be up to
/// Seconds - 1 long. Trivially copyable, no allocation: use one per port and one global
/// (e.g. RateWindow<61> for 1 s, 10 s and 60 s rates) and RateWindow<2> per flow (the
/// last second, 40 bytes). Single writer; read on the owning lcore and publish, or read
/// a copy.
template <std::size_t Seconds>
class RateWindow {
  static_assert(Seconds >= 2);

 public:
  /// Counts `bytes` (on the wire) and `packets` at `now_ns`. Time going backwards counts
  /// in the current second. Clears at most Seconds buckets when time jumps forward.
  void add(std::uint64_t now_ns, std::uint64_t bytes, std::uint64_t packets = 1) noexcept {
    const std::uint64_t sec = now_ns / kNsPerSecond + 1;  // +1: 0 means "never written"
    if (sec > second_) {
      const std::uint64_t gap = second_ == 0 ? Seconds : std::min<std::uint64_t>(sec - second_, Seconds);
      for (std::uint64_t i = 0; i < gap; ++i) {
        const std::size_t b = static_cast<std::size_t>((sec - i) % Seconds);
        bytes_[b] = 0;
        packets_[b] = 0;
      }
      second_ = sec;
    }
    const std::size_t b = static_cast<std::size_t>(second_ % Seconds);
    bytes_[b] += bytes;
    packets_[b] += packets;
  }

  /// Average over the `window_s` complete seconds before the second containing now_ns
  /// (window_s is clamped to [1, Seconds - 1]). Seconds without traffic count as zero.
  [[nodiscard]] Rate rate(std::uint64_t now_ns, std::uint32_t window_s) const noexcept {
    window_s = std::clamp<std::uint32_t>(window_s, 1, static_cast<std::uint32_t>(Seconds - 1));
    const std::uint64_t cur = now_ns / kNsPerSecond + 1;
    std::uint64_t bytes = 0;
    std::uint64_t packets = 0;
    for (std::uint32_t i = 1; i <= window_s; ++i) {
      if (cur <= i) break;
      const std::uint64_t s = cur - i;
      if (s > second_ || s + Seconds <= second_) continue;  // not retained: no traffic known
      bytes += bytes_[static_cast<std::size_t>(s % Seconds)];
      packets += packets_[static_cast<std::size_t>(s % Seconds)];
    }
    Rate r;
    r.bits_per_second = static_cast<double>(bytes) * 8.0 / window_s;
    r.packets_per_second = static_cast<double>(packets) / window_s;
    return r;
  }

  /// Bytes and packets counted in the second containing now_ns so far.
  [[nodiscard]] std::uint64_t current_bytes(std::uint64_t now_ns) const noexcept {
    return now_ns / kNsPerSecond + 1 == second_ ? bytes_[static_cast<std::size_t>(second_ % Seconds)] : 0;
  }

 private:
  std::array<std::uint64_t, Seconds> bytes_{};
  std::array<std::uint64_t, Seconds> packets_{};
  std::uint64_t second_ = 0;  ///< newest second written, plus one
};

using FlowRate = RateWindow<2>;
static_assert(sizeof(FlowRate) == 40);

/// Space-saving heavy hitters over keys of type Key, weighted (e.g. by bytes). At most
/// `capacity` keys are monitored; a new key replaces the one with the smallest count and
/// inherits that count as its error. Guarantees: every key whose true weight exceeds
/// total()/capacity is monitored; count - error <= true weight <= count. Memory is fixed
/// at construction; add() is O(log capacity), no allocation. Single writer.
template <typename Key>
class SpaceSaving {
 public:
  struct Entry {
    Key key{};
    std::uint64_t count = 0;  ///< upper bound of the key's weight
    std::uint64_t error = 0;  ///< overestimation bound: count - error is a lower bound
    std::uint64_t hash = 0;
  };

  explicit SpaceSaving(std::uint32_t capacity)
      : capacity_(std::max<std::uint32_t>(capacity, 1)),
        entries_(std::make_unique<Entry[]>(capacity_)),
        heap_(std::make_unique<std::uint32_t[]>(capacity_)),
        pos_(std::make_unique<std::uint32_t[]>(capacity_)),
        index_(capacity_) {}

  /// Adds `weight` to `key` (whose hash is `h`). Does not allocate.
  void add(const Key& key, std::uint64_t h, std::uint64_t weight) noexcept {
    total_ += weight;
    std::uint32_t e = index_.find(h, [&](std::uint32_t i) { return entries_[i].key == key; });
    if (e != HashIndex::kNone) {
      entries_[e].count += weight;
      sift_down(pos_[e]);
      return;
    }
    if (size_ < capacity_) {
      e = size_++;
      entries_[e] = Entry{key, weight, 0, h};
      index_.insert(h, e);
      heap_[size_ - 1] = e;
      pos_[e] = size_ - 1;
      sift_up(size_ - 1);
      return;
    }
    e = heap_[0];  // the minimum: replaced
    const std::uint64_t min = entries_[e].count;
    index_.erase(entries_[e].hash, e);
    entries_[e] = Entry{key, min + weight, min, h};
    index_.insert(h, e);
    sift_down(0);
  }

  /// Copies the largest entries, by count descending, into `out`; returns how many.
  /// Does not allocate.
  std::size_t top(std::span<Entry> out) const noexcept {
    const Entry* b = entries_.get();
    const auto it = std::partial_sort_copy(b, b + size_, out.begin(), out.end(),
                                           [](const Entry& x, const Entry& y) { return x.count > y.count; });
    return static_cast<std::size_t>(it - out.begin());
  }

  /// The entry of `key`, or nullptr when it is not monitored.
  [[nodiscard]] const Entry* find(const Key& key, std::uint64_t h) const noexcept {
    const std::uint32_t e = index_.find(h, [&](std::uint32_t i) { return entries_[i].key == key; });
    return e == HashIndex::kNone ? nullptr : &entries_[e];
  }

  void clear() noexcept {
    size_ = 0;
    total_ = 0;
    index_.clear();
  }

  [[nodiscard]] std::uint64_t total() const noexcept { return total_; }
  [[nodiscard]] std::uint32_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint32_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::uint64_t memory_bytes() const noexcept {
    return capacity_ * (sizeof(Entry) + 2 * sizeof(std::uint32_t)) + index_.memory_bytes();
  }

 private:
  [[nodiscard]] bool less(std::uint32_t a, std::uint32_t b) const noexcept {
    return entries_[heap_[a]].count < entries_[heap_[b]].count;
  }
  void swap_at(std::uint32_t a, std::uint32_t b) noexcept {
    std::swap(heap_[a], heap_[b]);
    pos_[heap_[a]] = a;
    pos_[heap_[b]] = b;
  }
  void sift_up(std::uint32_t i) noexcept {
    while (i > 0) {
      const std::uint32_t parent = (i - 1) / 2;
      if (!less(i, parent)) break;
      swap_at(i, parent);
      i = parent;
    }
  }
  void sift_down(std::uint32_t i) noexcept {
    for (;;) {
      const std::uint32_t l = 2 * i + 1;
      if (l >= size_) break;
      std::uint32_t m = l;
      if (l + 1 < size_ && less(l + 1, l)) m = l + 1;
      if (!less(m, i)) break;
      swap_at(i, m);
      i = m;
    }
  }

  std::uint32_t capacity_;
  std::uint32_t size_ = 0;
  std::uint64_t total_ = 0;
  std::unique_ptr<Entry[]> entries_;
  std::unique_ptr<std::uint32_t[]> heap_;  ///< min-heap of entry numbers by count
  std::unique_ptr<std::uint32_t[]> pos_;   ///< entry number -> heap position
  HashIndex index_;
};

/// Top talkers on one lcore: flows and hosts by bytes. Each lcore sees its own shard of
/// the flows; the control side merges the per-lcore top lists (sum per key; the error
/// bounds add up too).
class TopTalkers {
 public:
  using FlowEntry = SpaceSaving<flow::FlowKey>::Entry;
  using HostEntry = SpaceSaving<HostKey>::Entry;

  TopTalkers(std::uint32_t flow_capacity, std::uint32_t host_capacity)
      : flows_(flow_capacity), hosts_(host_capacity) {}

  /// Counts `bytes` for the flow (its hash from flow::hash) and for both hosts (each host
  /// is credited with what it sent and received). Three sketch updates; no allocation.
  void add(const flow::FlowKey& flow, std::uint64_t flow_hash, const decode::IpAddr& src,
           const decode::IpAddr& dst, std::uint16_t vlan, std::uint64_t bytes) noexcept {
    flows_.add(flow, flow_hash, bytes);
    const HostKey s = host_key(src, vlan);
    const HostKey d = host_key(dst, vlan);
    hosts_.add(s, hash(s), bytes);
    hosts_.add(d, hash(d), bytes);
  }

  std::size_t top_flows(std::span<FlowEntry> out) const noexcept { return flows_.top(out); }
  std::size_t top_hosts(std::span<HostEntry> out) const noexcept { return hosts_.top(out); }
  [[nodiscard]] const SpaceSaving<flow::FlowKey>& flows() const noexcept { return flows_; }
  [[nodiscard]] const SpaceSaving<HostKey>& hosts() const noexcept { return hosts_; }
  /// Starts a new measurement interval (e.g. every minute, after publishing the lists).
  void clear() noexcept {
    flows_.clear();
    hosts_.clear();
  }
  [[nodiscard]] std::uint64_t memory_bytes() const noexcept {
    return flows_.memory_bytes() + hosts_.memory_bytes();
  }

 private:
  SpaceSaving<flow::FlowKey> flows_;
  SpaceSaving<HostKey> hosts_;
};

}  // namespace netscope::analysis
