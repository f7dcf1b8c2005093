// A real Prometheus server (Debian package prometheus) scrapes the hub's /metrics every
// second; a query through Prometheus' HTTP API returns the packet count published. And
// promtool accepts the live page.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>

#include <fstream>

#include "support.hpp"

namespace netscope::control {
namespace {

using test::json;

class PrometheusServer {
 public:
  PrometheusServer(const std::string& dir, const std::string& target) : dir_(dir) {
    port_ = test::free_port();
    std::ofstream cfg(dir + "/prometheus.yml");
    cfg << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
           "scrape_configs:\n  - job_name: netscope\n    scrape_interval: 1s\n    scrape_timeout: 1s\n"
           "    static_configs:\n      - targets: ['" << target << "']\n";
    cfg.close();
    pid_ = fork();
    if (pid_ == 0) {
      const int log = open((dir + "/prometheus.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(log, 1);
      dup2(log, 2);
      const std::string config = "--config.file=" + dir + "/prometheus.yml";
      const std::string storage = "--storage.tsdb.path=" + dir + "/data";
      const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
      execlp("prometheus", "prometheus", config.c_str(), storage.c_str(), listen.c_str(), "--log.level=warn",
             static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~PrometheusServer() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  /// The value of an instant query's single sample, or "" when there is none yet.
  [[nodiscard]] std::string query(const std::string& promql) const {
    std::string q;
    for (char c : promql) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
        q += c;
      } else {
        char b[4];
        std::snprintf(b, sizeof b, "%%%02X", static_cast<unsigned char>(c));
        q += b;
      }
    }
    const auto r = test::get(address(), "/api/v1/query?query=" + q);
    if (r.status != 200) return "";
    const json j = r.json_body();
    if (!j.is_object() || j["status"] != "success" || j["data"]["result"].empty()) return "";
    return j["data"]["result"][0]["value"][1].get<std::string>();
  }
  [[nodiscard]] std::string log() const { return test::run("cat " + dir_ + "/prometheus.log").second; }

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST(Prometheus, ServerScrapesHub) {
  ASSERT_EQ(test::run("command -v prometheus").first, 0) << "prometheus is required (Debian package prometheus)";
  const std::string dir = test::temp_dir();
  HubConfig cfg;
  cfg.api_listen = "127.0.0.1:0";
  Hub hub(cfg);
  hub.start();
  hub.publish(test::snapshot(test::now_ns(), 12345));
  ASSERT_TRUE(hub.sync(std::chrono::seconds(5)));
  {
    PrometheusServer prom(dir, hub.bound_address());
    std::string packets, up;
    test::eventually([&] {
      packets = prom.query("sum(netscope_packets_total)");
      up = prom.query("up{job=\"netscope\"}");
      return packets == "12345" && up == "1";
    }, std::chrono::seconds(60));
    EXPECT_EQ(packets, "12345") << prom.log();
    EXPECT_EQ(up, "1") << prom.log();
    EXPECT_EQ(prom.query("netscope_packets_total{proto=\"esp\"}"), "12345");
    EXPECT_EQ(prom.query("netscope_sa_lost_packets{proto=\"esp\"}"), "7");
    // A new snapshot shows up in the next scrapes.
    hub.publish(test::snapshot(test::now_ns(), 20000));
    EXPECT_TRUE(test::eventually([&] { return prom.query("sum(netscope_packets_total)") == "20000"; },
                                 std::chrono::seconds(30)));
  }
  hub.stop();
  test::run("rm -rf " + dir);
}

TEST(Prometheus, PromtoolAcceptsLivePage) {
  ASSERT_EQ(test::run("command -v promtool").first, 0) << "promtool is required (Debian package prometheus)";
  const std::string dir = test::temp_dir();
  HubConfig cfg;
  cfg.api_listen = "127.0.0.1:0";
  cfg.db_path = dir + "/netscope.db";
  Hub hub(cfg);
  hub.start();
  hub.publish(test::snapshot(test::now_ns() - 1'000'000'000ull, 10));
  hub.publish(test::snapshot(test::now_ns(), 20));
  ASSERT_TRUE(hub.sync(std::chrono::seconds(5)));
  test::get(hub.bound_address(), "/api/v1/nothing");  // some rejection counts
  const auto r = test::get(hub.bound_address(), "/metrics");
  ASSERT_EQ(r.status, 200);
  {
    std::ofstream f(dir + "/metrics.txt");
    f << r.body;
  }
  const auto [code, out] = test::run("promtool check metrics < " + dir + "/metrics.txt");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "");
  hub.stop();
  test::run("rm -rf " + dir);
}

}  // namespace
}  // namespace netscope::control
