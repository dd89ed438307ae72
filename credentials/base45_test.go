package credentials_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
)

func TestBase45RFC9285Examples(t *testing.T) {
	for _, tc := range []struct{ raw, text string }{
		// RFC 9285 sections 4.3 and 4.4.
		{"AB", "BB8"},
		{"Hello!!", "%69 VD92EX0"},
		{"base-45", "UJCLQE7W581"},
		{"ietf!", "QED8WEX0"},
		// Edges: nothing, one byte, the largest group and final pair.
		{"", ""},
		{"\x00", "00"},
		{"\xff", "U5"},
		{"\xff\xff", "FGW"},
		{"\x00\x00", "000"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			if got := credentials.Base45Encode([]byte(tc.raw)); got != tc.text {
				t.Fatalf("Base45Encode(%q) = %q, want %q", tc.raw, got, tc.text)
			}
			got, err := credentials.Base45Decode(tc.text)
			if err != nil || string(got) != tc.raw {
				t.Fatalf("Base45Decode(%q) = %q, %v, want %q", tc.text, got, err, tc.raw)
			}
		})
	}
}

func TestBase45DecodeErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"lower case", "bB8", `bad character 'b' at position 0`},
		{"bad char in the middle", "BB8%69 VD9#EX0", `bad character '#' at position 10`},
		{"bad char in a final pair", "BB8Q!", `bad character '!' at position 4`},
		{"non-ASCII", "BB8\xc3\xa9Q", `bad character byte 0xc3 at position 3`},
		{"group overflow", "GGW", "the group at position 0 has the value 65536"},
		{"largest overflow", "BB8:::", "the group at position 3 has the value 91124"},
		{"final pair overflow", "BB8V5", "the final pair at position 3 has the value 256"},
		{"dangling char", "BB8B", "a single character is left over at the end (position 3)"},
		{"one char", "B", "a single character is left over"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := credentials.Base45Decode(tc.text)
			if err == nil {
				t.Fatalf("Base45Decode(%q) = %q, want an error", tc.text, got)
			}
			if !errors.Is(err, credentials.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestBase45RoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		text := credentials.Base45Encode(b)
		if len(text) != n/2*3+n%2*2 {
			t.Fatalf("%d bytes gave %d characters", n, len(text))
		}
		if _, err := credentials.DetectFormat([]byte("A" + text + "A")); n > 0 && err != nil {
			t.Fatalf("base45 text not detected as a card: %v", err)
		}
		back, err := credentials.Base45Decode(text)
		if err != nil || !bytes.Equal(back, b) {
			t.Fatalf("round trip of %x: %x, %v", b, back, err)
		}
	}
}

func FuzzBase45Decode(f *testing.F) {
	for _, s := range []string{"", "BB8", "%69 VD92EX0", "QED8WEX0", "FGW", "GGW", "U5", "BB8B", "bb8", "::", ":::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := credentials.Base45Decode(s)
		if err != nil {
			if !errors.Is(err, credentials.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		// Valid base45 has one encoding: decoding then encoding gives it back.
		if again := credentials.Base45Encode(b); again != s {
			t.Fatalf("Base45Encode(Base45Decode(%q)) = %q", s, again)
		}
		// And any bytes round-trip.
		raw := []byte(s)
		back, err := credentials.Base45Decode(credentials.Base45Encode(raw))
		if err != nil || !bytes.Equal(back, raw) {
			t.Fatalf("bytes %q do not round-trip: %q, %v", raw, back, err)
		}
	})
}
