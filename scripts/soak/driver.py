#!/usr/bin/env python3
"""Mixed load for scripts/soak.sh (Python 3.11 standard library only).

Two instances of twofold share one PostgreSQL database and one data
directory. Set-up (on both instances, alternately): the account's admin
enrolls and signs in with a code, creates USERS technicians
(POST /v1/admin/users) and enrolls each once (login -> enrollment_required
-> totp -> verify -> confirm). Then, for SECONDS, THREADS threads send:

  * logins with codes: email -> password -> mfa_required -> TOTP, all on
    one instance (alternating per login); a code is sent once per user per
    30-s step (the replay guard), so the users are rotated;
  * refreshes (POST /v1/auth/token/refresh) of the sessions those logins
    opened, each on the other instance than the session's last call;
  * admin lists (GET /v1/admin/users?limit=50, with name / role / 2FA
    status filters), alternating instances.

RSS (VmRSS of /proc/PID/status) of each instance is sampled every SAMPLE
seconds. At the end the summary goes to stdout: requests by kind and
instance, throughput, errors by status and code (expected 4xx apart from
unexpected ones; any 5xx and any request left unanswered is an error),
latency p50/p99 per kind, each instance's RSS at the end of the warm-up and
at the end, the growth and the series; `ok - ...` / `not ok - ...` lines
for the verdicts. Exits 1 on any 5xx or unexpected error.
"""

import argparse
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse
import pathlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lib"))
from totp import now_step, totp  # noqa: E402  (scripts/lib/totp.py)

# Refusals the load can meet by design: a code whose step was already
# accepted (the replay guard).
EXPECTED = {(401, "code_already_used")}






def rss_kib(pid: int):
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


class Fatal(Exception):
    pass


class Answer:
    def __init__(self, status, body):
        self.status, self.body = status, body

    @property
    def ok(self):
        return 200 <= self.status < 300

    def get(self, key, default=None):
        return self.body.get(key, default) if isinstance(self.body, dict) else default


class Instance:
    def __init__(self, name, base, pid):
        url = urllib.parse.urlparse(base)
        self.name, self.host, self.port, self.pid = name, url.hostname, url.port, pid
        self.local = threading.local()

    def conn(self, timeout):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            self.local.conn = c
        return c

    def drop(self):
        c = getattr(self.local, "conn", None)
        if c is not None:
            c.close()
            self.local.conn = None


