package centrapay

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTimestampJSON(t *testing.T) {
	var ts Timestamp
	if err := json.Unmarshal([]byte(`"2021-06-08T04:04:27.426Z"`), &ts); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2021, 6, 8, 4, 4, 27, 426e6, time.UTC)
	if !ts.Equal(want) {
		t.Fatalf("decoded %v, want %v", ts.Time, want)
	}
	// Other offsets and precisions are read, and always written back as UTC
	// with milliseconds.
	if err := json.Unmarshal([]byte(`"2021-06-08T16:04:27.4261+12:00"`), &ts); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(NewTimestamp(ts.Time))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out); got != `"2021-06-08T04:04:27.426Z"` {
		t.Errorf("Marshal = %s", got)
	}
	for _, bad := range []string{`"yesterday"`, `12`, `"2021-06-08"`} {
		if err := json.Unmarshal([]byte(bad), &ts); err == nil {
			t.Errorf("Unmarshal(%s) accepted", bad)
		}
	}
	// Absent timestamps are omitted with omitzero.
	out, err = json.Marshal(PaymentRequest{ID: "x", Status: StatusNew})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["createdAt"]; ok {
		t.Errorf("zero createdAt was written: %s", out)
	}
}
