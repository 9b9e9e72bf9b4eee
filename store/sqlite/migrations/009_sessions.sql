-- The web UI's sign-ins (pos.Sessions): only a hash of each secret;
-- expires_at in unix milliseconds.
CREATE TABLE sessions (
	hash        BLOB PRIMARY KEY,
	kind        TEXT NOT NULL,
	terminal_id TEXT NOT NULL,
	expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
