#!/usr/bin/env bash
# End-to-end check of twofold with independent tools only, the way a real
# client uses it: curl drives the HTTP journey, zbarimg reads the QR codes
# (the SVG after rsvg-convert), oathtool and pyotp compute the TOTP codes.
#
#   cargo build && bash scripts/e2e-checkers.sh
#   TWOFOLD_E2E_DATABASE_URL=postgres://USER:PW@127.0.0.1:5432/DB bash scripts/e2e-checkers.sh
#
# TWOFOLD_BIN         the binary to run (default target/debug/twofold of this
#                     repository, built by `cargo build`, never by this script)
# TWOFOLD_E2E_DATABASE_URL  database to use instead of a fresh SQLite file in
#                     the temporary directory (e.g. an empty PostgreSQL database)
# TWOFOLD_LOG         passed on to the server (default info); the log-leak
#                     check then also covers e.g. `debug`
#
# Installs zbar-tools, librsvg2-bin, oathtool, jq, curl (apt) and pyotp
# (PyPI) when missing. Talks to 127.0.0.1 only. Prints one `ok - ...` or
# `not ok - ...` line per check and ends with `N passed, M failed`; exits
# non-zero when a check fails or anything unexpected happens.
# Takes under a minute: it waits (at most 31 s) for a new 30-second TOTP step.
set -euo pipefail
set -o errtrace
# A relative TWOFOLD_BIN is taken from where the script was started.
start_dir=$PWD
cd "$(dirname "$0")/.."

. scripts/lib/e2e.sh
leaks_checked=0
leak_names=()
leak_values=()

# Remember a value the server must never log.
secret_value() {
  if [ -n "$2" ]; then
    leak_names+=("$1")
    leak_values+=("$2")
  fi
}

check_log_leaks() {
  leaks_checked=1
  [ -n "$log" ] && [ -s "$log" ] || return 0
  local i leaked=0
  for i in "${!leak_values[@]}"; do
    if grep -qF -- "${leak_values[$i]}" "$log"; then
      not_ok "FAIL: the server log contains the ${leak_names[$i]}"
      leaked=1
    fi
  done
  if [ "$leaked" -eq 0 ]; then
    ok "server log ($(wc -l <"$log") lines) contains none of the ${#leak_values[@]} secret values of this run ($(printf '%s\n' "${leak_names[@]}" | sed 's/ (.*//' | sort -u | paste -sd, - | sed 's/,/, /g'))"
  fi
}

cleanup() {
  local rc=$?
  trap - EXIT ERR
  set +e
  if [ "$leaks_checked" -eq 0 ] && [ "${#leak_values[@]}" -gt 0 ]; then
    check_log_leaks
  fi
  stop "$server_pid"
  e2e_finish "$rc"
}
e2e_traps

# --- tools ----------------------------------------------------------------

missing=()
command -v zbarimg >/dev/null || missing+=(zbar-tools)
command -v rsvg-convert >/dev/null || missing+=(librsvg2-bin)
command -v oathtool >/dev/null || missing+=(oathtool)
command -v jq >/dev/null || missing+=(jq)
command -v curl >/dev/null || missing+=(curl)
apt_install "${missing[@]}"
if ! python3 -c 'import importlib.metadata as m, sys; sys.exit(m.version("pyotp") != "2.12.1")' 2>/dev/null; then
  note "installing pyotp 2.12.1 (PyPI)"
  quietly env PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet \
    --disable-pip-version-check "pyotp==2.12.1"
fi
rm -f "$install_log"
install_log=

# --- the server -----------------------------------------------------------

e2e_prepare e2e
e2e_serve
ok "twofold serve answers GET /healthz on $base"

# --- HTTP helpers -----------------------------------------------------------

