// TX lcores of the generator. See include/netscope/runtime/tx.hpp.
//
// The per-burst path: allocate a burst of mbufs, let the lane's Generator write each frame
// into its mbuf's data room, hand the burst to rte_eth_tx_burst and retry what the port
// did not take. Pacing is a TSC schedule per burst. No allocation, lock, exception or log
// in the loop; counters are single-writer.
#include "netscope/runtime/tx.hpp"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "netscope/packet/builders.hpp"
#include "netscope/packet/rng.hpp"
#include "netscope/packet/truth.hpp"

namespace netscope::runtime {

namespace pk = netscope::packet;

/// One TX lcore: its flows, its Generator, its pacing and its counters.
struct TxEngine::Lane {
  // Set up by the control plane before launch; read-only in the loop.
  unsigned lcore = 0;
  std::uint16_t port = 0;
  std::uint16_t queue = 0;
  pk::Scenario scenario;         ///< this lane's flows, in file order
  pk::GeneratorOptions gen_opt;  ///< seed and count of this lane
  std::uint64_t weight = 0;      ///< sum of its flows' weights
  double avg_frame_len = 0.0;    ///< sampled, bytes as written
  bool empty = false;            ///< its share of the count is zero
  rte_mempool* pool = nullptr;
  std::uint16_t burst = 32;
  bool paced = false;
  bool poisson = false;
  double requested = 0.0;      ///< its share of the rate, in the rate's unit
  double cost_fixed = 1.0;     ///< cost of a frame in the rate's unit: fixed part
  double cost_per_byte = 0.0;  ///<  ... and per byte written
  double cycles_per_cost = 0.0;
  std::uint64_t duration_cycles = 0;
  std::uint64_t drain_cycles = 0;
  const std::atomic<bool>* stop = nullptr;
  std::optional<pk::Generator> gen;
  pk::Rng rng;

