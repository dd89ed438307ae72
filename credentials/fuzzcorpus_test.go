package credentials_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
)

// fuzzSeed is one seed input of a fuzz target: the values of its
// arguments, each a []byte or a string.
type fuzzSeed []any

// fuzzCorpus keeps the seed corpus of the fuzz target name in
// testdata/fuzz/<name>/seed-<key>, in Go's "go test fuzz v1" format. With
// update set it writes every seed (leaving the inputs the fuzzer saved
// alone); otherwise it checks that each seed file is there, so that a
// seed added here is not forgotten in the corpus.
func fuzzCorpus(t *testing.T, name string, update bool, flagName string, seeds map[string]fuzzSeed) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", name)
	if update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for key, seed := range seeds {
		path := filepath.Join(dir, "seed-"+key)
		if !update {
			if _, err := os.Stat(path); err != nil {
				t.Errorf("seed %s is missing: run go test ./credentials -run %s -%s", path, t.Name(), flagName)
			}
			continue
		}
		if err := os.WriteFile(path, []byte(encodeFuzzSeed(t, seed)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// encodeFuzzSeed writes a seed in the "go test fuzz v1" format.
func encodeFuzzSeed(t *testing.T, seed fuzzSeed) string {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, v := range seed {
		switch v := v.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		default:
			t.Fatalf("fuzz seed value of type %T", v)
		}
	}
	return b.String()
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
