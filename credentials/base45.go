package credentials

import (
	"fmt"
	"strings"
)

// Base45 (RFC 9285) turns bytes into text made only of the 45 characters a QR
// code's alphanumeric mode can carry, 11 bits per two characters. Every two
// bytes become three characters (the value a + 256*b written as c + 45*d +
// 45*45*e, least significant digit first), and a final odd byte becomes two.

// Base45Encode returns the RFC 9285 base45 form of b.
func Base45Encode(b []byte) string {
	var sb strings.Builder
	sb.Grow(base45EncodedLen(len(b)))
	for i := 0; i+1 < len(b); i += 2 {
		v := int(b[i])<<8 | int(b[i+1])
		sb.WriteByte(base45Alphabet[v%45])
		v /= 45
		sb.WriteByte(base45Alphabet[v%45])
		sb.WriteByte(base45Alphabet[v/45])
	}
	if len(b)%2 == 1 {
		v := int(b[len(b)-1])
		sb.WriteByte(base45Alphabet[v%45])
		sb.WriteByte(base45Alphabet[v/45])
	}
	return sb.String()
}

// base45EncodedLen is the length of the base45 text of n bytes.
func base45EncodedLen(n int) int { return n/2*3 + n%2*2 }

// Base45Decode reads RFC 9285 base45 text. The error wraps ErrMalformed and
// says what is wrong: a character outside the alphabet (lower case letters
// included), a group whose value is too large for its bytes, or a single
// character left over at the end.
func Base45Decode(s string) ([]byte, error) {
	return base45Decode(make([]byte, 0, len(s)/3*2+1), s)
}

// base45Decode appends the bytes of the base45 text s to dst.
func base45Decode[T string | []byte](dst []byte, s T) ([]byte, error) {
	n := len(s)
	if n%3 == 1 {
		return nil, fmt.Errorf("base45: a single character is left over at the end (position %d); the text is %d characters long, which is never the length of base45: %w", n-1, n, ErrMalformed)
	}
	for i := 0; i < n; i += 3 {
		c, d := base45Values[s[i]], base45Values[s[i+1]]
		if c == 0xff || d == 0xff {
			return nil, base45BadChar(s, i)
		}
		v := int(c) + 45*int(d)
		if i+2 == n { // a final pair: one byte
			if v > 0xff {
				return nil, fmt.Errorf("base45: the final pair at position %d has the value %d, more than one byte can hold: %w", i, v, ErrMalformed)
			}
			dst = append(dst, byte(v))
			break
		}
		e := base45Values[s[i+2]]
		if e == 0xff {
			return nil, base45BadChar(s, i)
		}
		v += 45 * 45 * int(e)
		if v > 0xffff {
			return nil, fmt.Errorf("base45: the group at position %d has the value %d, more than two bytes can hold: %w", i, v, ErrMalformed)
		}
		dst = append(dst, byte(v>>8), byte(v))
	}
	return dst, nil
}

// base45BadChar reports the first character at or after position i of s
// that is not in the base45 alphabet.
func base45BadChar[T string | []byte](s T, i int) error {
	for ; i < len(s) && base45Values[s[i]] != 0xff; i++ {
	}
	c := s[i]
	shown := fmt.Sprintf("%q", c)
	if c >= 0x80 {
		shown = fmt.Sprintf("byte 0x%02x", c)
	}
	return fmt.Errorf("base45: bad character %s at position %d (base45 has only 0-9, A-Z, space and $%%*+-./:): %w", shown, i, ErrMalformed)
}

// base45Values maps a byte to its base45 value, or 0xff when it is not in
// the alphabet.
const base45Values = "" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\x24\xff\xff\xff\x25\x26\xff\xff\xff\xff\x27\x28\xff\x29\x2a\x2b\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x2c\xff\xff\xff\xff\xff" +
	"\xff\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x20\x21\x22\x23\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
