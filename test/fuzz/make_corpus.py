#!/usr/bin/python3
"""Writes the seed corpus of every fuzz target under test/fuzz/corpus/<target>/.

Standard library only. Deterministic: running it again rewrites the same files. Seeds are
named <kind>.bin; inputs found by fuzzing are committed beside them under libFuzzer's own
names (crash-<sha1>, ...) and are left alone (--clean removes only *.bin).

    /usr/bin/python3 test/fuzz/make_corpus.py [--clean]
"""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

# EtherTypes and IP protocol numbers (include/netscope/decode/packet.hpp).
IPV4, ARP, VLAN, QINQ, QINQ_OLD, IPV6 = 0x0800, 0x0806, 0x8100, 0x88A8, 0x9100, 0x86DD
MPLS_UC, MPLS_MC, MACSEC = 0x8847, 0x8848, 0x88E5
HOPOPT, ICMP, IPIP, TCP, UDP, IPV6_ENCAP = 0, 1, 4, 6, 17, 41
ROUTING, FRAGMENT, ESP, AH, ICMPV6, NONXT, DSTOPTS = 43, 44, 50, 51, 58, 59, 60
TCI_V, TCI_ES, TCI_SC, TCI_SCB, TCI_E, TCI_C = 0x80, 0x40, 0x20, 0x10, 0x08, 0x04
SCI = 0x0200000000010001


def be16(v):
    return struct.pack("!H", v & 0xFFFF)


def be32(v):
    return struct.pack("!I", v & 0xFFFFFFFF)


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def payload(n, seed=0x30):
    return bytes((seed + i) & 0xFF for i in range(n))


def ethernet(ethertype):
    return bytes.fromhex("020000000002" "020000000001") + be16(ethertype)


def vlan(vid, next_type, pcp=0, dei=False):
    return be16(pcp << 13 | (0x1000 if dei else 0) | vid) + be16(next_type)


def mpls(label, bottom, tc=0, ttl=64):
    return be32(label << 12 | tc << 9 | (0x100 if bottom else 0) | ttl)


def ipv4(proto, payload_len, options=b"", frag=0x4000, total=None, ihl=None, fix=True):
    hl = 20 + len(options)
    ihl_field = ihl if ihl is not None else hl // 4
    tl = total if total is not None else hl + payload_len
    h = bytearray(bytes([0x40 | ihl_field, 0]) + be16(tl) + be16(0x1234) + be16(frag) +
                  bytes([64, proto]) + b"\0\0" + bytes([192, 0, 2, 1, 198, 51, 100, 2]) + options)
    if fix:
        h[10:12] = be16(checksum(bytes(h[: max(20, min(len(h), ihl_field * 4))])))
    return bytes(h)


def ipv6(nh, payload_len):
    addr = lambda last: bytes.fromhex("20010db8") + bytes(11) + bytes([last])
    return be32(0x6012345F) + be16(payload_len) + bytes([nh, 64]) + addr(1) + addr(2)


def ipv6_ext(nh, units=0):
    """Hop-by-hop/routing/destination options header padded with PadN options."""
    b = bytes([nh, units])
    left = (units + 1) * 8 - 2
    while left >= 2:
        n = min(left - 2, 255)
        b += bytes([1, n]) + bytes(n)
        left -= n + 2
    return b + bytes(left)  # a Pad1 when one byte is left


def ipv6_frag(nh, offset, more, ident):
    return bytes([nh, 0]) + be16((offset & 0xFFF8) | (1 if more else 0)) + be32(ident)


