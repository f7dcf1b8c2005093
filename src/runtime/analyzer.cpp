// The analyzer runtime: RX lcores, worker lcores (per-lcore engine::Worker), and the
// control lcore that aggregates through rings, exports flows and writes the report.
//
// Modes:
//  rtc      every worker lcore polls its own RX queue(s) and analyzes to completion;
//  pipeline RX lcores compute the shard hash (SA-aware, symmetric) of each packet and hand
//           it to the owning worker over an SPSC ring (single-queue PMDs such as net_pcap).
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_ring_peek_zc.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>

#include <unordered_map>

#include "filter.hpp"
#include "flow_export.hpp"
#include "netscope/control/database.hpp"
#include "netscope/control/hub.hpp"
#include "netscope/util/large_array.hpp"
#include "netscope/rpc/server.hpp"
#include "netscope/control/state.hpp"
#include "netscope/packet/scenario.hpp"
#include "netscope/runtime/tx.hpp"
#include "netscope/engine/worker.hpp"
#include "netscope/report/correlation.hpp"
#include "netscope/report/report.hpp"
#include "netscope/report/traffic.hpp"
#include "netscope/runtime/runtime.hpp"
#include "frame_queue.hpp"
#include "ports.hpp"
#include "recorder.hpp"
#include "xdp.hpp"