# expect_problem STATUS CODE WHAT: a problem+json refusal (a check; goes on).
expect_problem() {
  local got_code ctype
  got_code=$(field .code)
  ctype=$(header content-type)
  if [ "$status" = "$1" ] && [ "$got_code" = "$2" ] && [ "$ctype" = "application/problem+json" ]; then
    ok "$3 -> $1 $2"
  else
    not_ok "$3: HTTP $status code \"$got_code\" ($ctype), expected $1 $2 (application/problem+json)"
    show_body
  fi
}
# check_session LABEL AMR_JSON: the last answer is `authenticated` with a
# Bearer access token whose payload has aal 2 and this amr.
access=
check_session() {
  local label=$1 amr=$2 payload refresh
  access=$(field .access_token)
  refresh=$(field .refresh_token)
  secret_value "access token ($label)" "$access"
  secret_value "refresh token ($label)" "$refresh"
  if [ -z "$access" ] || [ -z "$refresh" ] || [ "$(field .token_type)" != "Bearer" ]; then
    not_ok "$label: answer carries access_token, refresh_token and token_type Bearer"
    show_body
    exit 1
  fi
  if ! payload=$(jwt_payload "$access" 2>/dev/null) || ! jq -e . >/dev/null 2>&1 <<<"$payload"; then
    die "$label: the access token's payload is not base64url JSON"
  fi
  if jq -e --argjson amr "$amr" '.aal == 2 and .amr == $amr' >/dev/null <<<"$payload"; then
    ok "$label: JWT has aal 2 and amr $(jq -c . <<<"$amr")"
  else
    not_ok "$label: JWT has aal 2 and amr $(jq -c . <<<"$amr"); got aal $(jq -c .aal <<<"$payload") amr $(jq -c .amr <<<"$payload")"
  fi
}
step_now() { echo $(($(date +%s) / 30)); }
recovery_re='^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}$'

# --- account --------------------------------------------------------------

email="e2e-$(date +%s)-$RANDOM@example.com"
e2e_paying_account "E2E Checkers"

# --- enrollment in the login flow ------------------------------------------

login "enrollment login"
expect_state enrollment_required "enrollment login: POST /v1/auth/login/password"
take_flow "enrollment login, password"

http POST /v1/auth/enrollment/totp "" "$flow"
expect 200 "POST /v1/auth/enrollment/totp"
take_flow "enrollment start"
json_uri=$(field .otpauth_uri)
json_secret=$(field .secret)
secret_value "TOTP secret" "$json_secret"
secret_value "TOTP secret (grouped)" "$(field .secret_grouped)"
if [ -z "$json_uri" ] || [ -z "$json_secret" ]; then
  not_ok "POST /v1/auth/enrollment/totp answers otpauth_uri and secret"
  show_body
  exit 1
fi
ok "POST /v1/auth/enrollment/totp answers an otpauth_uri"
for ext in png svg; do
  want="$base/v1/auth/enrollment/totp/qr.$ext"
  if [ "$(field ".qr_${ext}_url")" = "$want" ]; then
    ok "qr_${ext}_url is $want"
  else
    not_ok "qr_${ext}_url is $want; got \"$(field ".qr_${ext}_url")\""
  fi
done

http GET /v1/auth/enrollment/totp/qr.png "" "$flow"
expect 200 "GET /v1/auth/enrollment/totp/qr.png"
cp "$work/body" "$work/qr.png"
ctype=$(header content-type)
cache=$(header cache-control)
if [ "$ctype" = "image/png" ] && [[ ",$cache," =~ ,\ *no-store\ *, ]]; then
  ok "qr.png: Content-Type image/png, Cache-Control no-store"
else
  not_ok "qr.png: Content-Type image/png, Cache-Control no-store; got \"$ctype\", \"$cache\""
fi

http GET /v1/auth/enrollment/totp/qr.svg "" "$flow"
expect 200 "GET /v1/auth/enrollment/totp/qr.svg"
cp "$work/body" "$work/qr.svg"
ctype=$(header content-type)
cache=$(header cache-control)
if [ "$ctype" = "image/svg+xml" ] && [[ ",$cache," =~ ,\ *no-store\ *, ]]; then
  ok "qr.svg: Content-Type image/svg+xml, Cache-Control no-store"
else
  not_ok "qr.svg: Content-Type image/svg+xml, Cache-Control no-store; got \"$ctype\", \"$cache\""
fi

png_uri=$(zbarimg -q --raw "$work/qr.png" 2>"$work/zbar.err" || true)
if [ "$png_uri" = "$json_uri" ]; then
  ok "zbarimg decodes qr.png to exactly the otpauth_uri"
