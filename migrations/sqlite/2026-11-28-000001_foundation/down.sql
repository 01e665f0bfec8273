DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE login_flows;
DROP TABLE users;
DROP TABLE accounts;
