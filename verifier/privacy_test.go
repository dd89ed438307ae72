package verifier_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// The markers are personal data a buggy or hostile issuer could sign: a
// verifier's rejection must quote none of them, in its Detail, its Error()
// or any error it wraps, since integrators log all three.
const (
	badBirthDate = "1991-13-45" // not a calendar date
	cardBirth    = "19911345"   // the same, as Claim 169 writes it
	secretName   = "SECRETNAME"
	secretHolder = "did:example:SECRETHOLDER" // a holder DID
	secretReg    = "SECRETREG"
	secretGender = "SECRETGENDER"
)

var personalMarkers = []string{badBirthDate, cardBirth, "SECRETNAME", "SECRETHOLDER", secretReg, secretGender}

// wantNoPersonalData checks that err is a rejection that quotes no marker.
func wantNoPersonalData(t *testing.T, err error) {
	t.Helper()
	var ve *verifier.Error
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a *verifier.Error", err)
	}
	texts := map[string]string{"Detail": ve.Detail, "Error()": ve.Error()}
	for i, e := range unwrapAll(ve.Err) {
		texts["wrapped error "+string(rune('0'+i%10))+" ("+strings.Repeat("+", i/10)+")"] = e.Error()
	}
	for where, text := range texts {
		for _, m := range personalMarkers {
			if strings.Contains(text, m) {
				t.Errorf("%s quotes the personal value %q: %s", where, m, text)
			}
		}
	}
	if ve.Detail == "" {
		t.Errorf("a rejection without words: %v", ve)
	}
}

// unwrapAll lists err and every error it wraps, depth first.
func unwrapAll(err error) []error {
	if err == nil {
		return nil
	}
	out := []error{err}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		out = append(out, unwrapAll(u.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, unwrapAll(e)...)
		}
	}
	return out
}

// markedSample is the registration sample with a marked name: a
// valid credential, until a case breaks it.
func markedSample(t *testing.T, f *fixture) *credentials.Credential {
	t.Helper()
	c := sample(t, "registration", f.key, f.base)
	c.Subject.(*credentials.Registration).FullName = "Fatima " + secretName
	return c
}

func TestCardErrorsQuoteNoPersonalData(t *testing.T) {
	f := newFixture(t)
	raw := issue(t, credentials.FormatQR, markedSample(t, f), f.key)
	v := f.verifier(t, verifier.Options{Offline: true})
	for _, tc := range []struct {
		name string
		edit func(identity map[any]any)
	}{
		{"birth date not a calendar date", func(id map[any]any) { id[uint64(8)] = cardBirth }},
		{"birth date not digits", func(id map[any]any) { id[uint64(8)] = secretName }},
		{"registration id with a space", func(id map[any]any) { id[uint64(1)] = secretReg + " 1" }},
		{"name with a space at its end", func(id map[any]any) { id[uint64(4)] = secretName + " " }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), resignCard(t, raw, f.key, tc.edit))
			wantReason(t, err, verifier.Malformed)
			wantNoPersonalData(t, err)
		})
	}
}

func TestJWTErrorsQuoteNoPersonalData(t *testing.T) {
	f := newFixture(t)
	raw := issue(t, credentials.FormatJWT, markedSample(t, f), f.key)
	v := f.verifier(t, verifier.Options{Offline: true})
	for _, tc := range []struct {
		name string
		edit func(payload, subject map[string]any)
	}{
		{"sub is another holder than the subject's id", func(p, s map[string]any) { p["sub"] = secretHolder }},
		{"subject id is not a DID", func(p, s map[string]any) { s["id"] = secretHolder + " x" }},
		{"birth date not a calendar date", func(p, s map[string]any) { s["dateOfBirth"] = badBirthDate }},
		{"registration id with a space", func(p, s map[string]any) { s["registrationId"] = secretReg + " 1" }},
		{"gender not one of the values", func(p, s map[string]any) { s["gender"] = secretGender }},
		{"household size too large", func(p, s map[string]any) { s["householdSize"] = json.Number("9999999999999" + cardBirth) }},
		{"name not a string", func(p, s map[string]any) { s["fullName"] = 19911345 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := resignJWS(t, string(raw), f.key, func(p map[string]any) {
				tc.edit(p, p["credentialSubject"].(map[string]any))
			})
			_, err := v.Verify(context.Background(), []byte(bad))
			wantReason(t, err, verifier.Malformed)
			wantNoPersonalData(t, err)
		})
	}
}

