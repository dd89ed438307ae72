package oid4vci_test

import (
	"flag"
	"net/url"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/tally-id/tally/internal/fuzzcorpus"
	"github.com/tally-id/tally/internal/oid4vci"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the fuzz seed corpora in testdata/fuzz")

// TestFuzzCorpus keeps the seed corpora of this package's fuzz targets in
// testdata/fuzz.
func TestFuzzCorpus(t *testing.T) {
	ed := edKey("wallet")
	proof := makeProof(t, ed, jwa.EdDSA, header{jwk: true}, goodClaims())
	proofs := map[string]fuzzcorpus.Seed{
		"good":      {proof},
		"did-jwk":   {makeProof(t, ed, jwa.EdDSA, header{kid: true}, goodClaims())},
		"did-key":   {makeProof(t, ed, jwa.EdDSA, header{kid: true, didKey: true}, goodClaims())},
		"wrong-typ": {makeProof(t, ed, jwa.EdDSA, header{jwk: true, typ: "JWT"}, goodClaims())},
		"none":      {"eyJhbGciOiJub25lIiwidHlwIjoib3BlbmlkNHZjaS1wcm9vZitqd3QifQ.e30."},
		"empty":     {""},
	}
	requests := map[string]fuzzcorpus.Seed{
		"good":       {[]byte(`{"credential_configuration_id":"RegistrationCredential_dc+sd-jwt","proofs":{"jwt":["` + proof + `"]}}`)},
		"draft":      {[]byte(`{"format":"jwt_vc_json","proof":{"proof_type":"jwt","jwt":"x"}}`)},
		"repeated":   {[]byte(`{"credential_configuration_id":"a","credential_configuration_id":"b"}`)},
		"identifier": {[]byte(`{"credential_identifier":"x","proofs":{"jwt":["x"]}}`)},
		"not-object": {[]byte(`[1,2]`)},
	}
	forms := map[string]fuzzcorpus.Seed{
		"good":       {"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=abc&tx_code=123456"},
		"no-tx":      {"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=abc"},
		"other":      {"grant_type=authorization_code&code=x"},
		"repeated":   {"grant_type=a&grant_type=b"},
		"bad-escape": {"grant_type=%zz"},
	}
	keep := func(name string, seeds map[string]fuzzcorpus.Seed) {
		fuzzcorpus.Keep(t, name, *updateCorpus, "go test ./internal/oid4vci -run TestFuzzCorpus -update-corpus", seeds)
	}
	keep("FuzzVerifyProof", proofs)
	keep("FuzzParseCredentialRequest", requests)
	keep("FuzzParseTokenRequest", forms)
}

// FuzzVerifyProof: no input panics the key proof check, and what passes
// names a key and a nonce.
func FuzzVerifyProof(f *testing.F) {
	f.Add(makeProof(f, edKey("wallet"), jwa.EdDSA, header{jwk: true}, goodClaims()))
	chk := oid4vci.ProofCheck{Audience: aud, Now: now, MaxAge: 5 * time.Minute, Skew: time.Minute}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := oid4vci.VerifyProof(token, chk)
		if err == nil && (p.Key == nil || p.Nonce == "") {
			t.Fatalf("a proof passed without a key or a nonce: %q", token)
		}
		if err != nil && err.Code != "invalid_proof" {
			t.Fatalf("code %s", err.Code)
		}
	})
}

// FuzzParseCredentialRequest: no body panics the parser, and what passes
// has a configuration id and one proof.
func FuzzParseCredentialRequest(f *testing.F) {
	f.Add([]byte(`{"credential_configuration_id":"A","proofs":{"jwt":["x.y.z"]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := oid4vci.ParseCredentialRequest(body, 1)
		if err == nil && (r.CredentialConfigurationID == "" || len(r.ProofJWTs) != 1) {
			t.Fatalf("accepted %q as %+v", body, r)
		}
	})
}

// FuzzParseTokenRequest: no form panics the parser, and what passes is a
// pre-authorized code grant with a code.
func FuzzParseTokenRequest(f *testing.F) {
	f.Add("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=abc")
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		r, perr := oid4vci.ParseTokenRequest(form)
		if perr == nil && (r.PreAuthorizedCode == "" || form.Get("grant_type") != oid4vci.GrantPreAuthorizedCode) {
			t.Fatalf("accepted %q", raw)
		}
	})
}
