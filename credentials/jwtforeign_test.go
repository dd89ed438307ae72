package credentials_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
)

// Credentials of other issuers, of types tally does not define, secured as
// JWTs the way other implementations do it, signed with jwx.

var (
	foreignFrom  = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	foreignUntil = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	// holderDID is the subject of the foreign credentials: it must never
	// appear in an error message.
	holderDID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
)

// alumniV2 is a VCDM 2.0 credential as VC-JOSE-COSE secures it: the
// payload is the credential, with JWT claims beside it.
func alumniV2(k *credentials.Key) map[string]any {
	return map[string]any{
		"@context":   []any{credentials.BaseContext, "https://www.w3.org/ns/credentials/examples/v2"},
		"id":         "http://university.example/credentials/1872",
		"type":       []any{"VerifiableCredential", "ExampleAlumniCredential"},
		"issuer":     map[string]any{"id": k.DID, "name": "Example University"},
		"validFrom":  foreignFrom.Format(time.RFC3339),
		"validUntil": foreignUntil.Format(time.RFC3339),
		"credentialSchema": map[string]any{
			"id": "https://example.org/examples/degree.json", "type": "JsonSchema",
		},
		"credentialSubject": map[string]any{
			"id":       holderDID,
			"alumniOf": map[string]any{"name": "Example University", "address": map[string]any{"country": "KE"}},
		},
		"credentialStatus": []any{
			map[string]any{
				"id": "https://university.example/status/3#94567", "type": "BitstringStatusListEntry",
				"statusPurpose": "revocation", "statusListIndex": "94567",
				"statusListCredential": "https://university.example/status/3",
			},
			map[string]any{
				"id": "https://university.example/status/9#12", "type": "BitstringStatusListEntry",
				"statusPurpose": "message", "statusListIndex": "12", "statusSize": 2,
				"statusListCredential": "https://university.example/status/9",
			},
		},
		"iss": k.DID,
		"iat": testNow.Unix(),
	}
}

// didJWTVC is a VCDM 1.1 JWT as did-jwt-vc issues it: header alg and typ
// JWT, no kid; the credential in vc, with issuer, issuanceDate,
// expirationDate, id and the subject's id moved to iss, nbf, exp, jti and
// sub.
func didJWTVC(k *credentials.Key) (map[string]any, map[string]any) {
	return map[string]any{"typ": "JWT"}, map[string]any{
		"iat": testNow.Unix(),
		"vc": map[string]any{
			"@context": []any{credentials.BaseContextV1, "https://www.w3.org/2018/credentials/examples/v1"},
			"type":     []any{"VerifiableCredential", "UniversityDegreeCredential"},
			"credentialSubject": map[string]any{
				"degree": map[string]any{"type": "BachelorDegree", "name": "Baccalauréat en musiques numériques"},
			},
		},
		"sub": holderDID,
		"jti": "urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5",
		"nbf": foreignFrom.Unix(),
		"exp": foreignUntil.Unix(),
		"iss": k.DID,
	}
}

// entraVC is a VCDM 1.1 JWT shaped as Microsoft Entra Verified ID issues
// them: typ JWT, kid a DID URL of a did:web issuer, a RevocationList2021Status
// entry whose index is a number, an exchangeService member, and the
// credential's dates only in the JWT claims.
func entraVC(k *credentials.Key) (map[string]any, map[string]any) {
	return map[string]any{"typ": "JWT", "kid": k.ID}, map[string]any{
		"vc": map[string]any{
			"@context": []any{credentials.BaseContextV1},
			"type":     []any{"VerifiableCredential", "VerifiedEmployee"},
			"credentialSubject": map[string]any{
				"displayName": "Amina Yusuf", "givenName": "Amina", "jobTitle": "Field officer",
			},
			"credentialStatus": map[string]any{
				"id":                   "urn:uuid:7facf41c-1dc5-486b-87e6-587d015e76d7?bit-index=12",
				"type":                 "RevocationList2021Status",
				"statusListIndex":      12,
				"statusListCredential": k.DID + "?service=IdentityHub&queries=W3sibWV0aG9kIjoiQ29sbGVjdGlvbnNRdWVyeSJ9XQ",
			},
			"exchangeService": map[string]any{
				"id": "https://beta.did.msidentity.com/v1.0/tenants/x/verifiableCredentials/exchange", "type": "PortableIdentityCardServiceExchange2020",
			},
		},
		"jti": "urn:pic:80a509d2de3a4f2b9f2d4c8a7f1b6b7e",
		"iss": k.DID,
		"sub": holderDID,
		"iat": testNow.Unix(),
		"exp": foreignUntil.Unix(),
	}
}

