-- The keys that sign access tokens, shared by every instance on this
-- database. The private half is sealed under the master key (like TOTP
-- secrets), so only the master key has to be given to each instance; the
-- public half is stored as is, so a key still verifies (and is published)
-- when its private half cannot be opened.
--
-- `slot` is 'active' for the one key that signs and NULL once a key is
-- retired: the unique constraint allows one active key (NULLs are
-- distinct), even when two instances create the first key at once.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    public_key TEXT NOT NULL,
    private_sealed TEXT NOT NULL,
    slot TEXT UNIQUE CHECK (slot = 'active'),
    created_at BIGINT NOT NULL,
    retired_at BIGINT,
    CHECK ((slot IS NULL) = (retired_at IS NOT NULL))
);
