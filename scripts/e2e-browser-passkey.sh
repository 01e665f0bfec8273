#!/usr/bin/env bash
# End-to-end check of twofold's WebAuthn in a real browser: headless Debian
# Chromium, driven by playwright-core over CDP with a virtual authenticator,
# runs a static test page (e2e/browser/) whose JavaScript calls the API with
# fetch (CORS) and navigator.credentials, as a frontend would:
#   a. register a passkey for a signed-in (aal 2) user
#   b. passwordless passkey login (aal 2, amr ["hwk"])
#   c. password + passkey as the second factor (amr ["pwd","hwk"])
#   d. a replayed passwordless assertion under a new flow is refused
#   e. Swagger UI at /docs renders and runs a request under its
#      Content-Security-Policy with no violation
#   f. a second user (created by the admin, 2FA due) enrolls a passkey at
#      login instead of an app: enrollment_methods, discoverable options,
#      recovery code, confirmation (amr ["pwd","hwk"]); then, on a fresh
#      virtual authenticator holding only that passkey,
#   g. passwordless login with it, and
#   h. with the authenticator removed (the device lost), the password and
#      the recovery code sign in (amr ["pwd","rcv"])
#   i. (run right after c) the admin allows remembered devices; a passkey
#      second factor with remember_device: true answers a device_token,
#      kept in localStorage; the next login sends it with the password and
#      is signed in (amr ["pwd","dev"]) with no authenticator prompt
#
#   cargo build && bash scripts/e2e-browser-passkey.sh
#   TWOFOLD_E2E_DATABASE_URL=postgres://USER:PW@127.0.0.1:5432/DB bash scripts/e2e-browser-passkey.sh
#
# TWOFOLD_BIN         the binary to run (default target/debug/twofold of this
#                     repository, built by `cargo build`, never by this script)
# TWOFOLD_E2E_DATABASE_URL  database to use instead of a fresh SQLite file in
#                     the temporary directory (e.g. an empty PostgreSQL database)
# TWOFOLD_LOG         passed on to the server (default info)
# CHROMIUM            the browser (default /usr/bin/chromium, apt `chromium`)
#
# Installs chromium, oathtool, jq, curl (apt) when missing and playwright-core
# 1.65.1 (npm, from e2e/browser/package-lock.json) into e2e/browser/node_modules;
# never downloads a browser through Playwright. The API listens on
# 127.0.0.1:P1 and is called as http://localhost:P1 (RP id localhost); the page
# is served from http://localhost:P2 by python3 -m http.server on 127.0.0.1.
# Prints one `ok - ...` or `not ok - ...` line per check and ends with
# `N passed, M failed`; exits non-zero when a check fails or anything
# unexpected happens. Every step is bounded (60 s at most).
set -euo pipefail
set -o errtrace
# A relative TWOFOLD_BIN is taken from where the script was started.
start_dir=$PWD
cd "$(dirname "$0")/.."
root=$PWD
browser_dir="$root/e2e/browser"
chromium_bin=${CHROMIUM:-/usr/bin/chromium}

. "$root/scripts/lib/e2e.sh"
static_pid=

cleanup() {
  local rc=$?
  trap - EXIT ERR
  set +e
  stop "$server_pid"
  stop "$static_pid"
  e2e_finish "$rc"
}
e2e_traps

# --- tools ----------------------------------------------------------------

missing=()
[ -x "$chromium_bin" ] || missing+=(chromium)
command -v oathtool >/dev/null || missing+=(oathtool)
command -v jq >/dev/null || missing+=(jq)
command -v curl >/dev/null || missing+=(curl)
command -v node >/dev/null || die "node (Node.js 20 or newer) is needed to drive the browser"
command -v npm >/dev/null || die "npm is needed to install playwright-core"
command -v python3 >/dev/null || die "python3 is needed to serve the test page"
apt_install "${missing[@]}"
[ -x "$chromium_bin" ] || die "no browser at $chromium_bin"
installed=$(node -e 'try { process.stdout.write(require(process.argv[1] + "/node_modules/playwright-core/package.json").version) } catch (e) {}' "$browser_dir")
if [ "$installed" != "1.65.1" ]; then
  note "installing playwright-core 1.65.1 (npm)"
  if [ -f "$browser_dir/package-lock.json" ]; then
    quietly env PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$browser_dir" --no-audit --no-fund
  else
    quietly env PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$browser_dir" --no-audit --no-fund
  fi
