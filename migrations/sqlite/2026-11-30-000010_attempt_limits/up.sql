-- Consecutive wrong passwords per user, with a doubling back-off (the
-- second-factor counters live on users; these are kept apart so a
-- password guess never touches the second factor's lock). `user_id` is a
-- user's id, or `email:<sha256>` of an email no user has: an unknown email
-- backs off exactly like a known one, so the back-off does not tell which
-- emails exist (hence no foreign key).
CREATE TABLE password_failures (
    user_id TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    lockouts INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT,
    -- When the last password `login.failed` audit event was written, so a
    -- flood of guesses cannot flood the trail.
    audited_at BIGINT
);

-- Client addresses (IPv4, or an IPv6 /64) from which a user completed a
-- login recently: the per-user password back-off does not apply there, so
-- guessing from elsewhere cannot lock the user out where they work.
CREATE TABLE known_addresses (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    last_success_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, address)
);
CREATE INDEX known_addresses_last_success_at ON known_addresses (last_success_at);
