package credentials_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
)

// The seed corpus of FuzzReadKeyFile lives in
// testdata/fuzz/FuzzReadKeyFile/. Refresh it with
//
//	go test ./credentials -run TestKeyFileFuzzCorpus -update-keyfile-fuzz
var updateKeyFileFuzz = flag.Bool("update-keyfile-fuzz", false, "rewrite the seed corpus of FuzzReadKeyFile")

var (
	keyFilePassphrase = []byte("correct horse battery staple")
	wrongPassphrase   = []byte("correct horse battery stapler")
)

// fastScryptN is the least scrypt cost a key file may have (about 1 MiB
// and a millisecond); the seeds use it, so that the fuzzer can open them.
const fastScryptN = 1 << 10

// sealedSeeds are key files that open with keyFilePassphrase.
func sealedSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	for name, k := range map[string]*credentials.Key{
		"ed25519-didkey": seedIssuer(t, "keyfile-ed25519", nil, ""),
		"ed25519-didweb": seedIssuer(t, "keyfile-ed25519", nil, "did:web:dadaab.example.org"),
		"p256-didweb":    seedIssuer(t, "keyfile-p256", elliptic.P256(), "did:web:dadaab.example.org:issuers:2"),
	} {
		data, err := credentials.SealKey(k, keyFilePassphrase, detRand(4), credentials.SealOptions{ScryptN: fastScryptN})
		if err != nil {
			t.Fatal(err)
		}
		seeds[name] = data
	}
	return seeds
}

// keyFileSeeds are the sealed key files and near misses.
func keyFileSeeds(t testing.TB) map[string][]byte {
	seeds := sealedSeeds(t)
	ed := seeds["ed25519-didweb"]
	edit := func(f func(m map[string]any)) []byte { return editJSON(t, ed, f) }
	seeds["version-2"] = edit(func(m map[string]any) { m["version"] = 2 })
	seeds["pbkdf2"] = edit(func(m map[string]any) { obj(m, "sealed")["kdf"] = "pbkdf2" })
	seeds["costly"] = edit(func(m map[string]any) { obj(m, "sealed")["n"] = 1 << 21 })
	seeds["cheap"] = edit(func(m map[string]any) { obj(m, "sealed")["n"] = 1 << 9 })
	seeds["not-sealed"] = edit(func(m map[string]any) { delete(m, "sealed") })
	seeds["other-did"] = edit(func(m map[string]any) { m["did"] = "did:web:other.example.org" })
	seeds["other-kid"] = edit(func(m map[string]any) { m["kid"] = "did:web:dadaab.example.org#key-1" })
	seeds["es256-alg"] = edit(func(m map[string]any) { m["alg"] = "ES256" })
	seeds["private-jwk"] = edit(func(m map[string]any) { obj(m, "publicKeyJwk")["d"] = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A" })
	seeds["short-salt"] = edit(func(m map[string]any) { obj(m, "sealed")["salt"] = "AAAA" })
	seeds["short-nonce"] = edit(func(m map[string]any) { obj(m, "sealed")["nonce"] = "AAAA" })
	seeds["compact"] = edit(func(map[string]any) {})
	return seeds
}

// TestKeyFileFuzzCorpus writes the seed corpus with -update-keyfile-fuzz,
// and otherwise checks that it is there.
func TestKeyFileFuzzCorpus(t *testing.T) {
	corpus := map[string]fuzzSeed{}
	for name, raw := range keyFileSeeds(t) {
		corpus[name] = fuzzSeed{raw}
	}
	fuzzCorpus(t, "FuzzReadKeyFile", *updateKeyFileFuzz, "update-keyfile-fuzz", corpus)
}

// TestOpenKeySeeds opens every sealed seed: its private key matches
// ReadPublicKey's public key and signs, and a wrong passphrase fails.
func TestOpenKeySeeds(t *testing.T) {
	for name, data := range sealedSeeds(t) {
		t.Run(name, func(t *testing.T) {
			pub, err := credentials.ReadPublicKey(data)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := credentials.OpenKey(data, keyFilePassphrase); err != nil {
				t.Fatal(err)
			}
			if _, err := credentials.OpenKey(data, wrongPassphrase); !errors.Is(err, credentials.ErrWrongPassphrase) {
				t.Fatalf("a wrong passphrase: err = %v, want ErrWrongPassphrase", err)
			}
			checkOpenKey(t, data, pub)
		})
	}
}

// TestOpenKeyRefusesBadNonce: a nonce of the wrong size is an error, not
// a panic in AES-GCM (found by FuzzReadKeyFile).
func TestOpenKeyRefusesBadNonce(t *testing.T) {
	data := sealedSeeds(t)["ed25519-didweb"]
	for _, tc := range []struct {
		name  string
		nonce any
	}{
		{"missing", nil},
		{"empty", ""},
		{"3 bytes", "AAAA"},
		{"16 bytes", "AAAAAAAAAAAAAAAAAAAAAA=="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := editJSON(t, data, func(m map[string]any) { obj(m, "sealed")["nonce"] = tc.nonce })
			_, err := credentials.OpenKey(bad, keyFilePassphrase)
			if err == nil || !strings.Contains(err.Error(), "nonce") {
				t.Fatalf("err = %v, want it to name the nonce", err)
			}
		})
	}
}

// checkOpenKey holds the invariants of OpenKey on a file ReadPublicKey
// reads: with the right passphrase, if it opens, the key is ReadPublicKey's
// and signs; with a wrong one it never opens.
func checkOpenKey(t *testing.T, data []byte, pub *credentials.Key) {
	if _, err := credentials.OpenKey(data, wrongPassphrase); err == nil {
		t.Fatal("a key file opened with a wrong passphrase")
	}
	k, err := credentials.OpenKey(data, keyFilePassphrase)
	if err != nil {
		return
	}
	if k.Signer == nil || !k.Signer.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub.Public) ||
		k.DID != pub.DID || k.ID != pub.ID || k.Alg != pub.Alg {
		t.Fatalf("the opened key %s is not the file's public key %s", k.ID, pub.ID)
	}
	if !signsFor(k.Signer, pub.Public) {
		t.Fatal("the opened key's signature does not verify under the file's public key")
	}
}

