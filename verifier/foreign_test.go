package verifier_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	utiltime "github.com/trustbloc/did-go/doc/util/time"
	"github.com/trustbloc/kms-go/doc/jose"
	vcjwt "github.com/trustbloc/vc-go/jwt"
	"github.com/trustbloc/vc-go/verifiable"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// Credentials of types tally does not define, from issuers the trust list
// lets issue any type ('*'): verified, and decided on from the generic view.

// foreignHolder is the subject of the foreign credentials.
const foreignHolder = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"

var (
	foreignFrom  = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	foreignUntil = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
)

// signJWT signs payload with jwx, with the given protected header members.
func signJWT(t testing.TB, payload any, k *credentials.Key, header map[string]any) []byte {
	t.Helper()
	body, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
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
	return out
}

// foreignEntries are Bitstring Status List entries in the fixture's lists.
func foreignEntries(f *fixture) []any {
	var out []any
	for _, e := range credentials.StatusEntries(f.base, 3, testIndex) {
		out = append(out, map[string]any{
			"id": e.ID, "type": "BitstringStatusListEntry", "statusPurpose": e.Purpose,
			"statusListIndex": strconv.Itoa(e.Index), "statusListCredential": e.ListCredential,
		})
	}
	return out
}

// trainingV2 is a VCDM 2.0 VC-JWT of a type tally does not define, with
// the fixture issuer's status entries.
func trainingV2(f *fixture, edit func(p map[string]any)) map[string]any {
	p := map[string]any{
		"@context":          []any{credentials.BaseContext, "https://www.w3.org/ns/credentials/examples/v2"},
		"id":                "urn:uuid:0f3c6f5e-2b76-4b53-9d8e-4d2b1c7f6a10",
		"type":              []any{"VerifiableCredential", "TrainingCertificate"},
		"issuer":            map[string]any{"id": f.key.DID, "name": "Organisation A"},
		"validFrom":         foreignFrom.Format(time.RFC3339),
		"validUntil":        foreignUntil.Format(time.RFC3339),
		"credentialSubject": map[string]any{"id": foreignHolder, "course": "Psychological first aid", "hours": 16},
		"credentialStatus":  foreignEntries(f),
		"iss":               f.key.DID,
		"iat":               testNow.Unix(),
	}
	if edit != nil {
		edit(p)
	}
	return p
}

