-- As store/sqlite's 006_terminal_rotation.sql: a rotation keeps the
-- replaced token's hash in previous_token_hash, working until
-- previous_valid_until; revoking clears it. last_used_at is written at
-- most once a minute per terminal.
ALTER TABLE terminals ADD COLUMN previous_token_hash BYTEA;
ALTER TABLE terminals ADD COLUMN previous_valid_until TIMESTAMPTZ;
ALTER TABLE terminals ADD COLUMN last_used_at TIMESTAMPTZ;
CREATE INDEX terminals_previous_token ON terminals (previous_token_hash) WHERE previous_token_hash IS NOT NULL;
