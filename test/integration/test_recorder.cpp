// The pcapng recorder (src/runtime/recorder.hpp): netscope-gen's demo written frame by
// frame through the captured-frame queue (under a real EAL), files read back by libpcap,
// capinfos and tshark. Every frame comes back byte for byte in order with its timestamp;
// files rotate by size and by age; the total cap deletes the oldest files and keeps the
// newest packets; anomaly frames carry their comment.
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <thread>

#include "../../src/runtime/frame_queue.hpp"
#include "../../src/runtime/recorder.hpp"
#include "harness.hpp"

namespace netscope::itest {
namespace {

using namespace std::chrono_literals;
using Frame = std::vector<std::uint8_t>;

class EalEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    // One net_null port: pcapng files get an interface block per ethdev port.
    args_ = {"test_integration_recorder", "--no-huge", "--no-pci", "-m", "256", "-l", "0",
             "--file-prefix", unique_prefix() + "r", "--log-level", "lib.eal:error", "--vdev=net_null0"};
    std::vector<char*> argv;
    for (auto& a : args_) argv.push_back(a.data());
    ASSERT_GE(rte_eal_init(static_cast<int>(argv.size()), argv.data()), 0) << rte_strerror(rte_errno);
    queue = new runtime::FrameQueue(1024, 2048);
  }
  void TearDown() override {
    delete queue;
    rte_eal_cleanup();
  }
  static inline runtime::FrameQueue* queue = nullptr;

 private:
  std::vector<std::string> args_;
};
[[maybe_unused]] const auto* const kEal = ::testing::AddGlobalTestEnvironment(new EalEnvironment);

std::vector<Frame> read_frames(const std::string& path) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  if (p == nullptr) throw std::runtime_error(std::string("pcap: ") + err);
  std::vector<Frame> out;
  pcap_pkthdr* h = nullptr;
  const u_char* d = nullptr;
  while (pcap_next_ex(p, &h, &d) == 1) out.emplace_back(d, d + h->caplen);
  pcap_close(p);
  return out;
}

const std::vector<Frame>& demo_frames() {
  static const std::vector<Frame> frames = [] {
    const std::string dir = temp_dir();
    const RunResult g = run(binary("NETSCOPE_GEN_BIN"),
                            {"--", "--builtin-demo", "--seed", "1", "--count", "2000", "--pcap-out", dir + "/demo.pcap"},
                            dir, 60s);
    if (g.exit_code != 0) throw std::runtime_error("netscope-gen failed:\n" + g.err);
    return read_frames(dir + "/demo.pcap");
  }();
  return frames;
}

/// Offers frames [from, to) to a queue and writes them, draining every `drain_every` frames
/// (as the control lcore does). Frame i is stamped i microseconds after 1.7e9 s.
void offer(runtime::Recorder& r, std::size_t from, std::size_t to, std::size_t drain_every = 64) {
  runtime::FrameQueue& queue = *EalEnvironment::queue;
  for (std::size_t i = from; i < to; ++i) {
    const Frame& f = demo_frames()[i];
    engine::CaptureMeta m;
    m.timestamp_ns = 1'700'000'000'000'000'000ull + i * 1000;
    m.packet_index = i;
    m.wire_len = static_cast<std::uint32_t>(f.size());
    m.reason = engine::CaptureReason::filter;
    ASSERT_TRUE(queue.offer(m, f));
    if ((i + 1) % drain_every == 0) queue.drain([&](const runtime::QueuedFrame& q) { r.write(q.meta, q.bytes()); });
  }
  queue.drain([&](const runtime::QueuedFrame& q) { r.write(q.meta, q.bytes()); });
}

/// What tshark reads from `files`, in order: frames and the count per file.
struct ReadBack {
  std::vector<Frame> frames;
  std::vector<std::size_t> per_file;
};

