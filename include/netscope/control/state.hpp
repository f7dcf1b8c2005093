// State shared inside the hub: the published view of the latest snapshot, bounded stores
// of finished flows and anomalies, the per-second history, commands, filters, counters.
// Written by the hub thread, read by HTTP/WebSocket threads and the database writer.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "netscope/control/hub.hpp"

namespace netscope::control {

/// Ids are below 2^53 so that JavaScript clients read them exactly.
inline constexpr std::uint64_t kIdLimit = 1ull << 53;

/// Stable id of an SA: 53 bits of seq::hash(key), never 0. Same across runs.
[[nodiscard]] std::uint64_t sa_id(const seq::SaKey& k) noexcept;

struct StoredFlow {
  std::uint64_t id = 0;           ///< assigned by the hub, increasing from 1
  std::uint64_t recorded_ns = 0;  ///< wall clock when the hub received it
  engine::FlowRecord rec;
};

struct StoredEvent {
  std::uint64_t id = 0;
  std::uint64_t recorded_ns = 0;
  engine::AnomalyEvent ev;
};

struct StoredPacket {
  std::uint64_t id = 0;
  std::uint64_t recorded_ns = 0;
  engine::PacketSummary pkt;
};

/// One SA as the API shows it. An SA split over lcores (wrong_lcore) is merged: counters
/// summed, first/last seen widened, `lcores` lists them all.
struct SaView {
  std::uint64_t id = 0;
  engine::SaSummary s;
  std::vector<std::uint16_t> lcores;
};

/// What the API sees of one snapshot; immutable once built.
struct Published {
  std::shared_ptr<const Snapshot> snap;
  std::shared_ptr<const Snapshot> prev;  ///< the one before, for rates (may be null)
  std::vector<SaView> sas;               ///< sorted by id
  double pps = 0;                        ///< packets per second since prev
  double bps = 0;                        ///< bits per second since prev
  std::uint64_t received_ns = 0;         ///< wall clock when the hub took it

  [[nodiscard]] const SaView* find_sa(std::uint64_t id) const noexcept;
};

/// Builds the view of `s`; `before` is the previous view (may be null). Allocates.
std::shared_ptr<const Published> make_published(std::shared_ptr<const Snapshot> s,
                                                const Published* before, std::uint64_t now_ns);

/// Cumulative totals at one instant; the history keeps one per second.
struct HistoryPoint {
  std::uint64_t time_ns = 0;
  std::uint64_t packets = 0, bytes = 0, anomalies = 0, malformed = 0, flows_created = 0;
  std::uint64_t dropped = 0;  ///< ring drops + rx_missed + rx_nombuf: never analyzed
};
[[nodiscard]] HistoryPoint history_point(const Snapshot& s) noexcept;
/// b - a, treating a counter that went down (a restart) as restarted from 0.
[[nodiscard]] std::uint64_t counter_delta(std::uint64_t a, std::uint64_t b) noexcept;

/// Bounded store of records with increasing ids. One appender, many readers.
template <typename T>
class RecordStore {
 public:
  explicit RecordStore(std::size_t capacity) : cap_(std::max<std::size_t>(capacity, 1)) {}

  /// Appends (ids must increase); drops the oldest beyond capacity.
  void append(const std::vector<T>& batch) {
    std::unique_lock lock(mu_);
    for (const T& t : batch) {
      if (items_.size() == cap_) items_.pop_front();
      items_.push_back(t);
    }
  }

  /// Calls f(const std::deque<T>&) under a shared lock; items are in id order.
  template <typename F>
  auto read(F&& f) const {
    std::shared_lock lock(mu_);
    return f(items_);
  }

  [[nodiscard]] std::optional<T> get(std::uint64_t id) const {
    std::shared_lock lock(mu_);
    const auto it = std::lower_bound(items_.begin(), items_.end(), id,
                                     [](const T& t, std::uint64_t v) { return t.id < v; });
    if (it == items_.end() || it->id != id) return std::nullopt;
    return *it;
  }

  [[nodiscard]] std::size_t size() const {
    std::shared_lock lock(mu_);
    return items_.size();
  }

 private:
  mutable std::shared_mutex mu_;
  std::deque<T> items_;
  std::size_t cap_;
};

/// Ring of per-second points (the newest replaces one of the same second).
class History {
 public:
  explicit History(std::size_t seconds) : cap_(std::max<std::size_t>(seconds, 2) + 1) {}
  void add(const HistoryPoint& p);
  /// Points with time >= since_ns, plus the one just before (for deltas), oldest first.
  [[nodiscard]] std::vector<HistoryPoint> since(std::uint64_t since_ns) const;
  /// Highest packet and bit rate between two consecutive points.
  void peaks(double& pps, double& bps) const;

