-- Users who never owned their email cannot keep it once it is unique again.
DELETE FROM users WHERE NOT email_owner;
DROP INDEX users_account_email;
DROP INDEX users_email_owner;
ALTER TABLE users ADD CONSTRAINT users_email_normalized_key UNIQUE (email_normalized);
ALTER TABLE users DROP COLUMN email_owner;
