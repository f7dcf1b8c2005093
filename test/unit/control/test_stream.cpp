// WebSocket streams: 100 concurrent clients receive stats and every anomaly while one
// client that never reads is closed; the slow client gets close code 1008; flows stream;
// 1001 on stop; the client limit.
#include <gtest/gtest.h>

#include <atomic>

#include "netscope/control/server.hpp"
#include "support.hpp"

namespace netscope::control {
namespace {

using test::json;
using test::WsClient;
using Clock = std::chrono::steady_clock;

std::uint64_t metric(const std::string& page, const std::string& sample) {
  const auto pos = page.find(sample + " ");
  if (pos == std::string::npos) return UINT64_MAX;
  return std::stoull(page.substr(pos + sample.size() + 1));
}

/// Close code of a close frame payload.
unsigned close_code(const std::string& payload) {
  if (payload.size() < 2) return 0;
  return (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
}

/// Reads until a close frame or EOF; the close code or 0 for a plain EOF/reset.
unsigned drain_until_closed(WsClient& c, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const auto f = c.read(std::chrono::milliseconds(500));
    if (f && f->opcode == 0x8) return close_code(f->payload);
    if (!f) {
      pollfd p{c.fd(), POLLIN, 0};
      if (poll(&p, 1, 0) == 1) {
        char b;
        if (recv(c.fd(), &b, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) return 0;  // EOF or reset
      }
    }
  }
  return UINT32_MAX;
}

HubConfig stream_config() {
  HubConfig cfg;
  cfg.api_listen = "127.0.0.1:0";
  cfg.api_threads = 8;
  cfg.ws_max_clients = 128;
  cfg.ws_queue_messages = 64;
  cfg.ws_queue_bytes = 512 * 1024;
  cfg.ws_ping_interval_ms = 500;
  cfg.io_timeout_ms = 3000;
  cfg.ws_batch_max = 200;
  return cfg;
}

TEST(Stream, HundredClientsAndOneThatNeverReads) {
  Hub hub(stream_config());
  hub.start();
  const std::string addr = hub.bound_address();
  constexpr int kPerStream = 50;
  std::vector<std::unique_ptr<WsClient>> stats(kPerStream), anomalies(kPerStream);
  for (int i = 0; i < kPerStream; ++i) {
    stats[i] = std::make_unique<WsClient>();
    ASSERT_TRUE(stats[i]->open(addr, "/api/v1/stream/stats")) << stats[i]->status();
    anomalies[i] = std::make_unique<WsClient>();
    ASSERT_TRUE(anomalies[i]->open(addr, "/api/v1/stream/anomalies")) << anomalies[i]->status();
  }
  WsClient slow;
  ASSERT_TRUE(slow.open(addr, "/api/v1/stream/anomalies", 4096));
  ASSERT_TRUE(test::eventually([&] {
    return metric(hub.metrics_text(), "netscope_ws_clients{type=\"anomalies\"}") == kPerStream + 1 &&
           metric(hub.metrics_text(), "netscope_ws_clients{type=\"stats\"}") == kPerStream;
  }));

  // One thread reads all 100 healthy clients.
  struct Seen {
    std::uint64_t messages = 0, events = 0, last_seq = 0;
    bool in_order = true;
  };
  std::vector<Seen> seen_stats(kPerStream), seen_anomalies(kPerStream);
  std::atomic<bool> reading{true};
  std::atomic<int> closed{0};
  std::thread reader([&] {
    std::vector<pollfd> fds;
    for (int i = 0; i < kPerStream; ++i) fds.push_back({stats[i]->fd(), POLLIN, 0});
    for (int i = 0; i < kPerStream; ++i) fds.push_back({anomalies[i]->fd(), POLLIN, 0});
    while (reading) {
      if (poll(fds.data(), fds.size(), 50) <= 0) continue;
      for (std::size_t k = 0; k < fds.size(); ++k) {
        if (fds[k].revents == 0 || fds[k].fd < 0) continue;
        const bool is_stats = k < kPerStream;
        WsClient& c = is_stats ? *stats[k] : *anomalies[k - kPerStream];
        Seen& s = is_stats ? seen_stats[k] : seen_anomalies[k - kPerStream];
        if (!c.pump()) {
          fds[k].fd = -1;
          ++closed;
        }
        while (auto f = c.next()) {
          if (f->opcode == 0x8) continue;
          ++s.messages;
          const auto p = f->payload.rfind("\"seq\":");
          const std::uint64_t seq = std::stoull(f->payload.substr(p + 6));
          if (seq != s.last_seq + 1 && s.last_seq != 0) s.in_order = false;
          s.last_seq = seq;
          std::size_t pos = 0;
          while ((pos = f->payload.find("{\"count\":", pos)) != std::string::npos) {
            ++s.events;
            ++pos;
          }
        }
      }
    }
  });

  // The control lcore: a snapshot every 100 ms, 10k anomalies a second for 3 s. Every
  // call must return at once whatever the clients do.
  constexpr std::uint64_t kEvents = 30000;
  const std::uint64_t t0 = test::now_ns();
  Clock::duration worst{};
  std::uint64_t sent = 0;
  for (int tick = 0; sent < kEvents; ++tick) {
    const auto a = Clock::now();
    if (tick % 10 == 0) hub.publish(test::snapshot(t0 + static_cast<std::uint64_t>(tick) * 10'000'000ull, sent));
    for (int k = 0; k < 100 && sent < kEvents; ++k, ++sent) {
      hub.on_event(test::gap_event(test::esp_key(static_cast<std::uint32_t>(sent % 7 + 1)), sent));
    }
    worst = std::max(worst, Clock::now() - a);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_LT(worst, std::chrono::milliseconds(50)) << "publishing blocked";

  // The slow client is cut off; nobody else is.
  EXPECT_TRUE(test::eventually([&] {
    return metric(hub.metrics_text(), "netscope_ws_slow_clients_closed_total{type=\"anomalies\"}") == 1;
  }, std::chrono::seconds(20)));
  // The healthy clients get everything, in order.
  const bool all = test::eventually([&] {
    for (const Seen& s : seen_anomalies) {
      if (s.events < kEvents) return false;
    }
    return true;
  }, std::chrono::seconds(60));
  // Stats: one message a second; run a little longer so that everyone has several.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  reading = false;
  reader.join();
  EXPECT_TRUE(all);
  for (int i = 0; i < kPerStream; ++i) {
    EXPECT_EQ(seen_anomalies[i].events, kEvents) << "anomaly client " << i;
    EXPECT_TRUE(seen_anomalies[i].in_order) << "anomaly client " << i;
    EXPECT_GE(seen_stats[i].messages, 3u) << "stats client " << i;
    EXPECT_TRUE(seen_stats[i].in_order) << "stats client " << i;
  }
  EXPECT_EQ(closed, 0);
  const std::string m = hub.metrics_text();
  EXPECT_EQ(metric(m, "netscope_ws_slow_clients_closed_total{type=\"anomalies\"}"), 1u);
  EXPECT_EQ(metric(m, "netscope_ws_slow_clients_closed_total{type=\"stats\"}"), 0u);
  // The server ends the slow client's connection: it finds EOF (or a 1008 close frame)
  // once it reads what is buffered.
  const unsigned code = drain_until_closed(slow, std::chrono::seconds(30));
  EXPECT_TRUE(code == 0 || code == kCloseSlowClient) << code;
  EXPECT_TRUE(test::eventually([&] {
    return metric(hub.metrics_text(), "netscope_ws_clients{type=\"anomalies\"}") == kPerStream;
  }, std::chrono::seconds(20)));
  hub.stop();
}

TEST(Stream, SlowClientGetsCloseCode1008) {
  HubConfig cfg = stream_config();
  cfg.ws_queue_messages = 8;
  cfg.io_timeout_ms = 10000;
  cfg.ws_ping_interval_ms = 10000;
  Hub hub(cfg);
  hub.start();
  WsClient slow;
  ASSERT_TRUE(slow.open(hub.bound_address(), "/api/v1/stream/anomalies", 4096));
  ASSERT_TRUE(test::eventually([&] {
    return metric(hub.metrics_text(), "netscope_ws_clients{type=\"anomalies\"}") == 1;
  }));
  std::uint64_t n = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (metric(hub.metrics_text(), "netscope_ws_slow_clients_closed_total{type=\"anomalies\"}") != 1 &&
         Clock::now() < deadline) {
    for (int k = 0; k < 200; ++k) hub.on_event(test::gap_event(test::esp_key(1), n++));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(metric(hub.metrics_text(), "netscope_ws_slow_clients_closed_total{type=\"anomalies\"}"), 1u);
  // Now it reads: the backlog, then the close frame with 1008 and a reason.
  const auto end = Clock::now() + std::chrono::seconds(20);
  std::optional<WsClient::Frame> close;
  while (Clock::now() < end) {
    auto f = slow.read(std::chrono::seconds(1));
    if (f && f->opcode == 0x8) {
      close = f;
      break;
    }
  }
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close_code(close->payload), kCloseSlowClient);
  EXPECT_NE(close->payload.find("send queue overflow"), std::string::npos);
  slow.send_frame(0x8, close->payload.substr(0, 2));
  EXPECT_TRUE(test::eventually([&] {
    return metric(hub.metrics_text(), "netscope_ws_clients{type=\"anomalies\"}") == 0;
  }));
  hub.stop();
}

TEST(Stream, FlowsStreamAndGoingAway) {
  Hub hub(stream_config());
  hub.start();
  WsClient c;
  ASSERT_TRUE(c.open(hub.bound_address(), "/api/v1/stream/flows"));
  ASSERT_TRUE(test::eventually([&] {
    return metric(hub.metrics_text(), "netscope_ws_clients{type=\"flows\"}") == 1;
  }));
  for (int i = 0; i < 3; ++i) hub.on_flow(test::flow_record(17, static_cast<std::uint16_t>(5000 + i), 900));
  std::uint64_t got = 0;
  while (got < 3) {
    const auto f = c.read(std::chrono::seconds(5));
    ASSERT_TRUE(f.has_value());
    const json j = json::parse(f->payload);
    EXPECT_EQ(j["type"], "flows");
    for (const auto& fl : j["flows"]) {
      EXPECT_EQ(fl["protocol"], 17);
      EXPECT_EQ(fl["bytes"], 900);
      EXPECT_EQ(fl["id"], ++got);
    }
  }
  hub.stop();
  const auto f = c.read(std::chrono::seconds(5));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->opcode, 0x8);
  EXPECT_EQ(close_code(f->payload), kCloseGoingAway);
}

TEST(Stream, StatsMessageShape) {
  Hub hub(stream_config());
  hub.start();
  WsClient c;
  ASSERT_TRUE(c.open(hub.bound_address(), "/api/v1/stream/stats"));
  hub.publish(test::snapshot(test::now_ns(), 4242));
  const auto f = c.read(std::chrono::seconds(5));
  ASSERT_TRUE(f.has_value());
  const json j = json::parse(f->payload);
  EXPECT_EQ(j["type"], "stats");
  EXPECT_EQ(j["seq"], 1);
  EXPECT_EQ(j["data"]["packets"], 4242);
  EXPECT_EQ(j["data"]["protocols"]["esp"]["packets"], 4242);
  hub.stop();
}

TEST(Stream, ClientLimitAndBadUpgrades) {
  HubConfig cfg = stream_config();
  cfg.ws_max_clients = 2;
  Hub hub(cfg);
  hub.start();
  const std::string addr = hub.bound_address();
  WsClient a, b, c;
  ASSERT_TRUE(a.open(addr, "/api/v1/stream/stats"));
  ASSERT_TRUE(b.open(addr, "/api/v1/stream/anomalies"));
  ASSERT_TRUE(test::eventually([&] {
    return metric(hub.metrics_text(), "netscope_ws_clients{type=\"stats\"}") == 1 &&
           metric(hub.metrics_text(), "netscope_ws_clients{type=\"anomalies\"}") == 1;
  }));
  EXPECT_FALSE(c.open(addr, "/api/v1/stream/flows"));
  EXPECT_EQ(c.status(), 503);
  WsClient d;
  EXPECT_FALSE(d.open(addr, "/api/v1/stream/nothing"));
  EXPECT_EQ(d.status(), 404);
  WsClient e;
  EXPECT_FALSE(e.open(addr, "/api/v1/stream/stats?x=1"));
  EXPECT_EQ(e.status(), 400);
  // HTTP still works while WebSocket clients hold their threads.
  EXPECT_EQ(test::get(addr, "/health").status, 200);
  hub.stop();
}

}  // namespace
}  // namespace netscope::control
