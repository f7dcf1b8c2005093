// Cost of cross-port correlation per packet (docs/performance.md): Worker::process_burst
// over two taps of the same UDP traffic (port 1 sees each packet 150 us later, 1% lost
// between them), with and without the pair configured.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "netscope/engine/worker.hpp"

namespace {

using netscope::engine::FrameRef;

constexpr std::size_t kPackets = 16384;   // distinct packets per pass
constexpr std::uint64_t kSpacingNs = 1000;  // 1 Mpps per tap
constexpr std::uint64_t kDelayNs = 150'000;

std::vector<std::uint8_t> udp_frame(std::uint32_t i) {
  std::vector<std::uint8_t> f(14 + 20 + 8 + 32, 0);
  f[12] = 0x08;
  std::uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  ip[2] = 0;
  ip[3] = 60;
  ip[4] = static_cast<std::uint8_t>(i >> 8);
  ip[5] = static_cast<std::uint8_t>(i);
  ip[8] = 64;
  ip[9] = 17;
  const std::uint8_t addrs[8] = {10, 0, static_cast<std::uint8_t>(i % 7), 1, 10, 0, 0, 2};
  std::memcpy(ip + 12, addrs, 8);
  std::uint32_t sum = 0;
  for (int k = 0; k < 20; k += 2) sum += (std::uint32_t{ip[k]} << 8) | ip[k + 1];
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  ip[10] = static_cast<std::uint8_t>(~sum >> 8);
  ip[11] = static_cast<std::uint8_t>(~sum);
  std::uint8_t* udp = ip + 20;
  udp[0] = 0x30;
  udp[1] = static_cast<std::uint8_t>(i % 64);
  udp[3] = 7;
  udp[5] = 40;
  for (int k = 0; k < 32; ++k) udp[8 + k] = static_cast<std::uint8_t>((i * 2654435761u) >> (k % 24));
  return f;
}

void BM_TwoTaps(benchmark::State& state) {
  const bool correlate = state.range(0) != 0;
  netscope::engine::EngineConfig ec;
  ec.max_flows = 65536;
  if (correlate) {
    ec.correlation.pairs = {{0, 1}};
    ec.correlation.window_ns = 1'000'000;
  }
  netscope::engine::CollectingSink sink(0, 0);
  netscope::engine::Worker w(ec, sink);
  std::vector<std::vector<std::uint8_t>> frames;
  for (std::uint32_t i = 0; i < kPackets; ++i) frames.push_back(udp_frame(i));
  // Arrival order on the worker: tap a's packet i, then tap b's copy of packet i - 150
  // (150 us later at 1 Mpps), 1% of b's copies missing.
  std::vector<FrameRef> refs;
  std::vector<std::uint64_t> base;
  for (std::size_t i = 0; i < kPackets + 150; ++i) {
    if (i < kPackets) {
      refs.push_back({frames[i], static_cast<std::uint32_t>(frames[i].size()), 0, 0, i});
      base.push_back(i * kSpacingNs);
    }
    if (i >= 150 && (i - 150) % 100 != 7) {
      const std::size_t j = i - 150;
      refs.push_back({frames[j], static_cast<std::uint32_t>(frames[j].size()), 1, 0, j});
      base.push_back(j * kSpacingNs + kDelayNs);
    }
  }
  std::uint64_t offset = 0;
  for (auto _ : state) {
    for (std::size_t k = 0; k < refs.size(); ++k) refs[k].timestamp_ns = base[k] + offset;
    for (std::size_t k = 0; k < refs.size(); k += 32) {
      w.process_burst({refs.data() + k, std::min<std::size_t>(32, refs.size() - k)});
      w.maintain(w.clock());
    }
    offset += (kPackets + 1000) * kSpacingNs;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * refs.size()));
  if (correlate) {
    const auto& c = w.correlator()->pair(0);
    state.counters["matched"] = static_cast<double>(c.matched.value());
    state.counters["lost"] = static_cast<double>(c.lost_a_to_b.value());
    state.counters["full"] = static_cast<double>(c.untracked_full.value());
  }
}
BENCHMARK(BM_TwoTaps)->Arg(0)->Arg(1)->ArgNames({"correlate"});

}  // namespace

BENCHMARK_MAIN();