// parseForeign parses and verifies a foreign VC-JWT, and returns its view.
func parseForeign(t *testing.T, token string, k *credentials.Key) (*credentials.JWT, *credentials.View) {
	t.Helper()
	j, err := credentials.ParseJWT([]byte(token))
	if err != nil {
		t.Fatal(err)
	}
	if err := j.VerifySignature(k.Public); err != nil {
		t.Fatal(err)
	}
	if j.Credential() != nil {
		t.Fatalf("a foreign credential parsed as tally's %s", j.Credential().Type)
	}
	return j, j.View()
}

func claimsOf(t *testing.T, v *credentials.View) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(v.Claims, &m); err != nil {
		t.Fatalf("claims %s: %v", v.Claims, err)
	}
	return m
}

func TestForeignJWTVCDM20(t *testing.T) {
	for _, alg := range algs {
		k := newIssuerKey(t, alg, "did:web:university.example")
		for _, tc := range []struct {
			name   string
			header map[string]any
			edit   func(p map[string]any)
			check  func(t *testing.T, v *credentials.View)
		}{
			{"as VC-JOSE-COSE writes it", map[string]any{"typ": "vc+jwt", "cty": "vc", "kid": k.ID}, nil, nil},
			{"typ vc-ld+jwt, no JWT claims", map[string]any{"typ": "vc-ld+jwt"}, func(p map[string]any) {
				delete(p, "iss")
				delete(p, "iat")
			}, nil},
			{"issuer a string, one status entry, one subject in a list", nil, func(p map[string]any) {
				p["issuer"] = k.DID
				p["credentialStatus"] = p["credentialStatus"].([]any)[0]
				p["credentialSubject"] = []any{p["credentialSubject"]}
			}, func(t *testing.T, v *credentials.View) {
				if len(v.UncheckedStatus) != 0 || !strings.HasPrefix(string(v.Claims), "[") {
					t.Fatalf("unchecked %s claims %s", v.UncheckedStatus, v.Claims)
				}
			}},
			{"exp narrows validUntil, nbf narrows validFrom", nil, func(p map[string]any) {
				p["exp"] = foreignUntil.Add(-24 * time.Hour).Unix()
				p["nbf"] = foreignFrom.Add(time.Hour).Unix()
			}, func(t *testing.T, v *credentials.View) {
				if !v.ValidUntil.Equal(foreignUntil.Add(-24*time.Hour)) || !v.ValidFrom.Equal(foreignFrom.Add(time.Hour)) {
					t.Fatalf("validity %s to %s", v.ValidFrom, v.ValidUntil)
				}
			}},
			{"exp later than validUntil does not widen it", nil, func(p map[string]any) {
				p["exp"] = foreignUntil.Add(24 * time.Hour).Unix()
			}, nil},
			{"sub is the subject's id, jti the credential's", nil, func(p map[string]any) {
				p["sub"] = holderDID
				p["jti"] = p["id"]
			}, nil},
		} {
			t.Run(string(alg)+"/"+tc.name, func(t *testing.T) {
				p := alumniV2(k)
				if tc.edit != nil {
					tc.edit(p)
				}
				j, v := parseForeign(t, signJOSE(t, p, k, tc.header), k)
				if j.Format() != credentials.FormatJWT || j.Issuer() != k.DID || v.Issuer != k.DID ||
					v.ID != "http://university.example/credentials/1872" ||
					!slices.Equal(v.Types, []string{"VerifiableCredential", "ExampleAlumniCredential"}) {
					t.Fatalf("issuer %s view %+v", j.Issuer(), v)
				}
				if tc.header != nil && tc.header["kid"] != nil && j.KeyID() != k.ID {
					t.Fatalf("kid %q", j.KeyID())
				}
				if len(v.Status) != 1 || v.Status[0].Purpose != "revocation" || v.Status[0].Index != 94567 ||
					v.Status[0].ListCredential != "https://university.example/status/3" {
					t.Fatalf("status %+v", v.Status)
				}
				if tc.check != nil {
					tc.check(t, v)
					return
				}
				if !v.ValidFrom.Equal(foreignFrom) || !v.ValidUntil.Equal(foreignUntil) {
					t.Fatalf("validity %s to %s", v.ValidFrom, v.ValidUntil)
				}
				if c := claimsOf(t, v); c["id"] != holderDID || c["alumniOf"].(map[string]any)["name"] != "Example University" {
					t.Fatalf("claims %v", c)
				}
				// The message-purpose entry is kept, and said to be unchecked.
				var unchecked []map[string]any
				if err := json.Unmarshal(v.UncheckedStatus, &unchecked); err != nil || len(unchecked) != 1 || unchecked[0]["statusPurpose"] != "message" {
					t.Fatalf("unchecked status %s (%v)", v.UncheckedStatus, err)
				}
				if !slices.Contains(v.Skipped, "credentialSchema") || !slices.ContainsFunc(v.Skipped, func(s string) bool {
					return strings.HasPrefix(s, "credentialStatus[1]") && strings.Contains(s, "not checked")
				}) {
					t.Fatalf("skipped %q", v.Skipped)
				}
			})
		}
	}
}

