// Alerts raised by the detections and the topology, and the fixed ring they wait in until
// the owning lcore pulls them (no allocation on either side).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "netscope/decode/packet.hpp"
#include "netscope/util/counter.hpp"

namespace netscope::analysis {

#define NETSCOPE_ALERT_TYPES(X)                                                           \
  X(syn_flood)      /* half-open connections to one destination per second */          \
  X(port_scan)      /* failed connections from one source to many ports of one host */ \
  X(host_scan)      /* failed connections from one source to one port on many hosts */ \
  X(ddos)           /* packets per second to one destination far above its baseline */ \
  X(mac_ip_change)  /* an IP address moved to another MAC address */

enum class AlertType : std::uint8_t {
#define NETSCOPE_X(name) name,
  NETSCOPE_ALERT_TYPES(NETSCOPE_X)
#undef NETSCOPE_X
      count_
};
inline constexpr std::size_t kAlertTypeCount = static_cast<std::size_t>(AlertType::count_);
std::string_view to_string(AlertType t) noexcept;

enum class Severity : std::uint8_t { info, low, medium, high, critical };
std::string_view to_string(Severity s) noexcept;

/// One alert. Addresses with version 0 are unknown (a DDoS has no single attacker).
struct Alert {
  std::uint64_t first_ns = 0;   ///< start of the window or episode that crossed the threshold
  std::uint64_t last_ns = 0;    ///< when the threshold was crossed
  std::uint64_t count = 0;      ///< what was measured: connections, ports, hosts, packets/s
  std::uint64_t threshold = 0;  ///< the threshold it crossed
  std::uint64_t baseline = 0;   ///< DDoS: baseline packets/s (EWMA); 0 otherwise
  decode::IpAddr attacker;      ///< source (scans: the scanner; SYN flood: the last SYN's source)
  decode::IpAddr victim;        ///< destination host, or the IP whose MAC changed
  decode::MacAddr mac_old{};    ///< mac_ip_change only
  decode::MacAddr mac_new{};    ///< mac_ip_change only
  std::uint16_t port = 0;       ///< host_scan: the port scanned; port_scan: the last port
  std::uint16_t vlan = 0;
  AlertType type = AlertType::syn_flood;
  Severity severity = Severity::medium;
};

/// A fixed-capacity FIFO of alerts, single-threaded (the owning lcore pushes and pulls).
/// When full, new alerts are dropped and counted: the ones already waiting are older and
/// were not pulled yet, so they are kept.
class AlertRing {
 public:
  explicit AlertRing(std::uint32_t capacity)
      : capacity_(capacity == 0 ? 1 : capacity), items_(std::make_unique<Alert[]>(capacity_)) {}

  /// Queues a copy of `a`; false (and counted) when full. Does not allocate.
  bool push(const Alert& a) noexcept {
    pushed_.add();
    if (size_ == capacity_) {
      dropped_.add();
      return false;
    }
    items_[(head_ + size_) % capacity_] = a;
    ++size_;
    return true;
  }

  /// Takes the oldest alert into `out`; false when empty.
  bool pop(Alert& out) noexcept {
    if (size_ == 0) return false;
    out = items_[head_];
    head_ = (head_ + 1) % capacity_;
    --size_;
    return true;
  }

  /// Takes up to out.size() alerts, oldest first; returns how many.
  std::size_t pull(std::span<Alert> out) noexcept {
    std::size_t n = 0;
    while (n < out.size() && pop(out[n])) ++n;
    return n;
  }

  [[nodiscard]] std::uint32_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint32_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::uint64_t pushed() const noexcept { return pushed_.value(); }    ///< raised, in all
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_.value(); }  ///< lost to a full ring

 private:
  std::uint32_t capacity_;
  std::uint32_t head_ = 0;
  std::uint32_t size_ = 0;
  std::unique_ptr<Alert[]> items_;
  util::Counter pushed_;
  util::Counter dropped_;
};

}  // namespace netscope::analysis
