#include "netscope/packet/pcapng.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace netscope::packet {
namespace {

constexpr std::uint32_t kSectionHeader = 0x0A0D0D0A;
constexpr std::uint32_t kInterfaceDescription = 1;
constexpr std::uint32_t kEnhancedPacket = 6;
constexpr std::uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr std::uint16_t kLinktypeEthernet = 1;
constexpr std::uint16_t kOptEnd = 0;
constexpr std::uint16_t kOptComment = 1;
constexpr std::uint16_t kShbUserAppl = 4;
constexpr std::uint16_t kIfName = 2;
constexpr std::uint16_t kIfDescription = 3;
constexpr std::uint16_t kIfTsresol = 9;
constexpr std::uint16_t kEpbFlags = 2;
constexpr std::uint32_t kFlagInbound = 1;
constexpr std::size_t kFlushAt = 1 << 20;

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void pad4(std::string& out, std::size_t len) {
  static constexpr char kZero[4] = {};
  out.append(kZero, (4 - len % 4) % 4);
}

void option(std::string& out, std::uint16_t code, const void* value, std::size_t len) {
  // Option values are at most 65535 bytes; longer comments are cut (on a UTF-8 boundary
  // is not guaranteed, readers accept it).
  const auto n = static_cast<std::uint16_t>(std::min<std::size_t>(len, 0xFFFC));
  put(out, code);
  put(out, n);
  out.append(static_cast<const char*>(value), n);
  pad4(out, n);
}

void end_options(std::string& out) {
  put(out, kOptEnd);
  put(out, std::uint16_t{0});
}

/// Starts a block; returns the offset of its length field.
std::size_t begin(std::string& out, std::uint32_t type) {
  put(out, type);
  const std::size_t at = out.size();
  put(out, std::uint32_t{0});
  return at;
}

/// Ends a block started at `len_at` (4 bytes after its type): writes both lengths.
void finish(std::string& out, std::size_t len_at) {
  const auto total = static_cast<std::uint32_t>(out.size() - (len_at - 4) + 4);
  std::memcpy(out.data() + len_at, &total, 4);
  put(out, total);
}

}  // namespace

void pcapng_section(std::string& out, std::string_view application) {
  const std::size_t at = begin(out, kSectionHeader);
  put(out, kByteOrderMagic);
  put(out, std::uint16_t{1});
  put(out, std::uint16_t{0});
  put(out, std::int64_t{-1});
  if (!application.empty()) option(out, kShbUserAppl, application.data(), application.size());
  end_options(out);
  finish(out, at);
}

void pcapng_interface(std::string& out, const PcapngInterface& iface) {
  const std::size_t at = begin(out, kInterfaceDescription);
  put(out, kLinktypeEthernet);
  put(out, std::uint16_t{0});
  put(out, iface.snaplen);
  if (!iface.name.empty()) option(out, kIfName, iface.name.data(), iface.name.size());
  if (!iface.description.empty()) option(out, kIfDescription, iface.description.data(), iface.description.size());
  const std::uint8_t nanoseconds = 9;
  option(out, kIfTsresol, &nanoseconds, 1);
  end_options(out);
  finish(out, at);
}

void pcapng_packet(std::string& out, std::uint32_t iface, std::uint64_t timestamp_ns,
                   std::span<const std::uint8_t> bytes, std::uint32_t orig_len, std::string_view comment) {
  const std::size_t at = begin(out, kEnhancedPacket);
  put(out, iface);
  put(out, static_cast<std::uint32_t>(timestamp_ns >> 32));
  put(out, static_cast<std::uint32_t>(timestamp_ns));
  const auto caplen = static_cast<std::uint32_t>(bytes.size());
  put(out, caplen);
  put(out, std::max(orig_len, caplen));
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  pad4(out, bytes.size());
  if (!comment.empty()) option(out, kOptComment, comment.data(), comment.size());
  option(out, kEpbFlags, &kFlagInbound, 4);
  end_options(out);
  finish(out, at);
}

PcapngWriter::PcapngWriter(const std::string& path, std::string_view application,
                           const std::vector<PcapngInterface>& interfaces)
    : path_(path) {
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) throw std::runtime_error("cannot create '" + path + "': " + std::strerror(errno));
  buf_.reserve(kFlushAt + 70000);
  pcapng_section(buf_, application);
  for (const PcapngInterface& i : interfaces) pcapng_interface(buf_, i);
  bytes_ = buf_.size();
}

PcapngWriter::~PcapngWriter() {
  if (file_ != nullptr) {
    if (!buf_.empty()) (void)std::fwrite(buf_.data(), 1, buf_.size(), file_);
    std::fclose(file_);
  }
}

void PcapngWriter::write(std::uint32_t iface, std::uint64_t timestamp_ns, std::span<const std::uint8_t> bytes,
                         std::uint32_t orig_len, std::string_view comment) {
  const std::size_t before = buf_.size();
  pcapng_packet(buf_, iface, timestamp_ns, bytes, orig_len, comment);
  bytes_ += buf_.size() - before;
  ++packets_;
  if (buf_.size() >= kFlushAt) flush();
}

void PcapngWriter::flush() {
  if (file_ == nullptr || buf_.empty()) return;
  const bool ok = std::fwrite(buf_.data(), 1, buf_.size(), file_) == buf_.size() && std::fflush(file_) == 0;
  buf_.clear();
  if (!ok) throw std::runtime_error("write to '" + path_ + "' failed: " + std::strerror(errno));
}

void PcapngWriter::close() {
  if (file_ == nullptr) return;
  std::string error;
  try {
    flush();
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (std::fclose(file_) != 0 && error.empty()) error = "closing '" + path_ + "' failed: " + std::strerror(errno);
  file_ = nullptr;
  if (!error.empty()) throw std::runtime_error(error);
}

}  // namespace netscope::packet
