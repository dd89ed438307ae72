package oid4vp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/fetch"
	"github.com/tally-id/tally/internal/oid4vp"
)

// FuzzParseAuthorizationRequest: no link panics the parser; what it
// accepts names a decentralized_identifier verifier and exactly one of
// request and request_uri.
func FuzzParseAuthorizationRequest(f *testing.F) {
	for _, s := range []string{
		oid4vp.AuthorizationRequestURI("decentralized_identifier:did:web:v.example", "https://v.example/r/1"),
		"openid4vp://?client_id=decentralized_identifier%3Adid%3Ajwk%3AeyJ&request=a.b.c",
		"https://w.example/p?client_id=decentralized_identifier%3Adid%3Akey%3Az6Mk&request_uri=https://v.example/r&request_uri_method=post",
		"openid4vp:?client_id=redirect_uri%3Ahttps%3A%2F%2Fv&response_type=vp_token",
		"openid4vp://?client_id=x509_hash%3Aabc&request_uri=https://v/r",
		"openid4vp://?client_id=a&client_id=b", "?client_id=%zz", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ar, err := oid4vp.ParseAuthorizationRequest(s)
		if err != nil {
			if oid4vp.ProblemOf(err) == "" {
				t.Fatalf("error without a kind: %v", err)
			}
			return
		}
		if !strings.HasPrefix(ar.ClientID, oid4vp.PrefixDID+":did:") || (ar.Request == "") == (ar.RequestURI == "") {
			t.Fatalf("accepted %q: %+v", s, ar)
		}
		if ar.RequestURI != "" && ar.RequestURIMethod != "get" && ar.RequestURIMethod != "post" {
			t.Fatalf("method %q accepted", ar.RequestURIMethod)
		}
	})
}

// FuzzCheckRequestObject: no token panics the checks, and only a token
// signed by the verifier's did:jwk key is accepted.
func FuzzCheckRequestObject(f *testing.F) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	did, err := credentials.DIDJWK(priv.Public())
	if err != nil {
		f.Fatal(err)
	}
	clientID := oid4vp.ClientID(did)
	now := time.Unix(1_800_000_000, 0)
	sign := func(payload map[string]any) string {
		b, _ := json.Marshal(payload)
		h := jws.NewHeaders()
		h.Set(jws.TypeKey, oid4vp.RequestObjectType)
		h.Set(jws.KeyIDKey, did+"#0")
		out, err := jws.Sign(b, jws.WithKey(jwa.ES256, priv, jws.WithProtectedHeaders(h)))
		if err != nil {
			f.Fatal(err)
		}
		return string(out)
	}
	good := map[string]any{"client_id": clientID, "response_type": "vp_token", "response_mode": "direct_post",
		"response_uri": "https://v.example/r", "nonce": "n", "state": "s", "dcql_query": oid4vp.Presets()[0].Query()}
	f.Add(sign(good))
	good["exp"] = now.Add(-time.Minute).Unix()
	f.Add(sign(good))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	client := fetch.New(fetch.Options{})
	opts := oid4vp.CheckOptions{Resolver: oid4vp.Resolver{}, URLCheck: client.CheckURL, Now: now}
	f.Fuzz(func(t *testing.T, token string) {
		r, err := oid4vp.CheckRequestObject(context.Background(), []byte(token), clientID, opts)
		if err != nil {
			if oid4vp.ProblemOf(err) == "" {
				t.Fatalf("error without a kind: %v", err)
			}
			return
		}
		if _, err := jws.Verify([]byte(token), jws.WithKey(jwa.ES256, priv.Public())); err != nil {
			t.Fatalf("accepted a token the verifier did not sign: %q", token)
		}
		if r.Nonce == "" || r.ClientID != clientID || r.Query.Check() != nil {
			t.Fatalf("accepted %+v", r)
		}
	})
}

// FuzzMatch: no query panics the matcher, and every candidate it offers
// is a held credential of the query's format.
func FuzzMatch(f *testing.F) {
	for _, s := range querySeeds {
		f.Add(s[0].([]byte))
	}
	f.Add([]byte(`{"credentials":[{"id":"r","format":"dc+sd-jwt","meta":{},"claims":[{"path":["a",null,0]},{"path":["n"],"values":[1]}]}]}`))
	f.Add([]byte(`{"credentials":[{"id":"e","format":"jwt_vc_json","meta":{"type_values":[["T"]]}}],"credential_sets":[{"options":[["e"]],"required":false}]}`))
	held := []oid4vp.Held{
		{ID: "s", Format: "dc+sd-jwt", VCT: "https://tally-id.github.io/vct/RegistrationCredential", Bound: true, Disclosable: []string{"fullName", "a"},
			Claims: map[string]any{"fullName": "F", "dedupSeed": "x", "a": []any{[]any{"z"}, map[string]any{"b": true}}, "n": float64(1)}},
		{ID: "j", Format: "jwt_vc_json", Types: []string{"T"}, Claims: map[string]any{"credentialSubject": map[string]any{"x": "y"}}},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := oid4vp.ParseQuery(b)
		if err != nil {
			return
		}
		p := oid4vp.Match(q, held)
		for _, m := range p.Queries {
			for _, c := range m.Candidates {
				i := slices.IndexFunc(held, func(h oid4vp.Held) bool { return h.ID == c.Credential })
				if i < 0 || held[i].Format != m.Format {
					t.Fatalf("candidate %+v for %+v", c, m)
				}
				for _, d := range c.Disclose {
					if !slices.Contains(held[i].Disclosable, d) {
						t.Fatalf("discloses %q, which is not disclosable", d)
					}
				}
			}
		}
	})
}
