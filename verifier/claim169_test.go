package verifier_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// nationalID is the https URI of the Claim 169 issuer in these tests.
const nationalID = "https://id.example.gov"

// uriKey is an Ed25519 key of a Claim 169 issuer named by a URI, with the
// key id kid.
func uriKey(t testing.TB, label, kid string) *credentials.Key {
	t.Helper()
	k := testKey(t, label, "")
	return &credentials.Key{Alg: k.Alg, Public: k.Public, Signer: k.Signer, DID: nationalID, ID: nationalID + "#" + kid}
}

// idCard is a national ID card as a Claim 169 issuer makes it: signed by
// k, with kid in the unprotected header when it is not empty, zlib, base45.
func idCard(t testing.TB, k *credentials.Key, kid string, claims map[any]any) []byte {
	t.Helper()
	signer, err := cose.NewSigner(cose.AlgorithmEdDSA, k.Signer)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := cbor.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	msg := cose.Sign1Message{Headers: cose.Headers{Protected: cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA}}, Payload: payload}
	if kid != "" {
		msg.Headers.Unprotected = cose.UnprotectedHeader{cose.HeaderLabelKeyID: []byte(kid)}
	}
	if err := msg.Sign(rand.Reader, nil, signer); err != nil {
		t.Fatal(err)
	}
	raw, err := msg.MarshalCBOR()
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	_, _ = w.Write(raw)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return []byte(credentials.Base45Encode(z.Bytes()))
}

// alterIDCard changes the last byte of a card's signature, and returns the
// card uncompressed.
func alterIDCard(t testing.TB, card []byte) []byte {
	t.Helper()
	z, err := credentials.Base45Decode(string(card))
	if err != nil {
		t.Fatal(err)
	}
	r, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1
	return []byte(credentials.Base45Encode(raw))
}

// idClaims are a national ID card's claims, valid at testNow.
func idClaims() map[any]any {
	return map[any]any{
		1: nationalID,
		4: testNow.AddDate(2, 0, 0).Unix(),
		5: testNow.AddDate(-1, 0, 0).Unix(),
		6: testNow.AddDate(-1, 0, 0).Unix(),
		169: map[any]any{
			1: "3918592438", 4: "Amina Yusuf Hassan", 8: "19880102", 9: 2, 13: "KE",
			62: []any{map[any]any{0: []byte{0xff, 0xd8}, 1: 0, 2: 1}},
		},
	}
}

// idTrust is a trust list naming the national ID issuer with keys, allowed
// to issue Claim 169 identity cards.
func idTrust(keys ...*credentials.Key) *verifier.TrustList {
	list := verifier.NewTrustList("test")
	verifier.TrustURIIssuer(list, nationalID, "National ID Authority", []credentials.Type{credentials.Claim169Type}, keys...)
	return list
}

