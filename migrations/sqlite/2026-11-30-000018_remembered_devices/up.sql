-- Remembered devices: an account's admin may let a second factor be
-- skipped for remember_device_days (0, the default, turns it off; at most
-- 90) on a browser that proved one. The device token is stored only as a
-- SHA-256 hash (it is 256 random bits). Trust ends when the row is
-- deleted, when the device's own expiry passes, or when the account's
-- current setting is shorter than the device's age.
ALTER TABLE accounts ADD COLUMN remember_device_days INTEGER NOT NULL DEFAULT 0;
-- A login asked to remember its device at a step that issued a new
-- recovery code first: the confirmation that follows grants it.
ALTER TABLE login_flows ADD COLUMN remember_device BOOLEAN NOT NULL DEFAULT 0;
CREATE TABLE remembered_devices (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX remembered_devices_user ON remembered_devices (user_id, created_at);
