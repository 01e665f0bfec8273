-- The admin user list: a lower-cased name for sorting and case-insensitive
-- search, and whether an authenticator is enrolled, so that every filter
-- of GET /v1/admin/users is an indexed column.
ALTER TABLE users ADD COLUMN name_lower TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN twofa_enrolled BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET name_lower = lower(name);
UPDATE users SET twofa_enrolled = TRUE WHERE id IN (SELECT user_id FROM totp_authenticators);

-- Keyset pages in (name_lower, id) order, alone or under one filter.
CREATE INDEX users_list_by_name ON users (account_id, name_lower, id);
CREATE INDEX users_list_by_role ON users (account_id, role, name_lower, id);
CREATE INDEX users_list_by_twofa ON users (account_id, twofa_enrolled, twofa_required, name_lower, id);
DROP INDEX users_account_id;

-- Substring search on name and email (LIKE '%term%') through trigrams.
-- pg_trgm is a trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_name_trgm ON users USING gin (name_lower gin_trgm_ops);
CREATE INDEX users_email_trgm ON users USING gin (email_normalized gin_trgm_ops);

-- Audit pages, newest first, per account and per kind.
CREATE INDEX audit_events_kind ON audit_events (account_id, kind, created_at, id);
CREATE INDEX audit_events_actor ON audit_events (actor_user_id, created_at, id);
