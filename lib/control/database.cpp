#include "netscope/control/database.hpp"

#include <sqlite3.h>

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "netscope/control/views.hpp"
#include "netscope/report/report.hpp"
#include "netscope/report/traffic.hpp"

namespace netscope::control {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sas (
  id INTEGER PRIMARY KEY,
  key BLOB NOT NULL,
  protocol TEXT NOT NULL,
  sci TEXT, an INTEGER, spi INTEGER, dst TEXT, udp_encap INTEGER,
  port INTEGER NOT NULL, lcore INTEGER NOT NULL, lcores TEXT NOT NULL,
  packets INTEGER NOT NULL, bytes INTEGER NOT NULL,
  first_seq INTEGER NOT NULL, highest_seq INTEGER NOT NULL,
  lost INTEGER NOT NULL, gaps INTEGER NOT NULL, duplicates INTEGER NOT NULL,
  reordered INTEGER NOT NULL, out_of_window INTEGER NOT NULL, rollovers INTEGER NOT NULL,
  resets INTEGER NOT NULL, rekeys INTEGER NOT NULL, stuck INTEGER NOT NULL,
  extended INTEGER NOT NULL, extended_inferred INTEGER NOT NULL,
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  updated INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS flows (
  id INTEGER PRIMARY KEY,
  recorded INTEGER NOT NULL,
  ip_version INTEGER NOT NULL, protocol INTEGER NOT NULL, vlan INTEGER NOT NULL,
  a_addr TEXT NOT NULL, a_port INTEGER NOT NULL, b_addr TEXT NOT NULL, b_port INTEGER NOT NULL,
  initiator TEXT NOT NULL,
  packets_a_to_b INTEGER NOT NULL, bytes_a_to_b INTEGER NOT NULL,
  packets_b_to_a INTEGER NOT NULL, bytes_b_to_a INTEGER NOT NULL,
  tcp_flags INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  end_reason TEXT NOT NULL, lcore INTEGER NOT NULL,
  app TEXT, analysis TEXT
);
CREATE INDEX IF NOT EXISTS flows_recorded ON flows(recorded);
CREATE TABLE IF NOT EXISTS anomalies (
  id INTEGER PRIMARY KEY,
  recorded INTEGER NOT NULL,
  type TEXT NOT NULL,
  sa_id INTEGER NOT NULL,
  protocol TEXT NOT NULL, sci TEXT, an INTEGER, spi INTEGER, dst TEXT, udp_encap INTEGER,
  port INTEGER NOT NULL, packet_index INTEGER NOT NULL, timestamp INTEGER NOT NULL,
  expected INTEGER NOT NULL, got INTEGER NOT NULL, count INTEGER NOT NULL,
  source TEXT, severity TEXT, attacker TEXT, victim TEXT, vlan INTEGER, target_port INTEGER,
  first_seen INTEGER, threshold INTEGER, baseline INTEGER, mac_old TEXT, mac_new TEXT
);
CREATE INDEX IF NOT EXISTS anomalies_sa ON anomalies(sa_id);
CREATE INDEX IF NOT EXISTS anomalies_recorded ON anomalies(recorded);
CREATE TABLE IF NOT EXISTS stats_history (
  resolution INTEGER NOT NULL,
  time INTEGER NOT NULL,
  seconds REAL NOT NULL,
  packets INTEGER NOT NULL, bytes INTEGER NOT NULL, anomalies INTEGER NOT NULL,
  malformed INTEGER NOT NULL, flows_created INTEGER NOT NULL, dropped INTEGER NOT NULL,
  max_pps REAL NOT NULL, max_bps REAL NOT NULL,
  PRIMARY KEY (resolution, time)
) WITHOUT ROWID;
)sql";

/// Integers are stored as SQLite's signed 64-bit; values above 2^63 keep their bits.
sqlite3_int64 i64(std::uint64_t v) noexcept { return static_cast<sqlite3_int64>(v); }
std::uint64_t u64(sqlite3_int64 v) noexcept { return static_cast<std::uint64_t>(v); }

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("SQLite prepare failed: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(s_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, std::uint64_t v) {
    sqlite3_bind_int64(s_, i, i64(v));
    return *this;
  }
  Statement& bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind_null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  Statement& bind_blob(int i, const void* p, int n) {
    sqlite3_bind_blob(s_, i, p, n, SQLITE_TRANSIENT);
    return *this;
  }
  /// Runs to completion; false on error.
  bool run() {
    const int rc = sqlite3_step(s_);
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    return rc == SQLITE_DONE || rc == SQLITE_ROW;
  }
  sqlite3_stmt* get() noexcept { return s_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

void exec(sqlite3* db, const char* sql, const std::string& path) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    throw std::runtime_error("database " + path + ": " + msg);
  }
}

