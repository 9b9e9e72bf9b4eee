-- The Centrapay rate budget the servers of this journal share (one API
-- key, one limit: centrapay.SharedBudget). take_rate_token takes a token
-- as centrapay.Budget does — a burst, then one earned every interval,
-- never the last floor of them, none while paused — in one statement, on
-- the database's clock.
CREATE TABLE rate_budget (
	name         TEXT PRIMARY KEY,
	tokens       INTEGER NOT NULL,
	refilled_at  TIMESTAMPTZ NOT NULL,
	paused_until TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
);

CREATE FUNCTION take_rate_token(p_name TEXT, p_floor INTEGER, p_burst INTEGER, p_interval_us BIGINT,
	OUT ok BOOLEAN, OUT retry_us BIGINT) AS $$
DECLARE
	b rate_budget%ROWTYPE;
	t TIMESTAMPTZ := clock_timestamp();
	n BIGINT;
BEGIN
	INSERT INTO rate_budget (name, tokens, refilled_at) VALUES (p_name, p_burst, t) ON CONFLICT (name) DO NOTHING;
	SELECT * INTO b FROM rate_budget WHERE name = p_name FOR UPDATE;
	n := floor(extract(epoch FROM (t - b.refilled_at)) * 1000000 / p_interval_us);
	IF n > 0 THEN
		b.tokens := least(p_burst, b.tokens + n);
		b.refilled_at := b.refilled_at + n * p_interval_us * interval '1 microsecond';
		IF b.tokens >= p_burst THEN
			b.refilled_at := t;
		END IF;
	END IF;
	IF t < b.paused_until THEN
		ok := false;
		retry_us := ceil(extract(epoch FROM (b.paused_until - t)) * 1000000);
	ELSIF b.tokens > p_floor THEN
		b.tokens := b.tokens - 1;
		ok := true;
		retry_us := 0;
	ELSE
		ok := false;
		retry_us := greatest(ceil(extract(epoch FROM (b.refilled_at + p_interval_us * interval '1 microsecond' - t)) * 1000000), 1);
	END IF;
	UPDATE rate_budget SET tokens = b.tokens, refilled_at = b.refilled_at WHERE name = p_name;
END
$$ LANGUAGE plpgsql;
