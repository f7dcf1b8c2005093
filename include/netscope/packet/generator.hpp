// The frame source behind netscope-gen: turns a Scenario into a paced stream of frames,
// one at a time, into caller-provided buffers.
//
// Intended use from a DPDK TX loop (one Generator per TX lcore, each owning a disjoint
// shard of the flows so that no sequence counter is shared):
//
//   Generator gen(scenario, options);            // control plane: validates, prepares crypto
//   for (each mbuf in a burst) {
//     std::uint64_t ts_ns;
//     std::size_t len = gen.next({rte_pktmbuf_mtod(m, uint8_t*), tailroom}, ts_ns);
//     if (len == 0) break;                       // count or duration reached
//     m->data_len = m->pkt_len = len;
//   }
//
// Frames never exceed max_frame_len() bytes (no FCS). Pacing is the caller's: `ts_ns` is
// when the frame is due (the pcap writer stores it; a TX loop may wait for it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "netscope/packet/scenario.hpp"
#include "netscope/packet/truth.hpp"

namespace netscope::packet {

enum class Pacing : std::uint8_t {
  constant,  ///< exactly 1/rate apart
  poisson,   ///< exponential inter-arrival times with mean 1/rate (seeded)
};

/// 2024-01-01T00:00:00Z: a fixed default keeps output byte-identical for one seed.
inline constexpr std::uint64_t kDefaultStartTimeNs = 1'704'067'200ull * 1'000'000'000ull;

struct GeneratorOptions {
  std::uint64_t seed = 1;
  std::uint64_t count = 0;        ///< frames in total (split by flow weight); 0: no limit
  std::uint64_t duration_ns = 0;  ///< stop before the first frame due at start + duration; 0: no limit
  double rate_pps = 1e6;
  Pacing pacing = Pacing::constant;
  std::uint64_t start_time_ns = kDefaultStartTimeNs;
  bool force_no_crypto = false;   ///< treat every flow as `crypto: none`
  bool track_truth = true;        ///< feed the TruthModel (allocates when an SA first appears)
  TruthConfig truth;
  std::uint32_t shard_index = 0;  ///< this generator owns flows i with i % shard_count == shard_index
  std::uint32_t shard_count = 1;
  /// Copy per-flow frame templates and patch only the fields that change (sequence
  /// numbers, IPv4 id and checksum, payload). false: write every header of every frame
  /// (the reference the templates are tested against; same bytes, slower).
  bool templates = true;
};

class Generator {
 public:
  /// Validates `scenario` (ConfigError naming the field), prepares one cipher context per
  /// flow. Allocates; control plane only.
  Generator(const Scenario& scenario, const GeneratorOptions& options);
  ~Generator();
  Generator(Generator&&) noexcept;
  Generator& operator=(Generator&&) noexcept;

  /// Builds the next frame into `buf` and sets `timestamp_ns` (since the Unix epoch).
  /// Returns the frame length, or 0 when the count or duration is reached or when `buf` is
  /// smaller than max_frame_len(). Does not allocate, except for the TruthModel entry when
  /// a new SA first appears with track_truth. One thread at a time.
  std::size_t next(std::span<std::uint8_t> buf, std::uint64_t& timestamp_ns) noexcept;

  /// Builds up to `n` frames, frame i into `bufs[i]` (each at least max_frame_len() bytes),
  /// its length in `lens[i]`; timestamps are not returned. Returns the number built, below
  /// `n` only when the count or duration is reached. The same frames as n calls of next().
  /// Does not allocate (see next()). One thread at a time.
  ///
  /// Frames from templates are written for up to kSealBatch frames first and sealed
  /// (MACsec, ESP, AH) afterwards: the cipher then reads bytes that have left the store
  /// buffer instead of stalling on the template copy just made (docs/performance.md).
  std::size_t next_burst(std::uint8_t* const* bufs, std::uint32_t* lens, std::size_t n) noexcept;

  /// Frames per second the scenario asks for: the sum of the flows' `rate_pps` when they
  /// set one, else GeneratorOptions::rate_pps.
  [[nodiscard]] double requested_pps() const noexcept;

  /// Largest frame this scenario produces (bytes written, no FCS).
  [[nodiscard]] std::size_t max_frame_len() const noexcept { return max_frame_len_; }
  [[nodiscard]] std::uint64_t produced() const noexcept { return produced_; }
  [[nodiscard]] std::uint64_t bytes() const noexcept { return bytes_; }
  [[nodiscard]] std::size_t flow_count() const noexcept;
  [[nodiscard]] const FlowSpec& flow(std::size_t i) const noexcept;
  [[nodiscard]] std::uint64_t flow_packets(std::size_t i) const noexcept;

  /// The truth so far (complete after finish_truth()).
  [[nodiscard]] const TruthModel& truth() const noexcept { return truth_; }
  /// Closes every SA's window (end of capture) and returns the truth JSON.
  std::string finish_truth();

 private:
  struct Flow;
  std::size_t pick() noexcept;
  std::uint64_t timestamp() noexcept;
  /// A frame written from a template whose cipher is still to run (next_burst).
  struct Sealing {
    Flow* flow;
    std::uint8_t* buf;
    const void* tmpl;         ///< the Flow::Template it was copied from
    std::uint64_t number;     ///< its sequence number
    std::uint64_t packet;     ///< the flow's packet index (ESP IV)
  };
  static constexpr std::size_t kSealBatch = 32;

  /// One frame into `buf` (capacity checked by the caller); 0 at the end. With `seal` set,
  /// a template frame's cipher is left for later: recorded in seal[*pending], ++*pending.
  std::size_t produce(std::uint8_t* buf, std::uint64_t& offset_ns, Sealing* seal = nullptr,
                      std::size_t* pending = nullptr) noexcept;
  /// next_burst for one flow with templates, no timestamps and no truth (a TX lcore's
  /// usual case): the per-frame checks of produce() are made once per burst.
  std::size_t burst_one_flow(std::uint8_t* const* bufs, std::uint32_t* lens, std::size_t n) noexcept;

  GeneratorOptions opt_;
  std::vector<std::unique_ptr<Flow>> flows_;
  std::int64_t total_weight_ = 0;
  bool flow_rates_ = false;      ///< every flow sets rate_pps: each has its own schedule
  double interval_ns_ = 1000.0;  ///< 1e9 / rate_pps (weight mode)
  std::size_t max_frame_len_ = 0;
  std::uint64_t produced_ = 0;
  std::uint64_t bytes_ = 0;
  double clock_ns_ = 0.0;  ///< offset of the next frame from start (Poisson)
  bool want_time_ = true;  ///< the caller needs the timestamp (next() or a duration)
  Rng pacing_rng_;
  TruthModel truth_;
};

}  // namespace netscope::packet
