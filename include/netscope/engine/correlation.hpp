// Correlation across ports: the same packet seen on two ports (two taps of one path) gives
// the loss between them and the one-way latency. No DPDK.
//
// One Correlator per worker lcore, fed by Worker::analyze with the packets of the ports of
// a configured pair. Both copies of a packet reach the same worker because the shard hash
// (engine::shard_hash) does not include the port (pipeline mode, or one worker).
//
// A packet's identity is, for MACsec/ESP/AH, its SA key (which has no port) and the
// sequence number on the wire (low 32 bits); for other IP packets a 64-bit fingerprint of
// bytes no router rewrites (addresses, protocol, IPv4 id/length/fragment, IPv6 flow label
// and length, the first 32 bytes from the L4 header on). Non-IP frames are not correlated.
//
// A packet seen on one side waits in a fixed-capacity pending table for its copy on the
// other side. It expires unmatched (lost in its direction) when the OTHER side's packet
// clock passes its timestamp + window: each side has its own clock, so a capture read
// faster than the other does not expire everything. Copies further apart than the window
// never match. Latency = ts(b) - ts(a), signed.
//
// Per-packet path: noexcept, no allocation, no locks, no logging. Results are single-writer
// util::Counters that the control lcore reads at any time (merge_correlation).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "netscope/analysis/hash_index.hpp"
#include "netscope/decode/packet.hpp"
#include "netscope/seq/sa_table.hpp"
#include "netscope/util/counter.hpp"

namespace netscope::engine {

inline constexpr std::size_t kMaxCorrelationPairs = 8;

/// Two ports that see the same traffic (port ids); a is upstream of b.
struct CorrelationPair {
  std::uint16_t a = 0;
  std::uint16_t b = 0;
};

struct CorrelationConfig {
  std::vector<CorrelationPair> pairs;       ///< each port in at most one pair; empty: off
  std::uint64_t window_ns = 1'000'000'000;  ///< how long a packet waits for its copy
  std::uint32_t max_pending = 65536;        ///< packets waiting, per worker
  std::uint32_t max_sas = 1024;             ///< SAs with their own results, per worker
};

/// Log-scale latency buckets: values 0..7 ns exactly, then 8 buckets per power of two up to
/// 2^40 ns (about 18 minutes; larger values land in the last bucket). Negative latencies
/// (clock offset between the taps) count in bucket 0.
inline constexpr std::size_t kLatencyBuckets = 8 + 37 * 8;
/// The bucket of a latency in ns.
[[nodiscard]] std::size_t latency_bucket(std::int64_t ns) noexcept;
/// Lowest value of a bucket, and one past its highest.
[[nodiscard]] std::int64_t latency_bucket_low(std::size_t b) noexcept;
[[nodiscard]] std::int64_t latency_bucket_high(std::size_t b) noexcept;

/// Latency statistics with one writer; any thread may read.
struct LatencyStats {
  util::Counter count;
  util::Counter sum;       ///< ns, two's complement (negative latencies subtract)
  util::Counter min;       ///< int64 as uint64; meaningful when count > 0
  util::Counter max;       ///< int64 as uint64
  util::Counter negative;  ///< latencies below zero
  std::array<util::Counter, kLatencyBuckets> buckets;
  LatencyStats() noexcept;
  void add(std::int64_t ns) noexcept;
};

/// Results of one pair, or of one SA within a pair. One writer (the worker lcore).
struct CorrelationCounters {
  util::Counter matched;           ///< seen on both ports within the window
  util::Counter lost_a_to_b;       ///< seen on a only
  util::Counter lost_b_to_a;       ///< seen on b only
  util::Counter duplicates;        ///< same identity again on one port while the first waited (not tracked)
  util::Counter untracked_full;    ///< the pending table was full: not tracked
  util::Counter untracked_non_ip;  ///< neither SA nor IP: no identity (pair results only)
  util::Counter pending;           ///< waiting now (gauge)
  util::Counter sa_table_full;     ///< SA packets whose SA found no per-SA slot (pair results only)
  LatencyStats latency;            ///< ts(b) - ts(a) of matched packets
};

/// Identity of a packet for correlation. `sa` is the packet's SA key when it has one
/// (seq32 its number on the wire). Returns false for frames without identity (non-IP).
[[nodiscard]] bool correlation_identity(const decode::DecodedPacket& p, decode::Bytes frame, const seq::SaKey* sa,
                                        std::uint32_t seq32, std::uint64_t& id) noexcept;

class Correlator {
 public:
  /// Allocates every table. Ports must be < 256; each in at most one pair (checked by config).
  explicit Correlator(const CorrelationConfig& cfg);

  /// True when `port` belongs to a pair.
  [[nodiscard]] bool wants(std::uint16_t port) const noexcept {
    return port < port_list_.size() && port_list_[port] != kNoList;
  }
  /// True when `port` is the b side of a pair.
  [[nodiscard]] bool is_b(std::uint16_t port) const noexcept {
    return wants(port) && (port_list_[port] & 1u) != 0;
  }

