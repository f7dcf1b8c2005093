// Recording to pcapng files (docs/recording.md): the control lcore writes the frames the
// RX path and the workers captured (recording filter, anomalies with their context,
// malformed frames) to files it rotates by size and age, deleting the oldest files above
// a total cap. Each anomaly frame carries a comment saying what it raised.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "netscope/engine/capture.hpp"
#include "netscope/packet/pcapng.hpp"

namespace netscope::runtime {

struct RecorderOptions {
  std::string dir;                           ///< created when missing
  std::string prefix = "netscope";           ///< file names PREFIX-YYYYmmddTHHMMSSZ-NNNN.pcapng
  std::uint64_t file_bytes = 64ull << 20;    ///< start a new file at this size (0: never)
  std::uint64_t file_ns = 0;                 ///< start a new file after this long (0: never)
  std::uint64_t total_bytes = 0;             ///< delete the oldest files above this (0: no cap)
  std::vector<packet::PcapngInterface> interfaces;  ///< one per port id, in order
};

struct RecorderCounters {
  std::uint64_t written = 0;        ///< frames written
  std::uint64_t bytes = 0;          ///< bytes written to files (headers included)
  std::uint64_t files_opened = 0;
  std::uint64_t files_deleted = 0;  ///< removed by the total cap
  std::uint64_t errors = 0;         ///< frames lost to write errors
  std::array<std::uint64_t, 5> by_reason{};  ///< frames written per engine::CaptureReason
};

class Recorder {
 public:
  /// Creates the directory and opens the first file. Throws std::runtime_error naming
  /// the directory or file.
  explicit Recorder(RecorderOptions options);
  /// Flushes and closes the current file.
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  /// Writes one frame, rotating and deleting files as configured. A write error is
  /// counted (errors) and reported once on stderr; the recorder then tries a new file.
  void write(const engine::CaptureMeta& meta, std::span<const std::uint8_t> bytes) noexcept;
  /// Writes what is buffered and rotates a file that is too old. Call periodically.
  void flush() noexcept;

  [[nodiscard]] const RecorderCounters& counters() const noexcept { return c_; }
  /// Files currently on disk, oldest first (the last one is being written).
  [[nodiscard]] const std::deque<std::string>& files() const noexcept { return files_; }
  [[nodiscard]] const RecorderOptions& options() const noexcept { return opt_; }

 private:
  void open_file();
  void close_file() noexcept;
  void enforce_cap() noexcept;
  void rotate() noexcept;
  void failed(const std::exception& e) noexcept;

  RecorderOptions opt_;
  std::unique_ptr<packet::PcapngWriter> out_;
  std::uint64_t file_start_ns_ = 0;
  std::uint64_t closed_bytes_ = 0;   ///< size of the files on disk but the current one
  std::deque<std::string> files_;
  std::deque<std::uint64_t> sizes_;
  std::uint32_t serial_ = 0;
  RecorderCounters c_;
  bool reported_ = false;
};

/// The pcapng comment of a captured frame: what it raised ("gap: expected 10, got 12,
/// SA esp spi=0x00000007 dst=10.0.0.2, port 0 packet 41") or why it was kept.
std::string capture_comment(const engine::CaptureMeta& m);

}  // namespace netscope::runtime
