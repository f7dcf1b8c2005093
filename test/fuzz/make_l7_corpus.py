#!/usr/bin/python3
"""Writes the seed corpus of the L7 fuzz targets under test/fuzz/corpus/{http,dns,l7_detect}/.

Standard library only, deterministic, same conventions as make_corpus.py: seeds are
<kind>.bin; inputs found by fuzzing (crash-<sha1>, ...) are committed beside them and left
alone (--clean removes only *.bin).

    /usr/bin/python3 test/fuzz/make_l7_corpus.py [--clean]
"""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def be16(v):
    return struct.pack("!H", v & 0xFFFF)


def be32(v):
    return struct.pack("!I", v & 0xFFFFFFFF)


# --- HTTP (fuzz_http.cpp): byte 0 = bit 0 response, bit 1 primed request side, bits 2-7 cuts

REQ, RESP, RESP_PRIMED = 0x00, 0x01, 0x03


def http_seeds():
    v = {}
    def req(name, text, cut=0):
        v["req_" + name] = bytes([REQ | cut << 2]) + text
    def resp(name, text, primed=False, cut=0):
        v["resp_" + name] = bytes([(RESP_PRIMED if primed else RESP) | cut << 2]) + text

    req("get", b"GET /index.html?q=1 HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: curl/7.88.1\r\n"
        b"Accept: */*\r\n\r\n")
    req("pipelined", b"GET /a HTTP/1.1\r\nHost: a.test\r\n\r\nHEAD /b HTTP/1.1\r\nHost: a.test\r\n\r\n"
        b"POST /c HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4\r\n\r\nbodyDELETE /d HTTP/1.0\r\n\r\n", 5)
    req("chunked", b"PUT /up HTTP/1.1\r\nhost: up.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        b"4\r\nabcd\r\n5;ext=1\r\nefghi\r\n0\r\nX-Trailer: 1\r\n\r\nOPTIONS * HTTP/1.1\n\n", 9)
    req("connect", b"CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n\x16\x03\x01\x00\x05hello")
    req("host_ows", b"GET / HTTP/1.1\r\nHost: \t Example.Test:8080 \t \r\nX: y\r\n\r\n", 17)
    req("long_values", b"GET /" + b"u" * 300 + b" HTTP/1.1\r\nHost: " + b"h" * 100 + b"\r\nCookie: " +
        b"c" * 2000 + b"\r\n\r\n", 33)
    req("framing_conflict", b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n")
    req("empty_lines", b"\r\n\r\n\nGET / HTTP/1.1\r\n\r\n")
    resp("bodies", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 404 Not Found\r\n"
         b"content-length:0\r\n\r\nHTTP/1.1 302\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n", cut=3)
    resp("chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;n=v\r\n world\r\n"
         b"A \r\n0123456789\r\n0\r\nX-Checksum: 1\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n", cut=11)
    resp("interim", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
         b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    resp("to_head_and_connect", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
         b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 200 Connection established\r\n\r\n"
         b"\x16\x03\x03\x00\x10", primed=True)
    resp("refused_connect", b"HTTP/1.1 200 OK\r\n\r\n", primed=True)
    resp("upgrade", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello")
    resp("until_close", b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until the connection closes")
    # One input per typed error.
    errors = {
        "bad_method": (REQ, b"G@T / HTTP/1.1\r\n\r\n"),
        "bad_request_target": (REQ, b"GET  / HTTP/1.1\r\n\r\n"),
        "bad_version": (REQ, b"GET / HTTP/2.0\r\n\r\n"),
        "bad_version_09": (REQ, b"GET /\r\n"),
        "bad_status": (RESP, b"HTTP/1.1 20 OK\r\n\r\n"),
        "bad_line_ending": (REQ, b"GET / HTTP/1.1\rX\r\n\r\n"),
        "line_too_long": (REQ, b"GET / HTTP/1.1\r\nCookie: " + b"c" * 8200 + b"\r\n\r\n"),
        "bad_header_name": (REQ, b"GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
        "bad_header_value": (REQ, b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n"),
        "obsolete_line_folding": (REQ, b"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"),
        "too_many_headers": (REQ, b"GET / HTTP/1.1\r\n" + b"X: v\r\n" * 129 + b"\r\n"),
        "duplicate_host": (REQ, b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"),
        "bad_content_length": (REQ, b"POST / HTTP/1.1\r\nContent-Length: 4, 4\r\n\r\n"),
        "duplicate_content_length": (REQ, b"POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n"),
        "bad_transfer_encoding": (REQ, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
        "bad_chunk_size": (RESP, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n"),
        "bad_chunk_ending": (RESP, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n"),
    }
    for name, (ctl, text) in errors.items():
        v["error_" + name] = bytes([ctl]) + text
    v["only_ctl"] = b"\x01"
    return v


# --- DNS (fuzz_dns.cpp): a UDP message, also read as a TCP stream

def header(ident, flags, qd, an, ns=0, ar=0):
    return b"".join(be16(x) for x in (ident, flags, qd, an, ns, ar))


def name(dotted):
    out = b""
    for label in dotted.split(".") if dotted else []:
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def ptr(offset):
    return be16(0xC000 | offset)


def rr(owner, rtype, ttl, rdata, cls=1):
    return owner + be16(rtype) + be16(cls) + be32(ttl) + be16(len(rdata)) + rdata


def response():
    m = header(0xBEEF, 0x8180, 1, 4) + name("www.example.test") + be16(1) + be16(1)
    cname_rdata = len(m) + 12
    m += rr(ptr(12), 5, 300, name("cdn")[:-1] + ptr(16))
    for last, ttl in ((10, 60), (11, 61)):
        m += rr(ptr(cname_rdata), 1, ttl, bytes([192, 0, 2, last]))
    m += rr(ptr(cname_rdata), 28, 62, bytes.fromhex("20010db8000000000000000000000010"))
    return m


def framed(m):
    return be16(len(m)) + m


def dns_seeds():
    v = {}
    query = header(0x1234, 0x0100, 1, 0) + name("www.example.test") + be16(28) + be16(1)
    v["query"] = query
    v["response_compressed"] = response()
    v["nxdomain"] = header(9, 0x8183, 1, 0, 1) + name("missing.test") + be16(1) + be16(1) + \
        rr(ptr(20), 6, 3600, bytes(22))
    v["mdns"] = header(0, 0x8400, 0, 1) + rr(name("printer.local"), 1, 120, bytes([169, 254, 1, 2]), 0x8001)
    v["root_ns"] = header(1, 0x0100, 1, 0) + name("") + be16(2) + be16(1)
    v["loop_self"] = header(1, 0x0100, 1, 0) + ptr(12) + be32(0x00010001)
    v["loop_pair"] = header(1, 0x8180, 0, 1) + rr(ptr(14), 1, 1, bytes(4)) + ptr(12)
    chain = header(1, 0x8180, 1, 0) + name("a")
    at = [12]
    for _ in range(17):
        at.append(len(chain))
        chain += ptr(at[-2])
    v["pointer_chain"] = chain
    v["longest_name"] = header(1, 0x0100, 1, 0) + name(".".join(["x" * 63] * 3 + ["y" * 61])) + be32(0x00010001)
    v["name_too_long"] = header(1, 0x0100, 1, 0) + name(".".join(["x" * 63] * 4)) + be32(0x00010001)
    v["bad_label"] = header(1, 0x0100, 1, 0) + b"\x40\x00" + be32(0x00010001)
    v["bad_a_length"] = header(1, 0x8180, 0, 1) + rr(name("a.test"), 1, 1, b"\1\2\3")
    v["many_answers"] = header(7, 0x8180, 1, 8) + name("many.test") + be16(1) + be16(1) + \
        b"".join(rr(ptr(12), 1, k, bytes([10, 0, 0, k])) for k in range(1, 9))
    v["tcp_stream"] = framed(query) + framed(response()) + be16(4) + b"\1\2\3\4" + framed(query)[:9]
    v["truncated"] = response()[:40]
    v["empty"] = b""
    return v


# --- detection (fuzz_l7_detect.cpp): sport, dport, byte 4 = bit 0 UDP, bits 1-7 SNI buffer
# size; then the payload

def detect_head(sport, dport, udp=False, sni_size=64):
    return be16(sport) + be16(dport) + bytes([(sni_size << 1) | (1 if udp else 0)])


def ext(etype, data):
    return be16(etype) + be16(len(data)) + data


def client_hello(sni):
    body = be16(0x0303) + bytes(range(0, 224, 7)) + bytes([32]) + b"\xa0" * 32 + be16(6) + \
        be16(0x1301) + be16(0x1302) + be16(0x1303) + b"\x01\x00"
    sn = be16(3 + len(sni)) + b"\x00" + be16(len(sni)) + sni
    exts = ext(0x0A0A, b"") + ext(0, sn) + ext(10, bytes([0, 2, 0, 0x1D])) + \
        ext(16, b"\x00\x0c\x02h2\x08http/1.1") + ext(43, b"\x02\x03\x04") + \
        ext(51, be16(36) + be16(0x1D) + be16(32) + b"\x55" * 32)
    body += be16(len(exts)) + exts
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + be16(len(hs)) + hs


def quic(first, version, dcid, scid, pad=1200):
    b = bytes([first]) + be32(version) + bytes([dcid]) + bytes(range(16, 16 + dcid)) + \
        bytes([scid]) + bytes(range(128, 128 + scid))
    return b + bytes(max(0, pad - len(b)))


def detect_seeds():
    v = {}
    dns_query = header(0x1234, 0x0100, 1, 0) + name("a.test") + be16(1) + be16(1)
    v["tls_client_hello"] = detect_head(51000, 443) + client_hello(b"www.example.test")
    v["tls_client_hello_small_out"] = detect_head(51000, 8443, sni_size=4) + client_hello(b"www.example.test")
    v["tls_server_hello"] = detect_head(443, 51000) + b"\x16\x03\x03\x00\x4a\x02" + bytes(70)
    v["ssh"] = detect_head(50000, 22) + b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6\r\n"
    v["smtp_banner"] = detect_head(25, 40000) + b"220 mail.example.test ESMTP Postfix (Debian/GNU)\r\n"
    v["smtp_ehlo"] = detect_head(40000, 2525) + b"EHLO client.example.test\r\n"
    v["ftp_banner"] = detect_head(2121, 40000) + b"220 (vsFTPd 3.0.3)\r\n"
    v["ftp_user"] = detect_head(40000, 21) + b"USER anonymous\r\n"
    v["http_request"] = detect_head(40000, 8000) + b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    v["http_response"] = detect_head(8000, 40000) + b"HTTP/1.1 200 OK\r\n\r\n"
    v["dns_udp"] = detect_head(40000, 53, udp=True) + dns_query
    v["dns_tcp"] = detect_head(40000, 53) + framed(dns_query)
    v["quic_v1_initial"] = detect_head(50000, 443, udp=True) + quic(0xC3, 1, 8, 0)
    v["quic_v2_initial"] = detect_head(50000, 443, udp=True) + quic(0xD0, 0x6B3343CF, 20, 20, 64)
    v["quic_version_negotiation"] = detect_head(443, 50000, udp=True) + quic(0x80, 0, 8, 8, 40)
    v["empty_payload"] = detect_head(40000, 443)
    return v


TARGETS = {
    "http": http_seeds,
    "dns": dns_seeds,
    "l7_detect": detect_seeds,
}


def main(argv):
    clean = "--clean" in argv[1:]
    total = 0
    for target, make in TARGETS.items():
        d = os.path.join(CORPUS, target)
        os.makedirs(d, exist_ok=True)
        if clean:
            for n in os.listdir(d):
                if n.endswith(".bin"):
                    os.remove(os.path.join(d, n))
        seeds = make()
        for n, data in sorted(seeds.items()):
            with open(os.path.join(d, n + ".bin"), "wb") as out:
                out.write(data)
            total += len(data)
        print("%-9s %3d seeds" % (target, len(seeds)))
    print("total %d bytes" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
