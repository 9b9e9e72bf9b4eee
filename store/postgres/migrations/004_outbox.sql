-- As store/sqlite's 005_outbox.sql: events for merchants' systems, written
-- in the transaction of their change with a pending delivery per enabled
-- endpoint that wants them; "stream" and "sequence" order each sale's
-- events. data is TEXT, not JSONB, so that every delivery sends the bytes
-- that were marshalled.
CREATE TABLE webhook_endpoints (
	id         TEXT PRIMARY KEY,
	url        TEXT NOT NULL,
	events     TEXT NOT NULL, -- comma-separated event types; '' for every type
	secret     TEXT NOT NULL,
	enabled    BOOLEAN NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	removed_at TIMESTAMPTZ
);

CREATE TABLE outbox_events (
	seq        BIGSERIAL PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	type       TEXT NOT NULL,
	stream     TEXT NOT NULL,
	sequence   BIGINT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	data       TEXT NOT NULL,
	UNIQUE (stream, sequence)
);

CREATE TABLE webhook_deliveries (
	event_id    TEXT NOT NULL REFERENCES outbox_events (id),
	endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id),
	stream      TEXT NOT NULL,
	sequence    BIGINT NOT NULL,
	state       TEXT NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_at     TIMESTAMPTZ NOT NULL,
	expires_at  TIMESTAMPTZ NOT NULL,
	last_at     TIMESTAMPTZ,
	last_status INTEGER,
	last_error  TEXT,
	created_at  TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_stream ON webhook_deliveries (endpoint_id, stream, sequence) WHERE state = 'pending';
