#!/usr/bin/env bash
# mfa-record with its `serde` feature on (cargo test --workspace builds it
# without the feature unless another crate enables it). Ends with one line
# `N passed, N failed`; exits non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test -p mfa-record --features serde --locked --no-fail-fast 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
passed=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\1/' | awk '{s+=$1} END {print s+0}')
failed=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\2/' | awk '{s+=$1} END {print s+0}')
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "cargo test -p mfa-record --features serde failed without a failing test (build error?)"
  failed=1
fi
echo "record-serde: $passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
