package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/internal/query"
)

var _ pos.Outbox = (*Journal)(nil)

// The outbox's side of a Save (query.Tx).

func (w *txWriter) SaleState(ctx context.Context, id string) (query.SaleState, error) {
	var st query.SaleState
	err := w.stmt(ctx, w.s.saleStatus).QueryRowContext(ctx, id).Scan(&st.Status, &st.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return query.SaleState{}, nil
	}
	if err != nil {
		return query.SaleState{}, fmt.Errorf("sqlite: read sale %s: %w", id, err)
	}
	return st, nil
}

func (w *txWriter) RefundStatus(ctx context.Context, id string) (pos.RefundStatus, error) {
	var st string
	var completed bool
	err := w.stmt(ctx, w.s.opState).QueryRowContext(ctx, id).Scan(&st, &completed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: read op %s: %w", id, err)
	}
	return pos.RefundStatusOf(pos.OpState(st), completed), nil
}

func (w *txWriter) Subscribers(ctx context.Context) ([]pos.Endpoint, error) {
	rows, err := w.stmt(ctx, w.s.subscribers).QueryContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: endpoints: %w", err)
	}
	defer rows.Close()
	var out []pos.Endpoint
	for rows.Next() {
		var e pos.Endpoint
		var events string
		var created int64
		if err := rows.Scan(&e.ID, &e.URL, &events, &e.Enabled, &created); err != nil {
			return nil, err
		}
		e.Events, e.CreatedAt = query.SplitEvents(events), time.UnixMilli(created).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

func (w *txWriter) InsertEvent(ctx context.Context, e *pos.OutboxEvent, endpoints []string) error {
	err := w.stmt(ctx, w.s.insertEvent).QueryRowContext(ctx, e.ID, e.Type, e.Stream, e.Stream, ms(e.CreatedAt), string(e.Data)).Scan(&e.Sequence)
	if err != nil {
		return fmt.Errorf("sqlite: outbox event %s: %w", e.Type, err)
	}
	for _, ep := range endpoints {
		_, err := w.stmt(ctx, w.s.insertDelivery).ExecContext(ctx, e.ID, ep, e.Stream, e.Sequence, ms(e.CreatedAt), ms(e.CreatedAt.Add(pos.DeliveryWindow)), ms(e.CreatedAt))
		if err != nil {
			return fmt.Errorf("sqlite: delivery of %s to %s: %w", e.ID, ep, err)
		}
	}
	return nil
}

// The endpoints.

// AddEndpoint records an endpoint.
func (j *Journal) AddEndpoint(ctx context.Context, e pos.Endpoint) error {
	_, err := j.db.ExecContext(ctx, `INSERT INTO webhook_endpoints (id, url, events, secret, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		e.ID, e.URL, query.JoinEvents(e.Events), e.Secret, e.Enabled, ms(e.CreatedAt))
	if uniqueViolation(err) != "" {
		return pos.ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("sqlite: add endpoint: %w", err)
	}
	return nil
}

const endpointCols = `id, url, events, secret, enabled, created_at`

func scanEndpoint(row interface{ Scan(...any) error }) (*pos.Endpoint, error) {
	var e pos.Endpoint
	var events string
	var created int64
	if err := row.Scan(&e.ID, &e.URL, &events, &e.Secret, &e.Enabled, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, pos.ErrNotFound
		}
		return nil, err
	}
	e.Events, e.CreatedAt = query.SplitEvents(events), time.UnixMilli(created).UTC()
	return &e, nil
}

// Endpoint returns an endpoint that was not removed.
func (j *Journal) Endpoint(ctx context.Context, id string) (*pos.Endpoint, error) {
	return scanEndpoint(j.rdb.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = ? AND removed_at IS NULL`, id))
}

// Endpoints lists the endpoints not removed, oldest first.
func (j *Journal) Endpoints(ctx context.Context) ([]pos.Endpoint, error) {
	rows, err := j.rdb.QueryContext(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE removed_at IS NULL ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pos.Endpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}

// SetEndpointEnabled enables or disables an endpoint.
func (j *Journal) SetEndpointEnabled(ctx context.Context, id string, enabled bool) error {
	res, err := j.db.ExecContext(ctx, `UPDATE webhook_endpoints SET enabled = ? WHERE id = ? AND removed_at IS NULL`, enabled, id)
	if err != nil {
		return fmt.Errorf("sqlite: endpoint %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pos.ErrNotFound
	}
	return nil
}

// RemoveEndpoint removes an endpoint and gives up its pending deliveries.
func (j *Journal) RemoveEndpoint(ctx context.Context, id string, at time.Time) error {
	return j.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET enabled = 0, removed_at = ? WHERE id = ? AND removed_at IS NULL`, ms(at), id)
		if err != nil {
			return fmt.Errorf("sqlite: remove endpoint %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return pos.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = 'failed', last_error = ? WHERE endpoint_id = ? AND state = 'pending'`,
			query.EndpointRemoved, id)
		return err
	})
}

// The events.

const eventCols = `id, type, stream, sequence, created_at, data`

func scanEvent(row interface{ Scan(...any) error }) (*pos.OutboxEvent, error) {
	var e pos.OutboxEvent
	var created int64
	var data string
	if err := row.Scan(&e.ID, &e.Type, &e.Stream, &e.Sequence, &created, &data); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, pos.ErrNotFound
		}
		return nil, err
	}
	e.CreatedAt, e.Data = time.UnixMilli(created).UTC(), []byte(data)
	return &e, nil
}

