package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesABadGSTNumber: a GST number that is not 8 or 9 digits
// stops serve before it starts, with the flag named.
func TestServeRefusesABadGSTNumber(t *testing.T) {
	t.Setenv("CENTRAPAY_API_KEY", "k")
	for _, gst := range []string{"12345", "GST123456789", "1234567890"} {
		_, _, err := run(t, "serve", "--db", filepath.Join(t.TempDir(), "j.db"), "--merchant-account-id", "acc", "--listen", "127.0.0.1:0",
			"--merchant-address", "12 Queen Street", "--merchant-address", "Auckland 1010", "--gst-number", gst)
		if err == nil || !strings.Contains(err.Error(), "--gst-number") || !strings.Contains(err.Error(), "123-456-789") {
			t.Errorf("--gst-number %s: %v", gst, err)
		}
	}
}