func TestForeignJWTVCDM11(t *testing.T) {
	for _, alg := range algs {
		t.Run(string(alg)+"/did-jwt-vc", func(t *testing.T) {
			k := newIssuerKey(t, alg, "")
			header, payload := didJWTVC(k)
			j, v := parseForeign(t, signJOSE(t, payload, k, header), k)
			if j.KeyID() != "" || v.Issuer != k.DID || v.ID != "urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5" ||
				!v.ValidFrom.Equal(foreignFrom) || !v.ValidUntil.Equal(foreignUntil) || !j.IssuedAt().Equal(testNow) ||
				!slices.Equal(v.Types, []string{"VerifiableCredential", "UniversityDegreeCredential"}) {
				t.Fatalf("kid %q view %+v", j.KeyID(), v)
			}
			// sub is the subject's id (VCDM 1.1 section 6.3.1).
			if c := claimsOf(t, v); c["id"] != holderDID || c["degree"].(map[string]any)["type"] != "BachelorDegree" {
				t.Fatalf("claims %s", v.Claims)
			}
			if len(v.Status) != 0 || v.UncheckedStatus != nil || len(v.Skipped) != 0 {
				t.Fatalf("status %v %s skipped %q", v.Status, v.UncheckedStatus, v.Skipped)
			}
		})
		t.Run(string(alg)+"/Entra", func(t *testing.T) {
			k := newIssuerKey(t, alg, "did:web:verifiedid.contoso.example")
			header, payload := entraVC(k)
			j, v := parseForeign(t, signJOSE(t, payload, k, header), k)
			if j.KeyID() != k.ID || v.Issuer != k.DID || v.ID != "urn:pic:80a509d2de3a4f2b9f2d4c8a7f1b6b7e" ||
				!v.ValidFrom.IsZero() || !v.ValidUntil.Equal(foreignUntil) {
				t.Fatalf("kid %q view %+v", j.KeyID(), v)
			}
			if c := claimsOf(t, v); c["id"] != holderDID || c["jobTitle"] != "Field officer" {
				t.Fatalf("claims %s", v.Claims)
			}
			var unchecked []map[string]any
			if err := json.Unmarshal(v.UncheckedStatus, &unchecked); err != nil || len(unchecked) != 1 || unchecked[0]["type"] != "RevocationList2021Status" {
				t.Fatalf("unchecked %s", v.UncheckedStatus)
			}
			if !slices.Contains(v.Skipped, "vc.exchangeService") || len(v.Status) != 0 {
				t.Fatalf("skipped %q status %v", v.Skipped, v.Status)
			}
		})
		t.Run(string(alg)+"/a VCDM 2.0 credential in a vc claim", func(t *testing.T) {
			k := newIssuerKey(t, alg, "")
			header, payload := didJWTVC(k)
			vc := payload["vc"].(map[string]any)
			vc["@context"] = []any{credentials.BaseContext}
			vc["validUntil"] = foreignUntil.Format(time.RFC3339)
			_, v := parseForeign(t, signJOSE(t, payload, k, header), k)
			if !v.ValidFrom.Equal(foreignFrom) || !v.ValidUntil.Equal(foreignUntil) || v.Issuer != k.DID {
				t.Fatalf("view %+v", v)
			}
			vc["validUntil"] = foreignUntil.Add(time.Hour).Format(time.RFC3339)
			if _, err := credentials.ParseJWT([]byte(signJOSE(t, payload, k, header))); !errors.Is(err, credentials.ErrMalformed) || !strings.Contains(err.Error(), "validUntil") {
				t.Fatalf("exp is not validUntil: %v", err)
			}
		})
		t.Run(string(alg)+"/members and claims both, agreeing", func(t *testing.T) {
			k := newIssuerKey(t, alg, "")
			header, payload := didJWTVC(k)
			vc := payload["vc"].(map[string]any)
			vc["issuer"] = map[string]any{"id": k.DID}
			vc["id"] = payload["jti"]
			vc["issuanceDate"] = foreignFrom.Add(500 * time.Millisecond).Format(time.RFC3339Nano)
			vc["expirationDate"] = foreignUntil.Format(time.RFC3339)
			vc["credentialSubject"].(map[string]any)["id"] = holderDID
			_, v := parseForeign(t, signJOSE(t, payload, k, header), k)
			if !v.ValidFrom.Equal(foreignFrom.Add(500*time.Millisecond)) || !v.ValidUntil.Equal(foreignUntil) {
				t.Fatalf("validity %s to %s", v.ValidFrom, v.ValidUntil)
			}
		})
	}
}

