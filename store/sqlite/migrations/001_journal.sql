-- The journal: sales with their state history, and every side effect at
-- Centrapay (ops) with its idempotency material. A record's full content
-- is its JSON "data"; the columns beside it are what queries select on.
CREATE TABLE sales (
	id           TEXT PRIMARY KEY,
	terminal_id  TEXT NOT NULL,
	external_ref TEXT NOT NULL,
	pr_id        TEXT,
	short_code   TEXT,
	status       TEXT NOT NULL,
	final        INTEGER NOT NULL,
	created_at   INTEGER NOT NULL, -- unix milliseconds
	data         TEXT NOT NULL
);
CREATE INDEX sales_external_ref ON sales (external_ref, created_at);
CREATE INDEX sales_pr_id ON sales (pr_id);
CREATE INDEX sales_short_code ON sales (short_code, created_at);
CREATE INDEX sales_created_at ON sales (created_at);
CREATE INDEX sales_open ON sales (final) WHERE final = 0;

CREATE TABLE sale_events (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	sale_id TEXT NOT NULL REFERENCES sales (id),
	at      INTEGER NOT NULL,
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
	created_at  INTEGER NOT NULL,
	data        TEXT NOT NULL
);
CREATE INDEX ops_sale ON ops (sale_id, created_at);
CREATE INDEX ops_pending ON ops (state) WHERE state = 'pending';
CREATE INDEX ops_pr_id ON ops (pr_id);
CREATE INDEX ops_kind_time ON ops (kind, created_at);
