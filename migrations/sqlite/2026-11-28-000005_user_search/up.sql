-- Substring search for the admin user list on SQLite: a trigram FTS5
-- index over name and email (PostgreSQL uses pg_trgm GIN indexes, see its
-- 000003 migration). Triggers keep it in step with users; each user row
-- remembers its FTS row id, which VACUUM never renumbers.
ALTER TABLE users ADD COLUMN search_rowid INTEGER;

CREATE VIRTUAL TABLE users_search USING fts5(
    user_id UNINDEXED,
    name,
    email,
    tokenize = 'trigram'
);

INSERT INTO users_search (user_id, name, email)
    SELECT id, name_lower, email_normalized FROM users;
UPDATE users SET search_rowid = (SELECT rowid FROM users_search WHERE users_search.user_id = users.id);

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
