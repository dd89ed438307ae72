package credentials_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/json"
	"flag"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/tally-id/tally/credentials"
)

// The seed corpus of FuzzParseJWK lives in testdata/fuzz/FuzzParseJWK/.
// Refresh it with
//
//	go test ./credentials -run TestJWKFuzzCorpus -update-jwk-fuzz
var updateJWKFuzz = flag.Bool("update-jwk-fuzz", false, "rewrite the seed corpus of FuzzParseJWK")

// jwkJSON is the JSON of a JWK of key (public or private) made by jwx.
func jwkJSON(t testing.TB, key any, kid string) []byte {
	t.Helper()
	j, err := jwk.FromRaw(key)
	if err != nil {
		t.Fatal(err)
	}
	if kid != "" {
		if err := j.Set(jwk.KeyIDKey, kid); err != nil {
			t.Fatal(err)
		}
	}
	data, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// jwkSeeds are JWKs tally reads (public Ed25519 and P-256 keys, as
// PublicJWK writes them and bare), and ones it refuses.
func jwkSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	for name, k := range map[string]*credentials.Key{
		"ed25519": seedIssuer(t, "jwk-ed25519", nil, "did:web:dadaab.example.org"),
		"p256":    seedIssuer(t, "jwk-p256", elliptic.P256(), ""),
	} {
		j, err := credentials.PublicJWK(k)
		if err != nil {
			t.Fatal(err)
		}
		seeds[name] = []byte(mustJSON(t, j))
		seeds[name+"-bare"] = jwkJSON(t, k.Public, "")
		seeds[name+"-private"] = jwkJSON(t, k.Signer, k.ID)
	}
	seeds["p384"] = jwkJSON(t, seedKey(t, "jwk-p384", elliptic.P384()).Public(), "")
	seeds["rsa"] = []byte(`{"kty":"RSA","e":"AQAB","n":"-2YJtupqH8ebYOVsEekpxDq-g8EY0xlT9zlV2iRX-hgqC3CTkEvR6RWbmVig3dbcoYGUVyNwbIoPre3CpuqwWIEU_QLdmhLgAJcCKL6lNZ-CjwcuWXyqrUPUOQPJmBCvELwmtOl_KeQ1E5BC2yR-O4-dHAPorhaEvQoDj8vkYoU"}`)
	seeds["oct"] = []byte(`{"kty":"oct","k":"c2VjcmV0IG9mIGVub3VnaCBsZW5ndGg"}`)
	seeds["x25519"] = []byte(`{"kty":"OKP","crv":"X25519","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}`)
	seeds["ed25519-short"] = []byte(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR"}`)
	seeds["p256-off-curve"] = []byte(`{"kty":"EC","crv":"P-256","x":"AQ","y":"Ag"}`)
	seeds["set"] = append(append([]byte(`{"keys":[`), seeds["ed25519"]...), `]}`...)
	return seeds
}

// TestJWKFuzzCorpus writes the seed corpus with -update-jwk-fuzz, and
// otherwise checks that it is there.
func TestJWKFuzzCorpus(t *testing.T) {
	corpus := map[string]fuzzSeed{}
	for name, raw := range jwkSeeds(t) {
		corpus[name] = fuzzSeed{raw}
	}
	fuzzCorpus(t, "FuzzParseJWK", *updateJWKFuzz, "update-jwk-fuzz", corpus)
}

// TestParseJWKRefusesPointsOffTheCurve: jwx reads any x and y of an EC
// JWK; ParseJWK must refuse those that are not a point on P-256 (found by
// FuzzParseJWK: such a key made a Key whose thumbprint was that of every
// other bad key, and no did:key).
func TestParseJWKRefusesPointsOffTheCurve(t *testing.T) {
	k := seedIssuer(t, "jwk-p256", elliptic.P256(), "")
	good := jwkJSON(t, k.Public, "")
	var m map[string]any
	if err := json.Unmarshal(good, &m); err != nil {
		t.Fatal(err)
	}
	x := m["x"].(string)
	for _, tc := range []struct {
		name, jwk string
		ok        bool
	}{
		{"on the curve", string(good), true},
		{"empty x and y", `{"kty":"EC","crv":"P-256","x":"","y":""}`, false},
		{"(1, 2)", `{"kty":"EC","crv":"P-256","x":"AQ","y":"Ag"}`, false},
		{"y of another point", `{"kty":"EC","crv":"P-256","x":"` + x + `","y":"` + x + `"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := credentials.ParseJWK([]byte(tc.jwk))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want accepted = %v", err, tc.ok)
			}
		})
	}
}

// FuzzParseJWK: what ParseJWK accepts is an Ed25519 or P-256 public key,
// never a private one; it makes a Key (as a did:key and as a did:web key),
// whose thumbprint is jwx's RFC 7638 thumbprint of the JWK read; and
// written back with PublicJWK it parses to a key of the same thumbprint
// and did:key.
func FuzzParseJWK(f *testing.F) {
	for _, data := range jwkSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pub, _, err := credentials.ParseJWK(data)
		if err != nil {
			return
		}
		switch pub.(type) {
		case ed25519.PublicKey, *ecdsa.PublicKey:
		default:
			t.Fatalf("ParseJWK returned a %T", pub)
		}
		var members map[string]json.RawMessage
		if json.Unmarshal(data, &members) == nil && members["d"] != nil {
			t.Fatalf("a JWK with a private part parsed: %s", data)
		}
		if _, err := credentials.AlgorithmOf(pub); err != nil {
			t.Fatalf("ParseJWK returned a key tally cannot use: %v", err)
		}
		k, err := credentials.NewPublicKey(pub, "")
		if err != nil {
			t.Fatalf("a parsed JWK makes no did:key: %v", err)
		}
		if _, err := credentials.NewPublicKey(pub, "did:web:dadaab.example.org"); err != nil {
			t.Fatalf("a parsed JWK makes no did:web key: %v", err)
		}
		if j, err := jwk.ParseKey(data); err == nil {
			want, err := j.Thumbprint(crypto.SHA256)
			if err == nil && !bytes.Equal(k.Thumbprint(), want) {
				t.Fatalf("thumbprint %x, jwx says %x", k.Thumbprint(), want)
			}
		}

		j, err := credentials.PublicJWK(k)
		if err != nil {
			t.Fatalf("a parsed key has no JWK: %v", err)
		}
		again, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		pub2, kid, err := credentials.ParseJWK(again)
		if err != nil {
			t.Fatalf("PublicJWK wrote a JWK ParseJWK refuses: %v\n%s", err, again)
		}
		k2, err := credentials.NewPublicKey(pub2, "")
		if err != nil {
			t.Fatal(err)
		}
		if kid != k.ID || k2.ID != k.ID || !bytes.Equal(k2.Thumbprint(), k.Thumbprint()) {
			t.Fatalf("a JWK round trip changed the key: %s (kid %s) became %s", k.ID, kid, k2.ID)
		}
		back, err := credentials.ParseDIDKey(k.DID)
		if err != nil || !bytes.Equal(credentials.Thumbprint(back), k.Thumbprint()) {
			t.Fatalf("the key's did:key %s does not give the key back: %v", k.DID, err)
		}
	})
}
