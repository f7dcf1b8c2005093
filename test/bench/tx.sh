#!/usr/bin/env bash
# TX benchmark: Mpps of one netscope-gen TX lcore into net_null for 64-byte frames (plain
# UDP, MACsec crypto none, MACsec GCM-AES-128, ESP AES-GCM-128 tunnel), next to
# `dpdk-testpmd --forward-mode=txonly` on the same vdev in the same run, as a ratio.
# Usage: test/bench/tx.sh [seconds per case, default 10]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_RUN=${1:-10}
GEN=${GEN:-build/apps/netscope-gen/netscope-gen}  # GEN=build-x/... for another build dir
WORK=$(mktemp -d /tmp/netscope-bench-tx-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

if [ ! -x "$GEN" ]; then echo "build netscope-gen first (ninja -C build)"; exit 1; fi
HUGE=()
if [ "$(cat /proc/sys/vm/nr_hugepages)" -lt 512 ]; then echo 1024 > /proc/sys/vm/nr_hugepages || true; fi
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages || true
if [ "$(cat /proc/sys/vm/nr_hugepages)" -lt 512 ]; then HUGE=(--no-huge -m 1024); echo "no hugepages: running with --no-huge"; fi
EAL=(-l 0-1 --no-pci "${HUGE[@]}" --huge-unlink --no-telemetry --log-level lib.eal:error --vdev=net_null0)

# size 64 includes the FCS: 60 bytes are written (testpmd below writes 60 too).
cat >"$WORK/udp.yaml" <<'EOF'
flows:
  - {name: udp, protocol: udp, size: 64}
EOF
cat >"$WORK/macsec-none.yaml" <<'EOF'
flows:
  - {name: macsec-none, protocol: macsec, crypto: none, size: 64}
EOF
cat >"$WORK/macsec-gcm128.yaml" <<'EOF'
flows:
  - name: macsec-gcm128
    protocol: macsec
    size: 64
    macsec: {cipher: gcm-aes-128, key: "00112233445566778899aabbccddeeff"}
EOF
# An ESP tunnel needs 78 bytes (Ethernet, outer IPv4, ESP, IV, inner IPv4 + UDP, trailer,
# ICV): the frame grows to fit.
cat >"$WORK/esp-gcm128-tunnel.yaml" <<'EOF'
flows:
  - name: esp-gcm128-tunnel
    protocol: esp
    size: 64
    ip: {src: 192.168.10.1, dst: 192.168.20.1}
    esp:
      mode: tunnel
      outer: {src: 203.0.113.1, dst: 203.0.113.2}
      algorithm: aes-gcm-128
      key: "00112233445566778899aabbccddeeff"
      salt: "01020304"
EOF

MHZ=$(awk -F: '/^cpu MHz/ {printf "%d", $2; exit}' /proc/cpuinfo)
echo "== $(uptime)"
echo "== dpdk-testpmd txonly, 60-byte frames, one forwarding lcore, ${SECONDS_RUN}s"
# testpmd runs until a line arrives on stdin; just before it, the CPU time its forwarding
# thread got is read from /proc (schedstat, ns), so that a core shared with other work can
# be told from a slow loop.
mkfifo "$WORK/tp.in"
dpdk-testpmd "${EAL[@]}" --file-prefix nsbench-txtp -- \
  --forward-mode=txonly --txpkts=60 -a <"$WORK/tp.in" >"$WORK/testpmd.txt" 2>&1 &
tp_pid=$!
exec 7>"$WORK/tp.in"
sleep "$SECONDS_RUN"
tp_cpu_ns=0
for t in /proc/$tp_pid/task/*; do
  if [ "$(cat "$t/comm" 2>/dev/null)" = rte-worker-1 ]; then tp_cpu_ns=$(cut -d' ' -f1 "$t/schedstat"); fi
done
echo >&7
exec 7>&-
wait "$tp_pid" || true
tp=$(grep -m1 "TX-packets:" "$WORK/testpmd.txt" | awk '{print $2}' || true)
read -r tp_mpps tp_cpu_mpps < <(/usr/bin/python3 -c "
p, s, c = ${tp:-0}, ${SECONDS_RUN}, ${tp_cpu_ns} / 1e9
print(round(p / s / 1e6, 2), round(p / c / 1e6, 2) if c > 0 else 0)")
echo "testpmd TX-packets: ${tp:-?} -> ${tp_mpps} Mpps over ${SECONDS_RUN}s wall," \
  "${tp_cpu_mpps} Mpps per CPU-second of its forwarding thread"

# Mpps: frames / wall seconds of the TX loop. cpu Mpps: frames / CPU seconds its thread got
# (the rate of a core of our own; the ratios are each to testpmd's same measure). cycles:
# CPU time per frame at the CPU's nominal clock (${MHZ} MHz).
printf '%-20s %8s %10s %9s %10s %8s %12s\n' case "Mpps" "x testpmd" "cpu Mpps" "x testpmd" \
  "cycles" "frame bytes"
for c in udp macsec-none macsec-gcm128 esp-gcm128-tunnel; do
  "$GEN" "${EAL[@]}" --file-prefix "nsbench-tx-$c" -- --config "$WORK/$c.yaml" --seed 1 \
    --pacing burst --duration "$SECONDS_RUN" --stats-json "$WORK/$c.json" 2>"$WORK/$c.err" \
    || { cat "$WORK/$c.err"; exit 1; }
  /usr/bin/python3 - "$WORK/$c.json" "$c" "$tp_mpps" "$tp_cpu_mpps" "$MHZ" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
lc = s["lcores"][0]
mpps = lc["pps"] / 1e6
tp, tp_cpu, mhz = float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
cpu = lc.get("cpu_seconds", 0.0)
cpu_mpps = lc["packets"] / cpu / 1e6 if cpu > 0 else 0.0
ratio = f"{mpps / tp:.2f}" if tp > 0 else "-"
cpu_ratio = f"{cpu_mpps / tp_cpu:.2f}" if tp_cpu > 0 and cpu_mpps > 0 else "-"
cycles = f"{cpu * mhz * 1e6 / lc['packets']:.0f}" if cpu > 0 and lc["packets"] else "-"
print(f"{sys.argv[2]:<20} {mpps:8.2f} {ratio:>10} {cpu_mpps:9.2f} {cpu_ratio:>10} {cycles:>8} "
      f"{lc['bytes'] / max(lc['packets'], 1):12.0f}")
PY
done
grep -o "AES-GCM on .*" "$WORK/macsec-gcm128.err" | head -1 || true
echo "== $(uptime)"
