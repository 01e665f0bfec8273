#!/usr/bin/env bash
# Property-based API fuzzing with schemathesis against the real binary:
# every generated request (valid and invalid by openapi.yaml) must get a
# documented answer, never a 5xx. Signed in as an account admin.
# Usage: scripts/fuzz-schemathesis.sh   (after `cargo build`)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TWOFOLD_BIN:-target/debug/twofold}
[ -x "$bin" ] || { echo "build first: cargo build" >&2; exit 1; }
python3 -m pip install --quiet --disable-pip-version-check "schemathesis==4.32.5"

dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
for v in $(env | grep -o '^TWOFOLD_[A-Z_]*' || true); do unset "$v"; done
export TWOFOLD_DATABASE_URL="sqlite://$dir/twofold.db" TWOFOLD_DATA_DIR="$dir" \
  TWOFOLD_BIND="127.0.0.1:$port" TWOFOLD_PUBLIC_URL="http://127.0.0.1:$port" \
  TWOFOLD_OPERATOR_KEY="fuzz-operator-key-fuzz-operator-key" TWOFOLD_LOG_FORMAT=json
"$bin" serve > "$dir/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done

"$bin" accounts create --name "Fuzz MSP" --admin-email fuzz@example.test --licenses 100000 --json > "$dir/admin.json"
password=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["password"])' "$dir/admin.json")
post() { curl -s "http://127.0.0.1:$port$1" -H 'Content-Type: application/json' -d "$2"; }
flow=$(post /v1/auth/login '{"email":"fuzz@example.test"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["flow_token"])')
access=$(post /v1/auth/login/password "{\"flow_token\":\"$flow\",\"password\":\"$password\"}" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

status=0
st run openapi.yaml --url "http://127.0.0.1:$port" -H "Authorization: Bearer $access" \
  --max-examples 30 --checks all --workers 1 --seed 20261128 || status=$?
errors=$(grep -c '"status":5[0-9][0-9]' "$dir/serve.log" || true)
echo "server answered $errors request(s) with a 5xx"
[ "$errors" -eq 0 ] || { grep '"status":5[0-9][0-9]' "$dir/serve.log" | head -20; status=1; }
exit "$status"
