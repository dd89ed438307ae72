package trustsync_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/trustsync"
)

// TestLocalIssuersFound: the verifier finds the instance's own issuers by
// their DIDs.
func TestLocalIssuersFound(t *testing.T) {
	signer, err := credentials.GenerateKey(credentials.EdDSA, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := credentials.NewKey(signer, "did:web:tally.example:orgs:demo")
	if err != nil {
		t.Fatal(err)
	}
	iss, err := verifier.NewTrustedIssuer("Demo", []credentials.Type{credentials.TypeAny}, key.PublicOnly())
	if err != nil {
		t.Fatal(err)
	}
	s, err := trustsync.New(context.Background(), trustsync.Options{Local: func(context.Context) ([]*verifier.TrustedIssuer, error) {
		return []*verifier.TrustedIssuer{iss}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := s.TrustList().Issuer(key.DID); !ok || got.Name != "Demo" {
		t.Fatalf("the instance's issuer is not found by its DID: %v %+v", ok, got)
	}
}