// signsFor reports whether signer makes signatures that pub verifies.
func signsFor(signer crypto.Signer, pub crypto.PublicKey) bool {
	msg := []byte("tally key file")
	switch p := pub.(type) {
	case ed25519.PublicKey:
		sig, err := signer.Sign(rand.Reader, msg, crypto.Hash(0))
		return err == nil && ed25519.Verify(p, msg, sig)
	case *ecdsa.PublicKey:
		h := sha256.Sum256(msg)
		sig, err := signer.Sign(rand.Reader, h[:], crypto.SHA256)
		return err == nil && ecdsa.VerifyASN1(p, h[:], sig)
	}
	return false
}

// scryptCost is the scrypt N a key file names, as encoding/json reads it.
func scryptCost(data []byte) int {
	var f struct {
		Sealed struct {
			N int `json:"n"`
		} `json:"sealed"`
	}
	_ = json.Unmarshal(data, &f)
	return f.Sealed.N
}

// FuzzReadKeyFile: ReadPublicKey never panics, its errors say they are
// about the key file, and it reads only a public key
// whose kid and alg are those NewPublicKey gives; a file that opens (tried
// when its scrypt cost is the cheapest, to keep the fuzzer fast) opens to
// that same key, and never with a wrong passphrase.
func FuzzReadKeyFile(f *testing.F) {
	for _, data := range keyFileSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := credentials.ReadPublicKey(data)
		if err != nil {
			if !strings.Contains(err.Error(), "key file") {
				t.Fatalf("an error that does not say it is about the key file: %v", err)
			}
			return
		}
		if k.Signer != nil {
			t.Fatal("ReadPublicKey returned a private key")
		}
		want, err := credentials.NewPublicKey(k.Public, k.DID)
		if err != nil {
			t.Fatalf("the public key read is not a key: %v", err)
		}
		if want.ID != k.ID || want.Alg != k.Alg {
			t.Fatalf("read %s %s, the key is %s %s", k.ID, k.Alg, want.ID, want.Alg)
		}
		if scryptCost(data) == fastScryptN {
			checkOpenKey(t, data, k)
		}
	})
}
