// pcapng (draft-ietf-opsawg-pcapng) blocks and a rotating-free file writer, without
// libpcap or DPDK: section header, one interface block per port (nanosecond timestamps),
// enhanced packet blocks with a direction flag and an optional comment. Control side.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace netscope::packet {

/// One interface (capture port) of a pcapng section.
struct PcapngInterface {
  std::string name;          ///< if_name, e.g. the ethdev name
  std::string description;   ///< if_description (optional)
  std::uint32_t snaplen = 0; ///< 0: no limit
};

/// Appends the section header block (byte order of this host, section length unknown).
void pcapng_section(std::string& out, std::string_view application);
/// Appends an interface description block: LINKTYPE_ETHERNET, if_tsresol 9 (ns).
void pcapng_interface(std::string& out, const PcapngInterface& iface);
/// Appends an enhanced packet block for interface `iface` (its position in the section).
/// `orig_len` is the length on the wire (>= bytes.size()); `comment` becomes opt_comment
/// when not empty; the block is flagged inbound.
void pcapng_packet(std::string& out, std::uint32_t iface, std::uint64_t timestamp_ns,
                   std::span<const std::uint8_t> bytes, std::uint32_t orig_len,
                   std::string_view comment = {});

/// A pcapng file: the section and interface blocks are written when it opens.
/// write() buffers; the file is flushed when the buffer fills and on close().
class PcapngWriter {
 public:
  /// Throws std::runtime_error naming the path when the file cannot be created.
  PcapngWriter(const std::string& path, std::string_view application,
               const std::vector<PcapngInterface>& interfaces);
  ~PcapngWriter();
  PcapngWriter(const PcapngWriter&) = delete;
  PcapngWriter& operator=(const PcapngWriter&) = delete;

  /// Appends one packet; throws std::runtime_error when the file cannot be written.
  void write(std::uint32_t iface, std::uint64_t timestamp_ns, std::span<const std::uint8_t> bytes,
             std::uint32_t orig_len, std::string_view comment = {});
  /// Writes what is buffered; throws std::runtime_error on failure.
  void flush();
  /// Flushes and closes; throws std::runtime_error on failure. Idempotent.
  void close();

  /// Bytes of the file so far (written and buffered).
  [[nodiscard]] std::uint64_t bytes() const noexcept { return bytes_; }
  [[nodiscard]] std::uint64_t packets() const noexcept { return packets_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::string buf_;
  std::uint64_t bytes_ = 0;
  std::uint64_t packets_ = 0;
};

}  // namespace netscope::packet
