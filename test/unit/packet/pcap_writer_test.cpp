#include "netscope/packet/pcap_writer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace netscope::packet {
namespace {

std::string temp_path(const char* tag) {
  return std::string(::testing::TempDir()) + "netscope_pcap_" + tag + "_" +
         std::to_string(::getpid()) + ".pcap";
}

std::vector<std::uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::uint32_t u32(const std::vector<std::uint8_t>& b, std::size_t off) {
  std::uint32_t v;
  std::memcpy(&v, b.data() + off, 4);
  return v;
}
std::uint16_t u16(const std::vector<std::uint8_t>& b, std::size_t off) {
  std::uint16_t v;
  std::memcpy(&v, b.data() + off, 2);
  return v;
}

TEST(PcapWriter, MicrosecondFile) {
  const std::string path = temp_path("usec");
  {
    PcapWriter w(path);
    const std::vector<std::uint8_t> a(60, 0xaa);
    const std::vector<std::uint8_t> b(1514, 0xbb);
    w.write(a, 1'704'067'200'000'000'000ull + 1'500);  // 1.5 us after the second
    w.write(b, 1'704'067'201'999'999'999ull);
    EXPECT_EQ(w.frames(), 2u);
    w.close();
  }
  const auto f = slurp(path);
  ASSERT_EQ(f.size(), 24u + 16 + 60 + 16 + 1514);
  EXPECT_EQ(u32(f, 0), kPcapMagicMicro);
  EXPECT_EQ(u16(f, 4), 2);
  EXPECT_EQ(u16(f, 6), 4);
  EXPECT_EQ(u32(f, 16), 65535u);
  EXPECT_EQ(u32(f, 20), 1u);
  EXPECT_EQ(u32(f, 24), 1'704'067'200u);
  EXPECT_EQ(u32(f, 28), 1u);  // microseconds, truncated
  EXPECT_EQ(u32(f, 32), 60u);
  EXPECT_EQ(u32(f, 36), 60u);
  EXPECT_EQ(f[40], 0xaa);
  const std::size_t r2 = 24 + 16 + 60;
  EXPECT_EQ(u32(f, r2), 1'704'067'201u);
  EXPECT_EQ(u32(f, r2 + 4), 999'999u);
  EXPECT_EQ(u32(f, r2 + 8), 1514u);
  std::remove(path.c_str());
}

TEST(PcapWriter, NanosecondMagicAndSnaplenTruncation) {
  const std::string path = temp_path("nsec");
  {
    PcapWriter w(path, /*nanosecond=*/true, /*buffer_bytes=*/4096);  // forces several flushes
    const std::vector<std::uint8_t> big(70000, 0x11);
    w.write(big, 5'000'000'123ull);
    for (int i = 0; i < 100; ++i) w.write(std::vector<std::uint8_t>(100, 0x22), 6'000'000'000ull);
    w.close();
  }
  const auto f = slurp(path);
  EXPECT_EQ(u32(f, 0), kPcapMagicNano);
  EXPECT_EQ(u32(f, 24), 5u);
  EXPECT_EQ(u32(f, 28), 123u);
  EXPECT_EQ(u32(f, 32), 65535u);
  EXPECT_EQ(u32(f, 36), 70000u);
  EXPECT_EQ(f.size(), 24u + 16 + 65535 + 100 * (16 + 100));
  std::remove(path.c_str());
}

TEST(PcapWriter, UnwritablePathThrowsNamingIt) {
  try {
    PcapWriter w("/nonexistent-dir/x.pcap");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.pcap"), std::string::npos);
  }
}

TEST(PcapWriter, WriteErrorReportedOnClose) {
  if (::access("/dev/full", W_OK) != 0) GTEST_FAIL() << "/dev/full is needed for this test";
  PcapWriter w("/dev/full", false, 4096);
  for (int i = 0; i < 100; ++i) w.write(std::vector<std::uint8_t>(1000, 0), 0);
  EXPECT_THROW(w.close(), std::runtime_error);
}

}  // namespace
}  // namespace netscope::packet
