-- The client address (IPv4, or an IPv6 /64) that opened a login flow, so
-- the open flows one address may hold are bounded: anonymous calls must not
-- grow the table without limit.
ALTER TABLE login_flows ADD COLUMN client_address TEXT;
CREATE INDEX login_flows_client_address ON login_flows (client_address, expires_at);

-- For a flow whose email names no user: the key its wrong passwords count
-- under (`email:<sha256 of the normalised email>`), so they back off like a
-- real user's.
ALTER TABLE login_flows ADD COLUMN unknown_subject TEXT;
