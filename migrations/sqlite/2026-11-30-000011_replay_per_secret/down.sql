ALTER TABLE pending_enrollments DROP COLUMN last_step;
ALTER TABLE totp_authenticators DROP COLUMN last_step;
