// Classic pcap file writer (LINKTYPE_ETHERNET), buffered, without libpcap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace netscope::packet {

inline constexpr std::uint32_t kPcapMagicMicro = 0xA1B2C3D4;
inline constexpr std::uint32_t kPcapMagicNano = 0xA1B23C4D;
inline constexpr std::uint32_t kPcapSnaplen = 65535;
inline constexpr std::uint32_t kLinktypeEthernet = 1;

/// Writes frames to a classic pcap file in host byte order (readers detect it by the magic).
///
/// The constructor opens the file and writes the global header; it throws
/// std::runtime_error naming the path on failure. write() copies into an internal buffer
/// and does not allocate; I/O errors are remembered and reported by close().
class PcapWriter {
 public:
  /// `nanosecond` selects the nanosecond magic (0xA1B23C4D) instead of microseconds.
  explicit PcapWriter(const std::string& path, bool nanosecond = false,
                      std::size_t buffer_bytes = std::size_t{1} << 20);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  /// Appends one frame stamped `timestamp_ns` (since the Unix epoch); frames longer than the
  /// snap length are truncated in the file (orig_len keeps the real length).
  void write(std::span<const std::uint8_t> frame, std::uint64_t timestamp_ns) noexcept;

  /// Flushes and closes; throws std::runtime_error if any write failed. Idempotent.
  void close();

  [[nodiscard]] std::uint64_t frames() const noexcept { return frames_; }

 private:
  void flush() noexcept;
  void append(const void* data, std::size_t len) noexcept;

  std::string path_;
  std::FILE* file_ = nullptr;
  bool nanosecond_;
  bool failed_ = false;
  std::vector<std::uint8_t> buf_;
  std::size_t used_ = 0;
  std::uint64_t frames_ = 0;
};

}  // namespace netscope::packet
