#!/usr/bin/env bash
# SQLite on a disk that fills up, for real: twofold's database on a small
# tmpfs of its own, the tmpfs filled to the last page while the service runs.
# Run by `scripts/outage-check.sh sqlite` (root: it mounts the tmpfs).
#
# Checks: writes answer 503 `service_unavailable` with `Retry-After` and the
# log says `database unavailable` (cause disk_full), never a 500; reads go
# on; once space is freed writes work again without a restart; every write
# acknowledged with 201 is in the database; `serve` exits 0 on SIGTERM;
# `PRAGMA integrity_check` is `ok` afterwards.
set -euo pipefail
set -o errtrace
start_dir=${start_dir:-$PWD}
cd "$(dirname "$0")/../.."

. scripts/lib/e2e.sh

disk=
cleanup() {
  local rc=$?
  trap - EXIT ERR
  set +e
  stop "$server_pid"
  if [ -n "$disk" ]; then
    umount "$disk" 2>/dev/null
    rmdir "$disk" 2>/dev/null
  fi
  e2e_finish "$rc"
}
e2e_traps

if [ "$(id -u)" -ne 0 ]; then
  die "run as root: the full disk is a tmpfs mounted here"
fi
require jq curl python3

disk=$(mktemp -d "${TMPDIR:-/tmp}/twofold-outage-disk.XXXXXX")
if ! mount -t tmpfs -o size=8m,mode=0700 twofold-outage "$disk"; then
  rmdir "$disk"
  disk=
  die "cannot mount a tmpfs (a container without CAP_SYS_ADMIN?)"
fi
ok "a tmpfs of 8 MiB for the database at $disk"
export TWOFOLD_E2E_DATABASE_URL="sqlite://$disk/twofold.db"
e2e_prepare outage-sqlite
e2e_serve
ok "twofold serve answers GET /healthz on $base"

email="outage-sqlite-$$@example.test"
if ! cli accounts create --name "Outage SQLite $$" --admin-email "$email" --licenses 10000 --json \
  >"$work/account.json" 2>"$work/cli.err"; then
  sed 's/^/#   /' "$work/cli.err"
  die "twofold accounts create"
fi
password=$(jq -r .password "$work/account.json")
login "admin"
expect_state authenticated "admin: POST /v1/auth/login/password"
token=$(field .access_token)

: >"$work/acked"
create_user() {
  local tag=$1
  http POST /v1/admin/users \
    "$(jq -nc --arg e "outage-$tag-$$@example.test" --arg n "Outage $tag $$" \
      '{email: $e, name: $n, role: "read_only"}')" "$token"
  if [ "$status" = 201 ]; then
    printf '%s %s\n' "$(field .id)" "$(field .email)" >>"$work/acked"
  fi
}
create_user before
expect 201 "a write before the disk is full"

# --- the disk fills up -----------------------------------------------------
dd if=/dev/zero of="$disk/filler" bs=64k >/dev/null 2>&1 || true
dd if=/dev/zero of="$disk/filler2" bs=4k >/dev/null 2>&1 || true
note "disk full: $(df -h --output=avail "$disk" | tail -n 1 | tr -d ' ') available"

declare -A seen=()
refused=0
five_hundreds=0
for i in $(seq 1 40); do
  create_user "full-$i"
  seen[$status]=$((${seen[$status]:-0} + 1))
  case $status in
    503)
      if [ "$(field .code)" = service_unavailable ] && [ -n "$(header retry-after)" ]; then
        refused=$((refused + 1))
        last_detail=$(field .detail)
      fi
      ;;
    5*) five_hundreds=$((five_hundreds + 1)) ;;
  esac
  [ "$refused" -lt 3 ] || break
done
counts=$(for s in "${!seen[@]}"; do printf '%s x %s, ' "${seen[$s]}" "$s"; done)
note "writes on the full disk: ${counts%, }"
if [ "$five_hundreds" -eq 0 ] && [ "$refused" -ge 3 ]; then
  ok "writes on the full disk answer 503 service_unavailable with Retry-After (\"$last_detail\"), never a 500"
else
  not_ok "writes on the full disk: $refused answers 503 with Retry-After, $five_hundreds other 5xx"
fi
if grep '"database unavailable"' "$log" | grep -q 'disk_full'; then
  ok "the server log says: database unavailable, cause disk_full ($(grep -c '"database unavailable"' "$log") lines)"
else
  not_ok "the server log has no \"database unavailable\" line with cause disk_full"
fi
http GET "/v1/admin/users?limit=5" "" "$token"
if [ "$status" = 200 ]; then ok "reads go on while the disk is full (GET /v1/admin/users -> 200)"; else
  not_ok "GET /v1/admin/users on the full disk -> $status"
fi
http GET /v1/me "" "$token"
if [ "$status" = 200 ] || [ "$status" = 503 ]; then
  ok "GET /v1/me while the disk is full -> $status (not a 500)"
else
  not_ok "GET /v1/me while the disk is full -> $status"
fi

# --- space again ---------------------------------------------------------------
rm -f "$disk/filler" "$disk/filler2"
recovered=
for i in $(seq 1 10); do
  create_user "after-$i"
  if [ "$status" = 201 ]; then
    recovered=$i
    break
  fi
  sleep 0.5
done
if [ -n "$recovered" ]; then
  ok "writes work again once space is freed, without a restart (attempt $recovered)"
else
  not_ok "writes still fail after space was freed: HTTP $status"
fi

stop_cleanly server_pid "twofold serve"

# --- the file afterwards -----------------------------------------------------------
python3 - "$disk/twofold.db" "$work/acked" >"$work/integrity" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("PRAGMA integrity_check").fetchone()[0])
acked = [l.split() for l in open(sys.argv[2]) if l.strip()]
found = sum(db.execute("SELECT count(*) FROM users WHERE id = ? AND email = ?", (i, e)).fetchone()[0]
            for i, e in acked)
print(f"{found} {len(acked)}")
PY
integrity=$(sed -n 1p "$work/integrity")
read -r found acked <<<"$(sed -n 2p "$work/integrity")"
if [ "$integrity" = ok ]; then ok "PRAGMA integrity_check: ok"; else not_ok "PRAGMA integrity_check: $integrity"; fi
if [ "$found" = "$acked" ] && [ "$acked" -gt 0 ]; then
  ok "every write acknowledged with 201 is in the database ($found of $acked)"
else
  not_ok "$found of the $acked writes acknowledged with 201 are in the database"
fi
