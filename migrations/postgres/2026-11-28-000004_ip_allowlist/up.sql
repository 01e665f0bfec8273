-- Per-account IP allow-list entries: addresses or CIDR ranges, stored in
-- canonical form (host bits clear; a bare address as /32 or /128).
CREATE TABLE ip_allowlist_entries (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    cidr TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT
);
CREATE UNIQUE INDEX ip_allowlist_entries_account_cidr ON ip_allowlist_entries (account_id, cidr);
