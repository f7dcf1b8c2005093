// `netscope report --db FILE`: the report rebuilt from a database file (docs/database.md),
// without DPDK and while another netscope may still write the file (WAL readers).
#include "netscope/control/offline_report.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "netscope/control/views.hpp"
#include "netscope/report/report.hpp"
#include "netscope_version.h"

namespace netscope::control {

namespace {

using nlohmann::json;

class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      const std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("cannot open database " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, 5000);
    // A file that is not a NetScope database (or not SQLite at all) fails here.
    for (const char* t : {"sas", "flows", "anomalies", "stats_history"}) {
      if (count(std::string("SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='") + t + "'") == 0) {
        sqlite3_close(db_);
        throw std::runtime_error(path + ": not a NetScope database (no table " + t + ")");
      }
    }
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  /// Calls row(stmt) for each result row.
  template <typename F>
  void each(const std::string& sql, F&& row) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("database query failed: ") + sqlite3_errmsg(db_));
    }
    int rc = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) row(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) throw std::runtime_error(std::string("database read failed: ") + sqlite3_errmsg(db_));
  }

  std::uint64_t count(const std::string& sql) {
    std::uint64_t v = 0;
    each(sql, [&](sqlite3_stmt* s) { v = u64(s, 0); });
    return v;
  }

  static std::uint64_t u64(sqlite3_stmt* s, int i) { return static_cast<std::uint64_t>(sqlite3_column_int64(s, i)); }
  static std::string text(sqlite3_stmt* s, int i) {
    const auto* t = sqlite3_column_text(s, i);
    return t != nullptr ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  }
  static bool null(sqlite3_stmt* s, int i) { return sqlite3_column_type(s, i) == SQLITE_NULL; }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

