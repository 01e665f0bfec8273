DROP INDEX audit_events_actor;
DROP INDEX audit_events_kind;
CREATE INDEX users_account_id ON users (account_id, id);
DROP INDEX users_list_by_twofa;
DROP INDEX users_list_by_role;
DROP INDEX users_list_by_name;
ALTER TABLE users DROP COLUMN twofa_enrolled;
ALTER TABLE users DROP COLUMN name_lower;
