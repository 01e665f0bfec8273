DROP INDEX users_list_by_name;
CREATE INDEX users_list_by_name ON users (account_id, name_lower, id);
