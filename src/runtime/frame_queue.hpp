// Captured frames on their way to the control lcore: a pool of fixed-size buffers and a
// multi-producer ring. Any lcore offers a frame (copied, never blocking unless asked);
// the control lcore takes them in bursts for the recorder and the packet inspector.
#pragma once

#include <cstdint>
#include <span>

#include "netscope/engine/capture.hpp"

struct rte_mempool;
struct rte_ring;

namespace netscope::runtime {

/// One frame in the queue: its description and up to `snaplen` bytes.
struct QueuedFrame {
  engine::CaptureMeta meta;
  std::uint32_t caplen = 0;
  std::uint32_t pad_ = 0;
  [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept {
    return {reinterpret_cast<const std::uint8_t*>(this + 1), caplen};
  }
};

class FrameQueue {
 public:
  /// After rte_eal_init. `frames` is rounded up to a power of two. Throws
  /// std::runtime_error when the pool or ring cannot be created.
  FrameQueue(std::uint32_t frames, std::uint32_t snaplen);
  ~FrameQueue();
  FrameQueue(const FrameQueue&) = delete;
  FrameQueue& operator=(const FrameQueue&) = delete;

  /// Any lcore or thread: copies at most snaplen bytes of `bytes` with `meta`. Returns
  /// false when the queue is full (the caller counts it). Never blocks.
  bool offer(const engine::CaptureMeta& meta, std::span<const std::uint8_t> bytes) noexcept;

  /// One consumer: hands each queued frame to `fn(const QueuedFrame&)`, at most `max`.
  /// Returns how many.
  template <typename Fn>
  unsigned drain(Fn&& fn, unsigned max = 0xFFFFFFFFu) {
    unsigned total = 0;
    void* burst[32];
    while (total < max) {
      const unsigned n = dequeue(burst, 32);
      if (n == 0) break;
      for (unsigned i = 0; i < n; ++i) fn(*static_cast<const QueuedFrame*>(burst[i]));
      release(burst, n);
      total += n;
    }
    return total;
  }

  [[nodiscard]] std::uint32_t snaplen() const noexcept { return snaplen_; }
  [[nodiscard]] bool empty() const noexcept;
  /// Frames queued now (any thread; a recent value).
  [[nodiscard]] unsigned size() const noexcept;
  /// Frames the queue holds at most.
  [[nodiscard]] unsigned capacity() const noexcept;

 private:
  unsigned dequeue(void** out, unsigned n) noexcept;
  void release(void** objs, unsigned n) noexcept;
  rte_mempool* pool_ = nullptr;
  rte_ring* ring_ = nullptr;
  std::uint32_t snaplen_;
};

}  // namespace netscope::runtime
