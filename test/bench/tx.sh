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

echo "== dpdk-testpmd txonly, 60-byte frames, one forwarding lcore, ${SECONDS_RUN}s"
( sleep "$SECONDS_RUN"; echo ) | dpdk-testpmd "${EAL[@]}" --file-prefix nsbench-txtp -- \
  --forward-mode=txonly --txpkts=60 -a >"$WORK/testpmd.txt" 2>&1 || true
tp=$(grep -m1 "TX-packets:" "$WORK/testpmd.txt" | awk '{print $2}' || true)
tp_mpps=$(/usr/bin/python3 -c "print(round(${tp:-0}/${SECONDS_RUN}/1e6, 2))")
echo "testpmd TX-packets: ${tp:-?} -> ${tp_mpps} Mpps"

printf '%-20s %8s %10s %12s\n' case "Mpps" "x testpmd" "frame bytes"
for c in udp macsec-none macsec-gcm128 esp-gcm128-tunnel; do
  "$GEN" "${EAL[@]}" --file-prefix "nsbench-tx-$c" -- --config "$WORK/$c.yaml" --seed 1 \
    --pacing burst --duration "$SECONDS_RUN" --stats-json "$WORK/$c.json" 2>"$WORK/$c.err" \
    || { cat "$WORK/$c.err"; exit 1; }
  /usr/bin/python3 - "$WORK/$c.json" "$c" "$tp_mpps" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
lc = s["lcores"][0]
mpps = lc["pps"] / 1e6
tp = float(sys.argv[3])
ratio = f"{mpps / tp:.2f}" if tp > 0 else "-"
print(f"{sys.argv[2]:<20} {mpps:8.2f} {ratio:>10} {lc['bytes'] / max(lc['packets'], 1):12.0f}")
PY
done
grep -o "AES-GCM on .*" "$WORK/macsec-gcm128.err" | head -1 || true
