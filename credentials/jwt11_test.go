package credentials_test

import (
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/trustbloc/vc-go/verifiable"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/vcgopeer"
)

// boundSample is a prepared sample bound to a holder's did:key, as a
// wallet receives it.
func boundSample(t testing.TB, name string, k *credentials.Key) (*credentials.Credential, string) {
	t.Helper()
	c := preparedSample(t, name, k)
	holder := newIssuerKey(t, credentials.ES256, "").DID
	switch s := c.Subject.(type) {
	case *credentials.Registration:
		s.ID = holder
	case *credentials.Eligibility:
		s.ID = holder
	case *credentials.Referral:
		s.ID = holder
	}
	return c, holder
}

// TestJWT11Shape checks the VCDM 1.1 JWT against VCDM 1.1 section 6.3.1
// and OpenID4VCI 1.0 Appendix A.1.1, and reads it back.
func TestJWT11Shape(t *testing.T) {
	for _, alg := range algs {
		k := newIssuerKey(t, alg, "did:web:dadaab.example.org")
		for _, name := range samples {
			t.Run(string(alg)+"/"+name, func(t *testing.T) {
				c, holder := boundSample(t, name, k)
				token, err := credentials.IssueJWT11(c, k)
				if err != nil {
					t.Fatal(err)
				}
				parts := strings.Split(token, ".")
				h := decodeSegment(t, parts[0])
				if h["alg"] != string(alg) || h["typ"] != "JWT" || h["kid"] != k.ID || h["cty"] != nil || len(h) != 3 {
					t.Fatalf("header %v", h)
				}
				p := decodeSegment(t, parts[1])
				if p["iss"] != k.DID || p["sub"] != holder || p["jti"] != c.ID || p["iat"] != nil ||
					p["nbf"] != float64(c.ValidFrom.Unix()) || p["exp"] != float64(c.ValidUntil.Unix()) {
					t.Fatalf("JWT claims %v", p)
				}
				for _, member := range []string{"@context", "type", "credentialSubject", "validFrom"} {
					if _, ok := p[member]; ok {
						t.Fatalf("the payload has the credential member %s beside the vc claim", member)
					}
				}
				vc, _ := p["vc"].(map[string]any)
				ctx, _ := vc["@context"].([]any)
				if len(ctx) != 2 || ctx[0] != "https://www.w3.org/2018/credentials/v1" {
					t.Fatalf("vc @context %v", vc["@context"])
				}
				if _, inline := ctx[1].(map[string]any); !inline {
					t.Fatalf("tally's context is not inline: %v", ctx[1])
				}
				types, _ := vc["type"].([]any)
				if len(types) != 2 || types[0] != "VerifiableCredential" || types[1] != string(c.Type) {
					t.Fatalf("vc type %v", vc["type"])
				}
				if vc["id"] != c.ID || vc["issuer"] != k.DID ||
					vc["issuanceDate"] != c.ValidFrom.Format("2006-01-02T15:04:05Z") ||
					vc["expirationDate"] != c.ValidUntil.Format("2006-01-02T15:04:05Z") {
					t.Fatalf("vc envelope %v", vc)
				}
				if _, ok := vc["validFrom"]; ok {
					t.Fatal("a VCDM 1.1 credential with validFrom")
				}
				subject, _ := vc["credentialSubject"].(map[string]any)
				if subject["id"] != holder || subject["dedupSeed"] == nil || subject["registrationId"] != credentials.SubjectRegistrationID(c.Subject) {
					t.Fatalf("vc credentialSubject %v", subject)
				}
				status, _ := vc["credentialStatus"].([]any)
				if len(status) != 2 || status[0].(map[string]any)["type"] != "BitstringStatusListEntry" {
					t.Fatalf("vc credentialStatus %v", vc["credentialStatus"])
				}

				// tally reads it as its own type, with its seed and status.
				j, err := credentials.ParseJWT([]byte(token))
				if err != nil {
					t.Fatal(err)
				}
				if err := j.VerifySignature(k.Public); err != nil {
					t.Fatal(err)
				}
				got := j.Credential()
				if got == nil || j.KeyID() != k.ID || !j.IssuedAt().IsZero() {
					t.Fatalf("credential %v, kid %s, iat %s", got, j.KeyID(), j.IssuedAt())
				}
				want := *c
				want.Context = credentials.DefaultContextV1()
				if a, b := mustJSON(t, got), mustJSON(t, &want); a != b {
					t.Fatalf("read back:\n got %s\nwant %s", a, b)
				}
				if !got.ValidFrom.Equal(c.ValidFrom) || !got.ValidUntil.Equal(c.ValidUntil) ||
					len(got.Status) != 2 || string(credentials.SubjectSeed(got.Subject)) != string(credentials.SubjectSeed(c.Subject)) {
					t.Fatalf("read back %+v", got)
				}
				// The credential read encodes and decodes to itself (VCDM 1.1 JSON).
				var again credentials.Credential
				if err := again.UnmarshalJSON([]byte(mustJSON(t, got))); err != nil || mustJSON(t, &again) != mustJSON(t, got) {
					t.Fatalf("re-decoded: %v", err)
				}
				if err := j.VerifySignature(newIssuerKey(t, alg, "").Public); !errors.Is(err, credentials.ErrBadSignature) {
					t.Fatalf("another key: %v", err)
				}
			})
		}
	}
}