func TestForeignJWTRejects(t *testing.T) {
	k := newIssuerKey(t, credentials.EdDSA, "")
	other := newIssuerKey(t, credentials.EdDSA, "")
	v2 := func(edit func(p map[string]any)) map[string]any {
		p := alumniV2(k)
		edit(p)
		return p
	}
	v11 := func(edit func(p, vc map[string]any)) map[string]any {
		_, p := didJWTVC(k)
		edit(p, p["vc"].(map[string]any))
		return p
	}
	deep := any("bottom")
	for range 40 {
		deep = map[string]any{"x": deep}
	}
	wide := make([]any, 5000)
	for i := range wide {
		wide[i] = i
	}
	for _, tc := range []struct {
		name    string
		payload map[string]any
		header  map[string]any
		want    error
		words   string
	}{
		{"vc.issuer is not iss", v11(func(p, vc map[string]any) { vc["issuer"] = other.DID }), nil, credentials.ErrMalformed, "iss"},
		{"vc.id is not jti", v11(func(p, vc map[string]any) { vc["id"] = "urn:uuid:other" }), nil, credentials.ErrMalformed, "jti"},
		{"subject id is not sub", v11(func(p, vc map[string]any) {
			vc["credentialSubject"].(map[string]any)["id"] = "did:example:someone-else"
		}), nil, credentials.ErrMalformed, "sub"},
		{"sub with several subjects", v11(func(p, vc map[string]any) {
			vc["credentialSubject"] = []any{map[string]any{"a": 1}, map[string]any{"b": 2}}
		}), nil, credentials.ErrMalformed, "sub"},
		{"issuanceDate is not nbf", v11(func(p, vc map[string]any) { vc["issuanceDate"] = "2025-06-01T00:00:00Z" }), nil, credentials.ErrMalformed, "issuanceDate"},
		{"expirationDate is not exp", v11(func(p, vc map[string]any) { vc["expirationDate"] = "2030-06-01T00:00:00Z" }), nil, credentials.ErrMalformed, "expirationDate"},
		{"v2 context after v1", v11(func(p, vc map[string]any) {
			vc["@context"] = []any{credentials.BaseContextV1, credentials.BaseContext}
		}), nil, credentials.ErrMalformed, "JSON-LD refuses"},
		{"v1 context after v2", v2(func(p map[string]any) {
			p["@context"] = []any{credentials.BaseContext, credentials.BaseContextV1}
		}), nil, credentials.ErrMalformed, "JSON-LD refuses"},
		{"VCDM 1.1 as the payload", v2(func(p map[string]any) { p["@context"] = []any{credentials.BaseContextV1} }), nil, credentials.ErrMalformed, "vc claim"},
		{"no @context", v2(func(p map[string]any) { delete(p, "@context") }), nil, credentials.ErrMalformed, "@context"},
		{"another first context", v2(func(p map[string]any) { p["@context"] = []any{"https://example.org/ctx", credentials.BaseContext} }), nil, credentials.ErrMalformed, "@context"},
		{"a context object first", v2(func(p map[string]any) { p["@context"] = []any{map[string]any{"@vocab": "https://example.org#"}} }), nil, credentials.ErrMalformed, "@context"},
		{"no VerifiableCredential type", v2(func(p map[string]any) { p["type"] = "ExampleAlumniCredential" }), nil, credentials.ErrMalformed, "VerifiableCredential"},
		{"no issuer", v2(func(p map[string]any) { delete(p, "issuer"); delete(p, "iss") }), nil, credentials.ErrMalformed, "issuer"},
		{"iss is not issuer", v2(func(p map[string]any) { p["iss"] = other.DID }), nil, credentials.ErrMalformed, "iss"},
		{"jti is not id", v2(func(p map[string]any) { p["jti"] = "urn:uuid:other" }), nil, credentials.ErrMalformed, "jti"},
		{"sub is not the subject's id", v2(func(p map[string]any) { p["sub"] = "did:example:someone-else" }), nil, credentials.ErrMalformed, "sub"},
		{"no subject", v2(func(p map[string]any) { delete(p, "credentialSubject") }), nil, credentials.ErrMalformed, "credentialSubject"},
		{"subject a string", v2(func(p map[string]any) { p["credentialSubject"] = holderDID }), nil, credentials.ErrMalformed, "credentialSubject"},
		{"validUntil not a date", v2(func(p map[string]any) { p["validUntil"] = "next year" }), nil, credentials.ErrMalformed, "validUntil"},
		{"status index not digits", v2(func(p map[string]any) {
			p["credentialStatus"].([]any)[0].(map[string]any)["statusListIndex"] = 94567
		}), nil, credentials.ErrMalformed, "credentialStatus"},
		{"revocation entry of two bits", v2(func(p map[string]any) {
			p["credentialStatus"].([]any)[0].(map[string]any)["statusSize"] = 2
		}), nil, credentials.ErrMalformed, "statusSize"},
		{"revocation entry without list", v2(func(p map[string]any) {
			delete(p["credentialStatus"].([]any)[0].(map[string]any), "statusListCredential")
		}), nil, credentials.ErrMalformed, "statusListCredential"},
		{"vc claim and members", v2(func(p map[string]any) { p["vc"] = map[string]any{"type": "VerifiableCredential"} }), nil, credentials.ErrMalformed, "vc claim"},
		{"a presentation", map[string]any{"vp": map[string]any{"type": "VerifiablePresentation"}, "iss": k.DID}, nil, credentials.ErrMalformed, "presentation"},
		{"kid of another DID", v2(func(p map[string]any) {}), map[string]any{"kid": other.ID}, credentials.ErrMalformed, "kid"},
		{"nested too deep", v2(func(p map[string]any) { p["credentialSubject"].(map[string]any)["deep"] = deep }), nil, credentials.ErrMalformed, "deep"},
		{"too many values", v2(func(p map[string]any) { p["credentialSubject"].(map[string]any)["wide"] = wide }), nil, credentials.ErrMalformed, "more than"},
		{"typ of an SD-JWT", v2(func(p map[string]any) {}), map[string]any{"typ": "dc+sd-jwt"}, credentials.ErrMalformed, "typ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := credentials.ParseJWT([]byte(signJOSE(t, tc.payload, k, tc.header)))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v (parsed %+v)", err, tc.want, j)
			}
			if !strings.Contains(err.Error(), tc.words) {
				t.Fatalf("error %q does not mention %q", err, tc.words)
			}
			if strings.Contains(err.Error(), holderDID) || strings.Contains(err.Error(), "someone-else") {
				t.Fatalf("error %q quotes the holder's identifier", err)
			}
		})
	}

	// Members the fast decoder would skip must still be JSON: the claims
	// are handed on as they came.
	token := signJOSE(t, []byte(`{"@context":["`+credentials.BaseContext+`"],"type":"VerifiableCredential","issuer":"`+k.DID+`","credentialSubject":{"n":00}}`), k, nil)
	if _, err := credentials.ParseJWT([]byte(token)); !errors.Is(err, credentials.ErrMalformed) {
		t.Fatalf("a subject that is not JSON: %v", err)
	}
}

