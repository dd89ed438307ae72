package http

import (
	"bytes"
	"io"
	"testing"

	gojson "github.com/goccy/go-json"
)

// FuzzVerifyRequest: the verify routes' request reading (the JSON
// envelope, the options, the credential's or presentation's shape) takes
// any body without panicking, and what it lets through is never empty.
func FuzzVerifyRequest(f *testing.F) {
	for _, seed := range []string{
		`{"verifiableCredential":"eyJhbGciOiJFZERTQSJ9.e30.c2ln","options":{"checks":["proof"]}}`,
		`{"verifiableCredential":{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"EnvelopedVerifiableCredential","id":"data:application/vc+jwt,eyJ"}}`,
		`{"verifiableCredential":{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":{"id":"did:key:z6Mk"},"credentialSubject":[{}],"proof":[{"type":"DataIntegrityProof","cryptosuite":"eddsa-rdfc-2022","verificationMethod":"did:key:z6Mk#z6Mk","proofPurpose":"assertionMethod","proofValue":"z1"}]}}`,
		`{"verifiablePresentation":{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiablePresentation","holder":{"id":"did:key:z"},"verifiableCredential":["a",{}]},"options":{"challenge":"c","domain":"d"}}`,
		`{"verifiablePresentation":"eyJ\u0061"}`,
		`{"verifiableCredential":[1]}`,
		`{"verifiableCredential":{"@context":"x","type":4,"proof":"p"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var vc vcVerifyRequest
		if decode(body, &vc) {
			if checkVerifyOptions(vc.Options, false) == nil {
				if raw, err := credentialInput(vc.VerifiableCredential, "verifiableCredential"); err == nil && len(raw) == 0 {
					t.Fatal("an empty credential let through")
				}
			}
		}
		var vp vpVerifyRequest
		if decode(body, &vp) {
			if checkVerifyOptions(vp.Options, true) == nil {
				if raw, err := presentationInput(vp.VerifiablePresentation); err == nil && len(raw) == 0 {
					t.Fatal("an empty presentation let through")
				}
			}
		}
	})
}

// decode reads body as decodeVerifyJSON does.
func decode(body []byte, v any) bool {
	dec := gojson.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if dec.Decode(v) != nil {
		return false
	}
	_, err := dec.Token()
	return err == io.EOF
}
