// decode + classify + SA/flow tracking per packet (engine::Worker::process), no DPDK.
#include <benchmark/benchmark.h>

#include <array>
#include <vector>

#include "../unit/decode/frame_builder.hpp"
#include "netscope/engine/worker.hpp"

namespace {

namespace tf = netscope::decode::test_frames;
using netscope::engine::Worker;

constexpr std::uint32_t kSas = 10000;

std::vector<tf::Buf> macsec_frames() {
  std::vector<tf::Buf> v;
  for (std::uint32_t i = 0; i < kSas; ++i) {
    v.push_back(tf::cat({tf::ethernet(0x88E5),
                         tf::sectag(tf::tci::kSc | tf::tci::kE | tf::tci::kC, 0, 0, 1, 0x0200000000000000ull + i),
                         tf::payload(46), tf::icv()}));
  }
  return v;
}

std::vector<tf::Buf> esp_frames() {
  std::vector<tf::Buf> v;
  for (std::uint32_t i = 0; i < kSas; ++i) {
    v.push_back(tf::cat({tf::ethernet(0x0800), tf::ipv4(50, 8 + 32), tf::esp(0x1000 + i, 1), tf::payload(32)}));
  }
  return v;
}

std::vector<tf::Buf> tcp_frames() {
  std::vector<tf::Buf> v;
  for (std::uint32_t i = 0; i < kSas; ++i) {
    const tf::Buf t = tf::tcp(static_cast<std::uint16_t>(1024 + i), 443, i, 1, 0x10);
    v.push_back(tf::cat({tf::ethernet(0x0800), tf::ipv4(6, t.size() + 6), t, tf::payload(6)}));
  }
  return v;
}

/// UDP between 10k distinct host pairs (10.0.x.y -> 10.128.x.y): the sensors' worst
/// case (a topology host pair, an edge, a destination and a top-flow entry per frame).
std::vector<tf::Buf> host_pair_frames() {
  std::vector<tf::Buf> v;
  for (std::uint32_t i = 0; i < kSas; ++i) {
    tf::Buf f = tf::cat({tf::ethernet(0x0800), tf::ipv4(17, 8 + 32), tf::udp(5000, 53, 32), tf::payload(32)});
    const std::uint8_t hi = static_cast<std::uint8_t>(i >> 8), lo = static_cast<std::uint8_t>(i);
    const std::uint8_t src[4] = {10, 0, hi, lo}, dst[4] = {10, 128, hi, lo};
    for (int k = 0; k < 4; ++k) {
      f[14 + 12 + k] = src[k];
      f[14 + 16 + k] = dst[k];
    }
    tf::fix_ipv4_checksum(f, 14);
    v.push_back(f);
  }
  return v;
}

/// Packet i goes to SA i % kSas with a sequence number advancing by one per visit, so the
/// tracker takes its in-order path (the common case); the number is patched in place.
void run(benchmark::State& state, std::vector<tf::Buf> frames, std::size_t seq_offset, bool sensors = true) {
  netscope::engine::EngineConfig cfg;
  cfg.sensors.enabled = sensors;  // measures, detections, topology (engine/sensors.hpp)
  cfg.sensors.max_hosts = 2 * 2 * kSas;
  cfg.sensors.max_edges = 2 * kSas;
  cfg.sensors.destinations = 2 * kSas;
  cfg.max_sas = kSas * 2;
  cfg.max_flows = kSas * 2;
  netscope::engine::CollectingSink sink(0, 0);
  Worker w(cfg, sink);
  std::uint64_t i = 0;
  std::array<netscope::engine::FrameRef, 32> burst;
  for (auto _ : state) {
    // One iteration = one burst of 32 frames, as an RX lcore hands them over.
    for (auto& ref : burst) {
      tf::Buf& f = frames[i % kSas];
      if (seq_offset != 0) {
        const std::uint32_t seq = static_cast<std::uint32_t>(i / kSas + 1);
        f[seq_offset] = static_cast<std::uint8_t>(seq >> 24);
        f[seq_offset + 1] = static_cast<std::uint8_t>(seq >> 16);
        f[seq_offset + 2] = static_cast<std::uint8_t>(seq >> 8);
        f[seq_offset + 3] = static_cast<std::uint8_t>(seq);
      }
      ref = {tf::span(f), static_cast<std::uint32_t>(f.size()), 0, i * 100, i};
      ++i;
    }
    w.process_burst(burst);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * burst.size()));
  if (w.counters().events_total.value() != 0) state.SkipWithError("unexpected anomalies");
  state.counters["ns_per_packet"] = benchmark::Counter(static_cast<double>(state.iterations() * burst.size()),
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Macsec10kSas(benchmark::State& s) { run(s, macsec_frames(), 14 + 2); }
void BM_Esp10kSas(benchmark::State& s) { run(s, esp_frames(), 14 + 20 + 4); }
void BM_Tcp10kFlows(benchmark::State& s) { run(s, tcp_frames(), 0); }
void BM_Tcp10kFlowsNoSensors(benchmark::State& s) { run(s, tcp_frames(), 0, false); }
void BM_Udp10kHostPairs(benchmark::State& s) { run(s, host_pair_frames(), 0); }
void BM_Udp10kHostPairsNoSensors(benchmark::State& s) { run(s, host_pair_frames(), 0, false); }

/// The flow table against its size (issue 3): N concurrent UDP flows (10.a.b.c:port ->
/// 10.255.0.1:5000, 60-byte frames packed 64 bytes apart in one buffer read sequentially),
/// each flow one packet per pass, table sized 2N, sensors off. Arg 1 selects per-flow
/// analysis off (0), on (1), or on with the packet inspector's frame history (2: 64 frames
/// of 256 bytes per port, as with an API running). The input is read in order (the hardware prefetcher keeps
/// it from being the bottleneck); the table is what is measured.
void BM_UdpFlows(benchmark::State& state) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  constexpr std::size_t kStride = 64;
  std::vector<std::uint8_t> buf(static_cast<std::size_t>(n) * kStride);
  const tf::Buf base = tf::cat({tf::ethernet(0x0800), tf::ipv4(17, 8 + 18), tf::udp(1024, 5000, 18), tf::payload(18)});
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint8_t* f = buf.data() + static_cast<std::size_t>(i) * kStride;
    std::copy(base.begin(), base.end(), f);
    const std::uint8_t src[4] = {10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8),
                                 static_cast<std::uint8_t>(i)};
    const std::uint8_t dst[4] = {10, 255, 0, 1};
    for (int k = 0; k < 4; ++k) {
      f[14 + 12 + k] = src[k];
      f[14 + 16 + k] = dst[k];
    }
    const auto sport = static_cast<std::uint16_t>(1024 + i % 50000);
    f[34] = static_cast<std::uint8_t>(sport >> 8);
    f[35] = static_cast<std::uint8_t>(sport);
    f[24] = f[25] = 0;
    const std::uint16_t sum = tf::ones_complement(f + 14, 20);
    f[24] = static_cast<std::uint8_t>(sum >> 8);
    f[25] = static_cast<std::uint8_t>(sum);
  }
  netscope::engine::EngineConfig cfg;
  cfg.sensors.enabled = false;
  cfg.analysis.tcp = cfg.analysis.l7 = cfg.analysis.reassembly = state.range(1) != 0;
  if (state.range(1) == 2) {
    cfg.capture.ports = 1;
    cfg.capture.history = 64;
    cfg.capture.snaplen = 256;
  }
  cfg.max_flows = 2 * n;
  cfg.timeouts.idle_ns = 3600ull * 1'000'000'000;
  netscope::engine::CollectingSink sink(0, 0);
  Worker w(cfg, sink);
  const auto len = static_cast<std::uint32_t>(base.size());
  std::uint64_t i = 0;
  std::array<netscope::engine::FrameRef, 32> burst;
  for (auto _ : state) {
    for (auto& ref : burst) {
      const std::uint32_t k = static_cast<std::uint32_t>(i % n);
      ref = {{buf.data() + static_cast<std::size_t>(k) * kStride, len}, len, 0, 1'000'000'000 + i, i};
      ++i;
    }
    w.process_burst(burst);
    w.maintain(1'000'000'000 + i);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * burst.size()));
  if (w.counters().flows_evicted.value() != 0) state.SkipWithError("flows evicted: table too small");
  if (w.counters().malformed_total.value() != 0) state.SkipWithError("malformed frames");
  state.counters["flows"] = static_cast<double>(w.flows().size());
  state.counters["ns_per_packet"] = benchmark::Counter(static_cast<double>(state.iterations() * burst.size()),
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK(BM_UdpFlows)->ArgsProduct({{1000, 100000, 1000000}, {0, 1, 2}})->MinTime(3);
BENCHMARK(BM_Macsec10kSas);
BENCHMARK(BM_Esp10kSas);
BENCHMARK(BM_Tcp10kFlows);
BENCHMARK(BM_Tcp10kFlowsNoSensors);
BENCHMARK(BM_Udp10kHostPairs);
BENCHMARK(BM_Udp10kHostPairsNoSensors);

}  // namespace

BENCHMARK_MAIN();
