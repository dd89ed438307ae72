package credentials_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
)

var (
	testNow = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	algs    = []credentials.Algorithm{credentials.EdDSA, credentials.ES256}
)

// newIssuerKey makes a did:key issuer key (did "") or one of a did:web DID.
func newIssuerKey(t testing.TB, alg credentials.Algorithm, did string) *credentials.Key {
	t.Helper()
	signer, err := credentials.GenerateKey(alg, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := credentials.NewKey(signer, did)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// preparedSample loads a sample, prepares it for k's DID and gives it
// status entries, as the issuer does.
func preparedSample(t testing.TB, name string, k *credentials.Key) *credentials.Credential {
	t.Helper()
	c := loadSample(t, name)
	if err := credentials.Prepare(c, k.DID, rand.Reader); err != nil {
		t.Fatal(err)
	}
	c.Status = credentials.StatusEntries("https://dadaab.example.org/status", 3, 94567)
	return c
}

// decodeSegment decodes one base64url segment of a compact JWS as JSON.
func decodeSegment(t testing.TB, seg string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// signJOSE signs payload with jwx directly, with the protected header
// members given: a VC-JWT as any JOSE library may make it.
func signJOSE(t testing.TB, payload any, k *credentials.Key, header map[string]any) string {
	t.Helper()
	body, ok := payload.([]byte)
	if !ok {
		body = []byte(mustJSON(t, payload))
	}
	h := jws.NewHeaders()
	for name, v := range header {
		if err := h.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	alg := jwa.EdDSA
	if k.Alg == credentials.ES256 {
		alg = jwa.ES256
	}
	out, err := jws.Sign(body, jws.WithKey(alg, k.Signer, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// credentialMap is the JSON object of a credential.
func credentialMap(t testing.TB, c *credentials.Credential) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(mustJSON(t, c)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestJWTRoundTrip(t *testing.T) {
	for _, alg := range algs {
		for _, did := range []string{"", "did:web:dadaab.example.org"} {
			k := newIssuerKey(t, alg, did)
			for _, name := range samples {
				t.Run(string(alg)+"/"+k.DID[:7]+"/"+name, func(t *testing.T) {
					c := preparedSample(t, name, k)
					token, err := credentials.IssueJWT(c, k, testNow)
					if err != nil {
						t.Fatal(err)
					}
					parts := strings.Split(token, ".")
					if len(parts) != 3 {
						t.Fatalf("not a compact JWS: %s", token)
					}
					h := decodeSegment(t, parts[0])
					if h["alg"] != string(alg) || h["typ"] != "vc+jwt" || h["cty"] != "vc" || h["kid"] != k.ID {
						t.Fatalf("header %v", h)
					}
					p := decodeSegment(t, parts[1])
					if p["iss"] != k.DID || p["jti"] != c.ID || p["iat"] != float64(testNow.Unix()) ||
						p["nbf"] != float64(c.ValidFrom.Unix()) || p["exp"] != float64(c.ValidUntil.Unix()) {
						t.Fatalf("JWT claims %v", p)
					}
					if _, ok := p["credentialSubject"]; !ok {
						t.Fatal("the payload is not the credential")
					}
					if sig, _ := base64.RawURLEncoding.DecodeString(parts[2]); len(sig) != 64 {
						t.Fatalf("signature is %d bytes, want 64 (raw r||s for ES256)", len(sig))
					}

					for _, form := range []struct{ name, raw string }{
						{"compact", token},
						{"data URL", "data:application/vc+jwt," + token},
						{"enveloped", mustJSON(t, credentials.EnvelopeJWT(token))},
						{"with spaces", "\n " + token + "\r\n"},
					} {
						j, err := credentials.ParseJWT([]byte(form.raw))
						if err != nil {
							t.Fatalf("%s: %v", form.name, err)
						}
						if err := j.VerifySignature(k.Public); err != nil {
							t.Fatalf("%s: %v", form.name, err)
						}
						if j.Format() != credentials.FormatJWT || j.Issuer() != k.DID || j.KeyID() != k.ID ||
							j.Algorithm() != alg || !j.IssuedAt().Equal(testNow) {
							t.Fatalf("%s: format %s issuer %s kid %s alg %s iat %s", form.name, j.Format(), j.Issuer(), j.KeyID(), j.Algorithm(), j.IssuedAt())
						}
						if got, want := mustJSON(t, j.Credential()), mustJSON(t, c); got != want {
							t.Fatalf("%s: credential changed:\n got %s\nwant %s", form.name, got, want)
						}
						if f, err := credentials.DetectFormat([]byte(form.raw)); err != nil || f != credentials.FormatJWT {
							t.Fatalf("%s: DetectFormat = %s, %v", form.name, f, err)
						}
					}
				})
			}
		}
	}
}

func TestIssueJWTRefuses(t *testing.T) {
	k := newIssuerKey(t, credentials.EdDSA, "")
	other := newIssuerKey(t, credentials.EdDSA, "")
	for _, tc := range []struct {
		name string
		edit func(c *credentials.Credential, k **credentials.Key)
	}{
		{"another issuer's key", func(c *credentials.Credential, k **credentials.Key) { *k = other }},
		{"a public key only", func(c *credentials.Credential, k **credentials.Key) { *k = (*k).PublicOnly() }},
		{"an invalid credential", func(c *credentials.Credential, k **credentials.Key) {
			c.Subject.(*credentials.Registration).FullName = ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, key := preparedSample(t, "registration.json", k), k
			tc.edit(c, &key)
			if token, err := credentials.IssueJWT(c, key, testNow); err == nil {
				t.Fatalf("issued %s", token)
			}
		})
	}
}

// flip returns token with the byte at i replaced by another base64url
// character.
func flip(token string, i int) string {
	b := []byte(token)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestJWTTamperedIsRejected(t *testing.T) {
	for _, alg := range algs {
		k := newIssuerKey(t, alg, "")
		token, err := credentials.IssueJWT(preparedSample(t, "registration.json", k), k, testNow)
		if err != nil {
			t.Fatal(err)
		}
		dot1 := strings.IndexByte(token, '.')
		dot2 := strings.LastIndexByte(token, '.')
		segments := map[string][2]int{"header": {0, dot1}, "payload": {dot1 + 1, dot2}, "signature": {dot2 + 1, len(token)}}
		for name, span := range segments {
			t.Run(string(alg)+"/"+name, func(t *testing.T) {
				// Every position of the segment, in steps: each change must
				// fail to parse or fail to verify.
				step := max(1, (span[1]-span[0])/97)
				for i := span[0]; i < span[1]; i += step {
					bad := flip(token, i)
					j, err := credentials.ParseJWT([]byte(bad))
					if err != nil {
						if !errors.Is(err, credentials.ErrMalformed) && !errors.Is(err, credentials.ErrUnsupported) {
							t.Fatalf("byte %d: parse error %v wraps neither ErrMalformed nor ErrUnsupported", i, err)
						}
						continue
					}
					if err := j.VerifySignature(k.Public); !errors.Is(err, credentials.ErrBadSignature) {
						t.Fatalf("byte %d changed, yet VerifySignature = %v", i, err)
					}
				}
			})
		}
	}

	// A payload edited and re-encoded cleanly still parses, and is caught
	// by the signature.
	k := newIssuerKey(t, credentials.EdDSA, "")
	c := preparedSample(t, "registration.json", k)
	token, _ := credentials.IssueJWT(c, k, testNow)
	parts := strings.Split(token, ".")
	p := decodeSegment(t, parts[1])
	p["credentialSubject"].(map[string]any)["fullName"] = "Someone Else"
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(mustJSON(t, p)))
	j, err := credentials.ParseJWT([]byte(strings.Join(parts, ".")))
	if err != nil {
		t.Fatal(err)
	}
	if err := j.VerifySignature(k.Public); !errors.Is(err, credentials.ErrBadSignature) {
		t.Fatalf("edited payload: %v", err)
	}
}

func TestJWTWrongKey(t *testing.T) {
	for _, alg := range algs {
		k := newIssuerKey(t, alg, "")
		token, err := credentials.IssueJWT(preparedSample(t, "eligibility.json", k), k, testNow)
		if err != nil {
			t.Fatal(err)
		}
		j, err := credentials.ParseJWT([]byte(token))
		if err != nil {
			t.Fatal(err)
		}
		for _, other := range algs {
			t.Run(string(alg)+"/"+string(other), func(t *testing.T) {
				wrong := newIssuerKey(t, other, "")
				if err := j.VerifySignature(wrong.Public); !errors.Is(err, credentials.ErrBadSignature) {
					t.Fatalf("VerifySignature with a %s key = %v", other, err)
				}
			})
		}
		if err := j.VerifySignature("not a key"); !errors.Is(err, credentials.ErrBadSignature) {
			t.Fatalf("VerifySignature with a string = %v", err)
		}
	}
}

// jwtPayload is the payload a VC-JWT of c has, as a map to edit.
func jwtPayload(t testing.TB, c *credentials.Credential) map[string]any {
	m := credentialMap(t, c)
	m["iss"] = c.Issuer
	m["jti"] = c.ID
	m["iat"] = testNow.Unix()
	m["nbf"] = c.ValidFrom.Unix()
	m["exp"] = c.ValidUntil.Unix()
	return m
}

func TestJWTFromAnyJOSELibrary(t *testing.T) {
	for _, alg := range algs {
		k := newIssuerKey(t, alg, "did:web:dadaab.example.org")
		c := preparedSample(t, "referral.json", k)
		fragment := k.ID[strings.IndexByte(k.ID, '#'):]
		minimal := credentialMap(t, c) // no JWT claims at all
		// A VCDM 1.1-style payload: the credential in the vc claim, with
		// what the JWT claims carry left out of it.
		vc := credentialMap(t, c)
		for _, m := range []string{"issuer", "id", "validFrom", "validUntil"} {
			delete(vc, m)
		}
		v11 := map[string]any{"vc": vc, "iss": c.Issuer, "jti": c.ID, "nbf": c.ValidFrom.Unix(), "exp": c.ValidUntil.Unix(), "iat": testNow.Unix()}
		// Other shapes VCDM 2.0 allows: type a string, issuer an object,
		// credentialStatus one object.
		shapes := jwtPayload(t, c)
		shapes["type"] = "ReferralCredential"
		shapes["issuer"] = map[string]any{"id": c.Issuer, "name": "Dadaab registration"}
		shapes["credentialStatus"] = shapes["credentialStatus"].([]any)[0]

		for _, tc := range []struct {
			name    string
			header  map[string]any
			payload any
			keyID   string
		}{
			{"no typ, no cty, no kid", nil, jwtPayload(t, c), ""},
			{"typ JWT", map[string]any{"typ": "JWT"}, jwtPayload(t, c), ""},
			{"typ vc+ld+json+jwt", map[string]any{"typ": "vc+ld+json+jwt", "cty": "vc+ld+json"}, jwtPayload(t, c), ""},
			{"typ application/vc+jwt", map[string]any{"typ": "application/vc+jwt"}, jwtPayload(t, c), ""},
			{"kid a fragment", map[string]any{"kid": fragment}, jwtPayload(t, c), k.ID},
			{"kid a bare fragment", map[string]any{"kid": fragment[1:]}, jwtPayload(t, c), k.ID},
			{"kid a DID URL", map[string]any{"kid": k.ID, "typ": "vc+jwt"}, jwtPayload(t, c), k.ID},
			{"no JWT claims", map[string]any{"typ": "vc+jwt"}, minimal, ""},
			{"VCDM 1.1-style vc claim", map[string]any{"typ": "JWT", "kid": k.ID}, v11, k.ID},
			{"other shapes", nil, shapes, ""},
			{"unknown header members", map[string]any{"x-vendor": "acme", "jku": "https://evil.example/keys"}, jwtPayload(t, c), ""},
		} {
			t.Run(string(alg)+"/"+tc.name, func(t *testing.T) {
				token := signJOSE(t, tc.payload, k, tc.header)
				j, err := credentials.ParseJWT([]byte(token))
				if err != nil {
					t.Fatal(err)
				}
				if err := j.VerifySignature(k.Public); err != nil {
					t.Fatal(err)
				}
				if j.KeyID() != tc.keyID || j.Issuer() != c.Issuer {
					t.Fatalf("kid %q issuer %q", j.KeyID(), j.Issuer())
				}
				got := j.Credential()
				if got.ID != c.ID || !got.ValidFrom.Equal(c.ValidFrom) || !got.ValidUntil.Equal(c.ValidUntil) ||
					got.Type != c.Type || len(got.Status) == 0 || got.Status[0] != c.Status[0] {
					t.Fatalf("credential %+v", got)
				}
				if mustJSON(t, got.Subject) != mustJSON(t, c.Subject) {
					t.Fatalf("subject %s", mustJSON(t, got.Subject))
				}
			})
		}
	}
}

// unsignedJWT builds a compact JWS with the given header and payload and
// signature bytes, without signing.
func unsignedJWT(t testing.TB, header, payload any, sig []byte) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(mustJSON(t, header))) + "." + enc([]byte(mustJSON(t, payload))) + "." + enc(sig)
}

func TestJWTRejects(t *testing.T) {
	k := newIssuerKey(t, credentials.EdDSA, "")
	c := preparedSample(t, "registration.json", k)
	payload := func(edit func(m map[string]any)) map[string]any {
		m := jwtPayload(t, c)
		edit(m)
		return m
	}
	other := newIssuerKey(t, credentials.EdDSA, "")
	hmac, err := jws.Sign([]byte(mustJSON(t, jwtPayload(t, c))), jws.WithKey(jwa.HS256, []byte("a shared secret of enough length")))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		token string
		want  error
		words string // in the message
	}{
		{"alg none", unsignedJWT(t, map[string]any{"alg": "none", "typ": "vc+jwt"}, jwtPayload(t, c), nil), credentials.ErrUnsupported, "alg none"},
		{"alg HS256", string(hmac), credentials.ErrUnsupported, "HS256"},
		{"alg RS256", unsignedJWT(t, map[string]any{"alg": "RS256"}, jwtPayload(t, c), make([]byte, 256)), credentials.ErrUnsupported, "RS256"},
		{"no alg", unsignedJWT(t, map[string]any{"typ": "vc+jwt"}, jwtPayload(t, c), make([]byte, 64)), credentials.ErrMalformed, "no alg"},
		{"crit", signJOSE(t, jwtPayload(t, c), k, map[string]any{"crit": []string{"exp"}, "exp": 5}), credentials.ErrMalformed, "critical"},
		{"typ of an SD-JWT", signJOSE(t, jwtPayload(t, c), k, map[string]any{"typ": "dc+sd-jwt"}), credentials.ErrMalformed, "typ"},
		{"typ of a key-binding JWT", signJOSE(t, jwtPayload(t, c), k, map[string]any{"typ": "kb+jwt"}), credentials.ErrMalformed, "typ"},
		{"nested JWT", signJOSE(t, jwtPayload(t, c), k, map[string]any{"cty": "JWT"}), credentials.ErrUnsupported, "nested"},
		{"iss is not the issuer", signJOSE(t, payload(func(m map[string]any) { m["iss"] = other.DID }), k, nil), credentials.ErrMalformed, "iss"},
		{"exp is not validUntil", signJOSE(t, payload(func(m map[string]any) { m["exp"] = c.ValidUntil.Unix() + 86400 }), k, nil), credentials.ErrMalformed, "exp"},
		{"exp without validUntil", signJOSE(t, payload(func(m map[string]any) { delete(m, "validUntil") }), k, nil), credentials.ErrMalformed, "exp"},
		{"nbf is not validFrom", signJOSE(t, payload(func(m map[string]any) { m["nbf"] = 0 }), k, nil), credentials.ErrMalformed, "nbf"},
		{"jti is not id", signJOSE(t, payload(func(m map[string]any) { m["jti"] = "urn:uuid:other" }), k, nil), credentials.ErrMalformed, "jti"},
		{"sub is not the subject", signJOSE(t, payload(func(m map[string]any) { m["sub"] = "did:example:someone" }), k, nil), credentials.ErrMalformed, "sub"},
		{"exp not a number", signJOSE(t, payload(func(m map[string]any) { m["exp"] = "tomorrow" }), k, nil), credentials.ErrMalformed, "exp"},
		{"exp negative", signJOSE(t, payload(func(m map[string]any) { m["exp"] = -5 }), k, nil), credentials.ErrMalformed, "exp"},
		{"a presentation", signJOSE(t, map[string]any{"vp": map[string]any{}}, k, nil), credentials.ErrMalformed, "presentation"},
		{"vc claim and members", signJOSE(t, payload(func(m map[string]any) { m["vc"] = credentialMap(t, c) }), k, nil), credentials.ErrMalformed, "vc claim"},
		{"kid of another DID", signJOSE(t, jwtPayload(t, c), k, map[string]any{"kid": other.ID}), credentials.ErrMalformed, "kid"},
		{"invalid credential", signJOSE(t, payload(func(m map[string]any) { m["credentialSubject"].(map[string]any)["gender"] = "f" }), k, nil), credentials.ErrMalformed, "gender"},
		{"unknown claim", signJOSE(t, payload(func(m map[string]any) { m["credentialSubject"].(map[string]any)["shoeSize"] = 44 }), k, nil), credentials.ErrMalformed, "shoeSize"},
		{"payload not JSON", signJOSE(t, []byte("not json"), k, nil), credentials.ErrMalformed, "payload"},
		{"two parts", "eyJhbGciOiJFZERTQSJ9.e30", credentials.ErrMalformed, "three parts"},
		{"four parts", "eyJhbGciOiJFZERTQSJ9.e30.c2ln.c2ln", credentials.ErrMalformed, "three parts"},
		{"padded base64", strings.Replace(unsignedJWT(t, map[string]any{"alg": "EdDSA"}, jwtPayload(t, c), make([]byte, 64)), ".", "=.", 1), credentials.ErrMalformed, "base64url"},
		{"JSON serialization", `{"payload":"e30","signatures":[]}`, credentials.ErrMalformed, "compact"},
		{"too long", strings.Repeat("a", 70000) + ".b.c", credentials.ErrMalformed, "longer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := credentials.ParseJWT([]byte(tc.token))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v (parsed %v)", err, tc.want, j)
			}
			if !strings.Contains(err.Error(), tc.words) {
				t.Fatalf("error %q does not mention %q", err, tc.words)
			}
		})
	}
}

func TestUnwrapEnveloped(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"data:application/vc+jwt,a.b.c", "a.b.c", true},
		{"data:application/dc+sd-jwt,a.b.c~", "a.b.c~", true},
		{"data:application/vc-ld+jwt,a.b.c", "a.b.c", true},
		{`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"EnvelopedVerifiableCredential","id":"data:application/vc+jwt,a.b.c"}`, "a.b.c", true},
		{`{"type":["EnvelopedVerifiableCredential"],"id":"data:application/vc+jwt,a.b.c"}`, "a.b.c", true},
		{`{"type":"VerifiableCredential","id":"data:application/vc+jwt,a.b.c"}`, "", false},
		{`{"type":"EnvelopedVerifiableCredential","id":"data:application/vc+cose,AAAA"}`, "", false},
		{"data:text/plain,hello", "", false},
		{"a.b.c", "", false},
	} {
		got, ok := credentials.UnwrapEnveloped([]byte(tc.in))
		if ok != tc.ok || ok && string(got) != tc.want {
			t.Fatalf("UnwrapEnveloped(%q) = %q, %v", tc.in, got, ok)
		}
	}
	env := credentials.EnvelopeJWT("a.b.c")
	if env["type"] != "EnvelopedVerifiableCredential" || env["id"] != "data:application/vc+jwt,a.b.c" {
		t.Fatalf("EnvelopeJWT = %v", env)
	}
}

