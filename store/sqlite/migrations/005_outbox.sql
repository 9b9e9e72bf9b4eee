-- Events for merchants' systems (webhooks out). An event is written to
-- outbox_events in the transaction of the change it reports, with a
-- pending delivery for each enabled endpoint that wants its type (the
-- fan-out is decided then); the deliverer (package webhook) sends them.
-- "stream" is the sale the event belongs to, "sequence" its number there:
-- deliveries of one stream to one endpoint go out in that order.
CREATE TABLE webhook_endpoints (
	id         TEXT PRIMARY KEY,
	url        TEXT NOT NULL,
	events     TEXT NOT NULL, -- comma-separated event types; "" for every type
	secret     TEXT NOT NULL,
	enabled    INTEGER NOT NULL,
	created_at INTEGER NOT NULL, -- unix milliseconds
	removed_at INTEGER
);

CREATE TABLE outbox_events (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	id         TEXT NOT NULL UNIQUE,
	type       TEXT NOT NULL,
	stream     TEXT NOT NULL,
	sequence   INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	data       TEXT NOT NULL, -- the bytes every delivery sends, as they were marshalled
	UNIQUE (stream, sequence)
);

CREATE TABLE webhook_deliveries (
	event_id    TEXT NOT NULL REFERENCES outbox_events (id),
	endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id),
	stream      TEXT NOT NULL,
	sequence    INTEGER NOT NULL,
	state       TEXT NOT NULL, -- pending, succeeded, failed
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_at     INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	last_at     INTEGER,
	last_status INTEGER,
	last_error  TEXT,
	created_at  INTEGER NOT NULL,
	PRIMARY KEY (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_stream ON webhook_deliveries (endpoint_id, stream, sequence) WHERE state = 'pending';
