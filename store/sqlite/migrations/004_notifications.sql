-- Centrapay notifications (webhook calls) already processed: a redelivery
-- or a replay is known by its id and the SHA-256 of its body, so it is
-- processed at most once (pos.Notifications). Purged after two weeks and
-- a day (pos.NotificationRetention).
CREATE TABLE centrapay_notifications (
	id          TEXT NOT NULL,
	body_sha256 TEXT NOT NULL,
	received_at INTEGER NOT NULL, -- Unix milliseconds
	PRIMARY KEY (id, body_sha256)
);
CREATE INDEX centrapay_notifications_received_at ON centrapay_notifications (received_at);
