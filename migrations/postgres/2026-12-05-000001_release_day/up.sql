-- The office's day a transfer was released on (WIB, the earliest calendar day in Indonesia at that instant): the
-- bank's value date may not lie before it. Older transfers take the WIB day of their release time.
ALTER TABLE transfers ADD COLUMN released_on DATE;
UPDATE transfers SET released_on = (released_at + interval '7 hours')::date;
