package postgres

import (
	"time"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/internal/query"
)

// Save writes one step of the protocol, all or nothing, and returns once
// its COMMIT has (durably: Open refuses a server that could lose a
// commit). Concurrent Saves share a transaction and its commit (see
// committer); the statements of a transaction are pipelined (see
// pipeTx).
func (j *Journal) Save(ctx context.Context, c *pos.Change) error { return j.saves.save(ctx, c) }

// pipeTx is a query.Tx that sends its statements in as few round trips
// as query.Save's order allows. A write is queued, not sent: it goes
// with the next read, which needs its answer at once, or with the
// COMMIT. The statements sent together are one pgx batch, one pipeline:
// the server runs them in order and, at the first that fails, skips the
// rest, COMMIT included, so that a failed write leaves nothing written,
// as when each statement went alone. That statement's error is the one
// the Save returns, mapped to the pos error of its cause (ErrKeyUsed,
// ErrDuplicate, ErrOpenExternalRef, ErrNotFound) or wrapped with what
// the statement was doing, as the methods say.
//
// Reads are few for the same reason: the first read of a sale reads the
// other sales of the batch too (see SaleStatus), and the first read of
// all reads the subscribers (the enabled endpoints) with it, whether or
// not an event turns out to need them: a cheap statement more is worth a
// round trip less. So a batch of changes that read nothing (sales
// started) is one round trip from BEGIN to COMMIT, and one that reads
// its sales is two, whatever its number of changes.
type pipeTx struct {
	conn  *pgx.Conn
	batch *pgx.Batch // the statements not sent yet, BEGIN first
	// err is the error of the statement that failed, as its method maps
	// it; nil while none has
	err error
	// refused is set when the server answered a statement with an error:
	// it then skips the rest of the batch, COMMIT included, and the
	// transaction ends uncommitted
	refused bool
	// commitSent is set once a batch with the COMMIT is sent
	commitSent bool
	// held is what the transaction knows of the status of the sales it
	// holds: read FOR UPDATE and found, or written by it. No other
	// transaction can change them before it ends, so it is what a read
	// would answer, and an UPDATE of one of them changes exactly one row.
	held map[string]query.SaleState
	// ahead are the other sales of the batch, read with the first sale
	// read (see SaleStatus)
	ahead []string
	// subs are the subscribers, once subsRead: read once a transaction
	subs                 []pos.Endpoint
	subsQueued, subsRead bool
	// sent, if not nil, is told the number of statements of each batch
	// sent (tests count round trips with it)
	sent func(statements int)
	// channel is the journal's channel of news of sales
	channel string
}

// newPipeTx queues the BEGIN of a transaction on conn that will write
// changes about the sales ahead.
func newPipeTx(conn *pgx.Conn, ahead []string, sent func(int)) *pipeTx {
	t := &pipeTx{conn: conn, batch: &pgx.Batch{}, held: map[string]query.SaleState{}, ahead: ahead, sent: sent}
	t.exec(func(_ pgconn.CommandTag, err error) error {
		if err != nil {
			return fmt.Errorf("postgres: begin: %w", err)
		}
		return nil
	}, `BEGIN`)
	return t
}

// queue adds a statement to the next batch; read reads its outcome when
// the batch is answered and returns its method's error, which wraps
// (%w) the server's, so that refuse can tell it.
func (t *pipeTx) queue(read func(pgx.BatchResults) error, sql string, args ...any) {
	t.batch.Queue(sql, args...).Fn = func(br pgx.BatchResults) error {
		t.err = read(br)
		t.refuse(t.err)
		return t.err
	}
}

// exec queues a statement whose outcome is its command tag or its error;
// check maps them to its method's error.
func (t *pipeTx) exec(check func(pgconn.CommandTag, error) error, sql string, args ...any) {
	t.queue(func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		t.refuse(err)
		return check(tag, err)
	}, sql, args...)
}

// refuse records that err is the server's answer to a statement.
func (t *pipeTx) refuse(err error) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		t.refused = true
	}
}