json report_from_database(const std::string& path, std::size_t max_anomalies) {
  Db db(path);
  json doc;
  doc["version"] = 1;
  doc["generator"] = std::string("netscope ") + NETSCOPE_VERSION;
  doc["source"] = {{"database", path}};

  // SAs, in the report's shape, sorted by identity like the report (protocol, then key).
  json sas = json::array();
  json sa_totals = json::object();
  std::uint64_t first = ~0ull, last = 0;
  db.each("SELECT key, port, packets, bytes, first_seq, highest_seq, lost, gaps, duplicates, reordered, out_of_window, "
          "rollovers, resets, rekeys, stuck, extended, extended_inferred, first_seen, last_seen, lcores FROM sas "
          "ORDER BY protocol, sci, an, spi, dst;",
          [&](sqlite3_stmt* s) {
            seq::SaKey key;
            if (sqlite3_column_bytes(s, 0) != static_cast<int>(sizeof key)) return;
            std::memcpy(&key, sqlite3_column_blob(s, 0), sizeof key);
            json j;
            put_sa_identity(j, key);
            j["port"] = Db::u64(s, 1);
            const char* names[] = {"packets", "bytes", "first_seq", "highest_seq", "lost", "gaps", "duplicates",
                                   "reordered", "out_of_window", "rollovers", "resets", "rekeys", "stuck"};
            for (int i = 0; i < 13; ++i) j[names[i]] = Db::u64(s, 2 + i);
            j["extended"] = Db::u64(s, 15) != 0;
            j["extended_inferred"] = Db::u64(s, 16) != 0;
            j["first_seen"] = Db::u64(s, 17);
            j["last_seen"] = Db::u64(s, 18);
            j["bits_per_second"] = bits_per_second(Db::u64(s, 3), Db::u64(s, 17), Db::u64(s, 18));
            j["lcores"] = Db::text(s, 19);
            first = std::min(first, Db::u64(s, 17));
            last = std::max(last, Db::u64(s, 18));
            report::add_sa_totals(sa_totals, j);
            sas.push_back(std::move(j));
          });

  // Traffic totals from the stats history: the roll-ups hold everything written (the
  // 1 s rows may have been retired), and each resolution covers the same packets.
  std::uint64_t packets = 0, bytes = 0, malformed = 0, dropped = 0, flows_created = 0;
  db.each("SELECT resolution, SUM(packets), SUM(bytes), SUM(malformed), SUM(dropped), SUM(flows_created) "
          "FROM stats_history GROUP BY resolution;",
          [&](sqlite3_stmt* s) {
            if (Db::u64(s, 1) >= packets) {
              packets = Db::u64(s, 1);
              bytes = Db::u64(s, 2);
              malformed = Db::u64(s, 3);
              dropped = Db::u64(s, 4);
              flows_created = Db::u64(s, 5);
            }
          });
  json totals;
  totals["packets"] = packets;
  totals["bytes"] = bytes;
  totals["malformed"] = {{"total", malformed}, {"by_reason", json::object()}};
  totals["dropped"] = dropped;
  totals["flows_created"] = flows_created;
  totals["sas"] = sa_totals;
  totals["protocols"] = json::object();
  doc["totals"] = totals;
  doc["run"] = {{"start", first == ~0ull ? 0 : first}, {"end", last}, {"stop_reason", "database"}};
  doc["ports"] = json::array();
  doc["sas"] = sas;

  // Anomalies in arrival order, as the report lists them.
  json counts = json::object();
  std::uint64_t total = 0;
  db.each("SELECT type, COUNT(*) FROM anomalies GROUP BY type ORDER BY type;", [&](sqlite3_stmt* s) {
    counts[Db::text(s, 0)] = Db::u64(s, 1);
    total += Db::u64(s, 1);
  });
  json anomalies = json::array();
  db.each("SELECT type, sa_id, protocol, sci, an, spi, dst, udp_encap, port, packet_index, timestamp, expected, got, "
          "count, source, severity, attacker, victim, target_port, threshold FROM anomalies ORDER BY id LIMIT " +
              std::to_string(max_anomalies) + ";",
          [&](sqlite3_stmt* s) {
            json j;
            j["type"] = Db::text(s, 0);
            const bool detection = Db::text(s, 14) == "detection";
            if (detection) {
              j["source"] = "detection";
              j["severity"] = Db::text(s, 15);
              j["attacker"] = Db::null(s, 16) ? json(nullptr) : json(Db::text(s, 16));
              j["victim"] = Db::null(s, 17) ? json(nullptr) : json(Db::text(s, 17));
              j["target_port"] = Db::u64(s, 18);
              j["threshold"] = Db::u64(s, 19);
            } else {
              j["protocol"] = Db::text(s, 2);
              if (!Db::null(s, 3)) j["sci"] = Db::text(s, 3);
              if (!Db::null(s, 4)) j["an"] = Db::u64(s, 4);
              if (!Db::null(s, 5)) j["spi"] = Db::u64(s, 5);
              if (!Db::null(s, 6)) j["dst"] = Db::text(s, 6);
              if (!Db::null(s, 7)) j["udp_encap"] = Db::u64(s, 7) != 0;
            }
            j["port"] = Db::u64(s, 8);
            j["packet_index"] = Db::u64(s, 9);
            j["timestamp"] = Db::u64(s, 10);
            j["expected"] = Db::u64(s, 11);
            j["got"] = Db::u64(s, 12);
            j["count"] = Db::u64(s, 13);
            anomalies.push_back(std::move(j));
          });
  doc["anomaly_counts"] = counts;
  doc["anomalies_total"] = total;
  doc["anomalies_left_out"] = total - anomalies.size();
  doc["anomalies"] = anomalies;

  doc["flows_total"] = db.count("SELECT COUNT(*) FROM flows;");
  json flows = json::array();
  db.each("SELECT protocol, a_addr, a_port, b_addr, b_port, packets_a_to_b, packets_b_to_a, bytes_a_to_b, bytes_b_to_a, "
          "first_seen, last_seen, end_reason FROM flows ORDER BY bytes_a_to_b + bytes_b_to_a DESC, id LIMIT 100;",
          [&](sqlite3_stmt* s) {
            flows.push_back({{"protocol", Db::u64(s, 0)},
                             {"a", {{"addr", Db::text(s, 1)}, {"port", Db::u64(s, 2)}}},
                             {"b", {{"addr", Db::text(s, 3)}, {"port", Db::u64(s, 4)}}},
                             {"packets_a_to_b", Db::u64(s, 5)},
                             {"packets_b_to_a", Db::u64(s, 6)},
                             {"bytes_a_to_b", Db::u64(s, 7)},
                             {"bytes_b_to_a", Db::u64(s, 8)},
                             {"first_seen", Db::u64(s, 9)},
                             {"last_seen", Db::u64(s, 10)},
                             {"end_reason", Db::text(s, 11)}});
          });
  doc["flows"] = flows;
  return doc;
}

