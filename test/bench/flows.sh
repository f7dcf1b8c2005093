#!/usr/bin/env bash
# Flow-table benchmark: Mpps of one worker lcore against the number of concurrent flows
# (1k, 100k, 1M UDP flows to port 5000 (no application parser), 64-byte frames, each flow
# one packet per pass of the capture),
# replayed from memory by net_pcap infinite_rx, next to testpmd rxonly; plus the resident
# memory of netscope holding 1M flows, in rtc mode (one core receives and analyzes) and in
# pipeline mode (the worker has a core to itself; the RX lcore shares the other with the
# control lcore). Rates are the median of the steady seconds. Needs ~4 GiB of hugepages
# (reserved here).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-15}
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
  # testpmd rxonly on the same input: its per-period Rx-pps, steady seconds only (the
  # start, which loads every packet of the capture into mbufs, is left out).
  dpdk-testpmd -l 0-1 --no-pci --file-prefix nsflows-tp --vdev="$VDEV" -- \
     --forward-mode=rxonly --no-flush-rx -a --total-num-mbufs=$MB --stats-period 1 >"$WORK/tp.txt" 2>&1 </dev/null &
  tpid=$!
  for _ in $(seq 1 40); do [ "$(grep -ac 'Rx-pps' "$WORK/tp.txt" || true)" -ge $((SECS + 1)) ] && break; sleep 1; done
  kill -KILL $tpid 2>/dev/null || true; wait $tpid 2>/dev/null || true
  rm -rf /dev/hugepages/nsflows-tp* /var/run/dpdk/nsflows-tp
  tp=$(grep -a 'Rx-pps' "$WORK/tp.txt" | awk 'NR > 2 {print $2}' | sort -n | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]; else print 0}')
  # Sensors (top talkers, detections, topology) are measured apart: SENSORS=on adds them.
  printf 'sensors:\n  enabled: %s\n' "$([ "${SENSORS:-off}" = on ] && echo true || echo false)" >"$WORK/cfg.yaml"
  # rtc: one lcore on CPU 1 receives and analyzes. pipeline: the RX lcore shares CPU 0 with
  # the control lcore and the worker has CPU 1 to itself: its rate is a worker core's rate.
  for MODE in rtc pipeline; do
    if [ $MODE = rtc ]; then LC="0@0,1@1"; else LC="0@0,1@0,2@1"; fi
    build/apps/netscope/netscope --lcores "$LC" --no-pci --file-prefix nsflows-ns --vdev="$VDEV" --log-level lib.eal:error -- \
       --config "$WORK/cfg.yaml" --mode $MODE --duration "$SECS" --no-report --max-flows $((N * 2)) --mbufs $MB \
       --flow-timeout 3600 --report-json "$WORK/r.json" 2>"$WORK/ns.txt" &
    pid=$!
    sleep $((SECS - 1))
    rss=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
    wait $pid
    # The progress line of each second: the median of the steady ones (from the 2nd second,
    # without the last line, which spans the stop and the final flush of every flow).
    /usr/bin/python3 - "$WORK/r.json" "$WORK/ns.txt" "$N" "${tp:-0}" "$rss" "$MODE" <<'PY'
import json, re, statistics, sys
r = json.load(open(sys.argv[1])); n, tp, rss, mode = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
rates = [(float(t), int(p)) for t, p in re.findall(r"netscope:\s+([\d.]+)s packets \d+ \((\d+) pps\)", open(sys.argv[2]).read())]
steady = [p for t, p in rates[:-1] if t >= 1.5] or [p for _, p in rates]
print(f"flows {n:>8} {mode:>8}: netscope {statistics.median(steady) / 1e6:6.2f} Mpps (seconds: "
      f"{' '.join(f'{p / 1e6:.2f}' for p in steady)}), testpmd rxonly {tp / 1e6:6.2f} Mpps, "
      f"flows created {r['totals']['flows_created']}, evicted {r['totals']['flows_evicted']}, "
      f"ring drops {r['totals']['ring_drops']}, RSS {rss / 1024:.0f} MiB")
PY
  done
done