std::uint64_t scalar(sqlite3* db, const char* sql) {
  Statement s(db, sql);
  std::uint64_t v = 0;
  if (sqlite3_step(s.get()) == SQLITE_ROW) v = u64(sqlite3_column_int64(s.get(), 0));
  return v;
}

/// Binds the SA identity columns starting at `i`: protocol, sci, an, spi, dst, udp_encap.
void bind_identity(Statement& st, int i, const seq::SaKey& k) {
  st.bind(i, std::string(seq::to_string(k.protocol)));
  if (k.protocol == seq::SaProtocol::macsec) {
    st.bind(i + 1, seq::sci_text(k.sci)).bind(i + 2, std::uint64_t{k.an}).bind_null(i + 3).bind_null(i + 4).bind_null(i + 5);
  } else {
    st.bind_null(i + 1).bind_null(i + 2).bind(i + 3, std::uint64_t{k.spi}).bind(i + 4, seq::ip_text(k.dst, k.ip_version));
    if (k.protocol == seq::SaProtocol::esp) st.bind(i + 5, std::uint64_t{k.udp_encap});
    else st.bind_null(i + 5);
  }
}

void add_row(StatsRow& acc, const StatsRow& r) {
  acc.seconds += r.seconds;
  acc.packets += r.packets;
  acc.bytes += r.bytes;
  acc.anomalies += r.anomalies;
  acc.malformed += r.malformed;
  acc.flows_created += r.flows_created;
  acc.dropped += r.dropped;
  acc.max_pps = std::max(acc.max_pps, r.max_pps);
  acc.max_bps = std::max(acc.max_bps, r.max_bps);
}

}  // namespace

StatsRow stats_row(const HistoryPoint& a, const HistoryPoint& b) noexcept {
  StatsRow r;
  r.time_s = b.time_ns / 1'000'000'000ull;
  if (b.time_ns <= a.time_ns) return r;
  r.seconds = static_cast<double>(b.time_ns - a.time_ns) / 1e9;
  r.packets = counter_delta(a.packets, b.packets);
  r.bytes = counter_delta(a.bytes, b.bytes);
  r.anomalies = counter_delta(a.anomalies, b.anomalies);
  r.malformed = counter_delta(a.malformed, b.malformed);
  r.flows_created = counter_delta(a.flows_created, b.flows_created);
  r.dropped = counter_delta(a.dropped, b.dropped);
  r.max_pps = static_cast<double>(r.packets) / r.seconds;
  r.max_bps = static_cast<double>(r.bytes) * 8.0 / r.seconds;
  return r;
}

