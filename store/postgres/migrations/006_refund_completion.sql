-- As store/sqlite's 007_refund_completion.sql: when Centrapay said a
-- refund is complete (NULL until then, and for every other op); the index
-- finds the refunds still to be checked at a start.
ALTER TABLE ops ADD COLUMN completed_at TIMESTAMPTZ;
CREATE INDEX ops_incomplete_refunds ON ops (created_at) WHERE kind = 'refund' AND state = 'succeeded' AND completed_at IS NULL;
