// The analyzer runtime: RX lcores feeding per-lcore engine::Workers, and the control lcore.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "netscope/engine/worker.hpp"
#include "netscope/report/report.hpp"
#include "netscope/runtime/runtime.hpp"
#include "ports.hpp"

namespace netscope::runtime {

namespace {

std::atomic<bool> g_stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free);

constexpr unsigned kMaxBurst = 512;

struct QueueRef {
  std::uint16_t port = 0;
  std::uint16_t queue = 0;
  std::uint64_t timestamp_scale = 0;  ///< mbuf timestamp units to ns; 0 for TSC time
  std::uint64_t next_index = 0;       ///< packet index within this queue's input
};

/// Everything one RX lcore owns. Written only by that lcore while running.
struct alignas(64) RxContext {
  unsigned lcore = 0;
  std::vector<QueueRef> queues;
  std::unique_ptr<engine::Worker> worker;
  std::uint16_t burst = 32;
  int ts_offset = -1;
  std::uint64_t ts_flag = 0;
  std::uint64_t unix_ns0 = 0;  ///< wall clock at tsc0
  std::uint64_t tsc0 = 0;
  double ns_per_tsc = 0;
  alignas(64) std::array<std::uint8_t, 16384> scratch{};  ///< linearized multi-segment frames
};

std::atomic<bool> g_workers_stop{false};

std::uint64_t unix_now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

/// Polls every queue of `ctx` once. Returns packets processed.
unsigned poll_once(RxContext& ctx) noexcept {
  rte_mbuf* bufs[kMaxBurst];
  unsigned total = 0;
  for (QueueRef& q : ctx.queues) {
    const std::uint16_t n = rte_eth_rx_burst(q.port, q.queue, bufs, ctx.burst);
    if (n == 0) continue;
    std::uint64_t tsc_now_ns = 0;
    if (q.timestamp_scale == 0) {
      tsc_now_ns = ctx.unix_ns0 +
                   static_cast<std::uint64_t>(static_cast<double>(rte_rdtsc() - ctx.tsc0) * ctx.ns_per_tsc);
    }
    for (std::uint16_t i = 0; i < n; ++i) {
      if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(bufs[i + 1], const void*));
      rte_mbuf* m = bufs[i];
      const std::uint8_t* data = rte_pktmbuf_mtod(m, const std::uint8_t*);
      std::uint32_t len = m->data_len;
      if (m->nb_segs > 1) [[unlikely]] {
        len = std::min<std::uint32_t>(m->pkt_len, static_cast<std::uint32_t>(ctx.scratch.size()));
        data = static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, 0, len, ctx.scratch.data()));
      }
      std::uint64_t ts = tsc_now_ns;
      if (q.timestamp_scale != 0 && ctx.ts_offset >= 0 && (m->ol_flags & ctx.ts_flag) != 0) {
        ts = *RTE_MBUF_DYNFIELD(m, ctx.ts_offset, const rte_mbuf_timestamp_t*) * q.timestamp_scale;
      }
      ctx.worker->process(decode::Bytes(data, len), m->pkt_len, ts, q.port, q.next_index++);
    }
    rte_pktmbuf_free_bulk(bufs, n);
    total += n;
  }
  return total;
}

int rx_lcore_main(void* arg) {
  auto& ctx = *static_cast<RxContext*>(arg);
  while (!g_workers_stop.load(std::memory_order_relaxed)) {
    poll_once(ctx);
  }
  return 0;
}

struct Control {
  const config::Config& cfg;
  std::vector<PortState>& ports;
  std::vector<std::unique_ptr<RxContext>>& contexts;
  bool quiet;
  std::uint64_t start_tsc = rte_rdtsc();
  std::uint64_t hz = rte_get_tsc_hz();
  std::uint64_t last_progress_tsc = rte_rdtsc();
  std::uint64_t last_packets = 0;
  std::uint64_t last_events = 0;
  std::string stop_reason;

  std::uint64_t analyzed(std::uint16_t port) const {
    std::uint64_t n = 0;
    for (const auto& c : contexts) n += c->worker->counters().ports[port].packets.value();
    return n;
  }

  /// True when every replay port has delivered every record of its captures and the
  /// workers have analyzed all of them. Packets lost inside the PMD (no mbuf, error) are
  /// accounted for by its counters, so the end can never come early or never.
  bool replay_finished() const {
    bool any = false;
    for (const PortState& p : ports) {
      if (!p.replay) return false;
      any = true;
      rte_eth_stats st{};
      if (rte_eth_stats_get(p.id, &st) != 0) return false;
      if (st.ipackets + st.rx_nombuf + st.ierrors < p.expected_packets) return false;
      if (p.id < engine::kMaxPorts && analyzed(p.id) < st.ipackets) return false;
    }
    return any;
  }

