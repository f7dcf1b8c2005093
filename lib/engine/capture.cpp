#include "netscope/engine/capture.hpp"

#include <algorithm>
#include <cstring>

namespace netscope::engine {

std::string_view to_string(CaptureReason r) noexcept {
  switch (r) {
    case CaptureReason::filter: return "filter";
    case CaptureReason::anomaly: return "anomaly";
    case CaptureReason::context: return "context";
    case CaptureReason::malformed: return "malformed";
    case CaptureReason::inspect: return "inspect";
  }
  return "unknown";
}

FrameHistory::FrameHistory(std::uint32_t ports, std::uint32_t depth, std::uint32_t snaplen)
    : ports_(depth == 0 ? 0 : ports),
      depth_(depth),
      snaplen_(snaplen),
      slots_(std::make_unique<Slot[]>(static_cast<std::size_t>(ports_) * depth_)),
      data_(std::make_unique<std::uint8_t[]>(static_cast<std::size_t>(ports_) * depth_ * snaplen_)),
      pushed_(std::make_unique<std::uint64_t[]>(ports_)),
      next_(std::make_unique<std::uint32_t[]>(ports_)) {}

std::size_t FrameHistory::index_of(std::uint16_t port, std::uint32_t age) const noexcept {
  // The newest frame sits just before next_[port]; age < depth_, so one wrap at most.
  std::uint32_t slot = next_[port] + depth_ - 1 - age;
  if (slot >= depth_) slot -= depth_;
  return static_cast<std::size_t>(port) * depth_ + slot;
}

void FrameHistory::push(std::uint16_t port, decode::Bytes bytes, std::uint32_t wire_len, std::uint64_t ts,
                        std::uint64_t index) noexcept {
  if (port >= ports_) return;
  const std::size_t i = static_cast<std::size_t>(port) * depth_ + next_[port];
  if (++next_[port] == depth_) next_[port] = 0;
  ++pushed_[port];
  Slot& s = slots_[i];
  s.timestamp_ns = ts;
  s.packet_index = index;
  s.wire_len = wire_len;
  s.caplen = static_cast<std::uint32_t>(std::min<std::size_t>(bytes.size(), snaplen_));
  s.captured = false;
  std::memcpy(data_.get() + i * snaplen_, bytes.data(), s.caplen);
}

std::uint32_t FrameHistory::size(std::uint16_t port) const noexcept {
  if (port >= ports_) return 0;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(pushed_[port], depth_));
}

FrameHistory::Slot& FrameHistory::slot(std::uint16_t port, std::uint32_t age) noexcept {
  return slots_[index_of(port, age)];
}

decode::Bytes FrameHistory::bytes(std::uint16_t port, std::uint32_t age) const noexcept {
  const std::size_t i = index_of(port, age);
  return {data_.get() + i * snaplen_, slots_[i].caplen};
}

}  // namespace netscope::engine
