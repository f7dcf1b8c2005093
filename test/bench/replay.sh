#!/usr/bin/env bash
# Replay benchmark: netscope (one RX lcore) and dpdk-testpmd rxonly on the same
# net_pcap infinite_rx vdev (10k ESP SAs, 64-byte frames), each for SECONDS.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_RUN=${1:-10}
WORK=$(mktemp -d /tmp/netscope-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

if [ ! -x build/apps/netscope/netscope ]; then scripts/setup.sh; fi
HUGE=()
if [ "$(cat /proc/sys/vm/nr_hugepages)" -lt 512 ]; then echo 1024 > /proc/sys/vm/nr_hugepages || true; fi
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages || true
if [ "$(cat /proc/sys/vm/nr_hugepages)" -lt 512 ]; then HUGE=(--no-huge -m 1024); echo "no hugepages: running with --no-huge"; fi

# 10k ESP SAs round-robin, 8 packets each, numbers in order: 80k 64-byte frames. net_pcap
# infinite_rx loads them into mbufs and loops, so after the first pass every packet repeats
# a number: the run measures the duplicate (anomaly) path, not only the in-order one.
/usr/bin/python3 - "$WORK/esp10k.pcap" <<'PY'
import struct, sys
def csum(b):
    s = sum((b[i] << 8) + b[i + 1] for i in range(0, len(b), 2))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    n = 0
    for seq in range(1, 9):
        for sa in range(10000):
            esp = struct.pack("!II", 0x10000 + sa, seq) + bytes(22)
            ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(esp), 0, 0, 64, 50, 0,
                                       bytes([10, 0, 0, 1]), bytes([10, 1, sa >> 8, sa & 255])))
            c = csum(ip); ip[10] = c >> 8; ip[11] = c & 255
            fr = bytes.fromhex("020000000002020000000001") + b"\x08\x00" + bytes(ip) + esp
            f.write(struct.pack("<IIII", 1700000000, n % 1000000, len(fr), len(fr))); f.write(fr)
            n += 1
PY

VDEV="net_pcap0,rx_pcap=$WORK/esp10k.pcap,infinite_rx=1"
echo "== dpdk-testpmd rxonly, ${SECONDS_RUN}s"
( sleep "$SECONDS_RUN"; echo ) | dpdk-testpmd -l 0-1 --no-pci "${HUGE[@]}" --file-prefix nsbench-tp \
  --vdev="$VDEV" -- --forward-mode=rxonly --no-flush-rx -a --total-num-mbufs=131072 >"$WORK/testpmd.txt" 2>&1 || true
tp=$(grep -m1 "RX-packets:" "$WORK/testpmd.txt" | awk '{print $2}' || true)
echo "testpmd RX-packets: $tp"
echo "testpmd Mpps: $(/usr/bin/python3 -c "print(round(${tp:-0}/${SECONDS_RUN}/1e6, 2))")"

echo "== netscope, one RX lcore, ${SECONDS_RUN}s"
build/apps/netscope/netscope -l 0-1 --no-pci "${HUGE[@]}" --file-prefix nsbench-ns --vdev="$VDEV" \
  --log-level lib.eal:error -- --duration "$SECONDS_RUN" --no-progress --no-report --max-sas 20000 --mbufs 131071 \
  --report-json "$WORK/report.json"
/usr/bin/python3 - "$WORK/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
p, s = r["totals"]["packets"], r["run"]["wall_seconds"]
print(f"netscope packets: {p} in {s:.2f} s -> {p / s / 1e6:.2f} Mpps; SAs {len(r['sas'])}; "
      f"anomalies {r['anomalies_total']}; nombuf {r['ports'][0]['rx_nombuf']}")
PY
