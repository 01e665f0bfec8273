DROP TABLE known_addresses;
DROP TABLE password_failures;
