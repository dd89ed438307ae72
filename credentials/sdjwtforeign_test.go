package credentials_test

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/tally-id/tally/credentials"
)

// SD-JWT VCs of other issuers, with any vct, built as the SD-JWT VC draft's
// examples and the EU PID are: claims disclosable at every level, nested
// objects with their own _sd, array elements {"...": digest}, decoys.

// sdIssuer builds the disclosures of one SD-JWT VC, with salts that
// differ from one disclosure to the next.
type sdIssuer struct {
	t           testing.TB
	n           int
	disclosures map[string]string // by what they disclose: "address", "nationalities[1]"
	order       []string
}

func newSDIssuer(t testing.TB) *sdIssuer {
	return &sdIssuer{t: t, disclosures: map[string]string{}}
}

func (b *sdIssuer) encode(label string, elems ...any) string {
	b.n++
	salt := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("salt-%04d-of-a-test", b.n)))
	d := base64.RawURLEncoding.EncodeToString([]byte(mustJSON(b.t, append([]any{salt}, elems...))))
	b.disclosures[label] = d
	b.order = append(b.order, label)
	sum := sha256.Sum256([]byte(d))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// prop makes a disclosure of an object property and returns its digest.
func (b *sdIssuer) prop(label, name string, value any) string { return b.encode(label, name, value) }

// elem makes a disclosure of an array element and returns {"...": digest}.
func (b *sdIssuer) elem(label string, value any) map[string]any {
	return map[string]any{"...": b.encode(label, value)}
}

