package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// statements are the hot statements of Save (on the writer) and of Sale
// (on the readers), prepared when the journal opens: SQLite parses each
// once per connection, not once per call. database/sql keeps one per
// connection of its pool and prepares it again on a new one.
type statements struct {
	insertKey, insertSale, updateSale, event, saveOp *sql.Stmt
	saleStatus, opState, subscribers                 *sql.Stmt
	insertEvent, insertDelivery                      *sql.Stmt
	savepoint, rollbackTo, release                   *sql.Stmt
	sale                                             *sql.Stmt // on the readers
	all                                              []*sql.Stmt
}

// prepare prepares the statements, those of Save on db and that of Sale
// on rdb.
func prepare(ctx context.Context, db, rdb *sql.DB) (*statements, error) {
	s := &statements{}
	for _, p := range []struct {
		db  *sql.DB
		dst **sql.Stmt
		sql string
	}{
		{db, &s.insertKey, `INSERT INTO request_keys (terminal_id, key, request_hash, sale_id, op_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`},
		{db, &s.insertSale, `INSERT INTO sales (id, terminal_id, external_ref, pr_id, short_code, status, final, created_at, version, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{db, &s.updateSale, `UPDATE sales SET pr_id = ?, short_code = ?, status = ?, final = ?, version = ?, data = ? WHERE id = ?`},
		{db, &s.event, `INSERT INTO sale_events (sale_id, at, status, note) VALUES (?, ?, ?, ?)`},
		{db, &s.saveOp, `INSERT INTO ops (id, sale_id, pr_id, kind, state, terminal_id, created_at, completed_at, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET pr_id = excluded.pr_id, state = excluded.state, completed_at = excluded.completed_at, data = excluded.data`},
		{db, &s.saleStatus, `SELECT status, version FROM sales WHERE id = ?`},
		{db, &s.opState, `SELECT state, completed_at IS NOT NULL FROM ops WHERE id = ?`},
		{db, &s.subscribers, `SELECT id, url, events, enabled, created_at FROM webhook_endpoints
			WHERE enabled = 1 AND removed_at IS NULL ORDER BY created_at, id`},
		{db, &s.insertEvent, `INSERT INTO outbox_events (id, type, stream, sequence, created_at, data)
			VALUES (?, ?, ?, (SELECT coalesce(max(sequence), 0) + 1 FROM outbox_events WHERE stream = ?), ?, ?) RETURNING sequence`},
		{db, &s.insertDelivery, `INSERT INTO webhook_deliveries (event_id, endpoint_id, stream, sequence, state, next_at, expires_at, created_at)
			VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`},
		{db, &s.savepoint, `SAVEPOINT change`},
		{db, &s.rollbackTo, `ROLLBACK TO change`},
		{db, &s.release, `RELEASE change`},
		{rdb, &s.sale, `SELECT data FROM sales WHERE id = ?`},
	} {
		st, err := p.db.PrepareContext(ctx, p.sql)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("sqlite: prepare %q: %w", p.sql, err)
		}
		*p.dst = st
		s.all = append(s.all, st)
	}
	return s, nil
}

func (s *statements) close() error {
	var errs []error
	for _, st := range s.all {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// txWriter is a query.Tx in a SQLite transaction, with the prepared
// statements bound to it as they are first used.
type txWriter struct {
	tx    *sql.Tx
	s     *statements
	bound map[*sql.Stmt]*sql.Stmt
}

func newTxWriter(tx *sql.Tx, s *statements) *txWriter {
	return &txWriter{tx: tx, s: s, bound: map[*sql.Stmt]*sql.Stmt{}}
}

// stmt is st in the transaction.
func (w *txWriter) stmt(ctx context.Context, st *sql.Stmt) *sql.Stmt {
	b, ok := w.bound[st]
	if !ok {
		b = w.tx.StmtContext(ctx, st)
		w.bound[st] = b
	}
	return b
}
