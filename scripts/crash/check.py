#!/usr/bin/env python3
"""The invariants of scripts/crash-check.sh, checked after the server's
final clean stop, in the database itself (the sqlite3 or psql command line
runs the queries of invariants.sql) against what the load's acknowledged
(2xx) answers guarantee (OPS, written by driver.py).

  check.py --ops OPS --kills KILLS_FILE --db-url URL --sql invariants.sql

Prints one `ok - ...` / `not ok - ...` line per invariant with its counts
(rows checked, violations) and `# ` notes naming the first violations.

When a request can have changed something: an acknowledged one between
its sending (s) and its answer (e); one answered with a 4xx never (an
error answer changes nothing); one refused at connect never; one answered
5xx up to e; one left unanswered (the server was killed under it) up to
the first kill after it was sent, or at any time if no kill followed.
"""

import argparse
import json
import math
import subprocess
import sys
import time
from collections import defaultdict

INF = math.inf
SHOWN = 10


def load_queries(path):
    queries, name, lines = {}, None, []
    for line in open(path, encoding="utf-8"):
        if line.startswith("-- name:"):
            if name:
                queries[name] = "\n".join(lines).strip()
            name, lines = line.split(":", 1)[1].strip(), []
        elif name and not line.lstrip().startswith("--"):
            lines.append(line.rstrip("\n"))
    if name:
        queries[name] = "\n".join(lines).strip()
    return queries


class Db:
    def __init__(self, url):
        self.url = url

    def rows(self, sql):
        if self.url.startswith("sqlite://"):
            out = subprocess.run(["sqlite3", "-bail", "-json", self.url[len("sqlite://"):], sql],
                                 check=True, capture_output=True, text=True, timeout=60).stdout
            return json.loads(out) if out.strip() else []
        wrapped = f"SELECT coalesce(json_agg(q), '[]'::json) FROM ({sql}) q"
        out = subprocess.run(["psql", self.url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                              "-c", wrapped],
                             check=True, capture_output=True, text=True, timeout=60).stdout
        return json.loads(out)


class Report:
    def __init__(self):
        self.failed = 0

    def check(self, title, checked, violations, unit="rows"):
        counts = f"({checked} {unit} checked, {len(violations)} violations)".replace("  ", " ")
        if violations:
            self.failed += 1
            print(f"not ok - {title} {counts}")
            for v in violations[:SHOWN]:
                print(f"#   {v}")
            if len(violations) > SHOWN:
                print(f"#   ... and {len(violations) - SHOWN} more")
        else:
            print(f"ok - {title} {counts}")


def window_end(op, kills):
    """Until when `op` may have committed (None: it cannot have)."""
    if op.get("ack"):
        return op["e"]
    if op.get("refused"):
        return None
    if op.get("answered"):
        return op["e"] if op.get("status", 0) >= 500 else None
    later = [k for k in kills if k >= op["s"]]
    return min(later) if later else INF


