#include "filter.hpp"

#include <bpf_def.h>
#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

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

/// Register the converter never uses: free for the JSET rewrite below.
constexpr std::uint8_t kScratchReg = EBPF_REG_9;
/// Classic BPF's index register X as rte_bpf_convert maps it.
constexpr std::uint8_t kIndexReg = EBPF_REG_7;

bool is_jump(const ebpf_insn& i) {
  return BPF_CLASS(i.code) == BPF_JMP && BPF_OP(i.code) != EBPF_CALL && BPF_OP(i.code) != EBPF_EXIT;
}

bool is_jset_imm8(const ebpf_insn& i) {
  return i.code == (BPF_JMP | BPF_JSET | BPF_K) && i.imm >= -128 && i.imm <= 127;
}

/// Works around two bugs in DPDK 22.11's rte_bpf (docs/filters.md), returning the
/// program to load. Throws std::runtime_error if a jump no longer fits.
///  1. rte_bpf_convert turns classic `ld [x + k]` (BPF_LD|BPF_IND) into an eBPF LD_IND
///     indexed by r0, classic A, instead of r7, classic X: every expression that looks
///     past a variable-length header (tcp[...], `tcp[tcpflags]`, udp[...]) reads the
///     wrong bytes. The index register is set to r7.
///  2. The x86-64 JIT encodes `jset dst, #imm` with a one-byte immediate when imm fits,
///     but `test r/m64, imm` only has a four-byte form: the CPU then decodes the code
///     that follows out of step and the program crashes or returns garbage (`tcp-syn`,
///     `ether[0] & 1 != 0`). Such a jset becomes `mov r9, #imm; jset dst, r9`, and
///     every jump offset is moved to match.
std::vector<ebpf_insn> patch_converted(const ebpf_insn* ins, std::uint32_t n) {
  // new_pos[i]: where old instruction i starts in the patched program.
  std::vector<std::int64_t> new_pos(static_cast<std::size_t>(n) + 1);
  std::int64_t pos = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    new_pos[i] = pos;
    pos += is_jset_imm8(ins[i]) ? 2 : 1;
  }
  new_pos[n] = pos;
  std::vector<ebpf_insn> out;
  out.reserve(static_cast<std::size_t>(pos));
  for (std::uint32_t i = 0; i < n; ++i) {
    ebpf_insn x = ins[i];
    if (BPF_CLASS(x.code) == BPF_LD && BPF_MODE(x.code) == BPF_IND) x.src_reg = kIndexReg & 0xF;
    if (is_jset_imm8(x)) {
      ebpf_insn mov{};
      mov.code = EBPF_ALU64 | EBPF_MOV | BPF_K;
      mov.dst_reg = kScratchReg & 0xF;
      mov.imm = x.imm;
      out.push_back(mov);
      x.code = BPF_JMP | BPF_JSET | BPF_X;
      x.src_reg = kScratchReg & 0xF;
      x.imm = 0;
    }
    if (is_jump(x)) {
      const std::int64_t target = static_cast<std::int64_t>(i) + 1 + x.off;
      if (target >= 0 && target <= static_cast<std::int64_t>(n)) {  // else the validator refuses it
        const std::int64_t here = static_cast<std::int64_t>(out.size());  // this jump's new index
        const std::int64_t off = new_pos[static_cast<std::size_t>(target)] - (here + 1);
        if (off < INT16_MIN || off > INT16_MAX) throw std::runtime_error("program too large to patch");
        x.off = static_cast<std::int16_t>(off);
      }
    }
    out.push_back(x);
  }
  return out;
}

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
  std::vector<ebpf_insn> patched;
  try {
    patched = patch_converted(prm->ins, prm->nb_ins);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(what + e.what());
  }
  prm->ins = patched.data();
  prm->nb_ins = static_cast<std::uint32_t>(patched.size());
  instructions_ = prm->nb_ins;
  bpf_ = rte_bpf_load(prm.get());  // copies the instructions: prm and patched may go
  if (bpf_ == nullptr) {
    throw std::runtime_error(what + "cannot load the eBPF program: " + rte_strerror(rte_errno));
  }
  if (engine == Engine::automatic) {
    rte_bpf_jit jit{};
    if (rte_bpf_get_jit(bpf_, &jit) == 0 && jit.func != nullptr) jit_ = jit.func;
  }
}

PortFilter::~PortFilter() { rte_bpf_destroy(bpf_); }

bool PortFilter::matches(const rte_mbuf* m) noexcept {
  void* arg = const_cast<rte_mbuf*>(m);
  std::uint64_t verdict = 0;
  if (jit_ != nullptr) [[likely]] {
    verdict = jit_(arg);
  } else {
    rte_bpf_exec_burst(bpf_, &arg, &verdict, 1);
  }
  (verdict != 0 ? counters_.passed : counters_.filtered).add();
  return verdict != 0;
}

std::uint16_t PortFilter::apply(rte_mbuf** bufs, std::uint16_t n) noexcept {
  std::uint16_t kept = 0;
  for (unsigned base = 0; base < n; base += kChunk) {
    const unsigned len = std::min<unsigned>(kChunk, n - base);
    std::uint64_t verdict[kChunk];
    if (jit_ != nullptr) [[likely]] {
      for (unsigned i = 0; i < len; ++i) verdict[i] = jit_(bufs[base + i]);
    } else {
      rte_bpf_exec_burst(bpf_, reinterpret_cast<void**>(bufs + base), verdict, len);
    }
    // Compacting in place is safe: the write index never passes the read index.
    rte_mbuf* dropped[kChunk];
    unsigned n_dropped = 0;
    for (unsigned i = 0; i < len; ++i) {
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
