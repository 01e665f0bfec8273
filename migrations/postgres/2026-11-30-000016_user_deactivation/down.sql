DROP INDEX users_list_by_status;
ALTER TABLE users DROP COLUMN deactivated_at;
