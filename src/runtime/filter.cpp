#include "filter.hpp"

#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <utility>

namespace netscope::runtime {

namespace {

/// Snap length the expression is compiled for; the program returns it for a match.
constexpr int kSnapLen = 65535;

struct PcapCloser {
  void operator()(pcap_t* p) const noexcept { pcap_close(p); }
};
struct PrmFree {
  void operator()(rte_bpf_prm* p) const noexcept { rte_free(p); }
};

}  // namespace

PortFilter::PortFilter(std::string expression, Engine engine) : expression_(std::move(expression)) {
  const std::string what = "filter '" + expression_ + "': ";
  // A dead handle: no capture device, just the link type and snap length to compile for
  // (tcpdump -r does the same for an Ethernet capture, so the programs are identical).
  std::unique_ptr<pcap_t, PcapCloser> pcap(pcap_open_dead(DLT_EN10MB, kSnapLen));
  if (!pcap) throw std::runtime_error(what + "cannot create a libpcap handle");
  bpf_program code{};
  if (pcap_compile(pcap.get(), &code, expression_.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    throw std::runtime_error(what + pcap_geterr(pcap.get()));
  }
  std::unique_ptr<rte_bpf_prm, PrmFree> prm(rte_bpf_convert(&code));
  const int convert_errno = rte_errno;
  pcap_freecode(&code);
  if (!prm) {
    throw std::runtime_error(what + "cannot convert to eBPF: " + rte_strerror(convert_errno));
  }
  instructions_ = prm->nb_ins;
  bpf_ = rte_bpf_load(prm.get());  // copies the instructions; prm is freed on return
  if (bpf_ == nullptr) {
    throw std::runtime_error(what + "cannot load the eBPF program: " + rte_strerror(rte_errno));
  }
  if (engine == Engine::automatic) {
    rte_bpf_jit jit{};
    if (rte_bpf_get_jit(bpf_, &jit) == 0 && jit.func != nullptr) jit_ = jit.func;
  }
}

PortFilter::~PortFilter() { rte_bpf_destroy(bpf_); }

std::uint16_t PortFilter::apply(rte_mbuf** bufs, std::uint16_t n) noexcept {
  std::uint16_t kept = 0;
  for (std::uint16_t base = 0; base < n; base = static_cast<std::uint16_t>(base + kChunk)) {
    const std::uint16_t len = std::min<std::uint16_t>(kChunk, static_cast<std::uint16_t>(n - base));
    std::uint64_t verdict[kChunk];
    if (jit_ != nullptr) [[likely]] {
      for (std::uint16_t i = 0; i < len; ++i) verdict[i] = jit_(bufs[base + i]);
    } else {
      rte_bpf_exec_burst(bpf_, reinterpret_cast<void**>(bufs + base), verdict, len);
    }
    // Compacting in place is safe: the write index never passes the read index.
    rte_mbuf* dropped[kChunk];
    unsigned n_dropped = 0;
    for (std::uint16_t i = 0; i < len; ++i) {
      rte_mbuf* m = bufs[base + i];
      if (verdict[i] != 0) {
        bufs[kept++] = m;
      } else {
        dropped[n_dropped++] = m;
      }
    }
    if (n_dropped != 0) rte_pktmbuf_free_bulk(dropped, n_dropped);
  }
  counters_.passed.add(kept);
  counters_.filtered.add(static_cast<std::uint64_t>(n - kept));
  return kept;
}

}  // namespace netscope::runtime
