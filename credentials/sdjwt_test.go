package credentials_test

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
)

const (
	testAud   = "https://health.example.org/verify"
	testNonce = "n-0S6_WzA2Mj"
)

// subjectClaims lists the claims a credential's subject has, as JSON.
func subjectClaims(t testing.TB, c *credentials.Credential) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(mustJSON(t, c.Subject)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// decodeDisclosure decodes one disclosure as [salt, name, value].
func decodeDisclosure(t testing.TB, d string) []any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(d)
	if err != nil {
		t.Fatal(err)
	}
	var out []any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// makeDisclosure encodes [salt, name, value] and returns it with its digest.
func makeDisclosure(t testing.TB, salt, name string, value any) (string, string) {
	d := base64.RawURLEncoding.EncodeToString([]byte(mustJSON(t, []any{salt, name, value})))
	sum := sha256.Sum256([]byte(d))
	return d, base64.RawURLEncoding.EncodeToString(sum[:])
}

func newHolder(t testing.TB, alg credentials.Algorithm) crypto.Signer {
	t.Helper()
	s, err := credentials.GenerateKey(alg, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSDJWTRoundTrip(t *testing.T) {
	for _, alg := range algs {
		k := newIssuerKey(t, alg, "")
		for _, holderAlg := range []credentials.Algorithm{"", credentials.EdDSA, credentials.ES256} {
			for _, name := range samples {
				t.Run(string(alg)+"/holder "+string(holderAlg)+"/"+name, func(t *testing.T) {
					c := preparedSample(t, name, k)
					var holder crypto.Signer
					opts := credentials.SDJWTOptions{}
					if holderAlg != "" {
						holder = newHolder(t, holderAlg)
						opts.Holder = holder.Public()
					}
					issued, err := credentials.IssueSDJWT(c, k, testNow, opts)
					if err != nil {
						t.Fatal(err)
					}
					parts := strings.Split(issued, "~")
					claims := subjectClaims(t, c)
					if parts[len(parts)-1] != "" || len(parts) != len(claims)+2 {
						t.Fatalf("issuance form has %d parts for %d claims", len(parts), len(claims))
					}
					jwt := strings.Split(parts[0], ".")
					h, p := decodeSegment(t, jwt[0]), decodeSegment(t, jwt[1])
					if h["typ"] != "dc+sd-jwt" || h["kid"] != k.ID || h["alg"] != string(alg) {
						t.Fatalf("header %v", h)
					}
					if p["iss"] != k.DID || p["vct"] != "https://tally-id.github.io/vct/"+string(c.Type) || p["jti"] != c.ID ||
						p["iat"] != float64(testNow.Unix()) || p["nbf"] != float64(c.ValidFrom.Unix()) ||
						p["exp"] != float64(c.ValidUntil.Unix()) || p["_sd_alg"] != "sha-256" || p["credentialStatus"] == nil {
						t.Fatalf("payload %v", p)
					}
					if _, bound := p["cnf"]; bound != (holder != nil) {
						t.Fatalf("cnf %v with holder %v", p["cnf"], holder)
					}
					sd := p["_sd"].([]any)
					if len(sd)%8 != 0 || len(sd) <= len(claims) || !slices.IsSortedFunc(sd, func(a, b any) int { return strings.Compare(a.(string), b.(string)) }) {
						t.Fatalf("_sd has %d digests for %d claims, sorted %v", len(sd), len(claims), sd)
					}
					for name := range claims {
						if _, clear := p[name]; clear {
							t.Fatalf("claim %s is in the clear", name)
						}
					}
					for _, d := range parts[1 : len(parts)-1] {
						if salt := decodeDisclosure(t, d)[0].(string); len(salt) != 22 { // 16 bytes
							t.Fatalf("salt %q is not 128 bits", salt)
						}
					}

					s, err := credentials.ParseSDJWT([]byte(issued))
					if err != nil {
						t.Fatal(err)
					}
					if err := s.VerifySignature(k.Public); err != nil {
						t.Fatal(err)
					}
					if s.Format() != credentials.FormatSDJWT || s.Issuer() != k.DID || s.KeyID() != k.ID || s.VCT() != p["vct"] {
						t.Fatalf("format %s issuer %s kid %s vct %s", s.Format(), s.Issuer(), s.KeyID(), s.VCT())
					}
					got := s.Credential()
					if mustJSON(t, got.Subject) != mustJSON(t, c.Subject) || got.ID != c.ID || got.Type != c.Type ||
						!got.ValidFrom.Equal(c.ValidFrom) || !got.ValidUntil.Equal(c.ValidUntil) || mustJSON(t, got.Status) != mustJSON(t, c.Status) {
						t.Fatalf("credential %s", mustJSON(t, got))
					}
					if !slices.Equal(s.Disclosed(), keysOf(claims)) {
						t.Fatalf("disclosed %v, want %v", s.Disclosed(), keysOf(claims))
					}

					// The holder presents everything to a verifier.
					pres, err := credentials.PresentSDJWT(issued, keysOf(claims), holder, testAud, testNonce, testNow)
					if err != nil {
						t.Fatal(err)
					}
					s, err = credentials.ParseSDJWT([]byte(pres))
					if err != nil {
						t.Fatal(err)
					}
					if err := s.VerifySignature(k.Public); err != nil {
						t.Fatal(err)
					}
					if err := s.VerifyKeyBinding(testAud, testNonce, testNow.Add(time.Minute), 0); err != nil {
						t.Fatal(err)
					}
					if holder != nil && !holder.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(s.Holder()) {
						t.Fatal("Holder() is not the holder's key")
					}
					if f, err := credentials.DetectFormat([]byte(pres)); err != nil || f != credentials.FormatSDJWT {
						t.Fatalf("DetectFormat = %s, %v", f, err)
					}
				})
			}
		}
	}
}

func TestSDJWTDiscloseSubsets(t *testing.T) {
	for _, alg := range algs {
		k := newIssuerKey(t, alg, "")
		holder := newHolder(t, alg)
		c := preparedSample(t, "registration.json", k)
		c.Subject.(*credentials.Registration).ID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
		issued, err := credentials.IssueSDJWT(c, k, testNow, credentials.SDJWTOptions{Holder: holder.Public(), Decoys: 3})
		if err != nil {
			t.Fatal(err)
		}
		all := subjectClaims(t, c)
		for _, subset := range [][]string{
			{},
			{"registrationId"},
			{"registrationId", "dedupSeed"},
			{"fullName", "dateOfBirth", "gender"},
			{"id", "programme"},
		} {
			t.Run(string(alg)+"/"+strings.Join(subset, ","), func(t *testing.T) {
				pres, err := credentials.PresentSDJWT(issued, subset, holder, testAud, testNonce, testNow)
				if err != nil {
					t.Fatal(err)
				}
				// Only the chosen disclosures travel.
				parts := strings.Split(pres, "~")
				var names []string
				for _, d := range parts[1 : len(parts)-1] {
					names = append(names, decodeDisclosure(t, d)[1].(string))
				}
				if len(names) != len(subset) {
					t.Fatalf("presentation discloses %v, asked for %v", names, subset)
				}
				s, err := credentials.ParseSDJWT([]byte(pres))
				if err != nil {
					t.Fatal(err)
				}
				if err := s.VerifySignature(k.Public); err != nil {
					t.Fatal(err)
				}
				if err := s.VerifyKeyBinding(testAud, testNonce, testNow, time.Minute); err != nil {
					t.Fatal(err)
				}
				want := slices.Sorted(slices.Values(subset))
				if !slices.Equal(s.Disclosed(), want) && !(len(want) == 0 && len(s.Disclosed()) == 0) {
					t.Fatalf("Disclosed() = %v, want %v", s.Disclosed(), want)
				}
				got := subjectClaims(t, s.Credential())
				for name, v := range all {
					// Claims without omitempty encode as "" when absent.
					present := got[name] != nil && got[name] != ""
					if present != slices.Contains(subset, name) {
						t.Fatalf("claim %s present = %v", name, present)
					}
					if present && mustJSON(t, got[name]) != mustJSON(t, v) {
						t.Fatalf("claim %s = %v, want %v", name, got[name], v)
					}
				}
			})
		}
	}
	k := newIssuerKey(t, credentials.EdDSA, "")
	issued, _ := credentials.IssueSDJWT(preparedSample(t, "eligibility.json", k), k, testNow, credentials.SDJWTOptions{})
	if _, err := credentials.PresentSDJWT(issued, []string{"shoeSize"}, nil, "", "", testNow); err == nil || !strings.Contains(err.Error(), "shoeSize") {
		t.Fatalf("disclosing an unknown claim: %v", err)
	}
	// A source that repeats itself would give equal decoys: refused.
	if _, err := credentials.IssueSDJWT(preparedSample(t, "eligibility.json", k), k, testNow, credentials.SDJWTOptions{Rand: zeroReader{}}); err == nil {
		t.Fatal("issued with a constant random source")
	}
}

// resign makes an SD-JWT whose issuer JWT has the given payload and header
// members, signed by k, followed by the disclosures.
func resign(t testing.TB, k *credentials.Key, header map[string]any, payload map[string]any, disclosures ...string) string {
	if header == nil {
		header = map[string]any{"typ": "dc+sd-jwt", "kid": k.ID}
	}
	return signJOSE(t, payload, k, header) + "~" + strings.Join(append(disclosures, ""), "~")
}

func TestSDJWTRejectsForgeries(t *testing.T) {
	k := newIssuerKey(t, credentials.EdDSA, "")
	c := preparedSample(t, "registration.json", k)
	issued, err := credentials.IssueSDJWT(c, k, testNow, credentials.SDJWTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(issued, "~")
	jwt, disclosures := parts[0], parts[1:len(parts)-1]
	payload := decodeSegment(t, strings.Split(jwt, ".")[1])
	withSD := func(extra ...string) map[string]any {
		p := decodeSegment(t, strings.Split(jwt, ".")[1])
		p["_sd"] = append(p["_sd"].([]any), func() []any {
			var out []any
			for _, e := range extra {
				out = append(out, e)
			}
			return out
		}()...)
		return p
	}
	forged, _ := makeDisclosure(t, "c2FsdHNhbHRzYWx0c2FsdA", "nationality", "KE")
	issDisclosure, issDigest := makeDisclosure(t, "c2FsdHNhbHRzYWx0c2FsdA", "iss", "did:web:evil.example")
	sdDisclosure, sdDigest := makeDisclosure(t, "c2FsdHNhbHRzYWx0c2FsdA", "_sd", []string{})
	vctDisclosure, vctDigest := makeDisclosure(t, "c2FsdHNhbHRzYWx0c2FsdA", "vct", "x")
	arrDisclosure := base64.RawURLEncoding.EncodeToString([]byte(`["c2FsdA","x"]`))
	arrSum := sha256.Sum256([]byte(arrDisclosure))
	plain := withSD()
	plain["fullName"] = "In The Clear"
	sha512 := withSD()
	sha512["_sd_alg"] = "sha-512"
	dupDigest := withSD(payload["_sd"].([]any)[0].(string))
	withStatus := func(status any) map[string]any {
		p := withSD()
		p["status"] = status
		return p
	}
	badVCT := withSD()
	delete(badVCT, "vct")
	tampered := []byte(disclosures[0])
	tampered[5] ^= 1

	for _, tc := range []struct {
		name, token string
		want        error
		words       string
	}{
		{"forged disclosure", issued + forged + "~", credentials.ErrMalformed, "not one the issuer signed"},
		{"tampered disclosure", strings.Replace(issued, disclosures[0], string(tampered), 1), credentials.ErrMalformed, "disclosure"},
		{"duplicate disclosure", issued + disclosures[2] + "~", credentials.ErrMalformed, "twice"},
		{"empty disclosure", jwt + "~~" + strings.Join(disclosures, "~") + "~", credentials.ErrMalformed, "empty"},
		{"disclosed iss", resign(t, k, nil, withSD(issDigest), append(slices.Clone(disclosures), issDisclosure)...), credentials.ErrMalformed, `"iss"`},
		{"disclosed _sd", resign(t, k, nil, withSD(sdDigest), append(slices.Clone(disclosures), sdDisclosure)...), credentials.ErrMalformed, `"_sd"`},
		{"disclosed vct", resign(t, k, nil, withSD(vctDigest), append(slices.Clone(disclosures), vctDisclosure)...), credentials.ErrMalformed, `"vct"`},
		{"array element disclosure in _sd", resign(t, k, nil, withSD(base64.RawURLEncoding.EncodeToString(arrSum[:])), arrDisclosure), credentials.ErrMalformed, "array element"},
		{"claim both plain and disclosed", resign(t, k, nil, plain, disclosures...), credentials.ErrMalformed, "already has"},
		{"_sd_alg sha-512", resign(t, k, nil, sha512, disclosures...), credentials.ErrUnsupported, "_sd_alg"},
		{"digest listed twice", resign(t, k, nil, dupDigest, disclosures...), credentials.ErrMalformed, "twice"},
		{"unknown status mechanism", resign(t, k, nil, withStatus(map[string]any{"status_attestation": map[string]any{}}), disclosures...), credentials.ErrUnsupported, "status_attestation"},
		{"status not an object", resign(t, k, nil, withStatus("revoked"), disclosures...), credentials.ErrMalformed, "status"},
		{"status_list without idx", resign(t, k, nil, withStatus(map[string]any{"status_list": map[string]any{"uri": "https://x.example/1"}}), disclosures...), credentials.ErrMalformed, "idx"},
		{"negative idx", resign(t, k, nil, withStatus(map[string]any{"status_list": map[string]any{"idx": -1, "uri": "https://x.example/1"}}), disclosures...), credentials.ErrMalformed, "idx"},
		{"fractional idx", resign(t, k, nil, withStatus(map[string]any{"status_list": map[string]any{"idx": 1.5, "uri": "https://x.example/1"}}), disclosures...), credentials.ErrMalformed, "idx"},
		{"relative uri", resign(t, k, nil, withStatus(map[string]any{"status_list": map[string]any{"idx": 1, "uri": "token/1"}}), disclosures...), credentials.ErrMalformed, "uri"},
		{"no vct", resign(t, k, nil, badVCT, disclosures...), credentials.ErrMalformed, "vct"},
		{"typ vc+jwt", resign(t, k, map[string]any{"typ": "vc+jwt"}, withSD(), disclosures...), credentials.ErrMalformed, "typ"},
		{"no typ", resign(t, k, map[string]any{}, withSD(), disclosures...), credentials.ErrMalformed, "typ"},
		{"alg none", unsignedJWT(t, map[string]any{"alg": "none", "typ": "dc+sd-jwt"}, payload, nil) + "~", credentials.ErrUnsupported, "none"},
		{"no separator", jwt, credentials.ErrMalformed, "~"},
		{"a VC-JWT", func() string { s, _ := credentials.IssueJWT(c, k, testNow); return s + "~" }(), credentials.ErrMalformed, "typ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := credentials.ParseSDJWT([]byte(tc.token))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v (parsed %v)", err, tc.want, s)
			}
			if !strings.Contains(err.Error(), tc.words) {
				t.Fatalf("error %q does not mention %s", err, tc.words)
			}
		})
	}

	// Signatures: tampered, or the wrong key.
	s, err := credentials.ParseSDJWT([]byte(issued))
	if err != nil {
		t.Fatal(err)
	}
	for _, other := range algs {
		if err := s.VerifySignature(newIssuerKey(t, other, "").Public); !errors.Is(err, credentials.ErrBadSignature) {
			t.Fatalf("wrong %s key: %v", other, err)
		}
	}
	sig := strings.LastIndexByte(jwt, '.') + 3
	if s, err := credentials.ParseSDJWT([]byte(flip(issued, sig))); err == nil {
		if err := s.VerifySignature(k.Public); !errors.Is(err, credentials.ErrBadSignature) {
			t.Fatalf("tampered signature: %v", err)
		}
	}
}

func TestSDJWTKeyBinding(t *testing.T) {
	for _, alg := range algs {
		t.Run(string(alg), func(t *testing.T) {
			k := newIssuerKey(t, alg, "")
			holder := newHolder(t, alg)
			c := preparedSample(t, "referral.json", k)
			issued, err := credentials.IssueSDJWT(c, k, testNow, credentials.SDJWTOptions{Holder: holder.Public()})
			if err != nil {
				t.Fatal(err)
			}
			present := func(disclose ...string) string {
				p, err := credentials.PresentSDJWT(issued, disclose, holder, testAud, testNonce, testNow)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			good := present("registrationId", "service")
			kbOf := func(p string) string { return p[strings.LastIndexByte(p, '~')+1:] }
			withoutKBOf := func(p string) string { return p[:strings.LastIndexByte(p, '~')+1] }
			withoutKB := withoutKBOf(good)
			other := newHolder(t, alg)
			// A key-binding JWT with the right claims, signed by another key.
			forgedKB := signJOSE(t, map[string]any{
				"iat": testNow.Unix(), "aud": testAud, "nonce": testNonce,
				"sd_hash": func() string {
					s := sha256.Sum256([]byte(withoutKB))
					return base64.RawURLEncoding.EncodeToString(s[:])
				}(),
			}, &credentials.Key{Alg: alg, Signer: other}, map[string]any{"typ": "kb+jwt"})

			for _, tc := range []struct {
				name, pres, aud, nonce string
				now                    time.Time
				want                   error
			}{
				{"good", good, testAud, testNonce, testNow, nil},
				{"within skew", good, testAud, testNonce, testNow.Add(-4 * time.Minute), nil},
				{"other audience", good, "https://elsewhere.example/verify", testNonce, testNow, credentials.ErrKeyBindingAudience},
				{"other nonce", good, testAud, "another-nonce", testNow, credentials.ErrKeyBindingNonce},
				{"stale", good, testAud, testNonce, testNow.Add(10 * time.Minute), credentials.ErrKeyBindingTime},
				{"from the future", good, testAud, testNonce, testNow.Add(-10 * time.Minute), credentials.ErrKeyBindingTime},
				{"no key binding", withoutKB, testAud, testNonce, testNow, credentials.ErrNoKeyBinding},
				{"replayed onto other disclosures", withoutKBOf(present("registrationId", "reason")) + kbOf(good), testAud, testNonce, testNow, credentials.ErrKeyBindingHash},
				{"signed by another key", withoutKB + forgedKB, testAud, testNonce, testNow, credentials.ErrBadSignature},
			} {
				t.Run(tc.name, func(t *testing.T) {
					s, err := credentials.ParseSDJWT([]byte(tc.pres))
					if err != nil {
						t.Fatal(err)
					}
					if err := s.VerifySignature(k.Public); err != nil {
						t.Fatal(err)
					}
					err = s.VerifyKeyBinding(tc.aud, tc.nonce, tc.now, 5*time.Minute)
					if !errors.Is(err, tc.want) {
						t.Fatalf("VerifyKeyBinding = %v, want %v", err, tc.want)
					}
				})
			}

			// The holder side refuses what cannot be bound.
			if _, err := credentials.PresentSDJWT(issued, nil, other, testAud, testNonce, testNow); err == nil {
				t.Fatal("presented with a key the credential is not bound to")
			}
			if _, err := credentials.PresentSDJWT(good, nil, holder, testAud, testNonce, testNow); err == nil {
				t.Fatal("presented a presentation again")
			}
			if _, err := credentials.PresentSDJWT(issued, nil, holder, "", "", testNow); err == nil {
				t.Fatal("key binding without audience and nonce")
			}
			unbound, _ := credentials.IssueSDJWT(c, k, testNow, credentials.SDJWTOptions{})
			if _, err := credentials.PresentSDJWT(unbound, nil, holder, testAud, testNonce, testNow); err == nil {
				t.Fatal("key binding of an unbound credential")
			}
			// An unbound credential needs no key binding, and may not have one.
			s, err := credentials.ParseSDJWT([]byte(unbound))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.VerifyKeyBinding(testAud, testNonce, testNow, 0); err != nil {
				t.Fatal(err)
			}
			s, err = credentials.ParseSDJWT([]byte(unbound + kbOf(good)))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.VerifyKeyBinding(testAud, testNonce, testNow, 0); err == nil {
				t.Fatal("a key-binding JWT on an unbound credential passed")
			}
		})
	}
}
