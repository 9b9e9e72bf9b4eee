-- Each sale row carries its version (the data's "version", bumped on
-- every journaled change): an update is conditional on the version it
-- read (query.Save), so that no writer overwrites a change it did not see.
ALTER TABLE sales ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
UPDATE sales SET version = coalesce(json_extract(data, '$.version'), 0);