func TestVerifyForeignJWT(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	anyType := f.trustFor(t, credentials.TypeAny)
	v := f.verifier(t, verifier.Options{Trust: anyType})
	header := map[string]any{"typ": "vc+jwt", "kid": f.key.ID}

	t.Run("valid", func(t *testing.T) {
		res, err := v.Verify(ctx, signJWT(t, trainingV2(f, nil), f.key, header))
		if err != nil {
			t.Fatal(err)
		}
		view := res.View()
		if res.Credential != nil || res.Format != credentials.FormatJWT || res.IssuerDID != f.key.DID || res.KeyID != f.key.ID ||
			!view.HasType("TrainingCertificate") || !view.ValidUntil.Equal(foreignUntil) {
			t.Fatalf("result %+v view %+v", res, view)
		}
		if !res.Status.HasStatus || !res.Status.Checked || len(res.Warnings) != 0 {
			t.Fatalf("status %+v warnings %q", res.Status, res.Warnings)
		}
		var claims map[string]any
		if err := json.Unmarshal(view.Claims, &claims); err != nil || claims["course"] != "Psychological first aid" {
			t.Fatalf("claims %s", view.Claims)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		g := newFixture(t)
		g.setStatus(t, credentials.PurposeRevocation, testIndex)
		_, err := g.verifier(t, verifier.Options{Trust: g.trustFor(t, credentials.TypeAny)}).
			Verify(ctx, signJWT(t, trainingV2(g, nil), g.key, nil))
		wantReason(t, err, verifier.Revoked)
	})
	t.Run("type not allowed", func(t *testing.T) {
		_, err := f.verifier(t, verifier.Options{}).Verify(ctx, signJWT(t, trainingV2(f, nil), f.key, header))
		wantReason(t, err, verifier.TypeNotAllowed)
	})
	t.Run("expired by exp, before validUntil", func(t *testing.T) {
		p := trainingV2(f, func(p map[string]any) { p["exp"] = testNow.Add(-time.Hour).Unix() })
		_, err := v.Verify(ctx, signJWT(t, p, f.key, header))
		wantReason(t, err, verifier.Expired)
	})
	t.Run("not yet valid", func(t *testing.T) {
		p := trainingV2(f, func(p map[string]any) { p["validFrom"] = testNow.Add(24 * time.Hour).Format(time.RFC3339) })
		_, err := v.Verify(ctx, signJWT(t, p, f.key, header))
		wantReason(t, err, verifier.NotYetValid)
	})
	t.Run("another issuer named inside", func(t *testing.T) {
		stranger := testKey(t, "stranger", "did:web:stranger.example")
		p := trainingV2(f, func(p map[string]any) { p["issuer"] = stranger.DID; p["iss"] = stranger.DID })
		_, err := v.Verify(ctx, signJWT(t, p, f.key, header))
		wantReason(t, err, verifier.UntrustedIssuer, verifier.Malformed)
	})
	t.Run("signature altered", func(t *testing.T) {
		raw := signJWT(t, trainingV2(f, nil), f.key, header)
		_, err := v.Verify(ctx, flip(raw, len(raw)-5))
		wantReason(t, err, verifier.BadSignature)
	})
	t.Run("status of a kind tally does not read", func(t *testing.T) {
		p := trainingV2(f, func(p map[string]any) {
			p["credentialStatus"] = map[string]any{
				"id": "https://org-a.example/status/1#5", "type": "StatusList2021Entry", "statusPurpose": "revocation",
				"statusListIndex": "5", "statusListCredential": "https://org-a.example/status/1",
			}
		})
		res, err := v.Verify(ctx, signJWT(t, p, f.key, header))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "status not checked") || res.View().UncheckedStatus == nil {
			t.Fatalf("warnings %q", res.Warnings)
		}
	})
	t.Run("mixed contexts", func(t *testing.T) {
		p := trainingV2(f, func(p map[string]any) {
			p["@context"] = []any{credentials.BaseContext, credentials.BaseContextV1}
		})
		_, err := v.Verify(ctx, signJWT(t, p, f.key, header))
		wantReason(t, err, verifier.Malformed)
		// The Detail names the field; the wrapped error says why.
		if !strings.Contains(err.Error(), "@context") || !strings.Contains(errors.Unwrap(err).Error(), "JSON-LD refuses") {
			t.Fatalf("not a plain reason: %v (%v)", err, errors.Unwrap(err))
		}
	})
	t.Run("a contradicting sub is not quoted", func(t *testing.T) {
		p := trainingV2(f, func(p map[string]any) { p["sub"] = "did:example:someone-else" })
		_, err := v.Verify(ctx, signJWT(t, p, f.key, header))
		wantReason(t, err, verifier.Malformed)
		if strings.Contains(err.Error(), "someone-else") || strings.Contains(err.Error(), foreignHolder) {
			t.Fatalf("the error quotes a holder's identifier: %v", err)
		}
	})
}

// vcgoSigner is the proof creator vc-go signs JWTs with: EdDSA, or ES256
// with the raw r||s signature JOSE uses.
type vcgoSigner struct{ crypto.Signer }

