package sqlite

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
		return false, errors.New("sqlite: a notification needs an id and a body hash")
	}
	res, err := j.db.ExecContext(ctx, `INSERT INTO centrapay_notifications (id, body_sha256, received_at) VALUES (?, ?, ?)
		ON CONFLICT (id, body_sha256) DO NOTHING`, id, bodyHash, ms(at))
	if err != nil {
		return false, fmt.Errorf("sqlite: record notification: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: record notification: %w", err)
	}
	return n == 0, nil
}

// PurgeNotifications forgets the notifications received before before.
func (j *Journal) PurgeNotifications(ctx context.Context, before time.Time) (int64, error) {
	res, err := j.db.ExecContext(ctx, `DELETE FROM centrapay_notifications WHERE received_at < ?`, ms(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge notifications: %w", err)
	}
	return res.RowsAffected()
}
