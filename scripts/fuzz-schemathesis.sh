#!/usr/bin/env bash
# Property-based API fuzzing with schemathesis against the real binary:
# every generated request (valid and invalid by openapi.yaml) must get a
# documented answer, never a 5xx. Signed in as an account admin.
#
#   cargo build && bash scripts/fuzz-schemathesis.sh
#
# TWOFOLD_BIN and TWOFOLD_E2E_DATABASE_URL as in scripts/e2e-checkers.sh.
# Installs schemathesis 4.32.5 (PyPI) when missing. Prints `ok - …` /
# `not ok - …` lines and `N passed, M failed`; exits non-zero on a failure.
set -euo pipefail
set -o errtrace
start_dir=$PWD
cd "$(dirname "$0")/.."

. scripts/lib/e2e.sh
e2e_traps

if ! python3 -c 'import importlib.metadata as m, sys; sys.exit(m.version("schemathesis") != "4.32.5")' 2>/dev/null; then
  note "installing schemathesis 4.32.5 (PyPI)"
  quietly env PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet \
    --disable-pip-version-check "schemathesis==4.32.5"
fi
command -v jq >/dev/null || apt_install jq

e2e_prepare fuzz
export TWOFOLD_OPERATOR_KEY="fuzz-operator-key-fuzz-operator-key"
e2e_serve
ok "twofold serve answers GET /healthz on $base"

email="fuzz-$(date +%s)-$RANDOM@example.test"
if ! cli accounts create --name "Fuzz MSP" --admin-email "$email" --licenses 100000 --json \
  >"$work/account.json" 2>"$work/cli.err"; then
  sed 's/^/#   /' "$work/cli.err"
  die "twofold accounts create --json"
fi
password=$(jq -r '.password // empty' "$work/account.json")
login "admin login"
expect_state authenticated "admin login: POST /v1/auth/login/password"
access=$(field .access_token)

# Logout is fuzzed last and alone: a successful one ends the session every
# other authenticated operation is fuzzed with (they would then only ever
# see 401).
if st run openapi.yaml --url "$base" -H "Authorization: Bearer $access" \
  --exclude-operation-id logout \
  --max-examples 30 --checks all --workers 1 --seed 20261128; then
  ok "schemathesis: every check passed on every operation but logout"
else
  not_ok "schemathesis reported failures (above)"
fi
if st run openapi.yaml --url "$base" -H "Authorization: Bearer $access" \
  --include-operation-id logout \
  --max-examples 30 --checks all --workers 1 --seed 20261128; then
  ok "schemathesis: every check passed on logout"
else
  not_ok "schemathesis reported failures on logout (above)"
fi
errors=$(grep -c '"status":5[0-9][0-9]' "$log" || true)
if [ "$errors" -eq 0 ]; then
  ok "the server answered no request with a 5xx"
else
  grep '"status":5[0-9][0-9]' "$log" | head -20 | sed 's/^/#   /'
  not_ok "the server answered $errors request(s) with a 5xx"
fi