func TestVerifyClaim169Card(t *testing.T) {
	ctx := context.Background()
	var keys []*credentials.Key
	for _, label := range []string{"k1", "k2", "k3", "k4", "k5"} {
		keys = append(keys, uriKey(t, "national-id-"+label, label))
	}
	signer := keys[2]
	f := newFixture(t)
	for _, tc := range []struct {
		name   string
		trust  *verifier.TrustList
		card   []byte
		want   verifier.Reason // 0: valid
		says   string
		signer *credentials.Key
	}{
		{"no kid, the issuer's only key", idTrust(signer), idCard(t, signer, "", idClaims()), 0, "", signer},
		{"no kid, the third of four keys", idTrust(keys[:4]...), idCard(t, signer, "", idClaims()), 0, "", signer},
		{"kid", idTrust(keys...), idCard(t, signer, "k3", idClaims()), 0, "", signer},
		{"no kid, five keys", idTrust(keys...), idCard(t, signer, "", idClaims()), verifier.UntrustedIssuer, "at most 4", nil},
		{"no kid, no key verifies", idTrust(keys[0], keys[1]), idCard(t, signer, "", idClaims()), verifier.BadSignature, "National ID Authority", nil},
		{"kid of another key", idTrust(keys...), idCard(t, signer, "k1", idClaims()), verifier.BadSignature, "", nil},
		{"kid the trust list does not have", idTrust(keys...), idCard(t, signer, "k9", idClaims()), verifier.UntrustedIssuer, "k9", nil},
		{"issuer not trusted", f.trust, idCard(t, signer, "", idClaims()), verifier.UntrustedIssuer, nationalID, nil},
		{"no iss", idTrust(signer), idCard(t, signer, "", func() map[any]any { m := idClaims(); delete(m, 1); return m }()), verifier.UntrustedIssuer, "names no issuer", nil},
		{"not allowed to issue identity cards", func() *verifier.TrustList {
			list := verifier.NewTrustList("test")
			verifier.TrustURIIssuer(list, nationalID, "National ID Authority", []credentials.Type{credentials.TypeRegistration}, signer)
			return list
		}(), idCard(t, signer, "", idClaims()), verifier.TypeNotAllowed, credentials.Claim169Type, nil},
		{"expired", idTrust(signer), idCard(t, signer, "", func() map[any]any { m := idClaims(); m[4] = testNow.AddDate(0, 0, -1).Unix(); return m }()), verifier.Expired, "", nil},
		{"not yet valid", idTrust(signer), idCard(t, signer, "", func() map[any]any { m := idClaims(); m[5] = testNow.AddDate(0, 0, 1).Unix(); return m }()), verifier.NotYetValid, "", nil},
		{"altered", idTrust(signer), alterIDCard(t, idCard(t, signer, "", idClaims())), verifier.BadSignature, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := f.verifier(t, verifier.Options{Trust: tc.trust, Offline: true})
			res, err := v.Verify(ctx, tc.card)
			if tc.want != 0 {
				wantReason(t, err, tc.want, verifier.Malformed)
				if ve := err.(*verifier.Error); ve.Reason != tc.want || !strings.Contains(ve.Error(), tc.says) {
					t.Fatalf("err = %v (%v), want %v saying %q", ve, ve.Reason, tc.want, tc.says)
				}
				if strings.Contains(err.Error(), "Amina") {
					t.Fatalf("the error quotes a claim: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Credential != nil || !strings.HasSuffix(tc.signer.ID, "#"+res.KeyID) || res.Issuer != nationalID || res.IssuerName != "National ID Authority" {
				t.Fatalf("credential %v, key %s, issuer %s (%s)", res.Credential, res.KeyID, res.Issuer, res.IssuerName)
			}
			view := res.View()
			if !view.HasType(credentials.Claim169Type) || view.Issuer != nationalID || !view.ValidUntil.Equal(testNow.AddDate(2, 0, 0)) {
				t.Fatalf("view %+v", view)
			}
			var claims map[string]any
			if err := json.Unmarshal(view.Claims, &claims); err != nil || claims["fullName"] != "Amina Yusuf Hassan" || claims["dateOfBirth"] != "1988-01-02" {
				t.Fatalf("claims %s", view.Claims)
			}
			if len(view.Skipped) != 1 || view.Skipped[0] != "face" {
				t.Fatalf("skipped %v", view.Skipped)
			}
			if _, err := res.DedupToken(verifier.DedupKey{}); err != verifier.ErrNoDedupSeed {
				t.Fatalf("a dedup token from an identity card: %v", err)
			}
		})
	}
}

// TestVerifyClaim169Vectors verifies the claim-169 project's signed test
// vectors end to end, with their issuer in the trust list by its URI and
// their key without a key id.
func TestVerifyClaim169Vectors(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"ed25519-signed", "ecdsa-p256-signed"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "credentials", "testdata", "claim169", "valid", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var vec struct {
				QR  string `json:"qr_data"`
				Key struct {
					Algorithm string `json:"algorithm"`
					Hex       string `json:"public_key_hex"`
				} `json:"signing_key"`
				Claims map[string]any `json:"expected_claim169"`
			}
			if err := json.Unmarshal(data, &vec); err != nil {
				t.Fatal(err)
			}
			raw, err := hex.DecodeString(vec.Key.Hex)
			if err != nil {
				t.Fatal(err)
			}
			var pub crypto.PublicKey = ed25519.PublicKey(raw)
			alg := credentials.EdDSA
			if vec.Key.Algorithm == "ES256" {
				if pub, err = ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw); err != nil {
					t.Fatal(err)
				}
				alg = credentials.ES256
			}
			const iss = "https://mosip.example.org"
			other := testKey(t, "other", "")
			list := verifier.NewTrustList("test")
			verifier.TrustURIIssuer(list, iss, "MOSIP example", []credentials.Type{credentials.Claim169Type},
				&credentials.Key{Alg: other.Alg, Public: other.Public, DID: iss, ID: iss + "#other"},
				&credentials.Key{Alg: alg, Public: pub, DID: iss, ID: iss + "#vector"})
			res, err := f.verifier(t, verifier.Options{Trust: list, Offline: true}).Verify(context.Background(), []byte(vec.QR))
			if err != nil {
				t.Fatal(err)
			}
			var claims map[string]any
			if err := json.Unmarshal(res.View().Claims, &claims); err != nil {
				t.Fatal(err)
			}
			if res.KeyID != "vector" || claims["fullName"] != vec.Claims["fullName"] || claims["id"] != vec.Claims["id"] {
				t.Fatalf("key %s, claims %v", res.KeyID, claims)
			}
		})
	}
}