func (s vcgoSigner) SignJWT(_ vcjwt.SignParameters, data []byte) ([]byte, error) {
	priv, ok := s.Signer.(*ecdsa.PrivateKey)
	if !ok {
		return s.Signer.Sign(nil, data, crypto.Hash(0))
	}
	digest := sha256.Sum256(data)
	r, ss, err := ecdsa.Sign(rand.Reader, priv, digest[:])
	if err != nil {
		return nil, err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	ss.FillBytes(sig[32:])
	return sig, nil
}

func (s vcgoSigner) CreateJWTHeaders(p vcjwt.SignParameters) (jose.Headers, error) {
	return jose.Headers{"alg": p.JWTAlg, "kid": p.KeyID}, nil
}

// vcgoJWT has trustbloc/vc-go (the continuation of Aries) issue a VCDM 1.1
// JWT-VC: the credential in the vc claim, iss, jti, sub, nbf, iat and exp
// beside it; with minimize, the members the claims carry are left out of
// vc.
func vcgoJWT(t *testing.T, k *credentials.Key, minimize bool) []byte {
	t.Helper()
	vc, err := verifiable.CreateCredential(verifiable.CredentialContents{
		Context: []string{credentials.BaseContextV1},
		ID:      "urn:uuid:7d1f0d3e-4a34-4f55-a4a4-1b0b9f3c2e11",
		Types:   []string{"VerifiableCredential", "UniversityDegreeCredential"},
		Issuer:  &verifiable.Issuer{ID: k.DID},
		Issued:  utiltime.NewTime(foreignFrom),
		Expired: utiltime.NewTime(foreignUntil),
		Subject: []verifiable.Subject{{ID: foreignHolder, CustomFields: verifiable.CustomFields{
			"degree": map[string]any{"type": "BachelorDegree", "name": "Bachelor of Science and Arts"},
		}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	alg := verifiable.EdDSA
	if k.Alg == credentials.ES256 {
		alg = verifiable.ECDSASecp256r1
	}
	signed, err := vc.CreateSignedJWTVC(minimize, alg, vcgoSigner{k.Signer}, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(signed.JWTEnvelope.JWT)
}

func TestVerifyVcGoJWT(t *testing.T) {
	ctx := context.Background()
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	es256, err := credentials.NewKey(p256, "did:web:university.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []*credentials.Key{testKey(t, "university", ""), es256} {
		iss, err := verifier.NewTrustedIssuer("University", []credentials.Type{credentials.TypeAny}, k)
		if err != nil {
			t.Fatal(err)
		}
		trust := verifier.NewTrustList("test")
		if err := trust.Add(iss); err != nil {
			t.Fatal(err)
		}
		v, err := verifier.New(verifier.Options{Trust: trust, Offline: true, Now: func() time.Time { return testNow }})
		if err != nil {
			t.Fatal(err)
		}
		for _, minimize := range []bool{false, true} {
			t.Run(string(k.Alg)+"/minimized="+strconv.FormatBool(minimize), func(t *testing.T) {
				raw := vcgoJWT(t, k, minimize)
				res, err := v.Verify(ctx, raw)
				if err != nil {
					t.Fatal(err)
				}
				view := res.View()
				if res.Credential != nil || res.IssuerDID != k.DID || res.KeyID != k.ID || view.ID != "urn:uuid:7d1f0d3e-4a34-4f55-a4a4-1b0b9f3c2e11" ||
					!slices.Equal(view.Types, []string{"VerifiableCredential", "UniversityDegreeCredential"}) ||
					!view.ValidFrom.Equal(foreignFrom) || !view.ValidUntil.Equal(foreignUntil) {
					t.Fatalf("result %+v view %+v", res, view)
				}
				var claims map[string]any
				if err := json.Unmarshal(view.Claims, &claims); err != nil || claims["id"] != foreignHolder || claims["degree"] == nil {
					t.Fatalf("claims %s", view.Claims)
				}
				if res.Status.HasStatus || len(res.Warnings) != 0 {
					t.Fatalf("status %+v warnings %q", res.Status, res.Warnings)
				}
				later := foreignUntil.Add(time.Hour)
				if _, err := v.Verify(ctx, raw); err != nil {
					t.Fatal(err)
				}
				expired, _ := verifier.New(verifier.Options{Trust: trust, Offline: true, Now: func() time.Time { return later }})
				_, err = expired.Verify(ctx, raw)
				wantReason(t, err, verifier.Expired)
				_, err = v.Verify(ctx, flip(raw, len(raw)-5))
				wantReason(t, err, verifier.BadSignature)
			})
		}
	}
}

// disclosure encodes [salt, name, value] (or [salt, value] when name is
// "") and returns it with its digest.
func disclosure(t testing.TB, salt, name string, value any) (string, string) {
	t.Helper()
	elems := []any{salt, name, value}
	if name == "" {
		elems = []any{salt, value}
	}
	b, err := json.Marshal(elems)
	if err != nil {
		t.Fatal(err)
	}
	d := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(d))
	return d, base64.RawURLEncoding.EncodeToString(sum[:])
}

// employeeSDJWT is an SD-JWT VC of a vct tally does not define, bound to
// holder, with a nested disclosure and an array element disclosure; it
// returns the issuer JWT and the disclosures by claim.
func employeeSDJWT(t *testing.T, f *fixture, holder *credentials.Key, edit func(p map[string]any)) (string, map[string]string) {
	t.Helper()
	ds := map[string]string{}
	dName, hName := disclosure(t, "c2FsdC0x", "name", "Amina Yusuf")
	dRole, hRole := disclosure(t, "c2FsdC0y", "role", "Field officer")
	dSite, hSite := disclosure(t, "c2FsdC0z", "", "Dadaab")
	dOrg, hOrg := disclosure(t, "c2FsdC00", "organisation", map[string]any{
		"name": "Organisation A", "sites": []any{map[string]any{"...": hSite}, "Kakuma"},
	})
	ds["name"], ds["role"], ds["site"], ds["organisation"] = dName, dRole, dSite, dOrg
	j, err := jwk.FromRaw(holder.Public)
	if err != nil {
		t.Fatal(err)
	}
	p := map[string]any{
		"iss": f.key.DID, "iat": testNow.Unix(), "exp": foreignUntil.Unix(),
		"vct": "https://org-a.example/vct/staff", "cnf": map[string]any{"jwk": j},
		"credentialStatus": foreignEntries(f)[0],
		"_sd":              []any{hName, hRole, hOrg}, "_sd_alg": "sha-256",
	}
	if edit != nil {
		edit(p)
	}
	return string(signJWT(t, p, f.key, map[string]any{"typ": "dc+sd-jwt", "kid": f.key.ID})), ds
}

// present joins an issuer JWT and disclosures, with a key-binding JWT by
// holder when holder is not nil.
func present(t *testing.T, jwt string, ds []string, holder *credentials.Key, aud, nonce string) []byte {
	t.Helper()
	p := jwt + "~" + strings.Join(append(ds, ""), "~")
	if holder == nil {
		return []byte(p)
	}
	sum := sha256.Sum256([]byte(p))
	kb := signJWT(t, map[string]any{"iat": testNow.Unix(), "aud": aud, "nonce": nonce,
		"sd_hash": base64.RawURLEncoding.EncodeToString(sum[:])}, holder, map[string]any{"typ": "kb+jwt"})
	return []byte(p + string(kb))
}

func TestVerifyForeignSDJWT(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	wallet := testKey(t, "amina's phone", "")
	v := f.verifier(t, verifier.Options{Trust: f.trustFor(t, credentials.TypeAny)})
	jwt, ds := employeeSDJWT(t, f, wallet, nil)
	const aud, nonce = "did:web:clinic.example", "n-8c21"
	want := verifier.Presentation{Audience: aud, Nonce: nonce}

	t.Run("presented with key binding", func(t *testing.T) {
		res, err := v.VerifyPresentation(ctx, present(t, jwt, []string{ds["role"], ds["organisation"], ds["site"]}, wallet, aud, nonce), want)
		if err != nil {
			t.Fatal(err)
		}
		view := res.View()
		if res.Credential != nil || !slices.Equal(view.Types, []string{"https://org-a.example/vct/staff"}) ||
			!view.ValidUntil.Equal(foreignUntil) || !res.Status.Checked {
			t.Fatalf("result %+v view %+v", res, view)
		}
		if got := string(view.Claims); got != `{"organisation":{"name":"Organisation A","sites":["Dadaab","Kakuma"]},"role":"Field officer"}` {
			t.Fatalf("claims %s", got)
		}
		if !slices.Equal(res.Disclosed, []string{"organisation", "role"}) {
			t.Fatalf("disclosed %v", res.Disclosed)
		}
	})
	t.Run("without the nested element", func(t *testing.T) {
		res, err := v.VerifyPresentation(ctx, present(t, jwt, []string{ds["organisation"]}, wallet, aud, nonce), want)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(res.View().Claims); got != `{"organisation":{"name":"Organisation A","sites":["Kakuma"]}}` {
			t.Fatalf("claims %s", got)
		}
	})
	t.Run("issued form: refused, as it is bound to a wallet", func(t *testing.T) {
		_, err := v.Verify(ctx, present(t, jwt, []string{ds["name"]}, nil, "", ""))
		wantReason(t, err, verifier.BadPresentation)
	})
	// A back office re-checking the tokens it stored allows them unbound.
	backOffice := func(o verifier.Options) verifier.Options { o.AllowUnboundSDJWT = true; return o }
	t.Run("issued form: holder binding not checked", func(t *testing.T) {
		res, err := f.verifier(t, backOffice(verifier.Options{Trust: f.trustFor(t, credentials.TypeAny)})).Verify(ctx, present(t, jwt, []string{ds["name"]}, nil, "", ""))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "holder binding") {
			t.Fatalf("warnings %q", res.Warnings)
		}
	})
	t.Run("another nonce", func(t *testing.T) {
		_, err := v.VerifyPresentation(ctx, present(t, jwt, []string{ds["name"]}, wallet, aud, "n-old"), want)
		wantReason(t, err, verifier.BadPresentation)
	})
	t.Run("another phone", func(t *testing.T) {
		_, err := v.VerifyPresentation(ctx, present(t, jwt, []string{ds["name"]}, testKey(t, "thief", ""), aud, nonce), want)
		wantReason(t, err, verifier.BadSignature, verifier.BadPresentation)
	})
	t.Run("type not allowed", func(t *testing.T) {
		_, err := f.verifier(t, backOffice(verifier.Options{})).Verify(ctx, present(t, jwt, nil, nil, "", ""))
		wantReason(t, err, verifier.TypeNotAllowed)
	})
	t.Run("expired", func(t *testing.T) {
		later := foreignUntil.Add(time.Hour)
		_, err := f.verifier(t, backOffice(verifier.Options{Trust: f.trustFor(t, credentials.TypeAny), Now: func() time.Time { return later }})).
			Verify(ctx, present(t, jwt, nil, nil, "", ""))
		wantReason(t, err, verifier.Expired)
	})
	t.Run("revoked", func(t *testing.T) {
		g := newFixture(t)
		g.setStatus(t, credentials.PurposeRevocation, testIndex)
		jwt, _ := employeeSDJWT(t, g, wallet, nil)
		_, err := g.verifier(t, backOffice(verifier.Options{Trust: g.trustFor(t, credentials.TypeAny)})).Verify(ctx, present(t, jwt, nil, nil, "", ""))
		wantReason(t, err, verifier.Revoked)
	})
	t.Run("a disclosure the issuer did not sign", func(t *testing.T) {
		forged, _ := disclosure(t, "c2FsdC05", "role", "Director")
		_, err := v.Verify(ctx, present(t, jwt, []string{forged}, nil, "", ""))
		wantReason(t, err, verifier.Malformed)
		if strings.Contains(err.Error(), "Director") {
			t.Fatalf("the error quotes a claim: %v", err)
		}
	})
	t.Run("signature altered", func(t *testing.T) {
		raw := present(t, jwt, nil, nil, "", "")
		_, err := v.Verify(ctx, flip(raw, len(raw)-6))
		wantReason(t, err, verifier.BadSignature)
	})
}
