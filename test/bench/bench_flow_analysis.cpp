// Cost of the per-flow analysis (TCP state/RTT/flags, HTTP and DNS parsing, TLS/SSH
// detection, reassembly check, ICMP linking) on top of plain flow tracking, on an
// HTTP/DNS/TCP mix, through engine::Worker::process_burst. No DPDK. See docs/performance.md.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "netscope/engine/worker.hpp"

namespace {

using Frame = std::vector<std::uint8_t>;
using netscope::engine::Worker;

void put16(Frame& f, std::size_t at, std::uint32_t v) {
  f[at] = static_cast<std::uint8_t>(v >> 8);
  f[at + 1] = static_cast<std::uint8_t>(v);
}
void put32(Frame& f, std::size_t at, std::uint32_t v) {
  put16(f, at, v >> 16);
  put16(f, at + 2, v & 0xFFFF);
}

Frame ipv4(std::uint32_t src, std::uint32_t dst, std::uint8_t proto, const Frame& l4) {
  Frame f = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00};
  f.resize(34);
  f[14] = 0x45;
  put16(f, 16, static_cast<std::uint32_t>(20 + l4.size()));
  put16(f, 20, 0x4000);
  f[22] = 64;
  f[23] = proto;
  put32(f, 26, src);
  put32(f, 30, dst);
  std::uint32_t sum = 0;
  for (std::size_t i = 14; i < 34; i += 2) sum += static_cast<std::uint32_t>(f[i] << 8 | f[i + 1]);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  put16(f, 24, ~sum & 0xFFFF);
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

Frame tcp(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
          std::size_t payload_len = 0, const std::string& text = "") {
  Frame t(20);
  put16(t, 0, sport);
  put16(t, 2, dport);
  put32(t, 4, seq);
  put32(t, 8, ack);
  t[12] = 0x50;
  t[13] = flags;
  put16(t, 14, 65535);
  t.insert(t.end(), text.begin(), text.end());
  t.resize(20 + std::max(payload_len, text.size()), 'x');
  return t;
}

Frame udp(std::uint16_t sport, std::uint16_t dport, const Frame& payload) {
  Frame u(8);
  put16(u, 0, sport);
  put16(u, 2, dport);
  put16(u, 4, static_cast<std::uint32_t>(8 + payload.size()));
  u.insert(u.end(), payload.begin(), payload.end());
  return u;
}

Frame dns(std::uint16_t id, bool response) {
  Frame m(12);
  put16(m, 0, id);
  put16(m, 2, response ? 0x8180 : 0x0100);
  put16(m, 4, 1);
  put16(m, 6, response ? 1 : 0);
  for (const char* label : {"www", "example", "test"}) {
    m.push_back(static_cast<std::uint8_t>(std::string(label).size()));
    m.insert(m.end(), label, label + std::string(label).size());
  }
  m.insert(m.end(), {0, 0, 1, 0, 1});
  if (response) m.insert(m.end(), {0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 51, 100, 7});
  return m;
}

constexpr std::uint8_t kSyn = 0x02, kAck = 0x10, kSynAck = 0x12, kPshAck = 0x18, kFinAck = 0x11;
constexpr int kRounds = 40;

/// One round: 64 HTTP connections (10 frames each), 128 DNS exchanges over UDP, 16 bulk
/// TCP transfers (20 full-size segments, an ACK every other one). 1472 frames; client
/// ports differ per round, so each round opens new flows (2 * 64 + ... per round).
std::vector<Frame> mix() {
  std::vector<Frame> v;
  const std::uint32_t client = 0x0A000001, server = 0x0A000002;
  const std::string req = "GET /index.html HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: bench\r\n\r\n";
  const std::string resp = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 200\r\n\r\n";
  for (int r = 0; r < kRounds; ++r) {
    const auto base = static_cast<std::uint16_t>(10000 + r * 256);
    for (std::uint16_t c = 0; c < 64; ++c) {
      const std::uint16_t p = static_cast<std::uint16_t>(base + c);
      const std::uint32_t cs = 1000, ss = 5000;
      const auto q = static_cast<std::uint32_t>(req.size());
      const auto a = static_cast<std::uint32_t>(resp.size() + 200);
      v.push_back(ipv4(client, server, 6, tcp(p, 80, cs, 0, kSyn)));
      v.push_back(ipv4(server, client, 6, tcp(80, p, ss, cs + 1, kSynAck)));
      v.push_back(ipv4(client, server, 6, tcp(p, 80, cs + 1, ss + 1, kAck)));
      v.push_back(ipv4(client, server, 6, tcp(p, 80, cs + 1, ss + 1, kPshAck, 0, req)));
      v.push_back(ipv4(server, client, 6, tcp(80, p, ss + 1, cs + 1 + q, kAck)));
      v.push_back(ipv4(server, client, 6, tcp(80, p, ss + 1, cs + 1 + q, kPshAck, resp.size() + 200, resp)));
      v.push_back(ipv4(client, server, 6, tcp(p, 80, cs + 1 + q, ss + 1 + a, kAck)));
      v.push_back(ipv4(client, server, 6, tcp(p, 80, cs + 1 + q, ss + 1 + a, kFinAck)));
      v.push_back(ipv4(server, client, 6, tcp(80, p, ss + 1 + a, cs + 2 + q, kFinAck)));
      v.push_back(ipv4(client, server, 6, tcp(p, 80, cs + 2 + q, ss + 2 + a, kAck)));
    }
    for (std::uint16_t d = 0; d < 128; ++d) {
      const std::uint16_t p = static_cast<std::uint16_t>(base + 64 + d);
      v.push_back(ipv4(client, server, 17, udp(p, 53, dns(d, false))));
      v.push_back(ipv4(server, client, 17, udp(53, p, dns(d, true))));
    }
    for (std::uint16_t b = 0; b < 16; ++b) {
      const std::uint16_t p = static_cast<std::uint16_t>(base + 192 + b);
      v.push_back(ipv4(client, server, 6, tcp(p, 5001, 1, 0, kSyn)));
      v.push_back(ipv4(server, client, 6, tcp(5001, p, 9, 2, kSynAck)));
      v.push_back(ipv4(client, server, 6, tcp(p, 5001, 2, 10, kAck)));
      for (std::uint32_t s = 0; s < 20; ++s) {
        v.push_back(ipv4(client, server, 6, tcp(p, 5001, 2 + s * 1448, 10, kAck, 1448)));
        if (s % 2 == 1) v.push_back(ipv4(server, client, 6, tcp(5001, p, 10, 2 + (s + 1) * 1448, kAck)));
      }
    }
  }
  return v;
}

enum class Mode { flows_only, analysis, everything };

void run(benchmark::State& state, Mode mode) {
  netscope::engine::EngineConfig cfg;
  cfg.max_flows = 65536;
  cfg.analysis.tcp = cfg.analysis.l7 = cfg.analysis.reassembly = mode != Mode::flows_only;
  cfg.sensors.enabled = mode == Mode::everything;
  netscope::engine::CollectingSink sink(0, 0);
  Worker w(cfg, sink);
  const std::vector<Frame> frames = mix();
  std::size_t i = 0;
  std::uint64_t n = 0;
  std::array<netscope::engine::FrameRef, 32> burst;
  for (auto _ : state) {
    for (auto& ref : burst) {
      const Frame& f = frames[i];
      ref = {{f.data(), f.size()}, static_cast<std::uint32_t>(f.size()), 0, 1'000'000'000ull + n * 1000, n};
      ++n;
      if (++i == frames.size()) i = 0;
    }
    w.process_burst(burst);
    w.maintain(1'000'000'000ull + n * 1000);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * burst.size()));
  state.counters["ns_per_packet"] = benchmark::Counter(static_cast<double>(state.iterations() * burst.size()),
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  const auto& a = w.counters().analysis;
  if (w.counters().malformed_total.value() != 0) state.SkipWithError("malformed frames in the mix");
  if (mode != Mode::flows_only && n >= frames.size() &&
      (a.http_requests.value() == 0 || a.dns_messages.value() == 0 ||
       a.tcp_events[static_cast<std::size_t>(netscope::analysis::TcpEvent::handshake_complete)].value() == 0)) {
    static std::string why;
    why = "the analysis did not see the mix: http " + std::to_string(a.http_requests.value()) + " dns " +
          std::to_string(a.dns_messages.value()) + " flows " + std::to_string(w.counters().flows_created.value());
    state.SkipWithError(why.c_str());
  }
}

void BM_MixFlowsOnly(benchmark::State& s) { run(s, Mode::flows_only); }
void BM_MixFlowAnalysis(benchmark::State& s) { run(s, Mode::analysis); }
void BM_MixEverything(benchmark::State& s) { run(s, Mode::everything); }

BENCHMARK(BM_MixFlowsOnly);
BENCHMARK(BM_MixFlowAnalysis);
BENCHMARK(BM_MixEverything);

}  // namespace

BENCHMARK_MAIN();