  // Written by the lane's lcore only.
  alignas(64) util::Counter packets;
  util::Counter bytes;
  util::Counter retries;
  util::Counter drops;
  util::Counter alloc_failures;
  std::atomic<std::uint64_t> start_tsc{0};
  std::atomic<std::uint64_t> end_tsc{0};
  std::uint64_t start_cpu_ns = 0;  ///< thread CPU time at start_tsc; read after `finished`
  std::uint64_t end_cpu_ns = 0;
  std::atomic<bool> finished{false};
};

namespace {

/// Mean gap this short between bursts when paced: small enough to look constant on a
/// link, long enough to amortize rte_eth_tx_burst.
constexpr double kPacedBurstSeconds = 10e-6;
constexpr unsigned kMempoolCache = 256;
constexpr std::size_t kSampleFrames = 4096;

std::atomic<unsigned> g_engine_serial{0};

std::uint64_t thread_cpu_ns() noexcept {
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

int tx_loop(void* arg) noexcept {
  TxEngine::Lane& l = *static_cast<TxEngine::Lane*>(arg);
  rte_mbuf* pkts[kTxMaxBurst];
  std::uint32_t lens[kTxMaxBurst];
  std::uint8_t* data[kTxMaxBurst];
  l.start_cpu_ns = thread_cpu_ns();
  const std::uint64_t t0 = rte_rdtsc();
  l.start_tsc.store(t0, std::memory_order_release);
  const std::uint64_t deadline =
      l.duration_cycles != 0 ? t0 + l.duration_cycles : std::numeric_limits<std::uint64_t>::max();
  double next_due = static_cast<double>(t0);
  unsigned head = 0;
  unsigned pending = 0;
  std::uint64_t burst_bytes = 0;  ///< bytes of the burst built last
  bool building = !l.empty;
  std::uint64_t drain_until = 0;

  for (;;) {
    if (pending == 0) {
      if (!building) break;
      const std::uint64_t now = rte_rdtsc();
      if (l.stop->load(std::memory_order_relaxed) || now >= deadline) break;
      if (l.paced && static_cast<double>(now) < next_due) {
        rte_pause();
        continue;
      }
      if (rte_pktmbuf_alloc_bulk(l.pool, pkts, l.burst) != 0) {
        l.alloc_failures.add();
        rte_pause();
        continue;
      }
      // Every mbuf of the pool holds max_frame_len() (checked at construction).
      for (unsigned i = 0; i < l.burst; ++i) data[i] = rte_pktmbuf_mtod(pkts[i], std::uint8_t*);
      const auto n = static_cast<unsigned>(l.gen->next_burst(data, lens, l.burst));
      burst_bytes = 0;
      for (unsigned i = 0; i < n; ++i) {
        pkts[i]->data_len = static_cast<std::uint16_t>(lens[i]);
        pkts[i]->pkt_len = lens[i];
        burst_bytes += lens[i];
      }
      if (n < l.burst) {
        building = false;  // this lane's count is reached
        rte_pktmbuf_free_bulk(pkts + n, l.burst - n);
      }
      if (l.paced) {
        const double cost = l.cost_fixed * n + l.cost_per_byte * static_cast<double>(burst_bytes);
        double gap = cost * l.cycles_per_cost;
        if (l.poisson) gap *= -std::log1p(-l.rng.uniform());
        next_due += gap;
      }
      head = 0;
      pending = n;
      if (pending == 0) continue;
    }
    const std::uint16_t sent =
        rte_eth_tx_burst(l.port, l.queue, pkts + head, static_cast<std::uint16_t>(pending));
    if (sent != 0) {
      std::uint64_t b = burst_bytes;  // the whole burst at once: the usual case
      if (head != 0 || sent != pending) {
        b = 0;
        for (unsigned i = head; i < head + sent; ++i) b += lens[i];
      }
      l.packets.add(sent);
      l.bytes.add(b);
      head += sent;
      pending -= sent;
    }
    if (pending != 0) {
      // While running, the port is waited for (no frame is ever dropped, so the sequence
      // on the wire is the generator's). Once stopping, only for the drain timeout.
      l.retries.add();
      const std::uint64_t now = rte_rdtsc();
      if (!building || now >= deadline || l.stop->load(std::memory_order_relaxed)) {
        if (drain_until == 0) {
          drain_until = now + l.drain_cycles;
        } else if (now >= drain_until) {
          rte_pktmbuf_free_bulk(pkts + head, pending);
          l.drops.add(pending);
          pending = 0;
          break;
        }
      }
    }
  }
  // A paced count ends when its last burst's time slot does, so that the achieved rate of
  // `--count N` at R is N/R and not N/(N-1) R.
  if (l.paced && !building) {
    while (static_cast<double>(rte_rdtsc()) < next_due &&
           !l.stop->load(std::memory_order_relaxed)) {
      rte_pause();
    }
  }
  l.end_cpu_ns = thread_cpu_ns();
  l.end_tsc.store(rte_rdtsc(), std::memory_order_release);
  l.finished.store(true, std::memory_order_release);
  return 0;
}

/// Identity of the analyzer SAs a flow can produce: flows with equal keys must be sent by
/// one lcore (MACsec rekeys compare ANs of one SCI; IPsec SPIs may collide per destination).
std::string sa_group_key(const pk::FlowSpec& f, std::size_t index) {
  if (f.protocol == pk::FlowProtocol::macsec) {
    const std::uint64_t sci = f.macsec.sc ? f.macsec.sci : pk::implicit_sci(f.src_mac);
    return "macsec/" + std::to_string(sci);
  }
  if (f.is_ipsec()) {
    const pk::IpFields& outer = f.ipsec.mode == pk::IpsecMode::tunnel ? f.ipsec.outer : f.ip;
    return "ipsec/" + pk::ip_to_string(outer.dst);
  }
  return "plain/" + std::to_string(index);
}

/// Flow indices per lane: groups of flows sharing SAs, largest weight first, each to the
/// lane with the least weight so far. At most `max_lanes` lanes, none empty.
/// A flow's share of its port: its weight, or with per-flow rates its rate in mpps
/// (integer, so that the count splits exactly as with weights).
std::uint64_t share_of(const pk::FlowSpec& f) noexcept {
  if (f.rate_pps > 0.0) return std::max<std::uint64_t>(1, std::llround(f.rate_pps * 1000.0));
  return f.weight;
}

std::vector<std::vector<std::size_t>> plan_lanes(const pk::Scenario& s, std::size_t max_lanes) {
  std::vector<std::vector<std::size_t>> groups;
  std::vector<std::uint64_t> group_weight;
  std::map<std::string, std::size_t> by_key;
  for (std::size_t i = 0; i < s.flows.size(); ++i) {
    const auto [it, added] = by_key.emplace(sa_group_key(s.flows[i], i), groups.size());
    if (added) {
      groups.emplace_back();
      group_weight.push_back(0);
    }
    groups[it->second].push_back(i);
    group_weight[it->second] += share_of(s.flows[i]);
  }
  std::vector<std::size_t> order(groups.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return group_weight[a] > group_weight[b]; });
  const std::size_t n = std::min(max_lanes, groups.size());
  std::vector<std::vector<std::size_t>> lanes(n);
  std::vector<std::uint64_t> load(n, 0);
  for (const std::size_t g : order) {
    const std::size_t to =
        static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    lanes[to].insert(lanes[to].end(), groups[g].begin(), groups[g].end());
    load[to] += group_weight[g];
  }
  for (auto& l : lanes) std::sort(l.begin(), l.end());
  return lanes;
}

std::string port_name(std::uint16_t port) {
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  if (rte_eth_dev_get_name_by_port(port, name) != 0) return "port " + std::to_string(port);
  return std::string(name);
}

double cost_fixed_of(RateUnit u) noexcept {
  switch (u) {
    case RateUnit::pps:
      return 1.0;
    case RateUnit::bps_l2:
      return 8.0 * kTxFcsLen;
    case RateUnit::bps_l1:
      return 8.0 * (kTxFcsLen + kTxL1Overhead);
  }
  return 1.0;
}

double cost_per_byte_of(RateUnit u) noexcept { return u == RateUnit::pps ? 0.0 : 8.0; }

}  // namespace

std::uint32_t link_speed_mbps(std::uint16_t port) noexcept {
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(port, &link) != 0) return 0;
  if (link.link_status != RTE_ETH_LINK_UP) return 0;
  if (link.link_speed == RTE_ETH_SPEED_NUM_NONE || link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN)
    return 0;
  return link.link_speed;
}

