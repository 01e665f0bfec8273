#!/usr/bin/env bash
# End-to-end run of the Postman collection (postman/) with newman against
# the real binary: the whole journey of a user whose 2FA is due (enrollment,
# code login, recovery-code login, administration, refresh and logout).
#
#   cargo build && bash scripts/e2e-postman.sh
#   TWOFOLD_E2E_DATABASE_URL=postgres://USER:PW@127.0.0.1:5432/DB bash scripts/e2e-postman.sh
#
# TWOFOLD_BIN         the binary to run (default target/debug/twofold of this
#                     repository, built by `cargo build`, never by this script)
# TWOFOLD_E2E_DATABASE_URL  database to use instead of a fresh SQLite file in
#                     the temporary directory (e.g. an empty PostgreSQL database)
# TWOFOLD_LOG         passed on to the server (default info)
#
# Installs newman (npm, pinned) into .tools/newman, and jq, curl, nodejs and
# npm (apt) when missing. Talks to 127.0.0.1 only. Prints one `ok - ...` or
# `not ok - ...` line per newman assertion and ends with `N passed, M failed`;
# exits non-zero when an assertion fails or anything unexpected happens.
# Takes under a minute: the collection waits (at most 31 s) for a new
# 30-second TOTP step.
set -euo pipefail
set -o errtrace
# A relative TWOFOLD_BIN is taken from where the script was started.
start_dir=$PWD
cd "$(dirname "$0")/.."

. scripts/lib/e2e.sh

newman_version=6.2.2
newman=.tools/newman/node_modules/.bin/newman
collection=postman/twofold.postman_collection.json
environment=postman/twofold.postman_environment.json

e2e_traps

# --- tools ----------------------------------------------------------------

require jq curl "npm:nodejs npm"
if [ "$("$newman" --version 2>/dev/null || true)" != "$newman_version" ]; then
  note "installing newman $newman_version (npm) into .tools/newman"
  mkdir -p .tools/newman
  quietly npm install --prefix .tools/newman --no-audit --no-fund --save-exact \
    "newman@$newman_version"
fi
rm -f "$install_log"
install_log=

# --- the server and the account -------------------------------------------

e2e_prepare postman
e2e_serve
ok "twofold serve answers GET /healthz on $base"

email="postman-$(date +%s)-$RANDOM@example.com"
e2e_paying_account "Postman E2E"
# Room for the technician the collection creates (the account has 1 licence).
if ! cli accounts set-paying --account "$account_id" --licenses 5 \
  --since "$(date -u -d '2 days ago' +%Y-%m-%dT%H:%M:%SZ)" --json \
  >"$work/licenses.json" 2>"$work/cli.err"; then
  sed 's/^/#   /' "$work/cli.err"
  die "twofold accounts set-paying --licenses 5"
fi
ok "twofold accounts set-paying --licenses 5"

# --- the collection -------------------------------------------------------

report="$work/newman.json"
note "newman run $collection (the journey waits up to 31 s for a new TOTP step)"
newman_rc=0
# No --bail: every request has its assertions reported; a later step that
# depends on a failed one fails too.
timeout 300 "$newman" run "$collection" \
  -e "$environment" \
  --env-var "baseUrl=$base" \
  --env-var "email=$email" \
  --env-var "password=$password" \
  --timeout-request 20000 \
  --timeout-script 45000 \
  --timeout 240000 \
  --reporters cli,json \
  --reporter-json-export "$report" \
  --color off \
  >"$work/newman.out" 2>&1 || newman_rc=$?

if [ ! -s "$report" ]; then
  sed 's/\x1b\[[0-9;]*m//g; s/^/#   /' "$work/newman.out"
  die "newman wrote no report (exit $newman_rc)"
fi

# One line per assertion, in the order they ran; then the failures that are
# not assertions (a script error, a request that got no answer).
while IFS=$'\t' read -r result name; do
  if [ "$result" = ok ]; then
    ok "$name"
  else
    not_ok "$name"
  fi
done < <(jq -r '
  .run.executions[] | .item.name as $item
  | (.assertions // [])[]
  | [(if .error then "not ok" else "ok" end),
     "\($item): \(.assertion)\(if .error then " (\(.error.message))" else "" end)"]
  | @tsv' "$report")
while IFS= read -r failure; do
  not_ok "$failure"
done < <(jq -r '
  .run.failures[] | select(.error.name != "AssertionError")
  | "\(.source.name // "collection"): \(.at // "") \(.error.name): \(.error.message)"' "$report")

summary=$(jq -r '.run.stats as $s | .run.timings as $t
  | "\($s.requests.total) requests (\($s.requests.failed) failed), \($s.assertions.total) assertions (\($s.assertions.failed) failed), \($s.testScripts.failed + $s.prerequestScripts.failed) script errors, \((($t.completed - $t.started) / 1000) | floor) s"' "$report")
note "newman: $summary"
if [ "$newman_rc" -eq 0 ]; then
  ok "newman run exits 0 ($summary)"
else
  note "newman output:"
  sed 's/\x1b\[[0-9;]*m//g; s/^/#   /' "$work/newman.out"
  not_ok "newman run exits 0: exit $newman_rc"
fi