func TestForeignJWTTampered(t *testing.T) {
	k := newIssuerKey(t, credentials.EdDSA, "")
	_, payload := didJWTVC(k)
	token := signJOSE(t, payload, k, nil)
	parts := strings.Split(token, ".")
	p := decodeSegment(t, parts[1])
	p["exp"] = foreignUntil.Add(365 * 24 * time.Hour).Unix()
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(mustJSON(t, p)))
	j, err := credentials.ParseJWT([]byte(strings.Join(parts, ".")))
	if err != nil {
		t.Fatal(err)
	}
	if err := j.VerifySignature(k.Public); !errors.Is(err, credentials.ErrBadSignature) {
		t.Fatalf("a payload changed after signing: %v", err)
	}
	if err := j.VerifySignature(newIssuerKey(t, credentials.EdDSA, "").Public); !errors.Is(err, credentials.ErrBadSignature) {
		t.Fatalf("another key: %v", err)
	}
}

// Each View is the caller's own: changing one changes no other.
func TestForeignJWTViewIsACopy(t *testing.T) {
	k := newIssuerKey(t, credentials.EdDSA, "")
	j, v := parseForeign(t, signJOSE(t, alumniV2(k), k, nil), k)
	v.Types[0] = "Changed"
	v.Claims[0] = ' '
	v.Status[0].Index = 1
	again := j.View()
	if again.Types[0] != "VerifiableCredential" || again.Claims[0] != '{' || again.Status[0].Index != 94567 {
		t.Fatalf("the view changed: %+v", again)
	}
}
