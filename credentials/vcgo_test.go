package credentials_test

import (
	"crypto"
	"errors"
	"strings"
	"testing"

	"github.com/trustbloc/kms-go/doc/jose"
	vcjwt "github.com/trustbloc/vc-go/jwt"
	"github.com/trustbloc/vc-go/verifiable"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/vcgopeer"
)

// These tests check that another implementation, trustbloc/vc-go (the
// maintained continuation of Hyperledger Aries), verifies what tally
// issues; internal/vcgopeer sets it up, offline, with keys known in
// advance.

func TestVcGoVerifiesTallyJWT(t *testing.T) {
	for _, alg := range algs {
		k := newIssuerKey(t, alg, "")
		trust := vcgopeer.Keys{k.ID: k.Public}
		for _, name := range samples {
			t.Run(string(alg)+"/"+name, func(t *testing.T) {
				c := preparedSample(t, name, k)
				token, err := credentials.IssueJWT(c, k, testNow)
				if err != nil {
					t.Fatal(err)
				}
				vc, err := verifiable.ParseCredential([]byte(token), vcgopeer.ParseOptions(trust)...)
				if err != nil {
					t.Fatalf("vc-go rejects tally's VC-JWT: %v", err)
				}
				got := vc.Contents()
				if got.Issuer == nil || got.Issuer.ID != k.DID || got.ID != c.ID ||
					!strings.Contains(strings.Join(got.Types, " "), string(c.Type)) || len(got.Subject) != 1 {
					t.Fatalf("vc-go read %+v", got)
				}
				if got.Expired == nil || !got.Expired.Time.Equal(c.ValidUntil) {
					t.Fatalf("vc-go read validUntil %v, want %s", got.Expired, c.ValidUntil)
				}
				if rid := got.Subject[0].CustomFields["registrationId"]; rid != credentials.SubjectRegistrationID(c.Subject) {
					t.Fatalf("vc-go read registrationId %v", rid)
				}

				// Tampered, or checked with a key that is not the issuer's:
				// vc-go rejects it.
				dot := strings.LastIndexByte(token, '.')
				wrong := newIssuerKey(t, alg, "")
				for _, bad := range []struct {
					name  string
					token string
					trust vcgopeer.Keys
				}{
					{"tampered signature", flip(token, dot+5), trust},
					{"tampered payload", flip(token, dot-10), trust},
					{"unknown key", token, vcgopeer.Keys{}},
					{"another key under the issuer's kid", token, vcgopeer.Keys{k.ID: wrong.Public}},
				} {
					if _, err := verifiable.ParseCredential([]byte(bad.token), vcgopeer.ParseOptions(bad.trust)...); err == nil {
						t.Fatalf("%s: vc-go accepted it", bad.name)
					}
				}
			})
		}
	}
}

// TestTallyReadsVcGoJWT checks the other direction: a JWT VC that vc-go
// makes from a tally credential (VCDM 1.1-style, with a vc claim) parses
// and verifies in tally.
func TestTallyReadsVcGoJWT(t *testing.T) {
	k := newIssuerKey(t, credentials.EdDSA, "")
	c := preparedSample(t, "registration.json", k)
	// vc-go's JWT encoding needs a subject id: the holder's DID.
	c.Subject.(*credentials.Registration).ID = newIssuerKey(t, credentials.EdDSA, "").DID
	vc, err := verifiable.ParseCredential([]byte(mustJSON(t, c)),
		verifiable.WithDisabledProofCheck(), verifiable.WithCredDisableValidation(),
		verifiable.WithJSONLDDocumentLoader(vcgopeer.Offline{}))
	if err != nil {
		t.Fatal(err)
	}
	claims, err := vc.JWTClaims(false)
	if err != nil {
		t.Fatal(err)
	}
	token, err := claims.MarshalJWSString(verifiable.EdDSA, jwtProofSigner{k.Signer}, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p := decodeSegment(t, strings.Split(token, ".")[1]); p["vc"] == nil {
		t.Fatalf("vc-go wrote no vc claim: %v", p)
	}
	j, err := credentials.ParseJWT([]byte(token))
	if err != nil {
		t.Fatal(err)
	}
	if err := j.VerifySignature(k.Public); err != nil {
		t.Fatal(err)
	}
	if got, want := mustJSON(t, j.Credential().Subject), mustJSON(t, c.Subject); got != want || j.KeyID() != k.ID {
		t.Fatalf("subject %s, kid %s", got, j.KeyID())
	}
	if err := j.VerifySignature(newIssuerKey(t, credentials.EdDSA, "").Public); !errors.Is(err, credentials.ErrBadSignature) {
		t.Fatalf("wrong key: %v", err)
	}
}

// jwtProofSigner is the proof creator vc-go's MarshalJWS takes.
type jwtProofSigner struct{ crypto.Signer }

func (s jwtProofSigner) SignJWT(_ vcjwt.SignParameters, data []byte) ([]byte, error) {
	return s.Signer.Sign(nil, data, crypto.Hash(0))
}

func (s jwtProofSigner) CreateJWTHeaders(p vcjwt.SignParameters) (jose.Headers, error) {
	return jose.Headers{"alg": p.JWTAlg, "kid": p.KeyID}, nil
}

// BenchmarkVcGoParseJWT is vc-go's own ParseCredential, with its proof
// check, on the token BenchmarkParseAndVerifyJWT verifies.
func BenchmarkVcGoParseJWT(b *testing.B) {
	token, k := benchJWT(b)
	opts := vcgopeer.ParseOptions(vcgopeer.Keys{k.ID: k.Public})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verifiable.ParseCredential(token, opts...); err != nil {
			b.Fatal(err)
		}
	}
}
