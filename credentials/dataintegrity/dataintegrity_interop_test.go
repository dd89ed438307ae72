package dataintegrity_test

// Interoperability of tally's Data Integrity format with trustbloc/vc-go's
// own high-level API, in both directions, offline: did:key is resolved by
// did-go's did:key method, contexts come from Processor.DocumentLoader.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trustbloc/did-go/method/key"
	"github.com/trustbloc/did-go/vdr"
	vcdi "github.com/trustbloc/vc-go/dataintegrity"
	"github.com/trustbloc/vc-go/dataintegrity/suite/eddsa2022"
	"github.com/trustbloc/vc-go/verifiable"

	"github.com/tally-id/tally/credentials"
)

// vcgoDIDResolver resolves did:key DIDs, offline.
func vcgoDIDResolver() *vdr.Registry { return vdr.New(vdr.WithVDR(key.New())) }

// ed25519Signer is the signer vc-go's eddsa2022 suite calls: pure Ed25519
// over the message it is given.
type ed25519Signer struct{ priv ed25519.PrivateKey }

func (s ed25519Signer) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.priv, msg), nil }

// (a) A credential issued by tally verifies with vc-go's ParseCredential.
func TestDataIntegrityVerifiesWithVCGo(t *testing.T) {
	loader := testProc.DocumentLoader()
	verifier, err := vcdi.NewVerifier(&vcdi.Options{DIDResolver: vcgoDIDResolver()},
		eddsa2022.NewVerifierInitializer(&eddsa2022.VerifierInitializerOptions{LDDocumentLoader: loader}))
	if err != nil {
		t.Fatal(err)
	}
	parse := func(raw []byte) (*verifiable.Credential, error) {
		return verifiable.ParseCredential(raw,
			verifiable.WithJSONLDDocumentLoader(loader),
			verifiable.WithDataIntegrityVerifier(verifier),
			verifiable.WithStrictValidation(),
		)
	}
	k := diKey(t, 1, "") // did:key, so that vc-go resolves the key itself
	for _, sample := range []string{"registration.json", "eligibility.json", "referral.json"} {
		t.Run(sample, func(t *testing.T) {
			raw := issueDI(t, sample, k)
			vc, err := parse(raw)
			if err != nil {
				t.Fatalf("vc-go refuses tally's credential: %v", err)
			}
			if got := vc.Contents().Issuer.ID; got != k.DID {
				t.Fatalf("vc-go reads issuer %s", got)
			}
			tampered := editJSON(t, raw, func(m map[string]any) { m["validFrom"] = "2020-01-01T00:00:00Z" })
			if _, err := parse(tampered); err == nil || !strings.Contains(err.Error(), "invalid signature") {
				t.Fatalf("vc-go on a tampered tally credential: err = %v, want an invalid signature", err)
			}
		})
	}
}

// (b) A credential issued with vc-go's own API by a did:key issuer (Ed25519
// multikey, verificationMethod did:key:z6Mk...#z6Mk...) verifies with tally.
func TestDataIntegrityFromVCGo(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	issuerDID, err := credentials.DIDKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	vmID := issuerDID + "#" + issuerDID[len("did:key:"):]
	loader := testProc.DocumentLoader()
	signer, err := vcdi.NewSigner(&vcdi.Options{DIDResolver: vcgoDIDResolver()},
		eddsa2022.NewSignerInitializer(&eddsa2022.SignerInitializerOptions{
			LDDocumentLoader: loader,
			SignerGetter:     eddsa2022.WithStaticSigner(ed25519Signer{priv}),
		}))
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	signWithVCGo := func(t *testing.T, unsigned []byte) []byte {
		t.Helper()
		vc, err := verifiable.ParseCredential(unsigned,
			verifiable.WithDisabledProofCheck(),
			verifiable.WithJSONLDDocumentLoader(loader),
			verifiable.WithCredDisableValidation(),
		)
		if err != nil {
			t.Fatalf("vc-go parse: %v", err)
		}
		err = vc.AddDataIntegrityProof(&verifiable.DataIntegrityProofContext{
			SigningKeyID: vmID,
			CryptoSuite:  eddsa2022.SuiteType,
			Created:      &created,
		}, signer)
		if err != nil {
			t.Fatalf("vc-go sign: %v", err)
		}
		out, err := vc.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	for _, sample := range []string{"registration.json", "eligibility.json", "referral.json"} {
		t.Run(sample, func(t *testing.T) {
			c := loadSample(t, sample)
			if err := credentials.Prepare(c, issuerDID, rand.Reader); err != nil {
				t.Fatal(err)
			}
			unsigned, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			raw := signWithVCGo(t, unsigned)
			d, err := testProc.Parse(context.Background(), raw)
			if err != nil {
				t.Fatalf("tally refuses vc-go's credential: %v\n%s", err, raw)
			}
			if d.KeyID() != vmID || d.Issuer() != issuerDID {
				t.Fatalf("key id %s, issuer %s", d.KeyID(), d.Issuer())
			}
			issuerKey, err := credentials.ParseDIDKey(d.Issuer())
			if err != nil {
				t.Fatal(err)
			}
			if err := d.VerifySignature(issuerKey); err != nil {
				t.Fatalf("verify: %v\n%s", err, raw)
			}
			if !d.Created().Equal(created) {
				t.Fatalf("created = %v", d.Created())
			}
			tampered := editJSON(t, raw, func(m map[string]any) {
				obj(m, "credentialSubject")["registrationId"] = "KE-DAD-2026-999999"
			})
			d, err = testProc.Parse(context.Background(), tampered)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.VerifySignature(issuerKey); !errors.Is(err, credentials.ErrBadSignature) {
				t.Fatalf("tampered: err = %v", err)
			}
		})
	}

	// A credential that is not tally's, with its vocabulary inline, checks
	// with VerifyDataIntegrityJSON.
	t.Run("generic credential", func(t *testing.T) {
		unsigned := []byte(`{
			"@context": ["https://www.w3.org/ns/credentials/v2", {"@vocab": "https://example.org/vocab#"}],
			"id": "urn:uuid:2d1c2a8e-5d26-4a52-9d3e-9e0b8f3f1f00",
			"type": ["VerifiableCredential", "MembershipCredential"],
			"issuer": "` + issuerDID + `",
			"validFrom": "2026-01-01T00:00:00Z",
			"credentialSubject": {"id": "did:example:member", "memberOf": "Example Cooperative"}
		}`)
		raw := signWithVCGo(t, unsigned)
		if err := verifyJSON(raw, pub); err != nil {
			t.Fatalf("verify: %v\n%s", err, raw)
		}
		other, _, _ := ed25519.GenerateKey(rand.Reader)
		if err := verifyJSON(raw, other); !errors.Is(err, credentials.ErrBadSignature) {
			t.Fatalf("other key: err = %v", err)
		}
	})
}
