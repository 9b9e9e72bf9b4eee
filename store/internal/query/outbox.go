package query

import (
	"strings"

	"github.com/centrapos/centrapos/pos"
)

// EndpointRemoved is the last error of the deliveries an endpoint's
// removal gave up.
const EndpointRemoved = "the endpoint was removed"

// JoinEvents is how an endpoint's event types are kept: comma-separated,
// "" for every type.
func JoinEvents(types []pos.EventType) string {
	s := make([]string, len(types))
	for i, t := range types {
		s[i] = string(t)
	}
	return strings.Join(s, ",")
}

// SplitEvents reads what JoinEvents wrote.
func SplitEvents(s string) []pos.EventType {
	if s == "" {
		return nil
	}
	var out []pos.EventType
	for f := range strings.SplitSeq(s, ",") {
		out = append(out, pos.EventType(f))
	}
	return out
}