bool link_up(std::uint16_t port) noexcept {
  rte_eth_link link{};
  return rte_eth_link_get_nowait(port, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

TxEngine::TxEngine(const pk::Scenario& scenario, const pk::GeneratorOptions& generator,
                   const TxOptions& options)
    : opt_(options), gen_opt_(generator) {
  pk::validate(scenario);
  if (!rte_eth_dev_is_valid_port(opt_.port)) {
    throw TxError("port " + std::to_string(opt_.port) + " does not exist");
  }
  if (opt_.lcores.empty()) throw TxError("no TX lcore");
  for (const unsigned l : opt_.lcores) {
    if (l >= RTE_MAX_LCORE || !rte_lcore_is_enabled(l) || l == rte_get_main_lcore()) {
      throw TxError("lcore " + std::to_string(l) + " is not an enabled worker lcore");
    }
  }
  if (!opt_.queues.empty() && opt_.queues.size() != opt_.lcores.size()) {
    throw TxError("one TX queue per TX lcore is needed (" + std::to_string(opt_.lcores.size()) +
                  " lcores, " + std::to_string(opt_.queues.size()) + " queues)");
  }
  if (opt_.burst == 0 || opt_.burst > kTxMaxBurst) {
    throw TxError("burst must be 1.." + std::to_string(kTxMaxBurst));
  }
  if (!(opt_.duration_s >= 0.0) || !(opt_.drain_timeout_s >= 0.0) || !(opt_.rate.value >= 0.0)) {
    throw TxError("duration, drain timeout and rate must not be negative");
  }
  own_port_ = opt_.queues.empty();
  if (scenario.flow_rates()) {
    // Each flow's rate is its own: the port's rate is their sum, split over the lanes by
    // the rates of their flows; a lane's Generator interleaves its flows by their schedules.
    if (opt_.pacing == TxPacing::burst) {
      throw TxError("the flows set rate_pps: pacing burst (no rate) does not apply");
    }
    if (opt_.rate.value > 0.0 &&
        !(opt_.rate.unit == RateUnit::pps && opt_.rate.value == scenario.flow_rate_sum())) {
      throw TxError("the flows set rate_pps: a port-wide rate does not apply");
    }
    opt_.rate = {RateUnit::pps, scenario.flow_rate_sum()};
    flow_rates_ = true;
  }

  std::size_t max_lanes = opt_.lcores.size();
  if (own_port_) {
    rte_eth_dev_info info{};
    const int rc = rte_eth_dev_info_get(opt_.port, &info);
    if (rc != 0)
      throw TxError(port_name(opt_.port) + ": cannot read device info: " + rte_strerror(-rc));
    if (info.max_tx_queues == 0) throw TxError(port_name(opt_.port) + ": the port has no TX queue");
    max_lanes = std::min<std::size_t>(max_lanes, info.max_tx_queues);
  }
  const auto plan = plan_lanes(scenario, max_lanes);

  // Seeds: one lane keeps the run's seed (its frames are those of the pcap output).
  std::uint64_t total_weight = 0;
  for (std::size_t k = 0; k < plan.size(); ++k) {
    auto lane = std::make_unique<Lane>();
    lane->lcore = opt_.lcores[k];
    lane->port = opt_.port;
    lane->queue = own_port_ ? static_cast<std::uint16_t>(k) : opt_.queues[k];
    lane->scenario.count = scenario.count;
    lane->scenario.rate_pps = scenario.rate_pps;
    for (const std::size_t i : plan[k]) {
      lane->scenario.flows.push_back(scenario.flows[i]);
      lane->weight += share_of(scenario.flows[i]);
    }
    lane->gen_opt = gen_opt_;
    lane->gen_opt.seed =
        plan.size() == 1 ? gen_opt_.seed : pk::derive_seed(gen_opt_.seed, 0x7478'0000u + k);
    lane->gen_opt.duration_ns = 0;
    lane->gen_opt.rate_pps = 1e9;  // timestamps are not used: pacing is the lane's
    lane->gen_opt.pacing = pk::Pacing::constant;
    lane->gen_opt.track_truth = false;
    lane->gen_opt.shard_index = 0;
    lane->gen_opt.shard_count = 1;
    lane->rng = pk::Rng(pk::derive_seed(gen_opt_.seed, 0x7061'0000u + k));
    total_weight += lane->weight;
    lanes_.push_back(std::move(lane));
  }
  for (std::size_t k = plan.size(); k < opt_.lcores.size(); ++k) idle_.push_back(opt_.lcores[k]);

  // The count, split by weight (largest remainder), exactly.
  std::vector<std::pair<std::uint64_t, std::size_t>> remainders;
  std::uint64_t assigned = 0;
  for (std::size_t k = 0; k < lanes_.size(); ++k) {
    const pk::Uint128 share = static_cast<pk::Uint128>(opt_.count) * lanes_[k]->weight;
    lanes_[k]->gen_opt.count = static_cast<std::uint64_t>(share / total_weight);
    remainders.emplace_back(static_cast<std::uint64_t>(share % total_weight), k);
    assigned += lanes_[k]->gen_opt.count;
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t i = 0; assigned < opt_.count && i < remainders.size(); ++i, ++assigned) {
    ++lanes_[remainders[i].second]->gen_opt.count;
  }

  for (auto& lane : lanes_) {
    lane->empty = opt_.count != 0 && lane->gen_opt.count == 0;
    lane->gen.emplace(lane->scenario, lane->gen_opt);
    max_frame_len_ = std::max(max_frame_len_, lane->gen->max_frame_len());
    // Mean frame length, for splitting a bit rate and sizing paced bursts.
    pk::GeneratorOptions sample = lane->gen_opt;
    sample.count = kSampleFrames;
    sample.force_no_crypto = true;
    pk::Generator g(lane->scenario, sample);
    std::vector<std::uint8_t> buf(g.max_frame_len());
    std::uint64_t ts = 0;
    while (g.next(buf, ts) != 0) {
    }
    lane->avg_frame_len = g.produced() != 0
                              ? static_cast<double>(g.bytes()) / static_cast<double>(g.produced())
                              : 0.0;
  }

  pool_ = opt_.pool;
  if (pool_ == nullptr) {
    const unsigned n =
        static_cast<unsigned>(lanes_.size()) *
            (std::max<unsigned>(opt_.tx_desc, 64) + 2 * kTxMaxBurst + kMempoolCache) +
        1024;
    const std::size_t room = std::max<std::size_t>(max_frame_len_, 2048) + RTE_PKTMBUF_HEADROOM;
    const int socket = rte_eth_dev_socket_id(opt_.port);
    const std::string name =
        "nstx" + std::to_string(opt_.port) + "_" + std::to_string(g_engine_serial++);
    pool_ =
        rte_pktmbuf_pool_create(name.c_str(), n, kMempoolCache, 0, static_cast<std::uint16_t>(room),
                                socket < 0 ? SOCKET_ID_ANY : socket);
    if (pool_ == nullptr) {
      throw TxError("cannot allocate " + std::to_string(n) + " TX mbufs of " +
                    std::to_string(room) + " bytes: " + rte_strerror(rte_errno) +
                    " (raise EAL -m)");
    }
    own_pool_ = true;
  } else if (rte_pktmbuf_data_room_size(pool_) < max_frame_len_ + RTE_PKTMBUF_HEADROOM) {
    throw TxError("the TX mempool's mbufs hold " +
                  std::to_string(rte_pktmbuf_data_room_size(pool_)) +
                  " bytes; frames of this scenario need " + std::to_string(max_frame_len_) +
                  " plus headroom");
  }

  const std::uint64_t hz = rte_get_tsc_hz();
  for (auto& lane : lanes_) {
    lane->pool = pool_;
    lane->stop = &stop_;
    lane->duration_cycles =
        static_cast<std::uint64_t>(std::llround(opt_.duration_s * static_cast<double>(hz)));
    lane->drain_cycles = std::max<std::uint64_t>(
        1,
        static_cast<std::uint64_t>(std::llround(opt_.drain_timeout_s * static_cast<double>(hz))));
  }
  apply_rate();
  if (own_port_) {
    try {
      setup_port();
    } catch (...) {
      if (port_started_) rte_eth_dev_stop(opt_.port);
      if (own_pool_) rte_mempool_free(pool_);
      pool_ = nullptr;
      throw;
    }
  }
}

void TxEngine::apply_rate() {
  const double hz = static_cast<double>(rte_get_tsc_hz());
  const TxRate& r = opt_.rate;
  const bool paced = opt_.pacing != TxPacing::burst && r.value > 0.0;
  // A pps rate splits by weight; a bit rate by weight times mean frame cost, so that every
  // flow's frame rate stays proportional to its weight.
  double denom = 0.0;
  for (const auto& lane : lanes_) {
    const double c = cost_fixed_of(r.unit) + cost_per_byte_of(r.unit) * lane->avg_frame_len;
    denom += static_cast<double>(lane->weight) * c;
  }
  for (auto& lane : lanes_) {
    lane->cost_fixed = cost_fixed_of(r.unit);
    lane->cost_per_byte = cost_per_byte_of(r.unit);
    lane->paced = paced;
    lane->poisson = opt_.pacing == TxPacing::poisson;
    lane->burst = opt_.burst;
    lane->requested = 0.0;
    lane->cycles_per_cost = 0.0;
    if (!paced || denom <= 0.0) continue;
    const double frame_cost = lane->cost_fixed + lane->cost_per_byte * lane->avg_frame_len;
    lane->requested = r.value * static_cast<double>(lane->weight) * frame_cost / denom;
    lane->cycles_per_cost = hz / lane->requested;
    const double pps = lane->requested / frame_cost;
    lane->burst = static_cast<std::uint16_t>(std::clamp<double>(
        std::floor(pps * kPacedBurstSeconds), 1.0, static_cast<double>(opt_.burst)));
  }
}

void TxEngine::set_rate(const TxRate& rate) {
  if (launched_) throw TxError("set_rate after launch");
  if (flow_rates_) throw TxError("the flows set rate_pps: a port-wide rate does not apply");
  if (!(rate.value >= 0.0)) throw TxError("the rate must not be negative");
  opt_.rate = rate;
  apply_rate();
}

void TxEngine::setup_port() {
  const std::uint16_t port = opt_.port;
  const std::string name = port_name(port);
  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(port, &info);
  if (rc != 0) throw TxError(name + ": cannot read device info: " + rte_strerror(-rc));
  rte_eth_conf conf{};
  // All mbufs come from one pool with a reference count of 1.
  if ((info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) != 0) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
  }
  const auto nq = static_cast<std::uint16_t>(lanes_.size());
  rc = rte_eth_dev_configure(port, 0, nq, &conf);
  if (rc != 0)
    throw TxError(name + ": configure with " + std::to_string(nq) +
                  " TX queues failed: " + rte_strerror(-rc));
  std::uint16_t rx_desc = 0;
  std::uint16_t tx_desc = opt_.tx_desc;
  rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_desc, &tx_desc);
  const int socket = rte_eth_dev_socket_id(port);
  rte_eth_txconf txconf = info.default_txconf;
  txconf.offloads = conf.txmode.offloads;
  for (std::uint16_t q = 0; q < nq; ++q) {
    rc = rte_eth_tx_queue_setup(
        port, q, tx_desc, socket < 0 ? SOCKET_ID_ANY : static_cast<unsigned>(socket), &txconf);
    if (rc != 0)
      throw TxError(name + ": TX queue " + std::to_string(q) +
                    " setup failed: " + rte_strerror(-rc));
  }
  rc = rte_eth_dev_start(port);
  if (rc != 0) throw TxError(name + ": start failed: " + rte_strerror(-rc));
  port_started_ = true;
}

TxEngine::~TxEngine() {
  if (launched_) {
    request_stop();
    wait();
  }
  if (own_port_ && port_started_) {
    rte_eth_dev_stop(opt_.port);
    rte_eth_dev_close(opt_.port);
  }
  if (own_pool_ && own_port_) rte_mempool_free(pool_);
}

void TxEngine::launch() {
  if (launched_) throw TxError("launch: already launched");
  for (std::size_t k = 0; k < lanes_.size(); ++k) {
    const int rc = rte_eal_remote_launch(tx_loop, lanes_[k].get(), lanes_[k]->lcore);
    if (rc != 0) {
      request_stop();
      for (std::size_t j = 0; j < k; ++j) rte_eal_wait_lcore(lanes_[j]->lcore);
      throw TxError("cannot launch the TX loop on lcore " + std::to_string(lanes_[k]->lcore) +
                    ": " + rte_strerror(-rc));
    }
  }
  launched_ = true;
}

bool TxEngine::done() const noexcept {
  if (!launched_) return false;
  for (const auto& lane : lanes_) {
    if (!lane->finished.load(std::memory_order_acquire)) return false;
  }
  return true;
}

void TxEngine::wait() {
  if (!launched_ || waited_) return;
  for (const auto& lane : lanes_) rte_eal_wait_lcore(lane->lcore);
  waited_ = true;
}

std::size_t TxEngine::lane_count() const noexcept { return lanes_.size(); }

std::vector<TxLaneStats> TxEngine::lanes() const {
  const double hz = static_cast<double>(rte_get_tsc_hz());
  const std::uint64_t now = rte_rdtsc();
  std::vector<TxLaneStats> out;
  for (const auto& lane : lanes_) {
    TxLaneStats s;
    s.lcore = lane->lcore;
    s.queue = lane->queue;
    s.flows = lane->scenario.flows.size();
    s.requested = lane->requested;
    // The end time first: when it is set, the counters read after it are final.
    const std::uint64_t start = lane->start_tsc.load(std::memory_order_acquire);
    const std::uint64_t end = lane->end_tsc.load(std::memory_order_acquire);
    s.counters.packets = lane->packets.value();
    s.counters.bytes = lane->bytes.value();
    s.counters.retries = lane->retries.value();
    s.counters.drops = lane->drops.value();
    s.counters.alloc_failures = lane->alloc_failures.value();
    if (start != 0) s.counters.seconds = static_cast<double>((end != 0 ? end : now) - start) / hz;
    if (end != 0 && lane->end_cpu_ns > lane->start_cpu_ns) {
      s.cpu_seconds = static_cast<double>(lane->end_cpu_ns - lane->start_cpu_ns) / 1e9;
    }
    out.push_back(s);
  }
  return out;
}

TxCounters TxEngine::totals() const {
  TxCounters t;
  for (const TxLaneStats& s : lanes()) {
    t.packets += s.counters.packets;
    t.bytes += s.counters.bytes;
    t.retries += s.counters.retries;
    t.drops += s.counters.drops;
    t.alloc_failures += s.counters.alloc_failures;
    t.seconds = std::max(t.seconds, s.counters.seconds);
  }
  return t;
}

std::vector<TxFlowStats> TxEngine::flow_stats() const {
  if (launched_ && !waited_) throw TxError("flow_stats before wait()");
  const double hz = static_cast<double>(rte_get_tsc_hz());
  std::vector<TxFlowStats> out;
  for (const auto& lane : lanes_) {
    const std::uint64_t start = lane->start_tsc.load(std::memory_order_acquire);
    const std::uint64_t end = lane->end_tsc.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < lane->gen->flow_count(); ++i) {
      TxFlowStats f;
      f.name = lane->gen->flow(i).name;
      f.lcore = lane->lcore;
      f.requested_pps = lane->gen->flow(i).rate_pps;
      f.packets = lane->gen->flow_packets(i);
      if (start != 0 && end > start) f.seconds = static_cast<double>(end - start) / hz;
      out.push_back(std::move(f));
    }
  }
  return out;
}

std::string TxEngine::truth_json() const {
  if (launched_ && !waited_) throw TxError("truth_json before wait()");
  nlohmann::ordered_json doc =
      nlohmann::ordered_json::parse(pk::TruthModel(gen_opt_.truth).to_json());
  for (const auto& lane : lanes_) {
    const std::uint64_t sent = launched_ ? lane->packets.value() : 0;
    if (sent == 0) continue;  // (a Generator count of 0 would mean "no limit")
    pk::GeneratorOptions o = lane->gen_opt;
    o.count = sent;
    o.force_no_crypto = true;  // lengths and numbers do not depend on the cipher
    o.track_truth = true;
    pk::Generator g(lane->scenario, o);
    std::vector<std::uint8_t> buf(g.max_frame_len());
    std::uint64_t ts = 0;
    while (g.next(buf, ts) != 0) {
    }
    const auto part = nlohmann::ordered_json::parse(g.finish_truth());
    for (const auto& sa : part["sas"]) doc["sas"].push_back(sa);
  }
  return doc.dump(2) + "\n";
}

}  // namespace netscope::runtime
