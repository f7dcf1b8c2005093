// netscope-gen: MACsec/IPsec traffic generator with real crypto and exact sequence
// patterns.
//   netscope-gen -- --config FLOWS.yaml --pcap-out FILE [options]      (a file, no DPDK)
//   netscope-gen EAL-OPTIONS -- --config FLOWS.yaml [options]          (DPDK ports)
// Only the arguments after `--` are ours (all of them when there is no `--`). With EAL
// options and no --pcap-out, every ethdev port (or --port N) is fed by the TX lcores (every
// lcore but the main one, which reports).
#include <CLI/CLI.hpp>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <exception>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "netscope/packet/generator.hpp"
#include "netscope/packet/pcap_writer.hpp"
#include "netscope/packet/scenario.hpp"
#include "netscope/runtime/runtime.hpp"
#include "netscope/runtime/tx.hpp"

namespace {

namespace pk = netscope::packet;
namespace rt = netscope::runtime;

constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "netscope-gen: %s\n", msg.c_str());
  return kExitUsage;
}

struct Options {
  std::string config;
  bool builtin_demo = false;
  std::string pcap_out;
  bool pcap_nsec = false;
  std::string truth_out;
  std::optional<std::uint64_t> count;
  std::optional<double> duration_s;
  std::optional<std::uint64_t> seed;
  std::optional<double> rate_pps;
  std::optional<double> rate_bps;
  std::optional<double> rate_percent;
  std::string rate_layer = "l1";
  std::string pacing = "constant";
  std::optional<double> start_time_s;
  std::uint32_t window = 64;
  std::uint64_t reset_threshold = 1u << 16;
  std::uint32_t stuck_threshold = 8;
  bool no_crypto = false;
  // DPDK mode
  std::optional<std::uint16_t> port;
  std::string stats_json;
  std::uint16_t burst = 32;
  double link_wait_s = 10.0;
  double drain_timeout_s = 1.0;
};

/// The scenario and generator options common to both modes. Returns 0 or an exit code.
int prepare(const Options& o, bool dpdk, pk::Scenario& scenario, pk::GeneratorOptions& g) {
  if (o.builtin_demo == !o.config.empty()) {
    return usage_error("give exactly one of --config FILE or --builtin-demo");
  }
  try {
    scenario = o.builtin_demo ? pk::builtin_demo_scenario() : pk::load_scenario(o.config);
  } catch (const pk::ConfigError& e) {
    return usage_error(std::string("config error: ") + e.what());
  }
  if (o.seed) {
    g.seed = *o.seed;
  } else {
    std::random_device rd;
    g.seed = (std::uint64_t{rd()} << 32) | rd();
  }
  // Command-line limits replace the flow file's count; with neither, the file's count holds.
  g.count = o.count ? *o.count : (o.duration_s ? 0 : scenario.count.value_or(0));
  if (o.duration_s) g.duration_ns = static_cast<std::uint64_t>(std::llround(*o.duration_s * 1e9));
  if (!dpdk && g.count == 0 && g.duration_ns == 0) {
    return usage_error("--count N or --duration SECONDS is required (the flow file sets no count)");
  }
  if (scenario.flow_rates() && (o.rate_pps || o.rate_bps || o.rate_percent || o.pacing == "burst")) {
    return usage_error(
        "the flows set their own rate_pps: --rate-pps, --rate-bps, --rate-percent and "
        "--pacing burst do not apply");
  }
  g.rate_pps = o.rate_pps ? *o.rate_pps : scenario.rate_pps.value_or(1e6);
  g.pacing = o.pacing == "poisson" ? pk::Pacing::poisson : pk::Pacing::constant;
  if (o.start_time_s) {
    g.start_time_ns = static_cast<std::uint64_t>(std::llround(*o.start_time_s * 1e9));
  }
  g.force_no_crypto = o.no_crypto;
  g.track_truth = !o.truth_out.empty();
  g.truth.window = o.window;
  g.truth.reset_threshold = o.reset_threshold;
  g.truth.stuck_threshold = o.stuck_threshold;
  return 0;
}

