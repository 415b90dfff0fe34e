#!/usr/bin/env bash
# Builds every fuzz target (stable toolchain, no sanitizer) and replays its
# committed seed corpus; a crash or a property failure fails CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --version 0.13.2 --locked
cd fuzz
targets=$(cargo fuzz list)
cargo fuzz build -s none
for t in $targets; do
  mkdir -p "corpus/$t"
  echo "fuzz: replaying $(ls "corpus/$t" | wc -l) seeds of $t"
  cargo fuzz run -s none "$t" "corpus/$t" -- -runs=0 >/tmp/fuzz-$t.log 2>&1 || { tail -40 /tmp/fuzz-$t.log; exit 1; }
done
