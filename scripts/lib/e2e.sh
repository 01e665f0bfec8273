# shellcheck shell=bash
# Shared by the end-to-end scripts: TAP-like output (`ok - …`,
# `not ok - …`, `# note`), a closing `N passed, M failed` line, error traps,
# quiet installs, the server under test, HTTP helpers and clean-up. Source
# it after `set -euo pipefail`, with $start_dir set to where the script was
# started and the repository root as working directory.
# A script defines `cleanup` (its own clean-up, ending with
# `e2e_finish "$rc"`) and then calls `e2e_traps`.

passed=0
failed=0
work=
log=
install_log=
# The status of the last answer, set by `http`.
status=

ok() {
  passed=$((passed + 1))
  printf 'ok - %s\n' "$*"
}
not_ok() {
  failed=$((failed + 1))
  printf 'not ok - %s\n' "$*"
}
note() { printf '# %s\n' "$*"; }
# A failure the journey cannot go on after: counted, then exit (the EXIT
# trap prints the summary).
die() {
  not_ok "$*"
  exit 1
}

on_err() {
  local rc=$1 line=$2 cmd=$3
  # Only the main shell reports; command substitutions fail in their caller too.
  if [ "$BASH_SUBSHELL" -eq 0 ]; then
    not_ok "unexpected error (exit $rc) at line $line: $cmd"
  fi
}

stop() {
  local pid=$1
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  else
    sudo "$@"
  fi
}

# quietly CMD...: runs CMD with its output kept back unless it fails.
quietly() {
  if [ -z "$install_log" ]; then
    install_log=$(mktemp "${TMPDIR:-/tmp}/twofold-e2e-install.XXXXXX")
  fi
  if ! "$@" >"$install_log" 2>&1; then
    sed 's/^/#   /' "$install_log"
    die "$*"
  fi
}

# apt_install PACKAGE...: installs the packages given (none: nothing to do).
apt_install() {
  [ "$#" -gt 0 ] || return 0
  note "installing $* (apt)"
  local t0=$SECONDS
  quietly as_root apt-get update -qq
  quietly as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@"
  note "apt install took $((SECONDS - t0)) s"
}