void write_database_text(const json& doc, std::FILE* out) {
  const auto u = [](const json& v) { return static_cast<unsigned long long>(v.get<std::uint64_t>()); };
  std::fprintf(out, "\nNetScope report from database %s (netscope %s)\n",
               doc["source"]["database"].get<std::string>().c_str(), NETSCOPE_VERSION);
  const auto& t = doc["totals"];
  std::fprintf(out, "\nTotals: %llu packets, %llu bytes, %llu malformed, %llu dropped\n", u(t["packets"]), u(t["bytes"]),
               u(t["malformed"]["total"]), u(t["dropped"]));
  const auto& sas = doc["sas"];
  std::fprintf(out, "\nSecurity associations: %zu\n", sas.size());
  if (!sas.empty()) {
    std::fprintf(out, "  %-7s %-40s %4s %10s %10s %8s %6s %6s %6s %6s %4s %4s %4s %4s\n", "proto", "sa", "port",
                 "packets", "highest", "lost", "gaps", "dup", "reord", "oow", "roll", "rst", "rkey", "stck");
    std::size_t shown = 0;
    for (const auto& s : sas) {
      if (++shown > 200) {
        std::fprintf(out, "  ... %zu more in the JSON report (--json)\n", sas.size() - 200);
        break;
      }
      const std::string label = s["protocol"] == "macsec"
                                    ? "sci=" + s["sci"].get<std::string>() + " an=" + std::to_string(s["an"].get<int>())
                                    : "spi=0x" + [&] {
                                        char b[16];
                                        std::snprintf(b, sizeof b, "%08x", s["spi"].get<std::uint32_t>());
                                        return std::string(b);
                                      }() + " dst=" + s["dst"].get<std::string>();
      std::fprintf(out, "  %-7s %-40s %4llu %10llu %10llu %8llu %6llu %6llu %6llu %6llu %4llu %4llu %4llu %4llu\n",
                   s["protocol"].get<std::string>().c_str(), label.c_str(), u(s["port"]), u(s["packets"]),
                   u(s["highest_seq"]), u(s["lost"]), u(s["gaps"]), u(s["duplicates"]), u(s["reordered"]),
                   u(s["out_of_window"]), u(s["rollovers"]), u(s["resets"]), u(s["rekeys"]), u(s["stuck"]));
    }
  }
  std::fprintf(out, "\nAnomalies: %llu", u(doc["anomalies_total"]));
  std::string sep = " (";
  for (const auto& [name, v] : doc["anomaly_counts"].items()) {
    std::fprintf(out, "%s%s %llu", sep.c_str(), name.c_str(), u(v));
    sep = ", ";
  }
  std::fprintf(out, "%s\n", sep == ", " ? ")" : "");
  std::fprintf(out, "\nFlows: %llu (top 10 by bytes)\n", u(doc["flows_total"]));
  std::size_t shown = 0;
  for (const auto& f : doc["flows"]) {
    if (++shown > 10) break;
    std::fprintf(out, "  proto %-3llu %s:%llu <-> %s:%llu  %llu/%llu packets  %llu/%llu bytes  %s\n", u(f["protocol"]),
                 f["a"]["addr"].get<std::string>().c_str(), u(f["a"]["port"]), f["b"]["addr"].get<std::string>().c_str(),
                 u(f["b"]["port"]), u(f["packets_a_to_b"]), u(f["packets_b_to_a"]), u(f["bytes_a_to_b"]),
                 u(f["bytes_b_to_a"]), f["end_reason"].get<std::string>().c_str());
  }
  std::fflush(out);
}

}  // namespace netscope::control
