// Data-plane scaling: run-to-completion and pipeline modes, 1/2/4 workers sharing two CPUs
// (EAL --lcores mapping), SA-aware sharding, flow expiry/eviction, flow export, shutdown.
#include <gtest/gtest.h>

#include <algorithm>

#include <map>
#include <set>
#include <sstream>

#include "frames.hpp"
#include "harness.hpp"

namespace netscope::itest {
namespace {

/// A capture with generator traffic (every SA kind and anomaly) plus 200 bidirectional
/// TCP conversations.
std::string make_capture(const std::string& dir) {
  const RunResult g = run(binary("NETSCOPE_GEN_BIN"),
                          {"--", "--builtin-demo", "--seed", "5", "--count", "6000", "--pcap-out", dir + "/gen.pcap"},
                          dir);
  if (g.exit_code != 0) throw std::runtime_error("netscope-gen failed: " + g.err);
  std::vector<Frame> tcp;
  for (std::uint16_t c = 0; c < 200; ++c) {
    const std::uint16_t sport = static_cast<std::uint16_t>(30000 + c);
    tcp.push_back(tcp4(sport, 443, 0x02, false));
    tcp.push_back(tcp4(sport, 443, 0x12, true));
    for (int i = 0; i < 3; ++i) {
      tcp.push_back(tcp4(sport, 443, 0x18, false));
      tcp.push_back(tcp4(sport, 443, 0x10, true));
    }
    tcp.push_back(tcp4(sport, 443, 0x11, false));
  }
  // Same time base as the generator's capture (2024-01-01T00:00:00Z), 10 us apart.
  write_pcap(dir + "/tcp.pcap", tcp, 1'704'067'200'000'000ull, 10);
  return dir;
}

struct ModeRun {
  std::string name;
  std::vector<std::string> eal_lcores;  ///< replaces "-l 0-1"
  std::vector<std::string> extra;
};

RunResult replay_mode(const std::string& dir, const ModeRun& m, const std::vector<std::string>& app) {
  std::vector<std::string> args = {"--no-huge", "--no-pci", "-m", "512", "--file-prefix", unique_prefix(),
                                   "--log-level", "lib.eal:error"};
  args.insert(args.end(), m.eal_lcores.begin(), m.eal_lcores.end());
  args.push_back("--vdev=net_pcap0,rx_pcap=" + dir + "/gen.pcap");
  args.push_back("--vdev=net_pcap1,rx_pcap=" + dir + "/tcp.pcap");
  args.push_back("--");
  const std::string report = dir + "/report-" + m.name + ".json";
  args.insert(args.end(), {"--report-json", report, "--no-progress", "--config",
                           binary("NETSCOPE_SOURCE_ROOT") + "/config/demo.yaml"});
  args.insert(args.end(), m.extra.begin(), m.extra.end());
  args.insert(args.end(), app.begin(), app.end());
  RunResult r = run(binary("NETSCOPE_BIN"), args, dir, std::chrono::seconds(120));
  const std::string text = slurp(report);
  if (!text.empty()) r.report = json::parse(text, nullptr, false);
  return r;
}

/// SAs without the fields that legitimately depend on the lcore layout.
std::map<std::string, json> sa_map(const json& report) {
  std::map<std::string, json> m;
  for (json sa : report["sas"]) {
    const std::string id = sa["protocol"].get<std::string>() + "/" + sa.value("sci", std::string()) + "/" +
                           std::to_string(sa.value("an", 0)) + "/" + std::to_string(sa.value("spi", 0u)) + "/" +
                           sa.value("dst", std::string());
    EXPECT_EQ(m.count(id), 0u) << "SA split across workers: " << id;
    m[id] = sa;
  }
  return m;
}

std::map<std::string, json> flow_map(const json& report) {
  std::map<std::string, json> m;
  for (const json& f : report["flows"]) {
    const std::string id = f["a"].dump() + f["b"].dump() + std::to_string(f["protocol"].get<int>()) + "/" +
                           std::to_string(f["vlan"].get<int>());
    m[id] = f;
  }
  return m;
}

TEST(Scale, SameResultsWithOneTwoAndFourWorkers) {
  const std::string dir = make_capture(temp_dir());
  const std::vector<ModeRun> modes = {
      {"single", {"-l", "0"}, {}},
      {"rtc1", {"-l", "0-1"}, {"--mode", "rtc"}},
      {"pipe1", {"--lcores", "0@0,(1-2)@1"}, {"--mode", "pipeline"}},
      {"pipe2", {"--lcores", "0@0,(1-4)@1"}, {"--mode", "pipeline"}},  // 2 RX (two ports), 2 workers
      {"pipe4", {"--lcores", "0@0,(1-6)@1"}, {"--mode", "pipeline"}},  // 2 RX, 4 workers
  };
  std::vector<json> reports;
  for (const ModeRun& m : modes) {
    const RunResult r = replay_mode(dir, m, {});
    ASSERT_EQ(r.exit_code, 0) << m.name << "\n" << r.err;
    ASSERT_TRUE(r.report.is_object()) << m.name;
    EXPECT_EQ(r.report["totals"]["packets"].get<std::uint64_t>(),
              r.report["ports"][0]["capture_packets"].get<std::uint64_t>() +
                  r.report["ports"][1]["capture_packets"].get<std::uint64_t>())
        << m.name << ": every packet of the capture is counted";
    EXPECT_EQ(r.report["totals"]["wrong_lcore"], 0) << m.name;
    EXPECT_EQ(r.report["totals"]["ring_drops"], 0) << m.name;
    reports.push_back(r.report);
  }
  EXPECT_EQ(reports[3]["run"]["workers"], 2);
  EXPECT_EQ(reports[4]["run"]["workers"], 4);
  EXPECT_EQ(reports[4]["run"]["mode"], "pipeline");
  const auto base_sas = sa_map(reports[0]);
  const auto base_flows = flow_map(reports[0]);
  ASSERT_GE(base_sas.size(), 8u);
  ASSERT_GE(base_flows.size(), 200u);
  for (std::size_t i = 1; i < reports.size(); ++i) {
    const auto sas = sa_map(reports[i]);
    ASSERT_EQ(sas.size(), base_sas.size()) << modes[i].name;
    for (const auto& [id, sa] : base_sas) {
      ASSERT_TRUE(sas.count(id)) << modes[i].name << " " << id;
      json a = sa, b = sas.at(id);
      EXPECT_EQ(a, b) << modes[i].name << " " << id;
    }
    EXPECT_EQ(reports[i]["anomaly_counts"], reports[0]["anomaly_counts"]) << modes[i].name;
    const auto flows = flow_map(reports[i]);
    ASSERT_EQ(flows.size(), base_flows.size()) << modes[i].name;
    for (const auto& [id, f] : base_flows) {
      ASSERT_TRUE(flows.count(id)) << modes[i].name;
      for (const char* k : {"packets_a_to_b", "packets_b_to_a", "bytes_a_to_b", "bytes_b_to_a", "first_seen", "last_seen", "tcp_flags"}) {
        EXPECT_EQ(flows.at(id)[k], f[k]) << modes[i].name << " " << k;
      }
    }
  }
}

TEST(Scale, TcpConversationsStayOnOneWorker) {
  const std::string dir = make_capture(temp_dir());
  const RunResult r = replay_mode(dir, {"pipe4", {"--lcores", "0@0,(1-6)@1"}, {"--mode", "pipeline"}},
                                  {"--flows-out", dir + "/flows.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(slurp(dir + "/flows.jsonl"));
  std::string line;
  std::map<std::string, int> records;
  std::set<int> lcores;
  std::size_t tcp = 0;
  while (std::getline(in, line)) {
    const json f = json::parse(line);
    if (f["protocol"] != 6 || f["b"]["port"] != 443 || f["a"]["addr"] != "192.0.2.1") continue;
    ++tcp;
    records[f["a"].dump() + f["b"].dump()]++;
    lcores.insert(f["lcore"].get<int>());
    EXPECT_EQ(f["packets_a_to_b"].get<int>() + f["packets_b_to_a"].get<int>(), 9);
    EXPECT_GT(f["packets_b_to_a"].get<int>(), 0) << "both directions on one worker";
    EXPECT_GT(f["packets_a_to_b"].get<int>(), 0);
    EXPECT_EQ(f["end_reason"], "shutdown") << f.dump();
  }
  EXPECT_EQ(tcp, 200u);
  for (const auto& [k, n] : records) EXPECT_EQ(n, 1) << k;
  EXPECT_GE(lcores.size(), 2u) << "conversations spread over several workers";
}

TEST(Scale, EvictionAndExpiryExactCounts) {
  const std::string dir = temp_dir();
  // 20 UDP flows within 1 ms, then (10 s later in capture time) 5 of them again.
  std::vector<Frame> f;
  for (std::uint16_t i = 0; i < 20; ++i) f.push_back(udp4(static_cast<std::uint16_t>(1000 + i), 53));
  write_pcap(dir + "/a.pcap", f, 1'700'000'000'000'000ull, 10);
  std::vector<Frame> later;
  for (std::uint16_t i = 0; i < 5; ++i) later.push_back(udp4(static_cast<std::uint16_t>(5000 + i), 53));
  write_pcap(dir + "/b.pcap", later, 1'700'000'010'000'000ull, 10);
  // Concatenate the two: mergecap is not needed, the harness writes one file.
  std::vector<Frame> all = f;
  all.insert(all.end(), later.begin(), later.end());
  std::vector<std::uint64_t> dummy;
  {
    // Two segments with a 10 s gap: write with per-packet timestamps.
    std::ofstream o(dir + "/c.pcap", std::ios::binary);
    auto u32 = [&](std::uint32_t v) { o.write(reinterpret_cast<const char*>(&v), 4); };
    auto u16 = [&](std::uint16_t v) { o.write(reinterpret_cast<const char*>(&v), 2); };
    u32(0xa1b2c3d4); u16(2); u16(4); u32(0); u32(0); u32(65535); u32(1);
    for (std::size_t i = 0; i < all.size(); ++i) {
      const std::uint64_t t = 1'700'000'000'000'000ull + i * 10 + (i >= 20 ? 10'000'000ull : 0);
      u32(static_cast<std::uint32_t>(t / 1'000'000)); u32(static_cast<std::uint32_t>(t % 1'000'000));
      u32(static_cast<std::uint32_t>(all[i].size())); u32(static_cast<std::uint32_t>(all[i].size()));
      o.write(reinterpret_cast<const char*>(all[i].data()), static_cast<std::streamsize>(all[i].size()));
    }
  }
  const RunResult r = replay(dir, {dir + "/c.pcap"},
                             {"--max-flows", "16", "--flow-timeout", "5", "--flows-out", dir + "/f.csv",
                              "--flows-format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json& t = r.report["totals"];
  EXPECT_EQ(t["flows_created"], 25);
  EXPECT_EQ(t["flows_evicted"], 4) << "20 flows in a 16-flow table";
  EXPECT_EQ(t["flows_expired"], 16) << "the 16 left are idle 10 s > 5 s when the late packets come";
  std::istringstream in(slurp(dir + "/f.csv"));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("ip_version,protocol,vlan,addr_a,port_a", 0), 0u);
  // The column by its header name (analysis columns follow the basic ones).
  const auto split = [](const std::string& l) {
    std::vector<std::string> cols;
    std::string cell;
    std::istringstream ls(l);
    while (std::getline(ls, cell, ',')) cols.push_back(cell);
    return cols;
  };
  const std::vector<std::string> header = split(line);
  const auto it = std::find(header.begin(), header.end(), "end_reason");
  ASSERT_NE(it, header.end()) << line;
  const std::size_t col = static_cast<std::size_t>(it - header.begin());
  std::map<std::string, int> reasons;
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    const std::vector<std::string> cells = split(line);
    if (col < cells.size()) reasons[cells[col]]++;
  }
  EXPECT_EQ(rows, 25);
  EXPECT_EQ(reasons["table_full"], 4);
  EXPECT_EQ(reasons["idle_timeout"], 16);
  EXPECT_EQ(reasons["shutdown"], 5);
}

TEST(Scale, SigintInPipelineModeCountsEverything) {
  const std::string dir = make_capture(temp_dir());
  std::vector<std::string> args = {"--no-huge", "--no-pci", "-m", "512", "--file-prefix", unique_prefix(),
                                   "--lcores", "0@0,(1-4)@1", "--vdev=net_pcap0,rx_pcap=" + dir + "/gen.pcap",
                                   "--", "--mode", "pipeline", "--live", "--report-json", dir + "/r.json"};
  const RunResult r = run(binary("NETSCOPE_BIN"), args, dir, std::chrono::seconds(60), SIGINT,
                          std::chrono::milliseconds(2000), "netscope: port 0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json rep = json::parse(slurp(dir + "/r.json"));
  EXPECT_EQ(rep["run"]["stop_reason"], "signal");
  EXPECT_EQ(rep["totals"]["packets"], rep["ports"][0]["capture_packets"]);
  EXPECT_EQ(rep["ports"][0]["analyzed_packets"], rep["ports"][0]["rx_packets"]);
}

TEST(Scale, BadModeIsRejected) {
  const std::string dir = temp_dir();
  write_pcap(dir + "/a.pcap", {udp4(1, 2)});
  const RunResult r = replay(dir, {dir + "/a.pcap"}, {"--mode", "pipeline"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--mode pipeline needs at least 3 lcores"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace netscope::itest
