#!/bin/bash
# Interleaved radius_load runs of several `mfa` binaries (docs/benchmarks.md,
# the RADIUS section): ROUNDS rounds, in each one run per LABEL:ENV in turn
# (ENV: assignments for `env`, e.g. MFA_BIN=/tmp/mfa-before), each under
# the exclusive bench lock, one line per run with both servers' rate and
# CPU per request, our p99 at half rate, and the ratio.
#   benches/radius_pairs.sh WINDOW ROUNDS LABEL:ENV...
# e.g. benches/radius_pairs.sh 128 3 "before:MFA_BIN=/tmp/mfa-before" "after:MFA_BIN=/tmp/mfa-after"
set -u
cd "$(dirname "$0")/.."
w=$1; r=$2; shift 2
lock=${BENCH_LOCK:-/work/notes/bench.lock}
for i in $(seq 1 "$r"); do
  for spec in "$@"; do
    label=${spec%%:*}; rest=${spec#*:}
    # shellcheck disable=SC2086 # $rest is a list of assignments
    out=$(env $rest flock -x "$lock" target/release/examples/radius_load 2000 10 "$w" 2>&1)
    ours=$(echo "$out" | grep '^mfa radius' | sed -E 's/.*max +([0-9]+) req\/s.*CPU +([0-9.]+) µs.*p99 +([0-9.]+) ms$/\1 \2 \3/')
    fr=$(echo "$out" | grep '^FreeRADIUS' | sed -E 's/.*max +([0-9]+) req\/s.*CPU +([0-9.]+) µs.*/\1 \2/')
    read -r -a a <<< "$ours $fr"
    if [ "${#a[@]}" -ne 5 ]; then
      echo "$label round $i: no result"; echo "$out" | tail -5; continue
    fi
    ratio=$(python3 -c "print(round(${a[0]}/${a[3]},3))")
    echo "$label round $i: ours ${a[0]} req/s ${a[1]}us p99half ${a[2]}ms | FR ${a[3]} req/s ${a[4]}us | ratio $ratio"
  done
done