// uncommitted reports whether the transaction, which failed, is known
// not to be committed: its COMMIT was never sent, or the server refused
// a statement of it. Otherwise (the connection failed, or an answer was
// not the one expected, once the COMMIT was sent) it may have been.
func (t *pipeTx) uncommitted() bool { return !t.commitSent || t.refused }

// flush sends the queued statements as one batch and reads their
// outcomes, in order: the first error is the statement's that failed, as
// its method maps it, or the connection's.
func (t *pipeTx) flush(ctx context.Context) error {
	b := t.batch
	if b.Len() == 0 {
		return nil
	}
	t.batch = &pgx.Batch{}
	if t.sent != nil {
		t.sent(b.Len())
	}
	err := t.conn.SendBatch(ctx, b).Close()
	if err != nil && t.err == nil { // no statement answered: the batch was not sent, or not read
		return fmt.Errorf("postgres: save: %w", err)
	}
	return err
}

// fail returns err, an argument of a statement that could not be made,
// unless a statement queued before it fails: errors come in query.Save's
// order.
func (t *pipeTx) fail(ctx context.Context, err error) error {
	if ferr := t.flush(ctx); ferr != nil {
		return ferr
	}
	return err
}

// commit sends what is queued with the COMMIT. A COMMIT that finds its
// transaction failed answers ROLLBACK, not an error: that is one too.
func (t *pipeTx) commit(ctx context.Context) error {
	t.exec(func(tag pgconn.CommandTag, err error) error {
		if err != nil {
			return fmt.Errorf("postgres: commit: %w", err)
		}
		if tag.String() != "COMMIT" {
			return fmt.Errorf("postgres: commit: the server answered %s", tag)
		}
		return nil
	}, `COMMIT`)
	t.commitSent = true
	return t.flush(ctx)
}

// rollback ends a transaction that failed, if the server began it.
// Nothing of it was committed: its COMMIT was skipped, or never sent. A
// connection the ROLLBACK does not reach is closed by the pool on its
// release (the server rolls back what a closed connection began).
func (t *pipeTx) rollback(ctx context.Context) {
	if t.conn.PgConn().TxStatus() != 'I' {
		t.conn.Exec(ctx, `ROLLBACK`)
	}
}

// uniqueViolation names the constraint a unique violation broke, or "".
func uniqueViolation(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return pe.ConstraintName
	}
	return ""
}

func saleColumns(s *pos.Sale) (prID, shortCode *string, data []byte, err error) {
	if s.PaymentRequest != nil {
		prID, shortCode = &s.PaymentRequest.ID, &s.PaymentRequest.ShortCode
	}
	data, err = json.Marshal(s)
	return
}

// The writes: queued.

