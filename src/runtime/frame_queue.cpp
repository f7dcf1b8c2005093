#include "frame_queue.hpp"

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <stdexcept>
#include <string>

namespace netscope::runtime {

FrameQueue::FrameQueue(std::uint32_t frames, std::uint32_t snaplen) : snaplen_(snaplen) {
  static std::atomic<unsigned> instance{0};
  const std::string name = "ns_frames" + std::to_string(instance++);
  const std::uint32_t slots = std::bit_ceil(std::max<std::uint32_t>(frames, 64));
  // The ring holds slots-1; the pool has one buffer per slot and per-lcore caches on top.
  pool_ = rte_mempool_create(name.c_str(), slots + 64 * 8 - 1, static_cast<unsigned>(sizeof(QueuedFrame) + snaplen), 32, 0,
                             nullptr, nullptr, nullptr, nullptr, static_cast<int>(rte_socket_id()), 0);
  if (pool_ == nullptr) {
    throw std::runtime_error("captured-frame pool of " + std::to_string(slots) + " x " + std::to_string(snaplen) +
                             " bytes: " + rte_strerror(rte_errno) +
                             " (raise EAL -m, or lower recording.queue / recording.snaplen)");
  }
  ring_ = rte_ring_create(name.c_str(), slots, static_cast<int>(rte_socket_id()), RING_F_SC_DEQ);
  if (ring_ == nullptr) {
    rte_mempool_free(pool_);
    throw std::runtime_error("captured-frame ring: " + std::string(rte_strerror(rte_errno)));
  }
}

FrameQueue::~FrameQueue() {
  void* obj = nullptr;
  while (rte_ring_dequeue(ring_, &obj) == 0) rte_mempool_put(pool_, obj);
  rte_ring_free(ring_);
  rte_mempool_free(pool_);
}

bool FrameQueue::offer(const engine::CaptureMeta& meta, std::span<const std::uint8_t> bytes) noexcept {
  void* obj = nullptr;
  if (rte_mempool_get(pool_, &obj) != 0) [[unlikely]] return false;
  auto* f = static_cast<QueuedFrame*>(obj);
  f->meta = meta;
  f->caplen = static_cast<std::uint32_t>(std::min<std::size_t>(bytes.size(), snaplen_));
  std::memcpy(f + 1, bytes.data(), f->caplen);
  if (rte_ring_mp_enqueue(ring_, obj) != 0) [[unlikely]] {
    rte_mempool_put(pool_, obj);
    return false;
  }
  return true;
}

bool FrameQueue::empty() const noexcept { return rte_ring_empty(ring_) != 0; }

unsigned FrameQueue::size() const noexcept { return rte_ring_count(ring_); }

unsigned FrameQueue::capacity() const noexcept { return rte_ring_get_capacity(ring_); }

unsigned FrameQueue::dequeue(void** out, unsigned n) noexcept { return rte_ring_sc_dequeue_burst(ring_, out, n, nullptr); }

void FrameQueue::release(void** objs, unsigned n) noexcept { rte_mempool_put_bulk(pool_, objs, n); }

}  // namespace netscope::runtime
