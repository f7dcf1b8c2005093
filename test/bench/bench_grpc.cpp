// gRPC versus REST on one live netscope (docs/performance.md "gRPC API"). Not a test:
// prints unary latency percentiles (gRPC GetCurrentStats vs REST GET stats/current over a
// keep-alive connection), StreamAnomalies messages/s on one connection over a store of
// 100k anomalies, StreamPackets messages/s, and bytes per message (protobuf vs the REST
// JSON of the same anomaly).
// Usage: bench_grpc [calls]   (NETSCOPE_BIN, NETSCOPE_SOURCE_ROOT as for the tests)
#include <grpcpp/grpcpp.h>
#include <netdb.h>

#include <algorithm>
#include <cstdio>

#include "../integration/frames.hpp"
#include "../integration/harness.hpp"
#include "../integration/process.hpp"
#include "netscope.grpc.pb.h"

namespace {

using namespace netscope::itest;
namespace pb = ::netscope::v1;
using Clock = std::chrono::steady_clock;

double us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

void percentiles(const char* what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))]; };
  std::printf("%-34s n=%zu  p50 %.1f us  p99 %.1f us  max %.1f us\n", what, v.size(), at(0.5), at(0.99), v.back());
}

/// A minimal HTTP/1.1 keep-alive client: GET, read headers, read Content-Length bytes.
class Http {
 public:
  explicit Http(const std::string& addr) {
    const auto colon = addr.rfind(':');
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(addr.substr(colon + 1))));
    inet_pton(AF_INET, addr.substr(0, colon).c_str(), &a.sin_addr);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect");
  }
  ~Http() { close(fd_); }
  std::string get(const std::string& path) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n";
    if (write(fd_, req.data(), req.size()) != static_cast<ssize_t>(req.size())) throw std::runtime_error("write");
    std::string buf;
    char tmp[65536];
    std::size_t body_at = std::string::npos, length = 0;
    for (;;) {
      const ssize_t n = read(fd_, tmp, sizeof tmp);
      if (n <= 0) throw std::runtime_error("read");
      buf.append(tmp, static_cast<std::size_t>(n));
      if (body_at == std::string::npos) {
        const auto end = buf.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        body_at = end + 4;
        auto cl = buf.find("Content-Length: ");
        if (cl == std::string::npos) cl = buf.find("content-length: ");
        length = std::stoul(buf.substr(cl + 16));
      }
      if (buf.size() >= body_at + length) return buf.substr(body_at, length);
    }
  }

 private:
  int fd_ = -1;
};

}  // namespace

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 5000;
  const std::string dir = temp_dir();
  // 100k gap anomalies: ESP numbers 1, 3, 5, ... on 100 SAs.
  std::vector<Frame> frames;
  for (std::uint32_t i = 0; i < 100'000; ++i) frames.push_back(esp4(0x1000 + i % 100, 1 + 2 * (i / 100 + 1)));
  write_pcap(dir + "/gaps.pcap", frames);
  std::vector<std::string> args = eal_args({dir + "/gaps.pcap"});
  args.insert(args.end(), {"--", "--live", "--max-anomalies", "200000", "--max-events", "200000", "--api-listen",
                           "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", "--no-progress", "--no-report"});
  Process ns(binary("NETSCOPE_BIN"), args, dir, "netscope");
  const std::string rest = wait_for(ns.err, std::regex(R"(API on http://([0-9.]+:[0-9]+)/)"), std::chrono::seconds(30));
  const std::string addr = wait_for(ns.err, std::regex(R"(gRPC on ([0-9.]+:[0-9]+))"), std::chrono::seconds(30));
  if (addr.empty()) {
    std::fprintf(stderr, "netscope did not start:\n%s\n", slurp(ns.err).c_str());
    return 1;
  }
  auto stub = pb::NetworkTracker::NewStub(grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
  std::uint64_t stored = 0;
  for (int i = 0; i < 300 && stored < 100'000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    grpc::ClientContext c;
    pb::Statistics s;
    if (stub->GetCurrentStats(&c, {}, &s).ok()) stored = s.anomalies_detected();
  }
  std::printf("anomalies in the store: %llu\n", static_cast<unsigned long long>(stored));

  // Unary latency, one connection each, after a warm-up.
  std::vector<double> g, r;
  pb::Statistics st;
  for (int i = 0; i < calls + 100; ++i) {
    grpc::ClientContext c;
    const auto t0 = Clock::now();
    if (!stub->GetCurrentStats(&c, {}, &st).ok()) return 1;
    if (i >= 100) g.push_back(us(Clock::now() - t0));
  }
  Http http(rest);
  std::size_t rest_stats_bytes = 0;
  for (int i = 0; i < calls + 100; ++i) {
    const auto t0 = Clock::now();
    rest_stats_bytes = http.get("/api/v1/stats/current").size();
    if (i >= 100) r.push_back(us(Clock::now() - t0));
  }
  percentiles("gRPC GetCurrentStats", g);
  percentiles("REST GET /api/v1/stats/current", r);
  std::printf("stats message: protobuf %zu bytes, REST JSON %zu bytes\n", st.ByteSizeLong(), rest_stats_bytes);

  // StreamAnomalies: every stored anomaly on one connection.
  for (int round = 0; round < 3; ++round) {
    grpc::ClientContext c;
    pb::AnomalyStreamRequest req;
    req.set_after_id(0);
    req.set_stored_only(true);
    const auto t0 = Clock::now();
    auto rd = stub->StreamAnomalies(&c, req);
    pb::Anomaly a;
    std::uint64_t n = 0, bytes = 0;
    while (rd->Read(&a)) {
      ++n;
      bytes += a.ByteSizeLong();
    }
    rd->Finish();
    const double s = us(Clock::now() - t0) / 1e6;
    std::printf("StreamAnomalies: %llu messages in %.3f s = %.0f msg/s, %.1f bytes/message (protobuf)\n",
                static_cast<unsigned long long>(n), s, static_cast<double>(n) / s,
                static_cast<double>(bytes) / static_cast<double>(std::max<std::uint64_t>(n, 1)));
  }
  const std::string page = http.get("/api/v1/anomalies?limit=1000");
  const json pj = json::parse(page);
  std::size_t item_bytes = 0;
  for (const auto& a : pj["anomalies"]) item_bytes += a.dump().size();
  std::printf("REST anomaly JSON: %.1f bytes/anomaly (items only), %.1f with the page envelope\n",
              static_cast<double>(item_bytes) / static_cast<double>(pj["anomalies"].size()),
              static_cast<double>(page.size()) / static_cast<double>(pj["anomalies"].size()));
  const auto t0 = Clock::now();
  std::size_t rest_n = 0;
  std::string cursor;
  for (;;) {
    const json j = json::parse(http.get("/api/v1/anomalies?limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor)));
    rest_n += j["anomalies"].size();
    if (j["next_cursor"].is_null()) break;
    cursor = j["next_cursor"].get<std::string>();
  }
  const double rs = us(Clock::now() - t0) / 1e6;
  std::printf("REST anomalies, pages of 1000: %zu in %.3f s = %.0f anomalies/s\n", rest_n, rs, static_cast<double>(rest_n) / rs);
  ns.stop(SIGINT);

  // StreamPackets: the generator at full speed into the analyzer of the same process.
  std::vector<std::string> gargs = {"--no-huge", "--no-pci", "-m", "1024", "--file-prefix", unique_prefix(),
                                    "-l", "0-1", "--log-level", "lib.eal:error", "--vdev=net_ring0", "--",
                                    "--live", "--gen", "builtin-demo", "--tx-port", "0", "--config",
                                    binary("NETSCOPE_SOURCE_ROOT") + "/config/demo.yaml", "--api-listen",
                                    "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", "--no-progress", "--no-report"};
  Process gen(binary("NETSCOPE_BIN"), gargs, dir, "netscope-gen");
  const std::string gaddr = wait_for(gen.err, std::regex(R"(gRPC on ([0-9.]+:[0-9]+))"), std::chrono::seconds(30));
  auto gstub = pb::NetworkTracker::NewStub(grpc::CreateChannel(gaddr, grpc::InsecureChannelCredentials()));
  {
    grpc::ClientContext c;
    auto rw = gstub->StreamPackets(&c);
    rw->Write(pb::PacketFilter());
    pb::PacketSummary p;
    std::uint64_t n = 0, bytes = 0, missed = 0;
    auto t1 = Clock::now();
    const auto end = t1 + std::chrono::seconds(5);
    while (Clock::now() < end && rw->Read(&p)) {
      ++n;
      bytes += p.ByteSizeLong();
      missed += p.missed();
    }
    const double s = us(Clock::now() - t1) / 1e6;
    c.TryCancel();
    rw->Finish();
    std::printf("StreamPackets: %llu messages in %.2f s = %.0f msg/s, %.1f bytes/message, %llu missed\n",
                static_cast<unsigned long long>(n), s, static_cast<double>(n) / s,
                static_cast<double>(bytes) / static_cast<double>(std::max<std::uint64_t>(n, 1)),
                static_cast<unsigned long long>(missed));
  }
  gen.stop(SIGINT);
  return 0;
}
