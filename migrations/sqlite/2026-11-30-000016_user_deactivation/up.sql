-- When an admin deactivated the user; NULL for an active user. A
-- deactivated user keeps their factors and email but cannot sign in, holds
-- no licence and is no admin for the last-admin rule. Deleting a user
-- removes the row (their factors, sessions and flows cascade) and frees the
-- email; the audit trail keeps their id (audit_events has no foreign key
-- to users) and the email as it was, in the events' details.
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;
CREATE INDEX users_list_by_status ON users (account_id, deactivated_at, name_lower, id);
