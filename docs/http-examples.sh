#!/usr/bin/env bash
# The examples of docs/http.md, run for real: a demo store, `mfa serve` on
# loopback, curl. Exits non-zero when an answer is not the one documented.
# Usage: docs/http-examples.sh [path/to/mfa]   (run by crates/mfa-cli/tests/serve.rs)
set -euo pipefail
mfa=${1:-mfa}
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
"$mfa" demo --dir "$dir" >/dev/null        # DEMO-0001 (TOTP) assigned to helga@contoso.com
secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ   # the demo token's secret (RFC 6238's)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=example-api-token-0123456789abcdef
cat > "$dir/http.toml" <<TOML
listen = "127.0.0.1:$port"
db = "sqlite:$dir/mfa.db"
key_file = "$dir/mfa.key"
api_token_sha256 = ["$(printf %s "$token" | sha256sum | cut -d' ' -f1)"]
TOML
"$mfa" serve --config "$dir/http.toml" 2>"$dir/log" & pid=$!
for _ in $(seq 100); do curl -s "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
url=http://127.0.0.1:$port
show() { echo "\$ $*" | sed "s/$port/8443/g"; "$@" | tee "$dir/out"; echo; }
expect() { grep -q -- "$1" "$dir/out" || { echo "expected $1" >&2; exit 1; }; }
# The demo consumed the current step; wait for the next one.
sleep $(( 31 - $(date +%s) % 30 ))
code=$("$mfa" otp code --totp --secret "$secret")

show curl -s "$url/validate/check" -d user=helga@contoso.com -d realm=corp -d pass="$code"
expect '"authentication":"ACCEPT"'
show curl -s "$url/validate/check" -H 'Content-Type: application/json' \
  -d "{\"user\": \"helga@contoso.com\", \"pass\": \"$code\"}"
expect 'previous otp used again'
show curl -s "$url/validate/check" -d user=nobody -d pass=123456
expect 'ERR904: User <nobody> does not exist.'
show curl -s "$url/validate/check" -d user=helga@contoso.com
expect "Missing parameter: 'pass'"
show curl -s "$url/validate/check" -d user=helga@contoso.com -d pass=
expect '"authentication":"CHALLENGE"'
tx=$(sed 's/.*"transaction_id":"\([0-9]*\)".*/\1/' "$dir/out")
sleep $(( 31 - $(date +%s) % 30 ))
code=$("$mfa" otp code --totp --secret "$secret")
show curl -s "$url/validate/check" -d user=helga@contoso.com -d transaction_id="$tx" -d pass="$code"
expect '"message":"Found matching challenge"'
expect '"authentication":"ACCEPT"'
show curl -s -o /dev/null -w '%{http_code}\n' "$url/validate/radiuscheck" -d user=helga@contoso.com -d pass="$code"
expect '^400$'
show curl -s "$url/validate/triggerchallenge" -H "Authorization: Bearer $token" -d user=helga@contoso.com
expect '"value":1'
show curl -s "$url/healthz"
expect '"ok"'
show curl -s "$url/metrics"
expect 'mfa_http_requests_total{endpoint="check",outcome="accept"} 2'
kill -TERM "$pid"; wait "$pid"
echo "--- log (stderr of mfa serve)"
sed "s/$port/8443/g" "$dir/log"
if grep -q -- "$code" "$dir/log"; then echo "a code was logged" >&2; exit 1; fi
