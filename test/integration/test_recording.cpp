// Recording and the packet inspector through the real binary (docs/recording.md):
// anomaly frames with their context and comments, the recording filter against tcpdump,
// malformed frames, rotation and the disk cap from the config, clear errors for bad
// settings, and GET /api/v1/packets/inspect (JSON and pcapng) on a live run. Every file
// is read back by tshark or tcpdump.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "frames.hpp"
#include "harness.hpp"
#include "process.hpp"

namespace netscope::itest {
namespace {

std::vector<Frame> esp_run(std::uint32_t spi, std::uint32_t first, std::uint32_t last,
                           const std::vector<std::uint32_t>& missing = {}) {
  std::vector<Frame> f;
  for (std::uint32_t s = first; s <= last; ++s) {
    if (std::find(missing.begin(), missing.end(), s) == missing.end()) f.push_back(esp4(spi, s));
  }
  return f;
}

std::vector<std::string> pcapng_files(const std::string& dir) {
  std::vector<std::string> out;
  if (!std::filesystem::is_directory(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".pcapng") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

/// tshark fields of every frame in `files`, one line per frame, fields joined by '|'.
std::vector<std::string> tshark_fields(const std::vector<std::string>& files, const std::vector<std::string>& fields) {
  std::vector<std::string> out;
  for (const std::string& f : files) {
    std::string cmd = "tshark -r '" + f + "' -T fields -E separator='|'";
    for (const std::string& x : fields) cmd += " -e " + x;
    const auto got = lines(sh(cmd + " 2>/dev/null"));
    out.insert(out.end(), got.begin(), got.end());
  }
  return out;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

/// replay() on one lcore ("single") or three lcores on the two CPUs ("pipeline": control,
/// RX lcore, worker lcore).
RunResult replay_as(const std::string& dir, const std::vector<std::string>& pcaps, std::vector<std::string> app_args,
                    const std::string& how) {
  if (how == "single") return replay(dir, pcaps, std::move(app_args), "0");
  std::vector<std::string> args = eal_args(pcaps, "0");
  const auto l = std::find(args.begin(), args.end(), "-l");
  *l = "--lcores";
  *(l + 1) = "0@0,1@1,2@1";
  args.insert(args.end(), {"--", "--report-json", dir + "/report.json"});
  args.insert(args.end(), app_args.begin(), app_args.end());
  RunResult r = run(binary("NETSCOPE_BIN"), args, dir);
  const std::string text = slurp(dir + "/report.json");
  if (!text.empty()) r.report = json::parse(text, nullptr, false);
  return r;
}

std::size_t frame_count(const std::string& file) {
  return lines(sh("tshark -r '" + file + "' -T fields -e frame.number 2>/dev/null")).size();
}

class AnomalyRecording : public ::testing::TestWithParam<const char*> {};

// Two gaps in one SA; 3 frames recorded before each and 2 after, with the input's own
// timestamps; the frame that raised a gap says so in its comment. Single lcore (the
// control lcore drains between bursts) and pipeline (RX lcore, worker lcore).
TEST_P(AnomalyRecording, FramesWithContextAndComments) {
  const std::string dir = temp_dir();
  write_pcap(dir + "/esp.pcap", esp_run(0x77, 1, 300, {100, 200, 201}));
  write_file(dir + "/cfg.yaml", "recording:\n  dir: " + dir + "/rec\n  anomalies: true\n  context_before: 3\n"
                                "  context_after: 2\n");
  const RunResult r = replay_as(dir, {dir + "/esp.pcap"}, {"--config", dir + "/cfg.yaml", "-q"}, GetParam());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> files = pcapng_files(dir + "/rec");
  ASSERT_EQ(files.size(), 1u);
  const auto rows = tshark_fields(files, {"esp.sequence", "frame.time_epoch", "frame.comment", "frame.interface_name"});
  std::vector<std::string> seqs;
  for (const std::string& row : rows) seqs.push_back(row.substr(0, row.find('|')));
  EXPECT_EQ(seqs, (std::vector<std::string>{"97", "98", "99", "101", "102", "103", "197", "198", "199", "202", "203",
                                            "204"}));
  ASSERT_EQ(rows.size(), 12u);
  // Frame with ESP sequence 101 is the input's 100th (index 99): stamped start + 99 x 10 us.
  EXPECT_EQ(rows[3], "101|1700000000.000990000|netscope gap: expected 100, got 101; SA esp spi=0x00000077 "
                     "dst=198.51.100.2; port 0 packet 99|net_pcap0");
  EXPECT_EQ(rows[9], "202|1700000000.001980000|netscope gap: expected 200, got 202; SA esp spi=0x00000077 "
                     "dst=198.51.100.2; port 0 packet 198|net_pcap0");
  EXPECT_EQ(rows[0], "97|1700000000.000960000|netscope context; port 0 packet 96|net_pcap0");
  const json rec = r.report["recording"];
  ASSERT_TRUE(rec.is_object()) << r.report.dump().substr(0, 300);
  EXPECT_EQ(rec["frames"], 12);
  EXPECT_EQ(rec["by_reason"]["anomaly"], 2);
  EXPECT_EQ(rec["by_reason"]["context"], 10);
  EXPECT_EQ(rec["dropped"], 0);
  EXPECT_EQ(rec["files"], json(files));
  EXPECT_NE(r.out.find("Recording: 12 frames in 1 file(s)"), std::string::npos) << r.out;
  // The report with its recording section follows docs/report-schema.json.
  EXPECT_EQ(report_schema_errors(dir + "/report.json"), "");
}

INSTANTIATE_TEST_SUITE_P(Lcores, AnomalyRecording, ::testing::Values("single", "pipeline"));

const std::string& demo_pcap() {
  static const std::string path = [] {
    const std::string dir = temp_dir();
    const RunResult g = run(binary("NETSCOPE_GEN_BIN"),
                            {"--", "--builtin-demo", "--seed", "5", "--count", "4000", "--pcap-out", dir + "/demo.pcap"},
                            dir);
    if (g.exit_code != 0) throw std::runtime_error("netscope-gen failed: " + g.err);
    return dir + "/demo.pcap";
  }();
  return path;
}

// The recording filter keeps exactly what tcpdump's same expression selects, in order and
// byte for byte (tcpdump prints each frame's decode and hex).
TEST(Recording, FilterMatchesTcpdump) {
  for (const char* lcores : {"single", "pipeline"}) {
    const std::string dir = temp_dir();
    const std::string expr = "esp or (udp and port 4500)";
    const RunResult r = replay_as(dir, {demo_pcap()}, {"--record-dir", dir + "/rec", "--record-filter", expr, "-q"}, lcores);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<std::string> files = pcapng_files(dir + "/rec");
    ASSERT_EQ(files.size(), 1u);
    const std::string want = sh("tcpdump -nn -t -x -r " + demo_pcap() + " '" + expr + "' 2>/dev/null");
    const std::string got = sh("tcpdump -nn -t -x -r " + files[0] + " 2>/dev/null");
    const std::size_t frames = std::stoul(sh("tcpdump -nn -r " + demo_pcap() + " '" + expr + "' 2>/dev/null | wc -l"));
    ASSERT_GT(frames, 100u);
    EXPECT_EQ(r.report["recording"]["by_reason"]["filter"], frames) << lcores;
    EXPECT_TRUE(got == want) << lcores << ": recorded frames differ from tcpdump's selection";
  }
}

// Size rotation and the total cap, set in the config file: the newest files stay, the
// report lists exactly the files on disk, and their sum stays under the cap.
TEST(Recording, RotationAndCapFromConfig) {
  const std::string dir = temp_dir();
  write_file(dir + "/cfg.yaml", "recording:\n  dir: " + dir + "/rec\n  filter: 'ip or ip6 or not ip'\n"
                                "  file_size: 64K\n  max_total: 256K\n  prefix: cap\n");
  const RunResult r = replay(dir, {demo_pcap()}, {"--config", dir + "/cfg.yaml", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> files = pcapng_files(dir + "/rec");
  ASSERT_GE(files.size(), 3u);
  std::uint64_t total = 0;
  for (const std::string& f : files) {
    total += std::filesystem::file_size(f);
    EXPECT_EQ(std::filesystem::path(f).filename().string().rfind("cap-", 0), 0u) << f;
  }
  EXPECT_LE(total, 256u * 1024);
  const json rec = r.report["recording"];
  EXPECT_EQ(rec["files"], json(files));
  EXPECT_GT(rec["files_deleted"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(rec["by_reason"]["filter"], 4000);
  // The files that are left hold the end of the input, without a hole.
  std::size_t kept = 0;
  for (const std::string& f : files) kept += frame_count(f);
  const std::string last_in = lines(sh("tcpdump -nn -t -x -c 4000 -r " + demo_pcap() + " 2>/dev/null | tail -8")).back();
  const std::string last_out = lines(sh("tcpdump -nn -t -x -r " + files.back() + " 2>/dev/null | tail -8")).back();
  EXPECT_EQ(last_out, last_in);
  EXPECT_GT(kept, 100u);
  EXPECT_LT(kept, 4000u);
}

// Frames that fail to decode are recorded when asked, one per malformed count.
TEST(Recording, MalformedFrames) {
  const std::string dir = temp_dir();
  std::vector<Frame> frames = esp_run(0x10, 1, 50);
  for (int i = 0; i < 7; ++i) {
    Frame cut = esp4(0x10, 51 + i);
    cut.resize(14 + 12);  // IPv4 header cut short
    frames.insert(frames.begin() + 5 * i, cut);
  }
  write_pcap(dir + "/bad.pcap", frames);
  const RunResult r = replay(dir, {dir + "/bad.pcap"}, {"--record-dir", dir + "/rec", "--record-malformed", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.report["totals"]["malformed"]["total"], 7);
  EXPECT_EQ(r.report["recording"]["by_reason"]["malformed"], 7);
  const auto rows = tshark_fields(pcapng_files(dir + "/rec"), {"frame.len", "frame.comment"});
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[0].substr(0, 3), "26|");
  EXPECT_NE(rows[0].find("netscope malformed: "), std::string::npos) << rows[0];
}

TEST(Recording, BadSettingsAreClearErrors) {
  const std::string dir = temp_dir();
  write_pcap(dir + "/esp.pcap", esp_run(0x10, 1, 5));
  RunResult r = replay(dir, {dir + "/esp.pcap"}, {"--record-anomalies"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("recording.dir: needed to record"), std::string::npos) << r.err;
  r = replay(dir, {dir + "/esp.pcap"}, {"--record-dir", "/proc/no/such", "--record-anomalies"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot create directory '/proc/no/such'"), std::string::npos) << r.err;
  r = replay(dir, {dir + "/esp.pcap"}, {"--record-dir", dir + "/rec", "--record-filter", "esp and and"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("recording.filter"), std::string::npos) << r.err;
  r = replay(dir, {dir + "/esp.pcap"}, {"--record-dir", dir + "/rec"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nothing to record"), std::string::npos) << r.err;
  write_file(dir + "/cfg.yaml", "recording:\n  dir: x\n  anomalies: true\n  max_total: 12Q\n");
  r = replay(dir, {dir + "/esp.pcap"}, {"--config", dir + "/cfg.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("recording.max_total: unknown unit 'Q'"), std::string::npos) << r.err;
}

// GET /api/v1/packets/inspect: each port's last frames, decoded and in hex, or as pcapng;
// the recording metrics on /metrics pass promtool.
TEST(Inspector, LastFramesPerPortOverRest) {
  const std::string dir = temp_dir();
  write_pcap(dir + "/esp.pcap", esp_run(0x77, 1, 300, {150}));
  std::vector<Frame> udp;
  for (int i = 0; i < 40; ++i) udp.push_back(udp4(static_cast<std::uint16_t>(1000 + i), 53));
  write_pcap(dir + "/udp.pcap", udp);
  write_file(dir + "/cfg.yaml", "inspector:\n  packets: 8\n  snaplen: 48\n  refresh: 0.2\n"
                                "recording:\n  dir: " + dir + "/rec\n  anomalies: true\n");
  std::vector<std::string> args = eal_args({dir + "/esp.pcap", dir + "/udp.pcap"});
  args.insert(args.end(), {"--", "--live", "--config", dir + "/cfg.yaml", "--api-listen", "127.0.0.1:0",
                           "--grpc-listen", "off"});
  Process ns(binary("NETSCOPE_BIN"), args, dir, "netscope");
  const std::string addr = wait_for(ns.err, std::regex(R"(API on http://([0-9.]+:[0-9]+)/)"), std::chrono::seconds(20));
  ASSERT_FALSE(addr.empty()) << slurp(ns.err);
  const std::string base = "http://" + addr;
  json v;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < end) {
    v = get_json(base + "/api/v1/packets/inspect");
    if (v.is_object() && v["ports"].size() == 2 && v["ports"][0]["packets"].size() == 8 &&
        v["ports"][0]["packets"][7].value("seq", 0) == 300 && v["ports"][1]["packets"].size() == 8) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(v.is_object()) << slurp(ns.err);
  ASSERT_EQ(v["ports"].size(), 2u) << v.dump().substr(0, 400);
  EXPECT_EQ(v["per_port"], 8);
  EXPECT_EQ(v["snaplen"], 48);
  const json& esp = v["ports"][0]["packets"];
  ASSERT_EQ(esp.size(), 8u) << v.dump().substr(0, 400);
  for (std::size_t i = 0; i < 8; ++i) {
    const json& p = esp[i];
    EXPECT_EQ(p["seq"], 293 + i);
    EXPECT_EQ(p["class"], "esp");
    EXPECT_EQ(p["sa"]["spi"], 0x77);
    EXPECT_EQ(p["packet_index"], 292 + i - 1) << "one frame (150) is missing from the input";
    const Frame f = esp4(0x77, static_cast<std::uint32_t>(293 + i));
    EXPECT_EQ(p["length"], f.size());
    EXPECT_EQ(p["captured"], 48);
    std::string hex;
    for (std::size_t k = 0; k < 48; ++k) {
      char b[3];
      std::snprintf(b, sizeof b, "%02x", f[k]);
      hex += b;
    }
    EXPECT_EQ(p["hex"], hex);
    EXPECT_FALSE(p.contains("malformed")) << "a frame cut by the snap length is not malformed";
  }
  const json& u = v["ports"][1]["packets"];
  ASSERT_EQ(u.size(), 8u);
  EXPECT_EQ(u[0]["flow"]["src_port"], 1032);
  EXPECT_EQ(u[7]["flow"]["src_port"], 1039);
  EXPECT_EQ(v["ports"][1]["name"], "net_pcap1");
  // One port, fewer frames; pcapng for Wireshark.
  const json one = get_json(base + "/api/v1/packets/inspect?port=1&limit=3");
  ASSERT_EQ(one["ports"].size(), 1u);
  EXPECT_EQ(one["ports"][0]["packets"].size(), 3u);
  EXPECT_EQ(one["ports"][0]["packets"][0]["flow"]["src_port"], 1037);
  sh("curl -s -m 5 -o " + dir + "/inspect.pcapng '" + base + "/api/v1/packets/inspect?format=pcapng'");
  const auto rows = tshark_fields({dir + "/inspect.pcapng"}, {"frame.interface_name", "frame.len", "frame.cap_len"});
  ASSERT_EQ(rows.size(), 16u);
  EXPECT_EQ(rows[0], "net_pcap0|" + std::to_string(esp4(0x77, 1).size()) + "|48");
  EXPECT_EQ(rows[8], "net_pcap1|" + std::to_string(udp[32].size()) + "|48");
  EXPECT_EQ(sh("curl -s -o /dev/null -w '%{http_code}' -m 5 '" + base + "/api/v1/packets/inspect?port=9'"), "404");
  EXPECT_EQ(sh("curl -s -o /dev/null -w '%{http_code}' -m 5 '" + base + "/api/v1/packets/inspect?format=bogus'"), "400");
  EXPECT_EQ(sh("curl -s -o /dev/null -w '%{http_code}' -m 5 '" + base + "/api/v1/packets/inspect?limit=0'"), "400");
  // Recording metrics (the gap at 150 and its context).
  const std::string metrics = sh("curl -s -m 5 " + base + "/metrics");
  EXPECT_NE(metrics.find("netscope_recording_frames_total{reason=\"anomaly\"} 1"), std::string::npos) << metrics.substr(0, 200);
  write_file(dir + "/metrics.txt", metrics);
  int rc = -1;
  const std::string check = sh("promtool check metrics < " + dir + "/metrics.txt 2>&1", &rc);
  EXPECT_EQ(rc, 0) << check;
  EXPECT_EQ(ns.stop(SIGINT), 0);
  const auto rec = tshark_fields(pcapng_files(dir + "/rec"), {"esp.sequence"});
  EXPECT_EQ(rec.size(), 17u) << "8 before, the gap, 8 after";
}

}  // namespace
}  // namespace netscope::itest
