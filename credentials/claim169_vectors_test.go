package credentials_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
)

// claim169Vector is one test vector of the claim-169 project (see
// testdata/claim169/README.md).
type claim169Vector struct {
	Name          string `json:"name"`
	Category      string `json:"category"`
	QR            string `json:"qr_data"`
	ExpectedError string `json:"expected_error"`
	SigningKey    *struct {
		Algorithm    string `json:"algorithm"`
		PublicKeyHex string `json:"public_key_hex"`
	} `json:"signing_key"`
	EncryptionKey *struct {
		Algorithm string `json:"algorithm"`
	} `json:"encryption_key"`
	Claims map[string]any `json:"expected_claim169"`
	Meta   struct {
		Issuer    string `json:"issuer"`
		Subject   string `json:"subject"`
		ExpiresAt int64  `json:"expiresAt"`
		NotBefore int64  `json:"notBefore"`
		IssuedAt  int64  `json:"issuedAt"`
	} `json:"expected_cwt_meta"`
}

func claim169Vectors(t testing.TB) []claim169Vector {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "claim169", "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Claim 169 test vectors: %v", err)
	}
	var out []claim169Vector
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v claim169Vector
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if dir := filepath.Base(filepath.Dir(f)); v.Category != dir {
			t.Fatalf("%s: category %q in directory %s", f, v.Category, dir)
		}
		out = append(out, v)
	}
	return out
}

// vectorKey is a vector's signing public key.
func vectorKey(t *testing.T, v *claim169Vector) crypto.PublicKey {
	t.Helper()
	raw, err := hex.DecodeString(v.SigningKey.PublicKeyHex)
	if err != nil {
		t.Fatal(err)
	}
	switch v.SigningKey.Algorithm {
	case "EdDSA":
		if len(raw) != ed25519.PublicKeySize {
			t.Fatalf("Ed25519 key of %d bytes", len(raw))
		}
		return ed25519.PublicKey(raw)
	case "ES256":
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
		if err != nil {
			t.Fatal(err)
		}
		return pub
	}
	t.Fatalf("signing algorithm %s", v.SigningKey.Algorithm)
	return nil
}

// claim169Skipped are the vectors' names of what tally leaves undecoded.
var claim169Skipped = []string{"photo", "rightThumb", "rightPointerFinger", "rightMiddleFinger", "rightRingFinger",
	"rightLittleFinger", "leftThumb", "leftPointerFinger", "leftMiddleFinger", "leftRingFinger", "leftLittleFinger",
	"rightIris", "leftIris", "face", "rightPalmPrint", "leftPalmPrint", "voice"}

// invalidStage is what the error for each of the vectors' expected errors
// must name: the stage that fails.
var invalidStage = map[string]string{
	"Base45Decode":     "base45",
	"Decompress":       "zlib",
	"CoseParse":        "COSE_Sign1",
	"Claim169NotFound": "no Claim 169 identity",
}

