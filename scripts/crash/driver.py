#!/usr/bin/env python3
"""Load for scripts/crash-check.sh (Python 3.11 standard library only).

Runs, concurrently and until STOP_FILE exists (or --max-seconds pass):
  * an admin thread: signs the account's admin in (enrolling it first), then
    creates users (POST /v1/admin/users) and resets random ones in bulk
    (POST /v1/admin/users/2fa/reset);
  * worker threads, each owning some of the created users: sign-ins that
    enroll (login -> enrollment_required -> totp -> verify -> confirm) or
    pass a TOTP code (mfa_required -> login/totp), replays of an accepted
    code (right after a restart too), and pairs of racing logins that
    send one code on two flows at once.

TOTP codes are computed here (RFC 6238: HMAC-SHA1, 6 digits, 30 s).
The server is killed and restarted under it; requests that fail are simply
abandoned and the user's next sign-in starts over.

Every request that changes something is written to OPS (JSON lines) with
when it was sent (s) and when its answer or error came (e), whether it was
acknowledged (2xx), and what the acknowledgement guarantees; the checker
(check.py) compares that with the database. Summary counts go to stdout.
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import random
import threading
import time
import urllib.parse
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lib"))
from totp import now_step, totp  # noqa: E402  (scripts/lib/totp.py)





def secret_id(secret_b32: str) -> str:
    """Names a secret in OPS without writing the secret itself."""
    return hashlib.sha256(secret_b32.encode()).hexdigest()[:16]


def jwt_claims(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))




class Unanswered(Exception):
    """No HTTP answer (connection refused or reset, timeout). `refused`:
    the connection was refused, so no server ever saw the request."""

    def __init__(self, message, refused):
        super().__init__(message)
        self.refused = refused


class Answer:
    def __init__(self, status, body, s, e):
        self.status, self.body, self.s, self.e = status, body, s, e

    @property
    def ok(self):
        return 200 <= self.status < 300

    def get(self, key, default=None):
        return self.body.get(key, default) if isinstance(self.body, dict) else default


class Driver:
    def __init__(self, args):
        self.args = args
        url = urllib.parse.urlparse(args.base)
        self.host, self.port = url.hostname, url.port
        self.stop_file = args.stop_file
        self.deadline = time.time() + args.max_seconds
        self.lock = threading.Lock()
        self.ops = open(args.ops, "a", encoding="utf-8")
        self.users = []  # dicts: id, email, password, owner
        self.counts = {}
        self.stopping = threading.Event()

    # --- bookkeeping -------------------------------------------------------
    def record(self, **op):
        with self.lock:
            self.ops.write(json.dumps(op) + "\n")
            self.ops.flush()

    def count(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def stopped(self):
        if self.stopping.is_set():
            return True
        if os.path.exists(self.stop_file) or time.time() > self.deadline:
            self.stopping.set()
        return self.stopping.is_set()

    # --- HTTP ----------------------------------------------------------------
    def call(self, method, path, body=None, bearer=None):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        s = time.time()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.args.timeout)
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            status = resp.status
        except ConnectionRefusedError as err:
            self.count("requests refused (server down)")
            raise Unanswered(f"{method} {path}: {err}", refused=True) from None
        except (OSError, http.client.HTTPException) as err:
            self.count("requests left unanswered (server killed)")
            raise Unanswered(f"{method} {path}: {err}", refused=False) from None
        finally:
            conn.close()
        e = time.time()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        if status >= 500:
            self.count(f"HTTP {status} answers")
            if status != 503:
                self.record(op="server_error", path=path, status=status, s=s, e=e,
                            code=parsed.get("code") if isinstance(parsed, dict) else None)
        return Answer(status, parsed, s, e)

    # --- signing in ------------------------------------------------------------
    def password_step(self, user):
        a = self.call("POST", "/v1/auth/login", {"email": user["email"]})
        if a.status != 200 or a.get("status") != "password_required":
            return None
        return self.call("POST", "/v1/auth/login/password",
                         {"flow_token": a.get("flow_token"), "password": user["password"]})

    def enroll(self, user, flow):
        a = self.call("POST", "/v1/auth/enrollment/totp", bearer=flow)
        if a.status != 200:
            return None
        flow = a.get("flow_token") or flow
        secret = a.get("secret")
        sid_ = secret_id(secret)
        step = now_step()
        # From here on this secret may be the active one (if the confirm
        # below commits without an answer reaching us).
        user["candidate"] = secret
        user.setdefault("tried", {})[sid_] = step
        s = time.time()
        try:
            a = self.call("POST", "/v1/auth/enrollment/totp/verify",
                          {"code": totp(secret, step)}, bearer=flow)
        except Unanswered as err:
            self.record(refused=err.refused, op="verify", user=user["id"], secret=sid_, step=step, ack=False,
                        answered=False, s=s, e=time.time())
            raise
        self.record(op="verify", user=user["id"], secret=sid_, step=step, ack=a.ok,
                    answered=True, status=a.status, code=a.get("code"), s=a.s, e=a.e)
        if not a.ok:
            return None
        # The enrollment's code stays spent once the authenticator is active.
        user["last_ok"] = (sid_, step)
        flow = a.get("flow_token") or flow
        s = time.time()
        try:
            a = self.call("POST", "/v1/auth/enrollment/recovery-code/confirm",
                          {"confirmed": True}, bearer=flow)
        except Unanswered as err:
            self.record(refused=err.refused, op="confirm", user=user["id"], secret=sid_, ack=False, answered=False,
                        s=s, e=time.time())
            raise
        sid = None
        if a.ok and a.get("access_token"):
            sid = jwt_claims(a.get("access_token")).get("sid")
        self.record(op="confirm", user=user["id"], secret=sid_, ack=a.ok, answered=True,
                    status=a.status, code=a.get("code"), answer=a.get("status"), sid=sid, s=a.s, e=a.e)
        if a.ok:
            self.count("enrollments confirmed")
            user["enrolled"] = True
            return a.get("access_token")
        return None

    def next_step(self, user):
        """The step to use next for the candidate secret: above every step
        ever sent for it, and within the server's window (now, now + 1)."""
        secret = user.get("candidate")
        if not secret:
            return None
        used = user.get("tried", {}).get(secret_id(secret), 0)
        step = max(used + 1, now_step())
        return step if step <= now_step() + 1 else None

    def totp_login(self, user, flow, step, race=False):
        secret = user["candidate"]
        sid_ = secret_id(secret)
        user.setdefault("tried", {})[sid_] = max(step, user["tried"].get(sid_, 0))
        s = time.time()
        try:
            a = self.call("POST", "/v1/auth/login/totp",
                          {"flow_token": flow, "code": totp(secret, step)})
        except Unanswered as err:
            self.record(refused=err.refused, op="login", user=user["id"], secret=sid_, step=step, ack=False,
                        answered=False, race=race, s=s, e=time.time())
            raise
        sid = None
        if a.ok and a.get("access_token"):
            sid = jwt_claims(a.get("access_token")).get("sid")
        self.record(op="login", user=user["id"], secret=sid_, step=step, ack=a.ok,
                    answered=True, race=race, status=a.status, code=a.get("code"), answer=a.get("status"), sid=sid,
                    s=a.s, e=a.e)
        if a.ok:
            self.count("TOTP logins acknowledged")
            user["last_ok"] = (sid_, step)
        return a

    def sign_in(self, user):
        """One sign-in, enrolling if asked; the access token or None."""
        if user.get("enrolled") and user.get("candidate") and self.next_step(user) is None:
            return None  # no fresh step for this user right now
        a = self.password_step(user)
        if a is None or a.status != 200:
            return None
        flow = a.get("flow_token")
        state = a.get("status")
        if state == "enrollment_required":
            user["enrolled"] = False
            return self.enroll(user, flow)
        if state == "mfa_required":
            user["enrolled"] = True
            step = self.next_step(user)
            if step is None:
                return None
            a = self.totp_login(user, flow, step)
            return a.get("access_token") if a.ok else None
        self.record(op="unexpected_state", user=user["id"], state=state, s=a.s, e=a.e)
        return None

    def replay(self, user):
        """Sends the user's last accepted code again on a new flow: it must
        be refused. Only while that step is still inside the window, so a
        refusal can only be the replay guard (never a lockout-counting
        wrong code)."""
        last = user.get("last_ok")
        if not last or not user.get("candidate") or last[0] != secret_id(user["candidate"]):
            return
        step = last[1]
        if step < now_step():
            return
        a = self.password_step(user)
        if a is None or a.status != 200 or a.get("status") != "mfa_required":
            return
        if step < now_step():
            return
        s = time.time()
        try:
            r = self.call("POST", "/v1/auth/login/totp",
                          {"flow_token": a.get("flow_token"),
                           "code": totp(user["candidate"], step)})
        except Unanswered:
            raise
        self.count("replays sent")
        self.record(op="replay", user=user["id"], secret=last[0], step=step, ack=r.ok,
                    status=r.status, code=r.get("code"), s=s, e=r.e)

    def race(self, user):
        """Two flows at mfa_required, one code sent on both at once."""
        step = self.next_step(user)
        if step is None:
            return
        flows = []
        for _ in range(2):
            a = self.password_step(user)
            if a is None or a.status != 200 or a.get("status") != "mfa_required":
                return
            flows.append(a.get("flow_token"))
        if step < now_step():
            return
        self.count("racing pairs sent")
        barrier = threading.Barrier(2)

        def one(flow):
            try:
                barrier.wait(5)
                self.totp_login(user, flow, step, race=True)
            except (Unanswered, threading.BrokenBarrierError):
                pass

        threads = [threading.Thread(target=one, args=(f,)) for f in flows]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    # --- threads -----------------------------------------------------------
    def worker(self, index):
        rng = random.Random(index * 7919 + int(time.time()))
        recovering = False
        while not self.stopped():
            with self.lock:
                mine = [u for u in self.users if u["owner"] == index and not u.get("gave_up")]
            ready = [u for u in mine if not (u.get("enrolled") and self.next_step(u) is None)]
            if not ready:
                time.sleep(0.1)
                continue
            user = rng.choice(ready)
            replayable = [u for u in mine
                          if u.get("last_ok") and u["last_ok"][1] >= now_step()]
            try:
                if recovering:
                    # Right after a restart: the codes accepted last must
                    # still be spent.
                    for u in replayable:
                        self.replay(u)
                    recovering = False
                r = rng.random()
                if r < 0.15 and user.get("enrolled"):
                    self.race(user)
                elif r < 0.35 and replayable:
                    self.replay(rng.choice(replayable))
                else:
                    self.sign_in(user)
            except Unanswered:
                recovering = True
                time.sleep(0.2)
            time.sleep(rng.uniform(0, 0.05))

    def admin_session(self, admin):
        while not self.stopped():
            try:
                token = self.sign_in(admin)
                if token:
                    return token
            except Unanswered:
                pass
            time.sleep(0.2)
        return None

    def admin(self):
        rng = random.Random(int(time.time()))
        admin = {"id": self.args.admin_id, "email": self.args.admin_email,
                 "password": self.args.admin_password}
        token = self.admin_session(admin)
        if not token:
            return
        with open(self.args.ready_file, "w", encoding="utf-8") as f:
            f.write("ready\n")
        n = 0
        while not self.stopped():
            with self.lock:
                known = [u["id"] for u in self.users]
            try:
                if len(known) < self.args.users and (len(known) < 4 or rng.random() < 0.6):
                    n += 1
                    email = f"crash-{os.getpid()}-{n}@example.com"
                    s = time.time()
                    try:
                        a = self.call("POST", "/v1/admin/users",
                                      {"email": email, "name": f"Crash {n}",
                                       "role": "technician"}, bearer=token)
                    except Unanswered as err:
                        self.record(refused=err.refused, op="create", email=email, ack=False, answered=False,
                                    s=s, e=time.time())
                        raise
                    uid = a.get("id") if a.ok else None
                    self.record(op="create", email=email, user=uid, ack=a.ok, answered=True,
                                status=a.status, code=a.get("code"), s=a.s, e=a.e)
                    if a.ok:
                        self.count("users created")
                        with self.lock:
                            self.users.append({"id": uid, "email": email,
                                               "password": a.get("initial_password"),
                                               "owner": len(self.users) % self.args.workers})
                    elif a.status == 401:
                        token = self.admin_session(admin)
                elif known:
                    ids = rng.sample(known, k=min(len(known), rng.randint(1, 3)))
                    s = time.time()
                    try:
                        a = self.call("POST", "/v1/admin/users/2fa/reset",
                                      {"user_ids": ids}, bearer=token)
                    except Unanswered as err:
                        self.record(refused=err.refused, op="reset", ids=ids, ack=False, answered=False,
                                    s=s, e=time.time())
                        raise
                    self.record(op="reset", ids=ids, ack=a.ok, answered=True, status=a.status,
                                code=a.get("code"), s=a.s, e=a.e)
                    if a.ok:
                        self.count("resets acknowledged")
                        self.count("users reset", len(ids))
                    elif a.status == 401:
                        token = self.admin_session(admin)
            except Unanswered:
                time.sleep(0.2)
            time.sleep(rng.uniform(self.args.admin_pause / 2, self.args.admin_pause))

    def run(self):
        threads = [threading.Thread(target=self.admin, name="admin")]
        threads += [threading.Thread(target=self.worker, args=(i,), name=f"worker-{i}")
                    for i in range(self.args.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.ops.close()
        for key in sorted(self.counts):
            print(f"# driver: {key}: {self.counts[key]}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--base", required=True)
    p.add_argument("--ops", required=True)
    p.add_argument("--stop-file", required=True)
    p.add_argument("--ready-file", required=True)
    p.add_argument("--admin-id", required=True)
    p.add_argument("--admin-email", required=True)
    p.add_argument("--admin-password", required=True)
    p.add_argument("--users", type=int, default=60)
    p.add_argument("--workers", type=int, default=6)
    p.add_argument("--admin-pause", type=float, default=0.15)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--max-seconds", type=float, default=150.0)
    Driver(p.parse_args()).run()


if __name__ == "__main__":
    main()
