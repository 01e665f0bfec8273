-- The client address (IPv4, or an IPv6 /64) that opened a login flow, so
-- the open flows one address may hold are bounded: anonymous calls must not
-- grow the table without limit.
ALTER TABLE login_flows ADD COLUMN client_address TEXT;
CREATE INDEX login_flows_client_address ON login_flows (client_address, expires_at);
