-- The replay guard belongs to the secret: each authenticator, and each
-- enrollment in progress, records the last time step it accepted. A new
-- secret starts a new record, so a code of the new authenticator is not
-- refused because the old one accepted the same step.
ALTER TABLE totp_authenticators ADD COLUMN last_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE pending_enrollments ADD COLUMN last_step BIGINT NOT NULL DEFAULT 0;
-- Carry the per-user record over to the authenticators that exist.
UPDATE totp_authenticators SET last_step =
    (SELECT users.totp_last_step FROM users WHERE users.id = totp_authenticators.user_id);
