-- As store/sqlite's 003_keys.sql: a till's Idempotency-Key recorded with
-- the intent its request starts, its answer added later; one open sale
-- per externalRef.
CREATE TABLE request_keys (
	terminal_id  TEXT NOT NULL,
	key          TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	sale_id      TEXT,
	op_id        TEXT,
	status       INTEGER,
	body         BYTEA,
	created_at   TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (terminal_id, key)
);
CREATE INDEX request_keys_created_at ON request_keys (created_at);
INSERT INTO request_keys (terminal_id, key, request_hash, status, body, created_at)
	SELECT terminal_id, key, request_hash, status, body, created_at FROM idempotency;
DROP TABLE idempotency;

CREATE UNIQUE INDEX sales_open_external_ref ON sales (external_ref) WHERE NOT final;
