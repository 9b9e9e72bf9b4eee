-- As store/sqlite's 009_sessions.sql: the web UI's sign-ins, shared by
-- every server of the journal; only a hash of each secret.
CREATE TABLE sessions (
	hash        BYTEA PRIMARY KEY,
	kind        TEXT NOT NULL,
	terminal_id TEXT NOT NULL,
	expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