Database::Database(const HubConfig& cfg, DbCounters& counters) : cfg_(cfg), counters_(counters) {
  const int rc = sqlite3_open_v2(cfg_.db_path.c_str(), &db_,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open database " + cfg_.db_path + ": " + msg);
  }
  try {
    sqlite3_busy_timeout(db_, 5000);
    exec(db_, "PRAGMA journal_mode=WAL;", cfg_.db_path);
    exec(db_, "PRAGMA synchronous=NORMAL;", cfg_.db_path);
    const std::uint64_t version = scalar(db_, "PRAGMA user_version;");
    if (version > static_cast<std::uint64_t>(kSchemaVersion)) {
      throw std::runtime_error("database " + cfg_.db_path + " has schema version " + std::to_string(version) +
                               ", newer than this netscope (" + std::to_string(kSchemaVersion) + ")");
    }
    exec(db_, kSchema, cfg_.db_path);
    // Version 1 files: the anomalies table gains the detection columns (NULL in old rows).
    if (scalar(db_, "SELECT COUNT(*) FROM pragma_table_info('anomalies') WHERE name = 'source';") == 0) {
      exec(db_,
           "ALTER TABLE anomalies ADD COLUMN source TEXT; ALTER TABLE anomalies ADD COLUMN severity TEXT; "
           "ALTER TABLE anomalies ADD COLUMN attacker TEXT; ALTER TABLE anomalies ADD COLUMN victim TEXT; "
           "ALTER TABLE anomalies ADD COLUMN vlan INTEGER; ALTER TABLE anomalies ADD COLUMN target_port INTEGER; "
           "ALTER TABLE anomalies ADD COLUMN first_seen INTEGER; ALTER TABLE anomalies ADD COLUMN threshold INTEGER; "
           "ALTER TABLE anomalies ADD COLUMN baseline INTEGER; ALTER TABLE anomalies ADD COLUMN mac_old TEXT; "
           "ALTER TABLE anomalies ADD COLUMN mac_new TEXT; UPDATE anomalies SET source = 'sequence';",
           cfg_.db_path);
    }
    // Version 1-2 files: the flows table gains the analysis columns (NULL in old rows).
    if (scalar(db_, "SELECT COUNT(*) FROM pragma_table_info('flows') WHERE name = 'analysis';") == 0) {
      exec(db_, "ALTER TABLE flows ADD COLUMN app TEXT; ALTER TABLE flows ADD COLUMN analysis TEXT;", cfg_.db_path);
    }
    exec(db_, ("PRAGMA user_version=" + std::to_string(kSchemaVersion) + ";").c_str(), cfg_.db_path);
    max_flow_id_ = scalar(db_, "SELECT IFNULL(MAX(id), 0) FROM flows;");
    max_event_id_ = scalar(db_, "SELECT IFNULL(MAX(id), 0) FROM anomalies;");
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
  rollups_[0].resolution = 60;
  rollups_[1].resolution = 3600;
}

Database::~Database() {
  stop();
  if (db_ != nullptr) sqlite3_close(db_);
}

void Database::start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void Database::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Database::push(Row r) {
  std::unique_lock lock(mu_);
  if (queue_.size() >= std::max<std::size_t>(cfg_.db_queue_rows, 1)) {
    counters_.rows_dropped.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  queue_.push_back(std::move(r));
  counters_.queued.store(queue_.size(), std::memory_order_relaxed);
  const bool wake = queue_.size() == std::max<std::size_t>(cfg_.db_batch_rows, 1);
  lock.unlock();
  if (wake) cv_.notify_one();
  return true;
}

bool Database::add(const StoredFlow& f) { return push(f); }
bool Database::add(const StoredEvent& e) { return push(e); }
bool Database::add(const StatsRow& r) { return push(r); }

void Database::set_sas(std::shared_ptr<const Published> p) {
  std::lock_guard lock(mu_);
  sas_ = std::move(p);
}

bool Database::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const std::uint64_t gen = ++requested_;
  cv_.notify_one();
  return done_cv_.wait_for(lock, timeout, [&] { return committed_ >= gen; });
}

void Database::run() {
  const auto interval = std::chrono::milliseconds(std::max(cfg_.db_flush_interval_ms, 1u));
  auto next = std::chrono::steady_clock::now() + interval;
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_until(lock, next, [&] {
      return stop_ || requested_ > committed_ || queue_.size() >= std::max<std::size_t>(cfg_.db_batch_rows, 1);
    });
    const bool final = stop_;
    const std::uint64_t gen = requested_;
    std::deque<Row> rows;
    rows.swap(queue_);
    auto sas = sas_;
    counters_.queued.store(0, std::memory_order_relaxed);
    lock.unlock();
    write_batch(rows, sas, final);
    next = std::chrono::steady_clock::now() + interval;
    lock.lock();
    committed_ = std::max(committed_, gen);
    done_cv_.notify_all();
    if (final && queue_.empty()) break;
  }
}

