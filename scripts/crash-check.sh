#!/usr/bin/env bash
# Crash check: twofold killed with `kill -9` under load keeps its promises.
#
#   cargo build && bash scripts/crash-check.sh [KILLS]
#   TWOFOLD_E2E_DATABASE_URL=postgres://USER:PW@127.0.0.1:5432/EMPTY_DB bash scripts/crash-check.sh 3
#
# Runs the real binary (target/debug/twofold, or TWOFOLD_BIN) on a fresh
# SQLite file, or on TWOFOLD_E2E_DATABASE_URL (an empty PostgreSQL
# database). A load (scripts/crash/driver.py: admin-created users enrolling,
# TOTP logins, replays and racing logins, admin bulk 2FA resets) runs while
# the server is killed KILLS times (default 5) at random moments (0.5-4 s
# apart) and restarted on the same database and port. After a final clean
# stop, scripts/crash/check.py checks in the database (sqlite3 / psql, with
# the queries of scripts/crash/invariants.sql):
#   1. no user with an active authenticator but no confirmed recovery code;
#   2. no half-activated enrollment;
#   3. every acknowledged (2xx) change present;
#   4. no TOTP step accepted twice;
#   5. an audit event for every acknowledged change;
# and on SQLite PRAGMA integrity_check and foreign_key_check. Any HTTP 500
# during the load fails the run too. The server runs with cheap argon2
# parameters and no cap on open login flows (a killed request leaves its
# flow open), which changes nothing about durability.
#
# CRASH_CHECK_KEEP=DIR keeps the load's record (ops.jsonl, kills), the
# server logs and the SQLite database in DIR, to look into a failure or to
# run scripts/crash/check.py again.
#
# Talks to 127.0.0.1 only; installs sqlite3 / postgresql-client (apt) when
# missing. Prints `ok - ...` / `not ok - ...` lines, the kills survived and
# each invariant's counts, and ends with `N passed, M failed`; exits non-zero
# on any failure. Takes about 30 s for 5 kills (at most 3 minutes).
set -euo pipefail
set -o errtrace
start_dir=$PWD
cd "$(dirname "$0")/.."

. scripts/lib/e2e.sh

kills=${1:-5}
if ! [[ "$kills" =~ ^[0-9]+$ ]] || [ "$kills" -lt 1 ] || [ "$kills" -gt 50 ]; then
  echo "usage: bash scripts/crash-check.sh [KILLS]   (1 to 50, default 5)" >&2
  exit 2
