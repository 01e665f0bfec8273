#!/usr/bin/env bash
# Database outages, proven from outside: twofold on its own private
# PostgreSQL cluster, under mixed load (password logins, TOTP code steps,
# admin writes, reads), while that cluster is stopped (immediate) for 8 s and
# started again.
#
#   cargo build && sudo bash scripts/outage-check.sh [postgres|sqlite]
#
# postgres (the default) is described here; `sqlite` runs
# scripts/outage/sqlite-full.sh instead: the SQLite file on a small tmpfs
# filled up while the service runs (503 on writes, reads go on, recovery
# without restart, integrity_check ok). A read-only SQLite is covered by
# tests/db_outage.rs: as root neither chmod (root ignores it) nor a read-only
# remount (refused while the file is open for writing) makes one.
#
# Checks: during the outage every answer is 503 `service_unavailable` with
# `Retry-After`, never a 500, none slower than the pool timeout (3 s) + 1.5 s;
# /readyz is 503 throughout; the service serves again without a restart
# (first 2xx within 5 s of the database being back); every write it
# acknowledged (201 users, `authenticated` sessions) is there afterwards;
# `serve` exits 0 on SIGTERM afterwards. Prints the status counts during the
# outage, the slowest answer and the time to recover.
#
# Needs root (initdb and pg_ctl run as `postgres`) and PostgreSQL 15's
# binaries (PG_BIN, default /usr/lib/postgresql/15/bin). The private cluster
# listens on a free port of 127.0.0.1 and a socket in its own temporary
# directory; the machine's cluster on 5432 is never touched. Everything it
# started is stopped and removed at exit, on failure too. Takes about 40 s.
# TWOFOLD_BIN as in scripts/e2e-checkers.sh. Prints `ok - ...` / `not ok -
# ...` lines and `N passed, M failed`; exits non-zero when a check fails.
set -euo pipefail
set -o errtrace
start_dir=$PWD
cd "$(dirname "$0")/.."

case ${1:-postgres} in
  postgres) ;;
  sqlite) start_dir=$start_dir exec bash scripts/outage/sqlite-full.sh ;;
  *)
    echo "usage: outage-check.sh [postgres|sqlite]" >&2
    exit 2
    ;;
esac

. scripts/lib/e2e.sh

pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
pg_dir=
pg_port=
pg_ctl() { runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" "$@"; }
pg_psql() {
  runuser -u postgres -- "$pg_bin/psql" -X -q -h "$pg_dir" -p "$pg_port" -U postgres \
    -v ON_ERROR_STOP=1 "$@"
}

cleanup() {
  local rc=$?
  trap - EXIT ERR
  set +e
  stop "$server_pid"
  if [ -z "$server_pid" ] && [ -n "$serve_pid" ] && [ "$rc" -ne 0 ]; then
    wait "$serve_pid" 2>/dev/null
    note "twofold serve exited with status $?"
  fi
  if [ -n "$pg_dir" ] && [ -d "$pg_dir" ]; then
    if [ -f "$pg_dir/data/postmaster.pid" ]; then
      pg_ctl stop -m immediate >/dev/null 2>&1
    fi
    if [ "$failed" -gt 0 ] || [ "$rc" -ne 0 ]; then
      note "last lines of the private PostgreSQL's log:"
      tail -n 8 "$pg_dir/pg.log" 2>/dev/null | sed 's/^/#   /'
    fi
    rm -rf "$pg_dir"
  fi
  if { [ "$failed" -gt 0 ] || [ "$rc" -ne 0 ]; } && [ -n "$log" ] && grep -q '"request failed"' "$log"; then
    note "causes of the 500s in the server log:"
    grep '"request failed"' "$log" | jq -r '.error // .fields.error' 2>/dev/null |
      cut -c1-200 | sort | uniq -c | sed 's/^/#   /' | head -n 10
  fi
  e2e_finish "$rc"
}
e2e_traps

if [ "$(id -u)" -ne 0 ]; then
  die "run as root: the private cluster is made and run as the postgres user"
fi
[ -x "$pg_bin/initdb" ] || die "no initdb in $pg_bin (set PG_BIN)"
id postgres >/dev/null 2>&1 || die "no postgres user"
require jq curl python3

# --- a private PostgreSQL cluster -----------------------------------------

pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/twofold-outage-pg.XXXXXX")
chown postgres: "$pg_dir"
chmod 700 "$pg_dir"
pg_port=$(free_port)
printf 'twofold\n' >"$pg_dir/pw"
chown postgres: "$pg_dir/pw"
quietly runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -U postgres \
  --auth-local=trust --auth-host=scram-sha-256 --pwfile="$pg_dir/pw" --no-sync
rm -f "$pg_dir/pw"
pg_opts="-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off"
pg_start() { pg_ctl -w -t 30 -l "$pg_dir/pg.log" -o "$pg_opts" start; }
quietly pg_start
pg_psql -c "CREATE ROLE twofold LOGIN PASSWORD 'twofold'" \
  -c "CREATE DATABASE twofold OWNER twofold" >/dev/null
ok "private PostgreSQL cluster on 127.0.0.1:$pg_port ($pg_dir)"

# --- the server -------------------------------------------------------------

TWOFOLD_E2E_DATABASE_URL="postgres://twofold:twofold@127.0.0.1:$pg_port/twofold"
export TWOFOLD_E2E_DATABASE_URL
e2e_prepare outage
serve_pid=
e2e_serve() {
  (cd "$work" && exec "$bin" serve) >"$log" 2>&1 &
  server_pid=$!
  serve_pid=$server_pid
  wait_for "$base/healthz" "twofold serve" server_pid
}
e2e_serve
ok "twofold serve answers GET /healthz on $base"
email="outage-admin-$$@example.test"
if ! cli accounts create --name "Outage $$" --admin-email "$email" --licenses 10000 --json \
  >"$work/account.json" 2>"$work/cli.err"; then
  sed 's/^/#   /' "$work/cli.err"
  die "twofold accounts create"
fi
password=$(jq -r .password "$work/account.json")

# --- load across the outage ---------------------------------------------------

# pg_ctl's own wait: `stop -m immediate` returns once the postmaster is gone.
run_checks driver 120 env \
  OUTAGE_BASE="$base" OUTAGE_EMAIL="$email" OUTAGE_PASSWORD="$password" \
  OUTAGE_STOP="runuser -u postgres -- $pg_bin/pg_ctl -D $pg_dir/data -m immediate -w stop" \
  OUTAGE_START="runuser -u postgres -- $pg_bin/pg_ctl -D $pg_dir/data -w -t 30 -l $pg_dir/pg.log -o '$pg_opts' start" \
  OUTAGE_HOLD="runuser -u postgres -- $pg_bin/psql -X -q -h $pg_dir -p $pg_port -U postgres -d twofold -c 'BEGIN' -c 'LOCK TABLE users IN ACCESS EXCLUSIVE MODE' -c 'SELECT pg_sleep(30)'" \
  OUTAGE_SECONDS="${OUTAGE_SECONDS:-8}" OUTAGE_CREATED="$work/created.txt" \
  python3 scripts/outage/driver.py

# The same acknowledged users, counted in the database itself.
if [ -s "$work/created.txt" ]; then
  expected=$(wc -l <"$work/created.txt")
  ids=$(awk '{printf "%s'\''%s'\''", (NR > 1 ? "," : ""), $1}' "$work/created.txt")
  found=$(pg_psql -d twofold -tA -c "SELECT count(*) FROM users WHERE id IN ($ids)")
  if [ "$found" = "$expected" ]; then
    ok "psql: all $expected acknowledged users are rows of the users table"
  else
    not_ok "psql: $found of the $expected acknowledged users are rows of the users table"
  fi
fi

# --- log lines and the exit ---------------------------------------------------------

pool_lines=$(grep -c '"database pool unavailable"' "$log" || true)
lost_lines=$(grep -c '"database unavailable"' "$log" || true)
if [ $((pool_lines + lost_lines)) -gt 0 ]; then
  ok "the server log says why it answered 503: $pool_lines x \"database pool unavailable\" (no connection within the pool timeout), $lost_lines x \"database unavailable\" (a query's connection broke)"
  grep '"database unavailable"' "$log" | jq -r '"cause=\(.cause // .fields.cause) error=\((.error // .fields.error) | split("\n")[0])"' 2>/dev/null |
    cut -c1-160 | sort | uniq -c | sed 's/^ */#   /' | head -5 || true
else
  not_ok "the server log has no line about the unavailable database"
fi
stop_cleanly server_pid "twofold serve, after the outage,"
serve_pid=$server_pid
