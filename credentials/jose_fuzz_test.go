package credentials_test

import (
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
)

// The seed corpora of FuzzParseJWT, FuzzParseSDJWT and
// FuzzJSONDecodersAgree live in testdata/fuzz/<Name>/. Refresh them with
//
//	go test ./credentials -run TestJOSEFuzzCorpus -update-jose-fuzz
var updateJOSEFuzz = flag.Bool("update-jose-fuzz", false, "rewrite the seed corpora of FuzzParseJWT, FuzzParseSDJWT and FuzzJSONDecodersAgree")

// joseSeeds makes inputs for the fuzz targets: well-formed tokens of
// every kind tally reads, and a few near misses.
func joseSeeds(t testing.TB) (jwts, sdjwts []string) {
	for _, alg := range algs {
		k := newIssuerKey(t, alg, "")
		c := preparedSample(t, "registration.json", k)
		token, err := credentials.IssueJWT(c, k, testNow)
		if err != nil {
			t.Fatal(err)
		}
		jwts = append(jwts, token, "data:application/vc+jwt,"+token, mustJSON(t, credentials.EnvelopeJWT(token)))
		vc := credentialMap(t, c)
		delete(vc, "issuer")
		jwts = append(jwts,
			signJOSE(t, map[string]any{"vc": vc, "iss": c.Issuer, "nbf": c.ValidFrom.Unix()}, k, map[string]any{"kid": "#x"}),
			signJOSE(t, jwtPayload(t, preparedSample(t, "referral.json", k)), k, nil),
			unsignedJWT(t, map[string]any{"alg": "none"}, jwtPayload(t, c), nil),
			signJOSE(t, jwtPayload(t, c), k, map[string]any{"crit": []string{"urn:example:x"}, "urn:example:x": 1}),
		)

		holder := newHolder(t, alg)
		issued, err := credentials.IssueSDJWT(preparedSample(t, "referral.json", k), k, testNow, credentials.SDJWTOptions{Holder: holder.Public(), Decoys: 2})
		if err != nil {
			t.Fatal(err)
		}
		pres, err := credentials.PresentSDJWT(issued, []string{"registrationId", "consent"}, holder, testAud, testNonce, testNow)
		if err != nil {
			t.Fatal(err)
		}
		unbound, err := credentials.IssueSDJWT(preparedSample(t, "eligibility.json", k), k, testNow, credentials.SDJWTOptions{})
		if err != nil {
			t.Fatal(err)
		}
		forged, _ := makeDisclosure(t, "c2FsdA", "nationality", "KE")
		sdjwts = append(sdjwts, issued, pres, unbound, pres[:strings.LastIndexByte(pres, '~')+1], unbound+forged+"~",
			"data:application/dc+sd-jwt,"+unbound)
	}
	return jwts, sdjwts
}

// TestJOSEFuzzCorpus writes the seed corpora with -update-jose-fuzz, and
// otherwise checks that they are there.
func TestJOSEFuzzCorpus(t *testing.T) {
	jwts, sdjwts := joseSeeds(t)
	var payloads []string // for FuzzJSONDecodersAgree
	for _, s := range jwts {
		if parts := strings.Split(s, "."); len(parts) == 3 {
			if p, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
				payloads = append(payloads, string(p))
			}
		}
	}
	for name, seeds := range map[string][]string{"FuzzParseJWT": jwts, "FuzzParseSDJWT": sdjwts, "FuzzJSONDecodersAgree": payloads} {
		dir := filepath.Join("testdata", "fuzz", name)
		if !*updateJOSEFuzz {
			files, err := os.ReadDir(dir)
			if err != nil || len(files) == 0 {
				t.Fatalf("no seed corpus in %s (%v): run with -update-jose-fuzz", dir, err)
			}
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range seeds {
			data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// unrelatedKeys are public keys that signed nothing.
func unrelatedKeys(f *testing.F) []crypto.PublicKey {
	var keys []crypto.PublicKey
	for _, alg := range algs {
		s, err := credentials.GenerateKey(alg, rand.Reader)
		if err != nil {
			f.Fatal(err)
		}
		keys = append(keys, s.Public())
	}
	return keys
}

// checkParseError checks that a parse error wraps one of the sentinels.
func checkParseError(t *testing.T, err error) {
	if !errors.Is(err, credentials.ErrMalformed) && !errors.Is(err, credentials.ErrUnsupported) {
		t.Fatalf("parse error wraps neither ErrMalformed nor ErrUnsupported: %v", err)
	}
}

// checkReencodes checks that a parsed credential encodes to JSON that
// decodes to the same credential.
func checkReencodes(t *testing.T, c *credentials.Credential) {
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("parsed credential does not encode: %v", err)
	}
	var back credentials.Credential
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("parsed credential does not decode again: %v\n%s", err, data)
	}
	if again, _ := json.Marshal(&back); string(again) != string(data) {
		t.Fatalf("parsed credential changes when encoded and decoded:\n%s\n%s", data, again)
	}
}

func FuzzParseJWT(f *testing.F) {
	f.Add([]byte("eyJhbGciOiJFZERTQSJ9.e30.AAAA"))
	f.Add([]byte(`{"type":"EnvelopedVerifiableCredential","id":"data:application/vc+jwt,a.b.c"}`))
	keys := unrelatedKeys(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		j, err := credentials.ParseJWT(raw)
		if err != nil {
			checkParseError(t, err)
			return
		}
		if err := j.Credential().Validate(); err != nil {
			t.Fatalf("parsed an invalid credential: %v", err)
		}
		for _, pub := range keys {
			if err := j.VerifySignature(pub); !errors.Is(err, credentials.ErrBadSignature) {
				t.Fatalf("verified under an unrelated key: %v", err)
			}
		}
		checkReencodes(t, j.Credential())
	})
}

func FuzzParseSDJWT(f *testing.F) {
	f.Add([]byte("eyJhbGciOiJFZERTQSIsInR5cCI6ImRjK3NkLWp3dCJ9.e30.AAAA~"))
	keys := unrelatedKeys(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := credentials.ParseSDJWT(raw)
		if err != nil {
			checkParseError(t, err)
			return
		}
		if err := s.Credential().ValidateDisclosed(); err != nil {
			t.Fatalf("parsed an invalid credential: %v", err)
		}
		for _, pub := range keys {
			if err := s.VerifySignature(pub); !errors.Is(err, credentials.ErrBadSignature) {
				t.Fatalf("verified under an unrelated key: %v", err)
			}
		}
		// Key binding never passes with a key-binding JWT that is missing,
		// or for an audience nobody uses.
		if s.Holder() != nil {
			if err := s.VerifyKeyBinding("urn:fuzz:nobody", "", testNow, 0); err == nil {
				t.Fatal("key binding passed for an audience nobody uses")
			}
		}
		checkReencodes(t, s.Credential())
	})
}