// TestVcGoVerifiesTallyJWT11: trustbloc/vc-go reads the VCDM 1.1 JWT
// natively, with its proof check.
func TestVcGoVerifiesTallyJWT11(t *testing.T) {
	for _, alg := range algs {
		k := newIssuerKey(t, alg, "")
		trust := vcgopeer.Keys{k.ID: k.Public}
		for _, name := range samples {
			t.Run(string(alg)+"/"+name, func(t *testing.T) {
				c, holder := boundSample(t, name, k)
				token, err := credentials.IssueJWT11(c, k)
				if err != nil {
					t.Fatal(err)
				}
				vc, err := verifiable.ParseCredential([]byte(token), vcgopeer.ParseOptions(trust)...)
				if err != nil {
					t.Fatalf("vc-go rejects tally's VCDM 1.1 JWT: %v", err)
				}
				got := vc.Contents()
				if got.Issuer == nil || got.Issuer.ID != k.DID || got.ID != c.ID || len(got.Context) == 0 ||
					got.Context[0] != verifiable.V1ContextURI || !strings.Contains(strings.Join(got.Types, " "), string(c.Type)) {
					t.Fatalf("vc-go read %+v", got)
				}
				if len(got.Subject) != 1 || got.Subject[0].ID != holder ||
					got.Subject[0].CustomFields["registrationId"] != credentials.SubjectRegistrationID(c.Subject) {
					t.Fatalf("vc-go read subject %+v", got.Subject)
				}
				if got.Issued == nil || !got.Issued.Time.Equal(c.ValidFrom) || got.Expired == nil || !got.Expired.Time.Equal(c.ValidUntil) {
					t.Fatalf("vc-go read issuanceDate %v, expirationDate %v", got.Issued, got.Expired)
				}
				if len(got.Status) != 2 || got.Status[0].Type != credentials.StatusEntryType {
					t.Fatalf("vc-go read credentialStatus %+v", got.Status)
				}
				if vc.JWTEnvelope == nil || vc.JWTEnvelope.JWTHeaders["typ"] != "JWT" {
					t.Fatalf("vc-go read no JWT envelope: %+v", vc.JWTEnvelope)
				}
				dot := strings.LastIndexByte(token, '.')
				for _, bad := range []string{flip(token, dot+5), flip(token, dot-10)} {
					if _, err := verifiable.ParseCredential([]byte(bad), vcgopeer.ParseOptions(trust)...); err == nil {
						t.Fatal("vc-go accepted a tampered token")
					}
				}
			})
		}
	}
}