class Soak:
    def __init__(self, args):
        self.args = args
        self.inst = [Instance(n, b, p) for n, b, p in
                     zip("AB", args.bases.split(","), [int(x) for x in args.pids.split(",")])]
        self.lock = threading.Lock()
        self.counts = {}       # (kind, instance) -> requests
        self.lat = {}          # kind -> [seconds]
        self.expected = {}     # (kind, status, code) -> n
        self.unexpected = {}   # (kind, status, code) -> n
        self.samples = []      # (t, [rss A, rss B]); t < 0 before the load
        self.logins = 0
        self.users = []
        self.sessions = []     # dicts: access, refresh, inst (index of last call)
        self.admin = None
        self.admin_lock = threading.Lock()
        self.t0 = None
        self.stop = threading.Event()
        self.rr = 0

    # --- HTTP --------------------------------------------------------------
    def call(self, i, kind, method, path, body=None, bearer=None, record=True):
        inst = self.inst[i]
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        status, raw = None, b""
        s = time.monotonic()
        for attempt in range(2):
            conn = inst.conn(self.args.timeout)
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                status = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    inst.drop()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A keep-alive connection the server closed while idle: once
                # more on a fresh connection (nothing reached the handler).
                inst.drop()
                if attempt == 1:
                    break
                s = time.monotonic()
            except (OSError, http.client.HTTPException):
                inst.drop()
                break
        e = time.monotonic()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        if record:
            with self.lock:
                key = (kind, inst.name)
                self.counts[key] = self.counts.get(key, 0) + 1
                if status is not None:
                    self.lat.setdefault(kind, []).append(e - s)
                if status is None or not 200 <= status < 300:
                    code = parsed.get("code") if isinstance(parsed, dict) else None
                    ek = (kind, status if status is not None else "no answer", code)
                    bucket = self.expected if (status, code) in EXPECTED else self.unexpected
                    bucket[ek] = bucket.get(ek, 0) + 1
        elif status is None or (status >= 500):
            raise Fatal(f"{method} {path} on {inst.name}: {status or 'no answer'}")
        return Answer(status if status is not None else 0, parsed)

    # --- set-up ------------------------------------------------------------
    def password_step(self, i, user, record):
        a = self.call(i, "login_email", "POST", "/v1/auth/login", {"email": user["email"]},
                      record=record)
        if a.status != 200 or a.get("status") != "password_required":
            raise Fatal(f"login {user['email']}: {a.status} {a.body}")
        return self.call(i, "login_password", "POST", "/v1/auth/login/password",
                         {"flow_token": a.get("flow_token"), "password": user["password"]},
                         record=record)

    def enroll(self, i, user):
        """Signs USER in for the first time on instance I (and the other for
        verify), enrolling its authenticator; returns the token answer."""
        a = self.password_step(i, user, record=False)
        if a.get("status") != "enrollment_required":
            raise Fatal(f"{user['email']}: expected enrollment_required, got {a.status} {a.body}")
        flow = a.get("flow_token")
        a = self.call(i, "setup", "POST", "/v1/auth/enrollment/totp", bearer=flow, record=False)
        if a.status != 200:
            raise Fatal(f"enrollment/totp {user['email']}: {a.status} {a.body}")
        flow = a.get("flow_token") or flow
        user["secret"] = a.get("secret")
        step = now_step()
        j = 1 - i  # the flow is in the database: the other instance goes on
        a = self.call(j, "setup", "POST", "/v1/auth/enrollment/totp/verify",
                      {"code": totp(user["secret"], step)}, bearer=flow, record=False)
        if a.status != 200:
            raise Fatal(f"enrollment verify {user['email']}: {a.status} {a.body}")
        user["last_step"] = step
        flow = a.get("flow_token") or flow
        a = self.call(i, "setup", "POST", "/v1/auth/enrollment/recovery-code/confirm",
                      {"confirmed": True}, bearer=flow, record=False)
        if a.status != 200 or not a.get("access_token"):
            raise Fatal(f"recovery-code confirm {user['email']}: {a.status} {a.body}")
        return a

    def setup(self):
        args = self.args
        admin = {"email": args.admin_email, "password": args.admin_password}
        a = self.enroll(0, admin)
        self.admin = {"access": a.get("access_token"), "refresh": a.get("refresh_token"),
                      "inst": 0, "at": time.monotonic()}
        for n in range(1, args.users + 1):
            email = f"soak-user-{n}@example.com"
            a = self.call(n % 2, "setup", "POST", "/v1/admin/users",
                          {"email": email, "name": f"Soak User {n}", "role": "technician"},
                          bearer=self.admin["access"], record=False)
            if a.status != 201 and not a.ok:
                raise Fatal(f"create {email}: {a.status} {a.body}")
            self.users.append({"email": email, "password": a.get("initial_password"),
                               "busy": False})
        for n, user in enumerate(self.users):
            a = self.enroll(n % 2, user)
            self.sessions.append({"access": a.get("access_token"),
                                  "refresh": a.get("refresh_token"), "inst": n % 2})
        print(f"# set-up: admin enrolled and signed in; {len(self.users)} users created "
              f"and enrolled, across both instances", flush=True)

    # --- the load ------------------------------------------------------------
    def next_instance(self):
        with self.lock:
            self.rr += 1
            return self.rr % 2

    def take_user(self):
        step = now_step()
        with self.lock:
            ready = [u for u in self.users if not u["busy"] and u["last_step"] < step]
            if not ready:
                return None, None
            user = random.choice(ready)
            user["busy"] = True
            user["last_step"] = step
            return user, step

    def login(self):
        user, step = self.take_user()
        if user is None:
            return False
        i = self.next_instance()
        try:
            a = self.password_step(i, user, record=True)
            if a.status != 200 or a.get("status") != "mfa_required":
                return True
            a = self.call(i, "login_totp", "POST", "/v1/auth/login/totp",
                          {"flow_token": a.get("flow_token"), "code": totp(user["secret"], step)})
            if a.ok and a.get("access_token"):
                with self.lock:
                    self.logins += 1
                    self.sessions.append({"access": a.get("access_token"),
                                          "refresh": a.get("refresh_token"), "inst": i})
                    if len(self.sessions) > self.args.max_sessions:
                        self.sessions.pop(0)
        finally:
            with self.lock:
                user["busy"] = False
        return True

    def refresh(self):
        with self.lock:
            if not self.sessions:
                return False
            sess = self.sessions.pop(random.randrange(len(self.sessions)))
        i = 1 - sess["inst"]  # on the other instance than the last call
        a = self.call(i, "refresh", "POST", "/v1/auth/token/refresh",
                      {"refresh_token": sess["refresh"]})
        if a.ok and a.get("refresh_token"):
            sess.update(access=a.get("access_token"), refresh=a.get("refresh_token"), inst=i)
            with self.lock:
                self.sessions.append(sess)
        return True

    def admin_token(self):
        """The admin's access token, refreshed (on the other instance) when
        it is 10 minutes old: access tokens last 15."""
        with self.admin_lock:
            adm = self.admin
            if time.monotonic() - adm["at"] > 600:
                i = 1 - adm["inst"]
                a = self.call(i, "refresh", "POST", "/v1/auth/token/refresh",
                              {"refresh_token": adm["refresh"]})
                if a.ok:
                    adm.update(access=a.get("access_token"), refresh=a.get("refresh_token"),
                               inst=i, at=time.monotonic())
            return adm["access"]

    FILTERS = ["", "&name=soak", "&name=user-1", "&name=User%202", "&role=technician",
               "&twofa_status=enabled", "&name=nobody-matches", "&role=admin"]

    def admin_list(self):
        token = self.admin_token()
        i = self.next_instance()
        q = random.choice(self.FILTERS)
        a = self.call(i, "admin_list", "GET", f"/v1/admin/users?limit=50{q}", bearer=token)
        if a.ok and a.get("next_cursor"):
            cur = urllib.parse.quote(a.get("next_cursor"))
            self.call(1 - i, "admin_list", "GET", f"/v1/admin/users?limit=50{q}&cursor={cur}",
                      bearer=token)
        return True

    def worker(self, index):
        rng = random.Random(index)
        while not self.stop.is_set():
            r = rng.random()
            done = False
            if r < 0.4:
                done = self.login()
            if not done:
                if rng.random() < 0.5:
                    done = self.refresh()
                if not done:
                    self.admin_list()
            if self.args.pause:
                time.sleep(rng.uniform(0, 2 * self.args.pause))

    def sampler(self):
        nxt = 0.0
        while True:
            t = time.monotonic() - self.t0
            if t >= nxt or self.stop.is_set():
                sample = (round(t), [rss_kib(x.pid) for x in self.inst])
                if self.samples and self.samples[-1][0] == sample[0]:
                    self.samples[-1] = sample
                else:
                    self.samples.append(sample)
                nxt += self.args.sample
            if self.stop.is_set():
                return
            self.stop.wait(max(0.0, min(nxt - t, 1.0)))

    def run(self):
        self.samples.append((-1, [rss_kib(x.pid) for x in self.inst]))  # before set-up
        self.setup()
        self.t0 = time.monotonic()
        threads = [threading.Thread(target=self.sampler, name="rss")]
        threads += [threading.Thread(target=self.worker, args=(k,), name=f"load-{k}")
                    for k in range(self.args.threads)]
        for t in threads:
            t.start()
        end = self.t0 + self.args.seconds
        while time.monotonic() < end:
            time.sleep(min(1.0, max(0.0, end - time.monotonic())))
            if any(rss_kib(x.pid) is None for x in self.inst):
                print("# an instance exited during the load", flush=True)
                break
        elapsed = time.monotonic() - self.t0
        self.stop.set()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - self.t0
        return self.report(elapsed)

    # --- the summary -----------------------------------------------------------
    def report(self, elapsed):
        kinds = ["login_email", "login_password", "login_totp", "refresh", "admin_list"]
        total = sum(self.counts.values())
        print(f"# load: {elapsed:.0f} s, {self.args.threads} threads, "
              f"{len(self.users)} users, instances A and B")
        print(f"# requests: {total} in {elapsed:.1f} s = {total / elapsed:.1f} req/s; "
              f"logins completed (with a code): {self.logins} ({self.logins / elapsed:.2f}/s)")
        print(f"# {'kind':<15} {'A':>8} {'B':>8} {'total':>8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}")
        for k in kinds:
            a = self.counts.get((k, "A"), 0)
            b = self.counts.get((k, "B"), 0)
            lat = self.lat.get(k, [])
            print(f"# {k:<15} {a:>8} {b:>8} {a + b:>8} {(a + b) / elapsed:>7.1f} "
                  f"{pct(lat, 50) * 1000:>8.1f} {pct(lat, 99) * 1000:>8.1f}")
        ta = sum(v for (k, n), v in self.counts.items() if n == "A")
        tb = sum(v for (k, n), v in self.counts.items() if n == "B")
        print(f"# {'all':<15} {ta:>8} {tb:>8} {total:>8} {total / elapsed:>7.1f}")
        n_exp = sum(self.expected.values())
        n_unexp = sum(self.unexpected.values())
        n_5xx = sum(v for (k, s, c), v in self.unexpected.items()
                    if isinstance(s, int) and s >= 500)
        print(f"# expected refusals: {n_exp}")
        for (k, s, c), v in sorted(self.expected.items(), key=str):
            print(f"#   {k}: {s} {c}: {v}")
        print(f"# unexpected errors: {n_unexp} (5xx: {n_5xx})")
        for (k, s, c), v in sorted(self.unexpected.items(), key=str):
            print(f"#   {k}: {s} {c}: {v}")

        # RSS: start = the first sample at or after the warm-up.
        load = [(t, r) for t, r in self.samples if t >= 0]
        warm = min(self.args.warmup, elapsed / 5)
        start = next(((t, r) for t, r in load if t >= warm), load[0])
        last = load[-1]
        print("# RSS series (KiB; t in s from the start of the load, -1 = before set-up):")
        for t, r in self.samples:
            print(f"#   t={t:>5}  A {r[0] if r[0] is not None else '-':>8}  "
                  f"B {r[1] if r[1] is not None else '-':>8}")
        flat, grew = [], False
        for idx, inst in enumerate(self.inst):
            s, e = start[1][idx], last[1][idx]
            if s is None or e is None:
                print(f"# memory {inst.name}: no sample (the instance exited)")
                continue
            grow = e - s
            # Least-squares slope over the samples after the warm-up.
            pts = [(t, r[idx]) for t, r in load if t >= start[0] and r[idx] is not None]
            slope = ""
            if len(pts) >= 3:
                mt = sum(p[0] for p in pts) / len(pts)
                mr = sum(p[1] for p in pts) / len(pts)
                den = sum((p[0] - mt) ** 2 for p in pts)
                if den:
                    k = sum((p[0] - mt) * (p[1] - mr) for p in pts) / den
                    slope = f", trend {k * 60:+.0f} KiB/min"
            print(f"# memory {inst.name} (pid {inst.pid}): {s} KiB at t={start[0]} s (after warm-up) "
                  f"-> {e} KiB at t={last[0]} s: {grow:+d} KiB ({100 * grow / s:+.1f}%){slope}")
            flat.append(f"{inst.name} {100 * grow / s:+.1f}%")
            grew = grew or abs(grow) > 0.05 * s
        if flat:
            print(f"# memory after warm-up: {', '.join(flat)} -> "
                  + ("GREW by more than 5%: look into it (reported, not judged)" if grew
                     else "flat (within 5%; reported, not judged)"))

        alive = all(rss_kib(x.pid) is not None for x in self.inst)
        bad = 0
        for good, what in [
            (alive, "both instances ran to the end of the load"),
            (n_5xx == 0, f"no 5xx answer ({n_5xx})"),
            (n_unexp == 0, f"no unexpected error ({n_unexp}; expected refusals {n_exp})"),
            (self.logins > 0 and all(self.counts.get((k, n), 0) > 0
                                     for k in kinds for n in "AB"),
             "every kind of request reached both instances"),
        ]:
            print(("ok - " if good else "not ok - ") + what)
            bad += not good
        return 1 if bad else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bases", required=True, help="BASE_A,BASE_B")
    p.add_argument("--pids", required=True, help="PID_A,PID_B")
    p.add_argument("--admin-email", required=True)
    p.add_argument("--admin-password", required=True)
    p.add_argument("--seconds", type=float, default=300)
    p.add_argument("--users", type=int, default=40)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--sample", type=float, default=10)
    p.add_argument("--warmup", type=float, default=30)
    p.add_argument("--pause", type=float, default=0.0, help="mean pause between requests (s)")
    p.add_argument("--max-sessions", type=int, default=200)
    p.add_argument("--timeout", type=float, default=20.0)
    args = p.parse_args()
    try:
        rc = Soak(args).run()
    except Fatal as err:
        print(f"not ok - set-up: {err}", flush=True)
        rc = 1
    sys.exit(rc)


if __name__ == "__main__":
    main()
