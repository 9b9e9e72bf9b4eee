-- A till's Idempotency-Key is recorded with the sale or refund intent its
-- request starts, before any call to Centrapay, and its answer is added
-- later: status and body may be absent (the server died in between), and
-- the record names what the request started, so a retry can be answered
-- from it. An externalRef is held by at most one open sale.
CREATE TABLE request_keys (
	terminal_id  TEXT NOT NULL,
	key          TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	sale_id      TEXT,
	op_id        TEXT,
	status       INTEGER,
	body         BLOB,
	created_at   INTEGER NOT NULL,
	PRIMARY KEY (terminal_id, key)
);
CREATE INDEX request_keys_created_at ON request_keys (created_at);
INSERT INTO request_keys (terminal_id, key, request_hash, status, body, created_at)
	SELECT terminal_id, key, request_hash, status, body, created_at FROM idempotency;
DROP TABLE idempotency;

CREATE UNIQUE INDEX sales_open_external_ref ON sales (external_ref) WHERE final = 0;
