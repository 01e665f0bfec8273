-- A passkey registered inside the login flow waits, like an authenticator
-- app's secret, in the flow's pending enrollment until its recovery code is
-- confirmed: only then does it become a row of webauthn_credentials. An
-- abandoned enrollment therefore leaves no credential behind, and the
-- janitor's purge of expired enrollments removes it.
-- The verified credential (webauthn-rs Passkey, JSON) and its name.
ALTER TABLE pending_enrollments ADD COLUMN passkey TEXT;
ALTER TABLE pending_enrollments ADD COLUMN passkey_name TEXT;

-- webauthn_challenges.kind gains 'enrollment': a passkey registration
-- owned by a login flow at enrollment_required (no schema change).

-- A passkey now counts as an enrolled second factor (users.twofa_enrolled
-- means an authenticator app or a passkey).
UPDATE users SET twofa_enrolled = TRUE
WHERE id IN (SELECT user_id FROM webauthn_credentials);
