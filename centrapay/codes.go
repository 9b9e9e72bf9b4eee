package centrapay

import (
	"errors"
	"fmt"
	"strings"
)

// centrapayPrefixes are the 6-digit prefixes of Centrapay patron barcodes.
var centrapayPrefixes = [...]string{"121921", "123000", "282828", "293000", "321000", "321123", "636863", "713131",
	"765432", "777000", "839234", "848484", "888444", "929394", "987600", "999000"}

// NormalizeBarcode turns a typed or scanned patron barcode into the bare
// code Centrapay expects: it removes leading and trailing whitespace, and
// spaces, tabs and dashes (ASCII '-', the Unicode dashes U+2010 to U+2015
// and the minus sign U+2212) anywhere ("1219 2100 0000 0018" and
// "121921-000000001-8" become "1219210000000018"). Cashiers type codes in
// the groups printed on a card, and keyboards and scanners turn '-' into
// other dashes. Nothing else is removed, so a letter or a stray symbol is
// still refused by ValidateBarcode. Create sends the normalised barcode.
func NormalizeBarcode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '-' || (r >= '\u2010' && r <= '\u2015') || r == '\u2212' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

// ValidateBarcode checks a scanned or typed patron barcode before a create.
// It checks the code as NormalizeBarcode leaves it, so spaces and dashes are
// ignored. A 16-digit code must start with a Centrapay prefix and end with
// a valid Luhn check digit; shorter or longer partner card numbers (8 to 19
// digits, such as a 9-digit Farmlands card) pass unchecked, since only their
// issuer can validate them.
func ValidateBarcode(code string) error {
	c := NormalizeBarcode(code)
	if c == "" {
		return errors.New("barcode is empty")
	}
	for _, r := range c {
		if r < '0' || r > '9' {
			return fmt.Errorf("barcode %q: only digits are allowed", code)
		}
	}
	if len(c) < 8 || len(c) > 19 {
		return fmt.Errorf("barcode %q: %d digits; a Centrapay code has 16", code, len(c))
	}
	if len(c) != 16 {
		return nil
	}
	known := false
	for _, p := range centrapayPrefixes {
		if strings.HasPrefix(c, p) {
			known = true
			break
		}
	}
	if !known {
		return fmt.Errorf("barcode %q: prefix %s is not a Centrapay prefix", code, c[:6])
	}
	if !luhnValid(c) {
		return fmt.Errorf("barcode %q: check digit is wrong (mistyped or misread)", code)
	}
	return nil
}

// luhnValid reports whether the last digit of digits is its Luhn check digit.
func luhnValid(digits string) bool {
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// NormalizeShortCode turns a typed or scanned short code into Centrapay's
// form: upper case, "CP" then groups of three separated by dashes, the last
// group possibly shorter ("cp c7f zs5" → "CP-C7F-ZS5", "CPX4V6N" →
// "CP-X4V-6N"). Centrapay checks the check character (CHECKSUM_FAILED).
func NormalizeShortCode(s string) (string, error) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
		case (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		default:
			return "", fmt.Errorf("short code %q: character %q is not allowed", s, r)
		}
	}
	c := b.String()
	if !strings.HasPrefix(c, "CP") {
		return "", fmt.Errorf("short code %q: must start with CP", s)
	}
	rest := c[2:]
	if len(rest) < 4 || len(rest) > 12 {
		return "", fmt.Errorf("short code %q: expected a code like CP-C7F-ZS5", s)
	}
	out := "CP"
	for len(rest) > 0 {
		n := min(3, len(rest))
		out += "-" + rest[:n]
		rest = rest[n:]
	}
	return out, nil
}
