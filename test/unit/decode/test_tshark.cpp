// Cross-check of the catalog frames against Wireshark's dissectors: the fields both decode
// (MACsec PN/AN, ESP and AH SPI/sequence, ports, MSS) must agree, and a header one finds
// the other must find too. Skipped when tshark is not installed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "frame_catalog.hpp"

namespace netscope::decode {
namespace {

using namespace test_frames;  // NOLINT(google-build-using-namespace)

void put_le32(std::ofstream& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 24)};
  out.write(b, 4);
}

void put_le16(std::ofstream& out, std::uint16_t v) {
  const char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  out.write(b, 2);
}

/// Classic pcap, microsecond timestamps, LINKTYPE_ETHERNET.
void write_pcap(const std::string& path, const std::vector<CatalogFrame>& frames) {
  std::ofstream out(path, std::ios::binary);
  put_le32(out, 0xA1B2C3D4);
  put_le16(out, 2);
  put_le16(out, 4);
  put_le32(out, 0);
  put_le32(out, 0);
  put_le32(out, 65535);
  put_le32(out, 1);
  std::uint32_t t = 1;
  for (const CatalogFrame& f : frames) {
    put_le32(out, t++);
    put_le32(out, 0);
    put_le32(out, static_cast<std::uint32_t>(f.bytes.size()));
    put_le32(out, static_cast<std::uint32_t>(f.bytes.size()));
    out.write(reinterpret_cast<const char*>(f.bytes.data()),
              static_cast<std::streamsize>(f.bytes.size()));
  }
}

const char* const kFields[] = {
    "macsec.PN",          "macsec.AN",   "esp.spi",     "esp.sequence", "ah.spi",
    "ah.sequence",        "tcp.srcport", "tcp.dstport", "udp.srcport",  "udp.dstport",
    "tcp.options.mss_val"};
constexpr std::size_t kFieldCount = std::size(kFields);

std::vector<std::vector<std::string>> run_tshark(const std::string& pcap) {
  // Without reassembly Wireshark dissects a first fragment like we do.
  std::string cmd = "tshark -n -o ip.defragment:FALSE -o ipv6.defragment:FALSE -r '" + pcap +
                    "' -T fields -E separator=/t -E occurrence=f";
  for (const char* f : kFields) cmd += std::string(" -e ") + f;
  cmd += " 2>/dev/null";
  std::vector<std::vector<std::string>> rows;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return rows;
  std::string out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  pclose(pipe);
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> cols;
    std::size_t start = 0;
    for (;;) {
      const std::size_t tab = line.find('\t', start);
      cols.push_back(
          line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    cols.resize(kFieldCount);
    rows.push_back(cols);
  }
  return rows;
}

/// "" when absent; tshark prints hex fields with 0x, which strtoull(.., 0) reads.
std::string field(std::uint64_t v, bool present) { return present ? std::to_string(v) : ""; }
std::string normalize(const std::string& s) {
  return s.empty() ? s : std::to_string(std::strtoull(s.c_str(), nullptr, 0));
}

TEST(Tshark, CatalogAgreesWithWireshark) {
  if (std::system("command -v tshark >/dev/null 2>&1") != 0) GTEST_SKIP() << "tshark not installed";
  const auto catalog = frame_catalog();
  const std::string pcap =
      ::testing::TempDir() + "netscope_decode_" + std::to_string(getpid()) + ".pcap";
  write_pcap(pcap, catalog);
  const auto rows = run_tshark(pcap);
  std::remove(pcap.c_str());
  ASSERT_EQ(rows.size(), catalog.size());

  for (std::size_t i = 0; i < catalog.size(); ++i) {
    const CatalogFrame& f = catalog[i];
    DecodedPacket p;
    decode_frame(span(f.bytes), p);
    ASSERT_EQ(p.malformed, Malformed::none) << f.name;
    const bool tcp = p.has(kLayerTcp);
    const bool udp = p.has(kLayerUdp);
    const std::string ours[kFieldCount] = {
        field(p.sectag.pn, p.has(kLayerMacsec)),
        field(p.sectag.an, p.has(kLayerMacsec)),
        field(p.esp.spi, p.has(kLayerEsp)),
        field(p.esp.seq, p.has(kLayerEsp)),
        field(p.ah.spi, p.has(kLayerAh)),
        field(p.ah.seq, p.has(kLayerAh)),
        field(p.tcp.src_port, tcp),
        field(p.tcp.dst_port, tcp),
        field(p.udp.src_port, udp),
        field(p.udp.dst_port, udp),
        field(p.tcp.options.mss, tcp && p.tcp.options.mss != 0),
    };
    for (std::size_t k = 0; k < kFieldCount; ++k) {
      EXPECT_EQ(ours[k], normalize(rows[i][k])) << f.name << " " << kFields[k];
    }
  }
}

}  // namespace
}  // namespace netscope::decode
