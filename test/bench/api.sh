#!/usr/bin/env bash
# API latency under load: wrk (10 connections) against /api/v1/stats/current and
# /api/v1/flows?limit=100 while netscope replays from memory at full rate, and the data
# plane's Mpps with and without that load.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-10}
# Extra netscope options, e.g. NS_ARGS="--config sensors-off.yaml".
WORK=$(mktemp -d /tmp/netscope-apibench-XXXXXX)
trap 'kill $NS 2>/dev/null || true; rm -rf "$WORK"' EXIT
[ -x build/apps/netscope/netscope ] || scripts/setup.sh
[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 1024 ] || echo 1024 > /proc/sys/vm/nr_hugepages
mkdir -p /dev/hugepages; mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages
build/apps/netscope-gen/netscope-gen -- --builtin-demo --seed 4 --count 50000 --pcap-out "$WORK/d.pcap" >/dev/null 2>&1

run_ns() {  # $1: report file
  build/apps/netscope/netscope -l 0-1 --no-pci --file-prefix nsapib --log-level lib.eal:error \
    --vdev="net_pcap0,rx_pcap=$WORK/d.pcap,infinite_rx=1" -- --duration "$SECS" --no-progress --no-report \
    --mbufs 131071 --api-listen 127.0.0.1:18099 --report-json "$1" ${NS_ARGS:-} >/dev/null 2>&1 &
  NS=$!
  sleep 2
}
mpps() { /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(round(r['totals']['packets']/r['run']['wall_seconds']/1e6, 2))" "$1"; }

run_ns "$WORK/idle.json"; wait $NS
echo "data plane, no API load: $(mpps "$WORK/idle.json") Mpps"

run_ns "$WORK/load.json"
for path in "/api/v1/stats/current" "/api/v1/flows?limit=100"; do
  echo "== wrk -c10 -t2 -d$((SECS - 4))s $path"
  # wrk shares the control lcore's CPU (0), as a client on another host would not steal the
  # worker CPU; the hub's threads inherit the main lcore's affinity (CPU 0).
  taskset -c 0 wrk -c10 -t2 -d$((SECS - 4))s --latency "http://127.0.0.1:18099$path" | grep -E "Requests/sec|50%|99%"
done
wait $NS
echo "data plane, under API load: $(mpps "$WORK/load.json") Mpps"
