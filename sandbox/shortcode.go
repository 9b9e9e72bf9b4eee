package sandbox

import "strings"

// codeAlphabet is Crockford's base 32: no I, L, O or U, so codes survive
// being read aloud or typed.
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// shortCode makes the n-th short code, "CP-" then three characters, a dash,
// one character and a check character computed by the Luhn mod N algorithm
// over the alphabet.
func shortCode(n uint32) string {
	var body [4]byte
	for i := 3; i >= 0; i-- {
		body[i] = codeAlphabet[n%32]
		n /= 32
	}
	s := string(body[:])
	return "CP-" + s[:3] + "-" + s[3:] + string(checkChar(s))
}

// checkChar is the Luhn mod 32 check character of s.
func checkChar(s string) byte {
	const n = len(codeAlphabet)
	factor, sum := 2, 0
	for i := len(s) - 1; i >= 0; i-- {
		a := factor * strings.IndexByte(codeAlphabet, s[i])
		factor = 3 - factor
		sum += a/n + a%n
	}
	return codeAlphabet[(n-sum%n)%n]
}

// validShortCode reports whether code (already normalised, "CP-XXX-YZ")
// carries the right check character.
func validShortCode(code string) bool {
	c := strings.ReplaceAll(strings.TrimPrefix(code, "CP-"), "-", "")
	if len(c) < 2 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if strings.IndexByte(codeAlphabet, c[i]) < 0 {
			return false
		}
	}
	return checkChar(c[:len(c)-1]) == c[len(c)-1]
}
