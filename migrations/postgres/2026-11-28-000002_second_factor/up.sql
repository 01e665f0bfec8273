-- Authenticator apps, recovery codes, enrollments in progress, attempt
-- limits and the audit trail.

-- The highest TOTP step ever accepted for the user. A code is accepted only
-- by raising it (one conditional UPDATE), so no step is accepted twice,
-- across concurrent requests and instances alike.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
-- Consecutive second-factor failures, the lock they caused, and how many
-- locks in a row (each doubles the next).
ALTER TABLE users ADD COLUMN mfa_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN mfa_locked_until BIGINT;
ALTER TABLE users ADD COLUMN mfa_lockouts INTEGER NOT NULL DEFAULT 0;

-- Which second factor a flow has passed ('otp' or 'rcv'), for the session's amr.
ALTER TABLE login_flows ADD COLUMN second_factor TEXT;

-- The active authenticator: one per user. The secret is AES-256-GCM sealed.
CREATE TABLE totp_authenticators (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);

-- The active recovery code: one per user, argon2id hash only.
CREATE TABLE recovery_codes (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- An enrollment or recovery-code rotation in progress, owned by a login
-- flow or by a session. Nothing here is active until it is confirmed.
CREATE TABLE pending_enrollments (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    flow_id TEXT REFERENCES login_flows (id) ON DELETE CASCADE,
    session_id TEXT REFERENCES sessions (id) ON DELETE CASCADE,
    -- NULL for a recovery-code-only rotation
    secret_sealed TEXT,
    -- set once the first code is verified (or at once for a rotation)
    recovery_code_hash TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX pending_enrollments_flow_id ON pending_enrollments (flow_id);
CREATE UNIQUE INDEX pending_enrollments_session_id ON pending_enrollments (session_id);
CREATE INDEX pending_enrollments_user_id ON pending_enrollments (user_id);

-- Failed attempts per client address in a fixed window.
CREATE TABLE client_failures (
    ip TEXT PRIMARY KEY NOT NULL,
    window_start BIGINT NOT NULL,
    failures INTEGER NOT NULL
);

-- Who did what to whom, when, from where. Written in the same transaction
-- as the change it records.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    actor_kind TEXT NOT NULL,
    actor_user_id TEXT,
    subject_user_id TEXT,
    kind TEXT NOT NULL,
    ip TEXT,
    detail TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account_id, created_at, id);
CREATE INDEX audit_events_subject ON audit_events (subject_user_id, created_at, id);
