-- When Centrapay said a refund is complete (unix milliseconds; NULL until
-- then, and for every other op). The index finds the refunds still to be
-- checked at a start.
ALTER TABLE ops ADD COLUMN completed_at INTEGER;
CREATE INDEX ops_incomplete_refunds ON ops (created_at) WHERE kind = 'refund' AND state = 'succeeded' AND completed_at IS NULL;
