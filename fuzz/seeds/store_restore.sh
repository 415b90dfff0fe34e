#!/usr/bin/env bash
# Regenerates fuzz/corpus/store_restore from the current mfa-store code: the
# one way to make these seeds. Rerun it after any change to the backup format
# and commit fuzz/corpus/store_restore; CI's seed replay
# (.ci/checks.d/fuzz.sh) fails when no seed is accepted.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release --example store_restore_seeds -- corpus/store_restore
