-- An email is unique within an account, and signs in as exactly one user
-- across all accounts: its owner. A tenant admin who adds an address that
-- already signs in elsewhere gets a user like any other (the answer must
-- not tell them the address exists in another account), but that user is
-- not its email's owner and never signs in.
--
-- SQLite cannot drop the column's UNIQUE constraint, so the table is
-- rebuilt (https://www.sqlite.org/lang_altertable.html, "making other kinds
-- of table schema changes"), with foreign keys off so that dropping the old
-- table cascades to nothing.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE users_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    -- lower-cased email: unique within an account, and across accounts
    -- among owners (see the unique indexes below)
    email_normalized TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'technician', 'read_only')),
    password_hash TEXT NOT NULL,
    twofa_required BOOLEAN NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL,
    last_login_at BIGINT,
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    mfa_failures INTEGER NOT NULL DEFAULT 0,
    mfa_locked_until BIGINT,
    mfa_lockouts INTEGER NOT NULL DEFAULT 0,
    name_lower TEXT NOT NULL DEFAULT '',
    twofa_enrolled BOOLEAN NOT NULL DEFAULT 0,
    search_rowid INTEGER,
    email_owner BOOLEAN NOT NULL DEFAULT 1
);
INSERT INTO users_rebuilt (id, account_id, email, email_normalized, name, role, password_hash, twofa_required, created_at, password_changed_at, last_login_at, totp_last_step, mfa_failures, mfa_locked_until, mfa_lockouts, name_lower, twofa_enrolled, search_rowid)
    SELECT id, account_id, email, email_normalized, name, role, password_hash, twofa_required, created_at, password_changed_at, last_login_at, totp_last_step, mfa_failures, mfa_locked_until, mfa_lockouts, name_lower, twofa_enrolled, search_rowid FROM users;
DROP TABLE users;
ALTER TABLE users_rebuilt RENAME TO users;
CREATE INDEX users_list_by_name ON users (account_id, name_lower, id);
CREATE INDEX users_list_by_role ON users (account_id, role, name_lower, id);
CREATE INDEX users_list_by_twofa ON users (account_id, twofa_enrolled, twofa_required, name_lower, id);
CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (user_id, name, email)
        VALUES (new.id, new.name_lower, new.email_normalized);
    UPDATE users SET search_rowid = last_insert_rowid() WHERE id = new.id;
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF name_lower, email_normalized ON users BEGIN
    DELETE FROM users_search WHERE rowid = old.search_rowid;
    INSERT INTO users_search (user_id, name, email)
        VALUES (new.id, new.name_lower, new.email_normalized);
    UPDATE users SET search_rowid = last_insert_rowid() WHERE id = new.id;
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    DELETE FROM users_search WHERE rowid = old.search_rowid;
END;
CREATE UNIQUE INDEX users_email_owner ON users (email_normalized) WHERE email_owner;
CREATE UNIQUE INDEX users_account_email ON users (account_id, email_normalized);
COMMIT;
PRAGMA foreign_keys = ON;
