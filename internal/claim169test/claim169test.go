// Package claim169test hands tests the idpass/claim-169 project's public
// Ed25519 test card (credentials/testdata/claim169) and its issuer as a
// verifier trusts it, so that every test of a foreign card reads the same
// vector the same way.
package claim169test

import (
	"crypto"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// IssuerURI is the vector's issuer as its card names it.
const IssuerURI = "https://mosip.example.org"

// Vector returns the signed test card's QR text and its issuer, trusted
// for Claim 169 identity cards under the name "MOSIP example".
func Vector(t testing.TB) (string, *verifier.TrustedIssuer) {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	data, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "..", "credentials", "testdata", "claim169", "valid", "ed25519-signed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vec struct {
		QR  string `json:"qr_data"`
		Key struct {
			Hex string `json:"public_key_hex"`
		} `json:"signing_key"`
	}
	if err := json.Unmarshal(data, &vec); err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(vec.Key.Hex)
	if err != nil {
		t.Fatal(err)
	}
	var pub crypto.PublicKey = ed25519.PublicKey(raw)
	jwk, err := credentials.PublicJWK(&credentials.Key{Alg: credentials.EdDSA, Public: pub, DID: IssuerURI, ID: IssuerURI + "#vector"})
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(jwk)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := verifier.NewTrustedURIIssuer(IssuerURI, "MOSIP example", []credentials.Type{credentials.Claim169Type}, js)
	if err != nil {
		t.Fatal(err)
	}
	return vec.QR, iss
}
