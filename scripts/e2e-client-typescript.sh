#!/usr/bin/env bash
# End-to-end check of the contract through a generated TypeScript client:
# openapi-typescript 7.13.0 turns the committed openapi.yaml into
# examples/typescript/schema.d.ts, `tsc --strict` (TypeScript 5.9.3, plus
# noUncheckedIndexedAccess and exactOptionalPropertyTypes) compiles
# examples/typescript/journey.ts, which makes every request with
# openapi-fetch 0.17 (createClient<paths>()) and no cast, `any` or
# ts-ignore; node then runs it against the real binary: enrollment (QR
# code decoded in-process), code login, recovery-code login, the admin's
# users and audit events, refresh and logout.
#
#   cargo build && bash scripts/e2e-client-typescript.sh
#   TWOFOLD_E2E_DATABASE_URL=postgres://USER:PW@127.0.0.1:5432/DB bash scripts/e2e-client-typescript.sh
#
# TWOFOLD_BIN         the binary to run (default target/debug/twofold of this
#                     repository, built by `cargo build`, never by this script)
# TWOFOLD_E2E_DATABASE_URL  database to use instead of a fresh SQLite file in
#                     the temporary directory (e.g. an empty PostgreSQL database)
# TWOFOLD_LOG         passed on to the server (default info)
#
# Installs nodejs, npm, jq, curl (apt) when missing and the pinned packages of
# examples/typescript/package-lock.json (npm ci) into
# examples/typescript/node_modules. Talks to 127.0.0.1 only. Prints one
# `ok - ...` or `not ok - ...` line per check and ends with `N passed,
# M failed`; exits non-zero when a check fails or anything unexpected
# happens. Takes about a minute: the journey waits (at most 31 s) for a new
# 30-second TOTP step, and runs for at most 180 s.
set -euo pipefail
set -o errtrace
# A relative TWOFOLD_BIN is taken from where the script was started.
start_dir=$PWD
cd "$(dirname "$0")/.."
root=$PWD
client_dir="$root/examples/typescript"

. "$root/scripts/lib/e2e.sh"

e2e_traps

# --- tools ----------------------------------------------------------------

require node:nodejs npm jq curl
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  die "node 20 or newer is needed (found $(node --version))"
fi
# npm ci unless node_modules already holds exactly the locked packages.
if ! cmp -s "$client_dir/package-lock.json" "$client_dir/node_modules/.package-lock.json.ci" 2>/dev/null; then
  note "installing examples/typescript (npm ci)"
  quietly npm ci --prefix "$client_dir" --no-audit --no-fund
  cp "$client_dir/package-lock.json" "$client_dir/node_modules/.package-lock.json.ci"
fi
rm -f "$install_log"
install_log=
bin_dir="$client_dir/node_modules/.bin"
note "node $(node --version), openapi-typescript $("$bin_dir/openapi-typescript" --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -n 1), typescript $("$bin_dir/tsc" --version | grep -o '[0-9][0-9.]*'), openapi-fetch $(node -p 'require(process.argv[1] + "/node_modules/openapi-fetch/package.json").version' "$client_dir")"

# The binary, a working directory, a port and a database (nothing runs yet).
e2e_prepare e2e-client-ts

# --- the client: generated types, strict compilation --------------------------

# Generated afresh from the committed contract on every run.
rm -rf "$client_dir/schema.d.ts" "$client_dir/dist"
if (cd "$client_dir" && timeout 120 "$bin_dir/openapi-typescript" ../../openapi.yaml \
  --output schema.d.ts) >"$work/generate.log" 2>&1 && [ -s "$client_dir/schema.d.ts" ]; then
  ok "openapi-typescript generates examples/typescript/schema.d.ts from openapi.yaml ($(wc -l <"$client_dir/schema.d.ts") lines)"
else
  sed 's/^/#   /' "$work/generate.log"
  die "openapi-typescript generates schema.d.ts from openapi.yaml"
fi

# No escape hatches in the journey: the types must carry it as they are
# (checked on the syntax tree by the TypeScript compiler).
if (cd "$client_dir" && node no-escapes.mjs journey.ts totp.ts) >"$work/escapes.txt" 2>&1; then
  ok "journey.ts and totp.ts use no cast, non-null assertion, any, type guard, ts-ignore or raw fetch"
else
  not_ok "journey.ts and totp.ts use no cast, non-null assertion, any, type guard, ts-ignore or raw fetch"
  sed 's/^/#   /' "$work/escapes.txt"
fi

# tsconfig.json: strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes.
if (cd "$client_dir" && timeout 180 "$bin_dir/tsc" --strict -p tsconfig.json) >"$work/tsc.log" 2>&1; then
  ok "tsc --strict (noUncheckedIndexedAccess, exactOptionalPropertyTypes) compiles journey.ts against the generated types with no error"
else
  sed 's/^/#   /' "$work/tsc.log"
  die "tsc --strict compiles journey.ts against the generated types ($(grep -c 'error TS' "$work/tsc.log") errors)"
fi

# --- the server -----------------------------------------------------------

e2e_serve
ok "twofold serve answers GET /healthz on $base"

email="ts-client-$(date +%s)-$RANDOM@example.com"
e2e_paying_account "E2E TypeScript client"
# A second licence, for the user the admin creates (still paying since two
# days ago).
since=$(date -u -d '2 days ago' +%Y-%m-%dT%H:%M:%SZ)
if cli accounts set-paying --account "$account_id" --since "$since" --licenses 5 --json \
  >"$work/licences.json" 2>"$work/cli.err"; then
  ok "twofold accounts set-paying --licenses 5 (room for the user the admin creates)"
else
  sed 's/^/#   /' "$work/cli.err"
  die "twofold accounts set-paying --licenses 5"
fi

# --- the journey ----------------------------------------------------------

note "running examples/typescript/dist/journey.js (node)"
run_checks journey 180 env TWOFOLD_E2E_BASE_URL="$base" TWOFOLD_E2E_EMAIL="$email" \
  TWOFOLD_E2E_PASSWORD="$password" TWOFOLD_E2E_ACCOUNT_ID="$account_id" \
  node "$client_dir/dist/journey.js"
