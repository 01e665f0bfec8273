#!/usr/bin/env bash
# Soak: two instances on one PostgreSQL database under a mixed load for a
# bounded time; throughput, errors, latencies and each instance's memory.
#
#   cargo build && bash scripts/soak.sh [SECONDS]        # default 300
#   TWOFOLD_E2E_DATABASE_URL=postgres://USER:PW@127.0.0.1:5432/EMPTY_DB bash scripts/soak.sh 60
#
# Without TWOFOLD_E2E_DATABASE_URL it creates its own database
# (twofold_soak_PID, owner twofold) on the local server at 127.0.0.1:5432,
# starting it with scripts/postgres-up.sh when it is down (as root, or with
# sudo), and drops it at exit. Two `twofold serve` (target/debug/twofold, or
# TWOFOLD_BIN) listen on two free loopback ports with the same database,
# the same master key (B gets A's as TWOFOLD_MASTER_KEY, with a data dir of
# its own: each verifies the other's tokens, signed with the keys in the
# database, and reads the other's TOTP secrets) and the same
# TWOFOLD_PUBLIC_URL (the tokens' audience), each with its own log.
#
# scripts/soak/driver.py enrolls an account's admin and SOAK_USERS (40)
# technicians, then for SECONDS runs SOAK_THREADS (4) threads of logins with
# codes, refreshes and admin lists spread over both instances (log in on
# one, refresh on the other), sampling each instance's VmRSS every
# SOAK_SAMPLE (10) seconds. It prints requests by kind and instance,
# throughput, errors by status and code, latency p50/p99 per kind, and each
# instance's RSS after the warm-up (30 s) and at the end with the growth
# (reported, not judged). Meanwhile `twofold keys rotate-signing` runs three
# times (at a quarter, half and three quarters of SECONDS). The servers run with cheap argon2 parameters and
# no practical cap on open login flows (all the load comes from one address).
#
# Exits non-zero on any 5xx, any unexpected error or a server that exits
# badly. Bounded: the load runs under `timeout` (SECONDS + 4 minutes for
# set-up and margin). Talks to 127.0.0.1 only. Not run in CI.
set -euo pipefail
set -o errtrace
start_dir=$PWD
cd "$(dirname "$0")/.."

. scripts/lib/e2e.sh

seconds=${1:-300}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 10 ] || [ "$seconds" -gt 86400 ]; then
  echo "usage: bash scripts/soak.sh [SECONDS]   (10 to 86400, default 300)" >&2
  exit 2
fi
users=${SOAK_USERS:-40}
threads=${SOAK_THREADS:-4}
sample=${SOAK_SAMPLE:-10}
own_db=
pg_admin_url=postgres://twofold:twofold@127.0.0.1:5432/postgres
pid_b=
log_b=

pg_as_postgres() { as_root runuser -u postgres -- "$@"; }

cleanup() {
  local rc=$?
  trap - EXIT ERR
  set +e
  local p
  for p in "$server_pid" "$pid_b"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null
      wait "$p" 2>/dev/null
    fi
  done
  if [ -n "$own_db" ]; then
    if pg_as_postgres dropdb --if-exists --force "$own_db" 2>/dev/null; then
      note "dropped database $own_db"
    else
      note "could not drop database $own_db: drop it by hand"
    fi
  fi
  if { [ "$failed" -gt 0 ] || [ "$rc" -ne 0 ]; } && [ -n "$log_b" ] && [ -s "$log_b" ]; then
    note "last lines of instance B's log:"
    tail -n 15 "$log_b" | sed 's/^/#   /'
  fi
  e2e_finish "$rc"
}
e2e_traps
t_start=$SECONDS

require python3 jq

