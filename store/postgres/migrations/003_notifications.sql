-- As store/sqlite's 004_notifications.sql: Centrapay notifications
-- (webhook calls) already processed, known by id and body hash.
CREATE TABLE centrapay_notifications (
	id          TEXT NOT NULL,
	body_sha256 TEXT NOT NULL,
	received_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (id, body_sha256)
);
CREATE INDEX centrapay_notifications_received_at ON centrapay_notifications (received_at);
