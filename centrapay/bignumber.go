package centrapay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
)

// BigNumber is Centrapay's arbitrary-precision number, carried in JSON as a
// string ("10000", "15.00"). It keeps the exact text it was given so that a
// value read from Centrapay is sent back byte for byte; it never passes
// through float64. The zero value is an absent number and is omitted with
// `omitempty`.
//
// Some Centrapay responses carry BigNumbers as bare JSON numbers (the accept
// condition example shows `"amount": 100`), so decoding accepts both forms.
type BigNumber string

// Int64BigNumber returns n as a BigNumber, e.g. an amount in cents.
func Int64BigNumber(n int64) BigNumber { return BigNumber(strconv.FormatInt(n, 10)) }

// ParseBigNumber checks that s is a plain decimal number (optional minus
// sign, digits, optional fraction) and returns it as a BigNumber.
func ParseBigNumber(s string) (BigNumber, error) {
	if !isDecimal(s) {
		return "", fmt.Errorf("invalid number %q: want digits with an optional sign and fraction", s)
	}
	return BigNumber(s), nil
}

// String returns the number's text.
func (b BigNumber) String() string { return string(b) }

// IsZero reports whether the number is absent.
func (b BigNumber) IsZero() bool { return b == "" }

// Int64 returns the number as an integer. It fails for absent, fractional or
// out-of-range numbers, so that an amount in minor units is never rounded.
func (b BigNumber) Int64() (int64, error) {
	if b == "" {
		return 0, fmt.Errorf("number is absent")
	}
	r, ok := b.Rat()
	if !ok {
		return 0, fmt.Errorf("invalid number %q", string(b))
	}
	if !r.IsInt() {
		return 0, fmt.Errorf("number %q is not a whole number", string(b))
	}
	if !r.Num().IsInt64() {
		return 0, fmt.Errorf("number %q is out of range", string(b))
	}
	return r.Num().Int64(), nil
}

// Rat returns the exact value of the number; ok is false when it is absent or
// not a decimal number.
func (b BigNumber) Rat() (r *big.Rat, ok bool) {
	if !isDecimal(string(b)) {
		return nil, false
	}
	return new(big.Rat).SetString(string(b))
}

// Cmp compares two numbers exactly: -1 if b < o, 0 if equal, +1 if b > o.
// Absent or invalid numbers compare as zero.
func (b BigNumber) Cmp(o BigNumber) int {
	x, ok := b.Rat()
	if !ok {
		x = new(big.Rat)
	}
	y, ok := o.Rat()
	if !ok {
		y = new(big.Rat)
	}
	return x.Cmp(y)
}

// MarshalJSON writes the number as a JSON string.
func (b BigNumber) MarshalJSON() ([]byte, error) {
	return json.Marshal(string(b))
}

// UnmarshalJSON reads a JSON string or a JSON number. A string must hold a
// decimal number; null leaves the number absent.
func (b *BigNumber) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		*b = ""
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		if s != "" && !isDecimal(s) {
			return fmt.Errorf("invalid BigNumber %q", s)
		}
		*b = BigNumber(s)
		return nil
	}
	s := string(data)
	if !isJSONNumber(s) {
		return fmt.Errorf("invalid BigNumber %s", s)
	}
	*b = BigNumber(s)
	return nil
}

// isDecimal reports whether s is -?digits(.digits)?.
func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	if s[0] == '-' {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if digits == 0 {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != '.' {
		return false
	}
	i++
	frac := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		frac++
	}
	return frac > 0 && i == len(s)
}

// isJSONNumber accepts the decimal subset of JSON numbers (no exponent), so
// that every accepted number converts exactly.
func isJSONNumber(s string) bool { return isDecimal(s) }
