// Packet recording to pcapng (rte_pcapng) off the lcores' hot path: any lcore offers a
// packet, which is copied into a recording mbuf and queued on a ring; the writer (the
// control lcore, or a thread of its own) writes the queue to files it rotates by size and
// age, deleting the oldest files above a total cap. Not wired into the analyzer yet.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;
struct rte_pcapng;

namespace netscope::runtime {

struct RecorderOptions {
  std::string dir;                           ///< created when missing
  std::string prefix = "netscope";           ///< file names PREFIX-YYYYmmddTHHMMSSZ-NNNN.pcapng
  std::uint64_t file_bytes = 64ull << 20;    ///< start a new file at this size (0: never)
  std::uint64_t file_ns = 0;                 ///< start a new file after this long (0: never)
  std::uint64_t total_bytes = 0;             ///< delete the oldest files above this (0: no cap)
  std::uint32_t ring_size = 4096;            ///< packets queued for the writer, power of two
  std::uint32_t snaplen = 2048;              ///< bytes kept per packet
};

/// Counters; `dropped` may be read from any thread, the rest belong to the writer.
struct RecorderCounters {
  std::uint64_t written = 0;        ///< packets written
  std::uint64_t dropped = 0;        ///< offers refused: recording pool or ring full
  std::uint64_t bytes = 0;          ///< bytes in the files written (headers included)
  std::uint64_t files_opened = 0;
  std::uint64_t files_deleted = 0;  ///< removed by the total cap
};

class Recorder {
 public:
  /// Control side, after the ethdev ports exist (each gets a pcapng interface block).
  /// Allocates the recording pool and ring and opens the first file. Throws
  /// std::runtime_error naming the problem (directory, pool, ring, file).
  explicit Recorder(RecorderOptions options);
  /// Writes what is still queued and closes the file.
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  /// Any lcore, any number at once: copies `m` (up to snaplen bytes, with port, queue and
  /// a TSC timestamp) and queues it. Never blocks; when the pool or the ring is full the
  /// packet is counted as dropped and false returned. Does not take ownership of `m`.
  bool offer(const rte_mbuf* m, std::uint16_t port, std::uint16_t queue) noexcept;

  /// Writer only: writes everything queued, rotating and deleting files as configured.
  /// Returns the packets written. Throws std::runtime_error when a file cannot be written.
  std::size_t drain();

  [[nodiscard]] RecorderCounters counters() const;
  /// Files currently on disk, oldest first (the last one is being written).
  [[nodiscard]] const std::deque<std::string>& files() const { return files_; }

 private:
  void open_file();
  void close_file();
  void enforce_cap();

  RecorderOptions opt_;
  rte_mempool* pool_ = nullptr;
  rte_ring* ring_ = nullptr;
  rte_pcapng* out_ = nullptr;
  int fd_ = -1;
  std::uint64_t file_bytes_ = 0;   ///< size of the current file
  std::uint64_t file_start_ns_ = 0;
  std::uint64_t total_bytes_ = 0;  ///< size of every file on disk
  std::deque<std::string> files_;
  std::deque<std::uint64_t> sizes_;
  std::uint32_t serial_ = 0;
  RecorderCounters c_;
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace netscope::runtime