// decoy is a digest of nothing.
func (b *sdIssuer) decoy() string {
	b.n++
	sum := sha256.Sum256([]byte(fmt.Sprintf("decoy %d", b.n)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// token signs payload and appends the disclosures of the given labels
// (all of them, in issuance order, with none given).
func (b *sdIssuer) token(k *credentials.Key, header map[string]any, payload map[string]any, labels ...string) string {
	if labels == nil {
		labels = b.order
	}
	if header == nil {
		header = map[string]any{"typ": "dc+sd-jwt", "kid": k.ID}
	}
	var ds []string
	for _, l := range labels {
		d, ok := b.disclosures[l]
		if !ok {
			b.t.Fatalf("no disclosure %q", l)
		}
		ds = append(ds, d)
	}
	return resign(b.t, k, header, payload, ds...)
}

// identityCredential is an SD-JWT VC shaped as the SD-JWT VC draft's
// example (vct https://credentials.example.com/identity_credential): every
// claim disclosable, address disclosable whole and member by member,
// nationalities element by element, a holder key in cnf.
func identityCredential(t testing.TB, k *credentials.Key, holder crypto.PublicKey) (*sdIssuer, map[string]any) {
	b := newSDIssuer(t)
	address := map[string]any{"_sd": []any{
		b.prop("street", "street_address", "123 Main St"),
		b.prop("locality", "locality", "Anytown"),
		b.decoy(),
	}, "country": "KE"}
	p := map[string]any{
		"iss": k.DID,
		"iat": testNow.Unix(),
		"nbf": foreignFrom.Unix(),
		"exp": foreignUntil.Unix(),
		"vct": "https://credentials.example.com/identity_credential",
		"_sd": []any{
			b.prop("given_name", "given_name", "Amina"),
			b.prop("family_name", "family_name", "Yusuf"),
			b.prop("birthdate", "birthdate", "1990-01-01"),
			b.prop("sub", "sub", holderDID),
			b.prop("address", "address", address),
			b.prop("nationalities", "nationalities", []any{b.elem("nationalities[0]", "KE"), b.elem("nationalities[1]", "SO"), "UG"}),
			b.prop("age_equal_or_over", "age_equal_or_over", map[string]any{"_sd": []any{b.prop("18", "18", true), b.prop("65", "65", false)}}),
			b.decoy(), b.decoy(),
		},
		"_sd_alg": "sha-256",
	}
	if holder != nil {
		j, err := jwk.FromRaw(holder)
		if err != nil {
			t.Fatal(err)
		}
		p["cnf"] = map[string]any{"jwk": j}
	}
	return b, p
}

func TestForeignSDJWT(t *testing.T) {
	for _, alg := range algs {
		k := newIssuerKey(t, alg, "did:web:credentials.example.com")
		holder := newHolder(t, alg)
		b, payload := identityCredential(t, k, holder.Public())
		for _, tc := range []struct {
			name   string
			header map[string]any
			labels []string
			want   string // the claims, as JSON
		}{
			{"everything disclosed", nil, nil,
				`{"address":{"country":"KE","locality":"Anytown","street_address":"123 Main St"},"age_equal_or_over":{"18":true,"65":false},` +
					`"birthdate":"1990-01-01","family_name":"Yusuf","given_name":"Amina","nationalities":["KE","SO","UG"],"sub":"` + holderDID + `"}`},
			{"nothing disclosed", nil, []string{}, `{}`},
			{"the address without its street, one nationality, over 18", nil,
				[]string{"address", "locality", "nationalities", "nationalities[1]", "age_equal_or_over", "18"},
				`{"address":{"country":"KE","locality":"Anytown"},"age_equal_or_over":{"18":true},"nationalities":["SO","UG"]}`},
			{"a nested disclosure without its parent's is not in the claims", nil, []string{"street"}, ``},
			{"typ vc+sd-jwt, as older wallets send", map[string]any{"typ": "vc+sd-jwt"}, []string{"given_name"}, `{"given_name":"Amina"}`},
		} {
			t.Run(string(alg)+"/"+tc.name, func(t *testing.T) {
				token := b.token(k, tc.header, payload, tc.labels...)
				s, err := credentials.ParseSDJWT([]byte(token))
				if tc.want == "" {
					// A disclosure whose digest is only in a parent that was not
					// disclosed is not one the issuer signed, as far as the
					// verifier can tell.
					if !errors.Is(err, credentials.ErrMalformed) || !strings.Contains(err.Error(), "not one the issuer signed") {
						t.Fatalf("err = %v", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := s.VerifySignature(k.Public); err != nil {
					t.Fatal(err)
				}
				v := s.View()
				if s.Credential() != nil || s.Issuer() != k.DID || v.Issuer != k.DID || s.VCT() != payload["vct"] ||
					!slices.Equal(v.Types, []string{"https://credentials.example.com/identity_credential"}) ||
					!v.ValidFrom.Equal(foreignFrom) || !v.ValidUntil.Equal(foreignUntil) || !s.IssuedAt().Equal(testNow) {
					t.Fatalf("issuer %s view %+v", s.Issuer(), v)
				}
				if tc.header == nil && s.KeyID() != k.ID {
					t.Fatalf("kid %q", s.KeyID())
				}
				if string(v.Claims) != tc.want {
					t.Fatalf("claims\n got %s\nwant %s", v.Claims, tc.want)
				}
				var claims map[string]any
				_ = json.Unmarshal(v.Claims, &claims)
				if got := s.Disclosed(); !slices.Equal(got, keysOf(claims)) {
					t.Fatalf("Disclosed = %v, claims %v", got, keysOf(claims))
				}
				if s.Holder() == nil {
					t.Fatal("no holder key")
				}
			})
		}

		t.Run(string(alg)+"/key binding", func(t *testing.T) {
			issued := b.token(k, nil, payload, "given_name", "birthdate")
			kb := keyBindingJWT(t, issued, holder, testAud, testNonce, testNow)
			s, err := credentials.ParseSDJWT([]byte(issued + kb))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.VerifySignature(k.Public); err != nil {
				t.Fatal(err)
			}
			if err := s.VerifyKeyBinding(testAud, testNonce, testNow, 0); err != nil {
				t.Fatal(err)
			}
			if err := s.VerifyKeyBinding(testAud, "another nonce", testNow, 0); !errors.Is(err, credentials.ErrKeyBindingNonce) {
				t.Fatalf("another nonce: %v", err)
			}
		})
	}
}

// keyBindingJWT signs a key-binding JWT over presentation (which ends in ~).
func keyBindingJWT(t testing.TB, presentation string, holder crypto.Signer, aud, nonce string, now time.Time) string {
	t.Helper()
	sum := sha256.Sum256([]byte(presentation))
	hk, err := credentials.NewKey(holder, "")
	if err != nil {
		t.Fatal(err)
	}
	return signJOSE(t, map[string]any{
		"iat": now.Unix(), "aud": aud, "nonce": nonce, "sd_hash": base64.RawURLEncoding.EncodeToString(sum[:]),
	}, hk, map[string]any{"typ": "kb+jwt"})
}

func TestForeignSDJWTStatusAndSkipped(t *testing.T) {
	k := newIssuerKey(t, credentials.EdDSA, "")
	b := newSDIssuer(t)
	p := map[string]any{
		"iss": k.DID, "vct": "urn:eudi:pid:1", "vct#integrity": "sha256-WRL5ca_xGgX3c1VLmXfh-9cLlJNXN-TsMk-PmKjZ5t0",
		"jti": "urn:uuid:5e1f2c7a-0d7e-4c1b-9a83-2f6b1f9a7c41",
		"credentialStatus": []any{map[string]any{
			"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "7",
			"statusListCredential": "https://pid.example/status/1",
		}, map[string]any{"type": "StatusList2021Entry", "statusPurpose": "suspension", "statusListIndex": "8"}},
		"_sd": []any{b.prop("family_name", "family_name", "Yusuf")},
	}
	s, err := credentials.ParseSDJWT([]byte(b.token(k, nil, p)))
	if err != nil {
		t.Fatal(err)
	}
	v := s.View()
	if v.ID != "urn:uuid:5e1f2c7a-0d7e-4c1b-9a83-2f6b1f9a7c41" || len(v.Status) != 1 || v.Status[0].Index != 7 || v.UncheckedStatus == nil ||
		!slices.ContainsFunc(v.Skipped, func(s string) bool { return strings.HasPrefix(s, "vct#integrity") }) ||
		string(v.Claims) != `{"family_name":"Yusuf"}` {
		t.Fatalf("view %+v claims %s", v, v.Claims)
	}
}

func TestForeignSDJWTRejects(t *testing.T) {
	k := newIssuerKey(t, credentials.EdDSA, "")
	const secret = "a value only the holder may show"
	build := func(f func(b *sdIssuer, p map[string]any) []string) string {
		b := newSDIssuer(t)
		p := map[string]any{"iss": k.DID, "vct": "urn:example:employee"}
		labels := f(b, p)
		return b.token(k, nil, p, labels...)
	}
	t.Run("a Token Status List claim is read", func(t *testing.T) {
		s, err := credentials.ParseSDJWT([]byte(build(func(b *sdIssuer, p map[string]any) []string {
			p["status"] = map[string]any{"status_list": map[string]any{"idx": 3, "uri": "https://x.example/sl"}}
			return nil
		})))
		if err != nil {
			t.Fatal(err)
		}
		if ts := s.View().TokenStatus; ts == nil || ts.Index != 3 || ts.URI != "https://x.example/sl" {
			t.Fatalf("token status %+v", ts)
		}
	})
	deep := any(true)
	for range 20 {
		deep = map[string]any{"x": deep}
	}
	for _, tc := range []struct {
		name, token string
		want        error
		words       string
	}{
		{"disclosed iss", build(func(b *sdIssuer, p map[string]any) []string {
			p["_sd"] = []any{b.prop("iss", "iss", "did:web:evil.example")}
			return nil
		}), credentials.ErrMalformed, `"iss"`},
		{"no iss", build(func(b *sdIssuer, p map[string]any) []string { delete(p, "iss"); return nil }), credentials.ErrUnsupported, "iss"},
		{"disclosed exp", build(func(b *sdIssuer, p map[string]any) []string {
			p["_sd"] = []any{b.prop("exp", "exp", 4102444800)}
			return nil
		}), credentials.ErrMalformed, `"exp"`},
		{"disclosed credentialStatus", build(func(b *sdIssuer, p map[string]any) []string {
			p["_sd"] = []any{b.prop("st", "credentialStatus", map[string]any{"type": "BitstringStatusListEntry"})}
			return nil
		}), credentials.ErrMalformed, `"credentialStatus"`},
		{"an element disclosure in _sd", build(func(b *sdIssuer, p map[string]any) []string {
			p["_sd"] = []any{b.elem("e", secret)["..."]}
			return nil
		}), credentials.ErrMalformed, "array element"},
		{"a property disclosure in an array", build(func(b *sdIssuer, p map[string]any) []string {
			p["list"] = []any{map[string]any{"...": b.prop("p", "name", secret)}}
			return nil
		}), credentials.ErrMalformed, "array element"},
		{"... beside other members", build(func(b *sdIssuer, p map[string]any) []string {
			e := b.elem("e", secret)
			e["other"] = 1
			p["list"] = []any{e}
			return nil
		}), credentials.ErrMalformed, "no other member"},
		{"a digest in the payload and in a disclosure", build(func(b *sdIssuer, p map[string]any) []string {
			inner := b.prop("inner", "inner", secret)
			p["_sd"] = []any{inner, b.prop("outer", "outer", map[string]any{"_sd": []any{inner}})}
			return nil
		}), credentials.ErrMalformed, "twice"},
		{"_sd not a list", build(func(b *sdIssuer, p map[string]any) []string {
			p["_sd"] = "abc"
			return []string{}
		}), credentials.ErrMalformed, "_sd"},
		{"a claim disclosed and in the clear", build(func(b *sdIssuer, p map[string]any) []string {
			p["name"] = "clear"
			p["_sd"] = []any{b.prop("name", "name", secret)}
			return nil
		}), credentials.ErrMalformed, "already has"},
		{"a disclosure named ...", build(func(b *sdIssuer, p map[string]any) []string {
			p["o"] = map[string]any{"_sd": []any{b.prop("dots", "...", secret)}}
			return nil
		}), credentials.ErrMalformed, "RFC 9901"},
		{"nested too deep", build(func(b *sdIssuer, p map[string]any) []string {
			p["_sd"] = []any{b.prop("deep", "deep", deep)}
			return nil
		}), credentials.ErrMalformed, "deep"},
		{"a status claim of another mechanism", build(func(b *sdIssuer, p map[string]any) []string {
			p["status"] = map[string]any{"status_attestation": map[string]any{}}
			return nil
		}), credentials.ErrUnsupported, "status"},
		{"no vct", build(func(b *sdIssuer, p map[string]any) []string { delete(p, "vct"); return nil }), credentials.ErrMalformed, "vct"},
		{"a forged disclosure", build(func(b *sdIssuer, p map[string]any) []string {
			b.prop("forged", "name", secret) // made, but its digest is nowhere
			return nil
		}), credentials.ErrMalformed, "not one the issuer signed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := credentials.ParseSDJWT([]byte(tc.token))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v (parsed %+v)", err, tc.want, s)
			}
			if !strings.Contains(err.Error(), tc.words) {
				t.Fatalf("error %q does not mention %q", err, tc.words)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q quotes a claim's value", err)
			}
		})
	}

	t.Run("too many disclosures", func(t *testing.T) {
		b := newSDIssuer(t)
		p := map[string]any{"iss": k.DID, "vct": "urn:example:employee"}
		var sd []any
		for i := range 600 {
			sd = append(sd, b.prop(fmt.Sprint(i), fmt.Sprint("c", i), i))
		}
		p["_sd"] = sd
		if _, err := credentials.ParseSDJWT([]byte(b.token(k, nil, p))); !errors.Is(err, credentials.ErrMalformed) || !strings.Contains(err.Error(), "disclosures") {
			t.Fatalf("err = %v", err)
		}
	})
}
