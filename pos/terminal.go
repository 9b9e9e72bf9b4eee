package pos

import "time"

// Terminal is a till: it starts sales with its own device id and merchant
// config (one config per location). A manager terminal sees every
// terminal's sales.
type Terminal struct {
	ID        string    `json:"id"`
	DeviceID  string    `json:"deviceId"`
	Name      string    `json:"name"`
	ConfigID  string    `json:"configId"`
	Manager   bool      `json:"manager,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	Revoked   bool      `json:"revoked,omitempty"`
}
