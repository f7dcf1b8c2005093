// Oracle: tshark's ESP sequence analysis (Wireshark) on a capture without reordering or
// duplicates must report, per SPI, the same number of missing packets as NetScope's `lost`.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <regex>

#include "frames.hpp"
#include "harness.hpp"

namespace netscope::itest {
namespace {

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  pclose(p);
  return out;
}

TEST(Oracle, TsharkEspMissingCountsEqualOurLost) {
  const std::string dir = temp_dir();
  // Five SAs, seeded random drops (including runs of drops), no reordering.
  std::vector<Frame> frames;
  std::uint64_t rng = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  std::map<std::uint32_t, std::uint32_t> seq;
  for (std::uint32_t spi = 0x3000; spi < 0x3005; ++spi) seq[spi] = 1 + static_cast<std::uint32_t>(next() % 500);
  for (int i = 0; i < 20000; ++i) {
    const std::uint32_t spi = 0x3000 + static_cast<std::uint32_t>(next() % 5);
    std::uint32_t& s = seq[spi];
    const auto r = next() % 1000;
    if (r < 20) s += 1 + static_cast<std::uint32_t>(next() % 5);  // drop 1..5 numbers
    frames.push_back(esp4(spi, s++));
  }
  const std::string pcap = dir + "/oracle.pcap";
  write_pcap(pcap, frames);

  const std::string out = run_capture(
      "tshark -n -r " + pcap +
      " -o esp.do_esp_sequence_analysis:TRUE -T fields -e esp.spi -e _ws.expert.message 2>/dev/null");
  ASSERT_FALSE(out.empty()) << "tshark produced nothing (is it installed?)";
  std::map<std::uint32_t, std::uint64_t> tshark_missing;
  std::size_t lines = 0;
  const std::regex missing(R"(- (\d+) missing)");
  std::size_t pos = 0;
  while (pos < out.size()) {
    const auto nl = out.find('\n', pos);
    const std::string line = out.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? out.size() : nl + 1;
    if (line.empty()) continue;
    ++lines;
    const std::uint32_t spi = static_cast<std::uint32_t>(std::stoul(line.substr(0, line.find('\t')), nullptr, 16));
    std::smatch m;
    tshark_missing[spi] += 0;
    if (std::regex_search(line, m, missing)) tshark_missing[spi] += std::stoull(m[1]);
  }
  ASSERT_EQ(lines, frames.size());

  const RunResult r = replay(dir, {pcap}, {"--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.report["sas"].size(), 5u);
  std::uint64_t total = 0;
  for (const auto& [spi, n] : tshark_missing) {
    const json sa = find_sa(r.report, {{"protocol", "esp"}, {"spi", spi}});
    ASSERT_FALSE(sa.is_null()) << spi;
    EXPECT_EQ(sa["lost"].get<std::uint64_t>(), n) << "SPI " << spi;
    EXPECT_EQ(sa["gaps"].get<std::uint64_t>() > 0, n > 0);
    total += n;
  }
  EXPECT_GT(total, 100u) << "the capture should have loss to compare";
}

}  // namespace
}  // namespace netscope::itest
