package oid4vci_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/oid4vci"
)

const aud = "https://tally.example/orgs/demo"

var now = time.Unix(1_780_000_000, 0)

// edKey is an Ed25519 key derived from a label: the same in every run.
func edKey(label string) ed25519.PrivateKey {
	sum := sha256.Sum256([]byte(label))
	return ed25519.NewKeyFromSeed(sum[:])
}

// header says how a test proof names its key.
type header struct {
	typ      string
	jwk, kid bool
	didKey   bool
	private  bool
	// fragment replaces the kid's fragment when set.
	fragment string
}

// makeProof signs a key proof with key, its header as h says.
func makeProof(t testing.TB, key crypto.Signer, alg jwa.SignatureAlgorithm, h header, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	hd := jws.NewHeaders()
	if h.typ == "" {
		h.typ = oid4vci.ProofJWTType
	}
	hd.Set(jws.TypeKey, h.typ)
	var raw any = key.Public()
	if h.private {
		raw = key
	}
	j, err := jwk.FromRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	if h.jwk {
		hd.Set(jws.JWKKey, j)
	}
	if h.kid {
		if h.didKey {
			did, err := credentials.DIDKey(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			frag := strings.TrimPrefix(did, "did:key:")
			if h.fragment != "" {
				frag = h.fragment
			}
			hd.Set(jws.KeyIDKey, did+"#"+frag)
		} else {
			frag := "0"
			if h.fragment != "" {
				frag = h.fragment
			}
			b, _ := json.Marshal(j)
			hd.Set(jws.KeyIDKey, "did:jwk:"+base64.RawURLEncoding.EncodeToString(b)+"#"+frag)
		}
	}
	out, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(hd)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func goodClaims() map[string]any { return map[string]any{"aud": aud, "iat": now.Unix(), "nonce": "n"} }

func TestVerifyProof(t *testing.T) {
	ed := edKey("wallet")
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	chk := oid4vci.ProofCheck{Audience: aud, Now: now, MaxAge: 5 * time.Minute, Skew: time.Minute}
	with := func(k string, v any) map[string]any {
		c := goodClaims()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"EdDSA with jwk", makeProof(t, ed, jwa.EdDSA, header{jwk: true}, goodClaims()), true},
		{"ES256 with jwk", makeProof(t, p256, jwa.ES256, header{jwk: true}, goodClaims()), true},
		{"ES256 with did:key kid", makeProof(t, p256, jwa.ES256, header{kid: true, didKey: true}, goodClaims()), true},
		{"EdDSA with did:jwk kid", makeProof(t, ed, jwa.EdDSA, header{kid: true}, goodClaims()), true},
		{"did:key kid naming another method", makeProof(t, p256, jwa.ES256, header{kid: true, didKey: true, fragment: "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}, goodClaims()), false},
		{"did:jwk kid naming another method", makeProof(t, ed, jwa.EdDSA, header{kid: true, fragment: "1"}, goodClaims()), false},
		{"both jwk and kid", makeProof(t, ed, jwa.EdDSA, header{jwk: true, kid: true}, goodClaims()), false},
		{"no key", makeProof(t, ed, jwa.EdDSA, header{}, goodClaims()), false},
		{"a private jwk", makeProof(t, ed, jwa.EdDSA, header{jwk: true, private: true}, goodClaims()), false},
		{"P-384", makeProof(t, p384, jwa.ES384, header{jwk: true}, goodClaims()), false},
		{"typ JWT", makeProof(t, ed, jwa.EdDSA, header{jwk: true, typ: "JWT"}, goodClaims()), false},
		{"aud another issuer", makeProof(t, ed, jwa.EdDSA, header{jwk: true}, with("aud", aud+"x")), false},
		{"aud missing", makeProof(t, ed, jwa.EdDSA, header{jwk: true}, with("aud", nil)), false},
		{"iat missing", makeProof(t, ed, jwa.EdDSA, header{jwk: true}, with("iat", nil)), false},
		{"iat too old", makeProof(t, ed, jwa.EdDSA, header{jwk: true}, with("iat", now.Add(-6*time.Minute).Unix())), false},
		{"iat ahead", makeProof(t, ed, jwa.EdDSA, header{jwk: true}, with("iat", now.Add(2*time.Minute).Unix())), false},
		{"iat as text", makeProof(t, ed, jwa.EdDSA, header{jwk: true}, with("iat", "now")), false},
		{"nonce missing", makeProof(t, ed, jwa.EdDSA, header{jwk: true}, with("nonce", nil)), false},
		{"not a JWS", "eyJ.eyJ", false},
		{"JSON serialization", `{"payload":"e30","signatures":[]}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := oid4vci.VerifyProof(tc.token, chk)
			if tc.ok != (err == nil) {
				t.Fatalf("ok=%v, err=%v", tc.ok, err)
			}
			if err != nil && err.Code != "invalid_proof" {
				t.Fatalf("code %s", err.Code)
			}
			if tc.ok && (p.Nonce != "n" || p.Key == nil) {
				t.Fatalf("proof %+v", p)
			}
		})
	}
	t.Run("a signature by another key", func(t *testing.T) {
		good := makeProof(t, ed, jwa.EdDSA, header{jwk: true}, goodClaims())
		other := makeProof(t, edKey("other"), jwa.EdDSA, header{jwk: true}, goodClaims())
		forged := good[:strings.LastIndex(good, ".")] + other[strings.LastIndex(other, "."):]
		if _, err := oid4vci.VerifyProof(forged, chk); err == nil {
			t.Fatal("a proof with another key's signature verified")
		}
	})
}

func TestNonces(t *testing.T) {
	clock := now
	n, err := oid4vci.NewNonces(rand.Reader, time.Minute, func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	a, err := n.New(aud)
	if err != nil {
		t.Fatal(err)
	}
	if n.Spend(aud+"/other", a) {
		t.Fatal("a nonce was spent at another issuer")
	}
	if !n.Spend(aud, a) || n.Spend(aud, a) {
		t.Fatal("a nonce is not spent exactly once")
	}
	b, _ := n.New(aud)
	clock = clock.Add(time.Minute)
	if n.Spend(aud, b) {
		t.Fatal("an expired nonce was spent")
	}
	c, _ := n.New(aud)
	raw, _ := base64.RawURLEncoding.DecodeString(c)
	raw[0] ^= 1
	if n.Spend(aud, base64.RawURLEncoding.EncodeToString(raw)) || n.Spend(aud, "") || n.Spend(aud, "!!") {
		t.Fatal("a forged nonce was spent")
	}
}

func TestParseCredentialRequest(t *testing.T) {
	tests := []struct {
		body, code string
	}{
		{`{"credential_configuration_id":"A_dc+sd-jwt","proofs":{"jwt":["x.y.z"]}}`, ""},
		{`{"credential_configuration_id":"A","proofs":{"jwt":["x.y.z"]},"unknown":1}`, ""},
		{`[]`, "invalid_credential_request"},
		{`{"credential_configuration_id":"A","proofs":{"jwt":["x"]}}{}`, "invalid_credential_request"},
		{`{"credential_configuration_id":"A","credential_configuration_id":"B","proofs":{"jwt":["x"]}}`, "invalid_credential_request"},
		{`{"credential_configuration_id":7,"proofs":{"jwt":["x"]}}`, "invalid_credential_request"},
		{`{"proofs":{"jwt":["x"]}}`, "invalid_credential_request"},
		{`{"credential_identifier":"X","proofs":{"jwt":["x"]}}`, "unknown_credential_identifier"},
		{`{"credential_configuration_id":"A"}`, "invalid_proof"},
		{`{"credential_configuration_id":"A","proof":{"proof_type":"jwt","jwt":"x"}}`, "invalid_proof"},
		{`{"credential_configuration_id":"A","proofs":{"di_vp":[{}]}}`, "invalid_proof"},
		{`{"credential_configuration_id":"A","proofs":{"jwt":[],"attestation":["x"]}}`, "invalid_proof"},
		{`{"credential_configuration_id":"A","proofs":{"jwt":[]}}`, "invalid_proof"},
		{`{"credential_configuration_id":"A","proofs":{"jwt":["a","b"]}}`, "invalid_proof"},
		{`{"credential_configuration_id":"A","proofs":{"jwt":["x"]},"credential_response_encryption":{}}`, "invalid_encryption_parameters"},
	}
	for _, tc := range tests {
		_, err := oid4vci.ParseCredentialRequest([]byte(tc.body), 1)
		got := ""
		if err != nil {
			got = err.Code
		}
		if got != tc.code {
			t.Errorf("%s: %q, want %q", tc.body, got, tc.code)
		}
	}
}

func TestParseTokenRequest(t *testing.T) {
	pre := oid4vci.GrantPreAuthorizedCode
	tests := []struct {
		form  url.Values
		code  string
		hasTx bool
	}{
		{url.Values{"grant_type": {pre}, "pre-authorized_code": {"c"}, "tx_code": {"123456"}}, "", true},
		{url.Values{"grant_type": {pre}, "pre-authorized_code": {"c"}, "tx_code": {""}}, "", true},
		{url.Values{"grant_type": {pre}, "pre-authorized_code": {"c"}, "client_id": {"w"}}, "", false},
		{url.Values{"grant_type": {"authorization_code"}, "code": {"c"}}, "unsupported_grant_type", false},
		{url.Values{"pre-authorized_code": {"c"}}, "invalid_request", false},
		{url.Values{"grant_type": {pre}}, "invalid_request", false},
		{url.Values{"grant_type": {pre, pre}, "pre-authorized_code": {"c"}}, "invalid_request", false},
		{url.Values{"grant_type": {pre}, "pre-authorized_code": {strings.Repeat("c", 600)}}, "invalid_request", false},
	}
	for _, tc := range tests {
		r, err := oid4vci.ParseTokenRequest(tc.form)
		got := ""
		if err != nil {
			got = err.Code
		}
		if got != tc.code || (err == nil && r.HasTxCode != tc.hasTx) {
			t.Errorf("%v: %q (%+v), want %q", tc.form, got, r, tc.code)
		}
	}
}

func TestMetadata(t *testing.T) {
	m := oid4vci.NewIssuerMetadata(aud, "Demo", "EdDSA")
	if m.CredentialEndpoint != aud+"/credential" || m.NonceEndpoint != aud+"/nonce" {
		t.Fatalf("%+v", m)
	}
	sd := m.CredentialConfigurationsSupported["RegistrationCredential_dc+sd-jwt"]
	if sd.Format != "dc+sd-jwt" || sd.VCT != credentials.VCT(credentials.TypeRegistration) || sd.CredentialDefinition != nil {
		t.Fatalf("%+v", sd)
	}
	vc := m.CredentialConfigurationsSupported["EligibilityCredential_jwt_vc_json"]
	if vc.Format != "jwt_vc_json" || vc.VCT != "" || vc.CredentialDefinition == nil || vc.CredentialDefinition.Type[1] != "EligibilityCredential" {
		t.Fatalf("%+v", vc)
	}
	for id := range m.CredentialConfigurationsSupported {
		if _, _, ok := oid4vci.ParseConfigurationID(id); !ok {
			t.Fatalf("%s does not parse", id)
		}
	}
	if _, _, ok := oid4vci.ParseConfigurationID("RegistrationCredential_qr"); ok {
		t.Fatal("a card configuration parses")
	}
	if got := oid4vci.OfferURI("https://h/orgs/demo/offers/abc"); got != "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fh%2Forgs%2Fdemo%2Foffers%2Fabc" {
		t.Fatal(got)
	}
}
