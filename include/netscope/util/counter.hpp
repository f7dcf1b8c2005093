// Single-writer counters readable by another thread without locks.
#pragma once

#include <atomic>
#include <cstdint>

namespace netscope::util {

/// A counter with exactly one writing thread. add() is a plain load/add/store (no locked
/// instruction); value() may be called from any thread and sees a recent value.
class Counter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(std::uint64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

}  // namespace netscope::util
