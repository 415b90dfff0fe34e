#!/usr/bin/env bash
# C tests of the mfa-ffi C ABI (crates/mfa-ffi). Builds the static library,
# then, for every crates/mfa-ffi/tests/c/test_*.c:
#   1. gcc -std=c11 -Wall -Wextra -Wpedantic -Werror -fsanitize=address,undefined,
#      run (AddressSanitizer + LeakSanitizer + UBSan, any report fails);
#   2. the same without sanitizers, run under
#      valgrind --error-exitcode=1 --leak-check=full (tests/c/valgrind.supp
#      holds the one, explained, suppression of a Rust std false positive).
# test_store.c also runs its PostgreSQL case on a fresh schema when .ci/test
# provides MFA_TEST_POSTGRES_URL (else that case prints SKIPPED and counts as
# skipped, not passed; under CI=true as failed).
# The two runs are two suites, each case counted once per suite:
#   ffi-c-asan: N passed, ...   and   ffi-c-valgrind: N passed, ...
# A third suite, ffi-c-abi: every function declared in include/mfa.h is
# called by some C test; libmfa_ffi.so exports every one and a test runs
# against it; the header compiles and runs as C++17 (g++ -Werror);
# examples/verify.c (quoted whole by docs/c-abi.md, which
# .ci/checks.d/docs-code.sh keeps identical) builds with -Werror and runs.
# Ends with the total `N passed, N failed, N skipped`; exits non-zero on any
# failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
crate=$root/crates/mfa-ffi
target=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d)
# The RFC 6030 examples and other fixtures (CI clones shared/ beside the repo).
export MFA_TEST_CORPUS=${MFA_TEST_CORPUS:-$root/../shared/corpus}

# Per suite (asan, valgrind, abi) and in total.
declare -A sp=([asan]=0 [valgrind]=0 [abi]=0) sf=([asan]=0 [valgrind]=0 [abi]=0) ss=([asan]=0 [valgrind]=0 [abi]=0)
suite=abi
pass() { sp[$suite]=$((sp[$suite] + 1)); echo "ok - $*"; }
fail() { sf[$suite]=$((sf[$suite] + 1)); echo "not ok - $*"; }
finish() {
  local passed=0 failed=0 skipped=0 s
  for s in asan valgrind abi; do
    echo "ffi-c-$s: ${sp[$s]} passed, ${sf[$s]} failed, ${ss[$s]} skipped"
    passed=$((passed + sp[$s])); failed=$((failed + sf[$s])); skipped=$((skipped + ss[$s]))
  done
  echo "$passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ] && exit 0
  exit 1
}

# Adds the "# file: N passed, N failed" summary of a test binary's output to
# the current suite; a binary that crashed or exited non-zero without
# reporting a failed case counts as one more failure. A case that printed
# `SKIPPED: <case>: <why>` passed without testing anything: it moves from
# passed to skipped (to failed under CI=true).
tally() { # tally <label> <exit status> <output file>
  local label=$1 rc=$2 out=$3 line p f s
  line=$(grep -aE '^# .*: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
  if [ -z "$line" ]; then
    fail "$label: no summary line (crashed? exit status $rc)"
    tail -40 "$out"
    return
  fi
  p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/')
  f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/')
  s=$(grep -aoE '^SKIPPED: [A-Za-z0-9_]+:' "$out" | sort -u | grep -c . || true)
  p=$((p - s))
  if [ "${CI:-}" = true ] && [ "$s" -gt 0 ]; then
    echo "CI=true: $label skipped $s case(s); counted as failures:"
    f=$((f + s)); s=0
  fi
  sp[$suite]=$((sp[$suite] + p))
  sf[$suite]=$((sf[$suite] + f))
  ss[$suite]=$((ss[$suite] + s))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    fail "$label: exit status $rc with every case passing (sanitizer or valgrind report)"
    tail -60 "$out"
  elif [ "$f" -ne 0 ]; then
    grep -aE '^(not ok| +FAIL)' "$out"
  fi
  grep -a "^SKIPPED" "$out" | sed "s/^SKIPPED: /SKIPPED: ffi-c-$suite::$(basename "$out" | cut -d. -f1)::/" || true
  echo "$label: $p cases passed, $f failed, $s skipped"
}

for tool in gcc g++ valgrind; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    fail "required tool $tool is missing (.ci/setup installs it)"
  fi
done
[ "${sf[abi]}" -eq 0 ] || finish

echo "== cargo build -p mfa-ffi (staticlib, debug: overflow checks on)"
if ! cargo build -p mfa-ffi --locked 2>&1 | tail -3; then
  fail "cargo build -p mfa-ffi"
  finish
fi
lib=$target/debug/libmfa_ffi.a
if [ ! -f "$lib" ]; then
  fail "static library $lib not found"
  finish
fi
libs="-lpthread -ldl -lm -lrt"
cflags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g -I"$crate/include" -I"$crate/tests/c")

