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
	"slices"
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
		for _, pub := range keys {
			if err := j.VerifySignature(pub); !errors.Is(err, credentials.ErrBadSignature) {
				t.Fatalf("verified under an unrelated key: %v", err)
			}
		}
		v := checkView(t, j, j.View())
		if j.Credential() == nil {
			// Another type than tally's: a W3C credential all the same.
			if !v.HasType("VerifiableCredential") {
				t.Fatalf("a credential that is not a VerifiableCredential: %q", v.Types)
			}
			return
		}
		if err := j.Credential().Validate(); err != nil {
			t.Fatalf("parsed an invalid credential: %v", err)
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
		v := checkView(t, s, s.View())
		if s.Credential() == nil {
			// Another vct than tally's: every digest was replaced or dropped.
			var claims map[string]json.RawMessage
			if err := json.Unmarshal(v.Claims, &claims); err != nil {
				t.Fatalf("claims are not a JSON object: %s", v.Claims)
			}
			if _, ok := claims["_sd"]; ok {
				t.Fatalf("claims keep their digests: %s", v.Claims)
			}
			if len(v.Types) != 1 || v.Types[0] != s.VCT() {
				t.Fatalf("types %q, vct %q", v.Types, s.VCT())
			}
		} else if err := s.Credential().ValidateDisclosed(); err != nil {
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
		if s.Credential() != nil {
			checkReencodes(t, s.Credential())
		}
	})
}

// checkView checks what every parsed credential's view must be: the
// issuer the envelope names, at least one type, claims as JSON.
func checkView(t *testing.T, sec credentials.Secured, v *credentials.View) *credentials.View {
	t.Helper()
	if v == nil || v.Issuer == "" || v.Issuer != sec.Issuer() || len(v.Types) == 0 || slices.Contains(v.Types, "") {
		t.Fatalf("view %+v of a credential from %q", v, sec.Issuer())
	}
	if !json.Valid(v.Claims) || (v.UncheckedStatus != nil && !json.Valid(v.UncheckedStatus)) {
		t.Fatalf("claims %q or unchecked status %q are not JSON", v.Claims, v.UncheckedStatus)
	}
	return v
}

// The seeds of other issuers' shapes (VCDM 2.0 and 1.1 JWTs, SD-JWT VCs
// with nested and array disclosures) are kept apart from joseSeeds', and
// made with fixed keys, so that they are the same from run to run:
//
//	go test ./credentials -run TestForeignJOSEFuzzCorpus -update-foreign-jose-fuzz
var updateForeignJOSEFuzz = flag.Bool("update-foreign-jose-fuzz", false, "rewrite the seeds of other issuers' shapes in the corpora of FuzzParseJWT, FuzzParseSDJWT and FuzzJSONDecodersAgree")

func TestForeignJOSEFuzzCorpus(t *testing.T) {
	k := seedIssuer(t, "foreign university", nil, "did:web:university.example")
	dk := seedIssuer(t, "foreign did:key issuer", nil, "")
	holder := seedKey(t, "foreign holder", nil)
	jwts := map[string]fuzzSeed{}
	sign := func(name string, header, payload map[string]any) {
		jwts[name] = fuzzSeed{[]byte(signJOSE(t, payload, k, header))}
	}
	sign("foreign-v2", map[string]any{"typ": "vc+jwt", "kid": k.ID}, alumniV2(k))
	h, p := entraVC(k)
	sign("foreign-entra", h, p)
	h, p = didJWTVC(dk)
	jwts["foreign-did-jwt-vc"] = fuzzSeed{[]byte(signJOSE(t, p, dk, h))}
	mixed := alumniV2(k)
	mixed["@context"] = []any{credentials.BaseContext, credentials.BaseContextV1}
	sign("foreign-mixed-contexts", nil, mixed)
	v1 := alumniV2(k)
	v1["@context"] = []any{credentials.BaseContextV1}
	sign("foreign-v1-payload", nil, v1)

	sdjwts := map[string]fuzzSeed{}
	b, payload := identityCredential(t, k, holder.Public())
	issued := b.token(k, nil, payload)
	sdjwts["foreign-identity"] = fuzzSeed{[]byte(issued)}
	some := b.token(k, nil, payload, "address", "locality", "nationalities", "nationalities[1]", "age_equal_or_over", "18")
	sdjwts["foreign-identity-some"] = fuzzSeed{[]byte(some)}
	sdjwts["foreign-identity-bound"] = fuzzSeed{[]byte(some + keyBindingJWT(t, some, holder, testAud, testNonce, testNow))}
	sdjwts["foreign-identity-orphan"] = fuzzSeed{[]byte(b.token(k, nil, payload, "street"))}
	sdjwts["foreign-identity-vc+sd-jwt"] = fuzzSeed{[]byte(b.token(k, map[string]any{"typ": "vc+sd-jwt"}, payload, "given_name"))}

	payloads := map[string]fuzzSeed{}
	for name, s := range jwts {
		payloads[name] = fuzzSeed{[]byte(mustJSON(t, decodeSegment(t, strings.Split(string(s[0].([]byte)), ".")[1])))}
	}
	payloads["foreign-identity"] = fuzzSeed{[]byte(mustJSON(t, payload))}

	fuzzCorpus(t, "FuzzParseJWT", *updateForeignJOSEFuzz, "update-foreign-jose-fuzz", jwts)
	fuzzCorpus(t, "FuzzParseSDJWT", *updateForeignJOSEFuzz, "update-foreign-jose-fuzz", sdjwts)
	fuzzCorpus(t, "FuzzJSONDecodersAgree", *updateForeignJOSEFuzz, "update-foreign-jose-fuzz", payloads)
}
