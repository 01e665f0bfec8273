-- What a person needs to recognise a session in a list: when it was last
-- used (written at most once a minute), the address it signed in from and
-- its user agent (truncated, shown only, never trusted). The user agent
-- travels from the login flow that opened the session.
ALTER TABLE sessions ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET last_used_at = created_at;
ALTER TABLE sessions ADD COLUMN client_address TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE login_flows ADD COLUMN user_agent TEXT;
-- A user's live sessions, newest first (listing, the per-user cap).
CREATE INDEX sessions_user_created ON sessions (user_id, created_at, id);
