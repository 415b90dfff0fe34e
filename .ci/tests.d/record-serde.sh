#!/usr/bin/env bash
# What mfa-record's `serde` feature adds: its tests are crates/mfa-record/
# tests/serde.rs (`#![cfg(feature = "serde")]`), run here with the feature on
# and only those (`--test serde`), so nothing the workspace run already
# counted is counted again (cargo test --workspace builds mfa-record without
# the feature, where that file has no tests). Ends with one line
# `record-serde: N passed, N failed`; exits non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test -p mfa-record --features serde --locked --no-fail-fast --test serde 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
passed=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\1/' | awk '{s+=$1} END {print s+0}')
failed=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\2/' | awk '{s+=$1} END {print s+0}')
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "cargo test -p mfa-record --features serde --test serde failed without a failing test (build error?)"
  failed=1
fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "record-serde: no serde test ran (tests/serde.rs moved or renamed?)"
  failed=1
fi
echo "record-serde: $passed passed, $failed failed, 0 skipped"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
