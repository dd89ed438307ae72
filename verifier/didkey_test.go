package verifier_test

import (
	"context"
	"slices"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// TestTrustDIDKeyIssuers: a credential from a did:key issuer outside the
// trust list is refused by default, and accepted with a warning under
// Options.TrustDIDKeyIssuers, checked with the key its DID holds.
func TestTrustDIDKeyIssuers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	stranger := testKey(t, "conformance suite", "")
	other := testKey(t, "someone else", "")
	credential := func(k *credentials.Key) map[string]any {
		return trainingV2(f, func(p map[string]any) {
			p["issuer"], p["iss"] = k.DID, k.DID
			delete(p, "credentialStatus")
		})
	}
	token := signJWT(t, credential(stranger), stranger, map[string]any{"typ": "vc+jwt", "kid": stranger.ID})

	_, err := f.verifier(t, verifier.Options{}).Verify(ctx, token)
	wantReason(t, err, verifier.UntrustedIssuer)

	open := f.verifier(t, verifier.Options{TrustDIDKeyIssuers: true})
	res, err := open.Verify(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if res.IssuerDID != stranger.DID || res.KeyID != stranger.ID || !slices.Contains(res.Warnings, verifier.UntrustedDIDKeyWarning) {
		t.Fatalf("result %+v", res)
	}
	// The trust list's own issuers get no such warning.
	own := signJWT(t, trainingV2(f, func(p map[string]any) { delete(p, "credentialStatus") }), f.key, map[string]any{"typ": "vc+jwt", "kid": f.key.ID})
	if res, err := f.verifier(t, verifier.Options{Trust: f.trustFor(t, credentials.TypeAny), TrustDIDKeyIssuers: true}).Verify(ctx, own); err != nil || len(res.Warnings) != 0 {
		t.Fatalf("trusted issuer: %v, warnings %q", err, res.Warnings)
	}

	tests := []struct {
		name string
		raw  []byte
		want []verifier.Reason
	}{
		{"signature altered", flip(token, len(token)-5), []verifier.Reason{verifier.BadSignature}},
		{"signed by another did:key than the one named", signJWT(t, credential(stranger), other, map[string]any{"typ": "vc+jwt", "kid": stranger.ID}), []verifier.Reason{verifier.BadSignature}},
		{"a key of another DID named", signJWT(t, credential(stranger), other, map[string]any{"typ": "vc+jwt", "kid": other.ID}), []verifier.Reason{verifier.UntrustedIssuer, verifier.Malformed}},
		{"a did:web outside the trust list", signJWT(t, credential(testKey(t, "web", "did:web:stranger.example")), stranger, map[string]any{"typ": "vc+jwt"}), []verifier.Reason{verifier.UntrustedIssuer}},
		{"a did:key that holds no key", signJWT(t, trainingV2(f, func(p map[string]any) {
			p["issuer"], p["iss"] = "did:key:z6Mk", "did:key:z6Mk"
			delete(p, "credentialStatus")
		}), stranger, map[string]any{"typ": "vc+jwt"}), []verifier.Reason{verifier.UntrustedIssuer}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := open.Verify(ctx, tc.raw)
			wantReason(t, err, tc.want...)
		})
	}
}

// TestNewIndexesAppendedIssuers: issuers appended to a new trust list's
// Issuers, not added with Add, are trusted all the same.
func TestNewIndexesAppendedIssuers(t *testing.T) {
	f := newFixture(t)
	list := verifier.NewTrustList("appended")
	list.Issuers = append(list.Issuers, f.trustFor(t, credentials.TypeAny).Issuers...)
	token := signJWT(t, trainingV2(f, func(p map[string]any) { delete(p, "credentialStatus") }), f.key, map[string]any{"typ": "vc+jwt", "kid": f.key.ID})
	if _, err := f.verifier(t, verifier.Options{Trust: list}).Verify(context.Background(), token); err != nil {
		t.Fatal(err)
	}
}