def tcp(sport, dport, seq, ack, flags, options=b""):
    options += bytes(-len(options) % 4)
    return (be16(sport) + be16(dport) + be32(seq) + be32(ack) +
            bytes([(20 + len(options)) // 4 << 4, flags]) + be16(65535) + be16(0xBEEF) +
            be16(0) + options)


ALL_TCP_OPTIONS = (bytes([2, 4]) + be16(1460) + b"\x01" + bytes([3, 3, 7]) + bytes([4, 2]) +
                   bytes([8, 10]) + be32(0x01020304) + be32(0x05060708) +
                   bytes([5, 18]) + be32(1000) + be32(2000) + be32(3000) + be32(4000))


def udp(sport, dport, payload_len, length=None):
    n = length if length is not None else 8 + payload_len
    return be16(sport) + be16(dport) + be16(n) + be16(0)


def icmp(t, code, rest):
    return bytes([t, code]) + be16(0x1234) + be32(rest)


def esp(spi, seq):
    return be32(spi) + be32(seq)


def ah(nh, spi, seq, icv_len=12, length_field=None):
    lf = length_field if length_field is not None else (12 + icv_len) // 4 - 2
    return bytes([nh, lf]) + be16(0) + be32(spi) + be32(seq) + bytes([0xA5]) * icv_len


def sectag(tci, an, sl, pn, sci=SCI):
    b = bytes([tci | (an & 3), sl]) + be32(pn)
    if tci & TCI_SC:
        b += struct.pack("!Q", sci)
    return b


ICV = bytes([0x1C]) * 16


def ip4(proto, l4, **kw):
    return ethernet(IPV4) + ipv4(proto, len(l4), **kw) + l4


def ip6(proto, l4):
    return ethernet(IPV6) + ipv6(proto, len(l4)) + l4


def frames():
    """Whole frames for fuzz_frame: one of each kind, then edge cases."""
    f = {}
    u = udp(1000, 53, 12) + payload(12)
    f["ipv4_udp"] = ip4(UDP, u)
    f["ipv4_udp_padded"] = ip4(UDP, udp(1, 2, 2) + b"ab") + bytes(16)
    f["ipv4_udp_snaplen"] = ip4(UDP, udp(1, 2, 100) + payload(100))[:60]
    f["qinq_ipv4_udp"] = (ethernet(QINQ) + vlan(10, VLAN, 3) + vlan(20, IPV4, 1, True) +
                          ipv4(UDP, len(u)) + u)
    f["qinq_old_arp"] = ethernet(QINQ_OLD) + vlan(7, ARP) + payload(28)
    f["arp"] = ethernet(ARP) + payload(28)
    f["lldp"] = ethernet(0x88CC) + payload(30)
    t = tcp(40000, 443, 1, 2, 0x10) + payload(6)
    f["mpls2_ipv6_tcp"] = (ethernet(MPLS_UC) + mpls(16, False) + mpls(17, True) +
                           ipv6(TCP, len(t)) + t)
    f["mpls_mc_ipv4_icmp"] = ethernet(MPLS_MC) + mpls(100, True) + ipv4(ICMP, 8) + icmp(8, 0, 1)
    f["mpls_control_word"] = ethernet(MPLS_UC) + mpls(16, True) + bytes(20)
    chain = ipv6_ext(FRAGMENT) + ipv6_frag(DSTOPTS, 0, True, 77) + ipv6_ext(UDP)
    u8 = udp(1, 2, 8) + payload(8)
    f["ipv6_hbh_frag_dstopts_udp"] = (ethernet(IPV6) + ipv6(HOPOPT, len(chain) + len(u8)) +
                                      chain + u8)
    f["ipv6_later_fragment"] = (ethernet(IPV6) + ipv6(FRAGMENT, 32) +
                                ipv6_frag(TCP, 8, False, 3) + payload(24))
    f["ipv6_routing_udp"] = ethernet(IPV6) + ipv6(ROUTING, 24 + 8) + ipv6_ext(UDP, 2) + udp(1, 2, 0)
    jumbo_hbh = bytes([UDP, 0, 0xC2, 4, 0, 1, 0, 0])  # Jumbo Payload option
    f["ipv6_jumbo_udp"] = ethernet(IPV6) + ipv6(HOPOPT, 0) + jumbo_hbh + udp(1, 2, 0)
    f["ipv6_nonext"] = ethernet(IPV6) + ipv6(NONXT, 4) + payload(4)
    tt = tcp(40000, 80, 1000, 0, 0x02, ALL_TCP_OPTIONS) + payload(3)
    router_alert = bytes([0x94, 4, 0, 0])
    f["ipv4opts_tcp_all_options"] = ethernet(IPV4) + ipv4(TCP, len(tt), options=router_alert) + tt
    f["ipv4_icmp"] = ip4(ICMP, icmp(8, 0, 0x00070001) + payload(16))
    f["ipv6_icmpv6"] = ip6(ICMPV6, icmp(135, 0, 0) + payload(16))
    f["ipv4_first_fragment_tcp"] = ip4(TCP, tcp(1, 2, 3, 4, 0x10), frag=0x2000)
    f["ipv4_later_fragment"] = ip4(TCP, tcp(1, 2, 3, 4, 0), frag=0x0010)
    f["ipip"] = ip4(IPIP, ipv4(UDP, 0))
    sealed = payload(64) + ICV
    confidential = TCI_E | TCI_C
    f["macsec_sci_encrypted"] = ethernet(MACSEC) + sectag(TCI_SC | confidential, 1, 0, 100) + sealed
    f["macsec_encrypted"] = ethernet(MACSEC) + sectag(TCI_ES | confidential, 0, 0, 101) + sealed
    uu = udp(5000, 6000, 24) + payload(24)
    inner = be16(IPV4) + ipv4(UDP, len(uu)) + uu
    f["macsec_integrity_ipv4_udp"] = ethernet(MACSEC) + sectag(0, 0, 0, 102) + inner + ICV
    f["macsec_sci_integrity_ipv4_udp"] = ethernet(MACSEC) + sectag(TCI_SC, 2, 0, 103) + inner + ICV
    tv = tcp(1, 2, 3, 4, 0x02, bytes([2, 4, 5, 0xB4]))
    f["macsec_integrity_vlan_tcp"] = (ethernet(MACSEC) + sectag(TCI_SC, 1, 0, 5) + be16(VLAN) +
                                      vlan(30, IPV4) + ipv4(TCP, len(tv)) + tv + ICV)
    f["macsec_short_sl_arp"] = (ethernet(MACSEC) + sectag(0, 0, 30, 104) + be16(ARP) + payload(28) +
                                ICV + bytes(8))  # SL locates the ICV; padding follows it
    e = esp(0x1001, 1) + payload(32)
    f["esp_ipv4"] = ip4(ESP, e)
    f["esp_ipv6"] = ip6(ESP, e)
    f["esp_ipv6_dstopts"] = ethernet(IPV6) + ipv6(DSTOPTS, 8 + len(e)) + ipv6_ext(ESP) + e
    f["esp_udp4500"] = ip4(UDP, udp(4500, 4500, len(e)) + e)
    f["esp_udp4500_ipv6"] = ip6(UDP, udp(50000, 4500, len(e)) + e)
    ike = bytes(4) + payload(28)
    f["ike_udp4500"] = ip4(UDP, udp(500, 4500, len(ike)) + ike)
    f["natt_keepalive"] = ip4(UDP, udp(4500, 4500, 1) + b"\xff")
    ta = tcp(22, 50022, 100, 200, 0x10) + payload(10)
    f["ah_ipv4_tcp"] = ip4(AH, ah(TCP, 0x4000, 99) + ta)
    t6 = tcp(179, 40000, 1, 1, 0x10, bytes([8, 10, 0, 0, 0, 1, 0, 0, 0, 2])) + payload(4)
    a6 = ah(TCP, 0x4001, 3, 20)
    f["ah_ipv6_tcp"] = ethernet(IPV6) + ipv6(HOPOPT, 8 + len(a6) + len(t6)) + ipv6_ext(AH) + a6 + t6
    f["ah_ipv4_udp"] = ip4(AH, ah(UDP, 1, 1) + udp(1, 2, 0))
    f["ah_ipv4_esp"] = ip4(AH, ah(ESP, 1, 3) + esp(5, 6) + payload(8))
    f["ah_ipv6_tunnel_ipv6"] = ip6(AH, ah(IPV6_ENCAP, 1, 4, 20) + ipv6(TCP, 0))
    # Edge cases: one per malformed reason, roughly.
    f["short_ethernet"] = bytes(13)
    f["vlan_depth"] = ethernet(QINQ) + vlan(1, VLAN) * 5
    f["mpls_depth"] = ethernet(MPLS_UC) + mpls(1, False) * 9
    bad_v = bytearray(ip4(UDP, udp(1, 2, 0)))
    bad_v[14] = 0x55
    f["ipv4_bad_version"] = bytes(bad_v)
    f["ipv4_bad_checksum"] = ip4(UDP, udp(1, 2, 0), fix=False)
    long_rr = bytes([7, 9, 0, 0])  # record route claiming 9 bytes in a 4-byte option area
    f["ipv4_bad_options"] = ethernet(IPV4) + ipv4(UDP, 8, options=long_rr) + udp(1, 2, 0)
    f["ipv4_total_length_zero"] = ethernet(IPV4) + ipv4(UDP, 8, total=0) + udp(1, 2, 0)
    f["ipv6_ext_depth"] = ip6(DSTOPTS, ipv6_ext(DSTOPTS) * 8 + ipv6_ext(UDP))
    f["ipv6_bad_payload_length"] = ethernet(IPV6) + ipv6(DSTOPTS, 4) + ipv6_ext(UDP) + udp(1, 2, 0)
    f["tcp_bad_options"] = ip6(TCP, tcp(1, 2, 3, 4, 0x02, bytes([2, 5, 0, 0])))
    f["udp_bad_length"] = ip4(UDP, udp(1, 2, 0, length=4))
    es_and_sc = TCI_ES | TCI_SC | confidential
    f["sectag_bad_tci"] = ethernet(MACSEC) + sectag(es_and_sc, 0, 0, 1) + sealed
    f["sectag_bad_sl"] = ethernet(MACSEC) + sectag(0, 0, 50, 1) + payload(50) + ICV
    f["macsec_no_icv"] = ethernet(MACSEC) + sectag(0, 0, 20, 1) + payload(20) + bytes(15)
    f["ah_ipv6_bad_length"] = ip6(AH, ah(TCP, 1, 1, 8) + tcp(1, 2, 3, 4, 0))
    return f


def sectags():
    """Bytes after the 0x88E5 EtherType, for fuzz_sectag."""
    s = {}
    body = payload(60) + ICV
    s["sci_encrypted"] = sectag(TCI_SC | TCI_E | TCI_C, 2, 0, 0xDEADBEEF) + body
    s["es_scb_integrity"] = sectag(TCI_ES | TCI_SCB, 1, 0, 7) + body
    s["integrity_ipv4"] = sectag(0, 0, 0, 1) + be16(IPV4) + ipv4(UDP, 8) + udp(1, 2, 0) + ICV
    s["kay_e_without_c"] = sectag(TCI_E, 3, 0, 9) + body
    for sl in (1, 10, 30, 47):
        s["short_length_%d" % sl] = sectag(0, 0, sl, sl) + payload(sl) + ICV + bytes(4)
    s["short_length_48"] = sectag(0, 0, 48, 1) + body
    s["reserved_sl_bits"] = sectag(0, 0, 0x41, 1) + body
    s["version_bit"] = sectag(TCI_V, 0, 0, 1) + body
    s["es_and_sc"] = sectag(TCI_ES | TCI_SC, 0, 0, 1) + body
    s["c_without_e"] = sectag(TCI_C, 0, 0, 1) + body
    s["only_header"] = sectag(0, 0, 0, 1)
    s["only_header_sci"] = sectag(TCI_SC, 0, 0, 1)
    s["header_and_icv"] = sectag(TCI_SC, 0, 0, 1) + ICV
    s["icv_short_by_one"] = sectag(0, 0, 0, 1) + ICV[:15]
    s["sl_icv_short"] = sectag(0, 0, 20, 1) + payload(20) + ICV[:15]
    s["truncated_sci"] = sectag(TCI_SC, 0, 0, 1)[:10]
    s["empty"] = b""
    s["pn_max"] = sectag(TCI_SC | TCI_E | TCI_C, 0, 0, 0xFFFFFFFF) + body
    s["pn_zero"] = sectag(0, 0, 0, 0) + body
    return s


def ipv4s():
    """IPv4 headers (and what follows), for fuzz_ipv4."""
    v = {}
    v["udp"] = ipv4(UDP, 8) + udp(1, 2, 0)
    v["router_alert"] = ipv4(UDP, 0, options=bytes([0x94, 4, 0, 0]))
    v["record_route_nop_eol"] = ipv4(TCP, 0, options=bytes([1, 7, 7, 4]) + bytes(4) + bytes(4))
    v["max_options"] = ipv4(TCP, 0, options=bytes([1]) * 39 + b"\0")
    v["timestamp_option"] = ipv4(UDP, 0, options=bytes([0x44, 12, 5, 0]) + bytes(8))
    v["first_fragment"] = ipv4(TCP, 20, frag=0x2000) + tcp(1, 2, 3, 4, 0)
    v["later_fragment"] = ipv4(TCP, 20, frag=0x00B9) + payload(20)
    v["padded"] = ipv4(UDP, 8) + udp(1, 2, 0) + bytes(18)
    v["snaplen"] = ipv4(UDP, 1400)
    v["bad_version"] = bytes([0x65]) + ipv4(UDP, 0)[1:]
    v["ihl_below_5"] = ipv4(UDP, 0, ihl=4)
    v["ihl_beyond_capture"] = ipv4(UDP, 0, ihl=6)
    v["total_below_ihl"] = ipv4(UDP, 0, total=19)
    v["bad_checksum"] = ipv4(UDP, 0, fix=False)
    v["option_past_ihl"] = ipv4(UDP, 0, options=bytes([0x94, 5, 0, 0]))
    v["option_len_1"] = ipv4(UDP, 0, options=bytes([0x94, 1, 0, 0]))
    v["option_no_len"] = ipv4(UDP, 0, options=bytes([1, 1, 1, 0x94]))
    v["truncated"] = ipv4(UDP, 0)[:19]
    v["empty"] = b""
    return v


def ipv6s():
    """IPv6 headers with extension chains, for fuzz_ipv6."""
    v = {}
    v["udp"] = ipv6(UDP, 8) + udp(1, 2, 0)
    chain = (ipv6_ext(ROUTING) + ipv6_ext(FRAGMENT, 1) + ipv6_frag(DSTOPTS, 0, True, 0xCAFE) +
             ipv6_ext(TCP))
    v["hbh_routing_frag_dstopts_tcp"] = ipv6(HOPOPT, len(chain) + 20) + chain + tcp(1, 2, 3, 4, 2)
    v["later_fragment"] = ipv6(FRAGMENT, 24) + ipv6_frag(HOPOPT, 1448, False, 1) + bytes(16)
    v["atomic_fragment"] = ipv6(FRAGMENT, 16) + ipv6_frag(UDP, 0, False, 2) + udp(1, 2, 0)
    v["esp_after_dstopts"] = ipv6(DSTOPTS, 24) + ipv6_ext(ESP) + esp(1, 2) + payload(8)
    v["ah_after_hbh"] = ipv6(HOPOPT, 32) + ipv6_ext(AH) + ah(TCP, 1, 1)
    v["nonext"] = ipv6(NONXT, 0)
    v["jumbo"] = ipv6(HOPOPT, 0) + bytes([UDP, 0, 0xC2, 4, 0, 1, 0, 0]) + udp(1, 2, 0)
    v["depth_8"] = ipv6(DSTOPTS, 64) + ipv6_ext(DSTOPTS) * 7 + ipv6_ext(UDP)
    v["depth_9"] = ipv6(DSTOPTS, 72) + ipv6_ext(DSTOPTS) * 8 + ipv6_ext(UDP)
    v["long_ext"] = ipv6(ROUTING, 2048) + ipv6_ext(UDP, 255)
    v["ext_beyond_payload_length"] = ipv6(DSTOPTS, 8) + ipv6_ext(UDP, 1)
    v["ext_beyond_capture"] = ipv6(DSTOPTS, 16) + ipv6_ext(UDP, 1)[:10]
    v["ext_len_octet_missing"] = ipv6(ROUTING, 64) + bytes([UDP])
    v["bad_version"] = bytes([0x40]) + ipv6(UDP, 0)[1:]
    v["truncated"] = ipv6(UDP, 0)[:39]
    v["empty"] = b""
    return v


def tcps():
    """TCP headers with options, for fuzz_tcp."""
    v = {}
    v["plain"] = tcp(443, 51000, 0x11223344, 0x55667788, 0x18)
    v["all_options"] = tcp(1, 2, 3, 4, 0x02, ALL_TCP_OPTIONS)
    syn_options = bytes([2, 4, 5, 0xB4, 4, 2, 8, 10]) + bytes(8) + bytes([1, 3, 3, 7])
    v["syn_mss_ws_sackok_ts"] = tcp(1, 2, 3, 0, 0x02, syn_options)
    sack4 = bytes([1, 1, 5, 34]) + b"".join(be32(i * 100) for i in range(1, 9))
    v["sack_4_blocks"] = tcp(1, 2, 3, 4, 0x10, sack4 + bytes([30, 2]))
    v["sack_1_block"] = tcp(1, 2, 3, 4, 0x10, bytes([1, 1, 5, 10]) + be32(5) + be32(6))
    v["eol_then_junk"] = tcp(1, 2, 3, 4, 0x10, bytes([0, 0xFF, 0xFF, 0xFF]))
    v["unknown_kind"] = tcp(1, 2, 3, 4, 0x10, bytes([30, 6, 1, 2, 3, 4]))
    v["with_payload"] = tcp(1, 2, 3, 4, 0x18) + payload(32)
    v["bad_mss_len"] = tcp(1, 2, 3, 4, 0x02, bytes([2, 3, 5, 0]))
    v["bad_ws_len"] = tcp(1, 2, 3, 4, 0x02, bytes([3, 4, 7, 0]))
    v["bad_sackok_len"] = tcp(1, 2, 3, 4, 0x02, bytes([4, 3, 0, 0]))
    v["bad_ts_len"] = tcp(1, 2, 3, 4, 0x10, bytes([8, 8]) + bytes(6))
    v["bad_sack_len"] = tcp(1, 2, 3, 4, 0x10, bytes([5, 9]) + bytes(10))
    v["sack_no_blocks"] = tcp(1, 2, 3, 4, 0x10, bytes([5, 2, 0, 0]))
    v["option_len_0"] = tcp(1, 2, 3, 4, 0x10, bytes([30, 0, 0, 0]))
    v["option_past_end"] = tcp(1, 2, 3, 4, 0x10, bytes([1, 1, 30, 8]))
    v["option_no_len"] = tcp(1, 2, 3, 4, 0x10, bytes([1, 1, 1, 30]))
    short = bytearray(tcp(1, 2, 3, 4, 0x10))
    short[12] = 0x40
    v["data_offset_16"] = bytes(short)
    v["data_offset_beyond"] = tcp(1, 2, 3, 4, 0x10, bytes(8))[:24]
    v["truncated"] = tcp(1, 2, 3, 4, 0x10)[:19]
    v["empty"] = b""
    return v


def esp_ahs():
    """First byte: bit 0 set means AH over IPv6. Then an ESP or AH header, for fuzz_esp_ah."""
    v = {}
    for fam, bit in (("v4", b"\x00"), ("v6", b"\x01")):
        v["esp_" + fam] = bit + esp(0x1001, 1) + payload(32)
        v["ah_icv12_" + fam] = bit + ah(TCP, 0x4000, 99, 12) + tcp(1, 2, 3, 4, 0x10)
        v["ah_icv16_" + fam] = bit + ah(TCP, 0x4000, 99, 16)
        v["ah_icv20_" + fam] = bit + ah(UDP, 0x4001, 3, 20) + udp(1, 2, 0)
        v["ah_no_icv_" + fam] = bit + ah(ESP, 1, 2, 0) + esp(3, 4)
        v["ah_len_field_0_" + fam] = bit + ah(TCP, 1, 1, 12, length_field=0)
        v["ah_len_255_" + fam] = bit + ah(TCP, 1, 1, 12, length_field=255)
        v["ah_truncated_" + fam] = bit + ah(TCP, 1, 1, 12)[:20]
        v["ah_tunnel_" + fam] = bit + ah(IPIP, 5, 6, 12) + ipv4(UDP, 0)
    v["esp_truncated"] = b"\x00" + esp(1, 2)[:7]
    v["esp_seq_max"] = b"\x00" + esp(0xFFFFFFFF, 0xFFFFFFFF)
    v["only_mode"] = b"\x01"
    v["empty"] = b""
    return v


TARGETS = {
    "frame": frames,
    "sectag": sectags,
    "ipv4": ipv4s,
    "ipv6": ipv6s,
    "tcp": tcps,
    "esp_ah": esp_ahs,
}


def main(argv):
    clean = "--clean" in argv[1:]
    total = 0
    for target, make in TARGETS.items():
        d = os.path.join(CORPUS, target)
        os.makedirs(d, exist_ok=True)
        if clean:
            for name in os.listdir(d):
                if name.endswith(".bin"):
                    os.remove(os.path.join(d, name))
        seeds = make()
        for name, data in sorted(seeds.items()):
            with open(os.path.join(d, name + ".bin"), "wb") as out:
                out.write(data)
            total += len(data)
        print("%-7s %3d seeds" % (target, len(seeds)))
    print("total %d bytes" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
