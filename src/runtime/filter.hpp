// tcpdump-syntax packet filters on the RX path (docs/filters.md): libpcap compiles the
// expression to classic BPF, DPDK's rte_bpf converts it to eBPF and JIT-compiles it.
#pragma once

#include <cstdint>
#include <string>

#include "netscope/util/counter.hpp"

struct rte_bpf;
struct rte_mbuf;

namespace netscope::runtime {

/// One compiled filter for one RX queue. The program itself is read-only, but the counters
/// have a single writer: give every polled queue its own instance (compiling takes well
/// under a millisecond) and let the control lcore sum passed() and filtered() per port.
class PortFilter {
 public:
  /// How the eBPF program runs.
  enum class Engine : std::uint8_t {
    automatic,    ///< JIT when rte_bpf has one for this CPU, else the interpreter
    interpreter,  ///< always rte_bpf_exec_burst (tests, and a fallback to compare against)
  };

  /// Compiles `expression` (tcpdump syntax, Ethernet link type, snap length 65535) and
  /// loads it. Control side only, after rte_eal_init; allocates. An empty expression
  /// passes everything. Throws std::runtime_error "filter 'EXPR': REASON" when libpcap
  /// rejects the expression or rte_bpf cannot convert or load it.
  explicit PortFilter(std::string expression, Engine engine = Engine::automatic);
  ~PortFilter();
  PortFilter(const PortFilter&) = delete;
  PortFilter& operator=(const PortFilter&) = delete;

  /// Runs the filter over bufs[0..n), frees the mbufs it rejects, moves the accepted ones
  /// to the front in their original order and returns how many they are. Handles
  /// multi-segment mbufs; any burst size. Called by the one lcore that polls this
  /// instance's queue. Does not allocate, lock, throw or log.
  std::uint16_t apply(rte_mbuf** bufs, std::uint16_t n) noexcept;

  /// True when `m` matches (counted as passed, else as filtered); frees nothing. Same
  /// single-caller rule as apply().
  bool matches(const rte_mbuf* m) noexcept;

  /// Packets accepted so far (any thread; a recent value).
  [[nodiscard]] std::uint64_t passed() const noexcept { return counters_.passed.value(); }
  /// Packets rejected and freed so far (any thread; a recent value).
  [[nodiscard]] std::uint64_t filtered() const noexcept { return counters_.filtered.value(); }
  /// The expression as given.
  [[nodiscard]] const std::string& expression() const noexcept { return expression_; }
  /// True when apply() runs JIT-compiled native code.
  [[nodiscard]] bool jit() const noexcept { return jit_ != nullptr; }
  /// eBPF instructions after conversion (for diagnostics).
  [[nodiscard]] std::uint32_t instructions() const noexcept { return instructions_; }

 private:
  /// Packets classified per step: bounds the verdict and drop arrays on the stack.
  static constexpr std::uint16_t kChunk = 64;

  struct alignas(64) Counters {
    util::Counter passed;    ///< accepted by the filter
    util::Counter filtered;  ///< rejected and freed
  };

  Counters counters_;
  rte_bpf* bpf_ = nullptr;
  std::uint64_t (*jit_)(void*) = nullptr;
  std::string expression_;
  std::uint32_t instructions_ = 0;
};

}  // namespace netscope::runtime
