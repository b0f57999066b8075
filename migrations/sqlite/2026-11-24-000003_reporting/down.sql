DROP INDEX payments_village_created;
DROP INDEX transfers_village_released;
ALTER TABLE regencies DROP COLUMN utc_offset_minutes;
DROP TABLE account_daily;
