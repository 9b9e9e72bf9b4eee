-- As store/sqlite's 008_sale_version.sql: each sale row carries its
-- version; an update is conditional on the version it read (query.Save),
-- so that no server of the journal overwrites a change it did not see.
ALTER TABLE sales ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
UPDATE sales SET version = coalesce((data->>'version')::integer, 0);
