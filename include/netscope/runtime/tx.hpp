// The DPDK transmit side of the generator: TX lcores that build frames with
// packet::Generator straight into mbufs, pace them and hand them to one ethdev port.
//
// One TxEngine drives one port. Each of its TX lcores owns one TX queue, one Generator and
// a disjoint set of flows (a shard), so no sequence counter is shared between lcores.
// Flows that the analyzer could see as one SA (MACsec: same SCI; IPsec: same destination)
// stay on one lcore, so the order of every SA's numbers on the wire is the generator's.
//
// Life cycle (control plane, one thread): construct (validates, sets up queues, mempool,
// and the port unless the caller owns it), optionally set_rate(), launch(), poll totals()/lanes()
// and done(), request_stop() on a signal, wait(), then truth_json() and port statistics.
// The analyzer can run a TxEngine on some of its worker lcores next to its RX lcores
// (generate on one port, analyze another in one process): give it the lcores, and either
// let it configure its own port or configure the TX queues yourself (TxOptions::queues),
// and call request_stop() before rte_eal_mp_wait_lcore(). The executable must also link
// the packet library (netscope_lib_deps['packet']).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "netscope/packet/generator.hpp"
#include "netscope/packet/scenario.hpp"
#include "netscope/util/counter.hpp"

struct rte_mempool;

namespace netscope::runtime {

/// A start-up problem of the TX side; what() is one line naming the cause.
class TxError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// How bursts are spaced in time.
enum class TxPacing : std::uint8_t {
  constant,  ///< bursts leave when their first frame is due (TSC clock)
  burst,     ///< as fast as the port takes them; no rate
  poisson,   ///< exponential gaps between bursts, mean = burst cost / rate
};

/// The unit of a TxRate.
enum class RateUnit : std::uint8_t {
  pps,     ///< frames per second
  bps_l2,  ///< bits per second of frames with their 4-byte FCS
  bps_l1,  ///< bits per second on the wire: FCS plus 20 bytes of preamble, SFD and IFG
};

inline constexpr std::uint32_t kTxFcsLen = 4;       ///< counted in rates, never written
inline constexpr std::uint32_t kTxL1Overhead = 20;  ///< preamble 7 + SFD 1 + IFG 12
inline constexpr std::uint16_t kTxMaxBurst = 64;

/// A rate for the whole port (split across lcores by the share of their flows).
struct TxRate {
  RateUnit unit = RateUnit::pps;
  double value = 0.0;  ///< 0 with any unit: no limit (as fast as possible)
};

/// Where and how a TxEngine sends (the scenario and seed come separately).
struct TxOptions {
  std::uint16_t port = 0;
  std::vector<unsigned> lcores;  ///< TX lcores (worker lcores, idle until launch())
  /// Empty: the engine configures the port with one TX queue per used lcore (and no RX
  /// queue), starts it, and stops and closes it when destroyed. Otherwise the caller has
  /// configured and will start the port; queues[i] is lcores[i]'s TX queue.
  std::vector<std::uint16_t> queues;
  rte_mempool* pool = nullptr;  ///< mbufs for TX; null: the engine creates and frees one
  TxPacing pacing = TxPacing::constant;
  TxRate rate;                   ///< ignored with TxPacing::burst
  std::uint64_t count = 0;       ///< frames in total (split by flow weight); 0: no limit
  double duration_s = 0.0;       ///< stop building frames this long after launch; 0: never
  std::uint16_t burst = 32;      ///< most frames per rte_eth_tx_burst, 1..kTxMaxBurst
  std::uint16_t tx_desc = 1024;  ///< TX descriptors per queue (engine-configured port)
  /// After a stop, the count or the duration, how long frames already built may wait for
  /// the port before they are freed and counted as drops. Before that nothing is dropped.
  double drain_timeout_s = 1.0;
};

/// Numbers of one TX lcore, or of the whole engine. Frame bytes exclude the FCS.
struct TxCounters {
  std::uint64_t packets = 0;         ///< frames the port accepted
  std::uint64_t bytes = 0;           ///< their bytes as written (no FCS)
  std::uint64_t retries = 0;         ///< rte_eth_tx_burst calls that left frames to send again
  std::uint64_t drops = 0;           ///< frames built but freed after the drain timeout
  std::uint64_t alloc_failures = 0;  ///< bulk allocations that failed (then retried)
  double seconds = 0.0;              ///< from this lcore's start to its end (or now)
  [[nodiscard]] double pps() const noexcept {
    return seconds > 0 ? static_cast<double>(packets) / seconds : 0.0;
  }
  [[nodiscard]] double bps_l2() const noexcept {
    return seconds > 0 ? 8.0 * static_cast<double>(bytes + kTxFcsLen * packets) / seconds : 0.0;
  }
  [[nodiscard]] double bps_l1() const noexcept {
    return seconds > 0
               ? 8.0 * static_cast<double>(bytes + (kTxFcsLen + kTxL1Overhead) * packets) / seconds
               : 0.0;
  }
};

/// One TX lcore: its queue, its share of the flows and rate, its numbers.
struct TxLaneStats {
  unsigned lcore = 0;
  std::uint16_t queue = 0;
  std::size_t flows = 0;   ///< flows this lcore owns
  double requested = 0.0;  ///< its share of the rate (TxOptions::rate.unit); 0: none
  TxCounters counters;
  /// CPU time its thread got while sending (CLOCK_THREAD_CPUTIME_ID at the start and end of
  /// its loop); below counters.seconds when the OS ran other work on its core. 0 until done.
  double cpu_seconds = 0.0;
};

/// One flow after the run: how many frames it got against its own rate.
struct TxFlowStats {
  std::string name;
  unsigned lcore = 0;
  double requested_pps = 0.0;  ///< the flow's rate_pps; 0 without per-flow rates
  std::uint64_t packets = 0;   ///< frames built for it (sent, plus any dropped after a stop)
  double seconds = 0.0;        ///< its lcore's sending time
  [[nodiscard]] double pps() const noexcept {
    return seconds > 0 ? static_cast<double>(packets) / seconds : 0.0;
  }
};

/// Speed of `port`'s link in Mbit/s, 0 when the link is down or the PMD does not say.
/// Does not wait.
std::uint32_t link_speed_mbps(std::uint16_t port) noexcept;

/// True when `port`'s link is up. Does not wait.
bool link_up(std::uint16_t port) noexcept;

/// Runs the generator on TX lcores into one port. Control-plane methods on one thread.
class TxEngine {
 public:
  /// Splits the flows over the lcores (at most one lcore per group of flows sharing an
  /// SA, at most the port's TX queues), builds one Generator per used lcore, creates the
  /// mempool and, unless TxOptions::queues is given, configures and starts the port.
  /// `generator` supplies the seed, crypto and truth thresholds; its count, duration,
  /// rate and shard fields are set by the engine. When the flows set rate_pps, the rate is
  /// their sum in pps (TxOptions::rate must be unset or equal, pacing not burst) and
  /// every flow is sent at its own rate. With one lcore the frames are those of
  /// the same seed's pcap output. Allocates; throws TxError or packet::ConfigError.
  TxEngine(const packet::Scenario& scenario, const packet::GeneratorOptions& generator,
           const TxOptions& options);
  /// Stops and waits for the lcores; stops and closes an engine-configured port and then
  /// frees an engine-created mempool (with caller-configured queues the pool is left to
  /// EAL cleanup: the caller's port may still hold its mbufs).
  ~TxEngine();
  TxEngine(const TxEngine&) = delete;
  TxEngine& operator=(const TxEngine&) = delete;

