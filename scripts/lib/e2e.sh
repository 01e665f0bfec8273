# shellcheck shell=bash
# Shared by the end-to-end scripts: TAP-like output (`ok - …`,
# `not ok - …`, `# note`), a closing `N passed, M failed` line, error traps,
# quiet installs and clean-up. Source it after `set -euo pipefail`.
# A script defines `cleanup` (its own clean-up, ending with
# `e2e_finish "$rc"`) and then calls `e2e_traps`.

passed=0
failed=0
work=
log=
install_log=
# The status of the last answer, set by the calling script's `http`.
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

# --- checking HTTP answers: the calling script's `http` leaves $status and
# $work/body -------------------------------------------------------------

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

e2e_traps() {
  trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR
  trap cleanup EXIT
  trap 'not_ok "interrupted (SIGINT)"; exit 130' INT
  trap 'not_ok "terminated (SIGTERM)"; exit 143' TERM
}
