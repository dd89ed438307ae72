package verifier_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"

	"github.com/piprate/json-gold/ld"
	"github.com/trustbloc/kms-go/doc/jose/jwk/jwksupport"
	"github.com/trustbloc/vc-go/proof/defaults"
	"github.com/trustbloc/vc-go/verifiable"
	"github.com/trustbloc/vc-go/vermethod"

	"github.com/tally-id/tally/credentials"
)

// vcGoKeys resolves verification methods for vc-go from keys held locally,
// as tally's trust list does: nothing is fetched.
type vcGoKeys map[string]crypto.PublicKey

func (l vcGoKeys) ResolveVerificationMethod(vm, expectedIssuer string) (*vermethod.VerificationMethod, error) {
	pub, ok := l[vm]
	if !ok || !strings.HasPrefix(vm, expectedIssuer+"#") {
		return nil, fmt.Errorf("key %s of %s is not trusted", vm, expectedIssuer)
	}
	switch p := pub.(type) {
	case ed25519.PublicKey:
		return &vermethod.VerificationMethod{Type: "Ed25519VerificationKey2018", Value: p}, nil
	case *ecdsa.PublicKey:
		j, err := jwksupport.JWKFromKey(p)
		if err != nil {
			return nil, err
		}
		return &vermethod.VerificationMethod{Type: "JsonWebKey2020", JWK: j}, nil
	}
	return nil, fmt.Errorf("unsupported key type %T", pub)
}

// vcGoOffline refuses every JSON-LD document load.
type vcGoOffline struct{}

func (vcGoOffline) LoadDocument(u string) (*ld.RemoteDocument, error) {
	return nil, fmt.Errorf("offline: will not load %s", u)
}

// BenchmarkVcGoParseJWT is the peer: trustbloc/vc-go's own ParseCredential,
// with its proof check, on the token BenchmarkVerifyJWT verifies.
func BenchmarkVcGoParseJWT(b *testing.B) {
	f := newFixture(b)
	token := issue(b, credentials.FormatJWT, sample(b, "registration", f.key, f.base), f.key)
	opts := []verifiable.CredentialOpt{
		verifiable.WithProofChecker(defaults.NewDefaultProofChecker(vcGoKeys{f.key.ID: f.key.Public})),
		verifiable.WithJSONLDDocumentLoader(vcGoOffline{}),
		verifiable.WithDisabledRelatedResourceCheck(),
	}
	if _, err := verifiable.ParseCredential(token, opts...); err != nil {
		b.Fatal(err)
	}
	tampered := append([]byte{}, token...)
	tampered[len(tampered)-3] ^= 1
	if _, err := verifiable.ParseCredential(tampered, opts...); err == nil {
		b.Fatal("vc-go accepted a tampered token: the peer checks nothing")
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(token)))
	for b.Loop() {
		if _, err := verifiable.ParseCredential(token, opts...); err != nil {
			b.Fatal(err)
		}
	}
}
