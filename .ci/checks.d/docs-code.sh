#!/usr/bin/env bash
# Code blocks in docs/*.md that claim to be built are built.
#
# Convention: an HTML comment on the line right before a fenced block says
# what CI does with it:
#   <!-- ci: file PATH -->  the block is a verbatim copy of PATH (a file of
#                           the repository that a CI script builds and runs,
#                           i.e. PATH is named in .ci/); fails on any
#                           difference. `bash .ci/checks.d/docs-code.sh --fix`
#                           rewrites the copies from the files.
#   <!-- ci: build c -->    the block is a C program: compiled and linked with
#                           -Werror against include/mfa.h and libmfa_ffi.a.
#   <!-- ci: build sh -->   the block is parsed by `bash -n`.
# A block whose preceding paragraph says it is "built", "compiled" or "run"
# by CI, or "built and run", without such a marker fails the check, as does a
# marker not followed by a block.
set -euo pipefail
cd "$(dirname "$0")/../.."
fix=0
[ "${1:-}" = --fix ] && fix=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$fix" "$work" <<'PY'
import os, re, subprocess, sys, glob

fix, work = sys.argv[1] == "1", sys.argv[2]
marker = re.compile(r"^<!--\s*ci:\s*(file|build)\s+(\S+)\s*-->\s*$")
claim = re.compile(r"\b(built|compiled|run|checked)\b[^.]*\bby CI\b|\bbuilt and run\b|\bCI (builds|compiles|runs)\b", re.I)
failures, checked, pending_c = [], 0, []
ci_text = ""
for root, _, names in os.walk(".ci"):
    for n in names:
        with open(os.path.join(root, n), errors="replace") as f:
            ci_text += f.read()

for doc in sorted(glob.glob("docs/**/*.md", recursive=True)):
    lines = open(doc).read().split("\n")
    out, i, changed = [], 0, False
    while i < len(lines):
        line = lines[i]
        if not line.startswith("```"):
            out.append(line); i += 1; continue
        # A fenced block from line i to its closing fence.
        j = i + 1
        while j < len(lines) and lines[j] != "```":
            j += 1
        body = "\n".join(lines[i + 1:j]) + "\n"
        where = f"{doc}:{i + 1}"
        prev = lines[i - 1] if i > 0 else ""
        m = marker.match(prev)
        # The paragraph before the block (and its marker).
        k = i - 1 - (1 if m else 0)
        while k >= 0 and lines[k].strip() == "":
            k -= 1
        para = []
        while k >= 0 and lines[k].strip() != "":
            para.insert(0, lines[k]); k -= 1
        if m is None:
            if claim.search(" ".join(para)):
                failures.append(f"{where}: the text says this block is built by CI, but no <!-- ci: ... --> marker says how")
        else:
            kind, arg = m.groups()
            checked += 1
            if kind == "file":
                if not os.path.isfile(arg):
                    failures.append(f"{where}: {arg} does not exist")
                else:
                    want = open(arg).read()
                    if not want.endswith("\n"):
                        want += "\n"
                    if arg not in ci_text and os.path.basename(arg) not in ci_text:
                        failures.append(f"{where}: {arg} is not built by any script in .ci/")
                    if body != want:
                        if fix:
                            body = want; changed = True
                            print(f"docs-code: {where}: copied {arg}")
                        else:
                            failures.append(f"{where}: the block differs from {arg} (run bash .ci/checks.d/docs-code.sh --fix)")
            elif kind == "build" and arg == "c":
                path = os.path.join(work, f"block{checked}.c")
                open(path, "w").write(body)
                pending_c.append((where, path))
            elif kind == "build" and arg == "sh":
                r = subprocess.run(["bash", "-n"], input=body, text=True, capture_output=True)
                if r.returncode != 0:
                    failures.append(f"{where}: bash -n: {r.stderr.strip()}")
            else:
                failures.append(f"{where}: unknown marker {prev.strip()}")
        out.append(line)
        out.extend(body[:-1].split("\n") if body != "\n" else [])
        if j < len(lines):
            out.append(lines[j])
        i = j + 1
    for n, line in enumerate(lines):
        if marker.match(line) and not (n + 1 < len(lines) and lines[n + 1].startswith("```")):
            failures.append(f"{doc}:{n + 1}: marker not followed by a code block")
    if changed:
        open(doc, "w").write("\n".join(out))

if pending_c:
    subprocess.run(["cargo", "build", "-q", "-p", "mfa-ffi", "--locked"], check=True)
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    for where, path in pending_c:
        r = subprocess.run(["gcc", "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
                            "-Icrates/mfa-ffi/include", path, f"{target}/debug/libmfa_ffi.a",
                            "-lpthread", "-ldl", "-lm", "-lrt", "-o", path + ".out"],
                           text=True, capture_output=True)
        if r.returncode != 0:
            failures.append(f"{where}: gcc: {r.stderr.strip()}")

for f in failures:
    print(f"docs-code: FAIL {f}")
print(f"docs-code: {checked} marked code block(s) checked, {len(failures)} problem(s)")
sys.exit(1 if failures else 0)
PY
