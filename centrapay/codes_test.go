package centrapay

import (
	"strings"
	"testing"
)

func TestValidateBarcode(t *testing.T) {
	for _, tt := range []struct {
		code string
		want string // "" = valid
	}{
		{"1219210000000018", ""},
		{"1219 2100 0000 0018", ""},
		{"1219210000000014", "check digit"},
		{"1111110000000007", "not a Centrapay prefix"},
		{"123456789", ""}, // Farmlands card: unchecked
		{"", "empty"},
		{"12192100000000a4", "only digits"},
		{"1234567", "7 digits"},
		{"12345678901234567890", "20 digits"},
	} {
		err := ValidateBarcode(tt.code)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("ValidateBarcode(%q) = %v, want %q", tt.code, err, tt.want)
		}
	}
}

func TestLuhnAgreesWithKnownNumbers(t *testing.T) {
	for _, n := range []string{"79927398713", "4111111111111111", "1219210000000018"} {
		if !luhnValid(n) {
			t.Errorf("%s should be valid", n)
		}
	}
	for _, n := range []string{"79927398710", "4111111111111112"} {
		if luhnValid(n) {
			t.Errorf("%s should be invalid", n)
		}
	}
}

func TestNormalizeShortCode(t *testing.T) {
	for _, tt := range []struct{ in, want, err string }{
		{"CP-C7F-ZS5", "CP-C7F-ZS5", ""},
		{"cp c7f zs5", "CP-C7F-ZS5", ""},
		{"CPC7FZS5", "CP-C7F-ZS5", ""},
		{" cp-x4v-6n ", "CP-X4V-6N", ""},
		{"CP-C7F-ZS5-015", "CP-C7F-ZS5-015", ""},
		{"XX-C7F-ZS5", "", "must start with CP"},
		{"CP-C7", "", "expected a code like"},
		{"CP-C7F-ZS5!", "", "not allowed"},
	} {
		got, err := NormalizeShortCode(tt.in)
		if got != tt.want || (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("NormalizeShortCode(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}
