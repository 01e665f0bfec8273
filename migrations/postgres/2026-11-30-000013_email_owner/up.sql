-- An email is unique within an account, and signs in as exactly one user
-- across all accounts: its owner. A tenant admin who adds an address that
-- already signs in elsewhere gets a user like any other (the answer must
-- not tell them the address exists in another account), but that user is
-- not its email's owner and never signs in.
ALTER TABLE users ADD COLUMN email_owner BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users DROP CONSTRAINT users_email_normalized_key;
CREATE UNIQUE INDEX users_email_owner ON users (email_normalized) WHERE email_owner;
CREATE UNIQUE INDEX users_account_email ON users (account_id, email_normalized);
