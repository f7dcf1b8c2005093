// SQLite persistence (docs/database.md): SAs (latest state, upserted), finished flows,
// anomalies, and stats history at 1 s with 1 min and 1 h roll-ups. WAL mode; written in
// batches by one writer thread owned by this object. Producers never block: rows beyond
// HubConfig::db_queue_rows are dropped and counted.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "netscope/control/state.hpp"

struct sqlite3;

namespace netscope::control {

/// One stats_history row: what happened during `seconds` ending at `time_s`.
struct StatsRow {
  std::uint64_t time_s = 0;  ///< Unix seconds (the bucket start for roll-ups)
  double seconds = 0;        ///< time covered
  std::uint64_t packets = 0, bytes = 0, anomalies = 0, malformed = 0, flows_created = 0, dropped = 0;
  double max_pps = 0, max_bps = 0;
};

/// The row for the interval between two history points; seconds == 0 when b is not later.
[[nodiscard]] StatsRow stats_row(const HistoryPoint& a, const HistoryPoint& b) noexcept;

inline constexpr int kSchemaVersion = 3;  ///< 2: detection columns in anomalies; 3: flow analysis columns

class Database {
 public:
  /// Opens or creates the file, sets WAL, creates the schema. Throws std::runtime_error
  /// naming the file and SQLite's reason.
  Database(const HubConfig& cfg, DbCounters& counters);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// Starts the writer thread.
  void start();
  /// Writes everything queued (and the partial roll-ups), then stops the writer.
  void stop();

  /// Queue a row. Never blocks on I/O; false when the queue is full (counted).
  bool add(const StoredFlow& f);
  bool add(const StoredEvent& e);
  bool add(const StatsRow& r);
  /// The SA state to upsert at the next batch (only SAs that changed are written).
  void set_sas(std::shared_ptr<const Published> p);

  /// Commits everything queued before the call; false on timeout.
  bool flush(std::chrono::milliseconds timeout);

  /// Highest ids in the file when it was opened (ids continue after a restart).
  [[nodiscard]] std::uint64_t max_flow_id() const noexcept { return max_flow_id_; }
  [[nodiscard]] std::uint64_t max_event_id() const noexcept { return max_event_id_; }

 private:
  using Row = std::variant<StoredFlow, StoredEvent, StatsRow>;
  bool push(Row r);
  void run();
  void write_batch(std::deque<Row>& rows, const std::shared_ptr<const Published>& sas, bool final);
  void prune(std::uint64_t now_ns);

  HubConfig cfg_;
  DbCounters& counters_;
  sqlite3* db_ = nullptr;
  std::uint64_t max_flow_id_ = 0;
  std::uint64_t max_event_id_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;       ///< wakes the writer
  std::condition_variable done_cv_;  ///< wakes flush() waiters
  std::deque<Row> queue_;
  std::shared_ptr<const Published> sas_;
  bool stop_ = false;
  std::uint64_t requested_ = 0;  ///< flush generation asked for
  std::uint64_t committed_ = 0;  ///< flush generation done
  std::thread thread_;

  // Writer-thread state.
  std::unordered_map<std::uint64_t, engine::SaSummary> written_sas_;
  struct Rollup {
    std::uint64_t resolution = 0;
    bool valid = false;
    StatsRow acc;
  };
  Rollup rollups_[2];
  std::uint64_t last_prune_ns_ = 0;
};

/// The SA state kept in a database file, for continuing after a restart: one summary per
/// SA (merged over lcores). Throws std::runtime_error when the file cannot be read.
[[nodiscard]] std::vector<engine::SaSummary> load_sa_state(const std::string& path);

}  // namespace netscope::control