func (t *pipeTx) InsertKey(ctx context.Context, k *pos.KeyedRequest) error {
	t.exec(func(_ pgconn.CommandTag, err error) error {
		switch {
		case uniqueViolation(err) != "":
			return pos.ErrKeyUsed
		case err != nil:
			return fmt.Errorf("postgres: record key: %w", err)
		}
		return nil
	}, `INSERT INTO request_keys (terminal_id, key, request_hash, sale_id, op_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.TerminalID, k.Key, k.RequestHash, nullable(k.SaleID), nullable(k.OpID), k.CreatedAt)
	return nil
}

func (t *pipeTx) InsertSale(ctx context.Context, s *pos.Sale) error {
	prID, code, data, err := saleColumns(s)
	if err != nil {
		return t.fail(ctx, fmt.Errorf("postgres: create sale %s: %w", s.ID, err))
	}
	t.exec(func(_ pgconn.CommandTag, err error) error {
		switch v := uniqueViolation(err); {
		case v == "sales_open_external_ref":
			return pos.ErrOpenExternalRef
		case v != "":
			return pos.ErrDuplicate
		case err != nil:
			return fmt.Errorf("postgres: create sale %s: %w", s.ID, err)
		}
		return nil
	}, `INSERT INTO sales (id, terminal_id, external_ref, pr_id, short_code, status, final, created_at, version, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, s.ID, s.TerminalID, s.ExternalRef, prID, code, string(s.Status), s.Status.Final(), s.CreatedAt, s.Version, data)
	t.held[s.ID] = query.SaleState{Status: s.Status, Version: s.Version} // if the insert fails, so does the transaction
	return nil
}

// UpdateSale is queued only when the transaction holds the sale
// (query.Save reads its status first): an UPDATE that finds no row is no
// error to the server, which would go on to the COMMIT; the update of a
// sale not held is sent at once, and its outcome known before any other
// statement is.
func (t *pipeTx) UpdateSale(ctx context.Context, s *pos.Sale) error {
	prID, code, data, err := saleColumns(s)
	if err != nil {
		return t.fail(ctx, fmt.Errorf("postgres: save sale %s: %w", s.ID, err))
	}
	t.exec(func(tag pgconn.CommandTag, err error) error {
		if err != nil {
			return fmt.Errorf("postgres: save sale %s: %w", s.ID, err)
		}
		if tag.RowsAffected() == 0 {
			return pos.ErrNotFound
		}
		return nil
	}, `UPDATE sales SET pr_id = $1, short_code = $2, status = $3, final = $4, version = $5, data = $6 WHERE id = $7`,
		prID, code, string(s.Status), s.Status.Final(), s.Version, data, s.ID)
	if _, ok := t.held[s.ID]; !ok {
		if err := t.flush(ctx); err != nil {
			return err
		}
	}
	t.held[s.ID] = query.SaleState{Status: s.Status, Version: s.Version}
	return nil
}

func (t *pipeTx) Event(ctx context.Context, s *pos.Sale, note string) error {
	t.exec(func(_ pgconn.CommandTag, err error) error {
		if err != nil {
			return fmt.Errorf("postgres: sale %s event: %w", s.ID, err)
		}
		return nil
	}, `INSERT INTO sale_events (sale_id, at, status, note) VALUES ($1, $2, $3, $4)`, s.ID, s.UpdatedAt, string(s.Status), note)
	return nil
}

func (t *pipeTx) SaveOp(ctx context.Context, op *pos.Op) error {
	data, err := json.Marshal(op)
	if err != nil {
		return t.fail(ctx, fmt.Errorf("postgres: save op %s: %w", op.ID, err))
	}
	t.exec(func(_ pgconn.CommandTag, err error) error {
		if err != nil {
			return fmt.Errorf("postgres: save op %s: %w", op.ID, err)
		}
		return nil
	}, `INSERT INTO ops (id, sale_id, pr_id, kind, state, terminal_id, created_at, completed_at, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (id) DO UPDATE SET pr_id = excluded.pr_id, state = excluded.state, completed_at = excluded.completed_at, data = excluded.data`,
		op.ID, op.SaleID, op.PaymentRequestID, string(op.Kind), string(op.State), op.TerminalID, op.CreatedAt, timeOrNull(op.CompletedAt), data)
	return nil
}

// InsertEvent queues the lock of the event's stream, then the event with
// its deliveries in one statement, which numbers it: e.Sequence is set
// when the batch is answered, by the time Save returns.
func (t *pipeTx) InsertEvent(ctx context.Context, e *pos.OutboxEvent, endpoints []string) error {
	// one numbering of a stream at a time: two transactions could
	// otherwise both read the same max (the sale's own row lock covers
	// sale streams, not refunds of payments no sale made); the lock is a
	// statement of its own, taken before the insert's snapshot
	t.exec(func(_ pgconn.CommandTag, err error) error {
		if err != nil {
			return fmt.Errorf("postgres: outbox lock: %w", err)
		}
		return nil
	}, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, outboxLock, e.Stream)
	t.queue(func(br pgx.BatchResults) error {
		if err := br.QueryRow().Scan(&e.Sequence); err != nil {
			return fmt.Errorf("postgres: outbox event %s: %w", e.Type, err)
		}
		return nil
	}, `WITH e AS (
			INSERT INTO outbox_events (id, type, stream, sequence, created_at, data)
			VALUES ($1, $2, $3, (SELECT coalesce(max(sequence), 0) + 1 FROM outbox_events WHERE stream = $3), $4, $5)
			RETURNING id, stream, sequence),
		d AS (
			INSERT INTO webhook_deliveries (event_id, endpoint_id, stream, sequence, state, next_at, expires_at, created_at)
			SELECT e.id, ep, e.stream, e.sequence, 'pending', $4, $6, $4 FROM e, unnest($7::text[]) AS ep)
		SELECT sequence FROM e`,
		e.ID, string(e.Type), e.Stream, e.CreatedAt, string(e.Data), e.CreatedAt.Add(pos.DeliveryWindow), endpoints)
	return nil
}

// The reads: sent, with what is queued before them.

// SaleStatus answers from what the transaction knows when it holds the
// sale (read and locked, or written, by an earlier change of the batch).
// Otherwise it reads, and locks, the sale with every sale of the batch
// not read yet (ahead), in the same round trip: the other changes of
// the batch will find theirs known. The sales are read in the order of
// their ids, whatever the order of the batch, so that two batches lock
// theirs alike; each by its primary key, a statement of its own (one
// statement with = ANY($1) can be planned, and cached, as a scan of the
// table).
func (t *pipeTx) SaleState(ctx context.Context, id string) (query.SaleState, error) {
	if st, ok := t.held[id]; ok {
		return st, nil
	}
	ids := []string{id}
	for _, a := range t.ahead {
		if _, ok := t.held[a]; !ok && !slices.Contains(ids, a) {
			ids = append(ids, a)
		}
	}
	t.ahead = nil
	slices.Sort(ids)
	for _, id := range ids {
		t.queue(func(br pgx.BatchResults) error {
			var st query.SaleState
			err := br.QueryRow().Scan(&st.Status, &st.Version)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return nil
			case err != nil:
				return fmt.Errorf("postgres: read sale %s: %w", id, err)
			}
			t.held[id] = st
			return nil
		}, `SELECT status, version FROM sales WHERE id = $1 FOR UPDATE`, id)
	}
	if err := t.read(ctx); err != nil {
		return query.SaleState{}, err
	}
	return t.held[id], nil // status "" when there is no such sale
}

