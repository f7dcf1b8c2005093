// pcapng blocks read back by tshark (an independent reader): interfaces with their names,
// nanosecond timestamps, captured and original lengths, comments and direction flags.
#include "netscope/packet/pcapng.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace netscope::packet {
namespace {

std::string temp_path(const char* tag) {
  return std::string(::testing::TempDir()) + "netscope_pcapng_" + tag + "_" + std::to_string(::getpid()) + ".pcapng";
}

std::string run(const std::string& cmd) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  if (!p) return {};
  std::string out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p.get())) != 0) out.append(buf.data(), n);
  return out;
}

std::vector<std::uint8_t> frame(std::size_t len, std::uint8_t seed) {
  std::vector<std::uint8_t> f(len);
  for (std::size_t i = 0; i < len; ++i) f[i] = static_cast<std::uint8_t>(seed + i);
  f[12] = 0x08;  // EtherType IPv4 (the rest is not a valid header: tshark still lists it)
  f[13] = 0x00;
  return f;
}

TEST(Pcapng, TsharkReadsInterfacesTimestampsLengthsAndComments) {
  const std::string path = temp_path("basic");
  {
    PcapngWriter w(path, "netscope test", {{"net_pcap0", "port 0", 0}, {"net_pcap1", "", 128}});
    w.write(0, 1'700'000'000'123'456'789ull, frame(60, 1), 60);
    w.write(1, 1'700'000'001'000'000'001ull, frame(61, 2), 1500, "gap: expected 10, got 12");
    w.write(0, 1'700'000'002'000'000'000ull, frame(63, 3), 63, std::string(300, 'x'));
    EXPECT_EQ(w.packets(), 3u);
    w.close();
  }
  const std::string out = run("tshark -r " + path +
                              " -T fields -E separator='|' -e frame.interface_name -e frame.time_epoch"
                              " -e frame.cap_len -e frame.len -e frame.comment -e frame.packet_flags_direction 2>/dev/null");
  std::istringstream lines(out);
  std::vector<std::string> rows;
  for (std::string l; std::getline(lines, l);) rows.push_back(l);
  ASSERT_EQ(rows.size(), 3u) << out;
  EXPECT_EQ(rows[0], "net_pcap0|1700000000.123456789|60|60||0x00000001") << out;
  EXPECT_EQ(rows[1], "net_pcap1|1700000001.000000001|61|1500|gap: expected 10, got 12|0x00000001") << out;
  EXPECT_EQ(rows[2], "net_pcap0|1700000002.000000000|63|63|" + std::string(300, 'x') + "|0x00000001") << out;
  // No expert warnings about the file structure.
  EXPECT_EQ(run("capinfos -c " + path + " 2>&1 | grep -c 'Number of packets:\\s*3'"), "1\n");
  std::remove(path.c_str());
}

TEST(Pcapng, UnwritablePathIsAClearError) {
  try {
    PcapngWriter w("/nonexistent-dir/x.pcapng", "t", {});
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.pcapng"), std::string::npos) << e.what();
  }
}

TEST(Pcapng, MemoryBlocksMatchTheFile) {
  const std::string path = temp_path("mem");
  const std::vector<std::uint8_t> f = frame(64, 9);
  {
    PcapngWriter w(path, "app", {{"p", "", 0}});
    w.write(0, 42, f, 64, "c");
    w.close();
  }
  std::string mem;
  pcapng_section(mem, "app");
  pcapng_interface(mem, {"p", "", 0});
  pcapng_packet(mem, 0, 42, f, 64, "c");
  std::FILE* in = std::fopen(path.c_str(), "rb");
  ASSERT_NE(in, nullptr);
  std::string file(mem.size() + 16, '\0');
  file.resize(std::fread(file.data(), 1, file.size(), in));
  std::fclose(in);
  EXPECT_EQ(file, mem);
  EXPECT_EQ(mem.size() % 4, 0u);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace netscope::packet