void Database::write_batch(std::deque<Row>& rows, const std::shared_ptr<const Published>& pub, bool final) {
  const std::uint64_t now = wall_ns();
  std::uint64_t written = 0, errors = 0;
  const auto ok = [&](bool r) { r ? ++written : ++errors; };
  try {
    exec(db_, "BEGIN;", cfg_.db_path);
    Statement flow(db_,
                   "INSERT OR REPLACE INTO flows (id, recorded, ip_version, protocol, vlan, a_addr, a_port, b_addr, b_port, "
                   "initiator, packets_a_to_b, bytes_a_to_b, packets_b_to_a, bytes_b_to_a, tcp_flags, first_seen, last_seen, "
                   "end_reason, lcore, app, analysis) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);");
    Statement event(db_,
                    "INSERT OR REPLACE INTO anomalies (id, recorded, type, sa_id, protocol, sci, an, spi, dst, udp_encap, port, "
                    "packet_index, timestamp, expected, got, count, source, severity, attacker, victim, vlan, target_port, first_seen, "
                    "threshold, baseline, mac_old, mac_new) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);");
    Statement stats(db_,
                    "INSERT INTO stats_history (resolution, time, seconds, packets, bytes, anomalies, malformed, flows_created, "
                    "dropped, max_pps, max_bps) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(resolution, time) DO UPDATE SET "
                    "seconds = seconds + excluded.seconds, packets = packets + excluded.packets, bytes = bytes + excluded.bytes, "
                    "anomalies = anomalies + excluded.anomalies, malformed = malformed + excluded.malformed, "
                    "flows_created = flows_created + excluded.flows_created, dropped = dropped + excluded.dropped, "
                    "max_pps = max(max_pps, excluded.max_pps), max_bps = max(max_bps, excluded.max_bps);");
    const auto put_stats = [&](std::uint64_t resolution, const StatsRow& r) {
      ok(stats.bind(1, resolution).bind(2, r.time_s).bind(3, r.seconds).bind(4, r.packets).bind(5, r.bytes)
             .bind(6, r.anomalies).bind(7, r.malformed).bind(8, r.flows_created).bind(9, r.dropped)
             .bind(10, r.max_pps).bind(11, r.max_bps).run());
    };
    for (const Row& row : rows) {
      if (const auto* f = std::get_if<StoredFlow>(&row)) {
        const engine::FlowRecord& x = f->rec;
        nlohmann::json analysis = nlohmann::json::object();
        report::put_flow_analysis(analysis, x);
        ok(flow.bind(1, f->id).bind(2, f->recorded_ns).bind(3, std::uint64_t{x.key.ip_version})
               .bind(4, std::uint64_t{x.key.protocol}).bind(5, std::uint64_t{x.key.vlan})
               .bind(6, seq::ip_text(x.key.addr_a, x.key.ip_version)).bind(7, std::uint64_t{x.key.port_a})
               .bind(8, seq::ip_text(x.key.addr_b, x.key.ip_version)).bind(9, std::uint64_t{x.key.port_b})
               .bind(10, std::string(x.initiator_is_a ? "a" : "b")).bind(11, x.a_to_b.packets).bind(12, x.a_to_b.bytes)
               .bind(13, x.b_to_a.packets).bind(14, x.b_to_a.bytes).bind(15, std::uint64_t{x.tcp_flags})
               .bind(16, x.first_seen_ns).bind(17, x.last_seen_ns).bind(18, std::string(flow::to_string(x.reason)))
               .bind(19, std::uint64_t{x.lcore}).bind(20, analysis["app"].get<std::string>())
               .bind(21, analysis.dump()).run());
      } else if (const auto* e = std::get_if<StoredEvent>(&row)) {
        const engine::AnomalyEvent& ev = e->ev;
        const bool detection = ev.source == engine::AnomalySource::detection;
        event.bind(1, e->id).bind(2, e->recorded_ns).bind(3, std::string(engine::anomaly_type_name(ev)))
            .bind(4, detection ? std::uint64_t{0} : sa_id(ev.sa));
        if (detection) {
          event.bind(5, std::string("none")).bind_null(6).bind_null(7).bind_null(8).bind_null(9).bind_null(10);
          const auto ip = [](const decode::IpAddr& a) { return a.version == 0 ? std::string() : seq::ip_text(a.bytes, a.version); };
          event.bind(17, std::string("detection")).bind(18, std::string(analysis::to_string(ev.severity)));
          if (ev.attacker.version != 0) event.bind(19, ip(ev.attacker)); else event.bind_null(19);
          if (ev.victim.version != 0) event.bind(20, ip(ev.victim)); else event.bind_null(20);
          event.bind(21, std::uint64_t{ev.vlan}).bind(22, std::uint64_t{ev.target_port}).bind(23, ev.first_ns)
              .bind(24, ev.threshold).bind(25, ev.baseline);
          if (ev.alert == analysis::AlertType::mac_ip_change) {
            event.bind(26, report::mac_text(ev.mac_old)).bind(27, report::mac_text(ev.mac_new));
          } else {
            event.bind_null(26).bind_null(27);
          }
        } else {
          bind_identity(event, 5, ev.sa);
          event.bind(17, std::string("sequence"));
          for (int i = 18; i <= 27; ++i) event.bind_null(i);
        }
        ok(event.bind(11, std::uint64_t{ev.port}).bind(12, ev.packet_index).bind(13, ev.timestamp_ns)
               .bind(14, ev.expected).bind(15, ev.got).bind(16, ev.count).run());
      } else if (const auto* r = std::get_if<StatsRow>(&row)) {
        if (r->seconds <= 0) continue;
        put_stats(1, *r);
        for (Rollup& u : rollups_) {
          const std::uint64_t bucket = r->time_s / u.resolution * u.resolution;
          if (u.valid && u.acc.time_s != bucket) {
            put_stats(u.resolution, u.acc);
            u.valid = false;
          }
          if (!u.valid) {
            u.acc = StatsRow{};
            u.acc.time_s = bucket;
            u.valid = true;
          }
          add_row(u.acc, *r);
        }
      }
    }
    if (final) {
      // Partial roll-ups: a later run adds its part of the same bucket.
      for (Rollup& u : rollups_) {
        if (u.valid) put_stats(u.resolution, u.acc);
        u.valid = false;
      }
    }
    if (pub != nullptr) {
      Statement sa(db_,
                   "INSERT OR REPLACE INTO sas (id, key, protocol, sci, an, spi, dst, udp_encap, port, lcore, lcores, packets, "
                   "bytes, first_seq, highest_seq, lost, gaps, duplicates, reordered, out_of_window, rollovers, resets, rekeys, "
                   "stuck, extended, extended_inferred, first_seen, last_seen, updated) "
                   "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);");
      for (const SaView& v : pub->sas) {
        auto [it, fresh] = written_sas_.try_emplace(v.id, v.s);
        if (!fresh && std::memcmp(&it->second, &v.s, sizeof v.s) == 0) continue;
        it->second = v.s;
        const engine::SaSummary& s = v.s;
        const seq::SequenceCounters& c = s.counters;
        std::string lcores;
        for (std::uint16_t l : v.lcores) {
          if (!lcores.empty()) lcores += ',';
          lcores += std::to_string(l);
        }
        sa.bind(1, v.id).bind_blob(2, &s.key, static_cast<int>(sizeof s.key));
        bind_identity(sa, 3, s.key);
        ok(sa.bind(9, std::uint64_t{s.port}).bind(10, std::uint64_t{s.lcore}).bind(11, lcores).bind(12, c.packets)
               .bind(13, s.bytes).bind(14, s.first_seq).bind(15, s.highest_seq).bind(16, c.lost).bind(17, c.gaps)
               .bind(18, c.duplicates).bind(19, c.reordered).bind(20, c.out_of_window).bind(21, c.rollovers)
               .bind(22, c.resets).bind(23, c.rekeys).bind(24, c.stuck).bind(25, std::uint64_t{s.extended})
               .bind(26, std::uint64_t{s.extended_inferred}).bind(27, s.first_seen_ns).bind(28, s.last_seen_ns)
               .bind(29, now).run());
      }
    }
    if (now - std::min(now, last_prune_ns_) >= 60'000'000'000ull) {
      prune(now);
      last_prune_ns_ = now;
    }
    exec(db_, "COMMIT;", cfg_.db_path);
    counters_.batches.fetch_add(1, std::memory_order_relaxed);
    counters_.last_commit_ns.store(now, std::memory_order_relaxed);
  } catch (const std::exception&) {
    ++errors;
    sqlite3_exec(db_, "ROLLBACK;", nullptr, nullptr, nullptr);
    written = 0;
  }
  counters_.rows_written.fetch_add(written, std::memory_order_relaxed);
  counters_.errors.fetch_add(errors, std::memory_order_relaxed);
}

