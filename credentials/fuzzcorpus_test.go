package credentials_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/fuzzcorpus"
)

// fuzzSeed is one seed input of a fuzz target.
type fuzzSeed = fuzzcorpus.Seed

// fuzzCorpus keeps the seed corpus of the fuzz target name (see
// fuzzcorpus.Keep); flagName is the flag that rewrites it.
func fuzzCorpus(t *testing.T, name string, update bool, flagName string, seeds map[string]fuzzSeed) {
	t.Helper()
	fuzzcorpus.Keep(t, name, update, "go test ./credentials -run "+t.Name()+" -"+flagName, seeds)
}

// seedKey derives a key from a label, the same in every run (unlike
// ecdsa.GenerateKey, which draws from the system's randomness whatever
// reader it is given), so that regenerating a corpus does not rewrite
// seeds that did not change. curve is elliptic.P256() or elliptic.P384()
// for ECDSA, nil for Ed25519.
func seedKey(t testing.TB, label string, curve elliptic.Curve) crypto.Signer {
	t.Helper()
	sum := sha256.Sum256([]byte(label))
	if curve == nil {
		return ed25519.NewKeyFromSeed(sum[:])
	}
	scalar := sum[:]
	if n := (curve.Params().BitSize + 7) / 8; n > len(scalar) {
		scalar = append(make([]byte, n-len(scalar)), scalar...)
	}
	k, err := ecdsa.ParseRawPrivateKey(curve, scalar)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// seedIssuer is an issuer Key of seedKey's key, for did ("" for did:key).
func seedIssuer(t testing.TB, label string, curve elliptic.Curve, did string) *credentials.Key {
	t.Helper()
	k, err := credentials.NewKey(seedKey(t, label, curve), did)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
