#!/usr/bin/env bash
# Prints complete logins per second (email → password → app code) against
# the hashing ceiling of the service's own argon2id pool, with the CPU the
# load generator, the server and PostgreSQL's backends used, and per-step
# latency, on SQLite and on PostgreSQL (optimised build).
#
# Usage: scripts/bench-login.sh [sqlite|postgres|both] (default both)
#   CLIENTS=16 SECONDS_=20 WARMUP=3 ROUNDS=8
#               clients, measured seconds, warm-up, rounds the measured
#               seconds are cut into (the hashing ceiling is measured
#               between every two)
#   PROFILE=1   also sample the server with `perf record -g` during the
#               measured window and print where its time goes (one window,
#               not rounds; perf costs some CPU itself: compare throughput
#               from runs without it)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/bench-db.sh
which=${1:-both}
clients=${CLIENTS:-16}
seconds=${SECONDS_:-20}
warmup=${WARMUP:-3}
rounds=${ROUNDS:-8}
perf=${PERF:-perf}

cargo bench --bench login_throughput --no-run --quiet

# Where the server's samples went: by thread, by kind of work (with CPU ms
# per login when the bench printed it) and the top symbols outside the
# password pool's threads.
summarise() {
  local data=$1 ms=$2
  local report=("$perf" report -i "$data" --no-children --sort "comm,dso,sym" --stdio -g none)
  "${report[@]}" 2>/dev/null | awk -v ms_per_login="$ms" -f scripts/lib/perf-buckets.awk
  echo "-- top symbols outside the argon2 pool threads (share of all server samples)"
  # awk reads to the end: `head` would end perf with SIGPIPE, which
  # pipefail turns into the script's exit.
  "${report[@]}" 2>/dev/null | awk '/%/ && $2 !~ /^argon2-/ && n++ < 25 { print substr($0, 1, 160) }'
}

run() {
  local label=$1
  shift
  local args=(--clients "$clients" --seconds "$seconds" --warm-up "$warmup" --rounds "$rounds" "$@")
  local data=
  if [ "${PROFILE:-0}" = 1 ]; then
    data=$(mktemp /tmp/bench-login-perf.XXXXXX)
    args+=(--perf "$data")
  fi
  echo "== $label"
  local out
  out=$(mktemp /tmp/bench-login-out.XXXXXX)
  cargo bench --bench login_throughput --quiet -- "${args[@]}" | tee "$out"
  if [ -n "$data" ]; then
    local ms
    ms=$(sed -n '/^server:/s/.* \([0-9.]*\) ms CPU per login.*/\1/p' "$out")
    summarise "$data" "${ms:-0}"
    rm -f "$data"
  fi
  rm -f "$out"
}

case $which in
  sqlite | both) run SQLite ;;
esac
case $which in
  postgres | both)
    pg_url=$(bench_pg_url)
    # One PostgreSQL benchmark at a time on this machine.
    (
      flock 9
      run PostgreSQL --database "$pg_url"
    ) 9>/tmp/pg-bench.lock
    ;;
  sqlite) ;;
  *) echo "usage: $0 [sqlite|postgres|both]" >&2 && exit 2 ;;
esac