if [ -z "${TWOFOLD_E2E_DATABASE_URL:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    note "PostgreSQL is down: starting it (scripts/postgres-up.sh)"
    quietly as_root bash scripts/postgres-up.sh
  fi
  own_db="twofold_soak_$$"
  pg_as_postgres dropdb --if-exists "$own_db" 2>/dev/null || true
  quietly pg_as_postgres createdb -O twofold "$own_db"
  export TWOFOLD_E2E_DATABASE_URL="${pg_admin_url%/*}/$own_db"
  ok "created database $own_db"
elif [[ "$TWOFOLD_E2E_DATABASE_URL" != postgres* ]]; then
  die "TWOFOLD_E2E_DATABASE_URL must name an empty PostgreSQL database"
fi

e2e_prepare soak
export TWOFOLD_ARGON2_MEMORY_KIB=1024 TWOFOLD_ARGON2_ITERATIONS=1
export TWOFOLD_ADDRESS_FLOW_LIMIT=1000000 TWOFOLD_ADDRESS_FAILURE_LIMIT=1000000

# Instance A: e2e_serve (its log is $log). It generates the master key into
# its data dir and the signing key into the database.
log="$work/server-a.log"
e2e_serve
base_a=$base
ok "instance A (pid $server_pid) answers GET /healthz on $base_a"

# Instance B: the same database and public URL on another port, with a data
# directory of its own: only A's master key is handed over, as
# TWOFOLD_MASTER_KEY (the signing keys come from the database).
port_b=$(free_port)
base_b="http://127.0.0.1:$port_b"
log_b="$work/server-b.log"
mkdir -p "$work/data-b"
(cd "$work" && TWOFOLD_BIND="127.0.0.1:$port_b" TWOFOLD_DATA_DIR="$work/data-b" \
  TWOFOLD_MASTER_KEY="$(cat "$work/data/master.key")" exec "$bin" serve) >"$log_b" 2>&1 &
pid_b=$!
wait_for "$base_b/healthz" "twofold serve (instance B)" pid_b
ok "instance B (pid $pid_b) answers GET /healthz on $base_b (same database and master key, own data dir)"

# A paying account (since two days ago: 2FA enforced for everyone) with a
# licence for each user.
email="soak-admin-$(date +%s)-$RANDOM@example.com"
licences=$((users + 10))
if ! cli accounts create --name "Soak" --admin-email "$email" --licenses "$licences" --json \
  >"$work/account.json" 2>"$work/cli.err"; then
  sed 's/^/#   /' "$work/cli.err"
  die "twofold accounts create --licenses $licences --json"
fi
account_id=$(jq -r '.account_id // empty' "$work/account.json")
password=$(jq -r '.password // empty' "$work/account.json")
if [ -z "$account_id" ] || [ -z "$password" ]; then
  die "twofold accounts create --json prints account_id and password"
fi
since=$(date -u -d '2 days ago' +%Y-%m-%dT%H:%M:%SZ)
if ! cli accounts set-paying --account "$account_id" --since "$since" --licenses "$licences" --json \
  >/dev/null 2>"$work/cli.err"; then
  sed 's/^/#   /' "$work/cli.err"
  die "twofold accounts set-paying --since $since --licenses $licences"
fi
ok "account $account_id paying since $since (2FA enforced), $licences licences"

# Signing-key rotations under the load, at a quarter, half and three
# quarters of it: every login and refresh must keep succeeding.
(
  for _ in 1 2 3; do
    sleep $((seconds / 4))
    cli keys rotate-signing --json >>"$work/rotations.log" 2>>"$work/rotations.err" || true
  done
) &
rotator=$!

note "load: $seconds s, $threads threads, $users users, RSS every $sample s"
run_checks soak $((seconds + 240)) python3 scripts/soak/driver.py \
  --bases "$base_a,$base_b" --pids "$server_pid,$pid_b" \
  --admin-email "$email" --admin-password="$password" \
  --seconds "$seconds" --users "$users" --threads "$threads" --sample "$sample"

wait "$rotator" || true
rotations=$(grep -c '"kid"' "$work/rotations.log" 2>/dev/null || true)
if [ "${rotations:-0}" -eq 3 ]; then
  ok "3 signing-key rotations under the load (twofold keys rotate-signing)"
else
  not_ok "3 signing-key rotations under the load: ${rotations:-0} succeeded"
  sed 's/^/#   /' "$work/rotations.err" 2>/dev/null || true
fi

# A clean stop of both instances.
stop_cleanly server_pid "instance A"
stop_cleanly pid_b "instance B"
for f in "$log" "$log_b"; do
  errors=$(grep -c '"level":"ERROR"' "$f" || true)
  warnings=$(grep -c '"level":"WARN"' "$f" || true)
  note "$(basename "$f"): $(wc -l <"$f") lines, $errors ERROR, $warnings WARN"
  if [ "$errors" -gt 0 ]; then
    grep -m 3 '"level":"ERROR"' "$f" | cut -c1-400 | sed 's/^/#   /'
  fi
done
note "took $((SECONDS - t_start)) s"