void Database::prune(std::uint64_t now_ns) {
  const std::uint64_t now_s = now_ns / 1'000'000'000ull;
  const std::uint64_t keep = std::min(cfg_.db_retention_s, now_s);
  const std::uint64_t keep_raw = std::min(cfg_.db_raw_retention_s, now_s);
  Statement raw(db_, "DELETE FROM stats_history WHERE resolution = 1 AND time < ?;");
  raw.bind(1, now_s - keep_raw).run();
  Statement rolled(db_, "DELETE FROM stats_history WHERE resolution > 1 AND time < ?;");
  rolled.bind(1, now_s - keep).run();
  const std::uint64_t cut_ns = (now_s - keep) * 1'000'000'000ull;
  Statement flows(db_, "DELETE FROM flows WHERE recorded < ?;");
  flows.bind(1, cut_ns).run();
  Statement events(db_, "DELETE FROM anomalies WHERE recorded < ?;");
  events.bind(1, cut_ns).run();
  Statement sas(db_, "DELETE FROM sas WHERE updated < ?;");
  sas.bind(1, cut_ns).run();
}

std::vector<engine::SaSummary> load_sa_state(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    const std::string msg = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw std::runtime_error("cannot open database " + path + ": " + msg);
  }
  std::vector<engine::SaSummary> out;
  try {
    Statement st(db,
                 "SELECT key, port, lcore, packets, bytes, first_seq, highest_seq, lost, gaps, duplicates, reordered, "
                 "out_of_window, rollovers, resets, rekeys, stuck, extended, extended_inferred, first_seen, last_seen "
                 "FROM sas ORDER BY id;");
    int rc = 0;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      sqlite3_stmt* s = st.get();
      engine::SaSummary sa;
      if (sqlite3_column_bytes(s, 0) != static_cast<int>(sizeof sa.key)) continue;
      std::memcpy(&sa.key, sqlite3_column_blob(s, 0), sizeof sa.key);
      const auto col = [&](int i) { return u64(sqlite3_column_int64(s, i)); };
      sa.port = static_cast<std::uint16_t>(col(1));
      sa.lcore = static_cast<std::uint16_t>(col(2));
      sa.counters.packets = col(3);
      sa.bytes = col(4);
      sa.first_seq = col(5);
      sa.highest_seq = col(6);
      sa.counters.lost = col(7);
      sa.counters.gaps = col(8);
      sa.counters.duplicates = col(9);
      sa.counters.reordered = col(10);
      sa.counters.out_of_window = col(11);
      sa.counters.rollovers = col(12);
      sa.counters.resets = col(13);
      sa.counters.rekeys = col(14);
      sa.counters.stuck = col(15);
      sa.extended = static_cast<std::uint8_t>(col(16));
      sa.extended_inferred = static_cast<std::uint8_t>(col(17));
      sa.first_seen_ns = col(18);
      sa.last_seen_ns = col(19);
      out.push_back(sa);
    }
    if (rc != SQLITE_DONE) throw std::runtime_error(std::string("reading SAs: ") + sqlite3_errmsg(db));
  } catch (const std::exception& e) {
    sqlite3_close(db);
    throw std::runtime_error("database " + path + ": " + e.what());
  }
  sqlite3_close(db);
  return out;
}

}  // namespace netscope::control
