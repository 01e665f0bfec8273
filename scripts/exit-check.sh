#!/usr/bin/env bash
# Clean exits on PostgreSQL (see api/db/tls.rs for the cause of the old
# abort at exit).
#
#   TWOFOLD_TEST_DATABASE_URL=$(sudo scripts/postgres-up.sh) scripts/exit-check.sh probe
#   TWOFOLD_TEST_DATABASE_URL=$(sudo scripts/postgres-up.sh) scripts/exit-check.sh loops [RUNS]
#
# probe: deterministic, run by CI. Under gdb, `twofold migrate` and a slice of
#   the test suite run on PostgreSQL to their exit; either fails if OpenSSL's
#   exit handler (OPENSSL_cleanup) runs, which is what freed OpenSSL's state
#   under the feet of the process's other threads.
# loops: the PostgreSQL suite RUNS times (default 30), then `twofold serve`
#   stopped by SIGTERM under load RUNS times; every run must exit 0.
#   MALLOC_CHECK_=3 makes glibc abort at the first heap inconsistency it sees.
#
# Prints `ok - …` / `not ok - …` a check and a closing `N passed, M failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
runs=${2:-30}
base=${TWOFOLD_TEST_DATABASE_URL:?set TWOFOLD_TEST_DATABASE_URL to a postgres:// URL}
passed=0
failed=0
work=$(mktemp -d)
db="twofold_exit_$$"
prefix=${base%/*}
trap 'rm -rf "$work"; runuser -u postgres -- dropdb --if-exists "$db" || true' EXIT
runuser -u postgres -- dropdb --if-exists "$db" 2>/dev/null
runuser -u postgres -- createdb -O twofold "$db"

cargo build --quiet --locked
suite=$(cargo test --quiet --locked --no-run --message-format=json 2>/dev/null |
  python3 -c 'import sys, json
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "api" and m.get("executable"):
        print(m["executable"])')

# probe NAME CMD...: runs CMD under gdb to its exit; fails if OPENSSL_cleanup runs.
probe() {
  local name=$1
  shift
  gdb -q -batch -ex "set breakpoint pending on" -ex "break OPENSSL_cleanup" \
    -ex run -ex "bt 6" -ex kill --args "$@" >"$work/gdb.log" 2>&1 || true
  if grep -q "hit Breakpoint 1" "$work/gdb.log"; then
    failed=$((failed + 1))
    echo "not ok - $name: OpenSSL's exit handler ran"
    grep -E '^#' "$work/gdb.log" | sed 's/^/#   /'
  elif grep -q "exited normally" "$work/gdb.log"; then
    passed=$((passed + 1))
    echo "ok - $name exits without OpenSSL's exit handler"
  else
    failed=$((failed + 1))
    echo "not ok - $name did not exit normally"
    grep -vE 'New Thread|exited\]$' "$work/gdb.log" | tail -8 | sed 's/^/#   /'
  fi
}

if [ "$mode" = probe ]; then
  if ! command -v gdb >/dev/null; then
    echo "exit-check: gdb is missing (scripts/install-tools.sh installs it)" >&2
    exit 1
  fi
  probe "twofold migrate on PostgreSQL" env TWOFOLD_DATABASE_URL="$prefix/$db" target/debug/twofold migrate
  probe "the token tests on PostgreSQL" env TWOFOLD_TEST_DATABASE_URL="$base" "$suite" -q tokens::
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
fi
[ "$mode" = loops ] || { echo "usage: exit-check.sh probe | loops [RUNS]" >&2; exit 2; }
# Copies: a build during the loops must not swap the binaries under them.
cp "$suite" "$work/suite"
cp target/debug/twofold "$work/twofold"
suite="$work/suite"

for i in $(seq 1 "$runs"); do
  rc=0
  MALLOC_CHECK_=3 TWOFOLD_TEST_DATABASE_URL="$base" "$suite" -q >"$work/suite.log" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    echo "ok - suite run $i: $(grep 'test result' "$work/suite.log")"
  else
    failed=$((failed + 1))
    echo "not ok - suite run $i exited $rc"
    tail -5 "$work/suite.log" | sed 's/^/#   /'
  fi
done

port=$((20000 + $$ % 20000))

load() {
  # Bounded: each client stops after 2,000 requests or when the server is gone.
  for _ in $(seq 1 2000); do
    curl -s -o /dev/null --max-time 2 -X POST -H 'content-type: application/json' \
      -d '{"email":"load@example.com"}' "http://127.0.0.1:$port/v1/auth/login" || return 0
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz" || return 0
  done
}

for i in $(seq 1 "$runs"); do
  MALLOC_CHECK_=3 TWOFOLD_DATABASE_URL="$prefix/$db" TWOFOLD_BIND="127.0.0.1:$port" \
    TWOFOLD_DATA_DIR="$work" TWOFOLD_LOG=warn "$work/twofold" serve >"$work/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
    sleep 0.1
  done
  clients=()
  for _ in 1 2 3 4 5 6 7 8; do
    load &
    clients+=($!)
  done
  sleep 2
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  for c in "${clients[@]}"; do wait "$c" || true; done
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    echo "ok - serve run $i exited 0 after SIGTERM under load"
  else
    failed=$((failed + 1))
    echo "not ok - serve run $i exited $rc after SIGTERM"
    tail -5 "$work/serve.log" | sed 's/^/#   /'
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
