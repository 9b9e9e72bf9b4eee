package centrapay

import (
	"context"
	"net/http"
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
		{"121921-000000001-8", ""},
		{"1219\u20132100\u20130000\u20130018", ""},
		{" 1219210000000018\r\n", ""},
		{"1219-2100-0000-0014", "check digit"},
		{"1219.2100.0000.0018", "only digits"},
		{" - ", "empty"},
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

func TestNormalizeBarcode(t *testing.T) {
	const clean = "1219210000000018"
	for _, tt := range []struct {
		in, want string
		valid    bool // the result passes ValidateBarcode
	}{
		{clean, clean, true},
		{"1219 2100 0000 0018", clean, true},
		{"121921-000000001-8", clean, true},
		{"  1219210000000018\r\n", clean, true},
		{"\t1219\t2100\t0000\t0018", clean, true},
		{"1219-2100 - 0000--0018", clean, true},
		{"1219\u20102100\u20110000\u20120018", clean, true},   // hyphen, non-breaking hyphen, figure dash
		{"1219\u20132100\u20140000\u20150018", clean, true},   // en dash, em dash, horizontal bar
		{"1219\u22122100\u22120000\u22120018", clean, true},   // minus sign
		{"123-456-789", "123456789", true},                    // a partner card, unchecked
		{"1219 2100 0000 0014", "1219210000000014", false},    // wrong check digit stays wrong
		{"1219 2100 0000 00a4", "12192100000000a4", false},    // letters stay
		{"1219.2100.0000.0018", "1219.2100.0000.0018", false}, // other separators stay
		{"1219_2100/0000+0018", "1219_2100/0000+0018", false},
		{"1219\u00a02100\u00a00000\u00a00018", "1219\u00a02100\u00a00000\u00a00018", false}, // inner no-break spaces stay
		{"1219\n2100", "1219\n2100", false},                                                 // inner newline stays
		{"\u2212\u2212", "", false},
		{"", "", false},
	} {
		got := NormalizeBarcode(tt.in)
		if got != tt.want {
			t.Errorf("NormalizeBarcode(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := NormalizeBarcode(got); again != got {
			t.Errorf("NormalizeBarcode(%q) = %q, not stable", got, again)
		}
		if err := ValidateBarcode(got); (err == nil) != tt.valid {
			t.Errorf("ValidateBarcode(%q) = %v, want valid %v", got, err, tt.valid)
		}
	}
}

func TestCreateSendsNormalizedBarcode(t *testing.T) {
	mux, c, _ := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, want{"POST", "/api/payment-requests", "",
			`{"configId":"mc1","value":{"amount":"100","currency":"NZD"},"barcode":"1219210000000018","externalRef":"X"}`})
		reply(w, 200, prJSON)
	})
	req := &CreateRequest{ConfigID: "mc1", Value: Cents(100, "NZD"), Barcode: " 1219-2100\u20130000 0018 ", ExternalRef: "X"}
	if _, _, err := c.Create(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if req.Barcode != " 1219-2100\u20130000 0018 " {
		t.Errorf("the caller's request was changed: barcode %q", req.Barcode)
	}
}
