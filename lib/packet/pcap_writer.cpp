#include "netscope/packet/pcap_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace netscope::packet {
namespace {

struct FileHeader {
  std::uint32_t magic;
  std::uint16_t version_major;
  std::uint16_t version_minor;
  std::int32_t thiszone;
  std::uint32_t sigfigs;
  std::uint32_t snaplen;
  std::uint32_t linktype;
};
static_assert(sizeof(FileHeader) == 24);

struct RecordHeader {
  std::uint32_t ts_sec;
  std::uint32_t ts_frac;  ///< microseconds or nanoseconds
  std::uint32_t incl_len;
  std::uint32_t orig_len;
};
static_assert(sizeof(RecordHeader) == 16);

}  // namespace

PcapWriter::PcapWriter(const std::string& path, bool nanosecond, std::size_t buffer_bytes)
    : path_(path), nanosecond_(nanosecond),
      buf_(std::max<std::size_t>(buffer_bytes, sizeof(RecordHeader) + kPcapSnaplen)) {
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) {
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  }
  const FileHeader h{nanosecond ? kPcapMagicNano : kPcapMagicMicro, 2, 4, 0, 0, kPcapSnaplen,
                     kLinktypeEthernet};
  append(&h, sizeof h);
}

PcapWriter::~PcapWriter() {
  if (file_ != nullptr) {
    flush();
    std::fclose(file_);
  }
}

void PcapWriter::flush() noexcept {
  if (used_ == 0) return;
  if (!failed_ && std::fwrite(buf_.data(), 1, used_, file_) != used_) failed_ = true;
  used_ = 0;
}

void PcapWriter::append(const void* data, std::size_t len) noexcept {
  if (buf_.size() - used_ < len) flush();
  std::memcpy(buf_.data() + used_, data, len);
  used_ += len;
}

void PcapWriter::write(std::span<const std::uint8_t> frame, std::uint64_t timestamp_ns) noexcept {
  const auto incl = static_cast<std::uint32_t>(std::min<std::size_t>(frame.size(), kPcapSnaplen));
  const std::uint64_t frac = timestamp_ns % 1'000'000'000u;
  const RecordHeader r{static_cast<std::uint32_t>(timestamp_ns / 1'000'000'000u),
                       static_cast<std::uint32_t>(nanosecond_ ? frac : frac / 1000), incl,
                       static_cast<std::uint32_t>(frame.size())};
  if (buf_.size() - used_ < sizeof r + incl) flush();
  append(&r, sizeof r);
  append(frame.data(), incl);
  ++frames_;
}

void PcapWriter::close() {
  if (file_ == nullptr) return;
  flush();
  const bool close_failed = std::fclose(file_) != 0;
  file_ = nullptr;
  if (failed_ || close_failed) throw std::runtime_error("write to " + path_ + " failed");
}

}  // namespace netscope::packet
