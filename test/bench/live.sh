#!/usr/bin/env bash
# Live capture benchmark: netscope on one end of a veth pair (in a network namespace made
# here) through net_af_packet and net_af_xdp; tcpreplay --topspeed sends into the other
# end. Reports what tcpreplay sent, what the kernel counted on both ends (`ip -s link`),
# what the PMD says it missed and what netscope analyzed.
# Then the no-drop search: netscope alone, tcpreplay paced at each of RATES (frames/s).
# af_xdp cases run with and without NetScope's XDP pre-filter (--xdp-prefilter
# macsec,esp,ah,nat-t); with it, "captured" is compared with what the program redirected,
# and the frames it left to the kernel are listed in the case name.
# Usage: test/bench/live.sh [packets per case (default 1000000)]
#        ONLY_PREFILTER=1 runs only the af_xdp cases with and without the XDP pre-filter.
#        RATES="100000 200000 300000 400000" (default) sets the paced rates; RATES= skips them.
# Needs root, tcpreplay, and build/apps/netscope{,-gen} (scripts/setup.sh builds them).
set -euo pipefail
cd "$(dirname "$0")/../.."
PACKETS=${1:-1000000}
RATES=${RATES-100000 200000 300000 400000}
WORK=$(mktemp -d /tmp/netscope-bench-live-XXXXXX)
NS="nsbench$$"
A="nbA$$"   # capture end
B="nbB$$"   # send end
cleanup() {
  ip netns delete "$NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ ! -x build/apps/netscope/netscope ] || [ ! -x build/apps/netscope-gen/netscope-gen ]; then scripts/setup.sh; fi
command -v tcpreplay >/dev/null || { echo "live.sh: tcpreplay is not installed (apt-get install tcpreplay)"; exit 1; }
NETSCOPE=$PWD/build/apps/netscope/netscope
MEM=(--no-huge -m 1024)
if [ "$(cat /proc/sys/vm/nr_hugepages)" -lt 512 ]; then echo 1024 > /proc/sys/vm/nr_hugepages || true; fi
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages || true
if [ "$(cat /proc/sys/vm/nr_hugepages)" -ge 512 ]; then MEM=(-m 1024 --huge-unlink); else echo "no hugepages: --no-huge"; fi

ip netns add "$NS"
ip link add "$A" netns "$NS" type veth peer name "$B" netns "$NS"
ip -n "$NS" link set "$A" up
ip -n "$NS" link set "$B" up

# Inputs: 64-byte ESP frames (1000 SAs, numbers in order), and the generator's demo mix
# (MACsec, ESP, AH, NAT-T, VLAN, IPv6; 515 bytes on average). tcpreplay loops each file
# until PACKETS frames were sent.
/usr/bin/python3 - "$WORK/esp64.pcap" <<'PY'
import struct, sys
def csum(b):
    s = sum((b[i] << 8) + b[i + 1] for i in range(0, len(b), 2))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    n = 0
    for seq in range(1, 11):
        for sa in range(1000):
            esp = struct.pack("!II", 0x10000 + sa, seq) + bytes(18)
            ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(esp), 0, 0, 64, 50, 0,
                                       bytes([10, 0, 0, 1]), bytes([10, 1, sa >> 8, sa & 255])))
            c = csum(ip); ip[10] = c >> 8; ip[11] = c & 255
            fr = bytes.fromhex("020000000002020000000001") + b"\x08\x00" + bytes(ip) + esp
            f.write(struct.pack("<IIII", 1700000000, n % 1000000, len(fr), len(fr))); f.write(fr)
            n += 1
PY
# 64-byte frames, 1 in 10 ESP and 9 in 10 plain UDP: traffic the XDP pre-filter mostly
# leaves to the kernel.
/usr/bin/python3 - "$WORK/mostly-udp64.pcap" <<'PY'
import struct, sys
def csum(b):
    s = sum((b[i] << 8) + b[i + 1] for i in range(0, len(b), 2))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    n = 0
    for seq in range(1, 11):
        for sa in range(1000):
            if sa % 10 == 0:
                proto, l4 = 50, struct.pack("!II", 0x10000 + sa, seq) + bytes(18)
            else:
                proto, l4 = 17, struct.pack("!HHHH", 1024 + sa, 9, 26, 0) + bytes(18)
            ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0,
                                       bytes([10, 0, 0, 1]), bytes([10, 1, sa >> 8, sa & 255])))
            c = csum(ip); ip[10] = c >> 8; ip[11] = c & 255
            fr = bytes.fromhex("020000000002020000000001") + b"\x08\x00" + bytes(ip) + l4
            f.write(struct.pack("<IIII", 1700000000, n % 1000000, len(fr), len(fr))); f.write(fr)
            n += 1
