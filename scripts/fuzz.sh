#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) in build-fuzz/ and runs each one for a
# bounded time on a working copy of its committed corpus. New inputs stay in build-fuzz/;
# crashes are written to build-fuzz/fuzz-artifacts/<target>/ and make the script fail.
#
#   scripts/fuzz.sh                     # every target, 30 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh tcp ipv6
#
# Environment: FUZZ_SECONDS (default 30), FUZZ_BUILD_DIR (default <root>/build-fuzz),
# FUZZ_JOBS (ninja jobs, default 2).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-2}
all_targets=(frame sectag ipv4 ipv6 tcp esp_ah http dns l7_detect)
if (($# > 0)); then targets=("$@"); else targets=("${all_targets[@]}"); fi

if [[ ! -f $build/build.ninja ]]; then
  CC=clang CXX=clang++ meson setup "$build" "$root" \
    -Dfuzz=enabled -Ddata_plane=disabled -Dtests=disabled -Dbenchmarks=disabled
fi
ninja -C "$build" -j "$jobs" "${targets[@]/#/test/fuzz/fuzz_}"

failed=()
for t in "${targets[@]}"; do
  seeds=$root/test/fuzz/corpus/$t
  corpus=$build/fuzz-corpus/$t
  artifacts=$build/fuzz-artifacts/$t
  log=$build/fuzz-logs/$t.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
  echo "== fuzz_$t: ${seconds}s, corpus $corpus"
  if "$build/test/fuzz/fuzz_$t" "$corpus" -max_total_time="$seconds" -timeout=10 \
      -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' "$log" || true
    grep -E '^Done [0-9]+ runs' "$log" || true
  else
    echo "fuzz_$t FAILED: see $log; reproducer(s) in $artifacts/:"
    ls "$artifacts"
    grep -E 'ERROR|SUMMARY' "$log" | head -5 || true
    failed+=("$t")
  fi
done

if ((${#failed[@]} > 0)); then
  echo "crashed: ${failed[*]}"
  exit 1
fi
echo "all ${#targets[@]} targets ran ${seconds}s without a crash"
