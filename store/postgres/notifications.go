package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/centrapos/centrapos/pos"
)

var _ pos.Notifications = (*Journal)(nil)

// SeenNotification records a Centrapay notification by id and body hash
// and reports whether it was recorded already.
func (j *Journal) SeenNotification(ctx context.Context, id, bodyHash string, at time.Time) (bool, error) {
	if id == "" || bodyHash == "" {
		return false, errors.New("postgres: a notification needs an id and a body hash")
	}
	tag, err := j.pool.Exec(ctx, `INSERT INTO centrapay_notifications (id, body_sha256, received_at) VALUES ($1, $2, $3)
		ON CONFLICT (id, body_sha256) DO NOTHING`, id, bodyHash, at)
	if err != nil {
		return false, fmt.Errorf("postgres: record notification: %w", err)
	}
	return tag.RowsAffected() == 0, nil
}

// PurgeNotifications forgets the notifications received before before.
func (j *Journal) PurgeNotifications(ctx context.Context, before time.Time) (int64, error) {
	tag, err := j.pool.Exec(ctx, `DELETE FROM centrapay_notifications WHERE received_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("postgres: purge notifications: %w", err)
	}
	return tag.RowsAffected(), nil
}
