// Packet capture on a worker: a per-port history of the last frames it analyzed (the
// packet inspector, and the context recorded before an anomaly), and the frames it hands
// to its sink for recording (anomalies with N packets of context, malformed frames).
// No DPDK; memory allocated at construction; push() copies at most `snaplen` bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "netscope/decode/packet.hpp"
#include "netscope/seq/sa_table.hpp"
#include "netscope/seq/tracker.hpp"

namespace netscope::engine {

/// Why a frame was captured.
enum class CaptureReason : std::uint8_t {
  filter,     ///< matched the recording filter (RX path)
  anomaly,    ///< raised a sequence anomaly
  context,    ///< before or after an anomaly on the same port
  malformed,  ///< could not be decoded
  inspect,    ///< part of a packet-inspector snapshot (not written to files)
};
std::string_view to_string(CaptureReason r) noexcept;

/// What the worker captures (engine side of the `recording:` and `inspector:` config).
struct CaptureConfig {
  std::uint32_t ports = 0;           ///< ports with a history (ids 0..ports-1)
  std::uint32_t history = 0;         ///< frames kept per port (0: none)
  std::uint32_t snaplen = 256;       ///< bytes kept per frame in the history
  bool anomalies = false;            ///< capture frames that raise a sequence anomaly
  bool malformed = false;            ///< capture frames that fail to decode
  std::uint32_t before = 0;          ///< frames of the port's history before an anomaly
  std::uint32_t after = 0;           ///< frames of the same port after an anomaly
  std::uint32_t capture_snaplen = 2048;  ///< bytes kept of anomaly and malformed frames
};

/// One captured frame's description (its bytes travel beside it).
struct CaptureMeta {
  std::uint64_t timestamp_ns = 0;
  std::uint64_t packet_index = 0;
  std::uint64_t expected = 0;        ///< anomaly: the number expected
  std::uint64_t got = 0;             ///< anomaly: the number seen
  seq::SaKey sa;                     ///< anomaly: its SA
  std::uint32_t wire_len = 0;
  std::uint32_t snapshot = 0;        ///< inspect: the snapshot's number
  std::uint16_t port = 0;
  std::uint16_t lcore = 0;
  CaptureReason reason = CaptureReason::anomaly;
  seq::EventType event = seq::EventType::gap;  ///< anomaly
  decode::Malformed malformed = decode::Malformed::none;
  std::uint8_t pad_ = 0;
};

/// The last `depth` frames of each port, oldest overwritten. One writer (the worker).
class FrameHistory {
 public:
  struct Slot {
    std::uint64_t timestamp_ns = 0;
    std::uint64_t packet_index = 0;
    std::uint32_t wire_len = 0;
    std::uint32_t caplen = 0;
    bool captured = false;           ///< already handed to the sink for recording
  };

  FrameHistory(std::uint32_t ports, std::uint32_t depth, std::uint32_t snaplen);

  /// Copies a frame into its port's ring (ports beyond the configured count are skipped).
  void push(std::uint16_t port, decode::Bytes bytes, std::uint32_t wire_len, std::uint64_t ts,
            std::uint64_t index) noexcept;

  [[nodiscard]] std::uint32_t depth() const noexcept { return depth_; }
  [[nodiscard]] std::uint32_t ports() const noexcept { return ports_; }
  /// Frames held for `port` (up to depth).
  [[nodiscard]] std::uint32_t size(std::uint16_t port) const noexcept;
  /// The i-th newest-but-`age` frame: age 0 is the newest. Precondition: age < size(port).
  Slot& slot(std::uint16_t port, std::uint32_t age) noexcept;
  [[nodiscard]] decode::Bytes bytes(std::uint16_t port, std::uint32_t age) const noexcept;

 private:
  [[nodiscard]] std::size_t index_of(std::uint16_t port, std::uint32_t age) const noexcept;
  std::uint32_t ports_;
  std::uint32_t depth_;
  std::uint32_t snaplen_;
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<std::uint8_t[]> data_;
  std::unique_ptr<std::uint64_t[]> pushed_;  ///< frames pushed per port
  std::unique_ptr<std::uint32_t[]> next_;    ///< per port, the slot the next frame takes (no division per packet)
};

}  // namespace netscope::engine
