#!/bin/bash
# Profiles `mfa radius serve` under radius_load (docs/benchmarks.md, the
# RADIUS section): starts the generator, attaches `perf record` to the server
# it spawned for 4 s, then prints the CPU shares by part of a request
# (benches/perf_categories.py), times CPU_US if given (the µs of server CPU
# per request measured by an unprofiled run: perf itself slows the server).
#   benches/radius_profile.sh OUT [CODES_PER_USER] [CPU_US]
# With the default 40 codes per user (53,333 requests at the maximum rate)
# the 4 s fall in the closed-loop phase at ≲ 13,000 req/s; with fewer codes
# they reach into the half-rate phase, whose idle workers wake more often.
set -eu
cd "$(dirname "$0")/.."
out=$1; codes=${2:-40}; cpu=${3:-}; window=${RADIUS_PROFILE_WINDOW:-32}
target/release/examples/radius_load 2000 "$codes" "$window" > "$out.load.txt" 2>&1 &
gen=$!
pid=""
for _ in $(seq 1 600); do
  pid=$(cat /proc/$gen/task/*/children 2>/dev/null | tr ' ' '\n' | grep -v '^$' | head -1 || true)
  if [ -n "$pid" ] && grep -q radius /proc/"$pid"/cmdline 2>/dev/null; then break; fi
  pid=""
  sleep 0.05
done
[ -n "$pid" ] || { echo "the server did not start" >&2; exit 1; }
sleep 0.5 # past the start-up
perf record -F 2000 --call-graph dwarf,16384 -o "$out.data" -p "$pid" -- sleep 4 2> "$out.perf.err"
wait $gen
cat "$out.load.txt"
perf script -i "$out.data" -F comm,tid,period,ip,sym 2>/dev/null | python3 benches/perf_categories.py $cpu