fi
rm -f "$install_log"
install_log=
note "$({ "$chromium_bin" --version 2>/dev/null || echo "chromium at $chromium_bin"; } | head -n 1), playwright-core 1.65.1, node $(node --version)"

# --- the servers ----------------------------------------------------------

e2e_prepare e2e-browser
page_port=$(free_port)
while [ "$page_port" = "$port" ]; do page_port=$(free_port); done
api="http://localhost:$port"
page_origin="http://localhost:$page_port"
mkdir -p "$work/profile"
export TWOFOLD_PUBLIC_URL="$api"
export TWOFOLD_CORS_ORIGINS="$page_origin"
export TWOFOLD_WEBAUTHN_ORIGINS="$page_origin"
e2e_serve
python3 -m http.server "$page_port" --bind 127.0.0.1 --directory "$browser_dir" \
  >"$work/static.log" 2>&1 &
static_pid=$!

ok "twofold serve answers GET /healthz on $base (public URL $api, CORS and WebAuthn origin $page_origin)"
wait_for "http://127.0.0.1:$page_port/index.html" "python3 -m http.server" static_pid
ok "the test page is served on $page_origin/index.html"

# --- a user with an aal 2 session (curl + oathtool) ---------------------------

email="e2e-browser-$(date +%s)-$RANDOM@example.com"
e2e_paying_account "E2E Browser"

login "enrollment login"
expect_state enrollment_required "enrollment login: POST /v1/auth/login/password"
take_flow
http POST /v1/auth/enrollment/totp "" "$flow"
expect 200 "POST /v1/auth/enrollment/totp"
take_flow
secret=$(field .secret)
[ -n "$secret" ] || { not_ok "POST /v1/auth/enrollment/totp answers a secret"; show_body; exit 1; }
# Not in the last seconds of a 30-second step, so the code is still current.
left=$((30 - $(date +%s) % 30))
if [ "$left" -le 2 ]; then
  sleep "$left"
fi
code=$(oathtool --totp -b "$secret")
http POST /v1/auth/enrollment/totp/verify "$(jq -nc --arg c "$code" '{code: $c}')" "$flow"
expect_state recovery_code_confirmation_required "POST /v1/auth/enrollment/totp/verify (oathtool code)"
take_flow
http POST /v1/auth/enrollment/recovery-code/confirm '{"confirmed":true}' "$flow"
expect_state authenticated "POST /v1/auth/enrollment/recovery-code/confirm"
access=$(field .access_token)
if ! payload=$(jwt_payload "$access" 2>/dev/null) || ! jq -e '.aal == 2' >/dev/null 2>&1 <<<"$payload"; then
  die "the enrollment session's access token has aal 2"
fi
ok "an aal 2 session for $email (amr $(jq -c .amr <<<"$payload"))"

# A second user, who will enroll a passkey at login (f-h): 2FA is due for
# every user of the paying account.
enroll_email="e2e-browser-enroll-$(date +%s)-$RANDOM@example.com"
since=$(date -u -d '2 days ago' +%Y-%m-%dT%H:%M:%SZ)
cli accounts set-paying --account "$account_id" --since "$since" --licenses 2 --json >/dev/null 2>"$work/cli.err" ||
  { sed 's/^/#   /' "$work/cli.err"; die "twofold accounts set-paying --licenses 2"; }
http POST /v1/admin/users "$(jq -nc --arg e "$enroll_email" '{email: $e, name: "Passkey Enroller", role: "technician"}')" "$access"
expect 201 "POST /v1/admin/users (a technician who must enroll)"
enroll_password=$(field .initial_password)
[ -n "$enroll_password" ] || die "POST /v1/admin/users answers an initial_password"

# --- the browser --------------------------------------------------------------

note "driving $chromium_bin on $page_origin/index.html"
run_checks browser 330 env TWOFOLD_E2E_API="$api" \
  TWOFOLD_E2E_PAGE="$page_origin/index.html" TWOFOLD_E2E_ACCESS_TOKEN="$access" \
  TWOFOLD_E2E_EMAIL="$email" TWOFOLD_E2E_PASSWORD="$password" \
  TWOFOLD_E2E_ENROLL_EMAIL="$enroll_email" TWOFOLD_E2E_ENROLL_PASSWORD="$enroll_password" \
  TWOFOLD_E2E_PROFILE="$work/profile" CHROMIUM="$chromium_bin" \
  node "$browser_dir/run.mjs"