// Event returns one event.
func (j *Journal) Event(ctx context.Context, id string) (*pos.OutboxEvent, error) {
	return scanEvent(j.rdb.QueryRowContext(ctx, `SELECT `+eventCols+` FROM outbox_events WHERE id = ?`, id))
}

// Events lists events, oldest first.
func (j *Journal) Events(ctx context.Context, f pos.EventFilter) ([]pos.OutboxEvent, error) {
	w := query.Events(query.SQLite, f)
	q, args := `SELECT `+eventCols+` FROM outbox_events`+w.String()+` ORDER BY seq`, w.Args
	if f.Limit > 0 {
		q += ` LIMIT ` + strconv.Itoa(f.Limit)
	}
	rows, err := j.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pos.OutboxEvent
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}

// The deliveries.

const deliveryCols = `d.event_id, d.endpoint_id, e.type, d.stream, d.sequence, d.state, d.attempts,
	d.last_at, d.last_status, d.last_error, d.next_at, d.expires_at, d.created_at`

func scanDeliveries(rows *sql.Rows, err error) ([]pos.Delivery, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pos.Delivery
	for rows.Next() {
		var d pos.Delivery
		var lastAt, lastStatus sql.NullInt64
		var lastError sql.NullString
		var next, expires, created int64
		if err := rows.Scan(&d.EventID, &d.EndpointID, &d.EventType, &d.Stream, &d.Sequence, &d.State, &d.Attempts,
			&lastAt, &lastStatus, &lastError, &next, &expires, &created); err != nil {
			return nil, err
		}
		if lastAt.Valid {
			d.LastAt = time.UnixMilli(lastAt.Int64).UTC()
		}
		d.LastStatus, d.LastError = int(lastStatus.Int64), lastError.String
		d.NextAt, d.ExpiresAt, d.CreatedAt = time.UnixMilli(next).UTC(), time.UnixMilli(expires).UTC(), time.UnixMilli(created).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// Due returns the deliveries to endpointID due at now that no earlier
// pending event of their stream holds back.
func (j *Journal) Due(ctx context.Context, endpointID string, now time.Time, limit int) ([]pos.Delivery, error) {
	return scanDeliveries(j.db.QueryContext(ctx, `SELECT `+deliveryCols+`
		FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id
		WHERE d.endpoint_id = ? AND d.state = 'pending' AND d.next_at <= ?
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id AND p.stream = d.stream
			AND p.state = 'pending' AND p.sequence < d.sequence)
		ORDER BY d.next_at, e.seq LIMIT ?`, endpointID, ms(now), limit))
}

// RecordAttempt keeps the outcome of a try of a pending delivery; one
// given up meanwhile (its endpoint removed) stays as it is.
func (j *Journal) RecordAttempt(ctx context.Context, a pos.Attempt) error {
	res, err := j.db.ExecContext(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_at = ?, last_status = ?, last_error = ?,
		state = ?, next_at = ? WHERE event_id = ? AND endpoint_id = ? AND state = 'pending'`,
		ms(a.At), a.Status, a.Error, a.State, ms(a.NextAt), a.EventID, a.EndpointID)
	if err != nil {
		return fmt.Errorf("sqlite: record attempt: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	var found int
	if err := j.db.QueryRowContext(ctx, `SELECT count(*) FROM webhook_deliveries WHERE event_id = ? AND endpoint_id = ?`, a.EventID, a.EndpointID).Scan(&found); err != nil {
		return err
	}
	if found == 0 {
		return pos.ErrNotFound
	}
	return nil
}

// Deliveries lists the delivery log, newest event first.
func (j *Journal) Deliveries(ctx context.Context, f pos.DeliveryFilter) ([]pos.Delivery, error) {
	w := query.Deliveries(query.SQLite, f)
	args := w.Args
	q := `SELECT ` + deliveryCols + ` FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id` + w.String() +
		` ORDER BY e.seq DESC, d.endpoint_id`
	if f.Limit > 0 {
		q += " LIMIT " + strconv.Itoa(f.Limit)
	}
	return scanDeliveries(j.db.QueryContext(ctx, q, args...))
}

// Redeliver makes an event's deliveries pending again.
func (j *Journal) Redeliver(ctx context.Context, eventID, endpointID string, at time.Time) (int, error) {
	var n int64
	err := j.inTx(ctx, func(tx *sql.Tx) error {
		var stream string
		var sequence int64
		err := tx.QueryRowContext(ctx, `SELECT stream, sequence FROM outbox_events WHERE id = ?`, eventID).Scan(&stream, &sequence)
		if errors.Is(err, sql.ErrNoRows) {
			return pos.ErrNotFound
		}
		if err != nil {
			return err
		}
		if endpointID != "" {
			var live int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM webhook_endpoints WHERE id = ? AND removed_at IS NULL`, endpointID).Scan(&live); err != nil {
				return err
			}
			if live == 0 {
				return pos.ErrNotFound
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (event_id, endpoint_id, stream, sequence, state, next_at, expires_at, created_at)
				VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)
				ON CONFLICT (event_id, endpoint_id) DO UPDATE SET state = 'pending', next_at = excluded.next_at, expires_at = excluded.expires_at`,
				eventID, endpointID, stream, sequence, ms(at), ms(at.Add(pos.DeliveryWindow)), ms(at))
			if err != nil {
				return err
			}
			n, _ = res.RowsAffected()
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = 'pending', next_at = ?, expires_at = ?
			WHERE event_id = ? AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE removed_at IS NULL)`,
			ms(at), ms(at.Add(pos.DeliveryWindow)), eventID)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil && !errors.Is(err, pos.ErrNotFound) {
		err = fmt.Errorf("sqlite: redeliver %s: %w", eventID, err)
	}
	return int(n), err
}
