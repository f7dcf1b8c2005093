// The built-in demo scenario. config/gen-demo.yaml holds exactly this text (a unit test
// compares them), so `--builtin-demo` and `--config config/gen-demo.yaml` are the same run.
#include "netscope/packet/scenario.hpp"

namespace netscope::packet {

std::string_view builtin_demo_yaml() noexcept {
  return R"yaml(# netscope-gen demo scenario: every protocol variant and every anomaly kind the analyzer
# reports. This file is the text of `netscope-gen --builtin-demo` (a unit test keeps the
# two identical). With the default count of 20000 packets each unit of weight is 1000
# packets; the comments below assume that count.
count: 20000
rate_pps: 1000000
flows:
  # MACsec GCM-AES-128, SCI in the SecTAG, VLAN inside the secure data: gaps, duplicates,
  # reordering by 3, and a rekey every 1200 packets (AN 0 -> 1 -> 2: two rekeys).
  - name: macsec-gcm128-sci
    protocol: macsec
    weight: 3
    eth: {src: "02:00:00:00:01:01", dst: "02:00:00:00:01:02"}
    vlan: [{vid: 100, pcp: 3}]
    ip: {src: 10.1.0.1, dst: 10.1.0.2}
    size: {min: 64, max: 1518}
    payload: counter
    macsec:
      sci: "02:00:00:00:01:01/1"
      an: 0
      cipher: gcm-aes-128
      key: "ad7a2bd03eac835a6f620fdcb506b345"
    sequence:
      gaps: {every: 500}
      duplicates: {every: 700}
      reorder: {every: 300, distance: 3}
      rekey_every: 1200

  # MACsec GCM-AES-256 without SCI (end station), integrity only: the 32-bit PN rolls over
  # after 1024 packets; random gaps.
  - name: macsec-gcm256-nosci-integrity
    protocol: macsec
    weight: 2
    eth: {src: "02:00:00:00:02:01", dst: "02:00:00:00:02:02"}
    ip: {src: 10.2.0.1, dst: 10.2.0.2}
    size: imix
    payload: random
    macsec:
      sc: false
      es: true
      e: false
      cipher: gcm-aes-256
      key: "e3c08a8f06c6e3ad95a70557b23f75483ce33021a9c72b7025666204c69c0b72"
    sequence:
      first: 0xFFFFFC00
      gaps: {probability: 0.002}

  # MACsec GCM-AES-XPN-128 over IPv6: the 64-bit PN crosses 2^32 after 512 packets (the
  # wire PN wraps, the crypto keeps the high bits); random duplicates.
  - name: macsec-xpn128
    protocol: macsec
    weight: 2
    eth: {src: "02:00:00:00:03:01", dst: "02:00:00:00:03:02"}
    ip: {src: "2001:db8:3::1", dst: "2001:db8:3::2"}
    size: 256
    macsec:
      sci: "0x0200000003010002"
      an: 1
      cipher: gcm-aes-xpn-128
      key: "071b113b0ca743fecccf3d051f737382"
      salt: "e630e81a48de86a21c66fa6d"
      ssci: 0x7a30c118
    sequence:
      first: 0xFFFFFE00
      duplicates: {probability: 0.002}

  # ESP AES-GCM-128 tunnel over IPv4: an explicit gap of three numbers, and two packets
  # held back by 80 (beyond the 64-packet window: out of window, counted lost).
  - name: esp-gcm128-tunnel-v4
    protocol: esp
    weight: 3
    ip: {src: 192.168.10.1, dst: 192.168.20.1}
    size: {min: 100, max: 1400}
    payload: random
    esp:
      spi: 0x1001
      mode: tunnel
      outer: {src: 203.0.113.1, dst: 203.0.113.2}
      algorithm: aes-gcm-128
      key: "4c80cdefbb5d10da906ac73c3613a634"
      salt: "2e443b68"
    sequence:
      gaps: {list: [100, 101, 102]}
      reorder: {list: [1500, 2500], distance: 80}

  # ESP AES-GCM-256 transport over IPv6 with ESN, starting with high bits 2: the 64-bit
  # number crosses into epoch 3 after 1024 packets. The truth omits first/highest_seq.
  - name: esp-gcm256-transport-v6-esn
    protocol: esp
    weight: 2
    ip: {src: "2001:db8:10::1", dst: "2001:db8:20::1"}
    l4: {protocol: tcp, src_port: 40000, dst_port: 7}
    size: 512
    esp:
      spi: 0x2001
      esn: true
      algorithm: aes-gcm-256
      key: "abbccddef00112233445566778899aabbccddeeff0011223344556677889900a"
      salt: "cafebabe"
    sequence:
      first: 0x2FFFFFC00

  # ESP in UDP 4500 (NAT-T), NULL encryption with HMAC-SHA-256-128, tunnel: the sequence
  # number is stuck at 0 for the first 30 packets; a rekey (SPI 0x3002) after 1500.
  - name: esp-udp-null-hmac-stuck
    protocol: esp-udp
    weight: 2
    ip: {src: 10.3.0.1, dst: 10.4.0.1}
    size: 300
    esp:
      spi: 0x3001
      mode: tunnel
      outer: {src: 198.51.100.1, dst: 198.51.100.2}
      algorithm: null-hmac-sha256-128
      key: "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
    sequence:
      first: 0
      stuck: {at: 0, count: 30}
      rekey_every: 1500

  # AH HMAC-SHA-256-128 transport over IPv4: the sender restarts at 1 after 500 packets
  # (a jump back of about 200000: a reset).
  - name: ah-sha256-v4-reset
    protocol: ah
    weight: 1
    ip: {src: 10.5.0.1, dst: 10.6.0.1}
    size: 200
    ah:
      spi: 0x4001
      algorithm: hmac-sha256-128
      key: "fedcba9876543210fedcba9876543210"
    sequence:
      first: 200000
      restart: {at: 500, value: 1}

  # AH HMAC-SHA1-96 tunnel over IPv6, in order.
  - name: ah-sha1-v6-tunnel
    protocol: ah
    weight: 1
    ip: {src: "2001:db8:30::1", dst: "2001:db8:40::1"}
    size: 400
    ah:
      spi: 0x5001
      mode: tunnel
      outer: {src: "2001:db8:ffff::1", dst: "2001:db8:ffff::2"}
      algorithm: hmac-sha1-96
      key: "000102030405060708090a0b0c0d0e0f10111213"

  # Background: plain UDP in a VLAN, plain TCP over IPv6 in QinQ.
  - name: udp-background
    protocol: udp
    weight: 2
    vlan: [{vid: 200}]
    ip: {src: 10.7.0.1, dst: 10.7.0.2}
    l4: {src_port: 5000, dst_port: 7, checksum: true}
    size: imix
  - name: tcp-background
    protocol: tcp
    weight: 2
    vlan: [{vid: 10}, {vid: 20}]
    ip: {src: "2001:db8:50::1", dst: "2001:db8:50::2"}
    l4: {src_port: 33000, dst_port: 7}
    size: {min: 64, max: 1518}
    payload: {pattern: "deadbeef"}
)yaml";
}

}  // namespace netscope::packet