  void progress(bool force) {
    const std::uint64_t now = rte_rdtsc();
    if (!force && now - last_progress_tsc < hz) return;
    std::uint64_t packets = 0;
    std::uint64_t events = 0;
    std::uint64_t sas = 0;
    for (const auto& c : contexts) {
      packets += c->worker->counters().packets.value();
      events += c->worker->counters().events_total.value();
      sas += c->worker->counters().sas_created.value();
    }
    const double dt = static_cast<double>(now - last_progress_tsc) / static_cast<double>(hz);
    const double elapsed = static_cast<double>(now - start_tsc) / static_cast<double>(hz);
    if (cfg.progress && !quiet) {
      std::fprintf(stderr, "netscope: %7.1fs packets %llu (%.0f pps) sas %llu anomalies +%llu\n",
                   elapsed, static_cast<unsigned long long>(packets),
                   dt > 0 ? static_cast<double>(packets - last_packets) / dt : 0.0,
                   static_cast<unsigned long long>(sas),
                   static_cast<unsigned long long>(events - last_events));
    }
    last_progress_tsc = now;
    last_packets = packets;
    last_events = events;
  }

  /// One control step. Returns true when the run should stop.
  bool tick() {
    if (g_stop_requested.load(std::memory_order_relaxed)) {
      stop_reason = "signal";
      return true;
    }
    const double elapsed =
        static_cast<double>(rte_rdtsc() - start_tsc) / static_cast<double>(hz);
    if (cfg.duration_s > 0 && elapsed >= cfg.duration_s) {
      stop_reason = "duration";
      return true;
    }
    if (!cfg.live && replay_finished()) {
      stop_reason = "end_of_input";
      return true;
    }
    progress(false);
    return false;
  }
};

void signal_handler(int) { request_stop(); }

}  // namespace

void request_stop() noexcept { g_stop_requested.store(true, std::memory_order_relaxed); }

