#!/usr/bin/env python3
"""Mixed load on twofold across a database outage; run by scripts/outage-check.sh.

Python 3.11 standard library only. Configuration from the environment:

  OUTAGE_BASE        the API's base URL (loopback)
  OUTAGE_EMAIL, OUTAGE_PASSWORD   the admin of a trial account (no 2FA due)
  OUTAGE_STOP, OUTAGE_START       shell commands that stop / start the database
  OUTAGE_HOLD        optional shell command run 1.5 s before the stop that holds
                     a lock requests wait for (their queries then break mid-way)
  OUTAGE_SECONDS     how long the database stays down (default 8)
  OUTAGE_WORKERS     concurrent clients (default 6)
  OUTAGE_POOL_TIMEOUT  the server's pool timeout in seconds (default 3)
  OUTAGE_MARGIN      allowed on top of it for one answer (default 1.5)
  OUTAGE_RECOVER_WITHIN  seconds after the database is back (default 5)

Every worker loops over: GET /v1/me, a password login of the admin, an admin
write (POST /v1/admin/users), and a TOTP login (login, password, code) of
its own enrolled user. Every answer is recorded with its start and end
time, status, `code` and `Retry-After`. Prints `ok - ...` / `not ok - ...`
lines, status counts and the time to recover; exits 1 when a check fails.
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
import pathlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lib"))
from totp import now_step, totp  # noqa: E402  (scripts/lib/totp.py)

BASE = os.environ["OUTAGE_BASE"]
EMAIL = os.environ["OUTAGE_EMAIL"]
PASSWORD = os.environ["OUTAGE_PASSWORD"]
STOP = os.environ["OUTAGE_STOP"]
START = os.environ["OUTAGE_START"]
HOLD = os.environ.get("OUTAGE_HOLD", "")
DOWN = float(os.environ.get("OUTAGE_SECONDS", "8"))
WORKERS = int(os.environ.get("OUTAGE_WORKERS", "6"))
POOL_TIMEOUT = float(os.environ.get("OUTAGE_POOL_TIMEOUT", "3"))
MARGIN = float(os.environ.get("OUTAGE_MARGIN", "1.5"))
RECOVER_WITHIN = float(os.environ.get("OUTAGE_RECOVER_WITHIN", "5"))
CLIENT_TIMEOUT = 20.0

passed = 0
failed = 0


def ok(msg):
    global passed
    passed += 1
    print(f"ok - {msg}", flush=True)


def not_ok(msg):
    global failed
    failed += 1
    print(f"not ok - {msg}", flush=True)


def note(msg):
    print(f"# {msg}", flush=True)


def check(cond, msg):
    (ok if cond else not_ok)(msg)
    return cond


# --- HTTP ------------------------------------------------------------------

records = []  # every answer of the load phase
records_lock = threading.Lock()
no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Answer:
    def __init__(self, op, method, path, t0, t1, status, headers, body):
        self.op, self.method, self.path = op, method, path
        self.t0, self.t1 = t0, t1
        self.status = status
        self.retry_after = headers.get("Retry-After") if headers else None
        self.body = body
        self.json = None
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            pass
        self.code = self.json.get("code") if isinstance(self.json, dict) else None

    @property
    def latency(self):
        return self.t1 - self.t0

    def describe(self):
        return (f"{self.method} {self.path} ({self.op}) -> {self.status} "
                f"code={self.code} Retry-After={self.retry_after} in {self.latency:.2f} s")


def call(method, path, body=None, bearer=None, op="setup", record=True):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if bearer:
        req.add_header("Authorization", f"Bearer {bearer}")
    t0 = time.monotonic()
    try:
        with no_proxy.open(req, timeout=CLIENT_TIMEOUT) as r:
            status, headers, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers, raw = e.code, e.headers, e.read()
    except Exception as e:  # a hang (timeout) or a dropped connection: status 0
        status, headers, raw = 0, None, str(e).encode()
    a = Answer(op, method, path, t0, time.monotonic(), status, headers,
               raw.decode("utf-8", "replace"))
    if record:
        with records_lock:
            records.append(a)
    return a


# --- TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30 s) -------------------------------





# --- flows ---------------------------------------------------------------------

def password_login(email, password, op):
    """login + password steps; the last answer."""
    a = call("POST", "/v1/auth/login", {"email": email}, op=op)
    if a.status != 200 or not a.json or "flow_token" not in a.json:
        return a
    return call("POST", "/v1/auth/login/password",
                {"flow_token": a.json["flow_token"], "password": password}, op=op)


class TotpUser:
    def __init__(self, email, password, secret, used_step):
        self.email, self.password, self.secret = email, password, secret
        self.used_step = used_step


def setup_user(admin_token, i):
    email = f"outage-totp-{i}-{os.getpid()}@example.test"
    a = call("POST", "/v1/admin/users",
             {"email": email, "name": f"Outage TOTP {i}", "role": "technician"},
             bearer=admin_token)
    if a.status != 201:
        raise RuntimeError(f"create TOTP user: {a.describe()} {a.body[:300]}")
    uid, pw = a.json["id"], a.json["initial_password"]
    a = call("POST", f"/v1/admin/users/{uid}/2fa/enable", bearer=admin_token)
    if a.status // 100 != 2:
        raise RuntimeError(f"enable 2FA: {a.describe()} {a.body[:300]}")
    a = password_login(email, pw, "setup")
    if a.status != 200 or a.json.get("status") != "enrollment_required":
        raise RuntimeError(f"login to enrollment: {a.describe()} {a.body[:300]}")
    flow = a.json["flow_token"]
    a = call("POST", "/v1/auth/enrollment/totp", bearer=flow)
    if a.status != 200:
        raise RuntimeError(f"enrollment start: {a.describe()} {a.body[:300]}")
    secret = a.json["secret"]
    flow = a.json.get("flow_token", flow)
    step = now_step()
    a = call("POST", "/v1/auth/enrollment/totp/verify", {"code": totp(secret, step)}, bearer=flow)
    if a.status != 200:
        raise RuntimeError(f"enrollment verify: {a.describe()} {a.body[:300]}")
    flow = a.json.get("flow_token", flow)
    a = call("POST", "/v1/auth/enrollment/recovery-code/confirm", {"confirmed": True}, bearer=flow)
    if a.status != 200 or a.json.get("status") != "authenticated":
        raise RuntimeError(f"recovery-code confirm: {a.describe()} {a.body[:300]}")
    return TotpUser(email, pw, secret, step)


# What the load acknowledged (2xx), checked after the outage.
created_users = []  # (id, email, name)
sessions = []  # (email, access token) of `authenticated` answers
# A user keeps at most this many live sessions; a login past it ends the
# oldest (the server's per-user cap, MAX_LIVE_SESSIONS).
SESSION_CAP = 50
acked_lock = threading.Lock()
stop_load = threading.Event()


def worker(i, admin_token, user, pw_user):
    n = 0
    while not stop_load.is_set():
        n += 1
        op = (n + i) % 4  # each client starts at another kind
        if op == 0:
            call("GET", "/v1/me", bearer=admin_token, op="me")
        elif op == 1:
            a = password_login(pw_user[0], pw_user[1], "login")
            if a.status == 200 and a.json.get("status") == "authenticated":
                with acked_lock:
                    sessions.append((pw_user[0], a.json["access_token"]))
        elif op == 2:
            name = f"Outage w{i} n{n} p{os.getpid()}"
            email = f"outage-w{i}-n{n}-{os.getpid()}@example.test"
            a = call("POST", "/v1/admin/users",
                     {"email": email, "name": name, "role": "read_only"},
                     bearer=admin_token, op="admin-write")
            if a.status == 201:
                with acked_lock:
                    created_users.append((a.json["id"], email, name))
        else:
            # A code step only when a step the user has not spent is
            # acceptable now (the server takes one step either side, once).
            step = max(now_step() - 1, user.used_step + 1)
            a = password_login(user.email, user.password, "totp-login")
            if a.status != 200 or a.json.get("status") != "mfa_required":
                continue
            if step > now_step() + 1:
                continue  # every acceptable step is spent: the flow is left to expire
            a = call("POST", "/v1/auth/login/totp",
                     {"flow_token": a.json["flow_token"], "code": totp(user.secret, step)},
                     op="totp-login")
            if a.status == 200 and a.json.get("status") == "authenticated":
                user.used_step = step
                with acked_lock:
                    sessions.append((user.email, a.json["access_token"]))
            elif a.code == "code_already_used":
                user.used_step = step


def main():
    # --- set-up: the admin's session, one enrolled TOTP user per worker
    a = password_login(EMAIL, PASSWORD, "setup")
    if not (a.status == 200 and a.json.get("status") == "authenticated"):
        not_ok(f"the admin signs in before the outage: {a.describe()} {a.body[:300]}")
        return
    admin_token = a.json["access_token"]
    users = [setup_user(admin_token, i) for i in range(WORKERS)]
    # Password logins sign in a user of their own, so the admin's session
    # (used for the admin calls and the checks) is never the oldest of
    # more than SESSION_CAP and stays live.
    pw_email = f"outage-password-{os.getpid()}@example.test"
    a = call("POST", "/v1/admin/users",
             {"email": pw_email, "name": "Outage password logins", "role": "read_only"},
             bearer=admin_token)
    if a.status != 201:
        not_ok(f"create the password-login user: {a.describe()} {a.body[:300]}")
        return
    pw_user = (pw_email, a.json["initial_password"])
    ok(f"set-up: admin signed in, {len(users)} users enrolled with TOTP")
    with records_lock:
        records.clear()

    threads = [threading.Thread(target=worker, args=(i, admin_token, users[i], pw_user), daemon=True)
               for i in range(WORKERS)]
    t_begin = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(3)

    # --- the outage. HOLD (optional) first takes a lock that logins and
    # admin writes wait for, so that the stop breaks their queries mid-way.
    hold = None
    if HOLD:
        hold = subprocess.Popen(HOLD, shell=True, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(1.5)
    t_stop0 = time.monotonic()
    r = subprocess.run(STOP, shell=True, capture_output=True, text=True)
    t_stopped = time.monotonic()
    if hold:
        try:
            hold.wait(10)
        except subprocess.TimeoutExpired:
            hold.kill()
    check(r.returncode == 0, f"database stopped in {t_stopped - t_stop0:.2f} s")
    if r.returncode != 0:
        note(r.stdout + r.stderr)
    # /readyz polled by a client of its own (each poll may wait out the pool
    # timeout) while the database stays down for exactly DOWN seconds.
    ready_down = []
    down_over = threading.Event()

    def poll_ready():
        while not down_over.is_set():
            ready_down.append(call("GET", "/readyz", op="readyz"))
            down_over.wait(0.5)

    poller = threading.Thread(target=poll_ready, daemon=True)
    poller.start()
    time.sleep(max(0.0, t_stopped + DOWN - time.monotonic()))
    down_over.set()
    t_start0 = time.monotonic()
    r = subprocess.run(START, shell=True, capture_output=True, text=True)
    t_started = time.monotonic()
    check(r.returncode == 0, f"database started again in {t_started - t_start0:.2f} s "
          f"(down {t_start0 - t_stopped:.1f} s)")
    if r.returncode != 0:
        note(r.stdout + r.stderr)
    poller.join(CLIENT_TIMEOUT + 5)
    # Polls answered after the restart began do not count as "during".
    ready_down = [a for a in ready_down if a.t1 <= t_start0]
    # Readiness, polled until 200.
    t_ready = None
    while time.monotonic() < t_started + RECOVER_WITHIN + 10:
        a = call("GET", "/readyz", op="readyz")
        if a.status == 200:
            t_ready = a.t1
            break
        time.sleep(0.1)
    time.sleep(6)
    stop_load.set()
    for t in threads:
        t.join(CLIENT_TIMEOUT + 5)
    t_end = time.monotonic()

    with records_lock:
        rec = list(records)
    note(f"{len(rec)} answers in {t_end - t_begin:.1f} s with {WORKERS} clients")

    # --- never a 500, never a hang
    bad = [a for a in rec if a.status >= 500 and a.status != 503 or a.status == 0]
    check(not bad, f"no answer is a 500 or a hang, before, during or after the outage "
          f"({len(rec)} answers)")
    for a in bad[:10]:
        note("  " + a.describe() + " " + a.body[:200])
    bound = POOL_TIMEOUT + MARGIN
    slowest = max(rec, key=lambda a: a.latency)
    slow = [a for a in rec if a.latency > bound]
    check(not slow, f"every answer within the pool timeout + {MARGIN} s ({bound:.1f} s); "
          f"slowest {slowest.latency:.2f} s: {slowest.method} {slowest.path} -> {slowest.status}")
    for a in slow[:10]:
        note("  " + a.describe())

    # --- during the outage: only 503 service_unavailable with Retry-After
    during = [a for a in rec if a.t0 >= t_stopped and a.t1 <= t_start0]
    counts = Counter((a.status, a.code) for a in during)
    note("answers during the outage (sent after the stop, answered before the restart): "
         + ", ".join(f"{n} x {s} {c}" for (s, c), n in sorted(counts.items(), key=str)))
    not_503 = [a for a in during if a.status != 503 or a.code != "service_unavailable"
               or not a.retry_after]
    check(during and not not_503,
          f"all {len(during)} answers during the outage are 503 service_unavailable with Retry-After")
    for a in not_503[:10]:
        note("  " + a.describe() + " " + a.body[:200])
    # Every kind of request met the outage: in flight at the stop, or sent
    # while the database was down.
    met = [a for a in rec if a.path != "/readyz" and a.t1 > t_stop0 and a.t0 < t_start0]
    ops = Counter(a.op for a in met)
    check({"me", "login", "admin-write", "totp-login"} <= set(ops),
          "the outage met every kind of request: " + ", ".join(f"{k} {v}" for k, v in sorted(ops.items())))
    slow_during = max((a.latency for a in during), default=0)
    note(f"slowest answer during the outage: {slow_during:.2f} s (pool timeout {POOL_TIMEOUT:.0f} s)")
    retry = Counter(a.retry_after for a in during)
    note("Retry-After values during the outage: " + ", ".join(f"{v!r} x {n}" for v, n in retry.items()))
    # Answers that straddled the stop (in flight while the database went away).
    straddle = Counter((a.status, a.code) for a in rec if a.t0 < t_stopped <= a.t1 or a.t0 < t_start0 <= a.t1)
    note("answers in flight at the stop or the restart: "
         + (", ".join(f"{n} x {s} {c}" for (s, c), n in sorted(straddle.items(), key=str)) or "none"))

    if HOLD:
        blocked = [a for a in rec if a.t0 < t_stop0 - 0.2 and a.t1 >= t_stop0
                   and a.path != "/readyz"]
        blocked_counts = Counter((a.status, a.code) for a in blocked)
        check(blocked and all(a.status == 503 and a.code == "service_unavailable" and a.retry_after
                              for a in blocked),
              f"the {len(blocked)} requests waiting on the held lock when the database stopped "
              "(their queries broke mid-way) answer 503 service_unavailable with Retry-After: "
              + ", ".join(f"{n} x {s} {c}" for (s, c), n in sorted(blocked_counts.items(), key=str)))

    # --- readiness
    down_codes = Counter(a.status for a in ready_down)
    check(ready_down and all(a.status == 503 and a.retry_after for a in ready_down),
          f"/readyz answers 503 with Retry-After throughout the outage ({len(ready_down)} polls: "
          + ", ".join(f"{n} x {s}" for s, n in down_codes.items()) + ")")
    if check(t_ready is not None and t_ready - t_started <= RECOVER_WITHIN,
             f"/readyz is 200 again without a restart of twofold, "
             f"{(t_ready - t_started) if t_ready else float('nan'):.2f} s after the database is back "
             f"(at most {RECOVER_WITHIN:.0f} s)"):
        pass
    after = sorted((a for a in rec if a.t0 >= t_started and 200 <= a.status < 300 and a.path != "/readyz"),
                   key=lambda a: a.t1)
    if check(after and after[0].t1 - t_started <= RECOVER_WITHIN,
             "the API serves again without a restart: first 2xx "
             + (f"{after[0].t1 - t_started:.2f} s after the database is back ({after[0].method} {after[0].path})"
                if after else "never")):
        kinds = Counter(a.op for a in after)
        check({"me", "login", "admin-write"} <= set(kinds),
              "after the outage reads, logins and admin writes succeed again: "
              + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))

    # --- no acknowledged write lost
    missing = []
    for uid, email, name in created_users:
        a = call("GET", f"/v1/admin/users?name={urllib.parse.quote(name)}", bearer=admin_token, record=False)
        items = (a.json or {}).get("items") or (a.json or {}).get("users") or []
        if a.status != 200 or not any(u.get("id") == uid and u.get("email") == email for u in items):
            missing.append((uid, email, a.status))
    check(created_users and not missing,
          f"every user acknowledged with 201 exists afterwards ({len(created_users)} created, "
          f"{len(missing)} missing)")
    for m in missing[:5]:
        note(f"  missing: {m}")
    # Every acknowledged session works, but those a user's later logins
    # ended under the per-user cap: per user, min(acknowledged, cap) work.
    per_user = {}
    for email, token in sessions:
        a = call("GET", "/v1/me", bearer=token, record=False)
        acked, live, refused = per_user.get(email, (0, 0, 0))
        per_user[email] = (acked + 1, live + (a.status == 200),
                           refused + (a.status == 401 and a.code == "invalid_token"))
    lost = sum(min(acked, SESSION_CAP) - live for acked, live, _ in per_user.values())
    unexplained = sum(acked - live - refused for acked, live, refused in per_user.values())
    capped = sum(max(acked - SESSION_CAP, 0) for acked, _, _ in per_user.values())
    check(sessions and lost == 0 and unexplained == 0,
          f"every session acknowledged by an `authenticated` answer works afterwards "
          f"({len(sessions)} sessions, {lost} lost; {capped} ended by later logins "
          f"past the per-user cap of {SESSION_CAP}, answering 401 invalid_token)")
    with open(os.environ.get("OUTAGE_CREATED", "/dev/null"), "w") as f:
        for uid, email, _ in created_users:
            f.write(f"{uid} {email}\n")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a set-up failure is a failed check, not a traceback only
        not_ok(f"driver failed: {e!r}")
    stop_load.set()
    note(f"driver: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
