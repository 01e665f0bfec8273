-- The database side of scripts/crash-check.sh: named queries (a line
-- `-- name: NAME` starts each), run by check.py through the sqlite3 or psql
-- command line. Every query runs unchanged on SQLite and PostgreSQL
-- (booleans are read through CASE, which both accept), ends without a
-- semicolon, and looks at the whole database (the run's own, fresh one).

-- name: counts
SELECT
    (SELECT count(*) FROM users) AS users,
    (SELECT count(*) FROM totp_authenticators) AS authenticators,
    (SELECT count(*) FROM recovery_codes) AS recovery_codes,
    (SELECT count(*) FROM pending_enrollments) AS pending,
    (SELECT count(*) FROM sessions) AS sessions,
    (SELECT count(*) FROM audit_events) AS audit_events

-- Invariant 1. A second factor is active when the user has an authenticator
-- row, a WebAuthn credential, or the twofa_enrolled flag. (The load never
-- spends a recovery code: a user who spends the last one has none until its
-- successor is confirmed, by design.)
-- name: users_with_a_factor
SELECT u.id AS user_id
FROM users u
WHERE EXISTS (SELECT 1 FROM totp_authenticators t WHERE t.user_id = u.id)
   OR EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.user_id = u.id)
   OR CASE WHEN u.twofa_enrolled THEN 1 ELSE 0 END = 1

-- name: factor_without_recovery_code
SELECT u.id AS user_id, 'active second factor, no confirmed recovery code' AS reason
FROM users u
WHERE (EXISTS (SELECT 1 FROM totp_authenticators t WHERE t.user_id = u.id)
    OR EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.user_id = u.id)
    OR CASE WHEN u.twofa_enrolled THEN 1 ELSE 0 END = 1)
  AND NOT EXISTS (SELECT 1 FROM recovery_codes r WHERE r.user_id = u.id)

-- Invariant 2. Activation (twofa::service::enrollment::activate) is one
-- transaction at one `now`: it replaces the authenticator (with the
-- enrollment's replay record), sets users.twofa_enrolled, replaces the
-- recovery code, deletes every enrollment in progress of the user and
-- records twofa.totp_enrolled. A reset (twofa::repo::remove_all) undoes all
-- of it at once. Anything in between is half-activated.
-- name: half_activated
SELECT u.id AS user_id, 'users.twofa_enrolled set, no authenticator row' AS reason
FROM users u
WHERE CASE WHEN u.twofa_enrolled THEN 1 ELSE 0 END = 1
  AND NOT EXISTS (SELECT 1 FROM totp_authenticators t WHERE t.user_id = u.id)
UNION ALL
SELECT t.user_id, 'authenticator row, users.twofa_enrolled not set'
FROM totp_authenticators t JOIN users u ON u.id = t.user_id
WHERE CASE WHEN u.twofa_enrolled THEN 1 ELSE 0 END = 0
UNION ALL
SELECT t.user_id, 'recovery code older than the authenticator (replaced without its code)'
FROM totp_authenticators t JOIN recovery_codes r ON r.user_id = t.user_id
WHERE r.created_at < t.created_at
UNION ALL
SELECT p.user_id, 'enrollment in progress older than the active authenticator (activation deletes them)'
FROM pending_enrollments p JOIN totp_authenticators t ON t.user_id = p.user_id
WHERE p.created_at < t.created_at
UNION ALL
SELECT t.user_id, 'authenticator without its twofa.totp_enrolled event at the same time'
FROM totp_authenticators t
WHERE NOT EXISTS (SELECT 1 FROM audit_events a
                  WHERE a.subject_user_id = t.user_id
                    AND a.kind = 'twofa.totp_enrolled'
                    AND a.created_at = t.created_at)
UNION ALL
SELECT p.user_id, 'enrollment in progress owned by neither a flow nor a session'
FROM pending_enrollments p
WHERE p.flow_id IS NULL AND p.session_id IS NULL
UNION ALL
SELECT p.user_id, 'enrollment in progress whose login flow is gone'
FROM pending_enrollments p
WHERE p.flow_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM login_flows f WHERE f.id = p.flow_id)
UNION ALL
SELECT p.user_id, 'enrollment in progress of another user than its login flow'
FROM pending_enrollments p JOIN login_flows f ON f.id = p.flow_id
WHERE f.user_id IS NULL OR f.user_id <> p.user_id

-- The state of each user, for invariants 3 and 4 (checked in check.py
-- against what the load's acknowledgements guarantee).
-- name: users
SELECT u.id AS id,
       CASE WHEN u.twofa_enrolled THEN 1 ELSE 0 END AS enrolled,
       CASE WHEN u.twofa_required THEN 1 ELSE 0 END AS required,
       (SELECT count(*) FROM totp_authenticators t WHERE t.user_id = u.id) AS totp,
       (SELECT max(t.last_step) FROM totp_authenticators t WHERE t.user_id = u.id) AS last_step,
       (SELECT count(*) FROM recovery_codes r WHERE r.user_id = u.id) AS recovery,
       (SELECT count(*) FROM webauthn_credentials w WHERE w.user_id = u.id) AS passkeys
FROM users u

-- name: sessions
SELECT s.id AS id, s.user_id AS user_id,
       CASE WHEN s.revoked_at IS NULL THEN 0 ELSE 1 END AS revoked
FROM sessions s

-- Invariant 5: the events of the kinds the load's changes record
-- (api/audit/kinds.rs).
-- name: audit
SELECT a.kind AS kind, a.subject_user_id AS subject, a.created_at AS at
FROM audit_events a
WHERE a.kind IN ('user.created', 'twofa.totp_enrolled', 'twofa.reset', 'login.succeeded')
