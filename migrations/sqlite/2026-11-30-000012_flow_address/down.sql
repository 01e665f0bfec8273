ALTER TABLE login_flows DROP COLUMN unknown_subject;
DROP INDEX login_flows_client_address;
ALTER TABLE login_flows DROP COLUMN client_address;