# require COMMAND[:PACKAGES]...: installs (apt) the packages of each missing
# command (PACKAGES defaults to the command's name; several are
# space-separated, e.g. "npm:nodejs npm").
require() {
  local spec missing=()
  for spec in "$@"; do
    if ! command -v "${spec%%:*}" >/dev/null; then
      # shellcheck disable=SC2206 # several packages are split on purpose
      missing+=(${spec#*:})
    fi
  done
  apt_install "${missing[@]}"
}

# Only the script's own configuration may reach the server.
clear_twofold_env() {
  local var
  while IFS= read -r var; do
    unset "$var"
  done < <(compgen -e | grep '^TWOFOLD_' || true)
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# The common end of `cleanup`: the server log's tail on failure, temporary
# files removed, the summary line, the exit status.
e2e_finish() {
  local rc=$1
  if { [ "$failed" -gt 0 ] || [ "$rc" -ne 0 ]; } && [ -n "$log" ] && [ -s "$log" ]; then
    note "last lines of the server log:"
    tail -n 15 "$log" | sed 's/^/#   /'
  fi
  if [ -n "$work" ]; then
    rm -rf "$work"
  fi
  if [ -n "$install_log" ]; then
    rm -f "$install_log"
  fi
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1
  fi
  printf '%d passed, %d failed\n' "$passed" "$failed"
  if [ "$failed" -gt 0 ] && [ "$rc" -eq 0 ]; then
    rc=1
  fi
  exit "$rc"
}


# --- the binary and its server ---------------------------------------------
# Set by `e2e_prepare`: the binary, the working directory, the server log,
# the API's port and base URL; by `e2e_serve`: the server's pid.
bin=
port=
base=
server_pid=

# e2e_prepare NAME: resolves the binary ($bin from TWOFOLD_BIN, relative to
# $start_dir, else the repository's target/debug/twofold: never built here),
# keeps only this script's TWOFOLD_* configuration, and exports what every
# end-to-end server gets (a fresh port, data directory and SQLite file, or
# TWOFOLD_E2E_DATABASE_URL; JSON logs at TWOFOLD_LOG, default info). A script
# may export more before `e2e_serve`.
e2e_prepare() {
  local name=$1 db_url=${TWOFOLD_E2E_DATABASE_URL:-} log_filter=${TWOFOLD_LOG:-info}
  bin=${TWOFOLD_BIN:-$PWD/target/debug/twofold}
  if [[ "$bin" != /* ]]; then
    bin="$start_dir/$bin"
  fi
  if [ ! -x "$bin" ]; then
    die "no twofold binary at $bin: build it first with \`cargo build\` in $PWD (or set TWOFOLD_BIN)"
  fi
  clear_twofold_env
  work=$(mktemp -d "${TMPDIR:-/tmp}/twofold-$name.XXXXXX")
  log="$work/server.log"
  port=$(free_port)
  base="http://127.0.0.1:$port"
  mkdir -p "$work/data"
  export TWOFOLD_BIND="127.0.0.1:$port"
  export TWOFOLD_PUBLIC_URL="$base"
  export TWOFOLD_DATA_DIR="$work/data"
  export TWOFOLD_DATABASE_URL="${db_url:-sqlite://$work/twofold.db}"
  export TWOFOLD_LOG_FORMAT=json
  export TWOFOLD_LOG="$log_filter"
  note "binary $bin"
  note "database $(printf '%s' "$TWOFOLD_DATABASE_URL" | sed -E 's#(//[^:/@]*):[^@]*@#\1:***@#')"
}

# wait_for URL WHAT PID_VAR: until URL answers 200 (30 s at most), unless
# the process whose pid is in PID_VAR exits first.
wait_for() {
  local url=$1 what=$2 pid_var=$3
  local deadline=$((SECONDS + 30))
  until curl -fsS --noproxy '*' --max-time 2 -o /dev/null "$url" 2>/dev/null; do
    if ! kill -0 "${!pid_var}" 2>/dev/null; then
      printf -v "$pid_var" '%s' ''
      die "$what exited during start-up"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "$url did not answer 200 within 30 s"
    fi
    sleep 0.25
  done
}

# e2e_serve: starts `twofold serve` in $work with the exported configuration
# and waits until it answers GET /healthz.
e2e_serve() {
  (cd "$work" && exec "$bin" serve) >"$log" 2>&1 &
  server_pid=$!
  wait_for "$base/healthz" "twofold serve" server_pid
}

# cli ARG...: the binary in $work, on the server's configuration (60 s at most).
cli() { (cd "$work" && timeout 60 "$bin" "$@"); }

# e2e_paying_account NAME: a new account (name NAME) whose admin is $email,
# paying since two days ago so 2FA is due at once; sets $account_id and
# $password (each a check).
e2e_paying_account() {
  if ! cli accounts create --name "$1" --admin-email "$email" --json \
    >"$work/account.json" 2>"$work/cli.err"; then
    sed 's/^/#   /' "$work/cli.err"
    die "twofold accounts create --json"
  fi
  account_id=$(jq -r '.account_id // empty' "$work/account.json")
  password=$(jq -r '.password // empty' "$work/account.json")
  if declare -F secret_value >/dev/null; then
    secret_value "password" "$password"
  fi
  if [ -z "$account_id" ] || [ -z "$password" ]; then
    die "twofold accounts create --json prints account_id and password"
  fi
  ok "twofold accounts create --json: account $account_id, admin $email"
  local since
  since=$(date -u -d '2 days ago' +%Y-%m-%dT%H:%M:%SZ)
  if ! cli accounts set-paying --account "$account_id" --since "$since" --json \
    >"$work/paying.json" 2>"$work/cli.err"; then
    sed 's/^/#   /' "$work/cli.err"
    die "twofold accounts set-paying --since $since"
  fi
  ok "twofold accounts set-paying --since $since (2FA due at once)"
}

# --- HTTP answers: `http` leaves $status, $work/body and $work/headers ------

# http METHOD PATH [JSON_BODY] [BEARER]: the status goes to $status, the body
# to $work/body, the headers to $work/headers.
http() {
  local method=$1 path=$2 body=${3:-} bearer=${4:-}
  local args=(-sS --noproxy '*' --max-time 20 -X "$method"
    -o "$work/body" -D "$work/headers" -w '%{http_code}')
  if [ -n "$bearer" ]; then
    args+=(-H "Authorization: Bearer $bearer")
  fi
  if [ -n "$body" ]; then
    args+=(-H 'Content-Type: application/json' --data-binary @-)
  fi
  status=$(printf '%s' "$body" | curl "${args[@]}" "$base$path")
}
# The last answer's header $1 (last occurrence, trimmed).
header() {
  grep -i "^$1:" "$work/headers" | tail -n 1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//; s/ *$//' || true
}
# take_flow [LABEL]: keeps the newest flow token of the last answer in $flow
# (and, where the script defines `secret_value`, among the values its
# server must never log).
flow=
take_flow() {
  local new
  new=$(field .flow_token)
  if [ -n "$new" ]; then
    flow=$new
    if declare -F secret_value >/dev/null; then
      secret_value "flow token (${1:-flow})" "$flow"
    fi
  fi
}

show_body() {
  note "response body:"
  if [ -s "$work/body" ]; then
    head -c 2000 "$work/body" | sed 's/^/#   /'
    echo
  else
    note "  (empty)"
  fi
}
# field FILTER: a jq filter on the last JSON answer ("" when absent or not JSON).
field() { jq -r "$1 // empty" "$work/body" 2>/dev/null || true; }
# expect STATUS WHAT: the journey stops unless the last answer had this status.
expect() {
  if [ "$status" != "$1" ]; then
    not_ok "$2: HTTP $status, expected $1"
    show_body
    exit 1
  fi
}
# expect_state STATE WHAT: HTTP 200 with this flow `status`; else stop.
expect_state() {
  expect 200 "$2"
  local got
  got=$(field .status)
  if [ "$got" != "$1" ]; then
    not_ok "$2: status \"$got\", expected \"$1\""
    show_body
    exit 1
  fi
  ok "$2 -> $1"
}
# login LABEL: $email then $password; leaves the answer of the password step.
login() {
  http POST /v1/auth/login "$(jq -nc --arg e "$email" '{email: $e}')"
  expect_state password_required "$1: POST /v1/auth/login"
  take_flow "$1, login"
  http POST /v1/auth/login/password \
    "$(jq -nc --arg f "$flow" --arg p "$password" '{flow_token: $f, password: $p}')"
}
# The payload of JWT $1, as JSON.
jwt_payload() {
  local p=${1#*.}
  p=${p%%.*}
  p=$(printf '%s' "$p" | tr '_-' '/+')
  case $((${#p} % 4)) in
    2) p="$p==" ;;
    3) p="$p=" ;;
  esac
  printf '%s' "$p" | base64 -d
}

# run_checks LABEL SECONDS COMMAND...: runs COMMAND (stdin closed, at most
# SECONDS), shows its `ok - ...`/`not ok - ...` lines and adds them to this
# script's counts. Exiting non-zero with no failed check, or reporting no
# check at all, is a failure of its own; COMMAND's stderr is shown when it
# fails. Pass its environment with `env NAME=VALUE ...`.
run_checks() {
  local label=$1 seconds=$2
  shift 2
  local out="$work/$label.out" err="$work/$label.err" rc_file="$work/$label.rc"
  {
    local rc=0
    timeout -k 10 "$seconds" "$@" </dev/null 2>"$err" || rc=$?
    echo "$rc" >"$rc_file"
  } | tee "$out"
  local rc good bad
  rc=$(cat "$rc_file")
  good=$(grep -c '^ok - ' "$out" || true)
  bad=$(grep -c '^not ok - ' "$out" || true)
  passed=$((passed + good))
  failed=$((failed + bad))
  if [ "$rc" -eq 124 ]; then
    not_ok "$label did not finish within $seconds s"
  elif [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    not_ok "$label exited with status $rc"
  fi
  if [ "$rc" -ne 0 ] && [ -s "$err" ]; then
    note "$label stderr:"
    tail -n 20 "$err" | sed 's/^/#   /'
  fi
  if [ "$good" -eq 0 ] && [ "$bad" -eq 0 ]; then
    not_ok "$label reported no checks"
  fi
}

# stop_cleanly PID_VAR LABEL: sends SIGTERM to the server whose pid is in
# PID_VAR and checks it exits 0 within 15 s (one `ok`/`not ok` line naming
# LABEL); empties PID_VAR once the process is gone.
stop_cleanly() {
  local pid_var=$1 label=$2
  local pid=${!pid_var} rc=0
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
    not_ok "$label was not running any more"
    printf -v "$pid_var" '%s' ''
    return 0
  fi
  kill -TERM "$pid"
  timeout 15 tail --pid="$pid" -f /dev/null || true
  if kill -0 "$pid" 2>/dev/null; then
    not_ok "$label still runs 15 s after SIGTERM"
    return 0
  fi
  wait "$pid" || rc=$?
  printf -v "$pid_var" '%s' ''
  if [ "$rc" -eq 0 ]; then
    ok "$label stopped cleanly (SIGTERM, exit 0)"
  else
    not_ok "$label: exit status $rc after SIGTERM"
  fi
}

# The cleanup `e2e_traps` runs at exit: stop the server, print the summary.
# A script with more to stop or check defines its own `cleanup` after
# sourcing this file.
cleanup() {
  local rc=$?
  trap - EXIT ERR
  set +e
  stop "$server_pid"
  e2e_finish "$rc"
}

e2e_traps() {
  trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR
  trap cleanup EXIT
  trap 'not_ok "interrupted (SIGINT)"; exit 130' INT
  trap 'not_ok "terminated (SIGTERM)"; exit 143' TERM
}
