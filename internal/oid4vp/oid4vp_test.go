package oid4vp_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/oid4vp"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name, query, problem string
	}{
		{"no credentials", `{"credentials":[]}`, "asks for no credential"},
		{"not an object", `[1]`, "not a JSON object"},
		{"bad id", `{"credentials":[{"id":"a.b","format":"f","meta":{}}]}`, "a character other than"},
		{"no format", `{"credentials":[{"id":"a","meta":{}}]}`, "format: missing"},
		{"twice the same id", `{"credentials":[{"id":"a","format":"f","meta":{}},{"id":"a","format":"f","meta":{}}]}`, "used twice"},
		{"empty claims", `{"credentials":[{"id":"a","format":"f","meta":{},"claims":[]}]}`, "claims: must not be empty"},
		{"empty path", `{"credentials":[{"id":"a","format":"f","meta":{},"claims":[{"path":[]}]}]}`, "path"},
		{"float in path", `{"credentials":[{"id":"a","format":"f","meta":{},"claims":[{"path":["a",1.5]}]}]}`, "non-negative integer"},
		{"object in path", `{"credentials":[{"id":"a","format":"f","meta":{},"claims":[{"path":[{}]}]}]}`, "non-negative integer"},
		{"claim_sets without ids", `{"credentials":[{"id":"a","format":"f","meta":{},"claims":[{"path":["x"]}],"claim_sets":[["x"]]}]}`, "claims[0].id"},
		{"claim_sets naming nothing", `{"credentials":[{"id":"a","format":"f","meta":{},"claims":[{"id":"x","path":["x"]}],"claim_sets":[["y"]]}]}`, "no claim has the id"},
		{"value an object", `{"credentials":[{"id":"a","format":"f","meta":{},"claims":[{"path":["x"],"values":[{}]}]}]}`, "values"},
		{"set naming nothing", `{"credentials":[{"id":"a","format":"f","meta":{}}],"credential_sets":[{"options":[["b"]]}]}`, "no credential query"},
		{"too large", `{"credentials":[` + strings.Repeat(" ", oid4vp.MaxQuerySize) + `]}`, "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oid4vp.ParseQuery([]byte(tc.query))
			if err == nil || !strings.Contains(err.Error(), tc.problem) {
				t.Fatalf("error %v, want %q", err, tc.problem)
			}
		})
	}
	// Every preset's query is valid, and survives a round trip.
	for _, p := range oid4vp.Presets() {
		b, err := json.Marshal(p.Query())
		if err != nil {
			t.Fatal(err)
		}
		q, err := oid4vp.ParseQuery(b)
		if err != nil {
			t.Fatalf("preset %s: %v", p.Name, err)
		}
		if got := q.Credentials[0].ClaimNames(); strings.Join(got, ",") != strings.Join(p.Claims, ",") {
			t.Fatalf("preset %s: claims %v", p.Name, got)
		}
		if q.Credentials[0].Meta.VCTValues[0] != credentials.VCT(p.Type) {
			t.Fatalf("preset %s: vct %v", p.Name, q.Credentials[0].Meta.VCTValues)
		}
	}
	// The examples' shapes: null and indexes in paths, unknown members.
	q, err := oid4vp.ParseQuery([]byte(`{"credentials":[{"id":"pid","format":"dc+sd-jwt","meta":{"vct_values":["x"]},"future":1,
		"claims":[{"path":["degrees",null,"type"]},{"path":["nationalities",1]}]}],"extension":true}`))
	if err != nil || q.Credentials[0].Claims[0].Path[1] != nil || q.Credentials[0].Claims[1].Path[1] != 1 {
		t.Fatalf("%+v %v", q, err)
	}
}