// TestClaim169Vectors runs the claim-169 project's public test vectors:
// every valid and edge vector decodes to the expected claims and CWT
// metadata (and verifies with its key, when it has one); every invalid one
// is refused at the stage it breaks; encrypted ones are refused as
// unsupported, since tally does not decrypt cards.
func TestClaim169Vectors(t *testing.T) {
	other, _, _ := ed25519.GenerateKey(detRand(169))
	for _, v := range claim169Vectors(t) {
		t.Run(v.Category+"/"+v.Name, func(t *testing.T) {
			card, err := credentials.ParseCard([]byte(v.QR))
			switch {
			case v.Category == "invalid":
				stage, ok := invalidStage[v.ExpectedError]
				if !ok {
					t.Fatalf("no stage for expected error %s", v.ExpectedError)
				}
				if !errors.Is(err, credentials.ErrMalformed) || !strings.Contains(err.Error(), stage) {
					t.Fatalf("err = %v, want ErrMalformed naming %q", err, stage)
				}
				return
			case v.EncryptionKey != nil:
				if !errors.Is(err, credentials.ErrUnsupported) || !strings.Contains(err.Error(), "encrypted") {
					t.Fatalf("err = %v, want ErrUnsupported for an encrypted card", err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if card.Credential() != nil {
				t.Fatal("a Claim 169 card of another issuer gave a tally credential")
			}
			if card.KeyID() != "" || card.Issuer() != v.Meta.Issuer || card.Format() != credentials.FormatQR {
				t.Fatalf("kid %q, issuer %q, format %s", card.KeyID(), card.Issuer(), card.Format())
			}
			if !card.IssuedAt().Equal(unixOrZero(v.Meta.IssuedAt)) {
				t.Fatalf("iat %v, want %d", card.IssuedAt(), v.Meta.IssuedAt)
			}
			view := card.View()
			if !slices.Equal(view.Types, []string{"VerifiableCredential", credentials.Claim169Type}) || view.Issuer != v.Meta.Issuer {
				t.Fatalf("view types %v, issuer %q", view.Types, view.Issuer)
			}
			if !view.ValidFrom.Equal(unixOrZero(v.Meta.NotBefore)) || !view.ValidUntil.Equal(unixOrZero(v.Meta.ExpiresAt)) {
				t.Fatalf("validity %v to %v, want nbf %d, exp %d", view.ValidFrom, view.ValidUntil, v.Meta.NotBefore, v.Meta.ExpiresAt)
			}
			if v.Meta.Subject != "" && !slices.Contains(view.Skipped, "CWT claim 2 (sub)") {
				t.Fatalf("the CWT sub is not named as skipped: %v", view.Skipped)
			}
			checkVectorClaims(t, &v, view)

			if v.SigningKey == nil {
				if err := card.VerifySignature(other); !errors.Is(err, credentials.ErrBadSignature) || !strings.Contains(err.Error(), "no signature") {
					t.Fatalf("an unsigned vector: %v, want ErrBadSignature saying there is no signature", err)
				}
				return
			}
			if err := card.VerifySignature(vectorKey(t, &v)); err != nil {
				t.Fatalf("the vector's signature does not verify with its key: %v", err)
			}
			if err := card.VerifySignature(other); !errors.Is(err, credentials.ErrBadSignature) {
				t.Fatalf("the vector verifies with another key: %v", err)
			}
		})
	}
}

// checkVectorClaims compares the view's claims with a vector's expected
// claims, both ways: every expected claim is there with its value (dates
// as YYYY-MM-DD), or, for a photo or biometrics, named in Skipped; and the
// view has no claim the vector does not expect, but for "unknown".
func checkVectorClaims(t *testing.T, v *claim169Vector, view *credentials.View) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal(view.Claims, &got); err != nil {
		t.Fatalf("claims %s: %v", view.Claims, err)
	}
	for name, want := range v.Claims {
		if slices.Contains(claim169Skipped, name) {
			if _, there := got[name]; there || !slices.Contains(view.Skipped, name) {
				t.Errorf("%s: in claims %v, in skipped %v", name, there, view.Skipped)
			}
			continue
		}
		if name == "dateOfBirth" {
			if s := want.(string); len(s) == 8 {
				want = s[:4] + "-" + s[4:6] + "-" + s[6:]
			}
		}
		if g, _ := json.Marshal(got[name]); string(g) != mustJSON(t, want) {
			t.Errorf("%s = %s, want %s", name, g, mustJSON(t, want))
		}
	}
	for name := range got {
		if _, expected := v.Claims[name]; !expected && name != "unknown" {
			t.Errorf("unexpected claim %s", name)
		}
	}
	if v.Name == "unknown-fields" {
		want := `{"30":"reserved field 30","45":12345,"70":"AQID","99":true}`
		if g, _ := json.Marshal(got["unknown"]); string(g) != want {
			t.Errorf("unknown = %s, want %s", g, want)
		}
	} else if _, there := got["unknown"]; there {
		t.Errorf("unknown claims %v", got["unknown"])
	}
}

func unixOrZero(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}