# PostgreSQL (test_store.c's postgres_backend): a fresh schema per run when
# .ci/test provides MFA_TEST_POSTGRES_URL and psql is there; otherwise that
# case prints SKIPPED.
pg_schemas=""
pg_url=""
pg_url_for() { # pg_url_for <run label>: sets pg_url to a store URL on a fresh schema
  pg_url=""
  [ -n "${MFA_TEST_POSTGRES_URL:-}" ] && command -v psql >/dev/null 2>&1 || return 0
  local schema="ffi_c_$$_$1" sep
  if psql "$MFA_TEST_POSTGRES_URL" -qAtc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null 2>&1; then
    pg_schemas="$pg_schemas $schema"
    case "$MFA_TEST_POSTGRES_URL" in *\?*) sep='&' ;; *) sep='?' ;; esac
    pg_url="${MFA_TEST_POSTGRES_URL}${sep}options=-csearch_path%3D${schema}"
  else
    echo "ffi-c: WARNING: cannot create schema $schema on MFA_TEST_POSTGRES_URL" >&2
  fi
}
cleanup() {
  for schema in $pg_schemas; do
    psql "$MFA_TEST_POSTGRES_URL" -qAtc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

for src in "$crate"/tests/c/test_*.c; do
  name=$(basename "$src" .c)

  suite=asan
  echo "== $name (ASan + UBSan)"
  if gcc "${cflags[@]}" -fsanitize=address,undefined -fno-sanitize-recover=all \
      -fno-omit-frame-pointer "$src" "$lib" $libs -o "$work/$name.asan" 2>"$work/$name.asan.cc"; then
    pg_url=""
    case $name in test_store*) pg_url_for "${name}_asan" ;; esac
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
      MFA_TEST_STORE_PG_URL="$pg_url" MFA_TEST_TMPDIR="$work" "$work/$name.asan" >"$work/$name.asan.out" 2>&1
    rc=$?
    tally "$name (asan)" "$rc" "$work/$name.asan.out"
  else
    cat "$work/$name.asan.cc"
    fail "$name: compile with sanitizers"
  fi

  suite=valgrind
  echo "== $name (valgrind)"
  if gcc "${cflags[@]}" "$src" "$lib" $libs -o "$work/$name.plain" 2>"$work/$name.plain.cc"; then
    pg_url=""
    case $name in test_store*) pg_url_for "${name}_vg" ;; esac
    MFA_TEST_STORE_PG_URL="$pg_url" MFA_TEST_TMPDIR="$work" \
      valgrind -q --error-exitcode=1 --leak-check=full --suppressions="$crate/tests/c/valgrind.supp" \
      "$work/$name.plain" >"$work/$name.vg.out" 2>&1
    rc=$?
    tally "$name (valgrind)" "$rc" "$work/$name.vg.out"
  else
    cat "$work/$name.plain.cc"
    fail "$name: compile without sanitizers"
  fi
done

suite=abi
echo "== every exported function is called by a C test"
missing=""
for fn in $(grep -oE '^[a-z_ *]*\bmfa_[a-z0-9_]+\(' "$crate/include/mfa.h" | grep -oE 'mfa_[a-z0-9_]+\($' | tr -d '(' | sort -u); do
  if ! grep -qE "\\b$fn\\(" "$crate"/tests/c/test_*.c; then
    missing="$missing $fn"
  fi
done
if [ -z "$missing" ]; then
  pass "coverage: every function in include/mfa.h is called by tests/c/test_*.c"
else
  fail "coverage: not called by any C test:$missing"
fi

echo "== the shared library (cdylib)"
so=$target/debug/libmfa_ffi.so
if [ -f "$so" ]; then
  exported=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -E '^mfa_' | sort -u)
  unexported=""
  for fn in $(grep -oE '^[a-z_ *]*\bmfa_[a-z0-9_]+\(' "$crate/include/mfa.h" | grep -oE 'mfa_[a-z0-9_]+\($' | tr -d '(' | sort -u); do
    grep -qx "$fn" <<<"$exported" || unexported="$unexported $fn"
  done
  if [ -z "$unexported" ]; then
    pass "libmfa_ffi.so exports every function of the header"
  else
    fail "libmfa_ffi.so does not export:$unexported"
  fi
  if gcc "${cflags[@]}" "$crate/tests/c/test_common.c" -L"$(dirname "$so")" -lmfa_ffi -o "$work/test_common.so" \
      && LD_LIBRARY_PATH="$(dirname "$so")" "$work/test_common.so" >"$work/test_common.so.out" 2>&1; then
    pass "test_common.c linked against libmfa_ffi.so runs"
  else
    cat "$work/test_common.so.out" 2>/dev/null
    fail "test_common.c against libmfa_ffi.so"
  fi
else
  fail "shared library $so not found"
fi

echo "== the header as C++17"
if g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror -I"$crate/include" "$crate/tests/c/header.cpp" \
    "$lib" $libs -o "$work/header_cpp" && "$work/header_cpp"; then
  pass "header compiles, links and runs as C++17 (g++ -Werror)"
else
  fail "header as C++17"
fi

echo "== examples/verify.c"
if gcc "${cflags[@]}" "$crate/examples/verify.c" "$lib" $libs -o "$work/verify" \
    && (cd "$work" && ./verify); then
  pass "examples/verify.c (docs/c-abi.md's complete example) builds with -Werror and runs"
else
  fail "examples/verify.c"
fi

finish
