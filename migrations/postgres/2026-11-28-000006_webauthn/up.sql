-- WebAuthn credentials (passkeys, security keys, platform biometrics) and
-- the state of ceremonies in progress. Ceremony state lives in the
-- database, not in one process's memory, so any instance can finish what
-- another started; each state is deleted when used.
CREATE TABLE webauthn_credentials (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- base64url of the authenticator's credential id
    credential_id TEXT NOT NULL UNIQUE,
    -- the verified public key and its metadata (webauthn-rs Passkey, JSON)
    passkey TEXT NOT NULL,
    name TEXT NOT NULL,
    sign_count BIGINT NOT NULL DEFAULT 0,
    backup_eligible BOOLEAN NOT NULL DEFAULT FALSE,
    backup_state BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX webauthn_credentials_user_id ON webauthn_credentials (user_id);

CREATE TABLE webauthn_challenges (
    id TEXT PRIMARY KEY NOT NULL,
    -- 'registration', 'second_factor' or 'passkey'
    kind TEXT NOT NULL,
    session_id TEXT REFERENCES sessions (id) ON DELETE CASCADE,
    flow_id TEXT REFERENCES login_flows (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX webauthn_challenges_session ON webauthn_challenges (session_id, kind);
CREATE UNIQUE INDEX webauthn_challenges_flow ON webauthn_challenges (flow_id, kind);
CREATE INDEX webauthn_challenges_expires_at ON webauthn_challenges (expires_at);
