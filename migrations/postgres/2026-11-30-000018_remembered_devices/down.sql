DROP TABLE remembered_devices;
ALTER TABLE login_flows DROP COLUMN remember_device;
ALTER TABLE accounts DROP COLUMN remember_device_days;
