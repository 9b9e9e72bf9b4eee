-- The journal, as in store/sqlite: sales with their history, ops with their
-- idempotency material, terminals and kept Idempotency-Key answers.
CREATE TABLE sales (
	id           TEXT PRIMARY KEY,
	terminal_id  TEXT NOT NULL,
	external_ref TEXT NOT NULL,
	pr_id        TEXT,
	short_code   TEXT,
	status       TEXT NOT NULL,
	final        BOOLEAN NOT NULL,
	created_at   TIMESTAMPTZ NOT NULL,
	seq          BIGSERIAL NOT NULL, -- insertion order, to break ties
	data         JSONB NOT NULL
);
CREATE INDEX sales_external_ref ON sales (external_ref, created_at);
CREATE INDEX sales_pr_id ON sales (pr_id);
CREATE INDEX sales_short_code ON sales (short_code, created_at);
CREATE INDEX sales_created_at ON sales (created_at);
CREATE INDEX sales_open ON sales (final) WHERE NOT final;

CREATE TABLE sale_events (
	seq     BIGSERIAL PRIMARY KEY,
	sale_id TEXT NOT NULL REFERENCES sales (id),
	at      TIMESTAMPTZ NOT NULL,
	status  TEXT NOT NULL,
	note    TEXT NOT NULL
);
CREATE INDEX sale_events_sale ON sale_events (sale_id, seq);

CREATE TABLE ops (
	id          TEXT PRIMARY KEY,
	sale_id     TEXT,
	pr_id       TEXT,
	kind        TEXT NOT NULL,
	state       TEXT NOT NULL,
	terminal_id TEXT,
	created_at  TIMESTAMPTZ NOT NULL,
	seq         BIGSERIAL NOT NULL,
	data        JSONB NOT NULL
);
CREATE INDEX ops_sale ON ops (sale_id, created_at);
CREATE INDEX ops_pending ON ops (state) WHERE state = 'pending';
CREATE INDEX ops_pr_id ON ops (pr_id);
CREATE INDEX ops_kind_time ON ops (kind, created_at);

CREATE TABLE terminals (
	id         TEXT PRIMARY KEY,
	device_id  TEXT NOT NULL,
	name       TEXT NOT NULL,
	config_id  TEXT NOT NULL,
	manager    BOOLEAN NOT NULL DEFAULT false,
	token_hash BYTEA NOT NULL UNIQUE,
	created_at TIMESTAMPTZ NOT NULL,
	revoked_at TIMESTAMPTZ
);

CREATE TABLE idempotency (
	terminal_id  TEXT NOT NULL,
	key          TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	status       INTEGER NOT NULL,
	body         BYTEA NOT NULL,
	created_at   TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (terminal_id, key)
);