int run_pcap(const Options& o) {
  if (o.rate_bps || o.rate_percent || o.pacing == "burst" || o.port || !o.stats_json.empty()) {
    return usage_error(
        "--rate-bps, --rate-percent, --pacing burst, --port and --stats-json need DPDK ports "
        "(EAL options before '--' and no --pcap-out)");
  }
  pk::Scenario scenario;
  pk::GeneratorOptions g;
  if (const int rc = prepare(o, false, scenario, g); rc != 0) return rc;

  std::fprintf(stderr, "netscope-gen: seed %llu\n", static_cast<unsigned long long>(g.seed));
  std::optional<pk::Generator> gen;
  try {
    gen.emplace(scenario, g);
  } catch (const pk::ConfigError& e) {
    return usage_error(std::string("config error: ") + e.what());
  }

  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t first_ts = 0;
  std::uint64_t last_ts = 0;
  try {
    pk::PcapWriter pcap(o.pcap_out, o.pcap_nsec);
    std::vector<std::uint8_t> buf(gen->max_frame_len());
    std::uint64_t ts = 0;
    while (const std::size_t len = gen->next(buf, ts)) {
      if (gen->produced() == 1) first_ts = ts;
      last_ts = ts;
      pcap.write({buf.data(), len}, ts);
    }
    pcap.close();
    if (!o.truth_out.empty()) {
      std::ofstream out(o.truth_out);
      out << gen->finish_truth();
      out.close();
      if (!out) throw std::runtime_error("cannot write " + o.truth_out);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "netscope-gen: %s\n", e.what());
    return kExitRuntime;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::uint64_t n = gen->produced();
  const double span_s = static_cast<double>(last_ts - first_ts) / 1e9;
  // Achieved (timestamps) versus requested rate: the capture must not silently differ.
  const double achieved = n > 1 && span_s > 0 ? static_cast<double>(n - 1) / span_s : 0.0;
  std::fprintf(stderr,
               "netscope-gen: %llu frames, %llu bytes to %s in %.3f s (%.0f frames/s generated); "
               "timestamps span %.6f s: %.0f pps (requested %.0f)\n",
               static_cast<unsigned long long>(n), static_cast<unsigned long long>(gen->bytes()),
               o.pcap_out.c_str(), secs, secs > 0 ? static_cast<double>(n) / secs : 0.0, span_s,
               achieved, gen->requested_pps());
  if (scenario.flow_rates()) {
    // Per flow over the run's span (the duration when given): frames / seconds.
    const double run_s = g.duration_ns != 0 ? static_cast<double>(g.duration_ns) / 1e9 : span_s;
    for (std::size_t i = 0; i < gen->flow_count(); ++i) {
      const double a = run_s > 0 ? static_cast<double>(gen->flow_packets(i)) / run_s : 0.0;
      std::fprintf(stderr, "netscope-gen: flow %s: %llu frames, %.1f pps (requested %.1f)\n",
                   gen->flow(i).name.c_str(),
                   static_cast<unsigned long long>(gen->flow_packets(i)), a,
                   gen->flow(i).rate_pps);
    }
  }
  return 0;
}

// ---- DPDK mode ----

std::atomic<bool> g_signal{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_signal(int) { g_signal.store(true, std::memory_order_relaxed); }

std::string si(double v, const char* unit) {
  char b[64];
  if (v >= 1e9) {
    std::snprintf(b, sizeof b, "%.3f G%s", v / 1e9, unit);
  } else if (v >= 1e6) {
    std::snprintf(b, sizeof b, "%.3f M%s", v / 1e6, unit);
  } else if (v >= 1e3) {
    std::snprintf(b, sizeof b, "%.3f k%s", v / 1e3, unit);
  } else {
    std::snprintf(b, sizeof b, "%.0f %s", v, unit);
  }
  return b;
}

const char* layer_name(rt::RateUnit u) { return u == rt::RateUnit::bps_l2 ? "L2" : "L1"; }

/// A rate in its unit, for messages.
std::string rate_text(const rt::TxRate& r) {
  if (r.value <= 0) return "no limit";
  if (r.unit == rt::RateUnit::pps) return si(r.value, "pps");
  return si(r.value, "bit/s") + " " + layer_name(r.unit);
}

/// "+0.12%": how far `achieved` is from `requested`.
std::string deviation(double achieved, double requested) {
  char b[32];
  std::snprintf(b, sizeof b, "%+.2f%%", (achieved / requested - 1.0) * 100.0);
  return b;
}

/// The achieved value of `c` in the unit of `unit`.
double achieved_in(const rt::TxCounters& c, rt::RateUnit unit) {
  switch (unit) {
    case rt::RateUnit::pps:
      return c.pps();
    case rt::RateUnit::bps_l2:
      return c.bps_l2();
    case rt::RateUnit::bps_l1:
      return c.bps_l1();
  }
  return 0.0;
}

std::string port_label(std::uint16_t port) {
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  rte_eth_dev_get_name_by_port(port, name);
  return std::to_string(port) + " (" + name + ")";
}

bool wait_link(std::uint16_t port, double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!rt::link_up(port)) {
    if (g_signal.load() || std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

struct Run {
  std::vector<std::unique_ptr<rt::TxEngine>> engines;
  rt::TxRate requested;  ///< for all ports together
  std::string pacing;
  double percent = 0.0;

  rt::TxCounters totals() const {
    rt::TxCounters t;
    for (const auto& e : engines) {
      const rt::TxCounters c = e->totals();
      t.packets += c.packets;
      t.bytes += c.bytes;
      t.retries += c.retries;
      t.drops += c.drops;
      t.alloc_failures += c.alloc_failures;
      t.seconds = std::max(t.seconds, c.seconds);
    }
    return t;
  }
  bool done() const {
    for (const auto& e : engines) {
      if (!e->done()) return false;
    }
    return true;
  }
};

nlohmann::ordered_json stats_document(const Run& run, const rt::TxCounters& t,
                                      const std::string& stop) {
  nlohmann::ordered_json j;
  j["packets"] = t.packets;
  j["bytes"] = t.bytes;
  j["seconds"] = t.seconds;
  j["achieved"] = {{"pps", t.pps()}, {"bps_l1", t.bps_l1()}, {"bps_l2", t.bps_l2()}};
  if (run.requested.value > 0) {
    nlohmann::ordered_json r;
    r["unit"] = run.requested.unit == rt::RateUnit::pps ? "pps" : "bps";
    if (run.requested.unit != rt::RateUnit::pps) {
      r["layer"] = run.requested.unit == rt::RateUnit::bps_l1 ? "l1" : "l2";
    }
    r["value"] = run.requested.value;
    if (run.percent > 0) r["percent"] = run.percent;
    r["achieved"] = achieved_in(t, run.requested.unit);
    j["requested"] = r;
  } else {
    j["requested"] = nullptr;
  }
  j["pacing"] = run.pacing;
  j["stop_reason"] = stop;
  j["retries"] = t.retries;
  j["drops"] = t.drops;
  j["alloc_failures"] = t.alloc_failures;
  j["ports"] = nlohmann::ordered_json::array();
  j["lcores"] = nlohmann::ordered_json::array();
  j["flows"] = nlohmann::ordered_json::array();
  for (const auto& e : run.engines) {
    nlohmann::ordered_json p;
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    rte_eth_dev_get_name_by_port(e->port(), name);
    p["port"] = e->port();
    p["name"] = name;
    rte_eth_stats st{};
    if (rte_eth_stats_get(e->port(), &st) == 0) {
      p["opackets"] = st.opackets;
      p["obytes"] = st.obytes;
      p["oerrors"] = st.oerrors;
    }
    j["ports"].push_back(p);
    for (const rt::TxLaneStats& s : e->lanes()) {
      nlohmann::ordered_json l;
      l["lcore"] = s.lcore;
      l["port"] = e->port();
      l["queue"] = s.queue;
      l["flows"] = s.flows;
      l["packets"] = s.counters.packets;
      l["bytes"] = s.counters.bytes;
      l["seconds"] = s.counters.seconds;
      l["cpu_seconds"] = s.cpu_seconds;
      l["pps"] = s.counters.pps();
      l["bps_l1"] = s.counters.bps_l1();
      l["bps_l2"] = s.counters.bps_l2();
      l["requested"] = s.requested;
      l["retries"] = s.counters.retries;
      l["drops"] = s.counters.drops;
      j["lcores"].push_back(l);
    }
    for (const rt::TxFlowStats& f : e->flow_stats()) {
      nlohmann::ordered_json fl;
      fl["name"] = f.name;
      fl["port"] = e->port();
      fl["lcore"] = f.lcore;
      fl["packets"] = f.packets;
      fl["pps"] = f.pps();
      fl["requested_pps"] = f.requested_pps > 0 ? nlohmann::ordered_json(f.requested_pps)
                                                : nlohmann::ordered_json(nullptr);
      j["flows"].push_back(fl);
    }
  }
  return j;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  return static_cast<bool>(out);
}

int run_dpdk(const Options& o, int eal_argc, char** eal_argv) {
  // Everything that needs no EAL is checked first.
  const int rates = (o.rate_pps ? 1 : 0) + (o.rate_bps ? 1 : 0) + (o.rate_percent ? 1 : 0);
  if (rates > 1) return usage_error("give at most one of --rate-pps, --rate-bps, --rate-percent");
  if (o.pacing == "burst" && rates != 0) {
    return usage_error(
        "--pacing burst sends as fast as the port takes frames: it takes no --rate-*");
  }
  if (o.rate_percent && !(*o.rate_percent > 0 && *o.rate_percent <= 100)) {
    return usage_error("--rate-percent must be in (0, 100]");
  }
  if (o.start_time_s) return usage_error("--start-time applies to --pcap-out only");
  pk::Scenario scenario;
  pk::GeneratorOptions g;
  if (const int rc = prepare(o, true, scenario, g); rc != 0) return rc;
  try {
    pk::validate(scenario);
    pk::Generator probe(scenario, g);  // the generator's own checks, before EAL starts
  } catch (const pk::ConfigError& e) {
    return usage_error(std::string("config error: ") + e.what());
  }

  if (rt::init_eal(eal_argc, eal_argv) < 0) return kExitUsage;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  int rc = 0;
  {
    std::vector<std::uint16_t> ports;
    if (o.port) {
      if (!rte_eth_dev_is_valid_port(*o.port)) {
        std::string have;
        std::uint16_t p = 0;
        RTE_ETH_FOREACH_DEV(p) { have += (have.empty() ? "" : ", ") + port_label(p); }
        rte_eal_cleanup();
        return usage_error("--port " + std::to_string(*o.port) +
                           ": no such port (ports: " + (have.empty() ? "none" : have) + ")");
      }
      ports.push_back(*o.port);
    } else {
      std::uint16_t p = 0;
      RTE_ETH_FOREACH_DEV(p) { ports.push_back(p); }
    }
    std::vector<unsigned> workers;
    unsigned lc = 0;
    RTE_LCORE_FOREACH_WORKER(lc) { workers.push_back(lc); }
    std::string problem;
    if (ports.empty()) {
      problem =
          "no ports: add one with an EAL option such as --vdev=net_null0 or "
          "--vdev=net_pcap0,tx_pcap=FILE (and --no-pci)";
    } else if (workers.size() < ports.size()) {
      problem = std::to_string(ports.size()) +
                " port(s) need at least as many TX lcores besides the "
                "main lcore (e.g. -l 0-" +
                std::to_string(ports.size()) + "); got " + std::to_string(workers.size());
    } else if (!o.truth_out.empty() && ports.size() > 1) {
      problem = "--truth-out describes one port's traffic: choose it with --port N";
    }
    if (!problem.empty()) {
      rte_eal_cleanup();
      return usage_error(problem);
    }

    Run run;
    run.pacing = o.pacing;
    rt::TxRate rate;
    const rt::RateUnit bps_unit =
        o.rate_layer == "l2" ? rt::RateUnit::bps_l2 : rt::RateUnit::bps_l1;
    if (o.rate_pps) {
      rate = {rt::RateUnit::pps, *o.rate_pps};
    } else if (o.rate_bps) {
      rate = {bps_unit, *o.rate_bps};
    } else if (!o.rate_percent && o.pacing != "burst" && scenario.rate_pps) {
      rate = {rt::RateUnit::pps, *scenario.rate_pps};
    } else if (scenario.flow_rates()) {
      rate = {rt::RateUnit::pps, scenario.flow_rate_sum()};
    }
    if (o.rate_percent) rate.unit = bps_unit;
    run.requested = rate;
    run.requested.value = 0;

    try {
      for (std::size_t pi = 0; pi < ports.size(); ++pi) {
        rt::TxOptions t;
        t.port = ports[pi];
        for (std::size_t i = pi; i < workers.size(); i += ports.size())
          t.lcores.push_back(workers[i]);
        t.pacing = o.pacing == "burst"     ? rt::TxPacing::burst
                   : o.pacing == "poisson" ? rt::TxPacing::poisson
                                           : rt::TxPacing::constant;
        t.rate = rate;
        t.count = g.count;
        t.duration_s = o.duration_s.value_or(0.0);
        t.burst = o.burst;
        t.drain_timeout_s = o.drain_timeout_s;
        run.engines.push_back(std::make_unique<rt::TxEngine>(scenario, g, t));
      }
    } catch (const pk::ConfigError& e) {
      run.engines.clear();
      rte_eal_cleanup();
      return usage_error(std::string("config error: ") + e.what());
    } catch (const std::exception& e) {
      run.engines.clear();
      rte_eal_cleanup();
      std::fprintf(stderr, "netscope-gen: %s\n", e.what());
      return kExitRuntime;
    }

    // Links: a percentage needs the speed; otherwise a down link only delays the frames
    // (the TX lcores wait for the port, they do not drop).
    for (auto& e : run.engines) {
      const bool up = wait_link(e->port(), o.link_wait_s);
      if (g_signal.load()) break;
      if (o.rate_percent) {
        const std::uint32_t mbps = up ? rt::link_speed_mbps(e->port()) : 0;
        if (mbps == 0) {
          const std::string msg = "--rate-percent: port " + port_label(e->port()) +
                                  " reports no link speed" + (up ? "" : " (link down)") +
                                  "; use --rate-pps or --rate-bps";
          run.engines.clear();
          rte_eal_cleanup();
          return usage_error(msg);
        }
        e->set_rate({bps_unit, *o.rate_percent / 100.0 * mbps * 1e6});
        run.percent = *o.rate_percent;
      } else if (!up) {
        std::fprintf(
            stderr,
            "netscope-gen: port %s: link down after %.1f s; frames wait until it comes up\n",
            port_label(e->port()).c_str(), o.link_wait_s);
      }
      run.requested.value += e->rate().value;
    }
    std::fprintf(stderr, "netscope-gen: seed %llu, AES-GCM on %s\n",
                 static_cast<unsigned long long>(g.seed),
                 std::string(pk::gcm_backend_description(pk::GcmBackend::automatic)).c_str());
    for (const auto& e : run.engines) {
      std::string lanes;
      for (const rt::TxLaneStats& s : e->lanes()) {
        lanes += " lcore " + std::to_string(s.lcore) + "/queue " + std::to_string(s.queue) + " (" +
                 std::to_string(s.flows) + " flows)";
      }
      std::fprintf(stderr, "netscope-gen: port %s: %s, pacing %s, TX%s\n",
                   port_label(e->port()).c_str(), rate_text(e->rate()).c_str(), o.pacing.c_str(),
                   lanes.c_str());
      if (!e->idle_lcores().empty()) {
        std::fprintf(
            stderr,
            "netscope-gen: port %u: %zu lcore(s) idle (flows sharing an SA stay on one lcore; "
            "one lcore per TX queue)\n",
            e->port(), e->idle_lcores().size());
      }
    }

    std::string stop_reason;
    if (g_signal.load()) {
      stop_reason = "signal";
    } else {
      try {
        for (auto& e : run.engines) e->launch();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "netscope-gen: %s\n", e.what());
        for (auto& en : run.engines) en->request_stop();
        rc = kExitRuntime;
      }
    }
    bool stop_sent = false;
    auto last = std::chrono::steady_clock::now();
    const auto start = last;
    std::uint64_t last_packets = 0;
    while (rc == 0 && stop_reason.empty() && !run.done()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (g_signal.load() && !stop_sent) {
        for (auto& e : run.engines) e->request_stop();
        stop_sent = true;
      }
      const auto now = std::chrono::steady_clock::now();
      const double dt = std::chrono::duration<double>(now - last).count();
      if (dt >= 1.0) {
        const rt::TxCounters t = run.totals();
        const double pps = static_cast<double>(t.packets - last_packets) / dt;
        std::string vs;
        if (run.requested.value > 0) {
          const double a = achieved_in(t, run.requested.unit);
          vs = "; average " + rate_text({run.requested.unit, a}) + " of " +
               rate_text(run.requested) + " requested (" + deviation(a, run.requested.value) + ")";
        }
        std::fprintf(
            stderr,
            "netscope-gen: %6.1f s  %llu frames  %s this second%s  retries %llu drops %llu\n",
            std::chrono::duration<double>(now - start).count(),
            static_cast<unsigned long long>(t.packets), si(pps, "pps").c_str(), vs.c_str(),
            static_cast<unsigned long long>(t.retries), static_cast<unsigned long long>(t.drops));
        last = now;
        last_packets = t.packets;
      }
    }
    for (auto& e : run.engines) e->wait();

    const rt::TxCounters t = run.totals();
    if (stop_reason.empty()) {
      if (g_signal.load()) {
        stop_reason = "signal";
      } else if (g.count != 0 && t.packets + t.drops >= g.count * run.engines.size()) {
        stop_reason = "count";
      } else {
        stop_reason = "duration";
      }
    }
    std::string vs = "no rate limit";
    if (run.requested.value > 0) {
      const double a = achieved_in(t, run.requested.unit);
      vs = "requested " + rate_text(run.requested) + ", achieved " +
           rate_text({run.requested.unit, a}) + " (" + deviation(a, run.requested.value) + ")";
    }
    std::fprintf(
        stderr,
        "netscope-gen: sent %llu frames, %llu bytes in %.3f s (stop: %s): %s, %s L1, %s L2; %s; "
        "retries %llu, drops %llu\n",
        static_cast<unsigned long long>(t.packets), static_cast<unsigned long long>(t.bytes),
        t.seconds, stop_reason.c_str(), si(t.pps(), "pps").c_str(), si(t.bps_l1(), "bit/s").c_str(),
        si(t.bps_l2(), "bit/s").c_str(), vs.c_str(), static_cast<unsigned long long>(t.retries),
        static_cast<unsigned long long>(t.drops));

    for (const auto& e : run.engines) {
      if (!e->flow_rates()) continue;
      for (const rt::TxFlowStats& f : e->flow_stats()) {
        std::fprintf(stderr, "netscope-gen: port %u flow %s: %llu frames, %s (requested %s, %s)\n",
                     e->port(), f.name.c_str(), static_cast<unsigned long long>(f.packets),
                     si(f.pps(), "pps").c_str(), si(f.requested_pps, "pps").c_str(),
                     deviation(f.pps(), f.requested_pps).c_str());
      }
    }
    if (!o.stats_json.empty() &&
        !write_file(o.stats_json, stats_document(run, t, stop_reason).dump(2) + "\n")) {
      std::fprintf(stderr, "netscope-gen: cannot write %s\n", o.stats_json.c_str());
      rc = kExitRuntime;
    }
    if (!o.truth_out.empty() && !run.engines.empty()) {
      try {
        if (!write_file(o.truth_out, run.engines.front()->truth_json())) {
          throw std::runtime_error("cannot write " + o.truth_out);
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "netscope-gen: %s\n", e.what());
        rc = kExitRuntime;
      }
    }
    run.engines.clear();  // stops and closes the ports (net_pcap closes its files)
  }
  rte_eal_cleanup();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  // EAL arguments (before `--`) belong to DPDK; ours follow `--`.
  int dash = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      dash = i;
      break;
    }
  }
  const int first_ours = dash < 0 ? 1 : dash + 1;
  const bool has_eal_args = dash > 1;
  std::vector<char*> ours{argv[0]};
  for (int i = first_ours; i < argc; ++i) ours.push_back(argv[i]);

  Options o;
  CLI::App app{
      "MACsec/IPsec traffic generator with real crypto and exact sequence patterns.\n"
      "netscope-gen -- [options] --pcap-out FILE: write a capture (no DPDK).\n"
      "netscope-gen EAL-OPTIONS -- [options]: send through DPDK ports (see docs/generator.md).",
      "netscope-gen"};
  app.add_option("--config", o.config, "Flow file (YAML, see docs/generator.md)");
  app.add_flag("--builtin-demo", o.builtin_demo, "Use the built-in demo scenario");
  app.add_option("--pcap-out", o.pcap_out, "Write frames to this pcap file (no DPDK)");
  app.add_flag("--pcap-nsec", o.pcap_nsec, "Nanosecond pcap timestamps (default microseconds)");
  app.add_option("--truth-out", o.truth_out, "Write the expected analyzer SA report (JSON)");
  app.add_option("--count", o.count, "Frames in total, split by flow weight (DPDK: 0 = no limit)");
  app.add_option("--duration", o.duration_s,
                 "Seconds of traffic (pcap: of timestamps at --rate-pps; DPDK: wall clock)")
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", o.seed, "Seed (random and printed when absent)");
  app.add_option("--rate-pps", o.rate_pps, "Frames per second (pcap default 1e6; DPDK: per port)")
      ->check(CLI::PositiveNumber);
  app.add_option("--rate-bps", o.rate_bps, "DPDK: bits per second per port, at --rate-layer")
      ->check(CLI::PositiveNumber);
  app.add_option("--rate-percent", o.rate_percent,
                 "DPDK: percent of the port's link speed, at --rate-layer")
      ->check(CLI::PositiveNumber);
  app.add_option("--rate-layer", o.rate_layer,
                 "l1 (frame + FCS + 20 bytes preamble/IFG, default) or l2 (frame + FCS)")
      ->check(CLI::IsMember({"l1", "l2"}));
  app.add_option("--pacing", o.pacing, "constant, poisson, or (DPDK) burst: as fast as possible")
      ->check(CLI::IsMember({"constant", "poisson", "burst"}));
  app.add_option("--start-time", o.start_time_s,
                 "Timestamp of the first frame, Unix seconds (default 2024-01-01T00:00:00Z)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--window", o.window, "Replay window W for the truth (32..4096)")
      ->check(CLI::Range(32, 4096));
  app.add_option("--reset-threshold", o.reset_threshold, "Reset threshold R for the truth")
      ->check(CLI::PositiveNumber);
  app.add_option("--stuck-threshold", o.stuck_threshold, "Stuck threshold S for the truth")
      ->check(CLI::Range(2, 1 << 20));
  app.add_flag("--no-crypto", o.no_crypto, "Treat every flow as crypto: none");
  app.add_option("--port", o.port, "DPDK: send on this port only (default: every port)");
  app.add_option("--stats-json", o.stats_json, "DPDK: write the final numbers (JSON) to FILE");
  app.add_option("--burst", o.burst, "DPDK: most frames per TX burst (1..64, default 32)")
      ->check(CLI::Range(1, static_cast<int>(netscope::runtime::kTxMaxBurst)));
  app.add_option("--link-wait", o.link_wait_s, "DPDK: seconds to wait for the link (default 10)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--drain-timeout", o.drain_timeout_s,
                 "DPDK: seconds built frames may wait for the port after a stop (default 1)")
      ->check(CLI::NonNegativeNumber);
  try {
    app.parse(static_cast<int>(ours.size()), ours.data());
  } catch (const CLI::CallForHelp&) {
    std::printf("%s", app.help().c_str());
    return 0;
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  if (!o.pcap_out.empty()) return run_pcap(o);
  if (!has_eal_args) {
    return usage_error(
        "give --pcap-out FILE, or EAL options before '--' to send through DPDK ports "
        "(e.g. --no-pci --vdev=net_null0 -l 0-1 --)");
  }
  std::vector<char*> eal_argv(argv, argv + dash);
  eal_argv.push_back(nullptr);
  return run_dpdk(o, dash, eal_argv.data());
}
