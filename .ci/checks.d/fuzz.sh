#!/usr/bin/env bash
# Builds every fuzz target (stable toolchain, no sanitizer), replays its
# committed seed corpus, then fuzzes each for a short time; a crash or a
# property failure fails CI.
#
# - Seed replay: a target whose corpus/<target> is empty fails (a target
#   nobody seeded). store_restore must accept at least one seed (its seeds
#   are written by fuzz/seeds/store_restore.sh from the current backup
#   format; seeds of an old format never reach the round-trip branch).
# - Short runs: the time budget MFA_FUZZ_BUDGET (default 240 s, so the
#   whole step stays under 5 minutes with build and replay) is shared
#   equally by the targets, at most 30 s and at least 5 s each. New inputs go
#   to a scratch directory, never into the committed corpus; a crashing input
#   is kept in fuzz/artifacts/<target>/ and printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --version 0.13.2 --locked
cd fuzz
targets=$(cargo fuzz list)
count=$(wc -w <<<"$targets")
budget=${MFA_FUZZ_BUDGET:-240}
per=$((budget / count))
[ "$per" -gt 30 ] && per=30
[ "$per" -lt 5 ] && per=5
cargo fuzz build -s none
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

for t in $targets; do
  seeds=$(find "corpus/$t" -type f 2>/dev/null | wc -l)
  if [ "$seeds" -eq 0 ]; then
    echo "fuzz: FAIL: corpus/$t is empty or missing; commit seeds for $t"
    exit 1
  fi
  echo "fuzz: replaying $seeds seeds of $t"
  log=$scratch/$t.replay.log
  MFA_FUZZ_REPORT_ACCEPTED=1 cargo fuzz run -s none "$t" "corpus/$t" -- -runs=0 >"$log" 2>&1 \
    || { tail -40 "$log"; exit 1; }
  if [ "$t" = store_restore ]; then
    accepted=$(grep -c '^store_restore: accepted$' "$log" || true)
    if [ "$accepted" -eq 0 ]; then
      echo "fuzz: FAIL: no store_restore seed is accepted by the current backup format;"
      echo "  regenerate them with fuzz/seeds/store_restore.sh and commit corpus/store_restore"
      exit 1
    fi
    echo "fuzz: store_restore accepted $accepted of $seeds seeds (the round-trip branch ran)"
  fi
done

echo "fuzz: running each of the $count targets for ${per}s"
for t in $targets; do
  mkdir -p "$scratch/$t"
  log=$scratch/$t.run.log
  if cargo fuzz run -s none "$t" "$scratch/$t" "corpus/$t" -- -max_total_time="$per" -timeout=10 \
      -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -aoE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
    echo "fuzz: $t: ${per}s, $runs runs, no failure"
  else
    tail -60 "$log"
    echo "fuzz: FAIL: $t (crashing input kept in fuzz/artifacts/$t/)"
    exit 1
  fi
done
