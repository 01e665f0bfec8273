-- SQLite builds a trigram FTS5 index for user search here; PostgreSQL has
-- had its pg_trgm GIN indexes since 000003. Nothing to do.
SELECT 1;
