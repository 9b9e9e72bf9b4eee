-- Leases share the journal between servers (pos.Leases): key is a work
-- key, 's:' and a sale id or 'o:' and an op id; owner the server holding
-- it until expires_at (the database's clock). A server that stops
-- renewing loses it once expired, to the first that claims it.
CREATE TABLE leases (
	key        TEXT PRIMARY KEY,
	owner      TEXT NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX leases_owner ON leases (owner);
-- what a claim looks for: pending ops that are their own work
CREATE INDEX ops_pending_work ON ops (created_at) WHERE state = 'pending' AND kind NOT IN ('create', 'void');