PY
build/apps/netscope-gen/netscope-gen -- --builtin-demo --seed 1 --count 10000 --pcap-out "$WORK/demo.pcap" >/dev/null 2>&1

# "rx_packets rx_dropped tx_packets tx_dropped" of one interface, from the kernel.
link_counters() {
  ip -n "$NS" -j -s link show dev "$1" | /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)[0]["stats64"]
print(s["rx"]["packets"], s["rx"]["dropped"], s["tx"]["packets"], s["tx"]["dropped"])'
}

# start_capture TOOL VDEV: netscope or dpdk-testpmd (rxonly, the PMD's own ceiling) on
# the capture end, in the background; CAPTURE_PID is its pid.
start_capture() {
  local tool=$1 vdev=$2
  rm -f "$WORK/done"
  if [ "$tool" = netscope ]; then
    ip netns exec "$NS" /bin/sh -c "mount -t bpf bpf /sys/fs/bpf 2>/dev/null; exec $NETSCOPE -l 0-1 --no-pci ${MEM[*]} \
      --file-prefix nsbench-live$$ --log-level lib.eal:error --vdev=$vdev -- --live \
      --no-progress --no-report --rx-ring 4096 --report-json $WORK/report.json ${APP_ARGS:-}" >"$WORK/capture.txt" 2>&1 &
    CAPTURE_PID=$!
  else
    # testpmd without a terminal waits for a line on stdin, then prints its statistics.
    ( while [ ! -f "$WORK/done" ]; do sleep 0.2; done; echo ) | ip netns exec "$NS" /bin/sh -c \
      "mount -t bpf bpf /sys/fs/bpf 2>/dev/null; exec stdbuf -oL dpdk-testpmd -l 0-1 --no-pci ${MEM[*]} \
      --file-prefix nsbench-tp$$ --log-level lib.eal:error --vdev=$vdev -- --forward-mode=rxonly -a \
      --rxd=4096 --total-num-mbufs=32768" >"$WORK/capture.txt" 2>&1 &
    CAPTURE_PID=$!
  fi
  for _ in $(seq 1 600); do  # up to 60 s: hugepage-backed pools take a while to populate
    grep -q "netscope: port 0 \|Press enter to exit" "$WORK/capture.txt" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$tool on $vdev did not start:"; cat "$WORK/capture.txt"; kill "$CAPTURE_PID" 2>/dev/null || true
  return 1
}

