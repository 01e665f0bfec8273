DROP TABLE webauthn_challenges;
DROP TABLE webauthn_credentials;
