#!/usr/bin/env bash
# End-to-end check of the committed contract through a generated client:
# openapi-python-client 0.29.1 generates a Python package from openapi.yaml,
# `mypy --strict` checks examples/python/journey.py against it, and the
# journey runs against the real binary using only the generated functions
# and models (no hand-written HTTP, no casts, no `type: ignore`).
#
#   cargo build && bash scripts/e2e-client-python.sh
#   TWOFOLD_E2E_DATABASE_URL=postgres://USER:PW@127.0.0.1:5432/DB bash scripts/e2e-client-python.sh
#
# TWOFOLD_BIN         the binary to run (default target/debug/twofold of this
#                     repository, built by `cargo build`, never by this script)
# TWOFOLD_E2E_DATABASE_URL  database to use instead of a fresh SQLite file in
#                     the temporary directory (e.g. an empty PostgreSQL database)
#
# Installs examples/python/requirements.txt (pinned, PyPI) into a venv at
# .tools/python-client (git-ignored; reinstalled when the file changes), and
# zbar-tools, jq, curl (apt) when missing. The client is generated afresh
# into the temporary directory on every run. Talks to 127.0.0.1 only. Prints
# one `ok - ...` or `not ok - ...` line per check and ends with
# `N passed, M failed`; exits non-zero when a check fails or anything
# unexpected happens. Takes about a minute: the journey waits (at most 31 s)
# for a new 30-second TOTP step.
set -euo pipefail
set -o errtrace
# A relative TWOFOLD_BIN is taken from where the script was started.
start_dir=$PWD
cd "$(dirname "$0")/.."
root=$PWD

. scripts/lib/e2e.sh

py_dir=examples/python
venv=.tools/python-client

e2e_traps

# --- tools ----------------------------------------------------------------

require zbarimg:zbar-tools jq curl

# The generated package uses enum.StrEnum (Python 3.11).
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  die "python3 is $(python3 -V 2>&1 | cut -d' ' -f2); the generated client needs 3.11 or later"
fi
wanted=$(sha256sum "$py_dir/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/requirements.sha256" 2>/dev/null)" != "$wanted" ]; then
  note "installing $py_dir/requirements.txt into $venv (PyPI)"
  t0=$SECONDS
  rm -rf "$venv"
  quietly python3 -m venv "$venv"
  quietly timeout 600 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-input -r "$py_dir/requirements.txt"
  printf '%s\n' "$wanted" >"$venv/requirements.sha256"
  note "pip install took $((SECONDS - t0)) s"
fi
rm -f "$install_log"
install_log=
versions=$("$venv/bin/python" -c 'import importlib.metadata as m; print(", ".join(f"{n} {m.version(n)}" for n in ("openapi-python-client", "mypy", "pyotp", "httpx")))')
ok "pinned Python tools in $venv: $versions"

# --- the client -------------------------------------------------------------

e2e_prepare client-python
gen="$work/client"
mkdir -p "$gen"
# --fail-on-warning: any part of the contract the generator cannot express
# (an operation or a response it would leave out) fails the run.
if PATH="$PWD/$venv/bin:$PATH" timeout 120 openapi-python-client generate \
  --path openapi.yaml --meta none --output-path "$gen/twofold_client" \
  --config "$py_dir/openapi-python-client.yaml" --fail-on-warning \
  >"$work/generate.log" 2>&1; then
  ok "openapi-python-client generate --meta none: $(find "$gen/twofold_client/api" -name '*.py' ! -name '__init__.py' | wc -l) operations, $(find "$gen/twofold_client/models" -name '*.py' ! -name '__init__.py' | wc -l) models, no warning"
else
  sed 's/^/#   /' "$work/generate.log"
  die "openapi-python-client generate from openapi.yaml (without warnings)"
fi

# journey.py beside the generated package, as a user of it has it (a
# client generated into examples/python/ while developing is not seen).
cp "$py_dir/journey.py" "$py_dir/mypy.ini" "$gen/"

# journey.py, strictly, against the generated package (examples/python/mypy.ini).
if (cd "$gen" && timeout 300 "$root/$venv/bin/mypy" --strict --config-file mypy.ini \
  --cache-dir "$work/mypy-cache" journey.py) >"$work/mypy.log" 2>&1; then
  ok "mypy --strict journey.py: $(tail -n 1 "$work/mypy.log")"
else
  sed 's/^/#   /' "$work/mypy.log"
  not_ok "mypy --strict journey.py"
fi

# The whole generated package, strictly: only the generator's own known
# client.py bug (see mypy.ini) may show up.
(cd "$gen" && timeout 300 "$root/$venv/bin/mypy" --strict --config-file /dev/null \
  --cache-dir "$work/mypy-cache-pkg" -p twofold_client) >"$work/mypy-pkg.log" 2>&1 || true
known='^twofold_client/client\.py:[0-9]+: error: Argument 1 to "__a?exit__" of "(Async)?Client" has incompatible type'
other=$(grep -E ': error: ' "$work/mypy-pkg.log" | grep -cvE "$known" || true)
if [ "$other" -eq 0 ] && grep -qE '^(Success|Found [0-9]+ errors? in 1 file)' "$work/mypy-pkg.log"; then
  ok "mypy --strict on the whole generated package: only the generator's known client.py __exit__/__aexit__ bug ($(grep -cE "$known" "$work/mypy-pkg.log" || true) errors)"
else
  grep -E ': error: ' "$work/mypy-pkg.log" | grep -vE "$known" | head -n 30 | sed 's/^/#   /'
  not_ok "mypy --strict on the whole generated package: $other errors besides the generator's known client.py bug"
fi

# --- the server and the account -------------------------------------------

# The operator API on (the journey gives the account licences with it).
operator_key=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
export TWOFOLD_OPERATOR_KEY="$operator_key"
e2e_serve
ok "twofold serve answers GET /healthz on $base"
email="py-$(date +%s)-$RANDOM@example.com"
e2e_paying_account "Python client"

# --- the journey ------------------------------------------------------------

# stderr joins stdout, so a traceback shows where it happened.
run_checks journey.py 180 env JOURNEY_BASE_URL="$base" JOURNEY_EMAIL="$email" \
  JOURNEY_PASSWORD="$password" JOURNEY_ACCOUNT_ID="$account_id" \
  JOURNEY_OPERATOR_KEY="$operator_key" PYTHONDONTWRITEBYTECODE=1 \
  sh -c 'exec "$0" -u "$1" 2>&1' "$venv/bin/python" "$gen/journey.py"