# run_case TOOL NAME VDEV INPUT [RATE]: tcpreplay --topspeed, or paced at RATE frames/s.
run_case() {
  local tool=$1 name=$2 vdev=$3 input=$4 rate=${5:-} frames loops pace=(--topspeed)
  [ -n "$rate" ] && pace=(--pps="$rate")
  frames=$(tcpdump -n --count -r "$input" 2>/dev/null | awk '{print $1}')
  loops=$(( (PACKETS + frames - 1) / frames ))
  read -r a_rx0 a_drop0 _ _ < <(link_counters "$A")
  read -r _ _ b_tx0 b_txdrop0 < <(link_counters "$B")
  start_capture "$tool" "$vdev" || return 1
  ip netns exec "$NS" tcpreplay -i "$B" "${pace[@]}" --loop="$loops" --limit="$PACKETS" "$input" >"$WORK/tcpreplay.txt" 2>&1
  sleep 2  # let the last frames drain before the stop
  if [ "$tool" = netscope ]; then kill -INT "$CAPTURE_PID"; else touch "$WORK/done"; fi
  wait "$CAPTURE_PID" || true
  read -r a_rx1 a_drop1 _ _ < <(link_counters "$A")
  read -r _ _ b_tx1 b_txdrop1 < <(link_counters "$B")
  local sent secs
  sent=$(grep -oP 'Successful packets:\s+\K\d+' "$WORK/tcpreplay.txt")
  secs=$(grep -oP 'Actual: \d+ packets \(\d+ bytes\) sent in \K[0-9.]+' "$WORK/tcpreplay.txt")
  /usr/bin/python3 - "$tool" "$WORK" "$name" "$sent" "$secs" "$((b_tx1 - b_tx0))" "$((b_txdrop1 - b_txdrop0))" \
    "$((a_rx1 - a_rx0))" "$((a_drop1 - a_drop0))" <<'PY'
import json, re, sys
tool, work, name = sys.argv[1:4]
sent, secs = int(sys.argv[4]), float(sys.argv[5])
btx, btxdrop, arx, adrop = map(int, sys.argv[6:])
offered = sent
if tool == "netscope":
    r = json.load(open(work + "/report.json"))
    got, missed = r["totals"]["packets"], r["ports"][0]["rx_missed"]
    x = r["ports"][0].get("xdp_prefilter")
    if x:  # only what the program redirected was meant for netscope
        offered = x["redirected"]
        name += f" ({x['redirected']} redirected, {x['passed']} to the kernel)"
else:
    t = open(work + "/capture.txt").read()
    got = int(re.search(r"RX-packets:\s+(\d+)", t).group(1))
    missed = int(re.search(r"RX-dropped:\s+(\d+)", t).group(1))  # testpmd: imissed + rx_nombuf
lost = max(0, offered - got)
print(f"| {name} | {tool} | {sent} | {sent / secs / 1e6:.3f} | {btx} / {btxdrop} | {arx} / {adrop} | {missed} | "
      f"{got} | {got / secs / 1e6:.3f} | {lost} ({100.0 * lost / max(offered, 1):.1f}%) |")
PY
}

echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| case | capture | sent | sent Mpps | kernel tx B (pkts / dropped) | kernel rx A (pkts / dropped) | PMD missed | captured | captured Mpps | lost |"
echo "|---|---|---|---|---|---|---|---|---|---|"
[ -n "${ONLY_PREFILTER:-}" ] && RATES=
for tool in ${ONLY_PREFILTER:+none} ${ONLY_PREFILTER:-dpdk-testpmd netscope}; do
  [ "$tool" = none ] && break
  run_case "$tool" "af_packet, 64-byte ESP" "net_af_packet0,iface=$A,framecnt=4096" "$WORK/esp64.pcap" || true
  run_case "$tool" "af_packet, demo mix" "net_af_packet0,iface=$A,framecnt=4096" "$WORK/demo.pcap" || true
  run_case "$tool" "af_xdp (copy), 64-byte ESP" "net_af_xdp0,iface=$A" "$WORK/esp64.pcap" || true
  run_case "$tool" "af_xdp (copy), demo mix" "net_af_xdp0,iface=$A" "$WORK/demo.pcap" || true
done
PRE=(--xdp-prefilter macsec,esp,ah,nat-t)
for input in esp64 demo mostly-udp64; do
  run_case netscope "af_xdp (copy), $input" "net_af_xdp0,iface=$A" "$WORK/$input.pcap" || true
  APP_ARGS="${PRE[*]}" run_case netscope "af_xdp (copy) + XDP pre-filter, $input" "net_af_xdp0,iface=$A" \
    "$WORK/$input.pcap" || true
done
for rate in ${PREFILTER_RATES-200000 300000}; do
  APP_ARGS="${PRE[*]}" run_case netscope "af_xdp (copy) + XDP pre-filter, 64-byte ESP at $rate/s" \
    "net_af_xdp0,iface=$A" "$WORK/esp64.pcap" "$rate" || true
done
for rate in $RATES; do
  run_case netscope "af_packet, 64-byte ESP at $rate/s" "net_af_packet0,iface=$A,framecnt=4096" "$WORK/esp64.pcap" "$rate" || true
  run_case netscope "af_xdp (copy), 64-byte ESP at $rate/s" "net_af_xdp0,iface=$A" "$WORK/esp64.pcap" "$rate" || true
done