def match(ops, times):
    """Greedy interval-point matching: each acknowledged op (s, e, label)
    takes one event time in [floor(s), ceil(e)]; returns the unmatched."""
    times = sorted(times)
    used = [False] * len(times)
    missing = []
    for s, e, label in sorted(ops, key=lambda o: (o[1], o[0])):
        lo, hi = math.floor(s), math.ceil(e)
        for i, t in enumerate(times):
            if not used[i] and lo <= t <= hi:
                used[i] = True
                break
        else:
            missing.append(label)
    return missing


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ops", required=True)
    p.add_argument("--kills", required=True)
    p.add_argument("--db-url", required=True)
    p.add_argument("--sql", required=True)
    args = p.parse_args()

    ops = [json.loads(line) for line in open(args.ops, encoding="utf-8") if line.strip()]
    kills = [float(x) for x in open(args.kills, encoding="utf-8").read().split()]
    q = load_queries(args.sql)
    db = Db(args.db_url)
    report = Report()

    by = defaultdict(list)
    for op in ops:
        by[op["op"]].append(op)
    acked = {k: [o for o in v if o.get("ack")] for k, v in by.items()}
    summary = ", ".join(
        f"{k} {len(acked.get(k, []))}/{len(by.get(k, []))}"
        for k in ("create", "verify", "confirm", "login", "reset", "replay"))
    print(f"# operations acknowledged/sent: {summary}")
    races = defaultdict(list)
    for o in by.get("login", []):
        if o.get("race"):
            races[(o["user"], o["secret"], o["step"])].append(o)
    print(f"# racing login pairs: {len(races)}, with one acknowledged:"
          f" {sum(1 for v in races.values() if sum(o.get('ack', False) for o in v) == 1)}")
    after_kill = [o for o in by.get("replay", []) if any(k <= o["s"] <= k + 5 for k in kills)]
    print(f"# replays of an accepted code within 5 s after a restart: {len(after_kill)}")
    answers = defaultdict(int)
    for o in by.get("replay", []) + [o for o in by.get("login", []) if o.get("race")]:
        answers[f"{o['op']}{' (race)' if o.get('race') else ''}:"
                f" {o.get('status', '-')} {o.get('code') or ''}".rstrip()] += 1
    print("# answers to replays and racing logins: "
          + ", ".join(f"{k} x{v}" for k, v in sorted(answers.items())))
    counts = db.rows(q["counts"])[0]
    print("# database: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

    # The load must have exercised every kind of change.
    thin = [k for k in ("create", "confirm", "login", "reset") if not acked.get(k)]
    anomalies = [f"{o['op']}: {json.dumps(o)}" for o in by.get("server_error", [])
                 + by.get("unexpected_state", [])]
    report.check("the load acknowledged creations, enrollments, logins and resets, with no"
                 " HTTP 500 and no sign-in without a second factor",
                 len(ops), [f"no acknowledged {k}" for k in thin] + anomalies, "operations")

    # 1. No active factor without a confirmed recovery code: in the database
    # at the end, and as the load saw it (a TOTP login that asks to confirm
    # a new recovery code found the user with an authenticator and no code;
    # the load never spends a recovery code).
    with_factor = db.rows(q["users_with_a_factor"])
    bad = [f"user {r['user_id']}: {r['reason']}" for r in db.rows(q["factor_without_recovery_code"])]
    no_code = [o for o in acked.get("login", [])
               if o.get("answer", "authenticated" if o.get("sid") else None) != "authenticated"]
    bad += [f"user {o['user']}: TOTP login answered {o.get('answer')} at {o['e']:.3f}: it had an"
            " authenticator and no recovery code then" for o in no_code]
    report.check("1: no user with an active authenticator but no confirmed recovery code",
                 f"{len(with_factor)} users with a factor in the database,"
                 f" {len(acked.get('login', []))} acknowledged TOTP logins", bad, "")

    # 2. No half-activated enrollment.
    bad = db.rows(q["half_activated"])
    report.check("2: no half-activated enrollment (flag, authenticator, recovery code,"
                 " enrollments in progress and audit event agree)",
                 f"{counts['users']} users, {counts['authenticators']} authenticators,"
                 f" {counts['pending']} enrollments in progress",
                 [f"user {r['user_id']}: {r['reason']}" for r in bad], "")

    users = {u["id"]: u for u in db.rows(q["users"])}
    sessions = {s["id"]: s for s in db.rows(q["sessions"])}

    # 3. Every acknowledged change is present.
    violations, checked = [], 0
    for o in acked.get("create", []):
        checked += 1
        if o["user"] not in users:
            violations.append(f"user {o['user']} ({o['email']}) created (acknowledged) but absent")
    # Acknowledged sign-ins that opened a session.
    sign_ins = [o for o in acked.get("login", []) + acked.get("confirm", [])
                if o.get("answer", "authenticated" if o.get("sid") else None) == "authenticated"]
    for o in sign_ins:
        checked += 1
        s = sessions.get(o.get("sid"))
        if not s or s["user_id"] != o["user"]:
            violations.append(f"{o['op']} of user {o['user']} acknowledged at {o['e']:.3f} with"
                              f" session {o.get('sid')}, which the database does not hold")
    # State changes per user: creation and reset leave no factor, a
    # confirmed enrollment leaves one.
    changes = defaultdict(list)
    for o in by.get("create", []):
        if o.get("ack"):
            changes[o["user"]].append(("none", o))
    for o in by.get("confirm", []):
        changes[o["user"]].append(("enrolled", o))
    for o in by.get("reset", []):
        for uid in o["ids"]:
            changes[uid].append(("none", o))
    determined, undetermined = {}, 0
    for uid, ch in changes.items():
        if uid not in users:
            continue
        final = None
        for effect, a in ch:
            if not a.get("ack"):
                continue
            later = False
            for effect_b, b in ch:
                if b is a or effect_b == effect:
                    continue
                end = window_end(b, kills)
                if end is not None and end >= a["s"]:
                    later = True
                    break
            if not later:
                final = (effect, a)
        if final is None:
            undetermined += 1
            continue
        determined[uid] = final
        effect, a = final
        u = users[uid]
        checked += 1
        when = f"{a['op']} acknowledged at {a['e']:.3f}"
        if effect == "enrolled":
            if not (u["totp"] == 1 and u["recovery"] == 1 and u["enrolled"] == 1):
                violations.append(f"user {uid}: last change {when} (enrolled), but authenticator"
                                  f" {u['totp']}, recovery code {u['recovery']}, twofa_enrolled"
                                  f" {u['enrolled']}")
        elif u["totp"] or u["recovery"] or u["passkeys"] or u["enrolled"]:
            violations.append(f"user {uid}: last change {when} (no factor), but authenticator"
                              f" {u['totp']}, recovery code {u['recovery']}, passkeys"
                              f" {u['passkeys']}, twofa_enrolled {u['enrolled']}")
    for o in acked.get("reset", []):
        for uid in o["ids"]:
            checked += 1
            if uid in users and users[uid]["required"] != 1:
                violations.append(f"user {uid}: reset acknowledged at {o['e']:.3f}, but"
                                  " twofa_required is not set")
            for si in sign_ins:
                if si["user"] == uid and si["e"] < o["s"] and si.get("sid") in sessions:
                    checked += 1
                    if not sessions[si["sid"]]["revoked"]:
                        violations.append(f"user {uid}: session {si['sid']} (signed in at"
                                          f" {si['e']:.3f}) not revoked by the reset"
                                          f" acknowledged at {o['e']:.3f}")
    print(f"# invariant 3: final state determined by an acknowledged change for"
          f" {len(determined)} users, {undetermined} left open by a possibly later change")
    report.check("3: every acknowledged change is present (users, sessions, final 2FA state,"
                 " resets' revocations)", checked, violations, "facts")

    # 4. No TOTP step accepted twice (per secret: migration 000011 keeps the
    # replay record per authenticator, so a new secret starts afresh).
    violations, checked = [], 0
    accepted = defaultdict(list)
    for o in acked.get("verify", []) + acked.get("login", []):
        accepted[(o["user"], o["secret"], o["step"])].append(o)
        checked += 1
    for (uid, sec, step), os_ in accepted.items():
        if len(os_) > 1:
            at = ", ".join(f"{o['e']:.3f}" for o in os_)
            violations.append(f"user {uid}: step {step} of secret {sec} accepted"
                              f" {len(os_)} times (answers at {at})")
    for o in acked.get("replay", []):
        violations.append(f"user {o['user']}: replayed step {o['step']} accepted at {o['e']:.3f}")
    checked += len(by.get("replay", []))
    current = int(time.time()) // 30
    for uid, (effect, a) in determined.items():
        if effect != "enrolled" or uid not in users or users[uid]["totp"] != 1:
            continue
        steps = [o["step"] for (u, sec, _), os_ in accepted.items()
                 if u == uid and sec == a["secret"] for o in os_]
        if not steps:
            continue
        checked += 1
        last = users[uid]["last_step"]
        if last < max(steps):
            violations.append(f"user {uid}: totp_authenticators.last_step {last} is below the"
                              f" acknowledged step {max(steps)}: that code would be accepted"
                              " again")
    for uid, u in users.items():
        if u["totp"] and u["last_step"] is not None and u["last_step"] > current + 1:
            violations.append(f"user {uid}: last_step {u['last_step']} is in the future"
                              f" (now {current})")
    report.check("4: no TOTP step accepted twice (acknowledged verifies and logins per"
                 " secret, replays and racing pairs refused, last_step never behind an"
                 " acknowledged step)", checked, violations, "steps")

    # 5. An audit event for every acknowledged change.
    events = defaultdict(list)
    for r in db.rows(q["audit"]):
        events[(r["kind"], r["subject"])].append(r["at"])
    wanted = defaultdict(list)
    for o in acked.get("create", []):
        wanted[("user.created", o["user"])].append((o["s"], o["e"], f"create {o['user']}"))
    for o in acked.get("confirm", []):
        label = f"confirm of {o['user']} at {o['e']:.3f}"
        wanted[("twofa.totp_enrolled", o["user"])].append((o["s"], o["e"], label))
    for o in sign_ins:
        label = f"{o['op']} of {o['user']} at {o['e']:.3f}"
        wanted[("login.succeeded", o["user"])].append((o["s"], o["e"], label))
    for o in acked.get("reset", []):
        for uid in o["ids"]:
            wanted[("twofa.reset", uid)].append((o["s"], o["e"], f"reset of {uid} at {o['e']:.3f}"))
    violations, checked = [], 0
    per_kind = defaultdict(int)
    for (kind, uid), want in wanted.items():
        checked += len(want)
        per_kind[kind] += len(want)
        for label in match(want, events.get((kind, uid), [])):
            violations.append(f"no {kind} event for the acknowledged {label}")
    print("# invariant 5: acknowledged changes per event kind: "
          + ", ".join(f"{k} {v}" for k, v in sorted(per_kind.items())))
    report.check("5: an audit event for every acknowledged change (user.created,"
                 " twofa.totp_enrolled, twofa.reset, login.succeeded)", checked, violations,
                 "changes")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