namespace netscope::runtime {

namespace {

std::atomic<bool> g_stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free);

constexpr unsigned kMaxBurst = 512;
constexpr unsigned kMaxLcores = RTE_MAX_LCORE;

/// The filter set through the API (POST/DELETE /api/v1/config/filters) for one polled
/// queue. The control lcore compiles a new PortFilter and swaps the pointer; the polling
/// lcore loads it once per burst. Replaced filters are kept until exit (their counters
/// stay in the totals, and a burst may still be running through one).
struct ApiFilterSlot {
  std::uint16_t port = 0;
  std::atomic<PortFilter*> current{nullptr};
};

struct QueueRef {
  std::uint16_t port = 0;
  std::uint16_t queue = 0;
  PortFilter* filter = nullptr;        ///< tcpdump filter run on each burst, or none
  ApiFilterSlot* api = nullptr;        ///< filter from the API, applied after `filter`
  PortFilter* record = nullptr;        ///< recording filter: matching frames are recorded
  std::uint64_t timestamp_scale = 0;  ///< mbuf timestamp units to ns; 0 for TSC time
  std::uint64_t next_index = 0;       ///< packet index within this queue's input
};

/// What a pipeline RX lcore hands a worker for one packet, in the ring itself. The worker
/// takes everything from here and never reads the mbuf's two header lines, which the RX
/// lcore's core wrote last (at 1M flows those cross-core misses were a third of a worker's
/// time); it sends the mbuf back to the RX lcore to be freed there.
struct RxDesc {
  rte_mbuf* mbuf = nullptr;
  const std::uint8_t* data = nullptr;  ///< first byte of the frame; null: several segments, read the mbuf
  std::uint64_t time_ns = 0;
  std::uint64_t index = 0;             ///< position in the port's input
  std::uint32_t pkt_len = 0;
  std::uint16_t data_len = 0;
  std::uint16_t port = 0;
};
static_assert(sizeof(RxDesc) == 40 && sizeof(RxDesc) % 4 == 0, "ring elements are multiples of 4 bytes");

/// Shared run state written by the control lcore, read by the others.
struct RunFlags {
  std::atomic<bool> rx_stop{false};
  std::atomic<bool> worker_stop{false};
  std::atomic<bool> abort{false};  ///< give up blocking waits
};

/// Mbuf dynamic field carrying the packet's index within its queue's input, stamped before
/// a filter drops any (rtc and pipeline RX with filters; otherwise the burst position is the index).
int g_index_offset = -1;

/// Worker -> control rings for flow records and events. Blocking in replay (the control
/// lcore always drains, so a wait is bounded), dropping when live (never stall RX).
class RingSink final : public engine::RecordSink {
 public:
  RingSink(const std::string& name, unsigned size, bool blocking, const RunFlags& flags, FrameQueue* frames)
      : blocking_(blocking), flags_(flags), frames_(frames) {
    flows_ = rte_ring_create_elem((name + "_f").c_str(), sizeof(engine::FlowRecord), size,
                                  static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    events_ = rte_ring_create_elem((name + "_e").c_str(), sizeof(engine::AnomalyEvent), size,
                                   static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    sas_ = rte_ring_create_elem((name + "_s").c_str(), sizeof(engine::SaSummary), 4096,
                                static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    packets_ = rte_ring_create_elem((name + "_p").c_str(), sizeof(engine::PacketSummary), 8192,
                                    static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    sensors_ = rte_ring_create_elem((name + "_n").c_str(), sizeof(engine::SensorRecord), size,
                                    static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (flows_ == nullptr || events_ == nullptr || sas_ == nullptr || packets_ == nullptr || sensors_ == nullptr) {
      throw std::runtime_error("cannot create record rings: " + std::string(rte_strerror(rte_errno)));
    }
  }
  ~RingSink() {
    rte_ring_free(flows_);
    rte_ring_free(events_);
    rte_ring_free(sas_);
    rte_ring_free(packets_);
    rte_ring_free(sensors_);
  }
  RingSink(const RingSink&) = delete;
  RingSink& operator=(const RingSink&) = delete;

  bool on_flow(const engine::FlowRecord& r) noexcept override { return put(flows_, &r, sizeof r); }
  bool on_event(const engine::AnomalyEvent& e) noexcept override { return put(events_, &e, sizeof e); }
  /// SA summaries are refreshed continuously: never wait for them.
  bool on_sa(const engine::SaSummary& s) noexcept override {
    return rte_ring_sp_enqueue_elem(sas_, const_cast<engine::SaSummary*>(&s), sizeof s) == 0;
  }
  /// The packet tap is best effort: never wait (the worker counts refusals).
  bool on_packet(const engine::PacketSummary& p) noexcept override {
    return rte_ring_sp_enqueue_elem(packets_, const_cast<engine::PacketSummary*>(&p), sizeof p) == 0;
  }
  /// Sensor records (detection inputs, top talkers, topology): like flow records.
  bool on_sensor(const engine::SensorRecord& r) noexcept override { return put(sensors_, &r, sizeof r); }
  /// Captured frames: recorded ones wait like flow records in replay; inspector frames
  /// never wait (the next snapshot replaces them).
  bool on_capture(const engine::CaptureMeta& m, decode::Bytes b) noexcept override {
    if (frames_ == nullptr) return false;
    while (!frames_->offer(m, b)) {
      if (m.reason == engine::CaptureReason::inspect || !blocking_ || flags_.abort.load(std::memory_order_relaxed)) {
        return false;
      }
      rte_pause();
    }
    return true;
  }
  void set_blocking(bool b) noexcept { blocking_ = b; }

  rte_ring* flows_ = nullptr;
  rte_ring* events_ = nullptr;
  rte_ring* sas_ = nullptr;
  rte_ring* packets_ = nullptr;
  rte_ring* sensors_ = nullptr;

 private:
  bool put(rte_ring* r, const void* obj, unsigned size) noexcept {
    while (rte_ring_sp_enqueue_elem(r, const_cast<void*>(obj), size) != 0) {
      if (!blocking_ || flags_.abort.load(std::memory_order_relaxed)) return false;
      rte_pause();
    }
    return true;
  }
  bool blocking_;
  const RunFlags& flags_;
  FrameQueue* frames_;
};
static_assert(sizeof(engine::FlowRecord) % 4 == 0 && sizeof(engine::AnomalyEvent) % 4 == 0 &&
              sizeof(engine::SaSummary) % 4 == 0 && sizeof(engine::PacketSummary) % 4 == 0);

/// Everything one worker lcore owns.
struct alignas(64) WorkerContext {
  unsigned lcore = 0;
  std::uint16_t index = 0;
  std::vector<QueueRef> queues;     ///< rtc: queues it polls
  std::vector<rte_ring*> inputs;    ///< pipeline: RxDesc rings from each RX lcore
  std::vector<rte_ring*> returns;   ///< pipeline: mbufs back to the RX lcore of inputs[i]
  std::unique_ptr<RingSink> sink;
  std::unique_ptr<engine::Worker> worker;
  std::atomic<bool> done{false};
  util::Counter busy_cycles;  ///< TSC cycles of polls that returned packets
  util::Counter idle_cycles;  ///< TSC cycles of empty polls
  util::Counter record_dropped;  ///< frames the recording filter matched that the queue refused
  alignas(64) std::array<std::uint8_t, 16384> scratch{};  ///< linearized multi-segment frames
  /// One poll's frames for the engine. A member, not a local: a local array of 512
  /// value-initialized FrameRefs was a 20 KB memset on every poll.
  std::array<engine::FrameRef, kMaxBurst> refs{};
  std::array<RxDesc, kMaxBurst> descs{};  ///< pipeline: one dequeued burst
};

/// A pipeline RX lcore: polls queues, shards, hands packets to workers.
struct alignas(64) RxContext {
  unsigned lcore = 0;
  std::vector<QueueRef> queues;
  std::vector<rte_ring*> outputs;   ///< RxDesc rings, one per worker
  std::vector<rte_ring*> returns;   ///< mbufs the workers are done with, one ring per worker
  std::atomic<bool> done{false};
  util::Counter ring_drops;
  util::Counter ring_waits;
  util::Counter record_dropped;  ///< frames the recording filter matched that the queue refused
  decode::DecodedPacket pkt;
  alignas(64) std::array<std::uint8_t, 16384> scratch{};
};

struct Shared {
  RunFlags flags;
  std::uint16_t burst = 32;
  int ts_offset = -1;
  std::uint64_t ts_flag = 0;
  std::uint64_t unix_ns0 = 0;
  std::uint64_t tsc0 = 0;
  double ns_per_tsc = 0;
  bool packet_clock = true;  ///< expiry by packet timestamps (replay) or wall time (live)
  std::atomic<bool> paused{false};  ///< capture paused by an API client: RX frees, counts nothing
  bool replay = false;  ///< every input is a file (looped ones too): rings wait for room instead of dropping
  FrameQueue* frames = nullptr;  ///< captured frames to the control lcore (recording, inspector)
  bool record_blocking = false;  ///< the recording filter waits for room (replay, several lcores)
};
Shared g;

std::uint64_t unix_now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

inline std::uint64_t wall_ns() noexcept {
  return g.unix_ns0 + static_cast<std::uint64_t>(static_cast<double>(rte_rdtsc() - g.tsc0) * g.ns_per_tsc);
}

inline std::uint64_t mbuf_time(const rte_mbuf* m, std::uint64_t scale, std::uint64_t fallback) noexcept {
  if (scale != 0 && g.ts_offset >= 0 && (m->ol_flags & g.ts_flag) != 0) {
    return *RTE_MBUF_DYNFIELD(m, g.ts_offset, const rte_mbuf_timestamp_t*) * scale;
  }
  return fallback;
}

inline decode::Bytes frame_bytes(rte_mbuf* m, std::array<std::uint8_t, 16384>& scratch) noexcept {
  if (m->nb_segs == 1) [[likely]] {
    return {rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len};
  }
  const std::uint32_t len = std::min<std::uint32_t>(m->pkt_len, static_cast<std::uint32_t>(scratch.size()));
  return {static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, 0, len, scratch.data())), len};
}

/// Adds one mbuf to the burst being built. A multi-segment frame is linearized into the
/// lcore's scratch buffer, so the frames gathered so far are analyzed first and this one
/// on its own (the scratch buffer holds one frame at a time).
inline void add_frame(WorkerContext& ctx, rte_mbuf* m, engine::FrameRef ref, engine::FrameRef* refs,
                      unsigned& k) noexcept {
  if (m->nb_segs == 1) [[likely]] {
    ref.bytes = {rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len};
    refs[k++] = ref;
    return;
  }
  ctx.worker->process_burst({refs, k});
  k = 0;
  ref.bytes = frame_bytes(m, ctx.scratch);
  ctx.worker->process_burst({&ref, 1});
}

/// Recording filter: queues a copy of each frame of bufs[0..n) that matches q.record.
inline void record_matching(QueueRef& q, rte_mbuf* const* bufs, unsigned n, std::uint64_t now,
                            util::Counter& dropped, std::array<std::uint8_t, 16384>& scratch) noexcept {
  for (unsigned i = 0; i < n; ++i) {
    rte_mbuf* m = bufs[i];
    if (!q.record->matches(m)) continue;
    engine::CaptureMeta meta;
    meta.timestamp_ns = mbuf_time(m, q.timestamp_scale, now);
    meta.packet_index = *RTE_MBUF_DYNFIELD(m, g_index_offset, const std::uint64_t*);
    meta.wire_len = m->pkt_len;
    meta.port = q.port;
    meta.lcore = static_cast<std::uint16_t>(rte_lcore_id());
    meta.reason = engine::CaptureReason::filter;
    const decode::Bytes b = frame_bytes(m, scratch);
    while (!g.frames->offer(meta, b)) {
      if (!g.record_blocking || g.flags.abort.load(std::memory_order_relaxed)) {
        dropped.add();
        break;
      }
      rte_pause();
    }
  }
}

/// A queue with filters or a recording filter: stamps each frame's index in the port's
/// input (before a filter drops any), runs the configured and the API filter, queues the
/// frames the recording filter matches. Returns how many frames are left in bufs.
inline std::uint16_t filter_burst(QueueRef& q, PortFilter* api_filter, rte_mbuf** bufs, std::uint16_t n,
                                  std::uint64_t now, util::Counter& record_dropped,
                                  std::array<std::uint8_t, 16384>& scratch) noexcept {
  for (std::uint16_t i = 0; i < n; ++i) *RTE_MBUF_DYNFIELD(bufs[i], g_index_offset, std::uint64_t*) = q.next_index++;
  if (q.filter != nullptr) n = q.filter->apply(bufs, n);
  if (api_filter != nullptr && n != 0) n = api_filter->apply(bufs, n);
  if (q.record != nullptr && n != 0) record_matching(q, bufs, n, now, record_dropped, scratch);
  return n;
}

/// rtc: polls each queue once and analyzes to completion. Returns packets.
unsigned rtc_poll(WorkerContext& ctx) noexcept {
  // Paused by an API client: stop polling. A replayed capture waits in its file; a live
  // port's own counters (imissed) show what the NIC dropped meanwhile.
  if (g.paused.load(std::memory_order_relaxed)) return 0;
  rte_mbuf* bufs[kMaxBurst];
  engine::FrameRef* const refs = ctx.refs.data();
  unsigned total = 0;
  for (QueueRef& q : ctx.queues) {
    std::uint16_t n = rte_eth_rx_burst(q.port, q.queue, bufs, g.burst);
    if (n == 0) continue;
    PortFilter* const api_filter = q.api->current.load(std::memory_order_acquire);
    const std::uint64_t now = q.timestamp_scale == 0 ? wall_ns() : 0;
    unsigned k = 0;
    if (q.filter == nullptr && api_filter == nullptr && q.record == nullptr) [[likely]] {
      // No filter: the index is the burst position; the mbuf's index field is not written
      // (its cache line would cost a miss per packet for nothing).
      const std::uint64_t base = q.next_index;
      q.next_index += n;
      for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = bufs[i];
        add_frame(ctx, m, {{}, m->pkt_len, q.port, mbuf_time(m, q.timestamp_scale, now), base + i}, refs, k);
      }
    } else {
      n = filter_burst(q, api_filter, bufs, n, now, ctx.record_dropped, ctx.scratch);
      if (n == 0) continue;
      for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = bufs[i];
        const engine::FrameRef ref{{}, m->pkt_len, q.port, mbuf_time(m, q.timestamp_scale, now),
                                   *RTE_MBUF_DYNFIELD(m, g_index_offset, const std::uint64_t*)};
        add_frame(ctx, m, ref, refs, k);
      }
    }
    ctx.worker->process_burst({refs, k});
    rte_pktmbuf_free_bulk(bufs, n);
    total += n;
  }
  return total;
}

/// pipeline worker: drains each input ring once. Returns packets.
unsigned pipeline_poll(WorkerContext& ctx) noexcept {
  RxDesc* const descs = ctx.descs.data();
  engine::FrameRef* const refs = ctx.refs.data();
  rte_mbuf* bufs[kMaxBurst];
  unsigned total = 0;
  for (std::size_t r = 0; r < ctx.inputs.size(); ++r) {
    // Taken with the zero-copy API and one memcpy: the ring's own element copy moves 4
    // bytes at a time for a 40-byte element.
    rte_ring_zc_data zc;
    const unsigned n = rte_ring_dequeue_zc_burst_elem_start(ctx.inputs[r], sizeof(RxDesc), g.burst, &zc, nullptr);
    if (n == 0) continue;
    const unsigned first = std::min(n, zc.n1);
    std::memcpy(descs, zc.ptr1, first * sizeof(RxDesc));
    if (n > first) std::memcpy(descs + first, zc.ptr2, (n - first) * sizeof(RxDesc));
    rte_ring_dequeue_zc_elem_finish(ctx.inputs[r], n);
    for (unsigned i = 0; i < n; ++i) {
      if (descs[i].data != nullptr) rte_prefetch0(descs[i].data);
    }
    unsigned k = 0;
    for (unsigned i = 0; i < n; ++i) {
      const RxDesc& d = descs[i];
      bufs[i] = d.mbuf;
      if (d.data != nullptr) [[likely]] {
        // Field by field into place: a FrameRef built aside and copied whole is read back
        // with wider loads than it was written with, which the store buffer cannot forward.
        engine::FrameRef& ref = refs[k++];
        ref.bytes = {d.data, d.data_len};
        ref.wire_len = d.pkt_len;
        ref.port = d.port;
        ref.timestamp_ns = d.time_ns;
        ref.packet_index = d.index;
      } else {
        // Several segments: linearized into the scratch buffer, analyzed on its own.
        ctx.worker->process_burst({refs, k});
        k = 0;
        engine::FrameRef ref{frame_bytes(d.mbuf, ctx.scratch), d.pkt_len, d.port, d.time_ns, d.index};
        ctx.worker->process_burst({&ref, 1});
      }
    }
    ctx.worker->process_burst({refs, k});
    // Back to the RX lcore, which frees them on its own core; freed here only when that
    // ring is full (the RX lcore has stopped, or lags).
    const unsigned back = rte_ring_sp_enqueue_burst(ctx.returns[r], reinterpret_cast<void* const*>(bufs), n, nullptr);
    if (back < n) rte_pktmbuf_free_bulk(bufs + back, n - back);
    total += n;
  }
  return total;
}

inline void maintain(WorkerContext& ctx) noexcept {
  ctx.worker->maintain(g.packet_clock ? ctx.worker->clock() : wall_ns());
}

/// Runs one poll and books its cycles as busy or idle.
template <typename Poll>
inline unsigned timed(WorkerContext& ctx, Poll poll) noexcept {
  const std::uint64_t t0 = rte_rdtsc();
  const unsigned got = poll(ctx);
  maintain(ctx);
  (got != 0 ? ctx.busy_cycles : ctx.idle_cycles).add(rte_rdtsc() - t0);
  return got;
}

int rtc_main(void* arg) {
  auto& ctx = *static_cast<WorkerContext*>(arg);
  while (!g.flags.rx_stop.load(std::memory_order_relaxed)) timed(ctx, rtc_poll);
  while (!g.flags.worker_stop.load(std::memory_order_relaxed)) rte_pause();
  ctx.sink->set_blocking(true);  // the final flush must not lose records
  ctx.worker->flush();
  ctx.done.store(true, std::memory_order_release);
  return 0;
}

int worker_main(void* arg) {
  auto& ctx = *static_cast<WorkerContext*>(arg);
  for (;;) {
    const unsigned got = timed(ctx, pipeline_poll);
    // Stop only when told to and every input ring is empty: RX lcores have stopped then.
    if (got == 0 && g.flags.worker_stop.load(std::memory_order_acquire)) {
      bool empty = true;
      for (rte_ring* r : ctx.inputs) empty &= rte_ring_empty(r) != 0;
      if (empty) break;
    }
  }
  ctx.sink->set_blocking(true);
  ctx.worker->flush();
  ctx.done.store(true, std::memory_order_release);
  return 0;
}

/// Frees what the workers sent back (pipeline): into this lcore's mempool cache, from which
/// its next RX bursts allocate.
inline void free_returned(RxContext& ctx) noexcept {
  rte_mbuf* done[kMaxBurst];
  for (rte_ring* r : ctx.returns) {
    unsigned got = 0;
    while ((got = rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(done), kMaxBurst, nullptr)) != 0) {
      rte_pktmbuf_free_bulk(done, got);
    }
  }
}

/// Pushes the cache lines this core wrote and another core reads next out to the shared
/// L3 (CLDEMOTE; a no-op on CPUs without it): the worker then reads them from L3 instead of
/// snooping them out of this core's L1/L2.
inline void demote(const void* p, std::size_t bytes) noexcept {
  const auto* c = static_cast<const char*>(p);
  for (std::size_t off = 0; off < bytes; off += RTE_CACHE_LINE_SIZE) rte_cldemote(c + off);
}

/// Enqueues up to n descriptors written straight into the ring (zero copy), then demotes
/// the ring lines and each frame's first line. Returns how many were enqueued.
inline unsigned hand_over(rte_ring* ring, const RxDesc* d, unsigned n) noexcept {
  rte_ring_zc_data zc;
  const unsigned got = rte_ring_enqueue_zc_burst_elem_start(ring, sizeof(RxDesc), n, &zc, nullptr);
  if (got == 0) return 0;
  const unsigned first = std::min(got, zc.n1);
  std::memcpy(zc.ptr1, d, first * sizeof(RxDesc));
  if (got > first) std::memcpy(zc.ptr2, d + first, (got - first) * sizeof(RxDesc));
  demote(zc.ptr1, first * sizeof(RxDesc));
  if (got > first) demote(zc.ptr2, (got - first) * sizeof(RxDesc));
  for (unsigned i = 0; i < got; ++i) {
    if (d[i].data != nullptr) rte_cldemote(d[i].data);
  }
  rte_ring_enqueue_zc_elem_finish(ring, got);
  return got;
}

int rx_main(void* arg) {
  auto& ctx = *static_cast<RxContext*>(arg);
  rte_mbuf* bufs[kMaxBurst];
  const std::size_t nw = ctx.outputs.size();
  std::vector<std::array<RxDesc, kMaxBurst>> batches(nw);
  std::vector<unsigned> counts(nw, 0);
  while (!g.flags.rx_stop.load(std::memory_order_relaxed)) {
    free_returned(ctx);
    if (g.paused.load(std::memory_order_relaxed)) {
      rte_pause();
      continue;
    }
    for (QueueRef& q : ctx.queues) {
      std::uint16_t n = rte_eth_rx_burst(q.port, q.queue, bufs, g.burst);
      if (n == 0) continue;
      // Index and time are taken at RX, in the port's own timestamp units, before the
      // filters drop any.
      const std::uint64_t rx_now = q.timestamp_scale == 0 ? wall_ns() : 0;
      PortFilter* const api_filter = q.api->current.load(std::memory_order_acquire);
      const bool plain = q.filter == nullptr && api_filter == nullptr && q.record == nullptr;
      const std::uint64_t base = q.next_index;
      if (plain) [[likely]] {
        q.next_index += n;  // the index is the burst position: no mbuf field to write
      } else {
        n = filter_burst(q, api_filter, bufs, n, rx_now, ctx.record_dropped, ctx.scratch);
        if (n == 0) continue;
      }
      for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = bufs[i];
        std::size_t w = 0;
        if (nw > 1) {  // one worker: nothing to choose, so no decode and no hash here
          if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(bufs[i + 1], const void*));
          decode::decode_frame(frame_bytes(m, ctx.scratch), ctx.pkt);
          w = engine::shard_hash(ctx.pkt) % nw;
        }
        RxDesc& d = batches[w][counts[w]++];  // written in place, field by field
        d.mbuf = m;
        d.data = m->nb_segs == 1 ? rte_pktmbuf_mtod(m, const std::uint8_t*) : nullptr;
        d.time_ns = mbuf_time(m, q.timestamp_scale, rx_now);
        d.index = plain ? base + i : *RTE_MBUF_DYNFIELD(m, g_index_offset, const std::uint64_t*);
        d.pkt_len = m->pkt_len;
        d.data_len = m->data_len;
        d.port = q.port;
      }
      for (std::size_t w = 0; w < nw; ++w) {
        unsigned sent = 0;
        while (sent < counts[w]) {
          sent += hand_over(ctx.outputs[w], batches[w].data() + sent, counts[w] - sent);
          if (sent < counts[w]) {
            if (!g.replay || g.flags.abort.load(std::memory_order_relaxed)) {
              // Live: never stall the NIC queue; drop and count.
              ctx.ring_drops.add(counts[w] - sent);
              for (unsigned j = sent; j < counts[w]; ++j) rte_pktmbuf_free(batches[w][j].mbuf);
              break;
            }
            ctx.ring_waits.add();
            free_returned(ctx);  // a worker waiting on a full return ring would wait on us
            rte_pause();
          }
        }
        counts[w] = 0;
      }
    }
  }
  ctx.done.store(true, std::memory_order_release);
  return 0;
}

