package centrapay

import (
	"encoding/json"
	"fmt"
	"time"
)

// TimestampLayout is Centrapay's timestamp form: ISO-8601 in UTC with
// milliseconds, e.g. "2021-06-08T04:04:27.426Z".
const TimestampLayout = "2006-01-02T15:04:05.000Z07:00"

// Timestamp is a point in time as Centrapay writes it. It decodes any
// RFC 3339 time and always encodes as UTC with milliseconds. The zero value
// is absent and is omitted with `omitzero`.
type Timestamp struct{ time.Time }

// NewTimestamp returns t truncated to the millisecond, in UTC.
func NewTimestamp(t time.Time) Timestamp {
	return Timestamp{t.UTC().Truncate(time.Millisecond)}
}

// String returns the timestamp in Centrapay's form, or "" when absent.
func (t Timestamp) String() string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimestampLayout)
}

// MarshalJSON writes the timestamp in Centrapay's form, or null when absent.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.String())
}

// UnmarshalJSON reads an RFC 3339 string; null or "" leave it absent.
func (t *Timestamp) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	p, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", s, err)
	}
	t.Time = p.UTC()
	return nil
}