/// Reads `files` with libpcap, and checks that Wireshark's capinfos (one process for all
/// of them) opens each as pcapng with the same number of packets.
ReadBack read_back(const std::vector<std::string>& files) {
  ReadBack rb;
  std::vector<std::string> args{"-c", "-t", "-M"};
  args.insert(args.end(), files.begin(), files.end());
  const RunResult info = run("/usr/bin/capinfos", args, temp_dir(), 60s);
  EXPECT_EQ(info.exit_code, 0) << info.out << info.err;
  for (const std::string& f : files) {
    const std::vector<Frame> got = read_frames(f);
    const auto at = info.out.find("File name:           " + f);
    EXPECT_NE(at, std::string::npos) << f << "\n" << info.out;
    if (at != std::string::npos) {
      const auto type = info.out.find("File type:", at);
      const auto count = info.out.find("Number of packets:", at);
      EXPECT_NE(info.out.substr(type, 60).find("pcapng"), std::string::npos) << info.out.substr(at, 200);
      EXPECT_EQ(std::stoull(info.out.substr(count + 18)), got.size()) << f;
    }
    rb.per_file.push_back(got.size());
    rb.frames.insert(rb.frames.end(), got.begin(), got.end());
  }
  return rb;
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::uint64_t file_size(const std::string& f) { return std::filesystem::file_size(f); }

TEST(Recorder, EveryFrameBackInOrder) {
  const std::string dir = temp_dir() + "/rec";
  {
    runtime::Recorder r({dir});
    offer(r, 0, demo_frames().size());
    EXPECT_EQ(r.counters().written, demo_frames().size());
    EXPECT_EQ(r.counters().errors, 0u);
  }
  const std::vector<std::string> files = list_dir(dir);
  ASSERT_EQ(files.size(), 1u);
  // tshark itself dissects the file: as many frames as offered, and the ESP among them.
  const RunResult t = run("/usr/bin/tshark", {"-r", files[0], "-T", "fields", "-e", "frame.protocols"}, temp_dir(), 60s);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  std::size_t lines = 0, esp = 0;
  std::istringstream in(t.out);
  for (std::string line; std::getline(in, line);) {
    ++lines;
    esp += line.find(":esp") != std::string::npos;
  }
  EXPECT_EQ(lines, demo_frames().size());
  EXPECT_GT(esp, 0u);
  const ReadBack rb = read_back(files);
  ASSERT_EQ(rb.frames.size(), demo_frames().size());
  for (std::size_t i = 0; i < rb.frames.size(); ++i) ASSERT_EQ(rb.frames[i], demo_frames()[i]) << "frame " << i;
}

TEST(Recorder, RotatesBySize) {
  const std::string dir = temp_dir() + "/rec";
  constexpr std::uint64_t kFile = 100 * 1024;
  std::uint64_t largest_frame = 0;
  for (const Frame& f : demo_frames()) largest_frame = std::max<std::uint64_t>(largest_frame, f.size());
  {
    runtime::RecorderOptions o{dir};
    o.file_bytes = kFile;
    runtime::Recorder r(o);
    offer(r, 0, demo_frames().size(), 8);
    EXPECT_EQ(r.counters().files_opened, list_dir(dir).size());
  }
  const std::vector<std::string> files = list_dir(dir);
  ASSERT_GE(files.size(), 5u) << "about 1 MB in 100 KB files";
  // A file is closed at the first burst that finds it full: at most one burst (32 frames) over.
  for (const std::string& f : files) EXPECT_LE(file_size(f), kFile + 32 * (largest_frame + 64)) << f;
  const ReadBack rb = read_back(files);
  ASSERT_EQ(rb.frames.size(), demo_frames().size());
  EXPECT_EQ(rb.frames, demo_frames());
}

TEST(Recorder, RotatesByAge) {
  const std::string dir = temp_dir() + "/rec";
  {
    runtime::RecorderOptions o{dir};
    o.file_ns = 250'000'000;  // 250 ms
    runtime::Recorder r(o);
    for (std::size_t part = 0; part < 4; ++part) {
      offer(r, part * 100, part * 100 + 100);
      std::this_thread::sleep_for(350ms);
      r.flush();
    }
  }
  const std::vector<std::string> files = list_dir(dir);
  ASSERT_EQ(files.size(), 4u);
  const ReadBack rb = read_back(files);
  EXPECT_EQ(rb.per_file, (std::vector<std::size_t>{100, 100, 100, 100}));
}

TEST(Recorder, TotalCapKeepsTheNewest) {
  const std::string dir = temp_dir() + "/rec";
  constexpr std::uint64_t kFile = 64 * 1024;
  constexpr std::uint64_t kCap = 256 * 1024;
  runtime::RecorderCounters c;
  {
    runtime::RecorderOptions o{dir};
    o.file_bytes = kFile;
    o.total_bytes = kCap;
    runtime::Recorder r(o);
    offer(r, 0, demo_frames().size(), 8);
    c = r.counters();
  }
  const std::vector<std::string> files = list_dir(dir);
  std::uint64_t total = 0;
  for (const std::string& f : files) total += file_size(f);
  EXPECT_LE(total, kCap);
  EXPECT_GT(c.files_deleted, 0u);
  EXPECT_EQ(c.files_opened, c.files_deleted + files.size());
  // What is left is the end of the input, contiguous.
  const ReadBack rb = read_back(files);
  ASSERT_GT(rb.frames.size(), 0u);
  ASSERT_LT(rb.frames.size(), demo_frames().size());
  const std::size_t first = demo_frames().size() - rb.frames.size();
  for (std::size_t i = 0; i < rb.frames.size(); ++i) ASSERT_EQ(rb.frames[i], demo_frames()[first + i]) << i;
}

TEST(Recorder, FullQueueRefusesAndRecovers) {
  runtime::FrameQueue q(64, 128);
  const Frame& f = demo_frames()[0];
  engine::CaptureMeta m;
  std::size_t accepted = 0;
  for (int i = 0; i < 200; ++i) accepted += q.offer(m, f) ? 1 : 0;
  EXPECT_EQ(accepted, 63u);  // an rte_ring holds size - 1
  std::size_t seen = 0;
  EXPECT_EQ(q.drain([&](const runtime::QueuedFrame& x) {
    seen += x.bytes().size() == std::min<std::size_t>(f.size(), 128) ? 1 : 0;
  }), accepted);
  EXPECT_EQ(seen, accepted) << "frames are cut to the queue's snap length";
  EXPECT_TRUE(q.offer(m, f)) << "room again once drained";
}

TEST(Recorder, AnomalyFramesCarryTheirComment) {
  const std::string dir = temp_dir() + "/rec";
  {
    runtime::RecorderOptions o{dir};
    o.interfaces = {{"net_pcap0", "", 0}, {"net_pcap1", "", 0}};
    runtime::Recorder r(o);
    engine::CaptureMeta m;
    m.timestamp_ns = 1'600'000'000'000'000'123ull;
    m.reason = engine::CaptureReason::anomaly;
    m.event = seq::EventType::gap;
    m.expected = 10;
    m.got = 12;
    m.sa.protocol = seq::SaProtocol::esp;
    m.sa.spi = 0x1234;
    m.sa.ip_version = 4;
    m.sa.dst = {10, 0, 0, 2};
    m.port = 1;
    m.packet_index = 41;
    m.wire_len = static_cast<std::uint32_t>(demo_frames()[5].size());
    r.write(m, demo_frames()[5]);
  }
  const std::vector<std::string> files = list_dir(dir);
  ASSERT_EQ(files.size(), 1u);
  const RunResult t = run("/usr/bin/tshark", {"-r", files[0], "-T", "fields", "-E", "separator=|", "-e",
                                              "frame.interface_name", "-e", "frame.time_epoch", "-e", "frame.comment"},
                          temp_dir(), 60s);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(t.out, "net_pcap1|1600000000.000000123|netscope gap: expected 10, got 12; SA esp spi=0x00001234 "
                   "dst=10.0.0.2; port 1 packet 41\n");
}

TEST(Recorder, BadDirectoryIsAClearError) {
  runtime::RecorderOptions o{"/proc/no/such/dir"};
  try {
    runtime::Recorder r(o);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create directory '/proc/no/such/dir'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace netscope::itest