void signal_handler(int) { request_stop(); }

}  // namespace

void request_stop() noexcept { g_stop_requested.store(true, std::memory_order_relaxed); }

namespace {

/// Cross-port correlation merged over the workers, with port names; null when off.
std::shared_ptr<const engine::CorrelationView> correlation_view(const std::vector<std::unique_ptr<WorkerContext>>& workers,
                                                                const std::vector<PortState>& ports) {
  std::vector<const engine::Correlator*> cs;
  for (const auto& w : workers) {
    if (w->worker->correlator() != nullptr) cs.push_back(w->worker->correlator());
  }
  if (cs.empty()) return nullptr;
  auto v = std::make_shared<engine::CorrelationView>(engine::merge_correlation(cs));
  for (engine::CorrelationPairView& pv : v->pairs) {
    // The analyzer's per-packet time: the PMD's mbuf timestamp when it gives one (net_pcap:
    // the capture's record time), else the host clock when the burst was received.
    bool capture = true;
    for (const PortState& p : ports) {
      if (p.id == pv.ports.a) pv.name_a = p.name;
      if (p.id == pv.ports.b) pv.name_b = p.name;
      if (p.id == pv.ports.a || p.id == pv.ports.b) capture &= p.timestamp_scale != 0;
    }
    pv.timestamps = capture ? "capture" : "rx_host";
  }
  return v;
}

struct Control {
  const config::Config& cfg;
  std::vector<PortState>& ports;
  std::vector<std::unique_ptr<WorkerContext>>& workers;
  std::vector<std::unique_ptr<RxContext>>& rxs;
  FlowExporter* exporter;
  bool quiet;
  std::vector<engine::FlowRecord> flows;
  std::vector<engine::AnomalyEvent> events;
  struct SaKeyHash {
    std::size_t operator()(const seq::SaKey& k) const noexcept { return seq::hash(k); }
  };
  std::unordered_map<seq::SaKey, engine::SaSummary, SaKeyHash> sas;  ///< latest per SA
  control::Hub* hub = nullptr;
  TxEngine* tx = nullptr;
  const std::vector<std::pair<std::uint16_t, std::unique_ptr<PortFilter>>>* filters = nullptr;
  std::unordered_map<std::uint16_t, std::string> filter_text;  ///< per port, for the APIs
  /// NetScope's XDP pre-filter per net_af_xdp port that runs it.
  std::vector<std::pair<std::uint16_t, std::unique_ptr<XdpPrefilter>>> xdp;

  const XdpPrefilter* xdp_of(std::uint16_t port) const {
    for (const auto& [p, x] : xdp) {
      if (p == port) return x.get();
    }
    return nullptr;
  }

  ApiFilterSlot* api_slots = nullptr;
  std::size_t api_slot_count = 0;
  std::vector<std::pair<std::uint16_t, std::unique_ptr<PortFilter>>> api_filters;  ///< all, kept until exit
  std::map<std::uint64_t, std::string> api_exprs;  ///< active API filters by id
  std::unordered_map<std::uint16_t, std::string> config_filter_text;

  /// Compiles the conjunction of the API filters for every polled queue and swaps it in.
  /// On a compile error nothing changes and the error is returned.
  std::string apply_api_filters() {
    std::string combined;
    for (const auto& [id, e] : api_exprs) combined += (combined.empty() ? "(" : " and (") + e + ")";
    std::vector<std::unique_ptr<PortFilter>> fresh(api_slot_count);
    if (!combined.empty()) {
      try {
        for (std::size_t i = 0; i < api_slot_count; ++i) fresh[i] = std::make_unique<PortFilter>(combined);
      } catch (const std::exception& e) {
        return e.what();
      }
    }
    for (std::size_t i = 0; i < api_slot_count; ++i) {
      api_slots[i].current.store(fresh[i].get(), std::memory_order_release);
      if (fresh[i]) api_filters.emplace_back(api_slots[i].port, std::move(fresh[i]));
    }
    for (auto& [port, text] : filter_text) {
      const std::string& base = config_filter_text[port];
      text = combined.empty() ? base : base.empty() ? combined : "(" + base + ") and " + combined;
    }
    return {};
  }

  void api_filter_command(const control::Command& c) {
    if (c.type == control::Command::Type::add_filter) {
      api_exprs[c.id] = c.text;
      if (const std::string err = apply_api_filters(); !err.empty()) {
        api_exprs.erase(c.id);
        std::fprintf(stderr, "netscope: API filter %llu not applied: %s\n", static_cast<unsigned long long>(c.id), err.c_str());
        try {
          hub->state().remove_filter(c.id);  // GET /config/filters no longer lists it
        } catch (const std::exception&) {
          // command queue full: the listing keeps it, the data plane does not apply it
        }
      } else if (!quiet) {
        std::fprintf(stderr, "netscope: API filter %llu applied: %s\n", static_cast<unsigned long long>(c.id), c.text.c_str());
      }
    } else if (api_exprs.erase(c.id) != 0) {
      apply_api_filters();
      if (!quiet) std::fprintf(stderr, "netscope: API filter %llu removed\n", static_cast<unsigned long long>(c.id));
    }
  }

  std::map<std::uint64_t, std::string> api_rules;  ///< field rules added through the API, by id
  std::vector<std::unique_ptr<decode::FieldRules>> rule_sets;  ///< every set given to workers, kept until exit

  /// API field rules: the config's rules then the API's, as one new set for every worker.
  void rule_command(const control::Command& c) {
    const bool add = c.type == control::Command::Type::add_rule;
    if (add) {
      api_rules[c.id] = c.text;
    } else {
      api_rules.erase(c.id);
    }
    std::vector<decode::FieldRule> all = cfg.engine.rules;
    for (const auto& [id, text] : api_rules) {
      try {
        all.push_back(decode::parse_field_rule(text));
      } catch (const decode::RuleError& e) {  // validated by the API already
        std::fprintf(stderr, "netscope: API rule %llu not applied: %s\n", static_cast<unsigned long long>(id), e.what());
      }
    }
    rule_sets.push_back(std::make_unique<decode::FieldRules>(std::move(all)));
    for (auto& w : workers) w->worker->set_rules(rule_sets.back().get());
    if (!quiet) {
      std::fprintf(stderr, "netscope: API rule %llu %s: %s\n", static_cast<unsigned long long>(c.id),
                   add ? "applied" : "removed", c.text.c_str());
    }
  }

