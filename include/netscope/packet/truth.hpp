// The generator's "truth": what the analyzer must report for the numbers actually emitted.
//
// A small, independent model of docs/sequence-tracking.md (extension to 64 bits, window,
// gaps, duplicates, reordering, out-of-window, resets, rollovers, MACsec rekeys, stuck
// numbers). It runs on the wire's 32-bit numbers exactly as a receiver sees them.
// Control-plane code: a new SA allocates; observing a packet of a known SA does not.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "netscope/decode/packet.hpp"

namespace netscope::packet {

/// Thresholds of the tracker (docs/sequence-tracking.md): W, R and S.
struct TruthConfig {
  std::uint32_t window = 64;                 ///< W, 32..4096
  std::uint64_t reset_threshold = 1u << 16;  ///< R
  std::uint32_t stuck_threshold = 8;         ///< S
};

inline constexpr std::uint32_t kMinWindow = 32;
inline constexpr std::uint32_t kMaxWindow = 4096;

/// Per-SA counters, named as in the analyzer's report.
struct SaCounters {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;  ///< frame bytes without FCS
  std::uint64_t first_seq = 0;
  std::uint64_t highest_seq = 0;
  std::uint64_t lost = 0;
  std::uint64_t gaps = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t reordered = 0;
  std::uint64_t out_of_window = 0;
  std::uint64_t rollovers = 0;
  std::uint64_t resets = 0;
  std::uint64_t rekeys = 0;
  std::uint64_t stuck = 0;
  friend bool operator==(const SaCounters&, const SaCounters&) = default;
};

/// Sequence state of one SA. observe() does not allocate.
class SequenceTruth {
 public:
  explicit SequenceTruth(const TruthConfig& config = {}) noexcept;

  /// Applies the rules to one packet carrying `seq32`; returns the extended number.
  std::uint64_t observe(std::uint32_t seq32, std::uint64_t frame_bytes = 0) noexcept;

  /// End of capture: holes still open inside the window become `lost`. Idempotent.
  void finish() noexcept;

  /// Counts a MACsec rekey on this SA (decided by TruthModel, which sees the other ANs).
  void count_rekey() noexcept { ++c_.rekeys; }

  [[nodiscard]] const SaCounters& counters() const noexcept { return c_; }
  [[nodiscard]] bool started() const noexcept { return c_.packets != 0; }
  [[nodiscard]] std::uint64_t highest() const noexcept { return c_.highest_seq; }
  /// The SA's first number as reported: kept across resets (the window's floor is not).
  [[nodiscard]] std::uint64_t reported_first() const noexcept { return origin_; }

 private:
  static constexpr std::size_t kBits = kMaxWindow;
  [[nodiscard]] bool seen(std::uint64_t n) const noexcept {
    return (bits_[(n % kBits) / 64] >> (n % 64)) & 1u;
  }
  void set_seen(std::uint64_t n, bool v) noexcept;
  std::uint64_t extend(std::uint32_t seq32) noexcept;
  void baseline(std::uint64_t seq) noexcept;
  std::uint64_t open_holes() const noexcept;
  void slide_to(std::uint64_t seq) noexcept;

  TruthConfig cfg_;
  SaCounters c_;
  /// Forward jumps this large are resets (as in the analyzer's tracker).
  static constexpr std::uint64_t kMaxForward = std::uint64_t{1} << 31;
  bool extended_ = false;  ///< inferred once the SA crossed 2^32 near zero
  bool finished_ = false;
  bool stuck_reported_ = false;  ///< the current run already produced its stuck event
  std::uint64_t last_ = 0;  ///< extended number of the previous packet
  std::uint64_t run_ = 0;   ///< consecutive packets carrying `last_`
  std::uint64_t origin_ = 0;  ///< reported first_seq
  bool has_origin_ = false;
  std::array<std::uint64_t, kBits / 64> bits_{};
};

enum class SaProtocol : std::uint8_t { macsec, esp, ah };

/// Identity of an SA as the analyzer keys it: (SCI, AN) or (protocol, destination, SPI).
struct SaId {
  SaProtocol protocol = SaProtocol::macsec;
  std::uint64_t sci = 0;  ///< MACsec
  std::uint8_t an = 0;    ///< MACsec
  std::uint32_t spi = 0;  ///< ESP/AH
  decode::IpAddr dst;     ///< ESP/AH
  bool udp_encap = false; ///< ESP in UDP 4500; reported, not part of the key

  [[nodiscard]] auto key() const noexcept {
    return std::tuple(protocol, sci, an, spi, dst.version, dst.bytes);
  }
};

/// All SAs of a run, in order of first appearance, and the JSON the analyzer must match.
class TruthModel {
 public:
  explicit TruthModel(const TruthConfig& config = {});

  /// Index of the SA `id`, created when new. `absolute_seq` false omits first_seq and
  /// highest_seq from the report (a flow starting with ESN/XPN high bits). Allocates when new.
  std::size_t sa(const SaId& id, bool absolute_seq = true);

  /// One packet of SA `index` carrying `seq32` on the wire. Does not allocate.
  void observe(std::size_t index, std::uint32_t seq32, std::uint64_t frame_bytes) noexcept;

  /// End of capture for every SA.
  void finish() noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return sas_.size(); }
  [[nodiscard]] const SaId& id(std::size_t index) const { return sas_[index].id; }
  [[nodiscard]] const SaCounters& counters(std::size_t index) const {
    return sas_[index].seq.counters();
  }

  /// `{"version":1,"sas":[...]}` with the analyzer's SA keys and counters.
  [[nodiscard]] std::string to_json() const;

 private:
  struct Entry {
    SaId id;
    bool absolute_seq = true;
    SequenceTruth seq;
    std::uint64_t last_packet = 0;  ///< model-wide index of this SA's latest packet
  };
  TruthConfig cfg_;
  std::uint64_t packets_ = 0;
  std::vector<Entry> sas_;
  std::map<decltype(std::declval<SaId>().key()), std::size_t> index_;
};

/// IPv4 dotted quad or RFC 5952 IPv6 text.
std::string ip_to_string(const decode::IpAddr& ip);

}  // namespace netscope::packet
