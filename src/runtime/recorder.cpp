#include "recorder.hpp"

#include <fcntl.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_ring.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <stdexcept>

namespace netscope::runtime {

namespace {

constexpr unsigned kWriteBurst = 32;

std::uint64_t wall_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace

Recorder::Recorder(RecorderOptions options) : opt_(std::move(options)) {
  if (opt_.dir.empty()) throw std::runtime_error("recording: no directory given");
  std::error_code ec;
  std::filesystem::create_directories(opt_.dir, ec);
  if (ec) throw std::runtime_error("recording: cannot create directory '" + opt_.dir + "': " + ec.message());
  if (opt_.ring_size < 2 || (opt_.ring_size & (opt_.ring_size - 1)) != 0) {
    throw std::runtime_error("recording: ring size " + std::to_string(opt_.ring_size) + " is not a power of two");
  }
  static std::atomic<unsigned> instance{0};
  const std::string name = "ns_rec" + std::to_string(instance++);
  // One mbuf per ring slot, plus what the lcores may hold in their caches meanwhile.
  const unsigned mbufs = opt_.ring_size + 2 * 256 * RTE_MAX_LCORE / 64 + kWriteBurst;
  pool_ = rte_pktmbuf_pool_create(name.c_str(), mbufs, 256, 0,
                                  static_cast<std::uint16_t>(rte_pcapng_mbuf_size(opt_.snaplen)),
                                  static_cast<int>(rte_socket_id()));
  if (pool_ == nullptr) {
    throw std::runtime_error("recording: cannot allocate " + std::to_string(mbufs) +
                             " mbufs: " + rte_strerror(rte_errno));
  }
  ring_ = rte_ring_create(name.c_str(), opt_.ring_size, static_cast<int>(rte_socket_id()), RING_F_SC_DEQ);
  if (ring_ == nullptr) {
    rte_mempool_free(pool_);
    throw std::runtime_error("recording: cannot create the ring: " + std::string(rte_strerror(rte_errno)));
  }
  try {
    open_file();
  } catch (...) {
    rte_ring_free(ring_);
    rte_mempool_free(pool_);
    throw;
  }
}

Recorder::~Recorder() {
  try {
    drain();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "netscope: recording: %s\n", e.what());
  }
  close_file();
  rte_mbuf* m = nullptr;
  while (rte_ring_dequeue(ring_, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
  rte_ring_free(ring_);
  rte_mempool_free(pool_);
}

void Recorder::open_file() {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  char seq[16];
  std::snprintf(seq, sizeof seq, "%04u", serial_++);
  const std::string path = opt_.dir + "/" + opt_.prefix + "-" + stamp + "-" + seq + ".pcapng";
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error("recording: cannot create '" + path + "': " + std::strerror(errno));
  out_ = rte_pcapng_fdopen(fd_, nullptr, nullptr, "netscope", nullptr);
  if (out_ == nullptr) {
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("recording: cannot start pcapng file '" + path + "': " + rte_strerror(rte_errno));
  }
  const off_t header = lseek(fd_, 0, SEEK_CUR);
  file_bytes_ = header > 0 ? static_cast<std::uint64_t>(header) : 0;
  file_start_ns_ = wall_ns();
  files_.push_back(path);
  sizes_.push_back(file_bytes_);
  total_bytes_ += file_bytes_;
  c_.bytes += file_bytes_;
  ++c_.files_opened;
}

void Recorder::close_file() {
  if (out_ != nullptr) {
    rte_pcapng_close(out_);  // closes fd_ too
    out_ = nullptr;
    fd_ = -1;
  }
}

void Recorder::enforce_cap() {
  if (opt_.total_bytes == 0) return;
  while (total_bytes_ > opt_.total_bytes && files_.size() > 1) {
    std::error_code ec;
    std::filesystem::remove(files_.front(), ec);
    total_bytes_ -= sizes_.front();
    files_.pop_front();
    sizes_.pop_front();
    ++c_.files_deleted;
  }
}

bool Recorder::offer(const rte_mbuf* m, std::uint16_t port, std::uint16_t queue) noexcept {
  rte_mbuf* copy = rte_pcapng_copy(port, queue, m, pool_, opt_.snaplen, rte_get_tsc_cycles(), RTE_PCAPNG_DIRECTION_IN);
  if (copy == nullptr) [[unlikely]] {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (rte_ring_enqueue(ring_, copy) != 0) [[unlikely]] {
    rte_pktmbuf_free(copy);
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

std::size_t Recorder::drain() {
  std::size_t total = 0;
  std::array<rte_mbuf*, kWriteBurst> burst{};
  for (;;) {
    const unsigned n =
        rte_ring_dequeue_burst(ring_, reinterpret_cast<void**>(burst.data()), kWriteBurst, nullptr);
    if (n == 0) break;
    const bool full = opt_.file_bytes != 0 && file_bytes_ >= opt_.file_bytes;
    const bool old = opt_.file_ns != 0 && wall_ns() - file_start_ns_ >= opt_.file_ns;
    if (full || old) {
      close_file();
      open_file();
      enforce_cap();
    }
    const ssize_t written = rte_pcapng_write_packets(out_, burst.data(), static_cast<std::uint16_t>(n));
    rte_pktmbuf_free_bulk(burst.data(), n);
    if (written < 0) throw std::runtime_error("recording: write to '" + files_.back() + "' failed: " + std::strerror(errno));
    file_bytes_ += static_cast<std::uint64_t>(written);
    sizes_.back() = file_bytes_;
    total_bytes_ += static_cast<std::uint64_t>(written);
    c_.bytes += static_cast<std::uint64_t>(written);
    c_.written += n;
    total += n;
    enforce_cap();
  }
  return total;
}

RecorderCounters Recorder::counters() const {
  RecorderCounters c = c_;
  c.dropped = dropped_.load(std::memory_order_relaxed);
  return c;
}

}  // namespace netscope::runtime
