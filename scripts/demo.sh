#!/usr/bin/env bash
# Sets up and builds NetScope, generates the built-in demo capture with netscope-gen
# (MACsec, XPN, ESP over IPv4/IPv6/NAT-T, AH, background traffic, every anomaly kind),
# replays it through netscope on DPDK's net_pcap PMD, and prints the report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh -Dbenchmarks=disabled
OUT=${OUT:-demo-out}
mkdir -p "$OUT"
./build/apps/netscope-gen/netscope-gen -- --builtin-demo --seed 1 --pcap-out "$OUT/demo.pcap" \
  --truth-out "$OUT/truth.json"
./build/apps/netscope/netscope --no-huge --no-pci -m 512 -l 0-1 --file-prefix netscope-demo \
  --log-level lib.eal:error --vdev="net_pcap0,rx_pcap=$OUT/demo.pcap" -- \
  --config config/demo.yaml --report-json "$OUT/report.json"
echo
echo "JSON report: $OUT/report.json   generator truth: $OUT/truth.json   capture: $OUT/demo.pcap"
