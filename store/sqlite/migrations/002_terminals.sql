-- Terminals (tills) with the hash of their bearer token, and the answers
-- to POSTs a till sent with an Idempotency-Key, kept to replay them.
CREATE TABLE terminals (
	id         TEXT PRIMARY KEY,
	device_id  TEXT NOT NULL,
	name       TEXT NOT NULL,
	config_id  TEXT NOT NULL,
	manager    INTEGER NOT NULL DEFAULT 0,
	token_hash BLOB NOT NULL UNIQUE,
	created_at INTEGER NOT NULL,
	revoked_at INTEGER
);

CREATE TABLE idempotency (
	terminal_id  TEXT NOT NULL,
	key          TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	status       INTEGER NOT NULL,
	body         BLOB NOT NULL,
	created_at   INTEGER NOT NULL,
	PRIMARY KEY (terminal_id, key)
);