  std::uint64_t filtered(std::uint16_t port) const {
    std::uint64_t n = 0;
    if (filters != nullptr) {
      for (const auto& [p, f] : *filters) {
        if (p == port) n += f->filtered();
      }
    }
    for (const auto& [p, f] : api_filters) {
      if (p == port) n += f->filtered();
    }
    return n;
  }
  std::uint64_t quiet_ticks = 0;    ///< consecutive ticks with nothing new received
  std::uint64_t last_received = 0;
  std::string mode;
  rte_mempool* pool = nullptr;
  std::uint64_t last_snapshot_tsc = 0;
  std::uint64_t start_tsc = rte_rdtsc();
  std::uint64_t hz = rte_get_tsc_hz();
  std::uint64_t last_progress_tsc = rte_rdtsc();
  std::uint64_t last_packets = 0;
  std::uint64_t last_events = 0;
  std::string stop_reason;

  std::uint64_t analyzed(std::uint16_t port) const {
    std::uint64_t n = 0;
    for (const auto& w : workers) n += w->worker->counters().ports[port].packets.value();
    return n;
  }

  std::uint64_t ring_drops() const {
    std::uint64_t n = 0;
    for (const auto& r : rxs) n += r->ring_drops.value();
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
      if (analyzed(p.id) + filtered(p.id) < st.ipackets) return false;
    }
    return any;
  }

  /// The generator has finished and every port has been quiet, with every received packet
  /// analyzed, for 100 consecutive ticks (the last frames are through the rings).
  bool generator_traffic_analyzed() {
    std::uint64_t received = 0;
    std::uint64_t done = 0;
    for (const PortState& p : ports) {
      rte_eth_stats st{};
      if (rte_eth_stats_get(p.id, &st) == 0) received += st.ipackets;
      if (p.id < engine::kMaxPorts) done += analyzed(p.id);
    }
    for (const PortState& p : ports) done += filtered(p.id);
    if (received != last_received || done < received) {
      last_received = received;
      quiet_ticks = 0;
      return false;
    }
    return ++quiet_ticks >= 100;
  }

  std::unique_ptr<engine::SensorMerger> sensors;  ///< merges every worker's sensor records

  // Captured frames: recording to pcapng, and the packet inspector.
  FrameQueue* frames = nullptr;
  Recorder* recorder = nullptr;
  std::uint32_t inspect_per_port = 0;
  std::uint32_t inspect_snaplen = 0;
  std::uint64_t inspect_cycles = 0;  ///< TSC between inspector snapshot requests (0: off)
  std::uint64_t last_inspect_tsc = 0;
  std::uint64_t last_record_flush_tsc = 0;
  std::uint32_t inspect_no = 0;
  std::uint64_t inspect_updated_ns = 0;
  struct InspectPart {
    std::uint32_t snapshot = 0;
    std::vector<control::InspectedFrame> frames;
  };
  std::map<std::pair<std::uint16_t, std::uint16_t>, InspectPart> inspect_parts;  ///< latest per (port, lcore)

  /// Asks every worker for its frame history (sent in its next maintain() or flush()).
  void request_inspect() {
    if (inspect_cycles == 0) return;
    ++inspect_no;
    for (auto& w : workers) w->worker->request_snapshot(inspect_no);
  }

  void take_frame(const QueuedFrame& q) {
    if (q.meta.reason == engine::CaptureReason::inspect) {
      InspectPart& part = inspect_parts[{q.meta.port, q.meta.lcore}];
      if (part.snapshot != q.meta.snapshot) {
        part.snapshot = q.meta.snapshot;
        part.frames.clear();
      }
      const auto b = q.bytes().first(std::min<std::size_t>(q.bytes().size(), inspect_snaplen));
      part.frames.push_back({q.meta.timestamp_ns, q.meta.packet_index, q.meta.wire_len, q.meta.port, q.meta.lcore,
                             std::vector<std::uint8_t>(b.begin(), b.end())});
      inspect_updated_ns = unix_now_ns();
      return;
    }
    if (recorder != nullptr) recorder->write(q.meta, q.bytes());
  }

