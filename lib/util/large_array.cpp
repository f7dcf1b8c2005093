#include "netscope/util/large_array.hpp"

#include <sys/mman.h>

#include <atomic>

namespace netscope::util {

namespace {
constexpr std::size_t kHugePage = 2u << 20;
std::atomic<std::uint64_t> g_hugetlb{0};
std::atomic<std::uint64_t> g_normal{0};
}  // namespace

LargeMemoryStats large_memory_stats() noexcept {
  return {g_hugetlb.load(std::memory_order_relaxed), g_normal.load(std::memory_order_relaxed)};
}

void* large_map(std::size_t bytes, std::size_t& mapped) {
  const std::size_t len = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  // Explicit huge pages: all or nothing (MAP_POPULATE faults them in now, so a shortage
  // shows here and not as SIGBUS on the packet path).
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
  if (p != MAP_FAILED) {
    mapped = len;
    g_hugetlb.fetch_add(len, std::memory_order_relaxed);
    return p;
  }
  p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  madvise(p, len, MADV_HUGEPAGE);  // transparent huge pages where enabled; harmless otherwise
  mapped = len;
  g_normal.fetch_add(len, std::memory_order_relaxed);
  return p;
}

void large_unmap(void* p, std::size_t mapped) noexcept {
  if (p != nullptr) munmap(p, mapped);
}

}  // namespace netscope::util