  /// Replaces the rate before launch() (e.g. a percentage once the link speed is known).
  /// Throws TxError when the flows set their own rate_pps.
  void set_rate(const TxRate& rate);

  /// Starts one TX loop per used lcore. Throws TxError when an lcore is busy. Once only.
  void launch();

  /// Asks every TX loop to stop building frames and drain. Async-signal-safe; any thread.
  void request_stop() noexcept { stop_.store(true, std::memory_order_relaxed); }

  /// True when every TX loop has finished (count, duration or stop, then drain). Any thread.
  [[nodiscard]] bool done() const noexcept;

  /// Waits for every TX loop to return. Control thread; idempotent.
  void wait();

  /// Totals and per-lcore numbers, read without locks while the loops run. Any thread.
  [[nodiscard]] TxCounters totals() const;
  [[nodiscard]] std::vector<TxLaneStats> lanes() const;
  /// Per flow, after wait() (throws TxError between launch() and wait()).
  [[nodiscard]] std::vector<TxFlowStats> flow_stats() const;
  /// True when the flows set their own rate_pps.
  [[nodiscard]] bool flow_rates() const noexcept { return flow_rates_; }

  /// The SA report the analyzer must produce for the frames actually sent (same schema as
  /// `netscope-gen --truth-out`). Not between launch() and wait() (throws TxError): replays each
  /// lcore's generator (without crypto) for exactly the frames the port accepted. Frames
  /// are dropped only after a stop, and then they are the last ones an lcore built, so
  /// the replay is exact. Allocates; takes about a second per 10 million frames.
  [[nodiscard]] std::string truth_json() const;

  [[nodiscard]] std::uint16_t port() const noexcept { return opt_.port; }
  [[nodiscard]] std::size_t lane_count() const noexcept;
  /// Lcores given but not used (fewer flow groups or TX queues than lcores).
  [[nodiscard]] const std::vector<unsigned>& idle_lcores() const noexcept { return idle_; }
  /// The rate requested for the whole port (TxOptions::rate after set_rate()).
  [[nodiscard]] const TxRate& rate() const noexcept { return opt_.rate; }
  [[nodiscard]] std::size_t max_frame_len() const noexcept { return max_frame_len_; }

  struct Lane;  ///< one TX lcore's state (internal)

 private:
  void setup_port();
  void apply_rate();

  TxOptions opt_;
  packet::GeneratorOptions gen_opt_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::vector<unsigned> idle_;
  std::size_t max_frame_len_ = 0;
  rte_mempool* pool_ = nullptr;
  bool own_pool_ = false;
  bool own_port_ = false;
  bool port_started_ = false;
  bool launched_ = false;
  bool waited_ = false;
  bool flow_rates_ = false;  ///< the flows set rate_pps; the rate is their sum
  std::atomic<bool> stop_{false};
};

}  // namespace netscope::runtime