 private:
  mutable std::mutex mu_;
  std::deque<HistoryPoint> points_;
  std::size_t cap_;
};

/// Wakes readers that wait for new records (gRPC streams). Generation counter + condvar.
class Notifier {
 public:
  [[nodiscard]] std::uint64_t generation() const;
  /// Bumps the generation and wakes every waiter.
  void notify();
  /// Waits until the generation differs from `seen`, or until `deadline`; returns the
  /// generation now.
  std::uint64_t wait(std::uint64_t seen, std::chrono::steady_clock::time_point deadline) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::uint64_t gen_ = 0;
};

enum class Stream : std::uint8_t { stats, anomalies, flows };
inline constexpr std::size_t kStreamCount = 3;
[[nodiscard]] std::string_view to_string(Stream s) noexcept;

/// Why the API refused a request (metric label "reason").
enum class Rejection : std::uint8_t { bad_request, unauthorized, not_found, method_not_allowed,
                                      rate_limited, too_large, unavailable, internal };
inline constexpr std::size_t kRejectionCount = 8;
[[nodiscard]] std::string_view to_string(Rejection r) noexcept;

/// The hub's own counters (exported on /metrics with the netscope_hub_/api_/ws_ prefixes).
struct HubCounters {
  std::atomic<std::uint64_t> snapshots{0};
  std::atomic<std::uint64_t> events_received{0}, flows_received{0};
  std::atomic<std::uint64_t> ingest_dropped_events{0}, ingest_dropped_flows{0};
  std::atomic<std::uint64_t> packets_received{0}, ingest_dropped_packets{0};
  std::atomic<std::uint64_t> commands_dropped{0};
  std::atomic<std::uint64_t> http_requests{0};
  std::array<std::atomic<std::uint64_t>, kRejectionCount> rejected{};
  std::array<std::atomic<std::uint64_t>, kStreamCount> ws_clients{};   ///< gauge
  std::array<std::atomic<std::uint64_t>, kStreamCount> ws_messages{};  ///< sent
  std::array<std::atomic<std::uint64_t>, kStreamCount> ws_slow_closed{};
  std::atomic<std::uint64_t> ws_rejected{0};  ///< connections over ws_max_clients
};

/// What the database writer reports (exported on /metrics and /api/v1/diagnostics).
struct DbCounters {
  std::atomic<std::uint64_t> rows_written{0};
  std::atomic<std::uint64_t> rows_dropped{0};  ///< queue full
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> queued{0};        ///< gauge
  std::atomic<std::uint64_t> last_commit_ns{0};
};

struct Filter {
  std::uint64_t id = 0;
  std::string expression;
  std::uint64_t created_ns = 0;
};

/// Everything the hub's threads share. Members are thread-safe as documented.
class HubState {
 public:
  explicit HubState(HubConfig c);

  const HubConfig cfg;
  const std::uint64_t start_ns;
  RecordStore<StoredFlow> flows;
  RecordStore<StoredEvent> events;
  RecordStore<StoredPacket> packets;
  /// Bumped by the hub thread after each tick that stored snapshots, events, flows or packets.
  Notifier updates;
  /// Open packet streams (gRPC StreamPackets and the like); while > 0 the tap runs at
  /// cfg.tap_stream_pps.
  std::atomic<std::uint32_t> packet_subscribers{0};
  History history;
  HubCounters counters;
  DbCounters db;
  std::atomic<bool> db_enabled{false};

  [[nodiscard]] std::shared_ptr<const Published> published() const;
  void set_published(std::shared_ptr<const Published> p);

  /// False when the command queue is full (counted).
  bool push_command(Command c);
  std::optional<Command> pop_command();
  [[nodiscard]] std::size_t commands_pending() const;

  /// Registers a filter; its id goes into the add_filter command. Nullopt: queue full.
  std::optional<Filter> add_filter(std::string expression);
  /// False when no filter has this id. Throws ApiError 503 when the queue is full.
  bool remove_filter(std::uint64_t id);
  [[nodiscard]] std::vector<Filter> filters() const;
  /// Field rules added through the API (`expression` holds the rule text), as filters.
  std::optional<Filter> add_rule(std::string rule);
  bool remove_rule(std::uint64_t id);
  [[nodiscard]] std::vector<Filter> rules() const;

  void set_runtime_config(std::string json);
  [[nodiscard]] std::string runtime_config() const;

 private:
  mutable std::mutex mu_;  ///< published_, commands_, filters_, runtime_config_
  std::shared_ptr<const Published> published_;
  std::deque<Command> commands_;
  std::vector<Filter> filters_;
  std::uint64_t next_filter_id_ = 1;
  std::vector<Filter> rules_;
  std::uint64_t next_rule_id_ = 1;
  std::optional<Filter> add_item(std::vector<Filter>& list, std::uint64_t& next, Command::Type type, std::string text);
  bool remove_item(std::vector<Filter>& list, Command::Type type, std::uint64_t id);
  std::string runtime_config_ = "{}";
};

/// Wall clock in nanoseconds since the Unix epoch.
[[nodiscard]] std::uint64_t wall_ns() noexcept;

}  // namespace netscope::control
