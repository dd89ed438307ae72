package verifier_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// withKeyBinding appends to a presentation without key binding a
// key-binding JWT of the given claims (sd_hash filled in), signed by
// holder.
func withKeyBinding(t *testing.T, presentation string, holder *credentials.Key, claims map[string]any) []byte {
	t.Helper()
	sum := sha256.Sum256([]byte(presentation))
	claims["sd_hash"] = base64.RawURLEncoding.EncodeToString(sum[:])
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	h := jws.NewHeaders()
	h.Set(jws.TypeKey, credentials.KeyBindingType)
	signed, err := jws.Sign(payload, jws.WithKey(holder.Alg.JWA(), holder.Signer, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(presentation + string(signed))
}

// TestPresentationForOpenID4VP: what OpenID4VP adds to key binding — the
// aud is the verifier's client_id alone, and a key-binding JWT made
// before the request (Presentation.NotBefore) is refused.
func TestPresentationForOpenID4VP(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	wallet := testKey(t, "fatima's phone", "")
	sdjwt, err := credentials.IssueSDJWT(sample(t, "registration", f.key, f.base), f.key, testNow,
		credentials.SDJWTOptions{Holder: wallet.Public, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := credentials.PresentSDJWT(sdjwt, []string{"fullName"}, nil, "", "", testNow)
	if err != nil {
		t.Fatal(err)
	}
	const aud, nonce = "decentralized_identifier:did:web:clinic.example", "n-4f1c2a"
	v := f.verifier(t, verifier.Options{})
	requested := testNow.Add(-time.Minute)
	for _, tc := range []struct {
		name   string
		claims map[string]any
		pres   verifier.Presentation
		ok     bool
	}{
		{"for this verifier", map[string]any{"aud": aud, "nonce": nonce, "iat": testNow.Unix()}, verifier.Presentation{Audience: aud, Nonce: nonce, NotBefore: requested}, true},
		{"aud as a one-element array", map[string]any{"aud": []string{aud}, "nonce": nonce, "iat": testNow.Unix()}, verifier.Presentation{Audience: aud, Nonce: nonce}, true},
		{"for several verifiers at once", map[string]any{"aud": []string{aud, "did:web:elsewhere.example"}, "nonce": nonce, "iat": testNow.Unix()}, verifier.Presentation{Audience: aud, Nonce: nonce}, false},
		{"the DID without the client_id prefix", map[string]any{"aud": "did:web:clinic.example", "nonce": nonce, "iat": testNow.Unix()}, verifier.Presentation{Audience: aud, Nonce: nonce}, false},
		{"made before the request", map[string]any{"aud": aud, "nonce": nonce, "iat": testNow.Add(-4 * time.Minute).Unix()}, verifier.Presentation{Audience: aud, Nonce: nonce, NotBefore: testNow.Add(2 * time.Minute)}, false},
		{"made just before the request, within the skew", map[string]any{"aud": aud, "nonce": nonce, "iat": testNow.Add(-4 * time.Minute).Unix()}, verifier.Presentation{Audience: aud, Nonce: nonce, NotBefore: testNow}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.VerifyPresentation(ctx, withKeyBinding(t, bare, wallet, tc.claims), tc.pres)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantReason(t, err, verifier.BadPresentation)
		})
	}
}
