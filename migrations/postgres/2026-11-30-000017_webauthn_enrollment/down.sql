ALTER TABLE pending_enrollments DROP COLUMN passkey_name;
ALTER TABLE pending_enrollments DROP COLUMN passkey;