func (t *pipeTx) RefundStatus(ctx context.Context, id string) (pos.RefundStatus, error) {
	var st string
	var completed bool
	t.queue(func(br pgx.BatchResults) error {
		err := br.QueryRow().Scan(&st, &completed)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: read op %s: %w", id, err)
		}
		return nil
	}, `SELECT state, completed_at IS NOT NULL FROM ops WHERE id = $1 FOR UPDATE`, id)
	if err := t.read(ctx); err != nil {
		return "", err
	}
	if st == "" {
		return "", nil
	}
	return pos.RefundStatusOf(pos.OpState(st), completed), nil
}

func (t *pipeTx) Subscribers(ctx context.Context) ([]pos.Endpoint, error) {
	if t.subsRead {
		return t.subs, nil
	}
	if !t.subsQueued {
		t.queueSubscribers()
	}
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.subs, nil
}

// read sends a read queued last, with the subscribers' read the first
// time.
func (t *pipeTx) read(ctx context.Context) error {
	if !t.subsQueued {
		t.queueSubscribers()
	}
	return t.flush(ctx)
}

func (t *pipeTx) queueSubscribers() {
	t.subsQueued = true
	t.queue(func(br pgx.BatchResults) error {
		rows, _ := br.Query() // its error is rows'
		subs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (pos.Endpoint, error) {
			var e pos.Endpoint
			var events string
			err := row.Scan(&e.ID, &e.URL, &events, &e.Enabled, &e.CreatedAt)
			e.Events, e.CreatedAt = query.SplitEvents(events), e.CreatedAt.UTC()
			return e, err
		})
		if err != nil {
			return fmt.Errorf("postgres: endpoints: %w", err)
		}
		t.subs, t.subsRead = subs, true
		return nil
	}, `SELECT id, url, events, enabled, created_at FROM webhook_endpoints
		WHERE enabled AND removed_at IS NULL ORDER BY created_at, id`)
}

// timeOrNull is t, NULL for the zero time.
func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