  /// Each port's last frames over all workers, oldest first.
  std::shared_ptr<const control::InspectorView> inspector_view() const {
    if (inspect_cycles == 0) return nullptr;
    auto v = std::make_shared<control::InspectorView>();
    v->updated_ns = inspect_updated_ns;
    v->per_port = inspect_per_port;
    v->snaplen = inspect_snaplen;
    for (const auto& [key, part] : inspect_parts) {
      if (v->ports.size() <= key.first) v->ports.resize(key.first + 1u);
      auto& list = v->ports[key.first];
      list.insert(list.end(), part.frames.begin(), part.frames.end());
    }
    for (auto& list : v->ports) {
      std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
        return std::tie(a.timestamp_ns, a.packet_index) < std::tie(b.timestamp_ns, b.packet_index);
      });
      if (list.size() > inspect_per_port) list.erase(list.begin(), list.end() - inspect_per_port);
    }
    return v;
  }

  control::RecordingStats recording_stats() const {
    control::RecordingStats r;
    if (recorder == nullptr) return r;
    const RecorderCounters& c = recorder->counters();
    r.enabled = true;
    r.dir = recorder->options().dir;
    r.frames = c.written;
    r.by_reason = c.by_reason;
    r.bytes = c.bytes;
    r.files = recorder->files().size();
    r.files_opened = c.files_opened;
    r.files_deleted = c.files_deleted;
    r.dropped = c.errors;
    for (const auto& w : workers) r.dropped += w->worker->counters().capture_dropped.value() + w->record_dropped.value();
    for (const auto& x : rxs) r.dropped += x->record_dropped.value();
    return r;
  }

  /// Sensor records to the merger; the alerts it raises join the anomaly stream.
  std::size_t drain_sensors(WorkerContext& w) {
    if (!sensors) return 0;
    std::size_t moved = 0;
    engine::SensorRecord sr[32];
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst_elem(w.sink->sensors_, sr, sizeof sr[0], 32, nullptr)) > 0) {
      for (unsigned i = 0; i < n; ++i) sensors->on_record(sr[i]);
      moved += n;
    }
    for (const engine::AnomalyEvent& ev : sensors->take_alerts()) {
      if (hub != nullptr) hub->on_event(ev);
      events.push_back(ev);
    }
    return moved;
  }

  /// Moves flow records and events from the worker rings to the control side.
  std::size_t drain() {
    std::size_t moved = 0;
    engine::FlowRecord fr[64];
    engine::AnomalyEvent ev[64];
    for (auto& w : workers) {
      unsigned n;
      while ((n = rte_ring_sc_dequeue_burst_elem(w->sink->flows_, fr, sizeof fr[0], 64, nullptr)) > 0) {
        for (unsigned i = 0; i < n; ++i) {
          if (exporter != nullptr) exporter->write(fr[i]);
          if (hub != nullptr) hub->on_flow(fr[i]);
          flows.push_back(fr[i]);
        }
        moved += n;
      }
      while ((n = rte_ring_sc_dequeue_burst_elem(w->sink->events_, ev, sizeof ev[0], 64, nullptr)) > 0) {
        for (unsigned i = 0; i < n; ++i) {
          if (hub != nullptr) hub->on_event(ev[i]);
          if (events.size() < static_cast<std::size_t>(cfg.engine.max_events) * workers.size()) events.push_back(ev[i]);
        }
        moved += n;
      }
      engine::SaSummary su[32];
      while ((n = rte_ring_sc_dequeue_burst_elem(w->sink->sas_, su, sizeof su[0], 32, nullptr)) > 0) {
        for (unsigned i = 0; i < n; ++i) sas[su[i].key] = su[i];
        moved += n;
      }
      engine::PacketSummary ps[32];
      while ((n = rte_ring_sc_dequeue_burst_elem(w->sink->packets_, ps, sizeof ps[0], 32, nullptr)) > 0) {
        if (hub != nullptr) {
          for (unsigned i = 0; i < n; ++i) hub->on_packet(ps[i]);
        }
        moved += n;
      }
      moved += drain_sensors(*w);
    }
    if (frames != nullptr) moved += frames->drain([&](const QueuedFrame& q) { take_frame(q); });
    return moved;
  }

  void progress(bool force) {
    const std::uint64_t now = rte_rdtsc();
    if (!force && now - last_progress_tsc < hz) return;
    std::uint64_t packets = 0;
    std::uint64_t evs = 0;
    std::uint64_t sas = 0;
    std::uint64_t active = 0;
    for (const auto& w : workers) {
      const auto& c = w->worker->counters();
      packets += c.packets.value();
      evs += c.events_total.value();
      sas += c.sas_created.value();
      active += c.flows_active.value();
    }
    const double dt = static_cast<double>(now - last_progress_tsc) / static_cast<double>(hz);
    const double elapsed = static_cast<double>(now - start_tsc) / static_cast<double>(hz);
    if (cfg.progress && !quiet) {
      std::fprintf(stderr, "netscope: %7.1fs packets %llu (%.0f pps) sas %llu flows %llu anomalies +%llu\n",
                   elapsed, static_cast<unsigned long long>(packets),
                   dt > 0 ? static_cast<double>(packets - last_packets) / dt : 0.0,
                   static_cast<unsigned long long>(sas), static_cast<unsigned long long>(active),
                   static_cast<unsigned long long>(evs - last_events));
    }
    last_progress_tsc = now;
    last_packets = packets;
    last_events = evs;
  }

  /// Everything the control side knows now, for the APIs.
  std::shared_ptr<control::Snapshot> snapshot() const {
    auto s = std::make_shared<control::Snapshot>();
    s->time_ns = unix_now_ns();
    s->uptime_s = static_cast<double>(rte_rdtsc() - start_tsc) / static_cast<double>(hz);
    s->mode = mode;
    s->paused = paused;
    for (const auto& w : workers) {
      const engine::WorkerCounters& c = w->worker->counters();
      s->packets += c.packets.value();
      s->bytes += c.bytes.value();
      for (std::size_t i = 0; i < engine::kTrafficClassCount; ++i) {
        s->class_packets[i] += c.class_packets[i].value();
        s->class_bytes[i] += c.class_bytes[i].value();
      }
      for (std::size_t i = 0; i < decode::kMalformedCount; ++i) s->malformed[i] += c.malformed[i].value();
      for (std::size_t i = 0; i < seq::kEventTypeCount; ++i) s->events[i] += c.events[i].value();
      s->events_dropped += c.events_dropped.value();
      s->sas_active += c.sas_created.value();
      s->flows_active += c.flows_active.value();
      s->flows_created += c.flows_created.value();
      s->flows_expired += c.flows_expired.value();
      s->flows_evicted += c.flows_evicted.value();
      s->flow_records_dropped += c.flow_records_dropped.value();
      s->wrong_lcore += c.wrong_lcore.value();
      s->tap_packets += c.tap_packets.value();
      s->tap_dropped += c.tap_dropped.value();
      s->sa_resets += c.sa_resets.value();
      s->rules_excluded += c.rules_excluded.value();
      s->analysis.add(c.analysis, w->worker->reassembly());
      control::LcoreStats l;
      l.lcore = w->lcore;
      l.role = rxs.empty() ? "rx+worker" : "worker";
      l.packets = c.packets.value();
      l.busy_cycles = w->busy_cycles.value();
      l.idle_cycles = w->idle_cycles.value();
      for (rte_ring* r : w->inputs) {
        l.ring_fill += rte_ring_count(r);
        l.ring_size += rte_ring_get_capacity(r);
      }
      s->lcores.push_back(l);
    }
    for (const auto& r : rxs) {
      s->ring_drops += r->ring_drops.value();
      s->ring_waits += r->ring_waits.value();
      control::LcoreStats l;
      l.lcore = r->lcore;
      l.role = "rx";
      s->lcores.push_back(l);
    }
    for (const PortState& p : ports) {
      control::PortStats ps;
      ps.id = p.id;
      ps.name = p.name;
      ps.driver = p.driver;
      rte_eth_link link{};
      ps.link_up = rte_eth_link_get_nowait(p.id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
      // Filtered before received: every filtered packet was counted in ipackets already.
      const std::uint64_t rejected = filtered(p.id);
      rte_eth_stats st{};
      if (rte_eth_stats_get(p.id, &st) == 0) {
        ps.rx_packets = st.ipackets;
        ps.rx_bytes = st.ibytes;
        ps.rx_missed = st.imissed;
        ps.rx_errors = st.ierrors;
        ps.rx_nombuf = st.rx_nombuf;
      }
      if (const auto it = filter_text.find(p.id); it != filter_text.end()) ps.filter = it->second;
      ps.filter_rejected = rejected;
      ps.filter_passed = ps.rx_packets > rejected ? ps.rx_packets - rejected : 0;
      if (const XdpPrefilter* x = xdp_of(p.id)) {
        const XdpCounters c = x->counters();
        ps.xdp_prefilter = true;
        ps.xdp_redirected = c.redirected;
        ps.xdp_passed = c.passed;
        ps.xdp_no_socket = c.no_socket;
      }
      if (p.id < engine::kMaxPorts) {
        for (const auto& w : workers) {
          ps.analyzed_packets += w->worker->counters().ports[p.id].packets.value();
          ps.analyzed_bytes += w->worker->counters().ports[p.id].bytes.value();
        }
      }
      s->ports.push_back(ps);
    }
    s->tsc_hz = hz;
    s->correlation = correlation_view(workers, ports);
    if (tx != nullptr) {
      const TxCounters t = tx->totals();
      s->tx_packets = t.packets;
      s->tx_bytes = t.bytes;
      s->tx_rate_pps = t.pps();
    }
    for (const auto& w : workers) s->sa_table_full += w->worker->counters().sa_table_full.value();
    if (sensors) {
      std::vector<std::array<std::uint64_t, 3>> port_totals;
      for (const control::PortStats& ps : s->ports) port_totals.push_back({ps.id, ps.analyzed_packets, ps.analyzed_bytes});
      sensors->observe_totals(s->time_ns, s->packets, s->bytes, port_totals);
      s->traffic = std::make_shared<const engine::TrafficView>(sensors->view(s->time_ns));
    }
    if (pool != nullptr) {
      s->mempool_size = pool->size;
      s->mempool_in_use = rte_mempool_in_use_count(pool);
    }
    s->sas.reserve(sas.size());
    for (const auto& [k, v] : sas) s->sas.push_back(v);
    s->inspector = inspector_view();
    s->recording = recording_stats();
    return s;
  }

  bool paused = false;
  std::uint64_t last_tap_tsc = 0;
  std::vector<seq::SaKey> pending_resets;  ///< mailbox was full: retried each tick

  /// Packet tap: each worker may tap its share of the hub's rate in the next 10 ms.
  void grant_tap(std::uint64_t now) {
    if (hub == nullptr) return;
    last_tap_tsc = now;
    const std::uint64_t rate = hub->tap_rate();
    const std::uint64_t share = rate == 0 ? 0 : std::max<std::uint64_t>(1, rate / 100 / std::max<std::size_t>(1, workers.size()));
    for (auto& w : workers) w->worker->grant_tap(w->worker->counters().tap_packets.value() + share);
  }

  /// API reset of one SA (by its API id): every worker that holds it starts it again.
  void reset_sa(std::uint64_t id) {
    for (const auto& [key, su] : sas) {
      if (control::sa_id(key) == id) pending_resets.push_back(key);
    }
  }
  void push_resets() {
    std::size_t kept = 0;
    for (const seq::SaKey& k : pending_resets) {
      bool all = true;
      for (auto& w : workers) all = w->worker->request_sa_reset(k) && all;
      if (!all) pending_resets[kept++] = k;  // a mailbox was full; a worker may see it twice
    }
    pending_resets.resize(kept);
  }

  /// Publishes a snapshot to the hub about once a second and applies API commands.
  void serve() {
    if (hub == nullptr) return;
    while (auto cmd = hub->poll_command()) {
      if (cmd->type == control::Command::Type::pause) paused = true;
      if (cmd->type == control::Command::Type::resume) paused = false;
      if (cmd->type == control::Command::Type::reset_flow) reset_sa(cmd->id);
      if (cmd->type == control::Command::Type::add_filter || cmd->type == control::Command::Type::remove_filter) {
        api_filter_command(*cmd);
      }
      if (cmd->type == control::Command::Type::add_rule || cmd->type == control::Command::Type::remove_rule) {
        rule_command(*cmd);
      }
      g.paused.store(paused, std::memory_order_relaxed);
    }
    if (!pending_resets.empty()) push_resets();
    const std::uint64_t now = rte_rdtsc();
    if (now - last_tap_tsc >= hz / 100) grant_tap(now);
    if (inspect_cycles != 0 && now - last_inspect_tsc >= inspect_cycles) {
      last_inspect_tsc = now;
      request_inspect();
    }
    if (now - last_snapshot_tsc >= hz) {
      last_snapshot_tsc = now;
      hub->publish(snapshot());
    }
  }

  /// One control step. Returns true when the run should stop.
  bool tick() {
    drain();
    serve();
    if (g_stop_requested.load(std::memory_order_relaxed)) {
      stop_reason = "signal";
      return true;
    }
    const double elapsed = static_cast<double>(rte_rdtsc() - start_tsc) / static_cast<double>(hz);
    if (cfg.duration_s > 0 && elapsed >= cfg.duration_s) {
      stop_reason = "duration";
      return true;
    }
    if (!cfg.live && replay_finished()) {
      stop_reason = "end_of_input";
      return true;
    }
    if (recorder != nullptr && rte_rdtsc() - last_record_flush_tsc >= hz) {
      last_record_flush_tsc = rte_rdtsc();
      recorder->flush();  // a file on disk at most a second behind; aged files rotate
    }
    if (!cfg.live && tx != nullptr && cfg.tx.count != 0 && tx->done() && generator_traffic_analyzed()) {
      stop_reason = "generator_done";
      return true;
    }
    progress(false);
    return false;
  }

  template <typename Pred>
  void drain_until(Pred done) {
    while (!done()) {
      if (drain() == 0) rte_delay_us_sleep(100);
    }
    drain();
  }
};

}  // namespace

enum class Started { yes, skipped, failed };

