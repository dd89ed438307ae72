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
// OpenKey refuses such a file unless told, with cheapOpen, to accept it.
const fastScryptN = credentials.LowestScryptN

var cheapOpen = credentials.OpenOptions{MinScryptN: fastScryptN}

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
			if _, err := credentials.OpenKey(data, keyFilePassphrase, cheapOpen); err != nil {
				t.Fatal(err)
			}
			if _, err := credentials.OpenKey(data, wrongPassphrase, cheapOpen); !errors.Is(err, credentials.ErrWrongPassphrase) {
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
			_, err := credentials.OpenKey(bad, keyFilePassphrase, cheapOpen)
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
	if _, err := credentials.OpenKey(data, wrongPassphrase, cheapOpen); err == nil {
		t.Fatal("a key file opened with a wrong passphrase")
	}
	k, err := credentials.OpenKey(data, keyFilePassphrase, cheapOpen)
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

// TestKeyFileCost: SealKey seals at 2^17 by default, and OpenKey with its
// default options refuses a file sealed at less, before deriving any key,
// saying to re-seal it. The one default-cost seal here is the only one in
// this package's tests: it costs about half a second (more under -race).
func TestKeyFileCost(t *testing.T) {
	k := seedIssuer(t, "keyfile-ed25519", nil, "")
	data, err := credentials.SealKey(k, keyFilePassphrase, rand.Reader, credentials.SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := credentials.KeyFileCost(data); err != nil || n != 1<<17 || credentials.DefaultScryptN != 1<<17 {
		t.Fatalf("default cost %d (%v), want 2^17", n, err)
	}
	if scryptCost(data) != 1<<17 {
		t.Fatalf("the file says n = %d", scryptCost(data))
	}

	cheap := sealedSeeds(t)["ed25519-didweb"]
	if n, _ := credentials.KeyFileCost(cheap); n != fastScryptN {
		t.Fatalf("KeyFileCost = %d, want %d", n, fastScryptN)
	}
	// 2^16 claimed: refused before scrypt runs (the ciphertext is not
	// sealed at 2^16, so only the cost check can refuse it first).
	almost := editJSON(t, cheap, func(m map[string]any) { obj(m, "sealed")["n"] = 1 << 16 })
	for name, file := range map[string][]byte{"2^10": cheap, "2^16": almost} {
		_, err := credentials.OpenKey(file, keyFilePassphrase, credentials.OpenOptions{})
		if !errors.Is(err, credentials.ErrWeakKeyFile) || !strings.Contains(err.Error(), "re-seal") {
			t.Fatalf("a key file sealed at %s: err = %v, want ErrWeakKeyFile", name, err)
		}
	}

	// The least cost a caller admits is a floor, inclusive.
	at11, err := credentials.SealKey(k, keyFilePassphrase, rand.Reader, credentials.SealOptions{ScryptN: 1 << 11})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := credentials.OpenKey(at11, keyFilePassphrase, credentials.OpenOptions{MinScryptN: 1 << 11}); err != nil {
		t.Fatalf("a file at the floor: %v", err)
	}
	if _, err := credentials.OpenKey(at11, keyFilePassphrase, credentials.OpenOptions{MinScryptN: 1 << 12}); !errors.Is(err, credentials.ErrWeakKeyFile) {
		t.Fatalf("a file below the floor: %v", err)
	}
	if _, err := credentials.OpenKey(at11, keyFilePassphrase, credentials.OpenOptions{MinScryptN: 1 << 9}); err == nil {
		t.Fatal("a floor below LowestScryptN was admitted")
	}
	for _, n := range []int{1 << 9, 1 << 18, 3 << 10} {
		if _, err := credentials.SealKey(k, keyFilePassphrase, rand.Reader, credentials.SealOptions{ScryptN: n}); err == nil {
			t.Fatalf("SealKey sealed at cost %d", n)
		}
	}
}

func TestCheckPassphrase(t *testing.T) {
	for _, tc := range []struct {
		pass string
		want string // in the error; "" when accepted
	}{
		{"correct horse battery staple", ""},
		{"river lantern cobalt pepper", ""},
		{"Tr0ub4dor&3xyz", ""},
		{"سلام دنیا خوش آمدید", ""},
		{"short one", "shorter than 12"},
		{"ñandú kiwi", "shorter than 12"}, // 10 characters, 12 bytes
		{"aaaaaaaaaaaaaaaa", "one character repeated"},
		{"AaAaAaAaAaAa", "one character repeated"},
		{"abcdefghijkl", "consecutive"},
		{"ABCDEFGHIJKLMNOP", "consecutive"},
		{"xyzabcdefghi", "consecutive"},
		{"123456789012", "consecutive"},
		{"1234567890123456", "consecutive"},
		{"987654321098", "consecutive"},
		{"lkjihgfedcba", "consecutive"},
		{"abababababab", "different characters"},
		{"12121212121212", "different characters"},
		{"passpasspass", "different characters"},
		{"0101198501011985", "different characters"},
	} {
		t.Run(tc.pass, func(t *testing.T) {
			err := credentials.CheckPassphrase([]byte(tc.pass))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == "":
			case !errors.Is(err, credentials.ErrWeakPassphrase) || !strings.Contains(err.Error(), tc.want):
				t.Fatalf("err = %v, want ErrWeakPassphrase saying %q", err, tc.want)
			case strings.Contains(err.Error(), tc.pass) || !strings.Contains(err.Error(), "unrelated words"):
				t.Fatalf("the error quotes the passphrase or says not what to do: %v", err)
			}
			k := seedIssuer(t, "keyfile-ed25519", nil, "")
			_, sealErr := credentials.SealKey(k, []byte(tc.pass), detRand(1), credentials.SealOptions{ScryptN: fastScryptN})
			if (sealErr == nil) != (tc.want == "") {
				t.Fatalf("SealKey: %v", sealErr)
			}
		})
	}
}