func TestSDJWTErrorsQuoteNoPersonalData(t *testing.T) {
	f := newFixture(t)
	raw := issue(t, credentials.FormatSDJWT, markedSample(t, f), f.key)
	jwt := string(raw[:bytes.IndexByte(raw, '~')])
	v := f.verifier(t, verifier.Options{Offline: true})
	// disclosure is a disclosure of name = value, and its digest.
	disclosure := func(name string, value any) (string, string) {
		b, _ := json.Marshal([]any{"c2FsdHNhbHRzYWx0c2FsdA", name, value})
		d := base64.RawURLEncoding.EncodeToString(b)
		sum := sha256.Sum256([]byte(d))
		return d, base64.RawURLEncoding.EncodeToString(sum[:])
	}
	for _, tc := range []struct {
		name  string
		clear map[string]any // claims in the clear in the issuer-signed JWT
		disc  map[string]any // disclosed claims
		cnf   map[string]any // the cnf claim
	}{
		{name: "holder DID not a DID, in the clear", clear: map[string]any{"sub": secretHolder + " x"}},
		{name: "holder DID not a DID, disclosed", disc: map[string]any{"sub": secretHolder + " x"}},
		{name: "birth date not a calendar date", disc: map[string]any{"dateOfBirth": badBirthDate, "fullName": secretName}},
		{name: "registration id with a space", disc: map[string]any{"registrationId": secretReg + " 1"}},
		{name: "gender not one of the values", clear: map[string]any{"gender": secretGender}},
		{name: "name not a string", disc: map[string]any{"fullName": 19911345}},
		{name: "household size too large", disc: map[string]any{"householdSize": json.Number("9999999999999" + cardBirth)}},
		{name: "holder key of an unknown curve", cnf: map[string]any{"jwk": map[string]any{
			"kty": "OKP", "crv": "SECRETHOLDER", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}},
		{name: "holder key of an unknown type", cnf: map[string]any{"jwk": map[string]any{"kty": "SECRETHOLDER"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var discs []string
			bad := resignJWS(t, jwt, f.key, func(p map[string]any) {
				var sd []any
				for name, value := range tc.disc {
					d, digest := disclosure(name, value)
					discs = append(discs, d)
					sd = append(sd, digest)
				}
				p["_sd"] = sd
				for name, value := range tc.clear {
					p[name] = value
				}
				if tc.cnf != nil {
					p["cnf"] = tc.cnf
				}
			})
			in := bad + "~"
			for _, d := range discs {
				in += d + "~"
			}
			_, err := v.Verify(context.Background(), []byte(in))
			wantReason(t, err, verifier.Malformed)
			wantNoPersonalData(t, err)
		})
	}
}

func TestDataIntegrityErrorsQuoteNoPersonalData(t *testing.T) {
	f := newFixture(t)
	raw := issue(t, credentials.FormatDataIntegrity, markedSample(t, f), f.key)
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc, "proof")
	v := f.verifier(t, verifier.Options{Offline: true})
	for _, tc := range []struct {
		name string
		edit func(subject map[string]any)
	}{
		{"holder DID not an IRI", func(s map[string]any) { s["id"] = secretHolder + " x" }},
		{"holder DID not a DID", func(s map[string]any) { s["id"] = "urn:x:SECRETHOLDER" }},
		{"birth date not a calendar date", func(s map[string]any) { s["dateOfBirth"] = badBirthDate }},
		{"registration id with a space", func(s map[string]any) { s["registrationId"] = secretReg + " 1" }},
		{"gender not one of the values", func(s map[string]any) { s["gender"] = secretGender }},
		{"household size too large", func(s map[string]any) { s["householdSize"] = json.Number("9999999999999" + cardBirth) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d map[string]any
			b, _ := json.Marshal(doc)
			_ = json.Unmarshal(b, &d)
			tc.edit(d["credentialSubject"].(map[string]any))
			_, err := v.Verify(context.Background(), signDataIntegrity(t, d, f.key, raw))
			wantReason(t, err, verifier.Malformed)
			wantNoPersonalData(t, err)
		})
	}
}

// resignJWS decodes the payload of a compact JWS, lets edit change it, and
// signs the result with k under the same header: what a buggy issuer
// would sign.
func resignJWS(t *testing.T, jws string, k *credentials.Key, edit func(payload map[string]any)) string {
	t.Helper()
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", jws)
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var payload map[string]any
	if err := json.Unmarshal(body, &payload); err != nil {
		t.Fatal(err)
	}
	edit(payload)
	body, err = json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	input := parts[0] + "." + base64.RawURLEncoding.EncodeToString(body)
	sig, err := k.Signer.Sign(rand.Reader, []byte(input), crypto.Hash(0))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// resignCard decodes a card's COSE_Sign1, lets edit change its Claim 169
// identity map, and signs the result with k.
func resignCard(t *testing.T, card []byte, k *credentials.Key, edit func(identity map[any]any)) []byte {
	t.Helper()
	data, err := credentials.Base45Decode(string(card))
	if err != nil {
		t.Fatal(err)
	}
	if zr, err := zlib.NewReader(bytes.NewReader(data)); err == nil {
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	var msg cose.Sign1Message
	if err := msg.UnmarshalCBOR(data); err != nil {
		t.Fatal(err)
	}
	var claims map[int]any
	if err := cbor.Unmarshal(msg.Payload, &claims); err != nil {
		t.Fatal(err)
	}
	identity, ok := claims[169].(map[any]any)
	if !ok {
		t.Fatalf("no Claim 169 map in %v", claims)
	}
	edit(identity)
	if msg.Payload, err = cbor.Marshal(claims); err != nil {
		t.Fatal(err)
	}
	signer, err := cose.NewSigner(cose.AlgorithmEdDSA, k.Signer)
	if err != nil {
		t.Fatal(err)
	}
	msg.Signature = nil
	if err := msg.Sign(rand.Reader, nil, signer); err != nil {
		t.Fatal(err)
	}
	out, err := msg.MarshalCBOR()
	if err != nil {
		t.Fatal(err)
	}
	return []byte(credentials.Base45Encode(out))
}

// signDataIntegrity adds an eddsa-rdfc-2022 proof by k to doc, whatever
// its claims: Sign checks the JSON-LD, not tally's claim rules (Issue
// does). A document Sign refuses, since the verifier would refuse it
// before any signature check, gets the proof of orig instead; Sign's own
// error must quote nothing either.
func signDataIntegrity(t *testing.T, doc map[string]any, k *credentials.Key, orig []byte) []byte {
	t.Helper()
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	out, err := testDI.Sign(context.Background(), body, k, testNow)
	if err == nil {
		return out
	}
	for _, m := range personalMarkers {
		if strings.Contains(err.Error(), m) {
			t.Errorf("Sign's error quotes the personal value %q: %v", m, err)
		}
	}
	var o map[string]any
	if err := json.Unmarshal(orig, &o); err != nil {
		t.Fatal(err)
	}
	doc["proof"] = o["proof"]
	if out, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	return out
}
