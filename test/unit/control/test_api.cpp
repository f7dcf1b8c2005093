// The REST API against a running hub over real HTTP: every endpoint, pagination, auth,
// rate limiting, CORS, and bad input of every kind.
#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "netscope/control/state.hpp"
#include "support.hpp"

namespace netscope::control {
namespace {

using test::get;
using test::http;
using test::json;

class ApiTest : public ::testing::Test {
 protected:
  void start(HubConfig cfg = {}) {
    dir_ = test::temp_dir();
    cfg.api_listen = "127.0.0.1:0";
    if (cfg.db_path.empty()) cfg.db_path = dir_ + "/netscope.db";
    hub_ = std::make_unique<Hub>(cfg);
    hub_->start();
    addr_ = hub_->bound_address();
    ASSERT_FALSE(addr_.empty());
  }
  void TearDown() override {
    if (hub_) hub_->stop();
    if (!dir_.empty()) test::run("rm -rf " + dir_);
  }
  /// Two snapshots one second apart: 1000 then 1500 packets.
  void feed() {
    t0_ = test::now_ns();
    hub_->publish(test::snapshot(t0_ - 1'000'000'000ull, 1000));
    ASSERT_TRUE(hub_->sync(std::chrono::seconds(5)));
    hub_->publish(test::snapshot(t0_, 1500));
    for (std::uint64_t i = 0; i < 3; ++i) hub_->on_event(test::gap_event(test::esp_key(0x100), 1000 + i));
    auto dup = test::gap_event(test::macsec_key(0x0011223344550001ull, 0), 2000);
    dup.type = seq::EventType::duplicate;
    hub_->on_event(dup);
    hub_->on_flow(test::flow_record(6, 1000, 5000));
    hub_->on_flow(test::flow_record(17, 1001, 800));
    hub_->on_flow(test::flow_record(6, 1002, 120000));
    hub_->on_flow(test::flow_record(50, 1003, 64000));
    hub_->on_flow(test::flow_record(6, 1004, 800));
    ASSERT_TRUE(hub_->sync(std::chrono::seconds(5)));
  }
  json get_json(const std::string& target, int want = 200) {
    const auto r = get(addr_, target);
    EXPECT_EQ(r.status, want) << target << " -> " << r.body;
    EXPECT_EQ(r.header("content-type"), "application/json") << target;
    return r.json_body();
  }
  void expect_error(const std::string& method, const std::string& target, int status, const std::string& body = {}) {
    const auto r = http(addr_, method, target, {{"Content-Type", "application/json"}}, body);
    EXPECT_EQ(r.status, status) << method << " " << target << " -> " << r.body;
    const json j = r.json_body();
    ASSERT_TRUE(j.is_object()) << method << " " << target << ": " << r.body;
    EXPECT_TRUE(j["error"].is_string()) << r.body;
    EXPECT_TRUE(j["message"].is_string()) << r.body;
    EXPECT_EQ(j["status"], status);
  }

  std::unique_ptr<Hub> hub_;
  std::string dir_, addr_;
  std::uint64_t t0_ = 0;
};

TEST_F(ApiTest, BeforeFirstSnapshot) {
  start();
  const json h = get_json("/health");
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["snapshot"]["received"], false);
  EXPECT_EQ(h["database"], "ok");
  expect_error("GET", "/api/v1/stats/current", 503);
  expect_error("GET", "/api/v1/sas", 503);
  EXPECT_EQ(get_json("/api/v1/flows")["count"], 0);
  const auto m = get(addr_, "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m.body.find("netscope_build_info{version="), std::string::npos);
}

TEST_F(ApiTest, StatsEndpoints) {
  start();
  feed();
  const json cur = get_json("/api/v1/stats/current");
  EXPECT_EQ(cur["packets"], 1500);
  EXPECT_EQ(cur["bytes"], 150000);
  EXPECT_DOUBLE_EQ(cur["rates"]["packets_per_second"].get<double>(), 500.0);
  EXPECT_DOUBLE_EQ(cur["rates"]["bits_per_second"].get<double>(), 400000.0);
  EXPECT_EQ(cur["paused"], false);
  EXPECT_EQ(cur["protocols"]["esp"]["packets"], 1500);
  EXPECT_EQ(cur["protocols"]["tcp"]["packets"], 0);
  EXPECT_EQ(cur["malformed"]["by_reason"]["truncated_esp"], 3);
  EXPECT_EQ(cur["anomaly_counts"]["gap"], 2);
  EXPECT_EQ(cur["ports"][0]["name"], "net_pcap0");
  EXPECT_EQ(cur["ports"][0]["rx_missed"], 1);

  const json sum = get_json("/api/v1/stats/summary");
  EXPECT_EQ(sum["sa_totals"]["esp"]["lost"], 7);
  EXPECT_EQ(sum["sa_totals"]["esp"]["sas"], 1);
  EXPECT_EQ(sum["sa_totals"]["macsec"]["packets"], 750);
  EXPECT_EQ(sum["top_sas_by_loss"].size(), 1u);
  EXPECT_EQ(sum["top_sas_by_loss"][0]["spi"], 256);
  EXPECT_EQ(sum["flows"]["stored"], 5);
  EXPECT_EQ(sum["anomalies_stored"], 4);
  EXPECT_DOUBLE_EQ(sum["peak"]["packets_per_second"].get<double>(), 500.0);

  const json hist = get_json("/api/v1/stats/history?duration=1m&interval=10s");
  EXPECT_EQ(hist["duration_s"], 60);
  EXPECT_EQ(hist["interval_s"], 10);
  ASSERT_EQ(hist["points"].size(), 6u);
  std::uint64_t packets = 0;
  for (const auto& p : hist["points"]) packets += p["packets"].get<std::uint64_t>();
  EXPECT_EQ(packets, 500u);
  EXPECT_EQ(hist["points"][5]["packets"], 500);  // the newest bucket holds the last second
  EXPECT_EQ(get_json("/api/v1/stats/history")["points"].size(), 300u);
  expect_error("GET", "/api/v1/stats/history?duration=0", 400);
  expect_error("GET", "/api/v1/stats/history?duration=2h", 400);  // beyond history_seconds
  expect_error("GET", "/api/v1/stats/history?interval=abc", 400);
  expect_error("GET", "/api/v1/stats/history?duration=60&interval=61", 400);
  expect_error("GET", "/api/v1/stats/current?bogus=1", 400);
  expect_error("POST", "/api/v1/stats/current", 405);

  const json diag = get_json("/api/v1/diagnostics");
  ASSERT_EQ(diag["lcores"].size(), 2u);
  EXPECT_DOUBLE_EQ(diag["lcores"][1]["load"].get<double>(), 0.75);
  EXPECT_EQ(diag["lcores"][1]["ring_fill"], 5);
  EXPECT_EQ(diag["mempool"]["in_use"], 100);
  EXPECT_EQ(diag["drops"]["rx_missed"], 1);
  EXPECT_EQ(diag["hub"]["stored"]["flows"], 5);
  EXPECT_EQ(diag["hub"]["database"]["enabled"], true);
}

TEST_F(ApiTest, SasAndTopK) {
  start();
  feed();
  const json all = get_json("/api/v1/sas");
  EXPECT_EQ(all["total"], 2);
  const json top = get_json("/api/v1/sas?sort=lost&limit=1");
  ASSERT_EQ(top["sas"].size(), 1u);
  const json sa = top["sas"][0];
  EXPECT_EQ(sa["protocol"], "esp");
  EXPECT_EQ(sa["spi"], 256);
  EXPECT_EQ(sa["dst"], "198.51.100.2");
  EXPECT_EQ(sa["lost"], 7);
  EXPECT_EQ(sa["lcores"], json::array({1}));
  const std::uint64_t id = sa["id"];
  EXPECT_EQ(id, sa_id(test::esp_key(0x100)));
  EXPECT_EQ(get_json("/api/v1/sas/" + std::to_string(id)), sa);
  EXPECT_EQ(get_json("/api/v1/sas?protocol=macsec")["sas"][0]["sci"], "0011223344550001");
  EXPECT_EQ(get_json("/api/v1/sas?min_lost=1")["total"], 1);
  EXPECT_EQ(get_json("/api/v1/sas?offset=1&limit=5")["count"], 1);
  EXPECT_EQ(get_json("/api/v1/sas?offset=9")["count"], 0);
  expect_error("GET", "/api/v1/sas/12345", 404);
  expect_error("GET", "/api/v1/sas/abc", 400);
  expect_error("GET", "/api/v1/sas/0", 400);
  expect_error("GET", "/api/v1/sas/99999999999999999999", 400);
  expect_error("GET", "/api/v1/sas?sort=bogus", 400);
  expect_error("GET", "/api/v1/sas?protocol=ipx", 400);
  expect_error("GET", "/api/v1/sas?limit=0", 400);
  expect_error("GET", "/api/v1/sas?limit=100000", 400);
}

TEST_F(ApiTest, SplitSaIsMerged) {
  start();
  auto s = test::snapshot(test::now_ns(), 100);
  s->sas.push_back(test::sa_summary(test::esp_key(0x100), 10, 1, 2));  // same SA on lcore 2
  hub_->publish(s);
  ASSERT_TRUE(hub_->sync(std::chrono::seconds(5)));
  const json all = get_json("/api/v1/sas?protocol=esp");
  ASSERT_EQ(all["total"], 1);
  EXPECT_EQ(all["sas"][0]["packets"], 60);
  EXPECT_EQ(all["sas"][0]["lost"], 8);
  EXPECT_EQ(all["sas"][0]["lcores"], json::array({1, 2}));
}

TEST_F(ApiTest, FlowsFilterSortPaginate) {
  start();
  feed();
  const json all = get_json("/api/v1/flows");
  EXPECT_EQ(all["count"], 5);
  EXPECT_EQ(all["total"], 5);
  EXPECT_TRUE(all["next_cursor"].is_null());
  EXPECT_EQ(all["flows"][0]["id"], 1);
  EXPECT_EQ(all["flows"][0]["a"]["addr"], "10.0.0.1");
  EXPECT_EQ(all["flows"][0]["b"]["port"], 443);
  EXPECT_EQ(all["flows"][0]["end_reason"], "idle_timeout");
  EXPECT_EQ(get_json("/api/v1/flows?protocol=udp")["total"], 1);
  EXPECT_EQ(get_json("/api/v1/flows?protocol=6")["total"], 3);
  EXPECT_EQ(get_json("/api/v1/flows?protocol=esp")["flows"][0]["protocol"], 50);
  EXPECT_EQ(get_json("/api/v1/flows?min_bytes=5000")["total"], 3);
  EXPECT_EQ(get_json("/api/v1/flows?min_bandwidth=500000")["total"], 2);  // 64 kB and 120 kB in 1 s
  EXPECT_EQ(get_json("/api/v1/flows?addr=10.0.0.2&port=1002")["total"], 1);
  EXPECT_EQ(get_json("/api/v1/flows?addr=10.9.9.9")["total"], 0);
  EXPECT_EQ(get_json("/api/v1/flows?ip_version=6")["total"], 0);
  EXPECT_EQ(get_json("/api/v1/flows?end_reason=shutdown")["total"], 0);
  const json top = get_json("/api/v1/flows?sort=bytes&limit=1");
  EXPECT_EQ(top["flows"][0]["bytes"], 120000);

  // Walk all pages by bytes, two at a time: every flow exactly once, in order.
  std::vector<std::uint64_t> bytes;
  std::set<std::uint64_t> ids;
  std::string target = "/api/v1/flows?sort=bytes&limit=2";
  for (int page = 0; page < 10; ++page) {
    const json p = get_json(target);
    for (const auto& f : p["flows"]) {
      bytes.push_back(f["bytes"]);
      EXPECT_TRUE(ids.insert(f["id"].get<std::uint64_t>()).second);
    }
    if (p["next_cursor"].is_null()) break;
    target = "/api/v1/flows?sort=bytes&limit=2&cursor=" + p["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(bytes, (std::vector<std::uint64_t>{120000, 64000, 5000, 800, 800}));
  EXPECT_EQ(ids.size(), 5u);

  const json one = get_json("/api/v1/flows/3");
  EXPECT_EQ(one["bytes"], 120000);
  expect_error("GET", "/api/v1/flows/999", 404);
  expect_error("GET", "/api/v1/flows/-1", 400);
  expect_error("GET", "/api/v1/flows?protocol=bogus", 400);
  expect_error("GET", "/api/v1/flows?protocol=256", 400);
  expect_error("GET", "/api/v1/flows?addr=10.0.0", 400);
  expect_error("GET", "/api/v1/flows?port=70000", 400);
  expect_error("GET", "/api/v1/flows?limit=1001", 400);
  expect_error("GET", "/api/v1/flows?cursor=garbage!", 400);
  expect_error("GET", "/api/v1/flows?min_bandwidth=-5", 400);
  // A cursor made for one sort order cannot be used with another.
  const std::string c = get_json("/api/v1/flows?sort=bytes&limit=1")["next_cursor"];
  expect_error("GET", "/api/v1/flows?sort=packets&cursor=" + c, 400);
}

TEST_F(ApiTest, Anomalies) {
  start();
  feed();
  const json all = get_json("/api/v1/anomalies");
  EXPECT_EQ(all["total"], 4);
  const json& a = all["anomalies"][0];
  EXPECT_EQ(a["id"], 1);
  EXPECT_EQ(a["type"], "gap");
  EXPECT_EQ(a["protocol"], "esp");
  EXPECT_EQ(a["spi"], 256);
  EXPECT_EQ(a["expected"], 4);
  EXPECT_EQ(a["got"], 6);
  EXPECT_EQ(a["count"], 2);
  EXPECT_EQ(a["sa_id"], sa_id(test::esp_key(0x100)));
  EXPECT_EQ(get_json("/api/v1/anomalies?type=gap")["total"], 3);
  EXPECT_EQ(get_json("/api/v1/anomalies?type=duplicate")["anomalies"][0]["sci"], "0011223344550001");
  EXPECT_EQ(get_json("/api/v1/anomalies?sa=" + std::to_string(sa_id(test::esp_key(0x100))))["total"], 3);
  EXPECT_EQ(get_json("/api/v1/anomalies?since=1001")["total"], 3);
  EXPECT_EQ(get_json("/api/v1/anomalies?since=1001&until=1002")["total"], 2);
  EXPECT_EQ(get_json("/api/v1/anomalies?order=desc&limit=1")["anomalies"][0]["id"], 4);
  const json p1 = get_json("/api/v1/anomalies?limit=3");
  ASSERT_TRUE(p1["next_cursor"].is_string());
  const json p2 = get_json("/api/v1/anomalies?limit=3&cursor=" + p1["next_cursor"].get<std::string>());
  ASSERT_EQ(p2["count"], 1);
  EXPECT_EQ(p2["anomalies"][0]["id"], 4);
  EXPECT_TRUE(p2["next_cursor"].is_null());
  EXPECT_EQ(get_json("/api/v1/anomalies/2")["timestamp"], 1001);
  expect_error("GET", "/api/v1/anomalies/77", 404);
  expect_error("GET", "/api/v1/anomalies?type=bogus", 400);
  expect_error("GET", "/api/v1/anomalies?sa=x", 400);
  expect_error("GET", "/api/v1/anomalies?limit=1&limit=2", 400);
  expect_error("DELETE", "/api/v1/anomalies/1", 405);
}

TEST_F(ApiTest, ConfigFiltersAndCapture) {
  start();
  hub_->set_runtime_config(R"({"window": 64})");
  const json cfg = get_json("/api/v1/config");
  EXPECT_EQ(cfg["runtime"]["window"], 64);
  EXPECT_EQ(cfg["api"]["api_key_set"], false);
  EXPECT_EQ(cfg["database"]["enabled"], true);

  const auto r = http(addr_, "POST", "/api/v1/config/filters", {{"Content-Type", "application/json"}},
                      R"({"expression": "esp or udp port 4500"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::uint64_t id = r.json_body()["id"];
  EXPECT_EQ(r.header("location"), "/api/v1/config/filters/" + std::to_string(id));
  auto cmd = hub_->poll_command();
  ASSERT_TRUE(cmd.has_value());
  EXPECT_EQ(cmd->type, Command::Type::add_filter);
  EXPECT_EQ(cmd->id, id);
  EXPECT_EQ(cmd->text, "esp or udp port 4500");
  EXPECT_EQ(get_json("/api/v1/config/filters")["filters"][0]["expression"], "esp or udp port 4500");
  EXPECT_EQ(http(addr_, "DELETE", "/api/v1/config/filters/" + std::to_string(id)).status, 200);
  cmd = hub_->poll_command();
  ASSERT_TRUE(cmd.has_value());
  EXPECT_EQ(cmd->type, Command::Type::remove_filter);
  EXPECT_EQ(cmd->id, id);
  expect_error("DELETE", "/api/v1/config/filters/" + std::to_string(id), 404);
  expect_error("DELETE", "/api/v1/config/filters/x", 400);
  expect_error("POST", "/api/v1/config/filters", 400, "not json");
  expect_error("POST", "/api/v1/config/filters", 400, "[1,2]");
  expect_error("POST", "/api/v1/config/filters", 400, "{}");
  expect_error("POST", "/api/v1/config/filters", 400, R"({"expression": 5})");
  expect_error("POST", "/api/v1/config/filters", 400, R"({"expression": ""})");
  expect_error("POST", "/api/v1/config/filters", 400, R"({"expression": "tcp and and"})");  // libpcap says no
  expect_error("POST", "/api/v1/config/filters", 400, R"({"expression": "a", "x": 1})");
  expect_error("POST", "/api/v1/config/filters", 400, R"({"expression": "a\u0001b"})");
  expect_error("POST", "/api/v1/config/filters", 400, "{\"expression\": \"" + std::string(2000, 'a') + "\"}");
  expect_error("PUT", "/api/v1/config/filters", 405);
  EXPECT_FALSE(hub_->poll_command().has_value());

  const auto p = http(addr_, "POST", "/api/v1/capture/pause");
  EXPECT_EQ(p.status, 202) << p.body;
  cmd = hub_->poll_command();
  ASSERT_TRUE(cmd.has_value());
  EXPECT_EQ(cmd->type, Command::Type::pause);
  // The control lcore pauses and says so in the next snapshot.
  auto s = test::snapshot(test::now_ns(), 10);
  s->paused = true;
  hub_->publish(s);
  ASSERT_TRUE(hub_->sync(std::chrono::seconds(5)));
  EXPECT_EQ(get_json("/api/v1/stats/current")["paused"], true);
  EXPECT_EQ(http(addr_, "POST", "/api/v1/capture/resume", {}, "{}").status, 202);
  EXPECT_EQ(hub_->poll_command()->type, Command::Type::resume);
  expect_error("GET", "/api/v1/capture/pause", 405);
  expect_error("POST", "/api/v1/capture/pause", 400, R"({"now": true})");
  expect_error("POST", "/api/v1/capture/stop", 404);
}

TEST_F(ApiTest, CommandQueueIsBounded) {
  HubConfig cfg;
  cfg.command_queue = 2;
  start(cfg);
  EXPECT_EQ(http(addr_, "POST", "/api/v1/capture/pause").status, 202);
  EXPECT_EQ(http(addr_, "POST", "/api/v1/capture/pause").status, 202);
  expect_error("POST", "/api/v1/capture/pause", 503);
  EXPECT_TRUE(hub_->poll_command().has_value());
  EXPECT_EQ(http(addr_, "POST", "/api/v1/capture/resume").status, 202);
}

TEST_F(ApiTest, PathsAndMethods) {
  start();
  expect_error("GET", "/", 404);
  expect_error("GET", "/api", 404);
  expect_error("GET", "/api/v2/stats/current", 404);
  expect_error("GET", "/api/v1/nothing", 404);
  expect_error("GET", "/api/v1/stats", 404);
  expect_error("GET", "/api/v1/stats/current/extra", 404);
  expect_error("GET", "/api/v1/flows/1/2/3", 404);
  expect_error("GET", "/api/v1/stream/stats", 400);  // needs a WebSocket upgrade
  expect_error("POST", "/health", 405);
  expect_error("DELETE", "/metrics", 405);
  const auto h = http(addr_, "HEAD", "/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "");
  EXPECT_EQ(get(addr_, "/api/v1/flows/").status, 200);  // one trailing slash is fine
}

TEST_F(ApiTest, ApiKey) {
  HubConfig cfg;
  cfg.api_key = "s3cret-key";
  start(cfg);
  const auto none = get(addr_, "/api/v1/flows");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.json_body()["error"], "unauthorized");
  EXPECT_FALSE(none.header("www-authenticate").empty());
  EXPECT_EQ(get(addr_, "/api/v1/flows", {{"X-API-Key", "wrong"}}).status, 401);
  EXPECT_EQ(get(addr_, "/api/v1/flows", {{"X-API-Key", "s3cret-ke"}}).status, 401);
  EXPECT_EQ(get(addr_, "/api/v1/flows", {{"X-API-Key", "s3cret-key"}}).status, 200);
  EXPECT_EQ(get(addr_, "/api/v1/flows?api_key=s3cret-key").status, 200);
  EXPECT_EQ(get(addr_, "/api/v1/nothing").status, 401);  // no probing without the key
  EXPECT_EQ(get(addr_, "/health").status, 200);
  EXPECT_EQ(get(addr_, "/metrics").status, 200);
  EXPECT_EQ(get_json("/api/v1/config", 401)["status"], 401);
  EXPECT_EQ(get(addr_, "/api/v1/config", {{"X-API-Key", "s3cret-key"}}).json_body()["api"]["api_key_set"], true);
  EXPECT_EQ(get(addr_, "/api/v1/config", {{"X-API-Key", "s3cret-key"}}).body.find("s3cret"), std::string::npos);
  test::WsClient ws;
  EXPECT_FALSE(ws.open(addr_, "/api/v1/stream/stats"));
  EXPECT_EQ(ws.status(), 401);
  test::WsClient ok;
  EXPECT_TRUE(ok.open(addr_, "/api/v1/stream/stats", 0, {{"X-API-Key", "s3cret-key"}}));
}

TEST_F(ApiTest, MetricsCanRequireKey) {
  HubConfig cfg;
  cfg.api_key = "k";
  cfg.metrics_require_key = true;
  start(cfg);
  EXPECT_EQ(get(addr_, "/metrics").status, 401);
  EXPECT_EQ(get(addr_, "/metrics", {{"X-API-Key", "k"}}).status, 200);
}

TEST_F(ApiTest, RateLimit) {
  HubConfig cfg;
  cfg.rate_limit_rps = 2;
  cfg.rate_limit_burst = 3;
  start(cfg);
  int ok = 0, limited = 0;
  for (int i = 0; i < 10; ++i) {
    const auto r = get(addr_, "/api/v1/flows");
    if (r.status == 200) ++ok;
    if (r.status == 429) {
      ++limited;
      EXPECT_GE(std::stoi(r.header("retry-after")), 1);
      EXPECT_EQ(r.json_body()["error"], "rate_limited");
    }
  }
  EXPECT_GE(ok, 3);
  EXPECT_LE(ok, 4);  // the bucket refills at 2/s while the loop runs
  EXPECT_EQ(ok + limited, 10);
  EXPECT_EQ(get(addr_, "/metrics").status, 200);  // scrapes are not limited
  EXPECT_EQ(get(addr_, "/health").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(get(addr_, "/api/v1/flows").status, 200);
  EXPECT_NE(get(addr_, "/metrics").body.find("netscope_api_rejected_requests_total{reason=\"rate_limited\"} " +
                                             std::to_string(limited)),
            std::string::npos);
}

TEST_F(ApiTest, Cors) {
  HubConfig cfg;
  cfg.cors_origins = {"https://dash.example"};
  start(cfg);
  const auto r = get(addr_, "/api/v1/flows", {{"Origin", "https://dash.example"}});
  EXPECT_EQ(r.header("access-control-allow-origin"), "https://dash.example");
  EXPECT_EQ(r.header("vary"), "Origin");
  EXPECT_EQ(get(addr_, "/api/v1/flows", {{"Origin", "https://evil.example"}}).header("access-control-allow-origin"), "");
  const auto pre = http(addr_, "OPTIONS", "/api/v1/config/filters",
                        {{"Origin", "https://dash.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.header("access-control-allow-origin"), "https://dash.example");
  EXPECT_NE(pre.header("access-control-allow-headers").find("X-API-Key"), std::string::npos);
  EXPECT_EQ(http(addr_, "OPTIONS", "/api/v1/flows", {{"Origin", "https://evil.example"}}).status, 403);
  // Errors carry CORS headers too, so browsers can read them.
  EXPECT_EQ(get(addr_, "/api/v1/nope", {{"Origin", "https://dash.example"}}).header("access-control-allow-origin"),
            "https://dash.example");
}

TEST_F(ApiTest, HostileClientsCannotHurtIt) {
  HubConfig cfg;
  cfg.max_body_bytes = 1024;
  start(cfg);
  feed();
  expect_error("POST", "/api/v1/config/filters", 413, std::string(4096, 'x'));
  const std::vector<std::string> raw = {
      "GARBAGE\r\n\r\n",
      "GET /api/v1/flows?cursor=%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET /api/v1/flows/%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET /api/v1/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(30000, 'b') + "\r\n\r\n",
      "POST /api/v1/config/filters HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\nConnection: close\r\n\r\n{",
      "POST /api/v1/config/filters HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n",
      "GET /api/v1/flows?" + std::string(5000, '&') + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),
      "GET /api/v1/stream/stats HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
  };
  for (const std::string& req : raw) {
    const int s = test::connect_to(addr_);
    ASSERT_GE(s, 0);
    test::send_all(s, req);
    shutdown(s, SHUT_WR);
    char buf[4096];
    while (recv(s, buf, sizeof buf, 0) > 0) {
    }
    close(s);
  }
  // Half-open connections that never finish their request.
  std::vector<int> idle;
  for (int i = 0; i < 5; ++i) {
    idle.push_back(test::connect_to(addr_));
    test::send_all(idle.back(), "GET /health HTTP/1.1\r\nHo");
  }
  // Random query strings against every listing.
  std::uint64_t seed = 12345;
  const char alphabet[] = "abc=&%0129xyz+-._~!*'()[]";
  for (int i = 0; i < 200; ++i) {
    std::string q;
    for (int k = 0; k < 20; ++k) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      q += alphabet[(seed >> 33) % (sizeof alphabet - 1)];
    }
    for (const char* p : {"/api/v1/flows?", "/api/v1/sas?", "/api/v1/anomalies?", "/api/v1/stats/history?"}) {
      const auto r = get(addr_, p + q);
      EXPECT_TRUE(r.status == 200 || (r.status >= 400 && r.status < 500)) << p << q << " -> " << r.status;
    }
  }
  for (int s : idle) close(s);
  EXPECT_EQ(get(addr_, "/health").status, 200);
  EXPECT_EQ(get_json("/api/v1/stats/current")["packets"], 1500);
}

TEST_F(ApiTest, ConcurrentClientsWhilePublishing) {
  start();
  feed();
  std::atomic<bool> run{true};
  std::atomic<int> bad{0}, done{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t) {
    clients.emplace_back([&] {
      while (run) {
        for (const char* p : {"/api/v1/stats/current", "/api/v1/flows?sort=bytes&limit=100", "/api/v1/sas?sort=lost",
                              "/metrics", "/api/v1/anomalies?order=desc"}) {
          if (get(addr_, p).status != 200) ++bad;
          ++done;
        }
      }
    });
  }
  const std::uint64_t t = test::now_ns();
  for (int i = 0; i < 100; ++i) {
    hub_->publish(test::snapshot(t + static_cast<std::uint64_t>(i) * 10'000'000ull, 2000 + static_cast<std::uint64_t>(i)));
    for (int k = 0; k < 50; ++k) hub_->on_flow(test::flow_record(6, static_cast<std::uint16_t>(k), 1000));
    for (int k = 0; k < 20; ++k) hub_->on_event(test::gap_event(test::esp_key(0x100), 5000));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(hub_->sync(std::chrono::seconds(5)));
  run = false;
  for (auto& c : clients) c.join();
  EXPECT_EQ(bad, 0);
  EXPECT_GT(done, 0);
  EXPECT_EQ(get_json("/api/v1/flows")["total"], 5 + 100 * 50);
}

TEST_F(ApiTest, IngestAndStoresAreBounded) {
  HubConfig cfg;
  cfg.max_events = 5;
  cfg.max_flows = 3;
  start(cfg);
  for (int i = 0; i < 20; ++i) hub_->on_event(test::gap_event(test::esp_key(1), static_cast<std::uint64_t>(i)));
  for (int i = 0; i < 10; ++i) hub_->on_flow(test::flow_record(6, static_cast<std::uint16_t>(i), 100));
  ASSERT_TRUE(hub_->sync(std::chrono::seconds(5)));
  const json ev = get_json("/api/v1/anomalies");
  EXPECT_EQ(ev["total"], 5);
  EXPECT_EQ(ev["anomalies"][0]["id"], 16);  // the newest five are kept
  expect_error("GET", "/api/v1/anomalies/1", 404);
  EXPECT_EQ(get_json("/api/v1/flows")["total"], 3);
}

TEST_F(ApiTest, IngestBufferDropsAreCounted) {
  HubConfig cfg;
  cfg.ingest_queue = 8;
  start(cfg);
  // The hub thread takes the buffer every 10 ms; 10000 records in a burst overflow it.
  for (int i = 0; i < 10000; ++i) hub_->on_event(test::gap_event(test::esp_key(1), static_cast<std::uint64_t>(i)));
  ASSERT_TRUE(hub_->sync(std::chrono::seconds(5)));
  const std::string m = hub_->metrics_text();
  const std::string name = "netscope_hub_dropped_records_total{reason=\"anomaly\"} ";
  const auto pos = m.find(name);
  ASSERT_NE(pos, std::string::npos);
  const std::uint64_t dropped = std::stoull(m.substr(pos + name.size()));
  const std::uint64_t kept = get_json("/api/v1/anomalies?limit=1")["total"];
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(dropped + kept, 10000u);
}

TEST(HubStart, ClearErrors) {
  const std::string dir = test::temp_dir();
  HubConfig a;
  a.api_listen = "127.0.0.1:0";
  Hub first(a);
  first.start();
  HubConfig b;
  b.api_listen = first.bound_address();
  Hub second(b);
  EXPECT_THROW(second.start(), std::runtime_error);
  HubConfig c;
  c.api_listen = "localhost:http";
  try {
    Hub h(c);
    h.start();
    ADD_FAILURE() << "bad address accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("localhost:http"), std::string::npos) << e.what();
  }
  HubConfig d;
  d.db_path = dir + "/no/such/dir/x.db";
  try {
    Hub h(d);
    h.start();
    ADD_FAILURE() << "bad database path accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(d.db_path), std::string::npos) << e.what();
  }
  first.stop();
  test::run("rm -rf " + dir);
}

}  // namespace
}  // namespace netscope::control
