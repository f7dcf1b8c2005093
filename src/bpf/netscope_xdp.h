/* Shared between the XDP pre-filter (netscope_xdp.c, BPF) and its loader (C++). */
#ifndef NETSCOPE_XDP_H
#define NETSCOPE_XDP_H

/* Bits of the ns_xdp_cfg map's single value: what goes to the AF_XDP socket. */
#define NETSCOPE_XDP_MACSEC 0x1u /* EtherType 0x88E5 */
#define NETSCOPE_XDP_ESP 0x2u    /* IPv4 protocol / IPv6 next header 50 */
#define NETSCOPE_XDP_AH 0x4u     /* 51 */
#define NETSCOPE_XDP_NATT 0x8u   /* UDP source or destination port 4500 */
#define NETSCOPE_XDP_ALL 0x10u   /* every frame */
/* Set by the loader once it has written the value; until then the default applies. */
#define NETSCOPE_XDP_CONFIGURED 0x80000000u
#define NETSCOPE_XDP_DEFAULT (NETSCOPE_XDP_MACSEC | NETSCOPE_XDP_ESP | NETSCOPE_XDP_AH | NETSCOPE_XDP_NATT)

/* Indexes of the per-CPU ns_xdp_stats array (packets). */
#define NETSCOPE_XDP_STAT_REDIRECTED 0 /* handed to the AF_XDP socket */
#define NETSCOPE_XDP_STAT_PASSED 1     /* not wanted: left to the kernel stack */
#define NETSCOPE_XDP_STAT_NO_SOCKET 2  /* wanted, but no socket on that queue: passed */
#define NETSCOPE_XDP_STAT_COUNT 3

#define NETSCOPE_XDP_MAX_QUEUES 64

#endif