// Compile-time check: the formats implement Secured.
var _ credentials.Secured = (*credentials.JWT)(nil)

func TestJWTOtherContexts(t *testing.T) {
	k := newIssuerKey(t, credentials.EdDSA, "")
	for _, tc := range []struct {
		name    string
		context []any
	}{
		{"base only", []any{credentials.BaseContext}},
		{"one more URL", append(credentials.DefaultContext(), "https://example.org/ctx/v1")},
		{"one more object", append(credentials.DefaultContext(), map[string]any{"x": "https://example.org/x"})},
		{"tally's context edited", []any{credentials.BaseContext, func() map[string]any {
			m := credentials.TallyContext()
			m["xsd"] = "http://www.w3.org/2001/XMLSchema#x"
			return m
		}()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := preparedSample(t, "eligibility.json", k)
			c.Context = tc.context
			token, err := credentials.IssueJWT(c, k, testNow)
			if err != nil {
				t.Fatal(err)
			}
			j, err := credentials.ParseJWT([]byte(token))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := mustJSON(t, j.Credential()), mustJSON(t, c); got != want {
				t.Fatalf("credential changed:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// ParseJWT keeps a reference to its input: a caller that changes it before
// VerifySignature gets a failure, never a credential it did not parse.
func TestJWTInputChangedAfterParse(t *testing.T) {
	k := newIssuerKey(t, credentials.EdDSA, "")
	c := preparedSample(t, "registration.json", k)
	token, _ := credentials.IssueJWT(c, k, testNow)
	other := preparedSample(t, "registration.json", k)
	other.Subject.(*credentials.Registration).FullName = "Someone Else Entirely"
	otherToken, _ := credentials.IssueJWT(other, k, testNow)

	buf := []byte(token)
	j, err := credentials.ParseJWT(buf)
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, otherToken) // another valid token of the same issuer
	if err := j.VerifySignature(k.Public); !errors.Is(err, credentials.ErrBadSignature) {
		t.Fatalf("VerifySignature after the input changed = %v", err)
	}
	if name := j.Credential().Subject.(*credentials.Registration).FullName; name != "Fatima Hassan Abdi" {
		t.Fatalf("the parsed credential changed with its input: %s", name)
	}
}
