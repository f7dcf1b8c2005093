// Bad input through the real binary: one clear line naming what to fix, non-zero exit,
// never a crash or a hang.
#include <gtest/gtest.h>

#include "frames.hpp"
#include "harness.hpp"

namespace netscope::itest {
namespace {

RunResult run_app(const std::string& dir, const std::vector<std::string>& pcaps,
                  const std::vector<std::string>& app_args) {
  std::vector<std::string> args = eal_args(pcaps);
  args.push_back("--");
  args.insert(args.end(), app_args.begin(), app_args.end());
  return run(binary("NETSCOPE_BIN"), args, dir, std::chrono::seconds(30));
}

TEST(BadInput, NotAPcapFile) {
  const std::string dir = temp_dir();
  {
    std::ofstream f(dir + "/junk.pcap");
    f << "this is not a capture file at all, just text\n";
  }
  const RunResult r = run_app(dir, {dir + "/junk.pcap"}, {});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("cannot replay '" + dir + "/junk.pcap'"), std::string::npos) << r.err;
}

TEST(BadInput, MissingCaptureFile) {
  const std::string dir = temp_dir();
  const RunResult r = run_app(dir, {dir + "/nope.pcap"}, {});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nope.pcap"), std::string::npos) << r.err;
}

TEST(BadInput, TruncatedCaptureIsReplayedUpToTheDamageWithAWarning) {
  const std::string dir = temp_dir();
  std::vector<Frame> f;
  for (std::uint32_t s = 1; s <= 10; ++s) f.push_back(esp4(0x5, s));
  write_pcap(dir + "/t.pcap", f);
  // Cut the file in the middle of the last record's data.
  const std::string data = slurp(dir + "/t.pcap");
  {
    std::ofstream o(dir + "/t.pcap", std::ios::binary | std::ios::trunc);
    o.write(data.data(), static_cast<std::streamsize>(data.size() - 20));
  }
  const RunResult r = replay(dir, {dir + "/t.pcap"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.report["totals"]["packets"], 9);
  EXPECT_NE(r.report["run"]["warning"].get<std::string>().find("damaged after 9 packets"), std::string::npos);
}

TEST(BadInput, EmptyCaptureEndsAtOnce) {
  const std::string dir = temp_dir();
  write_pcap(dir + "/e.pcap", {});
  const RunResult r = replay(dir, {dir + "/e.pcap"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.report["totals"]["packets"], 0);
  EXPECT_EQ(r.report["run"]["stop_reason"], "end_of_input");
}

TEST(BadInput, UnknownOption) {
  const std::string dir = temp_dir();
  write_pcap(dir + "/a.pcap", {esp4(1, 1)});
  const RunResult r = run_app(dir, {dir + "/a.pcap"}, {"--frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("frobnicate"), std::string::npos) << r.err;
}

TEST(BadInput, OutOfRangeWindow) {
  const std::string dir = temp_dir();
  write_pcap(dir + "/a.pcap", {esp4(1, 1)});
  const RunResult r = run_app(dir, {dir + "/a.pcap"}, {"--window", "5000"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("sequence.window"), std::string::npos) << r.err;
}

TEST(BadInput, ConfigWithUnknownKeyNamesIt) {
  const std::string dir = temp_dir();
  {
    std::ofstream c(dir + "/c.yaml");
    c << "sequence:\n  windw: 64\n";
  }
  write_pcap(dir + "/a.pcap", {esp4(1, 1)});
  const RunResult r = run_app(dir, {dir + "/a.pcap"}, {"--config", dir + "/c.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("sequence.windw: unknown key"), std::string::npos) << r.err;
}

TEST(BadInput, ConfigWithBadYaml) {
  const std::string dir = temp_dir();
  {
    std::ofstream c(dir + "/c.yaml");
    c << "sequence: [window: {\n";
  }
  write_pcap(dir + "/a.pcap", {esp4(1, 1)});
  const RunResult r = run_app(dir, {dir + "/a.pcap"}, {"--config", dir + "/c.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("YAML syntax"), std::string::npos) << r.err;
}

TEST(BadInput, BadExtendedSelector) {
  const std::string dir = temp_dir();
  write_pcap(dir + "/a.pcap", {esp4(1, 1)});
  const RunResult r = run_app(dir, {dir + "/a.pcap"}, {"--extended", "gre:5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("protocol must be macsec, esp or ah"), std::string::npos) << r.err;
}

TEST(BadInput, EalFailureIsOneClearLine) {
  const std::string dir = temp_dir();
  const RunResult r = run(binary("NETSCOPE_BIN"), {"--no-huge", "--no-pci", "--bogus-eal-flag", "--"}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("EAL initialization failed"), std::string::npos) << r.err;
}

TEST(BadInput, NoPorts) {
  const std::string dir = temp_dir();
  const RunResult r = run(binary("NETSCOPE_BIN"),
                          {"--no-huge", "--no-pci", "-m", "256", "--file-prefix", unique_prefix(), "--"}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no ports"), std::string::npos) << r.err;
}

TEST(BadInput, RandomGarbageFramesNeverCrash) {
  const std::string dir = temp_dir();
  std::vector<Frame> f;
  std::uint64_t rng = 42;
  for (int i = 0; i < 5000; ++i) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    Frame fr(1 + (rng >> 33) % 200);
    for (auto& b : fr) {
      rng = rng * 6364136223846793005ull + 1442695040888963407ull;
      b = static_cast<std::uint8_t>(rng >> 56);
    }
    // Steer some frames into the interesting EtherTypes.
    if (fr.size() > 14 && i % 3 == 0) { fr[12] = 0x88; fr[13] = 0xE5; }
    if (fr.size() > 14 && i % 3 == 1) { fr[12] = 0x08; fr[13] = 0x00; }
    f.push_back(fr);
  }
  write_pcap(dir + "/g.pcap", f);
  const RunResult r = replay(dir, {dir + "/g.pcap"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.report["totals"]["packets"], 5000);
  EXPECT_GT(r.report["totals"]["malformed"]["total"].get<int>(), 1000);
}

}  // namespace
}  // namespace netscope::itest