func TestParseResponse(t *testing.T) {
	good := url.Values{"vp_token": {`{"registration":["a~b~c"]}`}, "state": {"s"}, "unknown": {"ignored"}}
	r, err := oid4vp.ParseResponse(good)
	if err != nil || r.State != "s" || r.VPToken["registration"][0] != "a~b~c" {
		t.Fatalf("%+v %v", r, err)
	}
	r, err = oid4vp.ParseResponse(url.Values{"error": {"access_denied"}, "error_description": {"no\n\"thanks\""}, "state": {"s"}})
	if err != nil || r.Error != "access_denied" || r.ErrorDescription != "nothanks" {
		t.Fatalf("%+v %v", r, err)
	}
	for name, form := range map[string]url.Values{
		"missing":       {"state": {"s"}},
		"string":        {"vp_token": {"a~b~"}},
		"array":         {"vp_token": {`["a~"]`}},
		"not strings":   {"vp_token": {`{"a":[{"x":1}]}`}},
		"empty array":   {"vp_token": {`{"a":[]}`}},
		"empty object":  {"vp_token": {`{}`}},
		"empty string":  {"vp_token": {`{"a":[" "]}`}},
		"bad key":       {"vp_token": {`{"a b":["x"]}`}},
		"duplicate key": {"vp_token": {`{"a":["x"],"a":["y"]}`}},
		"repeated":      {"vp_token": {`{"a":["x"]}`, `{"a":["x"]}`}},
		"too many":      {"vp_token": {`{"a":["1","2","3","4","5","6","7","8","9"]}`}},
		"both":          {"vp_token": {`{"a":["x"]}`}, "error": {"access_denied"}},
		"long state":    {"vp_token": {`{"a":["x"]}`}, "state": {strings.Repeat("s", 200)}},
	} {
		if _, err := oid4vp.ParseResponse(form); err == nil || err.Code != "invalid_request" {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
}

// TestTransactionRules: fetched a few times, answered once, with its own
// state, before it expires.
func TestTransactionRules(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	p, _ := oid4vp.PresetNamed("registration")
	tx, err := oid4vp.NewTransaction(rand.Reader, oid4vp.NewInput{Org: "demo", ClientID: oid4vp.ClientID("did:web:x"), Preset: p, Purpose: "p"}, now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := base64.RawURLEncoding.DecodeString(tx.Nonce); len(raw) < 16 {
		t.Fatalf("nonce %q", tx.Nonce)
	}
	other, _ := oid4vp.NewTransaction(rand.Reader, oid4vp.NewInput{Org: "demo", Preset: p}, now, time.Minute)
	if other.Nonce == tx.Nonce || other.State == tx.State || other.ID == tx.ID {
		t.Fatal("two transactions share a secret")
	}
	for i := range oid4vp.MaxFetches {
		if err := tx.Fetch(now); err != nil {
			t.Fatalf("fetch %d: %v", i, err)
		}
	}
	if err := tx.Fetch(now); err == nil || err.Code != "invalid_request_uri" {
		t.Fatalf("fetch beyond the limit: %v", err)
	}
	if err := tx.Take(other.State, now); err == nil || !strings.Contains(err.Description, "another request") {
		t.Fatalf("another's state: %v", err)
	}
	if err := tx.Take(tx.State, now.Add(time.Minute)); err == nil || !strings.Contains(err.Description, "expired") {
		t.Fatalf("expired: %v", err)
	}
	if err := tx.Take(tx.State, now); err != nil {
		t.Fatal(err)
	}
	if err := tx.Take(tx.State, now); err == nil || !strings.Contains(err.Description, "already answered") {
		t.Fatalf("replay: %v", err)
	}
	if !tx.Interrupted(now.Add(time.Hour)) || tx.Interrupted(now) {
		t.Fatal("Interrupted")
	}
}

// TestSignRequestObject: the Request Object verifies with the key's
// public part, with typ and kid as a wallet needs them.
func TestSignRequestObject(t *testing.T) {
	for _, alg := range []credentials.Algorithm{credentials.EdDSA, credentials.ES256} {
		signer, err := credentials.GenerateKey(alg, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key, err := credentials.NewKey(signer, "did:web:tally.example:orgs:demo")
		if err != nil {
			t.Fatal(err)
		}
		p, _ := oid4vp.PresetNamed("registration")
		tx, _ := oid4vp.NewTransaction(rand.Reader, oid4vp.NewInput{Org: "demo", ClientID: oid4vp.ClientID(key.DID), Preset: p, Purpose: "p"}, time.Now(), 0)
		jwt, err := oid4vp.SignRequestObject(oid4vp.NewRequestObject(tx, "https://v.example/r", time.Now()), key)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := jws.Parse([]byte(jwt))
		if err != nil {
			t.Fatal(err)
		}
		h := msg.Signatures()[0].ProtectedHeaders()
		if h.Type() != "oauth-authz-req+jwt" || h.KeyID() != key.ID {
			t.Fatalf("header typ %q kid %q", h.Type(), h.KeyID())
		}
		payload, err := jws.Verify([]byte(jwt), jws.WithKey(alg.JWA(), key.Public))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"client_id":"decentralized_identifier:did:web:tally.example:orgs:demo"`, `"response_mode":"direct_post"`,
			`"response_type":"vp_token"`, `"nonce":"` + tx.Nonce + `"`, `"dc+sd-jwt":{"sd-jwt_alg_values"`} {
			if !bytes.Contains(payload, []byte(want)) {
				t.Fatalf("payload lacks %s: %s", want, payload)
			}
		}
	}
	uri := oid4vp.AuthorizationRequestURI("decentralized_identifier:did:web:x", "https://v.example/r/1")
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "openid4vp" || u.Query().Get("client_id") != "decentralized_identifier:did:web:x" || u.Query().Get("request_uri") != "https://v.example/r/1" {
		t.Fatalf("%s %v", uri, err)
	}
}