int run_analyzer(const config::Config& cfg, bool quiet) {
  struct sigaction sa {};
  sa.sa_handler = signal_handler;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::vector<PortState> ports;
  try {
    ports = discover_ports();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "netscope: %s\n", e.what());
    return 1;
  }
  if (ports.empty()) {
    std::fprintf(stderr,
                 "netscope: no ports: add one with an EAL option such as "
                 "--vdev=net_pcap0,rx_pcap=FILE (and --no-pci)\n");
    return 2;
  }
  for (const PortState& p : ports) {
    if (p.id >= engine::kMaxPorts) {
      std::fprintf(stderr, "netscope: port %u: at most %zu ports are supported\n", p.id,
                   engine::kMaxPorts);
      return 2;
    }
  }

  // Lcore roles: the main lcore controls; every other lcore polls RX queues.
  std::vector<unsigned> rx_lcores;
  unsigned lc = 0;
  RTE_LCORE_FOREACH_WORKER(lc) { rx_lcores.push_back(lc); }
  const bool control_polls = rx_lcores.empty();
  if (control_polls) rx_lcores.push_back(rte_get_main_lcore());

  int ts_offset = -1;
  std::uint64_t ts_flag = 0;
  if (rte_mbuf_dyn_rx_timestamp_register(&ts_offset, &ts_flag) != 0) ts_offset = -1;

  std::vector<std::unique_ptr<RxContext>> contexts;
  const std::uint64_t unix0 = unix_now_ns();
  const std::uint64_t tsc0 = rte_rdtsc();
  for (unsigned l : rx_lcores) {
    auto ctx = std::make_unique<RxContext>();
    ctx->lcore = l;
    ctx->worker = std::make_unique<engine::Worker>(cfg.engine);
    ctx->burst = static_cast<std::uint16_t>(std::min<unsigned>(cfg.burst, kMaxBurst));
    ctx->ts_offset = ts_offset;
    ctx->ts_flag = ts_flag;
    ctx->unix_ns0 = unix0;
    ctx->tsc0 = tsc0;
    ctx->ns_per_tsc = 1e9 / static_cast<double>(rte_get_tsc_hz());
    contexts.push_back(std::move(ctx));
  }
  // Spread queues over RX lcores round-robin.
  std::size_t next = 0;
  unsigned total_queues = 0;
  for (const PortState& p : ports) {
    for (std::uint16_t q = 0; q < p.rx_queues; ++q) {
      contexts[next % contexts.size()]->queues.push_back(QueueRef{p.id, q, p.timestamp_scale, 0});
      ++next;
      ++total_queues;
    }
  }

  const unsigned mbufs = std::max<unsigned>(
      cfg.mbufs, total_queues * (cfg.rx_ring + cfg.burst) + static_cast<unsigned>(contexts.size()) * 512 + 1024);
  rte_mempool* pool = rte_pktmbuf_pool_create("netscope_rx", mbufs, 256, 0,
                                              RTE_MBUF_DEFAULT_BUF_SIZE,
                                              static_cast<int>(rte_socket_id()));
  if (pool == nullptr) {
    std::fprintf(stderr,
                 "netscope: cannot allocate %u mbufs: %s (raise EAL -m, or lower runtime.mbufs)\n",
                 mbufs, rte_strerror(rte_errno));
    return 1;
  }
  try {
    for (const PortState& p : ports) start_port(p, cfg, pool);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "netscope: %s\n", e.what());
    return 1;
  }

  if (!quiet) {
    std::fprintf(stderr, "netscope: %-6s %-4s %-8s %s\n", "lcore", "cpu", "role", "port/queue");
    std::fprintf(stderr, "netscope: %-6u %-4d %-8s %s\n", rte_get_main_lcore(),
                 rte_lcore_to_cpu_id(static_cast<int>(rte_get_main_lcore())),
                 control_polls ? "ctl+rx" : "control", control_polls ? "(all)" : "-");
    if (!control_polls) {
      for (const auto& c : contexts) {
        std::string qs;
        for (const QueueRef& q : c->queues) {
          qs += (qs.empty() ? "" : " ") + std::to_string(q.port) + "/" + std::to_string(q.queue);
        }
        std::fprintf(stderr, "netscope: %-6u %-4d %-8s %s\n", c->lcore,
                     rte_lcore_to_cpu_id(static_cast<int>(c->lcore)), "rx", qs.c_str());
      }
    }
    for (const PortState& p : ports) {
      std::fprintf(stderr, "netscope: port %u %s (%s)%s%s\n", p.id, p.name.c_str(), p.driver.c_str(),
                   p.replay ? ", replay of " : "",
                   p.replay ? (std::to_string(p.expected_packets) + " packets").c_str() : "");
    }
  }

  const std::uint64_t start_ns = unix_now_ns();
  Control control{cfg, ports, contexts, quiet};
  g_workers_stop.store(false);
  if (!control_polls) {
    for (auto& c : contexts) {
      rte_eal_remote_launch(rx_lcore_main, c.get(), c->lcore);
    }
    while (!control.tick()) {
      rte_delay_us_sleep(1000);
    }
    g_workers_stop.store(true);
    rte_eal_mp_wait_lcore();
  } else {
    RxContext& ctx = *contexts.front();
    std::uint64_t next_tick = rte_rdtsc();
    const std::uint64_t tick_cycles = rte_get_tsc_hz() / 1000;
    for (;;) {
      const unsigned got = poll_once(ctx);
      const std::uint64_t now = rte_rdtsc();
      if (got == 0 || now >= next_tick) {
        if (control.tick()) break;
        next_tick = now + tick_cycles;
      }
    }
  }
  control.progress(true);
  const std::uint64_t end_ns = unix_now_ns();

  // Everything polled has been analyzed (bursts are processed to completion); gather.
  report::RunSummary run;
  run.start_unix_ns = start_ns;
  run.end_unix_ns = end_ns;
  run.wall_seconds = static_cast<double>(end_ns - start_ns) / 1e9;
  run.stop_reason = control.stop_reason;
  run.config = &cfg;
  for (const auto& c : contexts) run.workers.push_back(c->worker.get());
  for (const PortState& p : ports) {
    report::PortSummary s;
    s.id = p.id;
    s.name = p.name;
    s.driver = p.driver;
    s.replay = p.replay;
    for (const std::string& f : p.files) s.source += (s.source.empty() ? "" : ",") + f;
    s.expected_packets = p.expected_packets;
    rte_eth_stats st{};
    if (rte_eth_stats_get(p.id, &st) == 0) {
      s.rx_packets = st.ipackets;
      s.rx_bytes = st.ibytes;
      s.rx_missed = st.imissed;
      s.rx_errors = st.ierrors;
      s.rx_nombuf = st.rx_nombuf;
    }
    if (!p.warning.empty()) run.capture_warning += (run.capture_warning.empty() ? "" : "; ") + p.warning;
    run.ports.push_back(s);
  }

  int rc = 0;
  if (!cfg.report_json.empty()) {
    const std::string tmp = cfg.report_json + ".tmp";
    {
      std::ofstream out(tmp);
      out << report::build_json(run).dump(2) << '\n';
      if (!out) {
        std::fprintf(stderr, "netscope: cannot write the JSON report to '%s'\n", tmp.c_str());
        rc = 1;
      }
    }
    if (rc == 0 && std::rename(tmp.c_str(), cfg.report_json.c_str()) != 0) {
      std::fprintf(stderr, "netscope: cannot write the JSON report to '%s'\n", cfg.report_json.c_str());
      rc = 1;
    }
  }
  if (cfg.report_text) report::write_text(run, stdout);

  for (const PortState& p : ports) {
    rte_eth_dev_stop(p.id);
    rte_eth_dev_close(p.id);
  }
  contexts.clear();
  rte_mempool_free(pool);
  return rc;
}

}  // namespace netscope::runtime
