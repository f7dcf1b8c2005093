#!/usr/bin/env bash
# Flow-table benchmark: Mpps of one worker lcore against the number of concurrent flows
# (1k, 100k, 1M UDP flows to port 5000 (no application parser), 64-byte frames, each flow
# one packet per pass of the capture),
# replayed from memory by net_pcap infinite_rx, next to testpmd rxonly; plus the resident
# memory of netscope holding 1M flows. Needs ~4 GiB of hugepages (reserved here).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-6}
WORK=$(mktemp -d /tmp/netscope-flows-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
[ -x build/apps/netscope/netscope ] || scripts/setup.sh
[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 2048 ] || echo 2048 > /proc/sys/vm/nr_hugepages
mkdir -p /dev/hugepages; mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages

for N in 1000 100000 1000000; do
  /usr/bin/python3 - "$WORK/f$N.pcap" "$N" <<'PY'
import struct, sys
path, n = sys.argv[1], int(sys.argv[2])
def csum(b):
    s = sum((b[i] << 8) + b[i + 1] for i in range(0, 20, 2))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    eth = bytes.fromhex("020000000002020000000001") + b"\x08\x00"
    for i in range(n):
        src = bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])
        udp = struct.pack("!HHHH", 1024 + (i % 50000), 5000, 8 + 18, 0) + bytes(18)
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, bytes([10, 255, 0, 1])))
        c = csum(ip); ip[10] = c >> 8; ip[11] = c & 255
        fr = eth + bytes(ip) + udp
        f.write(struct.pack("<IIII", 1700000000, i % 1000000, len(fr), len(fr))); f.write(fr)
PY
  VDEV="net_pcap0,rx_pcap=$WORK/f$N.pcap,infinite_rx=1"
  MB=$((N + 65536))
  ( sleep "$SECS"; echo ) | dpdk-testpmd -l 0-1 --no-pci --file-prefix nsflows-tp --vdev="$VDEV" -- \
     --forward-mode=rxonly --no-flush-rx -a --total-num-mbufs=$MB >"$WORK/tp.txt" 2>&1 || true
  tp=$(grep -m1 "RX-packets:" "$WORK/tp.txt" | awk '{print $2}' || true)
  # Sensors (top talkers, detections, topology) are measured apart: SENSORS=on adds them.
  printf 'sensors:\n  enabled: %s\n' "$([ "${SENSORS:-off}" = on ] && echo true || echo false)" >"$WORK/cfg.yaml"
  build/apps/netscope/netscope -l 0-1 --no-pci --file-prefix nsflows-ns --vdev="$VDEV" --log-level lib.eal:error -- \
     --config "$WORK/cfg.yaml" --duration "$SECS" --no-progress --no-report --max-flows $((N * 2)) --mbufs $MB --flow-timeout 3600 \
     --report-json "$WORK/r.json" &
  pid=$!
  sleep $((SECS - 1))
  rss=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
  wait $pid
  /usr/bin/python3 - "$WORK/r.json" "$N" "${tp:-0}" "$SECS" "$rss" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); n, tp, secs, rss = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
p = r["totals"]["packets"] / r["run"]["wall_seconds"] / 1e6
print(f"flows {n:>8}: netscope {p:6.2f} Mpps, testpmd rxonly {tp / secs / 1e6:6.2f} Mpps, "
      f"flows created {r['totals']['flows_created']}, evicted {r['totals']['flows_evicted']}, RSS {rss / 1024:.0f} MiB")
PY
done
