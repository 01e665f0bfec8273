#!/usr/bin/env python3
"""Times `POST /v1/admin/users` for addresses that are free and for
addresses another account already uses, against the real binary, and
prints both distributions: a tenant's admin must not tell them apart.

    cargo build --release && python3 scripts/email-probe-timing.py [BINARY] [PAIRS]

BINARY defaults to target/release/twofold, PAIRS (interleaved free/taken
creations) to 100. SQLite in a temporary directory, default argon2 settings
unless TWOFOLD_ARGON2_* are set in the environment.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BINARY = sys.argv[1] if len(sys.argv) > 1 else "target/release/twofold"
PAIRS = int(sys.argv[2]) if len(sys.argv) > 2 else 100


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, path, body=None, token=None):
    req = urllib.request.Request(base + path, method="POST" if body is not None else "GET")
    if body is not None:
        req.data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def sign_in(base, email, password):
    _, flow = call(base, "/v1/auth/login", {"email": email})
    status, step = call(base, "/v1/auth/login/password",
                        {"flow_token": flow["flow_token"], "password": password})
    assert status == 200 and step["status"] == "authenticated", step
    return step["access_token"]


def main():
    work = tempfile.mkdtemp()
    env = dict(os.environ, TWOFOLD_DATABASE_URL=f"sqlite://{work}/twofold.db",
               TWOFOLD_DATA_DIR=work, TWOFOLD_LOG_FORMAT="text", RUST_LOG="warn")

    def account(name, email, licenses):
        out = subprocess.run([BINARY, "accounts", "create", "--name", name, "--admin-email", email,
                              "--licenses", str(licenses), "--json"],
                             env=env, check=True, capture_output=True, text=True).stdout
        return json.loads(out)

    owner = account("Owner", "owner-admin@owner.example", 2 * PAIRS + 2)
    prober = account("Prober", "prober-admin@prober.example", 2 * PAIRS + 2)
    port = free_port()
    env["TWOFOLD_BIND"] = f"127.0.0.1:{port}"
    server = subprocess.Popen([BINARY, "serve"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if call(base, "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        owner_token = sign_in(base, owner["email"], owner["password"])
        prober_token = sign_in(base, prober["email"], prober["password"])
        for i in range(PAIRS):
            body = {"email": f"staff{i}@owner.example", "name": "Staff", "role": "technician"}
            assert call(base, "/v1/admin/users", body, owner_token)[0] == 201
        times = {"free": [], "taken": []}
        for i in range(PAIRS):
            for kind, email in (("free", f"new{i}@free.example"),
                                ("taken", f"staff{i}@owner.example")):
                body = {"email": email, "name": "Probe", "role": "technician"}
                start = time.perf_counter()
                status, _ = call(base, "/v1/admin/users", body, prober_token)
                times[kind].append((time.perf_counter() - start) * 1000)
                assert status == 201, (kind, status)
        for kind, ms in times.items():
            ms.sort()
            print(f"{kind:5}  n={len(ms)}  median={statistics.median(ms):.2f} ms  "
                  f"p10={ms[len(ms) // 10]:.2f}  p90={ms[len(ms) * 9 // 10]:.2f}  "
                  f"mean={statistics.mean(ms):.2f}  stdev={statistics.stdev(ms):.2f}")
        diff = statistics.median(times["taken"]) - statistics.median(times["free"])
        print(f"median(taken) - median(free) = {diff:+.2f} ms")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
