-- Token rotation and last use of terminals. A rotation keeps the replaced
-- token's hash in previous_token_hash, working until previous_valid_until
-- (unix milliseconds); revoking clears it. last_used_at (unix
-- milliseconds) is written at most once a minute per terminal.
ALTER TABLE terminals ADD COLUMN previous_token_hash BLOB;
ALTER TABLE terminals ADD COLUMN previous_valid_until INTEGER;
ALTER TABLE terminals ADD COLUMN last_used_at INTEGER;
CREATE INDEX terminals_previous_token ON terminals (previous_token_hash) WHERE previous_token_hash IS NOT NULL;
