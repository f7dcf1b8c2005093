// The gRPC API through the real binary: netscope replays the generator's demo capture live
// with --grpc-listen; every RPC is checked against the REST API of the same process (the
// same hub state), plus streams, bidirectional filters, auth, TLS/mTLS, rate limits,
// deadlines, the standard health service and 100 concurrent streaming clients.
#include <gtest/gtest.h>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <future>
#include <sstream>
#include <map>
#include <mutex>

#include "frames.hpp"
#include "harness.hpp"
#include "netscope.grpc.pb.h"
#include "process.hpp"

namespace netscope::itest {
namespace {

namespace pb = ::netscope::v1;
using grpc::StatusCode;

/// A live netscope with REST and gRPC; `extra` adds app options.
struct Server {
  std::string dir;
  std::unique_ptr<Process> proc;
  std::string rest, grpc;

  Server(const std::vector<std::string>& eal, const std::vector<std::string>& extra,
         const std::string& config = binary("NETSCOPE_SOURCE_ROOT") + "/config/demo.yaml")
      : dir(temp_dir()) {
    std::vector<std::string> args = eal;
    args.insert(args.end(), {"--", "--live", "--config", config, "--api-listen", "127.0.0.1:0", "--no-progress",
                             "--no-report"});
    args.insert(args.end(), extra.begin(), extra.end());
    proc = std::make_unique<Process>(binary("NETSCOPE_BIN"), args, dir, "netscope");
    rest = wait_for(proc->err, std::regex(R"(API on http://([0-9.]+:[0-9]+)/)"), std::chrono::seconds(30));
    grpc = wait_for(proc->err, std::regex(R"(gRPC on ([0-9.]+:[0-9]+))"), std::chrono::seconds(30));
  }
  [[nodiscard]] std::string log() const { return slurp(proc->err); }
};

std::string make_demo_pcap(const std::string& dir) {
  const RunResult g = run(binary("NETSCOPE_GEN_BIN"), {"--", "--builtin-demo", "--seed", "3", "--pcap-out", dir + "/demo.pcap"}, dir);
  if (g.exit_code != 0) throw std::runtime_error("netscope-gen failed: " + g.err);
  return dir + "/demo.pcap";
}

/// Packets of the demo capture, and of the capture whose packet clock jumps.
constexpr std::uint64_t kDemoPackets = 20000;
constexpr std::uint64_t kLaterPackets = 10;

/// ESP packets, then, 5 s later by packet time, AH packets: the packet clock moves on and
/// the 5-tuple flows before it expire (idle timeout 1 s), so finished flows exist.
std::string make_later_pcap(const std::string& dir) {
  std::vector<Frame> frames;
  for (std::uint32_t i = 1; i <= kLaterPackets / 2; ++i) frames.push_back(esp4(0x7001, i));
  for (std::uint32_t i = 1; i <= kLaterPackets / 2; ++i) frames.push_back(ah6(0x7002, i));
  // Half a second apart: the ESP flow is idle for 2.5 s while the AH packets come.
  write_pcap(dir + "/later.pcap", frames, 1'900'000'000'000'000ull, 500'000);
  return dir + "/later.pcap";
}

std::unique_ptr<pb::NetworkTracker::Stub> stub_for(const std::string& addr) {
  return pb::NetworkTracker::NewStub(grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
}

void set_deadline(grpc::ClientContext& c, std::chrono::milliseconds d) {
  c.set_deadline(std::chrono::system_clock::now() + d);
}

/// Every anomaly REST lists, in id order (follows the cursor).
json rest_anomalies(const std::string& base) {
  json all = json::array();
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    const json j = get_json(base + "/api/v1/anomalies?limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor));
    if (!j.is_object()) throw std::runtime_error("REST anomalies failed");
    for (const auto& a : j["anomalies"]) all.push_back(a);
    if (j["next_cursor"].is_null()) break;
    cursor = j["next_cursor"].get<std::string>();
  }
  return all;
}

std::string type_name(pb::Anomaly::AnomalyType t) {
  switch (t) {
    case pb::Anomaly::GAP: return "gap";
    case pb::Anomaly::DUPLICATE: return "duplicate";
    case pb::Anomaly::REORDERED: return "reordered";
    case pb::Anomaly::OUT_OF_WINDOW: return "out_of_window";
    case pb::Anomaly::ROLLOVER: return "rollover";
    case pb::Anomaly::RESET: return "reset";
    case pb::Anomaly::REKEY: return "rekey";
    case pb::Anomaly::STUCK: return "stuck";
    default: return "?";
  }
}

/// Every stored anomaly through StreamAnomalies with stored_only: the call ends by itself.
std::vector<pb::Anomaly> read_stored_anomalies(pb::NetworkTracker::Stub& stub) {
  grpc::ClientContext ctx;
  set_deadline(ctx, std::chrono::seconds(10));
  pb::AnomalyStreamRequest req;
  req.set_after_id(0);
  req.set_stored_only(true);
  auto reader = stub.StreamAnomalies(&ctx, req);
  std::vector<pb::Anomaly> got;
  pb::Anomaly a;
  while (reader->Read(&a)) got.push_back(a);
  const grpc::Status s = reader->Finish();
  EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  return got;
}

/// The demo capture replayed once; one process shared by the tests of this suite.
class Grpc : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string gen_dir = temp_dir();
    s_ = new Server(eal_args({make_demo_pcap(gen_dir), make_later_pcap(gen_dir)}),
                    {"--grpc-listen", "127.0.0.1:0", "--flow-timeout", "1"});
    if (s_->grpc.empty()) return;
    // A stream opened while the capture is still being replayed: live and stored anomalies
    // alike must arrive, all of them, in order.
    early_ = new std::future<std::vector<pb::Anomaly>>(std::async(std::launch::async, [] {
      auto stub = stub_for(s_->grpc);
      grpc::ClientContext ctx;
      set_deadline(ctx, std::chrono::seconds(60));
      pb::AnomalyStreamRequest req;
      req.set_after_id(0);
      auto reader = stub->StreamAnomalies(&ctx, req);
      std::vector<pb::Anomaly> got;
      pb::Anomaly a;
      // Stop once nothing new came for 2 s.
      auto quiet_since = std::chrono::steady_clock::now();
      std::thread watchdog([&] {
        while (std::chrono::steady_clock::now() - quiet_since < std::chrono::seconds(2)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        ctx.TryCancel();
      });
      while (reader->Read(&a)) {
        got.push_back(a);
        quiet_since = std::chrono::steady_clock::now();
      }
      reader->Finish();
      watchdog.join();
      return got;
    }));
    // Wait until the whole capture is in a snapshot.
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < end) {
      const json cur = get_json("http://" + s_->rest + "/api/v1/stats/current");
      if (cur.is_object() && cur.value("packets", std::uint64_t{0}) >= kDemoPackets + kLaterPackets) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  static void TearDownTestSuite() {
    if (early_ != nullptr && early_->valid()) early_->wait();
    delete early_;
    if (s_ != nullptr) {
      EXPECT_EQ(s_->proc->stop(SIGINT), 0) << s_->log();
    }
    delete s_;
  }
  void SetUp() override { ASSERT_FALSE(s_->grpc.empty()) << s_->log(); }

  static std::string rest() { return "http://" + s_->rest; }
  static inline Server* s_ = nullptr;
  static inline std::future<std::vector<pb::Anomaly>>* early_ = nullptr;
};

TEST_F(Grpc, CurrentStatsEqualRestAndHealthServes) {
  auto stub = stub_for(s_->grpc);
  const json cur = get_json(rest() + "/api/v1/stats/current");
  ASSERT_TRUE(cur.is_object());
  grpc::ClientContext ctx;
  pb::Statistics st;
  ASSERT_TRUE(stub->GetCurrentStats(&ctx, {}, &st).ok());
  EXPECT_EQ(st.total_packets(), kDemoPackets + kLaterPackets);
  EXPECT_EQ(st.total_packets(), cur["packets"].get<std::uint64_t>());
  EXPECT_EQ(st.bytes_processed(), cur["bytes"].get<std::uint64_t>());
  EXPECT_EQ(st.anomalies_detected(), cur["anomalies_total"].get<std::uint64_t>());
  EXPECT_GT(st.anomalies_detected(), 0u);
  EXPECT_EQ(st.sas_active(), cur["sas_active"].get<std::uint64_t>());
  EXPECT_EQ(st.mode(), cur["mode"].get<std::string>());
  std::uint64_t sum = 0;
  for (const auto& c : st.anomaly_counts()) {
    EXPECT_EQ(c.count(), cur["anomaly_counts"][type_name(c.type())].get<std::uint64_t>()) << type_name(c.type());
    sum += c.count();
  }
  EXPECT_EQ(sum, st.anomalies_detected());
  EXPECT_NEAR(static_cast<double>(st.timestamp_ms()), cur["time"].get<double>() / 1e6, 2000.0);

  grpc::ClientContext hc;
  pb::HealthStatus h;
  ASSERT_TRUE(stub->HealthCheck(&hc, {}, &h).ok());
  EXPECT_EQ(h.status(), pb::HealthStatus::SERVING);
  EXPECT_GE(h.snapshot_age_s(), 0.0);
  EXPECT_EQ(h.database(), "disabled");

  // The standard grpc.health.v1.Health service: HealthCheckRequest{service} in, status 1
  // (SERVING) out, for the server and for our service.
  grpc::GenericStub generic(grpc::CreateChannel(s_->grpc, grpc::InsecureChannelCredentials()));
  for (const std::string service : {"", "netscope.v1.NetworkTracker"}) {
    std::string req;
    if (!service.empty()) req = std::string("\x0a", 1) + static_cast<char>(service.size()) + service;
    grpc::Slice slice(req);
    grpc::ByteBuffer in(&slice, 1), out;
    grpc::ClientContext gc;
    set_deadline(gc, std::chrono::seconds(5));
    std::promise<grpc::Status> done;
    generic.UnaryCall(&gc, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &in, &out,
                      [&](grpc::Status s) { done.set_value(s); });
    ASSERT_TRUE(done.get_future().get().ok()) << service;
    std::vector<grpc::Slice> slices;
    ASSERT_TRUE(out.Dump(&slices).ok());
    std::string body;
    for (const auto& sl : slices) body += std::string(reinterpret_cast<const char*>(sl.begin()), sl.size());
    EXPECT_EQ(body, std::string("\x08\x01", 2)) << "service '" << service << "'";
  }
}

// InspectPackets gives the packet inspector's frames as REST does: same ports, same frames,
// same bytes (REST shows them in hex). Once the replay is over the frames stay put; the
// call is retried until a refresh after the end has reached both.
TEST_F(Grpc, InspectPacketsEqualRest) {
  auto stub = stub_for(s_->grpc);
  auto hex = [](const std::string& b) {
    std::string h;
    char c[3];
    for (unsigned char x : b) {
      std::snprintf(c, sizeof c, "%02x", x);
      h += c;
    }
    return h;
  };
  bool same = false;
  pb::InspectedPackets got;
  json want;
  for (int attempt = 0; attempt < 30 && !same; ++attempt) {
    grpc::ClientContext ctx;
    set_deadline(ctx, std::chrono::seconds(10));
    got.Clear();
    ASSERT_TRUE(stub->InspectPackets(&ctx, {}, &got).ok());
    want = get_json(rest() + "/api/v1/packets/inspect");
    same = want.is_object() && want["ports"].size() == static_cast<std::size_t>(got.ports_size()) &&
           got.ports_size() == 2 && got.ports(0).packets_size() == 64 && got.ports(1).packets_size() > 0;
    for (int p = 0; same && p < got.ports_size(); ++p) {
      const json& wp = want["ports"][static_cast<std::size_t>(p)];
      same = wp["port"] == got.ports(p).port() && wp["name"] == got.ports(p).name() &&
             wp["packets"].size() == static_cast<std::size_t>(got.ports(p).packets_size());
      for (int i = 0; same && i < got.ports(p).packets_size(); ++i) {
        const pb::InspectedPacket& x = got.ports(p).packets(i);
        const json& w = wp["packets"][static_cast<std::size_t>(i)];
        same = w["timestamp"] == x.timestamp_ns() && w["packet_index"] == x.packet_index() &&
               w["length"] == x.wire_length() && w["hex"] == hex(x.data());
      }
    }
    if (!same) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  ASSERT_TRUE(same) << got.DebugString().substr(0, 600) << "\n" << want.dump().substr(0, 600);
  ASSERT_EQ(got.ports_size(), 2);
  EXPECT_EQ(got.per_port(), 64u);
  EXPECT_EQ(got.ports(0).packets_size(), 64) << "the demo capture has far more than 64 frames";
  // One port, fewer frames: the newest ones.
  grpc::ClientContext c1;
  pb::InspectRequest one;
  one.set_port(1);
  one.set_limit(3);
  pb::InspectedPackets p1;
  ASSERT_TRUE(stub->InspectPackets(&c1, one, &p1).ok());
  ASSERT_EQ(p1.ports_size(), 1);
  ASSERT_EQ(p1.ports(0).packets_size(), 3);
  EXPECT_EQ(p1.ports(0).packets(2).packet_index(), got.ports(1).packets(got.ports(1).packets_size() - 1).packet_index());
  // Errors name what is wrong.
  grpc::ClientContext c2;
  pb::InspectRequest bad;
  bad.set_port(9);
  EXPECT_EQ(stub->InspectPackets(&c2, bad, &p1).error_code(), grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext c3;
  pb::InspectRequest big;
  big.set_limit(5000);
  const grpc::Status st = stub->InspectPackets(&c3, big, &p1);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("limit"), std::string::npos);
}

TEST_F(Grpc, AnomalyStreamDeliversAllInOrderLikeRest) {
  const json rest_list = rest_anomalies(rest());
  ASSERT_GT(rest_list.size(), 0u);
  const auto check = [&](const std::vector<pb::Anomaly>& got, const char* what) {
    ASSERT_EQ(got.size(), rest_list.size()) << what;
    for (std::size_t i = 0; i < got.size(); ++i) {
      const json& r = rest_list[i];
      const pb::Anomaly& a = got[i];
      ASSERT_EQ(a.id(), r["id"].get<std::uint64_t>()) << what << " #" << i;
      EXPECT_EQ(a.anomaly_id(), std::to_string(a.id()));
      EXPECT_EQ(type_name(a.anomaly_type()), r["type"].get<std::string>()) << i;
      EXPECT_EQ(a.sa_id(), r["sa_id"].get<std::uint64_t>()) << i;
      EXPECT_EQ(a.flow_id(), "sa:" + std::to_string(a.sa_id()));
      EXPECT_EQ(a.sequence_number(), r["got"].get<std::uint64_t>()) << i;
      EXPECT_EQ(a.expected_sequence_number(), r["expected"].get<std::uint64_t>()) << i;
      EXPECT_EQ(a.packet_count(), r["count"].get<std::uint64_t>()) << i;
      EXPECT_EQ(a.timestamp_ns(), r["timestamp"].get<std::uint64_t>()) << i;
      EXPECT_EQ(a.missed(), 0u);
    }
  };
  // The stream opened during the replay, and one opened now on the stored anomalies.
  ASSERT_NE(early_, nullptr);
  check(early_->get(), "stream opened at start");
  auto stub = stub_for(s_->grpc);
  check(read_stored_anomalies(*stub), "stored anomalies, stream opened after the replay");

  // after_id and a type filter.
  grpc::ClientContext ctx;
  set_deadline(ctx, std::chrono::seconds(3));
  pb::AnomalyStreamRequest req;
  const std::uint64_t mid = rest_list[rest_list.size() / 2]["id"].get<std::uint64_t>();
  req.set_after_id(mid);
  req.add_types(pb::Anomaly::GAP);
  auto reader = stub->StreamAnomalies(&ctx, req);
  std::size_t want = 0;
  for (const auto& r : rest_list) want += r["id"].get<std::uint64_t>() > mid && r["type"] == "gap";
  std::size_t n = 0;
  pb::Anomaly a;
  while (n < want && reader->Read(&a)) {
    EXPECT_GT(a.id(), mid);
    EXPECT_EQ(a.anomaly_type(), pb::Anomaly::GAP);
    ++n;
  }
  EXPECT_EQ(n, want);
  ctx.TryCancel();
  reader->Finish();
}

TEST_F(Grpc, DeadlinesEndStreams) {
  auto stub = stub_for(s_->grpc);
  grpc::ClientContext ctx;
  set_deadline(ctx, std::chrono::milliseconds(500));
  const auto t0 = std::chrono::steady_clock::now();
  auto reader = stub->StreamAnomalies(&ctx, {});  // live only: nothing more comes
  pb::Anomaly a;
  while (reader->Read(&a)) {
  }
  const grpc::Status s = reader->Finish();
  EXPECT_EQ(s.error_code(), StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));

  // History with follow: new points keep coming until the deadline.
  grpc::ClientContext hctx;
  set_deadline(hctx, std::chrono::milliseconds(2500));
  pb::StatsHistoryRequest hreq;
  hreq.set_duration_s(5);
  hreq.set_follow(true);
  auto hist = stub->GetStatsHistory(&hctx, hreq);
  std::vector<pb::Statistics> pts;
  pb::Statistics p;
  while (hist->Read(&p)) pts.push_back(p);
  EXPECT_EQ(hist->Finish().error_code(), StatusCode::DEADLINE_EXCEEDED);
  ASSERT_GE(pts.size(), 5u + 1u) << "5 history points and a new one per snapshot";
  for (std::size_t i = 1; i < pts.size(); ++i) EXPECT_GT(pts[i].timestamp_ms(), pts[i - 1].timestamp_ms()) << i;
  EXPECT_EQ(pts.back().total_packets(), kDemoPackets + kLaterPackets);
}

TEST_F(Grpc, StatsHistoryMatchesRest) {
  auto stub = stub_for(s_->grpc);
  grpc::ClientContext ctx;
  pb::StatsHistoryRequest req;
  req.set_duration_s(60);
  req.set_interval_s(10);
  auto r = stub->GetStatsHistory(&ctx, req);
  std::vector<pb::Statistics> pts;
  pb::Statistics p;
  while (r->Read(&p)) pts.push_back(p);
  ASSERT_TRUE(r->Finish().ok());
  ASSERT_EQ(pts.size(), 6u);
  std::uint64_t packets = 0;
  for (const auto& x : pts) {
    EXPECT_EQ(x.interval_s(), 10u);
    packets += x.interval_packets();
  }
  EXPECT_EQ(pts.back().total_packets(), kDemoPackets + kLaterPackets);
  // REST over the same window counts the same packets (the capture is long replayed).
  const json h = get_json(rest() + "/api/v1/stats/history?duration=60&interval=10");
  ASSERT_TRUE(h.is_object());
  std::uint64_t rest_packets = 0;
  for (const auto& x : h["points"]) rest_packets += x["packets"].get<std::uint64_t>();
  EXPECT_EQ(packets, rest_packets);

  for (const auto& [d, i] : std::vector<std::pair<unsigned, unsigned>>{{10, 20}, {100000000, 1}}) {
    grpc::ClientContext bad;
    pb::StatsHistoryRequest b;
    b.set_duration_s(d);
    b.set_interval_s(i);
    auto br = stub->GetStatsHistory(&bad, b);
    while (br->Read(&p)) {
    }
    const grpc::Status s = br->Finish();
    EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << d << "/" << i;
    EXPECT_FALSE(s.error_message().empty());
  }
}

TEST_F(Grpc, FlowsAndSasEqualRest) {
  auto stub = stub_for(s_->grpc);
  const json sas = get_json(rest() + "/api/v1/sas?limit=10000");
  ASSERT_TRUE(sas.is_object());
  std::map<std::uint64_t, json> by_id;
  for (const auto& s : sas["sas"]) by_id[s["id"].get<std::uint64_t>()] = s;
  ASSERT_GT(by_id.size(), 0u);

  grpc::ClientContext ctx;
  pb::FlowsRequest req;
  req.set_kind(pb::FlowsRequest::SAS);
  auto r = stub->GetFlows(&ctx, req);
  std::size_t n = 0;
  pb::Flow f;
  while (r->Read(&f)) {
    ++n;
    ASSERT_TRUE(f.has_sa());
    const auto it = by_id.find(f.id());
    ASSERT_NE(it, by_id.end()) << f.flow_id();
    const json& j = it->second;
    EXPECT_EQ(f.flow_id(), "sa:" + std::to_string(f.id()));
    EXPECT_EQ(f.packet_count(), j["packets"].get<std::uint64_t>());
    EXPECT_EQ(f.bytes(), j["bytes"].get<std::uint64_t>());
    EXPECT_EQ(f.current_sequence_number(), j["highest_seq"].get<std::uint64_t>());
    EXPECT_EQ(f.sa().lost(), j["lost"].get<std::uint64_t>());
    EXPECT_EQ(f.sa().gaps(), j["gaps"].get<std::uint64_t>());
    EXPECT_EQ(f.sa().duplicates(), j["duplicates"].get<std::uint64_t>());
    EXPECT_EQ(f.sa().reordered(), j["reordered"].get<std::uint64_t>());
    EXPECT_EQ(f.sa().resets(), j["resets"].get<std::uint64_t>());
    const std::string proto = j["protocol"];
    EXPECT_EQ(f.protocol(), proto == "macsec" ? pb::Flow::MACSEC : proto == "esp" ? pb::Flow::IPSEC_ESP : pb::Flow::IPSEC_AH);
    if (proto == "macsec") EXPECT_EQ(f.source_identifier(), j["sci"].get<std::string>());
    else EXPECT_EQ(f.sa().dst(), j["dst"].get<std::string>());
  }
  ASSERT_TRUE(r->Finish().ok());
  EXPECT_EQ(n, by_id.size());

  // GetFlow of one SA equals its GetFlows message.
  const std::uint64_t one = by_id.begin()->first;
  grpc::ClientContext c1;
  pb::FlowIdRequest fr;
  fr.set_flow_id("sa:" + std::to_string(one));
  pb::Flow single;
  ASSERT_TRUE(stub->GetFlow(&c1, fr, &single).ok());
  EXPECT_EQ(single.packet_count(), by_id[one]["packets"].get<std::uint64_t>());

  // Finished 5-tuple flows (idle timeout 1 s): the GENERIC listing equals REST's.
  json flows;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < end) {
    flows = get_json(rest() + "/api/v1/flows?limit=1000");
    if (flows.is_object() && flows["total"].get<std::uint64_t>() > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  ASSERT_TRUE(flows.is_object());
  ASSERT_GT(flows["total"].get<std::uint64_t>(), 0u) << "no flow expired";
  std::map<std::uint64_t, json> fl;
  for (const auto& x : flows["flows"]) fl[x["id"].get<std::uint64_t>()] = x;
  grpc::ClientContext c2;
  req.set_kind(pb::FlowsRequest::GENERIC);
  auto r2 = stub->GetFlows(&c2, req);
  std::size_t g = 0;
  while (r2->Read(&f)) {
    ASSERT_TRUE(f.has_generic());
    EXPECT_EQ(f.protocol(), pb::Flow::GENERIC);
    const auto it = fl.find(f.id());
    if (it == fl.end()) continue;  // expired after the REST read
    ++g;
    EXPECT_EQ(f.packet_count(), it->second["packets"].get<std::uint64_t>());
    EXPECT_EQ(f.bytes(), it->second["bytes"].get<std::uint64_t>());
    EXPECT_EQ(f.generic().ip_protocol(), it->second["protocol"].get<std::uint32_t>());
    EXPECT_EQ(f.generic().end_reason(), it->second["end_reason"].get<std::string>());
  }
  ASSERT_TRUE(r2->Finish().ok());
  EXPECT_EQ(g, fl.size());
  grpc::ClientContext c3;
  fr.set_flow_id("flow:" + std::to_string(fl.begin()->first));
  ASSERT_TRUE(stub->GetFlow(&c3, fr, &single).ok());
  EXPECT_EQ(single.bytes(), fl.begin()->second["bytes"].get<std::uint64_t>());

  // Bad and unknown ids.
  for (const std::string bad : {"", "42", "sa:", "sa:abc", "sa:0", "flow:-1", "sa:9007199254740992"}) {
    grpc::ClientContext c;
    fr.set_flow_id(bad);
    const grpc::Status s = stub->GetFlow(&c, fr, &single);
    EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_NE(s.error_message().find("flow_id"), std::string::npos);
  }
  grpc::ClientContext c4;
  fr.set_flow_id("sa:12345");
  EXPECT_EQ(stub->GetFlow(&c4, fr, &single).error_code(), StatusCode::NOT_FOUND);
}

TEST_F(Grpc, UpdateConfigPauseResumeFilters) {
  auto stub = stub_for(s_->grpc);
  const auto call = [&](pb::TrackerConfig::Action a, auto&& set) {
    grpc::ClientContext c;
    pb::TrackerConfig req;
    req.set_action(a);
    set(req);
    pb::ConfigResponse resp;
    const grpc::Status s = stub->UpdateConfig(&c, req, &resp);
    return std::make_pair(s, resp);
  };
  const auto none = [](pb::TrackerConfig&) {};
  const auto paused_now = [&] {
    grpc::ClientContext c;
    pb::Statistics st;
    return stub->GetCurrentStats(&c, {}, &st).ok() && st.paused();
  };
  const auto wait_paused = [&](bool want) {
    for (int i = 0; i < 50; ++i) {
      if (paused_now() == want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  auto [s1, r1] = call(pb::TrackerConfig::PAUSE, none);
  ASSERT_TRUE(s1.ok()) << s1.error_message();
  EXPECT_TRUE(r1.accepted());
  EXPECT_TRUE(wait_paused(true));
  EXPECT_TRUE(get_json(rest() + "/api/v1/stats/current").value("paused", false));
  ASSERT_TRUE(call(pb::TrackerConfig::RESUME, none).first.ok());
  EXPECT_TRUE(wait_paused(false));

  auto [s2, r2] = call(pb::TrackerConfig::ADD_FILTER, [](pb::TrackerConfig& r) { r.set_filter_expression("udp port 4500"); });
  ASSERT_TRUE(s2.ok()) << s2.error_message();
  ASSERT_GT(r2.filter_id(), 0u);
  bool listed = false;
  const json rest_filters = get_json(rest() + "/api/v1/config/filters");
  for (const auto& f : rest_filters["filters"]) {
    listed = listed || (f["id"] == r2.filter_id() && f["expression"] == "udp port 4500");
  }
  EXPECT_TRUE(listed) << "REST does not show the filter added through gRPC: " << rest_filters.dump();
  auto [s3, r3] = call(pb::TrackerConfig::LIST_FILTERS, none);
  ASSERT_TRUE(s3.ok());
  EXPECT_FALSE(r3.accepted());
  ASSERT_GE(r3.filters_size(), 1);
  // A filter libpcap cannot compile is refused at once, as REST refuses it (bad_filter),
  // and not added.
  const auto bad_filter = call(pb::TrackerConfig::ADD_FILTER, [](pb::TrackerConfig& r) { r.set_filter_expression("udp port banana"); });
  EXPECT_EQ(bad_filter.first.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad_filter.first.error_message().find("filter_expression: filter 'udp port banana'"), std::string::npos)
      << bad_filter.first.error_message();
  EXPECT_EQ(get_json(rest() + "/api/v1/config/filters")["filters"].size(), static_cast<std::size_t>(r3.filters_size()));
  const std::uint64_t fid = r2.filter_id();
  ASSERT_TRUE(call(pb::TrackerConfig::REMOVE_FILTER, [&](pb::TrackerConfig& r) { r.set_filter_id(fid); }).first.ok());
  EXPECT_EQ(call(pb::TrackerConfig::REMOVE_FILTER, [&](pb::TrackerConfig& r) { r.set_filter_id(fid); }).first.error_code(),
            StatusCode::NOT_FOUND);

  // Field rules: added through gRPC, listed by REST and gRPC, removed once.
  auto [s4, r4] = call(pb::TrackerConfig::ADD_RULE, [](pb::TrackerConfig& r) { r.set_rule("exclude spi=0x4242"); });
  ASSERT_TRUE(s4.ok()) << s4.error_message();
  ASSERT_GT(r4.rule_id(), 0u);
  ASSERT_EQ(r4.rules_size(), 1);
  EXPECT_EQ(r4.rules(0).expression(), "exclude spi=0x4242");
  const json rest_rules = get_json(rest() + "/api/v1/config/rules");
  ASSERT_EQ(rest_rules["rules"].size(), 1u) << rest_rules.dump();
  EXPECT_EQ(rest_rules["rules"][0]["id"], r4.rule_id());
  const auto bad_rule = call(pb::TrackerConfig::ADD_RULE, [](pb::TrackerConfig& r) { r.set_rule("exclude spi=banana"); });
  EXPECT_EQ(bad_rule.first.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad_rule.first.error_message().find("rule: "), std::string::npos) << bad_rule.first.error_message();
  const std::uint64_t rid = r4.rule_id();
  ASSERT_TRUE(call(pb::TrackerConfig::REMOVE_RULE, [&](pb::TrackerConfig& r) { r.set_rule_id(rid); }).first.ok());
  EXPECT_EQ(call(pb::TrackerConfig::REMOVE_RULE, [&](pb::TrackerConfig& r) { r.set_rule_id(rid); }).first.error_code(),
            StatusCode::NOT_FOUND);
  EXPECT_TRUE(get_json(rest() + "/api/v1/config/rules")["rules"].empty());

  // Reset of a known SA is queued; unknown SAs and non-SA ids are refused.
  const json sas = get_json(rest() + "/api/v1/sas?limit=1");
  const std::string sa = "sa:" + std::to_string(sas["sas"][0]["id"].get<std::uint64_t>());
  EXPECT_TRUE(call(pb::TrackerConfig::RESET_FLOW, [&](pb::TrackerConfig& r) { r.set_flow_id(sa); }).first.ok());
  EXPECT_EQ(call(pb::TrackerConfig::RESET_FLOW, [](pb::TrackerConfig& r) { r.set_flow_id("sa:12345"); }).first.error_code(),
            StatusCode::NOT_FOUND);

  // Invalid arguments come back with a message naming the field.
  const std::vector<std::pair<pb::TrackerConfig, std::string>> bad = [] {
    std::vector<std::pair<pb::TrackerConfig, std::string>> v;
    pb::TrackerConfig t;
    v.emplace_back(t, "action");
    t.set_action(pb::TrackerConfig::ADD_FILTER);
    v.emplace_back(t, "filter_expression");
    t.set_filter_expression(std::string("udp\x01", 4));
    v.emplace_back(t, "filter_expression");
    t.set_filter_expression(std::string(2000, 'a'));
    v.emplace_back(t, "filter_expression");
    pb::TrackerConfig rm;
    rm.set_action(pb::TrackerConfig::REMOVE_FILTER);
    v.emplace_back(rm, "filter_id");
    pb::TrackerConfig rs;
    rs.set_action(pb::TrackerConfig::RESET_FLOW);
    rs.set_flow_id("flow:1");
    v.emplace_back(rs, "flow_id");
    pb::TrackerConfig unknown;
    unknown.set_action(static_cast<pb::TrackerConfig::Action>(99));
    v.emplace_back(unknown, "action");
    return v;
  }();
  for (const auto& [req, field] : bad) {
    grpc::ClientContext c;
    pb::ConfigResponse resp;
    const grpc::Status s = stub->UpdateConfig(&c, req, &resp);
    EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << req.ShortDebugString();
    EXPECT_NE(s.error_message().find(field), std::string::npos) << s.error_message();
  }
}

TEST_F(Grpc, HundredConcurrentStreamingClients) {
  const std::size_t total = rest_anomalies(rest()).size();
  ASSERT_GT(total, 0u);
  constexpr int kClients = 100;
  std::vector<std::thread> threads;
  std::vector<std::size_t> counts(kClients, 0);
  std::vector<int> in_order(kClients, 0);
  std::atomic<int> opened{0};
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      // One channel (connection) per client.
      auto stub = stub_for(s_->grpc);
      grpc::ClientContext ctx;
      set_deadline(ctx, std::chrono::seconds(60));
      pb::AnomalyStreamRequest req;
      req.set_after_id(0);
      auto reader = stub->StreamAnomalies(&ctx, req);
      opened.fetch_add(1);
      pb::Anomaly a;
      std::uint64_t last = 0;
      int ok = 1;
      while (counts[i] < total && reader->Read(&a)) {
        ok &= a.id() > last;
        last = a.id();
        ++counts[i];
      }
      // Hold the stream until every client has one open.
      while (opened.load() < kClients) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      in_order[i] = ok;
      ctx.TryCancel();
      reader->Finish();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kClients; ++i) {
    EXPECT_EQ(counts[i], total) << "client " << i;
    EXPECT_EQ(in_order[i], 1) << "client " << i;
  }
  // The server still answers, and counts no stream left behind.
  auto stub = stub_for(s_->grpc);
  pb::HealthStatus h;
  for (int i = 0; i < 50; ++i) {
    grpc::ClientContext c;
    ASSERT_TRUE(stub->HealthCheck(&c, {}, &h).ok());
    if (h.streams() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(h.streams(), 0u);
}

TEST_F(Grpc, NetscopeCtlTablesAndJson) {
  const std::string ctl = binary("NETSCOPE_CTL_BIN") + " --server " + s_->grpc + " ";
  int rc = -1;
  const std::string stats = sh(ctl + "stats", &rc);
  EXPECT_EQ(rc, 0) << stats;
  EXPECT_NE(stats.find("packets     " + std::to_string(kDemoPackets + kLaterPackets)), std::string::npos) << stats;
  const json sj = json::parse(sh(ctl + "--json stats", &rc), nullptr, false);
  ASSERT_TRUE(sj.is_object());
  EXPECT_EQ(sj["total_packets"], std::to_string(kDemoPackets + kLaterPackets));  // uint64 as a JSON string

  // One JSON line per SA / anomaly, as many as REST lists.
  const auto lines = [](const std::string& text) {
    std::vector<json> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(json::parse(l, nullptr, false));
    return out;
  };
  const json sas = get_json(rest() + "/api/v1/sas?limit=10000");
  const auto ctl_sas = lines(sh(ctl + "--json sas", &rc));
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(ctl_sas.size(), sas["sas"].size());
  const json anomalies = rest_anomalies(rest());
  const auto ctl_anomalies = lines(sh(ctl + "--json anomalies", &rc));
  EXPECT_EQ(rc, 0);
  ASSERT_EQ(ctl_anomalies.size(), anomalies.size());
  for (std::size_t i = 0; i < anomalies.size(); ++i) {
    EXPECT_EQ(ctl_anomalies[i]["id"], std::to_string(anomalies[i]["id"].get<std::uint64_t>())) << i;
  }
  const std::string table = sh(ctl + "anomalies --limit 3", &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_NE(table.find("EXPECTED"), std::string::npos) << table;
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 4) << table;

  const std::string added = sh(ctl + "filters add 'udp port 53'", &rc);
  EXPECT_EQ(rc, 0) << added;
  EXPECT_NE(added.find("udp port 53"), std::string::npos) << added;
  const std::string bad = sh(ctl + "flow nonsense 2>&1", &rc);
  EXPECT_EQ(rc, 1);
  EXPECT_NE(bad.find("INVALID_ARGUMENT: flow_id"), std::string::npos) << bad;
  EXPECT_EQ(sh(binary("NETSCOPE_CTL_BIN") + " --server 127.0.0.1:1 --timeout 2 health 2>&1", &rc).find("UNAVAILABLE") != std::string::npos, true);
  EXPECT_EQ(rc, 2);
}

/// netscope generating on a net_ring port and analyzing it: packets keep coming.
TEST(GrpcPackets, BidirectionalFilterChangesWithoutReconnecting) {
  Server s({"--no-huge", "--no-pci", "-m", "512", "--file-prefix", unique_prefix(), "-l", "0-1", "--log-level",
            "lib.eal:error", "--vdev=net_ring0"},
           {"--gen", "builtin-demo", "--tx-port", "0", "--tx-rate-pps", "5000", "--grpc-listen", "127.0.0.1:0"});
  ASSERT_FALSE(s.grpc.empty()) << s.log();
  auto stub = stub_for(s.grpc);
  grpc::ClientContext ctx;
  set_deadline(ctx, std::chrono::seconds(60));
  auto stream = stub->StreamPackets(&ctx);
  pb::PacketFilter f;
  f.set_protocol_filter(pb::PacketFilter::MACSEC);
  ASSERT_TRUE(stream->Write(f));
  std::map<std::uint32_t, std::size_t> per_filter;
  pb::PacketSummary p;
  std::uint64_t last_id = 0;
  bool sent_second = false, sent_third = false;
  std::uint64_t sa_filter = 0;
  while (per_filter[3] < 50 && stream->Read(&p)) {
    ASSERT_GT(p.id(), last_id);
    last_id = p.id();
    ++per_filter[p.filter_seq()];
    if (p.filter_seq() == 1) {
      EXPECT_EQ(p.protocol(), pb::Flow::MACSEC);
      EXPECT_EQ(p.flow_id(), "sa:" + std::to_string(std::stoull(p.flow_id().substr(3))));
      EXPECT_GT(p.packet_size(), 0u);
    } else if (p.filter_seq() == 2) {
      EXPECT_EQ(p.protocol(), pb::Flow::IPSEC_ESP);
      if (sa_filter == 0) sa_filter = std::stoull(p.flow_id().substr(3));
    } else if (p.filter_seq() == 3) {
      EXPECT_EQ(p.flow_id(), "sa:" + std::to_string(sa_filter));
    } else {
      ADD_FAILURE() << "filter_seq " << p.filter_seq();
    }
    if (per_filter[1] == 50 && !sent_second) {
      sent_second = true;
      f.set_protocol_filter(pb::PacketFilter::IPSEC_ESP);
      ASSERT_TRUE(stream->Write(f));
    }
    if (per_filter[2] == 50 && !sent_third) {
      sent_third = true;
      pb::PacketFilter g;
      g.set_flow_id_filter("sa:" + std::to_string(sa_filter));
      ASSERT_TRUE(stream->Write(g));
    }
  }
  EXPECT_GE(per_filter[1], 50u);
  EXPECT_GE(per_filter[2], 50u);
  EXPECT_GE(per_filter[3], 50u);
  // A bad filter ends the call with INVALID_ARGUMENT.
  pb::PacketFilter bad;
  bad.set_flow_id_filter("flow:1");
  stream->Write(bad);
  while (stream->Read(&p)) {
  }
  const grpc::Status st = stream->Finish();
  EXPECT_EQ(st.error_code(), StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_NE(st.error_message().find("flow_id_filter"), std::string::npos);
  EXPECT_EQ(s.proc->stop(SIGINT), 0) << s.log();
}

/// TLS with client certificates, a bearer token and a rate limit, from the YAML config.
TEST(GrpcSecurity, MutualTlsTokenAndRateLimit) {
  const std::string dir = temp_dir();
  const std::string d = dir + "/";
  int rc = -1;
  const std::string out = sh(
      "cd " + dir + " && ( "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=netscope-test-ca -keyout ca.key -out ca.pem && "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost -keyout server.key -out server.csr && "
      "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext && "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile san.ext -out server.pem && "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=client -keyout client.key -out client.csr && "
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -out client.pem && "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=rogue -keyout rogue.key -out rogue.pem"
      " ) > openssl.log 2>&1 || { cat openssl.log; false; }",
      &rc);
  ASSERT_EQ(rc, 0) << out;
  {
    std::ofstream y(d + "grpc.yaml");
    y << slurp(binary("NETSCOPE_SOURCE_ROOT") + "/config/demo.yaml") << "\ngrpc:\n  listen: 127.0.0.1:0\n  tls_certificate: " << d << "server.pem\n  tls_key: " << d
      << "server.key\n  client_ca: " << d << "ca.pem\n  token: s3cret-token\n  rate_limit: 5\n  rate_limit_burst: 5\n";
  }
  Server s(eal_args({make_demo_pcap(dir)}), {}, d + "grpc.yaml");
  ASSERT_FALSE(s.grpc.empty()) << s.log();
  EXPECT_NE(s.log().find("with TLS"), std::string::npos);
  const auto port = s.grpc.substr(s.grpc.rfind(':'));
  const auto tls_stub = [&](const std::string& cert, const std::string& key) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = slurp(d + "ca.pem");
    if (!cert.empty()) {
      o.pem_cert_chain = slurp(d + cert);
      o.pem_private_key = slurp(d + key);
    }
    return pb::NetworkTracker::NewStub(grpc::CreateChannel("localhost" + port, grpc::SslCredentials(o)));
  };
  const auto health = [&](pb::NetworkTracker::Stub& stub, const std::string& token) {
    grpc::ClientContext c;
    set_deadline(c, std::chrono::seconds(5));
    if (!token.empty()) c.AddMetadata("authorization", "Bearer " + token);
    pb::HealthStatus h;
    return stub.HealthCheck(&c, {}, &h);
  };
  auto good = tls_stub("client.pem", "client.key");
  const grpc::Status ok = health(*good, "s3cret-token");
  EXPECT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(health(*good, "").error_code(), StatusCode::UNAUTHENTICATED);
  const grpc::Status wrong = health(*good, "s3cret-tokeN");
  EXPECT_EQ(wrong.error_code(), StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(wrong.error_message(), "wrong bearer token");
  // No client certificate, one from another CA, or no TLS at all: no connection.
  auto anonymous = tls_stub("", "");
  EXPECT_EQ(health(*anonymous, "s3cret-token").error_code(), StatusCode::UNAVAILABLE);
  auto rogue = tls_stub("rogue.pem", "rogue.key");
  EXPECT_EQ(health(*rogue, "s3cret-token").error_code(), StatusCode::UNAVAILABLE);
  auto plain = stub_for(s.grpc);
  EXPECT_EQ(health(*plain, "s3cret-token").error_code(), StatusCode::UNAVAILABLE);
  // Streams check the token too.
  {
    grpc::ClientContext c;
    set_deadline(c, std::chrono::seconds(5));
    auto r = good->StreamAnomalies(&c, {});
    pb::Anomaly a;
    while (r->Read(&a)) {
    }
    EXPECT_EQ(r->Finish().error_code(), StatusCode::UNAUTHENTICATED);
  }

  // 5 calls/s with a burst of 5: a quick series runs into RESOURCE_EXHAUSTED, and after a
  // second calls go through again.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  int passed = 0, limited = 0;
  std::string limit_message;
  for (int i = 0; i < 20; ++i) {
    const grpc::Status st = health(*good, "s3cret-token");
    if (st.ok()) ++passed;
    if (st.error_code() == StatusCode::RESOURCE_EXHAUSTED) {
      ++limited;
      limit_message = st.error_message();
    }
  }
  EXPECT_GE(passed, 5);
  EXPECT_LE(passed, 8);
  EXPECT_EQ(passed + limited, 20);
  EXPECT_NE(limit_message.find("rate limit"), std::string::npos) << limit_message;
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_TRUE(health(*good, "s3cret-token").ok());
  EXPECT_EQ(s.proc->stop(SIGINT), 0) << s.log();
}

TEST(GrpcStartup, BadSettingsFailWithOneLine) {
  const std::string dir = temp_dir();
  const std::string pcap = make_demo_pcap(dir);
  // A taken port given explicitly is fatal; the implicit default only warns.
  const std::uint16_t busy_port = free_port();
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(busy_port);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  std::vector<std::string> args = eal_args({pcap});
  args.insert(args.end(), {"--", "-q", "--grpc-listen", "127.0.0.1:" + std::to_string(busy_port)});
  const RunResult r = run(binary("NETSCOPE_BIN"), args, dir);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("gRPC: cannot listen on 127.0.0.1:" + std::to_string(busy_port)), std::string::npos) << r.err;
  close(fd);

  for (const auto& [opt, msg] : std::vector<std::pair<std::string, std::string>>{
           {"localhost", "grpc.listen"}, {"127.0.0.1:70000", "grpc.listen"}}) {
    std::vector<std::string> b = eal_args({pcap});
    b.insert(b.end(), {"--", "-q", "--grpc-listen", opt});
    const RunResult x = run(binary("NETSCOPE_BIN"), b, dir);
    EXPECT_NE(x.exit_code, 0) << opt;
    EXPECT_NE(x.err.find(msg), std::string::npos) << x.err;
  }
  {
    std::ofstream y(dir + "/bad.yaml");
    y << "grpc:\n  listen: 127.0.0.1:0\n  tls_certificate: " << dir << "/missing.pem\n  tls_key: " << dir << "/missing.key\n";
  }
  std::vector<std::string> c = eal_args({pcap});
  c.insert(c.end(), {"--", "-q", "--config", dir + "/bad.yaml"});
  const RunResult x = run(binary("NETSCOPE_BIN"), c, dir);
  EXPECT_EQ(x.exit_code, 1);
  EXPECT_NE(x.err.find("grpc.tls_key: cannot read"), std::string::npos) << x.err;
}

}  // namespace
}  // namespace netscope::itest
