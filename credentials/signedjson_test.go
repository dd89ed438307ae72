package credentials_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
)

// TestSignJSON: what SignJSON signs VerifyJSON reads back with the key,
// and refuses with another key, another typ, or an altered payload.
func TestSignJSON(t *testing.T) {
	for _, alg := range algs {
		k := newIssuerKey(t, alg, "")
		other := newIssuerKey(t, alg, "")
		token, err := credentials.SignJSON([]byte(`{"seq":3}`), k, "tally-audit-anchor+jwt")
		if err != nil {
			t.Fatal(err)
		}
		payload, kid, err := credentials.VerifyJSON([]byte(token), k.PublicOnly(), "tally-audit-anchor+jwt")
		if err != nil || string(payload) != `{"seq":3}` || kid != k.ID {
			t.Fatalf("%s: %s %s %v", alg, payload, kid, err)
		}
		if _, _, err := credentials.VerifyJSON([]byte(token), other.PublicOnly(), "tally-audit-anchor+jwt"); !errors.Is(err, credentials.ErrBadSignature) {
			t.Fatalf("%s: another key: %v", alg, err)
		}
		if _, _, err := credentials.VerifyJSON([]byte(token), k.PublicOnly(), "vc+jwt"); err == nil {
			t.Fatalf("%s: another typ was accepted", alg)
		}
		parts := strings.Split(token, ".")
		altered := parts[0] + ".eyJzZXEiOjR9." + parts[2]
		if _, _, err := credentials.VerifyJSON([]byte(altered), k.PublicOnly(), "tally-audit-anchor+jwt"); !errors.Is(err, credentials.ErrBadSignature) {
			t.Fatalf("%s: an altered payload: %v", alg, err)
		}
	}
}

// FuzzVerifyJSON: VerifyJSON never panics, and accepts only what the key
// signed.
func FuzzVerifyJSON(f *testing.F) {
	k := newIssuerKey(f, credentials.EdDSA, "")
	token, err := credentials.SignJSON([]byte(`{"type":"tally-audit-anchor","seq":1}`), k, "tally-audit-anchor+jwt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(token))
	f.Add([]byte(token[:len(token)-3]))
	f.Add([]byte("a.b.c"))
	f.Add([]byte("eyJhbGciOiJub25lIn0.e30."))
	pub := k.PublicOnly()
	f.Fuzz(func(t *testing.T, data []byte) {
		payload, _, err := credentials.VerifyJSON(data, pub, "tally-audit-anchor+jwt")
		if err == nil && string(data) != token {
			// Ed25519 signatures are not malleable: only the token signed
			// verifies (its header and payload being what was signed).
			if string(payload) != `{"type":"tally-audit-anchor","seq":1}` {
				t.Fatalf("a token that was not signed verified: %q", data)
			}
		}
	})
}