else
  not_ok "zbarimg decodes qr.png to exactly the otpauth_uri"
  note "  decoded: ${png_uri:-(nothing) $(cat "$work/zbar.err")}"
  note "  json:    $json_uri"
fi
svg_uri=
if rsvg-convert -w 400 -b white -o "$work/qr-svg.png" "$work/qr.svg" 2>"$work/rsvg.err"; then
  svg_uri=$(zbarimg -q --raw "$work/qr-svg.png" 2>"$work/zbar.err" || true)
else
  note "  rsvg-convert: $(cat "$work/rsvg.err")"
fi
if [ "$svg_uri" = "$json_uri" ]; then
  ok "rsvg-convert + zbarimg decode qr.svg to exactly the otpauth_uri"
else
  not_ok "rsvg-convert + zbarimg decode qr.svg to exactly the otpauth_uri"
  note "  decoded: ${svg_uri:-(nothing)}"
  note "  json:    $json_uri"
fi

# From here on the URI is the one the camera read, as an authenticator app sees it.
uri=${png_uri:-$svg_uri}
if [[ "$uri" != otpauth://totp/* ]]; then
  die "no otpauth://totp/ URI could be read from the QR codes; cannot go on"
fi
secret=$(printf '%s' "$uri" | sed -n 's/.*[?&]secret=\([^&]*\).*/\1/p')
secret_value "TOTP secret (from the QR code)" "$secret"
if [[ "$secret" =~ ^[A-Z2-7]{32}$ ]] && [ "$secret" = "$json_secret" ] &&
  [[ "$uri" == *"&issuer=twofold"* ]] && [[ "$uri" == *"algorithm=SHA1"* ]] &&
  [[ "$uri" == *"digits=6"* ]] && [[ "$uri" == *"period=30"* ]]; then
  ok "decoded URI: 160-bit base32 secret (same as JSON secret), issuer twofold, SHA1, 6 digits, 30 s"
else
  not_ok "decoded URI: 160-bit base32 secret (same as JSON secret), issuer twofold, SHA1, 6 digits, 30 s; got $uri"
fi

# Independent implementations agree (the RFC 6238 vector, then this secret).
t=$(date +%s)
vector=$(oathtool --totp -b -d 8 -N @59 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ)
o=$(oathtool --totp -b -N "@$t" "$secret")
p=$(python3 -c 'import pyotp, sys; print(pyotp.parse_uri(sys.argv[1]).at(int(sys.argv[2])))' "$uri" "$t")
if [ "$vector" = "94287082" ] && [ "$o" = "$p" ]; then
  ok "oathtool and pyotp agree (RFC 6238 t=59 -> 94287082; this secret -> same code)"
else
  not_ok "oathtool and pyotp agree: vector $vector, oathtool $o, pyotp $p"
fi

# The enrollment code and its replay must fall in one 30-s step (checked
# below); they take about a second, so start them early in a step.
left=$((30 - $(date +%s) % 30))
if [ "$left" -le 3 ]; then
  note "waiting ${left}s for a fresh 30-second TOTP step"
  sleep "$left"
fi
code_step=$(step_now)
code=$(oathtool --totp -b "$secret")
http POST /v1/auth/enrollment/totp/verify "$(jq -nc --arg c "$code" '{code: $c}')" "$flow"
expect_state recovery_code_confirmation_required "POST /v1/auth/enrollment/totp/verify (oathtool code)"
take_flow "enrollment verify"
recovery=$(field .recovery_code)
secret_value "recovery code" "$recovery"
secret_value "recovery code (compact)" "${recovery//-/}"
if [[ "$recovery" =~ $recovery_re ]]; then
  ok "recovery code has the form XXXX-XXXX-XXXX-XXXX-XXXX-XXXX (Crockford base32)"
else
  die "recovery code has the form XXXX-XXXX-XXXX-XXXX-XXXX-XXXX; got \"$recovery\""
fi

http POST /v1/auth/enrollment/recovery-code/confirm '{"confirmed":true}' "$flow"
expect_state authenticated "POST /v1/auth/enrollment/recovery-code/confirm"
check_session "enrollment" '["pwd","otp"]'

http GET /v1/me "" "$access"
expect 200 "GET /v1/me"
if [ "$(field .twofa_status)" = "enabled" ]; then
  ok "GET /v1/me: twofa_status enabled"
else
  not_ok "GET /v1/me: twofa_status enabled; got \"$(field .twofa_status)\""
fi

# --- second login: replay, then a fresh code --------------------------------

login "second login"
expect_state mfa_required "second login: POST /v1/auth/login/password"
take_flow "second login, password"
if jq -e '(.methods | index("totp")) and (.methods | index("recovery_code"))' "$work/body" >/dev/null 2>&1; then
  ok "mfa_required offers methods totp and recovery_code ($(jq -c .methods "$work/body"))"
else
  not_ok "mfa_required offers methods totp and recovery_code; got $(jq -c .methods "$work/body" 2>/dev/null)"
fi
http POST /v1/auth/login/totp "$(jq -nc --arg f "$flow" --arg c "$code" '{flow_token: $f, code: $c}')"
replay_step=$(step_now)
if [ "$replay_step" -eq "$code_step" ]; then
  expect_problem 401 code_already_used "POST /v1/auth/login/totp replaying the enrollment code in its own step"
else
  note "skipped the replay assertion: a 30-s step boundary passed between the enrollment code and the replay (HTTP $status $(field .code))"
fi

# A code of a later step than the enrollment code: wait for that step (<= 30 s).
wait_s=$(((code_step + 1) * 30 - $(date +%s)))
if [ "$wait_s" -gt 0 ]; then
  if [ "$wait_s" -gt 31 ]; then
    die "refusing to wait ${wait_s}s for the next TOTP step"
  fi
  note "waiting ${wait_s}s for the next 30-second TOTP step"
  sleep "$wait_s"
fi
login "third login"
expect_state mfa_required "third login: POST /v1/auth/login/password"
take_flow "third login, password"
code2=$(python3 -c 'import pyotp, sys; print(pyotp.parse_uri(sys.argv[1]).now())' "$uri")
http POST /v1/auth/login/totp "$(jq -nc --arg f "$flow" --arg c "$code2" '{flow_token: $f, code: $c}')"
expect_state authenticated "third login: POST /v1/auth/login/totp (pyotp code of a new step)"
check_session "third login" '["pwd","otp"]'

# --- recovery code ------------------------------------------------------------

login "recovery login"
expect_state mfa_required "recovery login: POST /v1/auth/login/password"
take_flow "recovery login, password"
typed=$(printf '%s' "$recovery" | tr 'A-Z-' 'a-z ')
secret_value "recovery code (as typed)" "$typed"
http POST /v1/auth/login/recovery-code \
  "$(jq -nc --arg f "$flow" --arg r "$typed" '{flow_token: $f, recovery_code: $r}')"
expect_state recovery_code_confirmation_required "POST /v1/auth/login/recovery-code (lower case, spaces for hyphens)"
take_flow "recovery login, recovery code"
new_recovery=$(field .recovery_code)
secret_value "new recovery code" "$new_recovery"
secret_value "new recovery code (compact)" "${new_recovery//-/}"
if [[ "$new_recovery" =~ $recovery_re ]] && [ "$new_recovery" != "$recovery" ]; then
  ok "a new recovery code is issued (well-formed, differs from the spent one)"
else
  not_ok "a new recovery code is issued (well-formed, differs from the spent one); got \"$new_recovery\""
fi
http POST /v1/auth/enrollment/recovery-code/confirm '{"confirmed":true}' "$flow"
expect_state authenticated "recovery login: POST /v1/auth/enrollment/recovery-code/confirm"
check_session "recovery login" '["pwd","rcv"]'

login "spent-code login"
expect_state mfa_required "spent-code login: POST /v1/auth/login/password"
take_flow "spent-code login, password"
http POST /v1/auth/login/recovery-code \
  "$(jq -nc --arg f "$flow" --arg r "$recovery" '{flow_token: $f, recovery_code: $r}')"
expect_problem 401 invalid_code "POST /v1/auth/login/recovery-code with the spent recovery code"

# --- logs ---------------------------------------------------------------------

if jq -e . "$log" >/dev/null 2>&1 && grep -qF '/v1/auth/login' "$log"; then
  ok "server log is JSON and records the requests"
else
  not_ok "server log is JSON and records the requests"
fi
check_log_leaks
