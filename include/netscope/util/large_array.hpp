// Big fixed arrays for the per-core tables (flows, SAs): allocated once at start, on 2 MB
// huge pages when the system has free ones (fewer TLB misses on random lookups), else on
// ordinary pages with transparent huge pages requested. No DPDK: the runtime reports
// where the memory went (util::large_memory_stats()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace netscope::util {

/// Where the large arrays of this process live (any thread; totals since start).
struct LargeMemoryStats {
  std::uint64_t hugetlb_bytes = 0;  ///< on explicit 2 MB huge pages (MAP_HUGETLB)
  std::uint64_t normal_bytes = 0;   ///< on ordinary pages (transparent huge pages asked for)
};
[[nodiscard]] LargeMemoryStats large_memory_stats() noexcept;

/// Maps `bytes` of zeroed memory (huge pages first). Throws std::bad_alloc.
void* large_map(std::size_t bytes, std::size_t& mapped);
void large_unmap(void* p, std::size_t mapped) noexcept;

/// A fixed array of value-initialized T in large_map() memory. Move-only.
template <typename T>
class LargeArray {
 public:
  LargeArray() = default;
  explicit LargeArray(std::size_t n) : n_(n) {
    if (n == 0) return;
    void* p = large_map(n * sizeof(T), mapped_);
    data_ = static_cast<T*>(p);
    std::uninitialized_value_construct_n(data_, n);
  }
  ~LargeArray() { reset(); }
  LargeArray(LargeArray&& o) noexcept { swap(o); }
  LargeArray& operator=(LargeArray&& o) noexcept {
    LargeArray(std::move(o)).swap(*this);
    return *this;
  }
  LargeArray(const LargeArray&) = delete;
  LargeArray& operator=(const LargeArray&) = delete;

  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  [[nodiscard]] T* get() noexcept { return data_; }
  [[nodiscard]] const T* get() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return n_; }

 private:
  void reset() noexcept {
    if (data_ == nullptr) return;
    std::destroy_n(data_, n_);
    large_unmap(data_, mapped_);
    data_ = nullptr;
  }
  void swap(LargeArray& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(n_, o.n_);
    std::swap(mapped_, o.mapped_);
  }
  T* data_ = nullptr;
  std::size_t n_ = 0;
  std::size_t mapped_ = 0;
};

}  // namespace netscope::util
