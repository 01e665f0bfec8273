DROP INDEX sessions_user_created;
ALTER TABLE login_flows DROP COLUMN user_agent;
ALTER TABLE sessions DROP COLUMN user_agent;
ALTER TABLE sessions DROP COLUMN client_address;
ALTER TABLE sessions DROP COLUMN last_used_at;
