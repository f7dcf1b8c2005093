#include "recorder.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <stdexcept>

#include "netscope/seq/sa_table.hpp"

namespace netscope::runtime {

namespace {

std::uint64_t wall_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

std::string sa_text(const seq::SaKey& k) {
  char buf[128];
  if (k.protocol == seq::SaProtocol::macsec) {
    std::snprintf(buf, sizeof buf, "macsec sci=%s an=%u", seq::sci_text(k.sci).c_str(), k.an);
  } else {
    std::snprintf(buf, sizeof buf, "%s spi=0x%08x dst=%s%s", k.protocol == seq::SaProtocol::ah ? "ah" : "esp", k.spi,
                  seq::ip_text(k.dst, k.ip_version).c_str(), k.udp_encap ? " udp" : "");
  }
  return buf;
}

}  // namespace

std::string capture_comment(const engine::CaptureMeta& m) {
  char buf[320];
  const auto where = [&] {
    char w[64];
    std::snprintf(w, sizeof w, "port %u packet %llu", m.port, static_cast<unsigned long long>(m.packet_index));
    return std::string(w);
  };
  switch (m.reason) {
    case engine::CaptureReason::anomaly:
      std::snprintf(buf, sizeof buf, "netscope %s: expected %llu, got %llu; SA %s; %s%s%s",
                    std::string(seq::to_string(m.event)).c_str(), static_cast<unsigned long long>(m.expected),
                    static_cast<unsigned long long>(m.got), sa_text(m.sa).c_str(), where().c_str(),
                    m.malformed != decode::Malformed::none ? "; malformed: " : "",
                    m.malformed != decode::Malformed::none ? std::string(decode::to_string(m.malformed)).c_str() : "");
      return buf;
    case engine::CaptureReason::malformed:
      std::snprintf(buf, sizeof buf, "netscope malformed: %s; %s", std::string(decode::to_string(m.malformed)).c_str(),
                    where().c_str());
      return buf;
    case engine::CaptureReason::context:
      return "netscope context; " + where();
    case engine::CaptureReason::filter:
      return {};  // the recording filter's own frames need no note
    case engine::CaptureReason::inspect:
      return "netscope inspector; " + where();
  }
  return {};
}

Recorder::Recorder(RecorderOptions options) : opt_(std::move(options)) {
  if (opt_.dir.empty()) throw std::runtime_error("recording: no directory given");
  if (opt_.interfaces.empty()) opt_.interfaces.push_back({"port0", "", 0});  // every packet names one
  std::error_code ec;
  std::filesystem::create_directories(opt_.dir, ec);
  if (ec) throw std::runtime_error("recording: cannot create directory '" + opt_.dir + "': " + ec.message());
  try {
    open_file();
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("recording: ") + e.what());
  }
}

Recorder::~Recorder() { close_file(); }

void Recorder::open_file() {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  char seq[16];
  std::snprintf(seq, sizeof seq, "%04u", serial_++);
  const std::string path = opt_.dir + "/" + opt_.prefix + "-" + stamp + "-" + seq + ".pcapng";
  out_ = std::make_unique<packet::PcapngWriter>(path, "netscope", opt_.interfaces);
  file_start_ns_ = wall_ns();
  files_.push_back(path);
  sizes_.push_back(out_->bytes());
  c_.bytes += out_->bytes();
  ++c_.files_opened;
}

void Recorder::close_file() noexcept {
  if (!out_) return;
  try {
    out_->close();
  } catch (const std::exception& e) {
    failed(e);
  }
  closed_bytes_ += out_->bytes();
  sizes_.back() = out_->bytes();
  out_.reset();
}

void Recorder::failed(const std::exception& e) noexcept {
  if (!reported_) std::fprintf(stderr, "netscope: recording: %s\n", e.what());
  reported_ = true;
}

void Recorder::rotate() noexcept {
  close_file();
  try {
    open_file();
  } catch (const std::exception& e) {
    failed(e);
  }
  enforce_cap();
}

void Recorder::enforce_cap() noexcept {
  if (opt_.total_bytes == 0) return;
  const std::uint64_t current = out_ ? out_->bytes() : 0;
  while (closed_bytes_ + current > opt_.total_bytes && files_.size() > (out_ ? 1u : 0u)) {
    std::error_code ec;
    std::filesystem::remove(files_.front(), ec);
    closed_bytes_ -= sizes_.front();
    files_.pop_front();
    sizes_.pop_front();
    ++c_.files_deleted;
  }
}

void Recorder::write(const engine::CaptureMeta& meta, std::span<const std::uint8_t> bytes) noexcept {
  if (out_ && ((opt_.file_bytes != 0 && out_->bytes() >= opt_.file_bytes) ||
               (opt_.file_ns != 0 && out_->packets() != 0 && wall_ns() - file_start_ns_ >= opt_.file_ns))) {
    rotate();
  }
  if (!out_) {
    rotate();  // closed by age, or after an error: a new file
    if (!out_) {
      ++c_.errors;
      return;
    }
  }
  const std::uint32_t iface = meta.port < opt_.interfaces.size() ? meta.port : 0;
  const std::uint64_t before = out_->bytes();
  try {
    out_->write(iface, meta.timestamp_ns, bytes, meta.wire_len, capture_comment(meta));
  } catch (const std::exception& e) {
    failed(e);
    ++c_.errors;
    close_file();
    return;
  }
  ++c_.written;
  const auto r = static_cast<std::size_t>(meta.reason);
  if (r < c_.by_reason.size()) ++c_.by_reason[r];
  c_.bytes += out_->bytes() - before;
  sizes_.back() = out_->bytes();
  enforce_cap();
}

void Recorder::flush() noexcept {
  if (!out_) return;
  if (opt_.file_ns != 0 && out_->packets() != 0 && wall_ns() - file_start_ns_ >= opt_.file_ns) {
    close_file();  // the next frame opens a new file: no empty files while idle
    enforce_cap();
    return;
  }
  try {
    out_->flush();
  } catch (const std::exception& e) {
    failed(e);
    ++c_.errors;
    close_file();
  }
}

}  // namespace netscope::runtime