  /// One packet of a pair's port (wants(port) must hold). `sa` is its SA key or nullptr.
  /// Does not allocate. Only the owning lcore may call it.
  void on_packet(std::uint16_t port, std::uint64_t ts, const decode::DecodedPacket& p, decode::Bytes frame,
                 const seq::SaKey* sa, std::uint32_t seq32) noexcept;
  /// The same with the identity already computed (tests, and on_packet itself).
  void on_identity(std::uint16_t port, std::uint64_t ts, std::uint64_t id, const seq::SaKey* sa) noexcept;

  /// Expires at most `budget` packets whose window has passed on the other side's clock.
  void expire(std::uint32_t budget) noexcept;
  /// End of input: every packet still waiting is counted as lost (the other port ended).
  void flush() noexcept;

  [[nodiscard]] const CorrelationConfig& config() const noexcept { return cfg_; }
  [[nodiscard]] const CorrelationCounters& pair(std::size_t i) const noexcept { return pairs_[i]; }
  /// SAs with their own results; entries [0, sa_count()) never change once counted. Any thread.
  [[nodiscard]] std::uint32_t sa_count() const noexcept { return sa_published_.load(std::memory_order_acquire); }
  [[nodiscard]] const seq::SaKey& sa_key(std::uint32_t i) const noexcept { return sa_keys_[i]; }
  [[nodiscard]] std::uint8_t sa_pair(std::uint32_t i) const noexcept { return sa_pairs_[i]; }
  [[nodiscard]] const CorrelationCounters& sa(std::uint32_t i) const noexcept { return sas_[i]; }

 private:
  static constexpr std::uint8_t kNoList = 0xFF;
  static constexpr std::uint32_t kNil = 0xFFFFFFFFu;
  /// One packet waiting for its copy, on the list (pair * 2 + side) of its port.
  struct Pending {
    std::uint64_t id = 0;
    std::uint64_t ts = 0;
    std::uint32_t sa = kNil;   ///< per-SA results slot, or kNil
    std::uint32_t prev = kNil;
    std::uint32_t next = kNil;
    std::uint8_t list = 0;
  };
  struct List {
    std::uint32_t head = kNil;  ///< oldest
    std::uint32_t tail = kNil;
    std::uint64_t clock = 0;    ///< newest timestamp seen on this side
  };
  void unlink(std::uint32_t e) noexcept;
  void lose(const Pending& e) noexcept;
  /// Expires from list `l` what the other side's clock has passed; at most `budget`.
  std::uint32_t expire_list(std::uint8_t l, std::uint32_t budget) noexcept;
  std::uint32_t sa_slot(std::uint8_t pair, const seq::SaKey& key) noexcept;

  CorrelationConfig cfg_;
  std::array<std::uint8_t, 256> port_list_{};
  std::array<List, kMaxCorrelationPairs * 2> lists_{};
  std::unique_ptr<CorrelationCounters[]> pairs_;
  std::unique_ptr<Pending[]> slab_;
  std::uint32_t free_ = kNil;
  analysis::HashIndex index_;
  // Per-SA results: append-only arrays published through sa_published_.
  std::unique_ptr<seq::SaKey[]> sa_keys_;
  std::unique_ptr<std::uint8_t[]> sa_pairs_;
  std::unique_ptr<CorrelationCounters[]> sas_;
  analysis::HashIndex sa_index_;
  std::uint32_t sa_used_ = 0;
  std::atomic<std::uint32_t> sa_published_{0};
};

/// Plain copies of the results, merged across workers on the control lcore.
struct LatencySummary {
  std::uint64_t count = 0;
  std::int64_t sum = 0;
  std::int64_t min = std::numeric_limits<std::int64_t>::max();
  std::int64_t max = std::numeric_limits<std::int64_t>::min();
  std::uint64_t negative = 0;
  std::array<std::uint64_t, kLatencyBuckets> buckets{};
  void add(const LatencyStats& s) noexcept;
  void merge(const LatencySummary& o) noexcept;
  [[nodiscard]] double mean() const noexcept { return count == 0 ? 0.0 : static_cast<double>(sum) / static_cast<double>(count); }
  /// The q-quantile (0 < q <= 1), interpolated linearly inside the bucket holding it (the
  /// bucket's ends narrowed to [min, max]): exact to the bucket width, 1/8 of the value.
  [[nodiscard]] std::int64_t quantile(double q) const noexcept;
};

struct CorrelationTotals {
  std::uint64_t matched = 0, lost_a_to_b = 0, lost_b_to_a = 0, duplicates = 0, untracked_full = 0,
                untracked_non_ip = 0, pending = 0, sa_table_full = 0;
  LatencySummary latency;
  void add(const CorrelationCounters& c) noexcept;
};

struct CorrelationSaView {
  seq::SaKey key;
  CorrelationTotals totals;
};

struct CorrelationPairView {
  CorrelationPair ports;
  std::string name_a, name_b;  ///< port names (filled by the runtime)
  std::string timestamps;      ///< "capture" (the PMD's per-packet time) or "rx_host" (host clock at RX)
  CorrelationTotals totals;
  std::vector<CorrelationSaView> sas;  ///< sorted by SA identity
};

struct CorrelationView {
  std::uint64_t window_ns = 0;
  std::vector<CorrelationPairView> pairs;
};

/// Sums every worker's results (any thread; workers may be running). Port names are left empty.
CorrelationView merge_correlation(const std::vector<const Correlator*>& workers);

}  // namespace netscope::engine