/// Starts a server. A failure on an address the user gave is fatal (one line, `failed`);
/// on an implicit default (another netscope may hold it) it only warns (`skipped`).
template <typename F>
Started start_server(F&& start, bool implicit_default, const char* what, const char* option) {
  try {
    start();
    return Started::yes;
  } catch (const std::exception& e) {
    if (!implicit_default) {
      std::fprintf(stderr, "netscope: %s\n", e.what());
      return Started::failed;
    }
    std::fprintf(stderr, "netscope: warning: %s; %s disabled (use %s)\n", e.what(), what, option);
    return Started::skipped;
  }
}

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
      std::fprintf(stderr, "netscope: port %u: at most %zu ports are supported\n", p.id, engine::kMaxPorts);
      return 2;
    }
  }
  // Correlated port pairs (correlation.pairs, --correlate): ids or names to port ids.
  std::vector<engine::CorrelationPair> corr_pairs;
  for (const auto& [a, b] : cfg.correlation_pairs) {
    int ids[2] = {-1, -1};
    std::string known;
    for (const PortState& p : ports) {
      known += (known.empty() ? "" : ", ") + std::to_string(p.id) + "=" + p.name;
      if (a == p.name || a == std::to_string(p.id)) ids[0] = p.id;
      if (b == p.name || b == std::to_string(p.id)) ids[1] = p.id;
    }
    const std::string which = a + "," + b;
    if (ids[0] < 0 || ids[1] < 0) {
      std::fprintf(stderr, "netscope: correlation pair %s: no such port '%s' (ports: %s)\n", which.c_str(),
                   (ids[0] < 0 ? a : b).c_str(), known.c_str());
      return 2;
    }
    bool clash = ids[0] == ids[1];
    for (const engine::CorrelationPair& q : corr_pairs) {
      for (const int id : ids) clash |= q.a == id || q.b == id;
    }
    if (clash) {
      std::fprintf(stderr, "netscope: correlation pair %s: a port may be in one pair only, and not twice\n", which.c_str());
      return 2;
    }
    corr_pairs.push_back({static_cast<std::uint16_t>(ids[0]), static_cast<std::uint16_t>(ids[1])});
  }

  // Lcore roles. The main lcore controls; the others poll and/or analyze.
  std::vector<unsigned> lcores;
  unsigned lc = 0;
  RTE_LCORE_FOREACH_WORKER(lc) { lcores.push_back(lc); }
  // Generator TX lcores come from the end of the list.
  std::vector<unsigned> tx_lcores;
  const bool generating = cfg.tx.port >= 0;
  if (generating) {
    bool known = false;
    for (const PortState& p : ports) known |= p.id == cfg.tx.port;
    if (!known) {
      std::fprintf(stderr, "netscope: generator.port %d: no such port\n", cfg.tx.port);
      return 2;
    }
    if (lcores.size() < cfg.tx.lcores) {
      std::fprintf(stderr, "netscope: the generator needs %u TX lcore(s) besides the main lcore; add them to -l\n",
                   cfg.tx.lcores);
      return 2;
    }
    tx_lcores.assign(lcores.end() - cfg.tx.lcores, lcores.end());
    lcores.resize(lcores.size() - cfg.tx.lcores);
  }
  const bool single = lcores.empty();
  // Queues a port can give: one per capture file for net_pcap; for other PMDs what the
  // device offers (af_packet qpairs, NIC queues), at most one per lcore.
  unsigned possible_queues = 0;
  for (const PortState& p : ports) {
    const bool fixed = p.driver == "net_pcap" || p.driver == "net_af_packet" || p.driver == "net_af_xdp";
    possible_queues += fixed ? p.rx_queues
                             : std::min<unsigned>(p.max_rx_queues, std::max<std::size_t>(1, lcores.size()));
  }
  std::string mode = cfg.mode;
  if (mode == "auto") mode = (lcores.size() >= 2 && possible_queues < lcores.size()) ? "pipeline" : "rtc";
  // Correlation needs both copies of a packet on one worker: the software shard (pipeline)
  // or a single worker gives that; rtc with several workers polls each port's queues on
  // their own lcore.
  if (!corr_pairs.empty() && mode == "rtc" && lcores.size() > 1) {
    if (cfg.mode != "auto") {
      std::fprintf(stderr, "netscope: --mode rtc with %zu worker lcores cannot correlate ports (a packet's two copies "
                   "would reach different workers): use --mode pipeline or one worker lcore\n", lcores.size());
      return 2;
    }
    mode = "pipeline";
  }
  if (mode == "rtc" && lcores.size() > 1) {
    for (PortState& p : ports) {
      if (p.driver != "net_pcap" && p.driver != "net_af_packet" && p.driver != "net_af_xdp") {
        p.rx_queues = static_cast<std::uint16_t>(std::min<std::size_t>(p.max_rx_queues, lcores.size()));
      }
    }
  }
  unsigned total_queues = 0;
  for (const PortState& p : ports) total_queues += p.rx_queues;
  if (mode == "pipeline" && lcores.size() < 2) {
    std::fprintf(stderr, "netscope: --mode pipeline needs at least 3 lcores (control, RX, worker); got %zu\n",
                 lcores.size() + 1);
    return 2;
  }
  const bool pipeline = mode == "pipeline";
  std::vector<unsigned> rx_lcores;
  std::vector<unsigned> worker_lcores;
  if (single) {
    worker_lcores.push_back(rte_get_main_lcore());
  } else if (pipeline) {
    const std::size_t n_rx = std::min<std::size_t>(total_queues, lcores.size() - 1);
    rx_lcores.assign(lcores.begin(), lcores.begin() + static_cast<std::ptrdiff_t>(n_rx));
    worker_lcores.assign(lcores.begin() + static_cast<std::ptrdiff_t>(n_rx), lcores.end());
  } else {
    worker_lcores = lcores;
  }

  g.flags.rx_stop.store(false);
  g.flags.worker_stop.store(false);
  g.flags.abort.store(false);
  g.paused.store(false);
  g.packet_clock = true;
  g.replay = false;
  g_stop_requested.store(false);
  g.burst = static_cast<std::uint16_t>(std::min<unsigned>(cfg.burst, kMaxBurst));
  if (rte_mbuf_dyn_rx_timestamp_register(&g.ts_offset, &g.ts_flag) != 0) g.ts_offset = -1;
  static const rte_mbuf_dynfield index_field = {"netscope_packet_index", sizeof(std::uint64_t),
                                                alignof(std::uint64_t), 0};
  g_index_offset = rte_mbuf_dynfield_register(&index_field);
  if (g_index_offset < 0) {
    std::fprintf(stderr, "netscope: cannot register an mbuf field: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  g.unix_ns0 = unix_now_ns();
  g.tsc0 = rte_rdtsc();
  g.ns_per_tsc = 1e9 / static_cast<double>(rte_get_tsc_hz());
  // Rings wait for room instead of dropping when every input is a file, looped ones
  // (infinite_rx) included: nothing is lost by waiting on a file.
  g.replay = !cfg.live;
  for (const PortState& p : ports) {
    g.replay &= p.from_files;
    g.packet_clock &= p.timestamp_scale != 0;
  }

  // Captured frames: the recording (pcapng files) and the packet inspector (the API's last
  // frames per port, only when an API may serve them).
  const bool api_wanted = (cfg.api.listen != "off" && (!cfg.api.listen.empty() || cfg.live)) ||
                          (!cfg.grpc.listen.empty() && cfg.grpc.listen != "off");
  const bool inspect = cfg.inspector.packets != 0 && api_wanted;
  const bool recording = cfg.recording.enabled();
  std::uint16_t port_slots = 0;
  for (const PortState& p : ports) port_slots = std::max<std::uint16_t>(port_slots, static_cast<std::uint16_t>(p.id + 1));
  std::unique_ptr<FrameQueue> frames;
  std::unique_ptr<Recorder> recorder;
  try {
    if (inspect || recording) {
      const std::uint32_t snap = std::max(recording ? cfg.recording.snaplen : 0u, inspect ? cfg.inspector.snaplen : 0u);
      const std::uint64_t inspect_frames = inspect ? 2ull * worker_lcores.size() * port_slots * cfg.inspector.packets : 0;
      frames = std::make_unique<FrameQueue>(
          static_cast<std::uint32_t>(std::min<std::uint64_t>(std::max<std::uint64_t>(recording ? cfg.recording.queue : 0, inspect_frames), 1u << 22)),
          snap);
    }
    if (recording) {
      RecorderOptions ro;
      ro.dir = cfg.recording.dir;
      ro.prefix = cfg.recording.prefix;
      ro.file_bytes = cfg.recording.file_bytes;
      ro.file_ns = static_cast<std::uint64_t>(cfg.recording.file_seconds * 1e9);
      ro.total_bytes = cfg.recording.max_bytes;
      for (std::uint16_t id = 0; id < port_slots; ++id) {
        packet::PcapngInterface itf{"port" + std::to_string(id), "", cfg.recording.snaplen};
        for (const PortState& p : ports) {
          if (p.id == id) itf = {p.name, p.driver, cfg.recording.snaplen};
        }
        ro.interfaces.push_back(itf);
      }
      recorder = std::make_unique<Recorder>(ro);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "netscope: %s\n", e.what());
    return 1;
  }
  g.frames = frames.get();
  g.record_blocking = g.replay && !single;

  // Workers: flow capacity is a total, split across them.
  std::vector<std::unique_ptr<WorkerContext>> workers;
  std::vector<std::unique_ptr<RxContext>> rxs;
  try {
    for (std::size_t i = 0; i < worker_lcores.size(); ++i) {
      auto w = std::make_unique<WorkerContext>();
      w->lcore = worker_lcores[i];
      w->index = static_cast<std::uint16_t>(i);
      engine::EngineConfig ec = cfg.engine;
      ec.max_flows = static_cast<std::uint32_t>((cfg.engine.max_flows + worker_lcores.size() - 1) / worker_lcores.size());
      ec.worker_index = w->index;
      ec.worker_count = static_cast<std::uint16_t>(worker_lcores.size());
      ec.lcore = static_cast<std::uint16_t>(w->lcore);
      ec.correlation.pairs = corr_pairs;
      // Live SA state for the APIs: a few SAs per burst, only when someone listens.
      ec.sa_publish_work = ((!cfg.api.listen.empty() && cfg.api.listen != "off") || cfg.live || !cfg.database.path.empty()) ? 4 : 0;
      // Blocking (back-pressure) in replay, where the control lcore always drains; never
      // when live, and never with a single lcore (it would wait on itself).
      ec.capture.ports = port_slots;
      ec.capture.history = inspect ? cfg.inspector.packets : 0;
      ec.capture.anomalies = cfg.recording.anomalies;
      ec.capture.malformed = cfg.recording.malformed;
      ec.capture.before = cfg.recording.context_before;
      ec.capture.after = cfg.recording.context_after;
      ec.capture.capture_snaplen = cfg.recording.snaplen;
      ec.capture.snaplen = std::max(inspect ? cfg.inspector.snaplen : 0u,
                                    cfg.recording.anomalies && cfg.recording.context_before != 0 ? cfg.recording.snaplen : 0u);
      w->sink = std::make_unique<RingSink>("nsrec" + std::to_string(i), cfg.record_ring, g.replay && !single, g.flags,
                                           frames.get());
      w->worker = std::make_unique<engine::Worker>(ec, *w->sink);
      workers.push_back(std::move(w));
    }
    for (unsigned l : rx_lcores) {
      auto r = std::make_unique<RxContext>();
      r->lcore = l;
      for (std::size_t wi = 0; wi < workers.size(); ++wi) {
        const std::string name = "nsw" + std::to_string(l) + "_" + std::to_string(wi);
        rte_ring* ring = rte_ring_create_elem(name.c_str(), sizeof(RxDesc), cfg.worker_ring,
                                              static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (ring == nullptr) throw std::runtime_error("cannot create ring " + name + ": " + rte_strerror(rte_errno));
        r->outputs.push_back(ring);
        workers[wi]->inputs.push_back(ring);
        // The way back holds at least what the way out can: a worker never frees on its
        // own while its RX lcore runs.
        rte_ring* back = rte_ring_create((name + "b").c_str(), 2 * cfg.worker_ring, static_cast<int>(rte_socket_id()),
                                         RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (back == nullptr) throw std::runtime_error("cannot create ring " + name + "b: " + rte_strerror(rte_errno));
        r->returns.push_back(back);
        workers[wi]->returns.push_back(back);
      }
      rxs.push_back(std::move(r));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "netscope: %s\n", e.what());
    return 1;
  }
  // Queues round-robin over the polling lcores.
  // Filters: one PortFilter per polled queue (its counters have one writer).
  std::vector<std::pair<std::uint16_t, std::unique_ptr<PortFilter>>> filters;
  std::vector<std::unique_ptr<PortFilter>> record_filters;  ///< recording.filter, one per polled queue
  auto filter_for = [&](const PortState& p) -> std::string {
    for (const auto& [port, expr] : cfg.port_filters) {
      if (port == p.name || port == std::to_string(p.id)) return expr;
    }
    return cfg.filter;
  };
  for (const auto& [port, expr] : cfg.port_filters) {
    bool known = false;
    for (const PortState& p : ports) known |= port == p.name || port == std::to_string(p.id);
    if (!known) {
      std::fprintf(stderr, "netscope: --port-filter %s: no such port\n", port.c_str());
      return 2;
    }
  }
  std::size_t next = 0;
  std::size_t queue_count = 0;
  for (const PortState& p : ports) queue_count += p.rx_queues;
  auto api_slots = std::make_unique<ApiFilterSlot[]>(queue_count);
  for (const PortState& p : ports) {
    for (std::uint16_t q = 0; q < p.rx_queues; ++q, ++next) {
      QueueRef ref{p.id, q, nullptr, &api_slots[next], nullptr, p.timestamp_scale, 0};
      api_slots[next].port = p.id;
      if (const std::string expr = filter_for(p); !expr.empty()) {
        try {
          filters.emplace_back(p.id, std::make_unique<PortFilter>(expr));
        } catch (const std::exception& e) {
          std::fprintf(stderr, "netscope: port %s: %s\n", p.name.c_str(), e.what());
          return 2;
        }
        ref.filter = filters.back().second.get();
      }
      if (!cfg.recording.filter.empty()) {
        try {
          record_filters.push_back(std::make_unique<PortFilter>(cfg.recording.filter));
        } catch (const std::exception& e) {
          std::fprintf(stderr, "netscope: recording.filter: %s\n", e.what());
          return 2;
        }
        ref.record = record_filters.back().get();
      }
      if (pipeline) {
        rxs[next % rxs.size()]->queues.push_back(ref);
      } else {
        workers[next % workers.size()]->queues.push_back(ref);
      }
    }
  }

  const unsigned ring_mbufs = pipeline ? static_cast<unsigned>(rxs.size() * workers.size()) * cfg.worker_ring : 0;
  const unsigned mbufs = std::max<unsigned>(
      cfg.mbufs, total_queues * (cfg.rx_ring + cfg.burst) + ring_mbufs +
                     static_cast<unsigned>(workers.size() + rxs.size()) * 512 + 1024);
  std::vector<std::pair<std::uint16_t, std::unique_ptr<XdpPrefilter>>> xdp;
  rte_mempool* pool = rte_pktmbuf_pool_create("netscope_rx", mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                              static_cast<int>(rte_socket_id()));
  if (pool == nullptr) {
    std::fprintf(stderr, "netscope: cannot allocate %u mbufs: %s (raise EAL -m, or lower runtime.mbufs)\n",
                 mbufs, rte_strerror(rte_errno));
    return 1;
  }
  try {
    for (const PortState& p : ports) {
      start_port(p, cfg, pool, generating && p.id == cfg.tx.port ? static_cast<std::uint16_t>(cfg.tx.lcores) : 1);
    }
    for (const PortState& p : ports) {
      if (auto x = XdpPrefilter::open(p.id, xdp_class_mask(cfg.xdp_prefilter))) {
        if (!quiet) {
          std::fprintf(stderr, "netscope: port %u: XDP pre-filter (program %u) on %s\n", p.id, x->program_id(),
                       x->interface().c_str());
        }
        xdp.emplace_back(p.id, std::move(x));
      } else if (!cfg.xdp_prefilter.empty() && p.driver == "net_af_xdp") {
        throw std::runtime_error("port " + p.name + ": --xdp-prefilter is set, but the port's xdp_prog= is " +
                                 "not NetScope's program (no ns_xdp_cfg map)");
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "netscope: %s\n", e.what());
    return 1;
  }

  std::unique_ptr<TxEngine> tx;
  if (generating) {
    try {
      const packet::Scenario scenario = cfg.tx.scenario == "builtin-demo" ? packet::builtin_demo_scenario()
                                                                          : packet::load_scenario(cfg.tx.scenario);
      packet::GeneratorOptions go;
      go.seed = cfg.tx.seed;
      go.count = cfg.tx.count;
      go.truth.window = cfg.engine.tracker.window;
      go.truth.reset_threshold = cfg.engine.tracker.reset_threshold;
      go.truth.stuck_threshold = cfg.engine.tracker.stuck_threshold;
      TxOptions to;
      to.port = static_cast<std::uint16_t>(cfg.tx.port);
      to.lcores = tx_lcores;
      for (std::uint16_t q = 0; q < cfg.tx.lcores; ++q) to.queues.push_back(q);
      to.pacing = cfg.tx.rate_pps > 0 ? TxPacing::constant : TxPacing::burst;
      to.rate = {RateUnit::pps, cfg.tx.rate_pps};
      to.count = cfg.tx.count;
      tx = std::make_unique<TxEngine>(scenario, go, to);
    } catch (const packet::ConfigError& e) {
      std::fprintf(stderr, "netscope: generator: %s\n", e.what());
      return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "netscope: generator: %s\n", e.what());
      return 1;
    }
  }

  std::unique_ptr<FlowExporter> exporter;
  if (!cfg.flows_out.empty()) {
    try {
      exporter = std::make_unique<FlowExporter>(cfg.flows_out, cfg.flows_format);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "netscope: %s\n", e.what());
      return 1;
    }
  }

  if (!quiet) {
    std::fprintf(stderr, "netscope: mode %s, %zu RX lcore(s), %zu worker lcore(s)\n", mode.c_str(),
                 pipeline ? rxs.size() : workers.size(), workers.size());
    std::fprintf(stderr, "netscope: %-6s %-4s %-10s %s\n", "lcore", "cpu", "role", "port/queue");
    // The CPUs the lcore's thread may run on (rte_lcore_to_cpu_id gives the lcore's own
    // number when --lcores maps lcores to other CPUs).
    auto cpus = [](unsigned lcore) {
      const rte_cpuset_t set = rte_lcore_cpuset(lcore);
      std::string t;
      for (unsigned c = 0; c < CPU_SETSIZE; ++c) {
        if (!CPU_ISSET(c, &set)) continue;
        unsigned e = c;
        while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, &set)) ++e;
        t += (t.empty() ? "" : ",") + std::to_string(c) + (e != c ? "-" + std::to_string(e) : "");
        c = e;
      }
      return t.empty() ? std::string("?") : t;
    };
    auto queues_text = [](const std::vector<QueueRef>& qs) {
      std::string t;
      for (const QueueRef& q : qs) {
        char item[16];
        std::snprintf(item, sizeof item, "%s%u/%u", t.empty() ? "" : " ", q.port, q.queue);
        t += item;
      }
      return t.empty() ? std::string("-") : t;
    };
    std::fprintf(stderr, "netscope: %-6u %-4s %-10s %s\n", rte_get_main_lcore(), cpus(rte_get_main_lcore()).c_str(),
                 single ? "ctl+rx+wk" : "control", single ? queues_text(workers[0]->queues).c_str() : "-");
    for (const auto& r : rxs) {
      std::fprintf(stderr, "netscope: %-6u %-4s %-10s %s\n", r->lcore, cpus(r->lcore).c_str(), "rx",
                   queues_text(r->queues).c_str());
    }
    if (!single) {
      for (const auto& w : workers) {
        std::fprintf(stderr, "netscope: %-6u %-4s %-10s %s\n", w->lcore, cpus(w->lcore).c_str(),
                     pipeline ? "worker" : "rx+worker",
                     pipeline ? "(rings)" : queues_text(w->queues).c_str());
      }
    }
    for (const PortState& p : ports) {
      std::fprintf(stderr, "netscope: port %u %s (%s)%s%s\n", p.id, p.name.c_str(), p.driver.c_str(),
                   p.replay ? ", replay of " : "", p.replay ? (std::to_string(p.expected_packets) + " packets").c_str() : "");
    }
    // Flow and SA tables: on 2 MB huge pages when the system had free ones.
    const util::LargeMemoryStats lm = util::large_memory_stats();
    std::fprintf(stderr, "netscope: tables %.1f MiB on huge pages, %.1f MiB on normal pages%s\n",
                 static_cast<double>(lm.hugetlb_bytes) / (1 << 20), static_cast<double>(lm.normal_bytes) / (1 << 20),
                 lm.normal_bytes != 0 ? " (reserve more in /proc/sys/vm/nr_hugepages for fewer TLB misses)" : "");
  }

  std::unique_ptr<control::Hub> hub;
  std::unique_ptr<rpc::GrpcServer> grpc;  // after hub: destroyed (stopped) before it
  const bool grpc_explicit = !cfg.grpc.listen.empty() && cfg.grpc.listen != "off";
  // Live runs are unattended: REST, WebSocket and /metrics on 127.0.0.1:8080 unless told
  // otherwise ("off": none). Replays serve only when asked (CI runs many at once).
  const bool api_default = cfg.api.listen.empty() && cfg.live;
  std::string api_listen = cfg.api.listen == "off" ? "" : cfg.api.listen;
  if (api_default) api_listen = "127.0.0.1:8080";
  if (!api_listen.empty() || !cfg.database.path.empty() || grpc_explicit) {
    control::HubConfig hc;
    hc.api_listen = api_listen;
    hc.db_path = cfg.database.path;
    hc.api_key = cfg.api.key;
    hc.cors_origins = cfg.api.cors_origins;
    hc.rate_limit_rps = cfg.api.rate_limit;
    hc.rate_limit_burst = cfg.api.rate_limit_burst;
    hc.tls_certificate = cfg.api.tls_certificate;
    hc.metrics_require_key = cfg.api.metrics_require_key;
    hc.api_threads = cfg.api.threads;
    hc.history_seconds = cfg.api.history_seconds;
    hc.tap_idle_pps = cfg.api.packet_tap_pps;
    hc.tap_stream_pps = cfg.api.packet_stream_pps;
    hc.max_events = cfg.max_anomalies;
    hc.db_flush_interval_ms = static_cast<unsigned>(cfg.database.flush_interval_s * 1000);
    hc.db_batch_rows = cfg.database.batch_rows;
    hc.db_retention_s = static_cast<std::uint64_t>(cfg.database.retention_days * 86400);
    hc.db_raw_retention_s = static_cast<std::uint64_t>(cfg.database.raw_retention_hours * 3600);
    const auto make_hub = [&] {
      hub = std::make_unique<control::Hub>(hc);
      hub->start();
    };
    const Started st = start_server(make_hub, api_default, "API", "--api-listen");
    if (st == Started::failed) return 1;
    if (st == Started::skipped) {
      hub.reset();
      api_listen.clear();
      hc.api_listen.clear();
      if ((!cfg.database.path.empty() || grpc_explicit) && start_server(make_hub, false, "", "") == Started::failed) return 1;
    }
  }
  if (hub) {
    if (!quiet && !api_listen.empty()) {
      std::fprintf(stderr, "netscope: API on http://%s/ (REST /api/v1, WebSocket, /metrics)\n",
                   hub->bound_address().c_str());
    }
    // gRPC beside REST: on the default address whenever the REST API runs, unless "off".
    const bool grpc_default = cfg.grpc.listen.empty() && !api_listen.empty();
    if (grpc_explicit || grpc_default) {
      rpc::GrpcConfig gc;
      gc.listen = grpc_default ? rpc::kDefaultListen : cfg.grpc.listen;
      gc.tls_certificate = cfg.grpc.tls_certificate;
      gc.tls_key = cfg.grpc.tls_key;
      gc.client_ca = cfg.grpc.client_ca;
      gc.token = cfg.grpc.token;
      gc.rate_limit = cfg.grpc.rate_limit;
      gc.rate_limit_burst = cfg.grpc.rate_limit_burst;
      gc.max_streams = cfg.grpc.max_streams;
      const Started st = start_server([&] {
        grpc = std::make_unique<rpc::GrpcServer>(hub->state(), gc);
        grpc->start();
      }, grpc_default, "gRPC", "--grpc-listen");
      if (st == Started::failed) return 1;
      if (st == Started::skipped) grpc.reset();
      if (grpc && !quiet) {
        std::fprintf(stderr, "netscope: gRPC on %s%s (netscope.v1.NetworkTracker, health, reflection)\n",
                     grpc->bound_address().c_str(), grpc->tls() ? " with TLS" : "");
      }
    }
  }

  const std::uint64_t start_ns = unix_now_ns();
  Control control{cfg, ports, workers, rxs, exporter.get(), quiet, {}, {}};
  control.hub = hub.get();
  if (hub && !cfg.database.path.empty() && cfg.database.restore) {
    // Continue the SAs of an earlier run on the same database: no false gaps or
    // duplicates after a restart. Each SA goes to the worker its packets shard to.
    std::vector<engine::SaSummary> saved;
    try {
      saved = control::load_sa_state(cfg.database.path);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "netscope: %s\n", e.what());
      return 1;
    }
    std::size_t restored = 0;
    for (engine::SaSummary su : saved) {
      auto& w = workers[engine::shard_hash(su.key) % workers.size()];
      su.lcore = static_cast<std::uint16_t>(w->lcore);
      su.recent_count = 0;
      if (!w->worker->restore_sa(su)) continue;
      control.sas[su.key] = su;
      ++restored;
    }
    if (!quiet && !saved.empty()) {
      std::fprintf(stderr, "netscope: restored %zu of %zu SAs from %s\n", restored, saved.size(), cfg.database.path.c_str());
    }
  }
  control.tx = tx.get();
  control.filters = &filters;
  for (const PortState& p : ports) control.filter_text[p.id] = filter_for(p);
  control.config_filter_text = control.filter_text;
  control.api_slots = api_slots.get();
  control.api_slot_count = queue_count;
  control.xdp = std::move(xdp);
  control.mode = single ? "single" : mode;
  control.pool = pool;
  if (cfg.engine.sensors.enabled) {
    control.sensors = std::make_unique<engine::SensorMerger>(cfg.engine.sensors, static_cast<std::uint16_t>(workers.size()));
  }
  control.grant_tap(rte_rdtsc());  // the first packets are tapped too
  control.frames = frames.get();
  control.recorder = recorder.get();
  if (inspect && hub) {
    control.inspect_per_port = cfg.inspector.packets;
    control.inspect_snaplen = cfg.inspector.snaplen;
    control.inspect_cycles = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(cfg.inspector.refresh_s * static_cast<double>(rte_get_tsc_hz())));
    control.last_inspect_tsc = rte_rdtsc();
  }
  if (recorder && !quiet) {
    std::fprintf(stderr, "netscope: recording%s%s%s%s to %s\n",
                 cfg.recording.filter.empty() ? "" : (" frames matching '" + cfg.recording.filter + "'").c_str(),
                 cfg.recording.anomalies ? (" anomalies (" + std::to_string(cfg.recording.context_before) + " frames before, " +
                                            std::to_string(cfg.recording.context_after) + " after)").c_str() : "",
                 cfg.recording.malformed ? " malformed frames" : "", "", recorder->files().back().c_str());
  }
  if (!single) {
    for (auto& r : rxs) rte_eal_remote_launch(rx_main, r.get(), r->lcore);
    for (auto& w : workers) rte_eal_remote_launch(pipeline ? worker_main : rtc_main, w.get(), w->lcore);
    if (tx) tx->launch();
    while (!control.tick()) rte_delay_us_sleep(1000);
    if (tx) tx->request_stop();
    // Stop RX first, then let the workers drain their rings and flush their flows while
    // the control side keeps draining the record rings.
    control.request_inspect();  // the final frames of each port, sent with the workers' flush
    g.flags.rx_stop.store(true, std::memory_order_release);
    control.drain_until([&] {
      for (const auto& r : rxs) {
        if (!r->done.load(std::memory_order_acquire)) return false;
      }
      return true;
    });
    g.flags.worker_stop.store(true, std::memory_order_release);
    control.drain_until([&] {
      for (const auto& w : workers) {
        if (!w->done.load(std::memory_order_acquire)) return false;
      }
      return true;
    });
    if (tx) tx->wait();
    rte_eal_mp_wait_lcore();
  } else {
    if (tx) tx->launch();
    WorkerContext& ctx = *workers.front();
    std::uint64_t next_tick = rte_rdtsc();
    const std::uint64_t tick_cycles = rte_get_tsc_hz() / 1000;
    const unsigned half = cfg.record_ring / 2;
    for (;;) {
      const unsigned got = timed(ctx, rtc_poll);
      if (rte_ring_count(ctx.sink->flows_) > half || rte_ring_count(ctx.sink->events_) > half ||
          rte_ring_count(ctx.sink->sensors_) > half || (frames && frames->size() > frames->capacity() / 4)) {
        control.drain();
      }
      const std::uint64_t now = rte_rdtsc();
      if (got == 0 || now >= next_tick) {
        if (control.tick()) break;
        next_tick = now + tick_cycles;
      }
    }
    if (tx) {
      tx->request_stop();
      tx->wait();
      while (rtc_poll(ctx) != 0) {
      }
    }
    // Single lcore: flush in slices so the record ring never needs to wait on itself.
    control.request_inspect();
    while (ctx.worker->flush(1024) != 0) control.drain();
  }
  control.drain();
  control.progress(true);
  if (hub) {
    // Final state: every SA as the (stopped) workers left it, then flush the database.
    for (auto& w : workers) {
      const seq::SaTable& t = w->worker->sas();
      t.for_each([&](const seq::SaEntry& e) {
        control.sas[e.key] = engine::summarize(t, e, static_cast<std::uint16_t>(w->lcore));
      });
    }
    hub->publish(control.snapshot());
    if (grpc) grpc->stop();  // ends the streams before the hub goes
    hub->stop();
  }
  const std::uint64_t end_ns = unix_now_ns();

  report::RunSummary run;
  run.start_unix_ns = start_ns;
  run.end_unix_ns = end_ns;
  run.wall_seconds = static_cast<double>(end_ns - start_ns) / 1e9;
  run.stop_reason = control.stop_reason;
  run.config = &cfg;
  run.mode = single ? "single" : mode;
  for (const auto& w : workers) run.workers.push_back(w->worker.get());
  run.flows = std::move(control.flows);
  run.events = std::move(control.events);
  if (control.sensors) run.traffic = report::traffic_json(control.sensors->view(end_ns));
  if (const auto cv = correlation_view(workers, ports)) run.correlation = report::correlation_json(*cv);
  if (recorder) {
    recorder->flush();
    const control::RecordingStats rs = control.recording_stats();
    nlohmann::json by_reason = nlohmann::json::object();
    for (std::size_t i = 0; i < rs.by_reason.size(); ++i) {
      const auto reason = static_cast<engine::CaptureReason>(i);
      if (reason != engine::CaptureReason::inspect) by_reason[std::string(engine::to_string(reason))] = rs.by_reason[i];
    }
    run.recording = {{"dir", rs.dir},
                     {"files", std::vector<std::string>(recorder->files().begin(), recorder->files().end())},
                     {"frames", rs.frames},
                     {"by_reason", by_reason},
                     {"bytes", rs.bytes},
                     {"files_deleted", rs.files_deleted},
                     {"dropped", rs.dropped}};
  }
  for (const auto& r : rxs) {
    run.ring_drops += r->ring_drops.value();
    run.ring_waits += r->ring_waits.value();
  }
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
    s.filter = filter_for(p);
    s.filter_passed = s.rx_packets - control.filtered(p.id);
    s.filter_rejected = control.filtered(p.id);
    if (const XdpPrefilter* x = control.xdp_of(p.id)) {
      const XdpCounters c = x->counters();
      s.xdp = {{"interface", x->interface()},
               {"program_id", x->program_id()},
               {"classes", cfg.xdp_prefilter.empty() ? std::vector<std::string>{"macsec", "esp", "ah", "nat-t"}
                                                      : cfg.xdp_prefilter},
               {"redirected", c.redirected},
               {"passed", c.passed},
               {"no_socket", c.no_socket}};
    }
    run.ports.push_back(s);
  }

  int rc = 0;
  if (tx) {
    const TxCounters t = tx->totals();
    run.generator = {{"port", cfg.tx.port}, {"lcores", cfg.tx.lcores}, {"packets", t.packets}, {"bytes", t.bytes},
                     {"seconds", t.seconds}, {"pps", t.pps()}, {"requested_pps", cfg.tx.rate_pps},
                     {"drops", t.drops}, {"retries", t.retries}};
    if (!cfg.tx.truth_out.empty()) {
      std::ofstream out(cfg.tx.truth_out);
      out << tx->truth_json() << '\n';
      if (!out) {
        std::fprintf(stderr, "netscope: cannot write the generator truth to '%s'\n", cfg.tx.truth_out.c_str());
        rc = 1;
      }
    }
  }
  if (exporter && !exporter->close()) {
    std::fprintf(stderr, "netscope: cannot write the flow export '%s'\n", cfg.flows_out.c_str());
    rc = 1;
  }
  if (!cfg.report_json.empty()) {
    const std::string tmp = cfg.report_json + ".tmp";
    {
      std::ofstream out(tmp);
      out << report::build_json(run).dump(2) << '\n';
      if (!out) rc = 1;
    }
    if (rc != 0 || std::rename(tmp.c_str(), cfg.report_json.c_str()) != 0) {
      std::fprintf(stderr, "netscope: cannot write the JSON report to '%s'\n", cfg.report_json.c_str());
      rc = 1;
    }
  }
  if (cfg.report_text) report::write_text(run, stdout);

  for (const PortState& p : ports) {
    rte_eth_dev_stop(p.id);
    rte_eth_dev_close(p.id);
  }
  for (auto& r : rxs) {
    free_returned(*r);  // what the workers sent back after their RX lcore stopped
    for (rte_ring* ring : r->outputs) rte_ring_free(ring);
    for (rte_ring* ring : r->returns) rte_ring_free(ring);
  }
  workers.clear();
  rxs.clear();
  g.frames = nullptr;
  recorder.reset();
  frames.reset();
  rte_mempool_free(pool);
  return rc;
}

}  // namespace netscope::runtime
