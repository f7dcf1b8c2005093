// netscope-gen: MACsec/IPsec traffic generator with real crypto and exact sequence
// patterns. `netscope-gen [EAL options] -- --config FLOWS.yaml --pcap-out FILE [options]`.
// Only the arguments after `--` are ours (all of them when there is no `--`).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "netscope/packet/generator.hpp"
#include "netscope/packet/pcap_writer.hpp"
#include "netscope/packet/scenario.hpp"

namespace {

namespace pk = netscope::packet;

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
  std::string pacing = "constant";
  std::optional<double> start_time_s;
  std::uint32_t window = 64;
  std::uint64_t reset_threshold = 1u << 16;
  std::uint32_t stuck_threshold = 8;
  bool no_crypto = false;
};

int run(const Options& o, bool has_eal_args) {
  if (o.pcap_out.empty()) {
    return usage_error(has_eal_args ? "DPDK port output not built yet"
                                    : "--pcap-out FILE is required (DPDK port output not built yet)");
  }
  if (o.builtin_demo == !o.config.empty()) {
    return usage_error("give exactly one of --config FILE or --builtin-demo");
  }
  pk::Scenario scenario;
  try {
    scenario = o.builtin_demo ? pk::builtin_demo_scenario() : pk::load_scenario(o.config);
  } catch (const pk::ConfigError& e) {
    return usage_error(std::string("config error: ") + e.what());
  }

  pk::GeneratorOptions g;
  if (o.seed) {
    g.seed = *o.seed;
  } else {
    std::random_device rd;
    g.seed = (std::uint64_t{rd()} << 32) | rd();
  }
  // Command-line limits replace the flow file's count; with neither, the file's count holds.
  g.count = o.count ? *o.count : (o.duration_s ? 0 : scenario.count.value_or(0));
  if (o.duration_s) g.duration_ns = static_cast<std::uint64_t>(std::llround(*o.duration_s * 1e9));
  if (g.count == 0 && g.duration_ns == 0) {
    return usage_error("--count N or --duration SECONDS is required (the flow file sets no count)");
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
               achieved, g.rate_pps);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // EAL arguments (before `--`) belong to DPDK; ours follow `--`.
  int first_ours = 1;
  bool has_eal_args = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      first_ours = i + 1;
      has_eal_args = i > 1;
      break;
    }
  }
  std::vector<char*> ours{argv[0]};
  for (int i = first_ours; i < argc; ++i) ours.push_back(argv[i]);

  Options o;
  CLI::App app{"MACsec/IPsec traffic generator with real crypto and exact sequence patterns.\n"
               "netscope-gen [EAL options] -- [options]: only the options after -- are read here.",
               "netscope-gen"};
  app.add_option("--config", o.config, "Flow file (YAML, see docs/generator.md)");
  app.add_flag("--builtin-demo", o.builtin_demo, "Use the built-in demo scenario");
  app.add_option("--pcap-out", o.pcap_out, "Write frames to this pcap file");
  app.add_flag("--pcap-nsec", o.pcap_nsec, "Nanosecond pcap timestamps (default microseconds)");
  app.add_option("--truth-out", o.truth_out, "Write the expected analyzer SA report (JSON)");
  app.add_option("--count", o.count, "Frames in total, split by flow weight");
  app.add_option("--duration", o.duration_s, "Seconds of traffic (of timestamps at --rate-pps)")
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", o.seed, "Seed (random and printed when absent)");
  app.add_option("--rate-pps", o.rate_pps, "Frames per second (default 1e6)")
      ->check(CLI::PositiveNumber);
  app.add_option("--pacing", o.pacing, "constant or poisson")
      ->check(CLI::IsMember({"constant", "poisson"}));
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
  try {
    app.parse(static_cast<int>(ours.size()), ours.data());
  } catch (const CLI::CallForHelp&) {
    std::printf("%s", app.help().c_str());
    return 0;
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  return run(o, has_eal_args);
}
