-- The name filter of GET /v1/admin/users matches name or email. With the
-- email in the index the list reads the ordered index alone, rejecting
-- non-matching users without visiting their table rows (SQLite tests the
-- index row before the table; PostgreSQL answers it as an index-only scan),
-- and fetches the rows of one page only. A common term (5% of users)
-- otherwise reads thousands of scattered table rows per page.
DROP INDEX users_list_by_name;
CREATE INDEX users_list_by_name ON users (account_id, name_lower, id, email_normalized);