fi
driver_pid=
keep=${CRASH_CHECK_KEEP:-}
if [ -n "$keep" ] && [[ "$keep" != /* ]]; then
  keep="$start_dir/$keep"
fi

cleanup() {
  local rc=$?
  trap - EXIT ERR
  set +e
  if [ -n "$driver_pid" ] && kill -0 "$driver_pid" 2>/dev/null; then
    kill "$driver_pid" 2>/dev/null
    wait "$driver_pid" 2>/dev/null
  fi
  stop "$server_pid"
  if [ -n "$keep" ] && [ -n "$work" ] && [ -d "$work" ]; then
    mkdir -p "$keep" && cp -p "$work"/ops.jsonl "$work"/kills "$work"/server.*.log \
      "$work"/driver.* "$work"/twofold.db* "$keep"/ 2>/dev/null
    note "kept the load's record, the logs and any SQLite database in $keep"
  fi
  e2e_finish "$rc"
}
e2e_traps
t_start=$SECONDS

if [ -n "${TWOFOLD_E2E_DATABASE_URL:-}" ]; then
  require python3 jq psql:postgresql-client
else
  require python3 jq sqlite3
fi

e2e_prepare crash
# Cheap password hashing and no cap on open flows (a killed request leaves
# its flow open): the load goes faster, nothing about durability changes.
export TWOFOLD_ARGON2_MEMORY_KIB=1024 TWOFOLD_ARGON2_ITERATIONS=1
export TWOFOLD_ADDRESS_FLOW_LIMIT=100000
generation=0
log="$work/server.$generation.log"
e2e_serve
ok "twofold serve answers GET /healthz on $base"

# A paying account (since two days ago: 2FA enforced for everyone).
email="crash-admin-$(date +%s)-$RANDOM@example.com"
if ! cli accounts create --name "Crash check" --admin-email "$email" --licenses 1000 --json \
  >"$work/account.json" 2>"$work/cli.err"; then
  sed 's/^/#   /' "$work/cli.err"
  die "twofold accounts create --licenses 1000 --json"
fi
account_id=$(jq -r '.account_id // empty' "$work/account.json")
admin_id=$(jq -r '.user_id // empty' "$work/account.json")
password=$(jq -r '.password // empty' "$work/account.json")
if [ -z "$account_id" ] || [ -z "$admin_id" ] || [ -z "$password" ]; then
  die "twofold accounts create --json prints account_id, user_id and password"
fi
since=$(date -u -d '2 days ago' +%Y-%m-%dT%H:%M:%SZ)
if ! cli accounts set-paying --account "$account_id" --since "$since" --licenses 1000 --json \
  >/dev/null 2>"$work/cli.err"; then
  sed 's/^/#   /' "$work/cli.err"
  die "twofold accounts set-paying --since $since --licenses 1000"
fi
ok "account $account_id paying since $since (2FA enforced), 1000 licences"

# --- load, kills, restarts ---------------------------------------------------

ops="$work/ops.jsonl"
kills_file="$work/kills"
: >"$kills_file"
python3 scripts/crash/driver.py --base "$base" --ops "$ops" \
  --stop-file "$work/stop" --ready-file "$work/ready" \
  --admin-id "$admin_id" --admin-email "$email" --admin-password="$password" \
  --max-seconds $((60 + 35 * kills)) >"$work/driver.out" 2>"$work/driver.err" </dev/null &
driver_pid=$!

deadline=$((SECONDS + 30))
until [ -e "$work/ready" ]; do
  if ! kill -0 "$driver_pid" 2>/dev/null; then
    tail -n 20 "$work/driver.err" | sed 's/^/#   /'
    die "the load driver exited before the admin signed in"
  fi
  [ "$SECONDS" -lt "$deadline" ] || die "the admin did not sign in (with 2FA) within 30 s"
  sleep 0.2
done
ok "load running: the admin enrolled and holds an aal-2 session"

survived=0
for i in $(seq 1 "$kills"); do
  # A random moment 0.5 to 4 s into the load.
  sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.5 + 3.5 * r / 32767 }')"
  kill -9 "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  # Nothing this server received can commit after this moment.
  date +%s.%N >>"$kills_file"
  server_pid=
  generation=$((generation + 1))
  log="$work/server.$generation.log"
  t0=$(date +%s.%N)
  e2e_serve
  survived=$((survived + 1))
  ok "kill -9 #$i: restarted on the same database and port, /healthz after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
done
# Some load on the last server, then a clean stop of load and server.
sleep 3
touch "$work/stop"
deadline=$((SECONDS + 40))
while kill -0 "$driver_pid" 2>/dev/null; do
  [ "$SECONDS" -lt "$deadline" ] || die "the load driver did not stop within 40 s"
  sleep 0.2
done
driver_rc=0
wait "$driver_pid" || driver_rc=$?
driver_pid=
cat "$work/driver.out"
if [ "$driver_rc" -ne 0 ]; then
  tail -n 20 "$work/driver.err" | sed 's/^/#   /'
  die "the load driver exited with status $driver_rc"
fi
stop_cleanly server_pid "the last server"
note "kills survived: $survived of $kills"

# --- invariants, in the database ------------------------------------------------

if [[ "$TWOFOLD_DATABASE_URL" == sqlite://* ]]; then
  db_file=${TWOFOLD_DATABASE_URL#sqlite://}
  integrity=$(sqlite3 "$db_file" 'PRAGMA integrity_check' 2>&1 || true)
  fk=$(sqlite3 "$db_file" 'PRAGMA foreign_key_check' 2>&1 || true)
  if [ "$integrity" = "ok" ] && [ -z "$fk" ]; then
    ok "SQLite PRAGMA integrity_check = ok, foreign_key_check empty"
  else
    not_ok "SQLite PRAGMA integrity_check = ok, foreign_key_check empty; got: $(printf '%s %s' "$integrity" "$fk" | head -c 500)"
  fi
fi
run_checks invariants 120 python3 scripts/crash/check.py --ops "$ops" --kills "$kills_file" \
  --db-url "$TWOFOLD_DATABASE_URL" --sql scripts/crash/invariants.sql
note "took $((SECONDS - t_start)) s"
