// Package vcgopeer sets up trustbloc/vc-go, the maintained continuation of
// Hyperledger Aries, as a peer verifier for tests and benchmarks: it shows
// that another implementation verifies what tally issues, and is the
// baseline tally's VC-JWT verification is measured against. Tests only.
package vcgopeer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"fmt"
	"strings"

	"github.com/piprate/json-gold/ld"
	"github.com/trustbloc/kms-go/doc/jose/jwk/jwksupport"
	"github.com/trustbloc/vc-go/proof/defaults"
	"github.com/trustbloc/vc-go/verifiable"
	"github.com/trustbloc/vc-go/vermethod"
)

// Keys resolves a verification method (a DID URL) to a key known in
// advance, as a tally trust list holds them: vc-go never resolves a DID
// over the network. It implements the resolver of vc-go's
// proof/defaults.NewDefaultProofChecker.
type Keys map[string]crypto.PublicKey

// ResolveVerificationMethod returns the key of the DID URL vm, which must
// belong to expectedIssuer (vc-go passes the JWT's iss, or the DID of its
// kid).
func (l Keys) ResolveVerificationMethod(vm, expectedIssuer string) (*vermethod.VerificationMethod, error) {
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

// Offline is a JSON-LD document loader that loads nothing, so that a test
// fails rather than fetch a context. (vc-go does no JSON-LD processing on a
// JWT VC.)
type Offline struct{}

// LoadDocument refuses every URL.
func (Offline) LoadDocument(u string) (*ld.RemoteDocument, error) {
	return nil, fmt.Errorf("offline: will not load %s", u)
}

// ParseOptions are the options with which vc-go's
// verifiable.ParseCredential parses a JWT VC and checks its proof offline,
// with the given keys.
func ParseOptions(keys Keys) []verifiable.CredentialOpt {
	return []verifiable.CredentialOpt{
		verifiable.WithProofChecker(defaults.NewDefaultProofChecker(keys)),
		verifiable.WithJSONLDDocumentLoader(Offline{}),
		verifiable.WithDisabledRelatedResourceCheck(),
	}
}
