// SPDX-License-Identifier: BSD-3-Clause
/* NetScope's XDP pre-filter for net_af_xdp ports (loaded by the PMD through its xdp_prog=
 * devarg). One program per interface is all the kernel allows here, so this one both
 * selects and redirects: frames NetScope wants (MACsec, ESP, AH, UDP 4500, or all, as
 * the ns_xdp_cfg map says; behind up to two VLAN tags) go to the AF_XDP socket of the
 * receive queue through xsks_map, everything else goes on to the kernel stack (ARP,
 * ping, SSH keep working on the interface). Counters per CPU in ns_xdp_stats.
 *
 * Built by meson with: clang -O2 -g -target bpf -c netscope_xdp.c */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "netscope_xdp.h"

#define ETH_P_MACSEC_ 0x88E5
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88A8
#define NATT_PORT 4500
#define MAX_VLAN_TAGS 2
#define MAX_IPV6_EXT 4

/* The PMD puts each queue's socket at key = queue index. */
struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, NETSCOPE_XDP_MAX_QUEUES);
  __type(key, __u32);
  __type(value, __u32);
} xsks_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} ns_xdp_cfg SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, NETSCOPE_XDP_STAT_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} ns_xdp_stats SEC(".maps");

struct vlan_tag {
  __be16 tci;
  __be16 proto;
};

static __always_inline void count(__u32 index) {
  __u64* v = bpf_map_lookup_elem(&ns_xdp_stats, &index);
  if (v) *v += 1;
}

/* Whether an IP payload of protocol `proto` starting at `l4` is wanted. `first` is false
 * for non-first fragments: they carry no UDP header, but ESP/AH fragments are still ESP/AH. */
static __always_inline int wanted_l4(__u8 proto, void* l4, void* end, __u32 mask, int first) {
  if (proto == IPPROTO_ESP) return (mask & NETSCOPE_XDP_ESP) != 0;
  if (proto == IPPROTO_AH) return (mask & NETSCOPE_XDP_AH) != 0;
  if (proto == IPPROTO_UDP && (mask & NETSCOPE_XDP_NATT) && first) {
    struct udphdr* udp = l4;
    if ((void*)(udp + 1) > end) return 0;
    return udp->source == bpf_htons(NATT_PORT) || udp->dest == bpf_htons(NATT_PORT);
  }
  return 0;
}

static __always_inline int wanted(void* data, void* end, __u32 mask) {
  if (mask & NETSCOPE_XDP_ALL) return 1;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > end) return 0;
  __be16 proto = eth->h_proto;
  void* p = eth + 1;
#pragma unroll
  for (int i = 0; i < MAX_VLAN_TAGS; i++) {
    if (proto != bpf_htons(ETH_P_8021Q_) && proto != bpf_htons(ETH_P_8021AD_)) break;
    struct vlan_tag* tag = p;
    if ((void*)(tag + 1) > end) return 0;
    proto = tag->proto;
    p = tag + 1;
  }
  if (proto == bpf_htons(ETH_P_MACSEC_)) return (mask & NETSCOPE_XDP_MACSEC) != 0;
  if (proto == bpf_htons(ETH_P_IP)) {
    struct iphdr* ip = p;
    if ((void*)(ip + 1) > end) return 0;
    const __u32 ihl = ip->ihl * 4u;
    if (ihl < sizeof(*ip)) return 0;
    const int first = (ip->frag_off & bpf_htons(0x1FFF)) == 0;
    return wanted_l4(ip->protocol, p + ihl, end, mask, first);
  }
  if (proto == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr* ip6 = p;
    if ((void*)(ip6 + 1) > end) return 0;
    __u8 next = ip6->nexthdr;
    void* h = ip6 + 1;
    int first = 1;
#pragma unroll
    for (int i = 0; i < MAX_IPV6_EXT; i++) {
      if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS) {
        __u8* ext = h;
        if ((void*)(ext + 2) > end) return 0;
        next = ext[0];
        h = ext + (ext[1] + 1) * 8;
      } else if (next == IPPROTO_FRAGMENT) {
        __u8* frag = h;
        if ((void*)(frag + 8) > end) return 0;
        next = frag[0];
        first = ((frag[2] << 8 | frag[3]) & 0xFFF8) == 0;
        h = frag + 8;
      } else {
        break;
      }
    }
    return wanted_l4(next, h, end, mask, first);
  }
  return 0;
}

SEC("xdp")
int netscope_xdp(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  __u32 zero = 0;
  __u32 mask = NETSCOPE_XDP_DEFAULT;
  __u32* cfg = bpf_map_lookup_elem(&ns_xdp_cfg, &zero);
  if (cfg && (*cfg & NETSCOPE_XDP_CONFIGURED)) mask = *cfg;

  if (!wanted(data, end, mask)) {
    count(NETSCOPE_XDP_STAT_PASSED);
    return XDP_PASS;
  }
  /* XDP_PASS when the queue has no socket: the frame still reaches the kernel. */
  const long action = bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
  count(action == XDP_REDIRECT ? NETSCOPE_XDP_STAT_REDIRECTED : NETSCOPE_XDP_STAT_NO_SOCKET);
  return (int)action;
}

char _license[] SEC("license") = "Dual BSD/GPL";
