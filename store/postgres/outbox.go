package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/internal/query"
)

var _ pos.Outbox = (*Journal)(nil)

// outboxLock is the first key of the advisory lock that numbers one
// stream's events (the second is the stream's hash).
const outboxLock = 7406132

// The endpoints.

// AddEndpoint records an endpoint.
func (j *Journal) AddEndpoint(ctx context.Context, e pos.Endpoint) error {
	_, err := j.pool.Exec(ctx, `INSERT INTO webhook_endpoints (id, url, events, secret, enabled, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.ID, e.URL, query.JoinEvents(e.Events), e.Secret, e.Enabled, e.CreatedAt)
	if uniqueViolation(err) != "" {
		return pos.ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("postgres: add endpoint: %w", err)
	}
	return nil
}

const endpointCols = `id, url, events, secret, enabled, created_at`

func scanEndpoint(row pgx.Row) (*pos.Endpoint, error) {
	var e pos.Endpoint
	var events string
	if err := row.Scan(&e.ID, &e.URL, &events, &e.Secret, &e.Enabled, &e.CreatedAt); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, pos.ErrNotFound
		}
		return nil, err
	}
	e.Events, e.CreatedAt = query.SplitEvents(events), e.CreatedAt.UTC()
	return &e, nil
}

// Endpoint returns an endpoint that was not removed.
func (j *Journal) Endpoint(ctx context.Context, id string) (*pos.Endpoint, error) {
	return scanEndpoint(j.pool.QueryRow(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = $1 AND removed_at IS NULL`, id))
}

// Endpoints lists the endpoints not removed, oldest first.
func (j *Journal) Endpoints(ctx context.Context) ([]pos.Endpoint, error) {
	rows, err := j.pool.Query(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE removed_at IS NULL ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (pos.Endpoint, error) {
		e, err := scanEndpoint(row)
		if err != nil {
			return pos.Endpoint{}, err
		}
		return *e, nil
	})
}