// TestJWT11Variants: VCDM 1.1 lets the registered claims stand instead of
// the members they encode; tally reads either, and refuses claims and
// members that disagree, and mixed shapes.
func TestJWT11Variants(t *testing.T) {
	k := newIssuerKey(t, credentials.EdDSA, "")
	c, holder := boundSample(t, "registration.json", k)
	c.Context = credentials.DefaultContextV1()
	full := credentialMap(t, c)
	claims := func(vc map[string]any) map[string]any {
		return map[string]any{"vc": vc, "iss": k.DID, "sub": holder, "jti": c.ID, "nbf": c.ValidFrom.Unix(), "exp": c.ValidUntil.Unix()}
	}
	edit := func(f func(vc, p map[string]any)) string {
		vc := credentialMap(t, c)
		p := claims(vc)
		f(vc, p)
		return signJOSE(t, p, k, map[string]any{"typ": "JWT", "kid": k.ID})
	}
	if full["issuanceDate"] == nil || full["validFrom"] != nil {
		t.Fatalf("a credential with the VCDM 1.1 context encodes as %v", full)
	}

	// The claims alone carry issuer, id, validity and the subject's id.
	minimal := edit(func(vc, _ map[string]any) {
		for _, m := range []string{"issuer", "id", "issuanceDate", "expirationDate"} {
			delete(vc, m)
		}
		delete(vc["credentialSubject"].(map[string]any), "id")
	})
	j, err := credentials.ParseJWT([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := mustJSON(t, j.Credential()), mustJSON(t, c); a != b {
		t.Fatalf("from the claims:\n got %s\nwant %s", a, b)
	}

	for _, bad := range []struct {
		name, token, want string
	}{
		{"sub not the subject's id", edit(func(_, p map[string]any) { p["sub"] = newIssuerKey(t, credentials.EdDSA, "").DID }), "sub"},
		{"nbf not issuanceDate", edit(func(_, p map[string]any) { p["nbf"] = c.ValidFrom.Unix() + 60 }), "nbf"},
		{"exp not expirationDate", edit(func(_, p map[string]any) { p["exp"] = c.ValidUntil.Unix() - 60 }), "exp"},
		{"iss not issuer", edit(func(_, p map[string]any) { p["iss"] = "did:web:other.example" }), "iss"},
		{"validFrom in VCDM 1.1", edit(func(vc, _ map[string]any) { vc["validFrom"] = vc["issuanceDate"] }), "validFrom"},
		{"issuanceDate not a date", edit(func(vc, _ map[string]any) { vc["issuanceDate"] = "soon" }), "issuanceDate"},
		{"both base contexts", edit(func(vc, _ map[string]any) {
			vc["@context"] = append(vc["@context"].([]any), credentials.BaseContext)
		}), "@context"},
		{"VCDM 1.1 outside a vc claim", signJOSE(t, func() map[string]any {
			p := credentialMap(t, c)
			p["iss"] = k.DID
			return p
		}(), k, map[string]any{"kid": k.ID}), "@context"},
		{"an unknown subject claim", edit(func(vc, _ map[string]any) {
			vc["credentialSubject"].(map[string]any)["shoeSize"] = 42
		}), "shoeSize"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			_, err := credentials.ParseJWT([]byte(bad.token))
			if !errors.Is(err, credentials.ErrMalformed) || !strings.Contains(err.Error(), bad.want) {
				t.Fatalf("got %v, want an ErrMalformed naming %s", err, bad.want)
			}
			if strings.Contains(err.Error(), holder) {
				t.Fatalf("the error quotes the holder's DID: %v", err)
			}
		})
	}
}

func TestIssueJWT11Refuses(t *testing.T) {
	k := newIssuerKey(t, credentials.EdDSA, "")
	c, _ := boundSample(t, "registration.json", k)
	other := newIssuerKey(t, credentials.EdDSA, "")
	if _, err := credentials.IssueJWT11(c, other); err == nil {
		t.Fatal("signed a credential of another issuer")
	}
	bad := *c
	bad.Subject = &credentials.Registration{}
	if _, err := credentials.IssueJWT11(&bad, k); err == nil {
		t.Fatal("signed an invalid credential")
	}
	// A credential read from a VCDM 1.1 JWT is not a VC-JWT's (VCDM 2.0).
	v1 := *c
	v1.Context = credentials.DefaultContextV1()
	if _, err := credentials.IssueJWT(&v1, k, testNow); err == nil || !strings.Contains(err.Error(), "IssueJWT11") {
		t.Fatalf("IssueJWT with the VCDM 1.1 context: %v", err)
	}
}

// The VCDM 1.1 JWT seeds of FuzzParseJWT (as tally issues it, with the
// claims standing for the members, and with the VCDM 1.1 context outside a
// vc claim) are written with
//
//	go test ./credentials -run TestJWT11FuzzCorpus -update-jwt11-fuzz
var updateJWT11Fuzz = flag.Bool("update-jwt11-fuzz", false, "rewrite the VCDM 1.1 JWT seeds of FuzzParseJWT")

func TestJWT11FuzzCorpus(t *testing.T) {
	seeds := map[string]fuzzSeed{}
	for _, alg := range algs {
		k := newIssuerKey(t, alg, "did:web:dadaab.example.org")
		for _, name := range samples {
			c, _ := boundSample(t, name, k)
			token, err := credentials.IssueJWT11(c, k)
			if err != nil {
				t.Fatal(err)
			}
			seeds["jwt11-"+string(alg)+"-"+strings.TrimSuffix(name, ".json")] = fuzzSeed{[]byte(token)}
		}
	}
	k := newIssuerKey(t, credentials.EdDSA, "")
	c, holder := boundSample(t, "registration.json", k)
	c.Context = credentials.DefaultContextV1()
	vc := credentialMap(t, c)
	for _, m := range []string{"issuer", "id", "issuanceDate", "expirationDate"} {
		delete(vc, m)
	}
	delete(vc["credentialSubject"].(map[string]any), "id")
	seeds["jwt11-claims-only"] = fuzzSeed{[]byte(signJOSE(t, map[string]any{"vc": vc, "iss": k.DID, "sub": holder, "jti": c.ID,
		"nbf": c.ValidFrom.Unix(), "exp": c.ValidUntil.Unix()}, k, map[string]any{"typ": "JWT", "kid": k.ID}))}
	top := credentialMap(t, c)
	seeds["jwt11-outside-vc"] = fuzzSeed{[]byte(signJOSE(t, top, k, map[string]any{"kid": k.ID}))}
	fuzzCorpus(t, "FuzzParseJWT", *updateJWT11Fuzz, "update-jwt11-fuzz", seeds)
}
