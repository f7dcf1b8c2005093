// Worker capture: the per-port frame history, anomaly frames with their context before
// and after, malformed frames, and packet-inspector snapshots.
#include <gtest/gtest.h>

#include <vector>

#include "frame_builder.hpp"
#include "netscope/engine/worker.hpp"

namespace netscope::engine {
namespace {

namespace tf = decode::test_frames;

struct Captured {
  CaptureMeta meta;
  std::vector<std::uint8_t> bytes;
};

class CaptureSink final : public RecordSink {
 public:
  bool on_flow(const FlowRecord&) noexcept override { return true; }
  bool on_event(const AnomalyEvent&) noexcept override { return true; }
  bool on_capture(const CaptureMeta& m, decode::Bytes b) noexcept override {
    if (refuse) return false;
    frames.push_back({m, {b.begin(), b.end()}});
    return true;
  }
  std::vector<Captured> frames;
  bool refuse = false;
};

tf::Buf esp(std::uint32_t spi, std::uint32_t seq) {
  return tf::cat({tf::ethernet(0x0800), tf::ipv4(50, 8 + 16), tf::esp(spi, seq), tf::payload(16)});
}

/// The ESP sequence number of a captured frame (Ethernet 14 + IPv4 20 + SPI 4).
std::uint32_t seq_of(const Captured& c) {
  const auto* p = c.bytes.data() + 14 + 20 + 4;
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

EngineConfig capture_config(std::uint32_t before, std::uint32_t after) {
  EngineConfig cfg;
  cfg.sensors.enabled = false;
  cfg.capture.ports = 2;
  cfg.capture.anomalies = true;
  cfg.capture.before = before;
  cfg.capture.after = after;
  cfg.capture.snaplen = 2048;
  return cfg;
}

void feed(Worker& w, const std::vector<std::uint32_t>& seqs, std::uint16_t port = 0, std::uint32_t spi = 7) {
  static std::uint64_t index = 0;
  for (const std::uint32_t s : seqs) {
    const tf::Buf f = esp(spi, s);
    w.process(tf::span(f), static_cast<std::uint32_t>(f.size()), 1000 * s, port, index++);
  }
}

TEST(Capture, AnomalyWithContextBeforeAndAfter) {
  CaptureSink sink;
  Worker w(capture_config(3, 2), sink);
  feed(w, {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15});
  ASSERT_EQ(sink.frames.size(), 6u);
  const std::vector<std::uint32_t> want{7, 8, 9, 11, 12, 13};
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(seq_of(sink.frames[i]), want[i]) << i;
  const CaptureMeta& a = sink.frames[3].meta;
  EXPECT_EQ(a.reason, CaptureReason::anomaly);
  EXPECT_EQ(a.event, seq::EventType::gap);
  EXPECT_EQ(a.expected, 10u);
  EXPECT_EQ(a.got, 11u);
  EXPECT_EQ(a.sa.spi, 7u);
  EXPECT_EQ(a.timestamp_ns, 11000u);
  EXPECT_EQ(sink.frames[0].meta.reason, CaptureReason::context);
  EXPECT_EQ(sink.frames[0].meta.timestamp_ns, 7000u);
  EXPECT_EQ(sink.frames[5].meta.reason, CaptureReason::context);
  EXPECT_EQ(w.counters().captured.value(), 6u);
  EXPECT_EQ(w.counters().capture_dropped.value(), 0u);
}

TEST(Capture, OverlappingAnomaliesDoNotRecordAFrameTwice) {
  CaptureSink sink;
  Worker w(capture_config(4, 1), sink);
  // Gap at 6 (5 missing), then a duplicate of 7 two frames later.
  feed(w, {1, 2, 3, 4, 6, 7, 8, 7, 9, 10});
  std::vector<std::uint32_t> got;
  for (const Captured& c : sink.frames) got.push_back(seq_of(c));
  // 1-4 before the gap, 6 (gap), 7 (after); then 8 (before the duplicate, not yet taken),
  // 7 (duplicate), 9 (after).
  EXPECT_EQ(got, (std::vector<std::uint32_t>{1, 2, 3, 4, 6, 7, 8, 7, 9}));
  EXPECT_EQ(sink.frames[7].meta.event, seq::EventType::duplicate);
}

TEST(Capture, ContextStaysOnThePortOfTheAnomaly) {
  CaptureSink sink;
  Worker w(capture_config(2, 2), sink);
  feed(w, {1, 2}, 0, 7);
  feed(w, {100, 101, 102}, 1, 9);
  feed(w, {4}, 0, 7);            // gap on port 0
  feed(w, {103, 104}, 1, 9);     // port 1: not context
  feed(w, {5, 6, 7}, 0, 7);      // port 0: 5 and 6 are context
  std::vector<std::pair<std::uint16_t, std::uint32_t>> got;
  for (const Captured& c : sink.frames) got.emplace_back(c.meta.port, seq_of(c));
  EXPECT_EQ(got, (std::vector<std::pair<std::uint16_t, std::uint32_t>>{{0, 1}, {0, 2}, {0, 4}, {0, 5}, {0, 6}}));
}

TEST(Capture, MalformedFramesAreCapturedWhenAsked) {
  CaptureSink sink;
  EngineConfig cfg = capture_config(0, 0);
  cfg.capture.anomalies = false;
  cfg.capture.malformed = true;
  cfg.capture.capture_snaplen = 10;
  Worker w(cfg, sink);
  feed(w, {1, 2});
  tf::Buf bad = esp(7, 3);
  bad.resize(14 + 10);  // IPv4 header cut short
  w.process(tf::span(bad), static_cast<std::uint32_t>(bad.size()), 5, 0, 99);
  ASSERT_EQ(sink.frames.size(), 1u);
  EXPECT_EQ(sink.frames[0].meta.reason, CaptureReason::malformed);
  EXPECT_NE(sink.frames[0].meta.malformed, decode::Malformed::none);
  EXPECT_EQ(sink.frames[0].bytes.size(), 10u) << "capture snap length";
  EXPECT_EQ(sink.frames[0].meta.wire_len, 24u);
}

TEST(Capture, SnapshotSendsEachPortsLastFramesOldestFirst) {
  CaptureSink sink;
  EngineConfig cfg;
  cfg.sensors.enabled = false;
  cfg.capture.ports = 2;
  cfg.capture.history = 4;
  cfg.capture.snaplen = 42;
  Worker w(cfg, sink);
  feed(w, {1, 2, 3, 4, 5, 6}, 0, 7);
  feed(w, {50}, 1, 9);
  w.maintain(0);
  EXPECT_TRUE(sink.frames.empty()) << "no snapshot before one is asked for";
  w.request_snapshot(1);
  w.maintain(0);
  ASSERT_EQ(sink.frames.size(), 5u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(sink.frames[i].meta.reason, CaptureReason::inspect);
    EXPECT_EQ(sink.frames[i].meta.snapshot, 1u);
    EXPECT_EQ(sink.frames[i].meta.port, 0u);
    EXPECT_EQ(sink.frames[i].bytes.size(), 42u);
    EXPECT_EQ(sink.frames[i].meta.wire_len, 58u);
    EXPECT_EQ(seq_of(sink.frames[i]), i + 3);
  }
  EXPECT_EQ(sink.frames[4].meta.port, 1u);
  EXPECT_EQ(seq_of(sink.frames[4]), 50u);
  w.maintain(0);
  EXPECT_EQ(sink.frames.size(), 5u) << "one snapshot per request";
  EXPECT_EQ(w.counters().inspect_snapshots.value(), 1u);
  sink.refuse = true;
  w.request_snapshot(2);
  w.flush();
  EXPECT_EQ(w.counters().capture_dropped.value(), 5u) << "refused snapshot frames are counted";
}

TEST(Capture, NothingIsCopiedWhenCaptureIsOff) {
  CaptureSink sink;
  EngineConfig cfg;
  cfg.sensors.enabled = false;
  Worker w(cfg, sink);
  feed(w, {1, 2, 5, 5});
  w.request_snapshot(1);
  w.maintain(0);
  EXPECT_TRUE(sink.frames.empty());
  EXPECT_EQ(w.counters().captured.value(), 0u);
}

}  // namespace
}  // namespace netscope::engine
