DROP TABLE village_officials;