// SetEndpointEnabled enables or disables an endpoint.
func (j *Journal) SetEndpointEnabled(ctx context.Context, id string, enabled bool) error {
	tag, err := j.pool.Exec(ctx, `UPDATE webhook_endpoints SET enabled = $1 WHERE id = $2 AND removed_at IS NULL`, enabled, id)
	if err != nil {
		return fmt.Errorf("postgres: endpoint %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return pos.ErrNotFound
	}
	return nil
}

// RemoveEndpoint removes an endpoint and gives up its pending deliveries.
func (j *Journal) RemoveEndpoint(ctx context.Context, id string, at time.Time) error {
	return pgx.BeginFunc(ctx, j.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE webhook_endpoints SET enabled = false, removed_at = $1 WHERE id = $2 AND removed_at IS NULL`, at, id)
		if err != nil {
			return fmt.Errorf("postgres: remove endpoint %s: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return pos.ErrNotFound
		}
		_, err = tx.Exec(ctx, `UPDATE webhook_deliveries SET state = 'failed', last_error = $1 WHERE endpoint_id = $2 AND state = 'pending'`,
			query.EndpointRemoved, id)
		return err
	})
}

// The events.

const eventCols = `id, type, stream, sequence, created_at, data`

func scanEvent(row pgx.Row) (*pos.OutboxEvent, error) {
	var e pos.OutboxEvent
	var typ, data string
	if err := row.Scan(&e.ID, &typ, &e.Stream, &e.Sequence, &e.CreatedAt, &data); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, pos.ErrNotFound
		}
		return nil, err
	}
	e.Type, e.CreatedAt, e.Data = pos.EventType(typ), e.CreatedAt.UTC(), []byte(data)
	return &e, nil
}

// Event returns one event.
func (j *Journal) Event(ctx context.Context, id string) (*pos.OutboxEvent, error) {
	return scanEvent(j.pool.QueryRow(ctx, `SELECT `+eventCols+` FROM outbox_events WHERE id = $1`, id))
}

// Events lists events, oldest first.
func (j *Journal) Events(ctx context.Context, f pos.EventFilter) ([]pos.OutboxEvent, error) {
	w := query.Events(query.Postgres, f)
	q := `SELECT ` + eventCols + ` FROM outbox_events` + w.String() + ` ORDER BY seq`
	if f.Limit > 0 {
		q += ` LIMIT ` + strconv.Itoa(f.Limit)
	}
	rows, err := j.pool.Query(ctx, q, w.Args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (pos.OutboxEvent, error) {
		e, err := scanEvent(row)
		if err != nil {
			return pos.OutboxEvent{}, err
		}
		return *e, nil
	})
}

// The deliveries.

const deliveryCols = `d.event_id, d.endpoint_id, e.type, d.stream, d.sequence, d.state, d.attempts,
	d.last_at, d.last_status, d.last_error, d.next_at, d.expires_at, d.created_at`

func scanDeliveries(rows pgx.Rows, err error) ([]pos.Delivery, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (pos.Delivery, error) {
		var d pos.Delivery
		var typ, state string
		var lastAt *time.Time
		var lastStatus *int32
		var lastError *string
		if err := row.Scan(&d.EventID, &d.EndpointID, &typ, &d.Stream, &d.Sequence, &state, &d.Attempts,
			&lastAt, &lastStatus, &lastError, &d.NextAt, &d.ExpiresAt, &d.CreatedAt); err != nil {
			return d, err
		}
		d.EventType, d.State = pos.EventType(typ), pos.DeliveryState(state)
		if lastAt != nil {
			d.LastAt = lastAt.UTC()
		}
		if lastStatus != nil {
			d.LastStatus = int(*lastStatus)
		}
		if lastError != nil {
			d.LastError = *lastError
		}
		d.NextAt, d.ExpiresAt, d.CreatedAt = d.NextAt.UTC(), d.ExpiresAt.UTC(), d.CreatedAt.UTC()
		return d, nil
	})
}

// Due returns the deliveries to endpointID due at now that no earlier
// pending event of their stream holds back.
func (j *Journal) Due(ctx context.Context, endpointID string, now time.Time, limit int) ([]pos.Delivery, error) {
	return scanDeliveries(j.pool.Query(ctx, `SELECT `+deliveryCols+`
		FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id
		WHERE d.endpoint_id = $1 AND d.state = 'pending' AND d.next_at <= $2
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id AND p.stream = d.stream
			AND p.state = 'pending' AND p.sequence < d.sequence)
		ORDER BY d.next_at, e.seq LIMIT $3`, endpointID, now, limit))
}

// RecordAttempt keeps the outcome of a try of a pending delivery; one
// given up meanwhile (its endpoint removed) stays as it is.
func (j *Journal) RecordAttempt(ctx context.Context, a pos.Attempt) error {
	tag, err := j.pool.Exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_at = $1, last_status = $2, last_error = $3,
		state = $4, next_at = $5 WHERE event_id = $6 AND endpoint_id = $7 AND state = 'pending'`,
		a.At, a.Status, a.Error, string(a.State), a.NextAt, a.EventID, a.EndpointID)
	if err != nil {
		return fmt.Errorf("postgres: record attempt: %w", err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	var found bool
	if err := j.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE event_id = $1 AND endpoint_id = $2)`, a.EventID, a.EndpointID).Scan(&found); err != nil {
		return err
	}
	if !found {
		return pos.ErrNotFound
	}
	return nil
}

// Deliveries lists the delivery log, newest event first.
func (j *Journal) Deliveries(ctx context.Context, f pos.DeliveryFilter) ([]pos.Delivery, error) {
	w := query.Deliveries(query.Postgres, f)
	q := `SELECT ` + deliveryCols + ` FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id` + w.String() +
		` ORDER BY e.seq DESC, d.endpoint_id`
	if f.Limit > 0 {
		q += " LIMIT " + strconv.Itoa(f.Limit)
	}
	return scanDeliveries(j.pool.Query(ctx, q, w.Args...))
}

// Redeliver makes an event's deliveries pending again.
func (j *Journal) Redeliver(ctx context.Context, eventID, endpointID string, at time.Time) (int, error) {
	var n int64
	err := pgx.BeginFunc(ctx, j.pool, func(tx pgx.Tx) error {
		var stream string
		var sequence int64
		err := tx.QueryRow(ctx, `SELECT stream, sequence FROM outbox_events WHERE id = $1`, eventID).Scan(&stream, &sequence)
		if errors.Is(err, pgx.ErrNoRows) {
			return pos.ErrNotFound
		}
		if err != nil {
			return err
		}
		if endpointID != "" {
			var live bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = $1 AND removed_at IS NULL)`, endpointID).Scan(&live); err != nil {
				return err
			}
			if !live {
				return pos.ErrNotFound
			}
			tag, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries (event_id, endpoint_id, stream, sequence, state, next_at, expires_at, created_at)
				VALUES ($1, $2, $3, $4, 'pending', $5, $6, $5)
				ON CONFLICT (event_id, endpoint_id) DO UPDATE SET state = 'pending', next_at = excluded.next_at, expires_at = excluded.expires_at`,
				eventID, endpointID, stream, sequence, at, at.Add(pos.DeliveryWindow))
			n = tag.RowsAffected()
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET state = 'pending', next_at = $1, expires_at = $2
			WHERE event_id = $3 AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE removed_at IS NULL)`,
			at, at.Add(pos.DeliveryWindow), eventID)
		n = tag.RowsAffected()
		return err
	})
	if err != nil && !errors.Is(err, pos.ErrNotFound) {
		err = fmt.Errorf("postgres: redeliver %s: %w", eventID, err)
	}
	return int(n), err
}
