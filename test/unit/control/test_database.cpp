// SQLite persistence: rows after stop(), batching by count, roll-ups, retention, ids that
// continue after a restart, SA state reload, and a SIGKILLed writer losing nothing it had
// flushed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include "netscope/control/database.hpp"
#include "support.hpp"

namespace netscope::control {
namespace {

/// Runs a query returning one integer (read-only connection).
std::int64_t scalar(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return -1;
  }
  sqlite3_busy_timeout(db, 2000);
  sqlite3_stmt* st = nullptr;
  std::int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    v = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

std::string text(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::string v;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::temp_dir();
    path_ = dir_ + "/netscope.db";
  }
  void TearDown() override { test::run("rm -rf " + dir_); }
  HubConfig config(unsigned flush_ms = 60000) const {
    HubConfig c;
    c.db_path = path_;
    c.db_flush_interval_ms = flush_ms;
    return c;
  }
  std::string dir_, path_;
};

TEST_F(DatabaseTest, EverythingIsWrittenOnStop) {
  Hub hub(config());
  hub.start();
  const std::uint64_t t = test::now_ns();
  for (std::uint64_t i = 0; i < 3; ++i) {
    hub.publish(test::snapshot(t - (2 - i) * 1'000'000'000ull, 1000 * (i + 1)));
    ASSERT_TRUE(hub.sync(std::chrono::seconds(5)));
  }
  for (std::uint64_t i = 0; i < 5; ++i) hub.on_event(test::gap_event(test::esp_key(0x100), 100 + i));
  for (std::uint16_t i = 0; i < 4; ++i) hub.on_flow(test::flow_record(6, static_cast<std::uint16_t>(2000 + i), 1000));
  ASSERT_TRUE(hub.sync(std::chrono::seconds(5)));
  EXPECT_EQ(scalar(path_, "SELECT COUNT(*) FROM flows"), 0);  // not yet: batches every 60 s
  hub.stop();

  EXPECT_EQ(text(path_, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(scalar(path_, "PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(scalar(path_, "SELECT COUNT(*) FROM flows"), 4);
  EXPECT_EQ(scalar(path_, "SELECT MAX(id) FROM flows"), 4);
  EXPECT_EQ(text(path_, "SELECT a_addr || ':' || a_port || '-' || b_addr || ':' || b_port FROM flows WHERE id = 1"),
            "10.0.0.1:2000-10.0.0.2:443");
  EXPECT_EQ(text(path_, "SELECT end_reason FROM flows WHERE id = 1"), "idle_timeout");
  EXPECT_EQ(scalar(path_, "SELECT COUNT(*) FROM anomalies WHERE type = 'gap' AND spi = 256"), 5);
  EXPECT_EQ(scalar(path_, "SELECT sa_id FROM anomalies WHERE id = 1"), static_cast<std::int64_t>(sa_id(test::esp_key(0x100))));
  EXPECT_EQ(scalar(path_, "SELECT COUNT(*) FROM sas"), 2);
  EXPECT_EQ(scalar(path_, "SELECT lost FROM sas WHERE protocol = 'esp'"), 7);
  EXPECT_EQ(scalar(path_, "SELECT packets FROM sas WHERE protocol = 'macsec'"), 1500);  // the latest state
  EXPECT_EQ(text(path_, "SELECT sci FROM sas WHERE protocol = 'macsec'"), "0011223344550001");
  EXPECT_EQ(scalar(path_, "SELECT COUNT(*) FROM stats_history WHERE resolution = 1"), 2);
  EXPECT_EQ(scalar(path_, "SELECT SUM(packets) FROM stats_history WHERE resolution = 1"), 2000);
  EXPECT_EQ(scalar(path_, "SELECT SUM(packets) FROM stats_history WHERE resolution = 60"), 2000);
  EXPECT_EQ(scalar(path_, "SELECT SUM(packets) FROM stats_history WHERE resolution = 3600"), 2000);
  EXPECT_EQ(text(path_, "PRAGMA integrity_check"), "ok");

  // SA state for a restart.
  const auto sas = load_sa_state(path_);
  ASSERT_EQ(sas.size(), 2u);
  bool esp = false;
  for (const auto& s : sas) {
    if (s.key == test::esp_key(0x100)) {
      esp = true;
      EXPECT_EQ(s.counters.lost, 7u);
      EXPECT_EQ(s.counters.packets, 1500u);
      EXPECT_EQ(s.highest_seq, 1507u);
    }
  }
  EXPECT_TRUE(esp);

  // A restart on the same file: ids continue, nothing is overwritten.
  Hub again(config());
  again.start();
  again.on_flow(test::flow_record(17, 9, 10));
  again.on_event(test::gap_event(test::esp_key(0x200), 1));
  ASSERT_TRUE(again.sync(std::chrono::seconds(5), true));
  EXPECT_EQ(scalar(path_, "SELECT COUNT(*) FROM flows"), 5);
  EXPECT_EQ(scalar(path_, "SELECT protocol FROM flows WHERE id = 5"), 17);
  EXPECT_EQ(scalar(path_, "SELECT spi FROM anomalies WHERE id = 6"), 0x200);
  again.stop();
}

TEST_F(DatabaseTest, BatchesWhenEnoughRowsWait) {
  HubConfig c = config();
  c.db_batch_rows = 100;
  Hub hub(c);
  hub.start();
  for (int i = 0; i < 250; ++i) hub.on_flow(test::flow_record(6, static_cast<std::uint16_t>(i), 100));
  ASSERT_TRUE(hub.sync(std::chrono::seconds(5)));
  // The 60 s timer is far away; the row count alone starts a batch. The writer takes
  // every row queued when it wakes (100 or more), so what is left may stay below the batch
  // size and wait for the timer or the stop: only the first batch is certain here.
  EXPECT_TRUE(test::eventually([&] { return scalar(path_, "SELECT COUNT(*) FROM flows") >= 100; }));
  hub.stop();
  EXPECT_EQ(scalar(path_, "SELECT COUNT(*) FROM flows"), 250);
}

TEST_F(DatabaseTest, RollupsAndRetention) {
  HubConfig c = config();
  c.db_raw_retention_s = 3600;
  c.db_retention_s = 86400;
  Hub hub(c);
  hub.start();
  const std::uint64_t now_s = test::now_ns() / 1'000'000'000ull;
  // Two hours ago, 130 s of traffic from a minute boundary; then 10 s just now.
  const std::uint64_t old = (now_s - 7200) / 3600 * 3600;
  std::uint64_t packets = 0;
  for (std::uint64_t i = 0; i <= 130; ++i) {
    packets += 10 + i;
    hub.publish(test::snapshot((old + i) * 1'000'000'000ull, packets));
    ASSERT_TRUE(hub.sync(std::chrono::seconds(5)));
  }
  const std::uint64_t old_total = packets - 10;  // the first point only sets the baseline
  for (std::uint64_t i = 0; i < 10; ++i) {
    packets += 5;
    hub.publish(test::snapshot((now_s - 10 + i) * 1'000'000'000ull, packets));
    ASSERT_TRUE(hub.sync(std::chrono::seconds(5)));
  }
  hub.stop();
  // 1 s rows older than an hour are gone; the roll-ups keep them.
  EXPECT_EQ(scalar(path_, "SELECT COUNT(*) FROM stats_history WHERE resolution = 1 AND time < " +
                               std::to_string(now_s - 3600)),
            0);
  EXPECT_EQ(scalar(path_, "SELECT COUNT(*) FROM stats_history WHERE resolution = 1"), 10);
  EXPECT_EQ(scalar(path_, "SELECT COUNT(*) FROM stats_history WHERE resolution = 60 AND time < " +
                               std::to_string(now_s - 3600)),
            3);
  EXPECT_EQ(scalar(path_, "SELECT SUM(packets) FROM stats_history WHERE resolution = 60 AND time < " +
                               std::to_string(now_s - 3600)),
            static_cast<std::int64_t>(old_total));
  EXPECT_EQ(scalar(path_, "SELECT seconds FROM stats_history WHERE resolution = 60 AND time = " + std::to_string(old)), 59);
  EXPECT_EQ(scalar(path_, "SELECT seconds FROM stats_history WHERE resolution = 60 AND time = " + std::to_string(old + 60)), 60);
  EXPECT_EQ(scalar(path_, "SELECT max_pps FROM stats_history WHERE resolution = 60 AND time = " + std::to_string(old + 60)), 129);
  EXPECT_EQ(scalar(path_, "SELECT SUM(packets) FROM stats_history WHERE resolution = 3600"),
            static_cast<std::int64_t>(old_total + 50));  // the row after the gap covers the gap
}

TEST_F(DatabaseTest, SigkillKeepsWhatWasFlushed) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The writer process: batches every 200 ms, then keeps running until killed.
    Hub hub(config(200));
    hub.start();
    hub.publish(test::snapshot(test::now_ns(), 1000));
    for (int i = 0; i < 300; ++i) hub.on_flow(test::flow_record(6, static_cast<std::uint16_t>(i), 100));
    for (int i = 0; i < 50; ++i) hub.on_event(test::gap_event(test::esp_key(0x100), static_cast<std::uint64_t>(i)));
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  const bool flushed = test::eventually([&] {
    return scalar(path_, "SELECT COUNT(*) FROM flows") == 300 && scalar(path_, "SELECT COUNT(*) FROM anomalies") == 50 &&
           scalar(path_, "SELECT COUNT(*) FROM sas") == 2;
  }, std::chrono::seconds(20));
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(flushed);
  EXPECT_TRUE(WIFSIGNALED(status));
  // The WAL is still there; opening the file recovers it.
  EXPECT_EQ(text(path_, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(scalar(path_, "SELECT COUNT(*) FROM flows"), 300);
  EXPECT_EQ(scalar(path_, "SELECT COUNT(*) FROM anomalies"), 50);
  EXPECT_EQ(load_sa_state(path_).size(), 2u);
  // And a new run continues on it.
  Hub hub(config());
  hub.start();
  hub.on_flow(test::flow_record(6, 1, 1));
  ASSERT_TRUE(hub.sync(std::chrono::seconds(5), true));
  hub.stop();
  EXPECT_EQ(scalar(path_, "SELECT MAX(id) FROM flows"), 301);
}

TEST_F(DatabaseTest, QueueOverflowIsCounted) {
  HubConfig c = config();
  c.db_queue_rows = 10;
  Hub hub(c);
  hub.start();
  for (int i = 0; i < 100; ++i) hub.on_flow(test::flow_record(6, static_cast<std::uint16_t>(i), 100));
  ASSERT_TRUE(hub.sync(std::chrono::seconds(5)));
  EXPECT_NE(hub.metrics_text().find("netscope_hub_dropped_records_total{reason=\"database\"} 90\n"), std::string::npos);
  hub.stop();
  EXPECT_EQ(scalar(path_, "SELECT COUNT(*) FROM flows"), 10);
}

TEST_F(DatabaseTest, MigratesVersion2FlowsAndStoresAnalysis) {
  {
    // The flows table as schema version 2 wrote it, with one row.
    sqlite3* db = nullptr;
    sqlite3_open(path_.c_str(), &db);
    const char* v2 =
        "CREATE TABLE flows (id INTEGER PRIMARY KEY, recorded INTEGER NOT NULL, ip_version INTEGER NOT NULL, "
        "protocol INTEGER NOT NULL, vlan INTEGER NOT NULL, a_addr TEXT NOT NULL, a_port INTEGER NOT NULL, "
        "b_addr TEXT NOT NULL, b_port INTEGER NOT NULL, initiator TEXT NOT NULL, packets_a_to_b INTEGER NOT NULL, "
        "bytes_a_to_b INTEGER NOT NULL, packets_b_to_a INTEGER NOT NULL, bytes_b_to_a INTEGER NOT NULL, "
        "tcp_flags INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, "
        "end_reason TEXT NOT NULL, lcore INTEGER NOT NULL);"
        "INSERT INTO flows VALUES (1, CAST(strftime('%s', 'now') AS INTEGER) * 1000000000, 4, 6, 0, '10.0.0.1', 1, '10.0.0.2', 2, 'a', 1, 1, 1, 1, 0, 1, 1, 'shutdown', 0);"
        "PRAGMA user_version=2;";
    ASSERT_EQ(sqlite3_exec(db, v2, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  Hub hub(config());
  hub.start();
  engine::FlowRecord r = test::flow_record(6, 40000, 10);
  r.tcp.flags = engine::flow_tcp_flag::kSeen;
  r.tcp.dir[0].retransmissions = 3;
  r.l7.app = static_cast<std::uint8_t>(l7::AppProtocol::http);
  r.l7.flags = engine::flow_l7_flag::kHttpRequest;
  r.l7.http_requests = 1;
  r.l7.name_len = 5;
  std::memcpy(r.l7.name.data(), "a\x01" "b.c", 5);  // a control byte in packet text
  hub.on_flow(r);
  ASSERT_TRUE(hub.sync(std::chrono::seconds(5), true));
  hub.stop();
  EXPECT_EQ(scalar(path_, "PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(scalar(path_, "SELECT COUNT(*) FROM flows WHERE analysis IS NULL"), 1);  // the old row
  EXPECT_EQ(text(path_, "SELECT app FROM flows WHERE id = 2"), "http");
  EXPECT_EQ(scalar(path_, "SELECT json_extract(analysis, '$.tcp.a_to_b.retransmissions') FROM flows WHERE id = 2"), 3);
  EXPECT_EQ(text(path_, "SELECT json_extract(analysis, '$.http.host') FROM flows WHERE id = 2"), "a\\x01b.c");
}

TEST_F(DatabaseTest, RefusesNewerSchema) {
  {
    sqlite3* db = nullptr;
    sqlite3_open(path_.c_str(), &db);
    sqlite3_exec(db, "PRAGMA user_version=99;", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  Hub hub(config());
  EXPECT_THROW(hub.start(), std::runtime_error);
}

}  // namespace
}  // namespace netscope::control
