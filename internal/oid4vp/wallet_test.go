package oid4vp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/fetch"
	"github.com/tally-id/tally/internal/oid4vp"
)

func TestParseAuthorizationRequest(t *testing.T) {
	const did = "decentralized_identifier:did:web:verifier.example:orgs:demo"
	good := []struct{ name, in, uri, method string }{
		{"custom scheme", oid4vp.AuthorizationRequestURI(did, "https://verifier.example/r/1"), "https://verifier.example/r/1", "get"},
		{"https link", "https://wallet.example/present?" + url.Values{"client_id": {did}, "request_uri": {"https://verifier.example/r/2"}, "request_uri_method": {"post"}}.Encode(), "https://verifier.example/r/2", "post"},
		{"no slashes", "openid4vp:?" + url.Values{"client_id": {did}, "request_uri": {"https://verifier.example/r/3"}}.Encode(), "https://verifier.example/r/3", "get"},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			ar, err := oid4vp.ParseAuthorizationRequest(tc.in)
			if err != nil || ar.ClientID != did || ar.RequestURI != tc.uri || ar.RequestURIMethod != tc.method {
				t.Fatalf("%+v %v", ar, err)
			}
		})
	}
	byValue, err := oid4vp.ParseAuthorizationRequest("openid4vp://?" + url.Values{"client_id": {did}, "request": {"a.b.c"}}.Encode())
	if err != nil || byValue.Request != "a.b.c" {
		t.Fatalf("by value: %+v %v", byValue, err)
	}
	bad := []struct{ name, in, kind, says string }{
		{"empty", " ", oid4vp.ProblemLink, "empty"},
		{"not a link", "hello", oid4vp.ProblemLink, "not a request"},
		{"no client", "openid4vp://?request_uri=https://v.example/r", oid4vp.ProblemLink, "client_id"},
		{"repeated", "openid4vp://?client_id=" + url.QueryEscape(did) + "&client_id=x&request_uri=https://v.example/r", oid4vp.ProblemLink, "twice"},
		{"redirect_uri", "openid4vp://?client_id=redirect_uri%3Ahttps%3A%2F%2Fv.example%2Fcb&response_type=vp_token", oid4vp.ProblemUnsupported, "does not prove who it is"},
		{"x509", "openid4vp://?client_id=x509_san_dns%3Av.example&request_uri=https://v.example/r", oid4vp.ProblemUnsupported, "x509_san_dns"},
		{"attestation", "openid4vp://?client_id=verifier_attestation%3Av&request_uri=https://v.example/r", oid4vp.ProblemUnsupported, "not supported"},
		{"federation", "openid4vp://?client_id=openid_federation%3Ahttps%3A%2F%2Fv.example&request_uri=https://v.example/r", oid4vp.ProblemUnsupported, "not supported"},
		{"pre-registered", "openid4vp://?client_id=myverifier&request_uri=https://v.example/r", oid4vp.ProblemUnsupported, "not supported"},
		{"did:ion", "openid4vp://?client_id=decentralized_identifier%3Adid%3Aion%3Ax&request_uri=https://v.example/r", oid4vp.ProblemUnsupported, "did:web"},
		{"unsigned", "openid4vp://?client_id=" + url.QueryEscape(did) + "&response_type=vp_token&nonce=n", oid4vp.ProblemUnsupported, "signed requests only"},
		{"both", "openid4vp://?client_id=" + url.QueryEscape(did) + "&request=a&request_uri=https://v.example/r", oid4vp.ProblemLink, "both"},
		{"method", "openid4vp://?client_id=" + url.QueryEscape(did) + "&request_uri=https://v.example/r&request_uri_method=put", oid4vp.ProblemLink, "get or post"},
		{"too long", "openid4vp://?client_id=" + strings.Repeat("a", oid4vp.MaxAuthorizationRequest), oid4vp.ProblemLink, "longer"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oid4vp.ParseAuthorizationRequest(tc.in)
			if err == nil || oid4vp.ProblemOf(err) != tc.kind || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("%v (%s), want %s %q", err, oid4vp.ProblemOf(err), tc.kind, tc.says)
			}
		})
	}
}

// testVerifier is a verifier of did:web:verifier.example, whose DID
// document a test server serves.
type testVerifier struct {
	key, other *credentials.Key
	did        string
	client     *fetch.Client
	fetched    int
}

// rewrite sends every request to the test server, as DNS would.
type rewrite struct{ to *url.URL }

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = r.to.Scheme, r.to.Host
	return http.DefaultTransport.RoundTrip(req)
}

func newTestVerifier(t *testing.T) *testVerifier {
	t.Helper()
	v := &testVerifier{did: "did:web:verifier.example:orgs:demo"}
	for _, k := range []**credentials.Key{&v.key, &v.other} {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if *k, err = credentials.NewKey(priv, v.did); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := credentials.NewDIDDocument(v.key)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/orgs/demo/did.json" {
			http.NotFound(w, r)
			return
		}
		v.fetched++
		json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(ts.Close)
	to, _ := url.Parse(ts.URL)
	v.client = fetch.New(fetch.Options{Transport: rewrite{to}})
	return v
}

func (v *testVerifier) clientID() string { return oid4vp.ClientID(v.did) }

// object is a good Request Object's payload.
func (v *testVerifier) object(now time.Time) map[string]any {
	return map[string]any{
		"iss": v.clientID(), "aud": oid4vp.StaticAudience, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"client_id": v.clientID(), "response_type": "vp_token", "response_mode": "direct_post",
		"response_uri": "https://verifier.example/responses/1", "nonce": "n-0S6_WzA2Mj", "state": "s1",
		"purpose": "Food distribution\u202e", "client_metadata": map[string]any{"client_name": "Demo NGO"},
		"dcql_query": oid4vp.Presets()[1].Query(),
	}
}

func (v *testVerifier) sign(t *testing.T, key *credentials.Key, payload map[string]any, typ, kid string) string {
	t.Helper()
	b, _ := json.Marshal(payload)
	h := jws.NewHeaders()
	h.Set(jws.TypeKey, typ)
	h.Set(jws.KeyIDKey, kid)
	out, err := jws.Sign(b, jws.WithKey(jwa.ES256, key.Signer, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func (v *testVerifier) options(now time.Time) oid4vp.CheckOptions {
	return oid4vp.CheckOptions{Resolver: oid4vp.Resolver{Web: fetch.DIDWeb{Client: v.client}}, URLCheck: v.client.CheckURL, Now: now}
}

func TestCheckRequestObject(t *testing.T) {
	v := newTestVerifier(t)
	now := time.Now()
	ctx := context.Background()
	good := v.sign(t, v.key, v.object(now), oid4vp.RequestObjectType, v.key.ID)
	r, err := oid4vp.CheckRequestObject(ctx, []byte(good), v.clientID(), v.options(now))
	if err != nil {
		t.Fatal(err)
	}
	if r.DID != v.did || r.Nonce != "n-0S6_WzA2Mj" || r.State != "s1" || r.ClientName != "Demo NGO" || r.Purpose != "Food distribution" ||
		r.ResponseURI != "https://verifier.example/responses/1" || len(r.Query.Credentials) != 1 || r.Document == nil {
		t.Fatalf("%+v", r)
	}
	change := func(f func(m map[string]any)) map[string]any {
		m := v.object(now)
		f(m)
		return m
	}
	tampered := []byte(good)
	tampered[len(tampered)-5] ^= 1
	if tampered[len(tampered)-5] == '-' || tampered[len(tampered)-5] == '_' {
		tampered[len(tampered)-5] = 'A'
	}
	unsigned := strings.Join([]string{b64(`{"alg":"none","typ":"oauth-authz-req+jwt"}`), b64(mustJSON(v.object(now))), ""}, ".")
	hs256, _ := jws.Sign([]byte(mustJSON(v.object(now))), jws.WithKey(jwa.HS256, []byte("secret-secret-secret-secret-1234")))
	otherDID, _ := credentials.NewKey(v.other.Signer, "did:web:evil.example")
	bad := []struct {
		name, token, clientID, kind string
	}{
		{"tampered signature", string(tampered), v.clientID(), oid4vp.ProblemSignature},
		{"another key of the DID", v.sign(t, v.other, v.object(now), oid4vp.RequestObjectType, v.key.ID), v.clientID(), oid4vp.ProblemSignature},
		{"kid of another DID", v.sign(t, otherDID, v.object(now), oid4vp.RequestObjectType, otherDID.ID), v.clientID(), oid4vp.ProblemSignature},
		{"kid not in the document", v.sign(t, v.key, v.object(now), oid4vp.RequestObjectType, v.did+"#nope"), v.clientID(), oid4vp.ProblemSignature},
		{"typ", v.sign(t, v.key, v.object(now), "JWT", v.key.ID), v.clientID(), oid4vp.ProblemSignature},
		{"alg none", unsigned, v.clientID(), oid4vp.ProblemSignature},
		{"MAC", string(hs256), v.clientID(), oid4vp.ProblemSignature},
		{"client_id mismatch", good, oid4vp.ClientID("did:web:verifier.example:orgs:other"), oid4vp.ProblemSignature},
		{"client_id in the object", v.sign(t, v.key, change(func(m map[string]any) { m["client_id"] = "decentralized_identifier:did:web:x.example" }), oid4vp.RequestObjectType, v.key.ID), v.clientID(), oid4vp.ProblemSignature},
		{"expired", v.sign(t, v.key, change(func(m map[string]any) { m["exp"] = now.Add(-time.Second).Unix() }), oid4vp.RequestObjectType, v.key.ID), v.clientID(), oid4vp.ProblemExpired},
		{"private response_uri", v.sign(t, v.key, change(func(m map[string]any) { m["response_uri"] = "http://10.0.0.1/r" }), oid4vp.RequestObjectType, v.key.ID), v.clientID(), oid4vp.ProblemRequest},
		{"private https response_uri", v.sign(t, v.key, change(func(m map[string]any) { m["response_uri"] = "https://192.168.1.10/r" }), oid4vp.RequestObjectType, v.key.ID), v.clientID(), oid4vp.ProblemRequest},
		{"no nonce", v.sign(t, v.key, change(func(m map[string]any) { delete(m, "nonce") }), oid4vp.RequestObjectType, v.key.ID), v.clientID(), oid4vp.ProblemRequest},
		{"direct_post.jwt", v.sign(t, v.key, change(func(m map[string]any) { m["response_mode"] = "direct_post.jwt" }), oid4vp.RequestObjectType, v.key.ID), v.clientID(), oid4vp.ProblemRequest},
		{"id_token", v.sign(t, v.key, change(func(m map[string]any) { m["response_type"] = "id_token" }), oid4vp.RequestObjectType, v.key.ID), v.clientID(), oid4vp.ProblemRequest},
		{"bad query", v.sign(t, v.key, change(func(m map[string]any) { m["dcql_query"] = map[string]any{"credentials": []any{}} }), oid4vp.RequestObjectType, v.key.ID), v.clientID(), oid4vp.ProblemRequest},
		{"no query", v.sign(t, v.key, change(func(m map[string]any) { delete(m, "dcql_query") }), oid4vp.RequestObjectType, v.key.ID), v.clientID(), oid4vp.ProblemRequest},
		{"another aud", v.sign(t, v.key, change(func(m map[string]any) { m["aud"] = "https://other-wallet.example" }), oid4vp.RequestObjectType, v.key.ID), v.clientID(), oid4vp.ProblemRequest},
		{"transaction_data", v.sign(t, v.key, change(func(m map[string]any) { m["transaction_data"] = []string{"x"} }), oid4vp.RequestObjectType, v.key.ID), v.clientID(), oid4vp.ProblemRequest},
		{"unsupported prefix", good, "x509_san_dns:verifier.example", oid4vp.ProblemUnsupported},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oid4vp.CheckRequestObject(ctx, []byte(tc.token), tc.clientID, v.options(now))
			if err == nil || oid4vp.ProblemOf(err) != tc.kind {
				t.Fatalf("%v (%q), want %s", err, oid4vp.ProblemOf(err), tc.kind)
			}
		})
	}
	// did:jwk: the key is in the DID; #0 its one verification method.
	jwkDID, err := credentials.DIDJWK(v.other.Signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	jk, _ := credentials.NewKey(v.other.Signer, jwkDID)
	obj := change(func(m map[string]any) { m["client_id"] = oid4vp.ClientID(jwkDID) })
	if _, err := oid4vp.CheckRequestObject(ctx, []byte(v.sign(t, jk, obj, oid4vp.RequestObjectType, jwkDID+"#0")), oid4vp.ClientID(jwkDID), v.options(now)); err != nil {
		t.Fatalf("did:jwk: %v", err)
	}
	if _, err := oid4vp.CheckRequestObject(ctx, []byte(v.sign(t, jk, obj, oid4vp.RequestObjectType, jwkDID+"#1")), oid4vp.ClientID(jwkDID), v.options(now)); oid4vp.ProblemOf(err) != oid4vp.ProblemSignature {
		t.Fatalf("did:jwk #1: %v", err)
	}
}

func b64(s string) string {
	return strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(stdB64(s)), "=")
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestMatch(t *testing.T) {
	held := []oid4vp.Held{
		{ID: "reg", Format: "dc+sd-jwt", VCT: "https://v/Reg", Bound: true, Disclosable: []string{"fullName", "dateOfBirth", "dedupSeed", "address"},
			Claims: map[string]any{"fullName": "F", "dateOfBirth": "1991-03-14", "dedupSeed": "s", "address": map[string]any{"country": "KE"}, "langs": []any{"so", "en"}}},
		{ID: "unbound", Format: "dc+sd-jwt", VCT: "https://v/Reg", Claims: map[string]any{"fullName": "G"}, Disclosable: []string{"fullName"}},
		{ID: "jwt", Format: "jwt_vc_json", Types: []string{"VerifiableCredential", "EligibilityCredential"}, Claims: map[string]any{"credentialSubject": map[string]any{"programme": "MPCA"}}},
	}
	q := func(s string) oid4vp.Query {
		t.Helper()
		q, err := oid4vp.ParseQuery([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	p := oid4vp.Match(q(`{"credentials":[{"id":"r","format":"dc+sd-jwt","meta":{"vct_values":["https://v/Reg"]},"claims":[{"path":["fullName"]},{"path":["address","country"],"values":["KE"]},{"path":["langs",null]}]}]}`), held)
	if !p.CanAnswer() || len(p.Queries) != 1 || len(p.Queries[0].Candidates) != 1 || p.Queries[0].Candidates[0].Credential != "reg" ||
		strings.Join(p.Queries[0].Candidates[0].Disclose, ",") != "fullName,address" {
		t.Fatalf("%+v", p)
	}
	// A value that does not match; an unknown vct; a type set.
	if p := oid4vp.Match(q(`{"credentials":[{"id":"r","format":"dc+sd-jwt","meta":{},"claims":[{"path":["address","country"],"values":["UG"]}]}]}`), held); p.CanAnswer() {
		t.Fatalf("value mismatch matched: %+v", p)
	}
	if p := oid4vp.Match(q(`{"credentials":[{"id":"r","format":"dc+sd-jwt","meta":{"vct_values":["x"]}}]}`), held); p.CanAnswer() || p.Missing[0] != "r" {
		t.Fatalf("vct: %+v", p)
	}
	if p := oid4vp.Match(q(`{"credentials":[{"id":"e","format":"jwt_vc_json","meta":{"type_values":[["Other"],["VerifiableCredential","EligibilityCredential"]]},"claims":[{"path":["credentialSubject","programme"]}]}]}`), held); !p.CanAnswer() || p.Queries[0].Candidates[0].Credential != "jwt" {
		t.Fatalf("type_values: %+v", p)
	}
	// No holder binding asked: the unbound credential answers too.
	if p := oid4vp.Match(q(`{"credentials":[{"id":"r","format":"dc+sd-jwt","meta":{},"require_cryptographic_holder_binding":false,"claims":[{"path":["fullName"]}]}]}`), held); len(p.Queries[0].Candidates) != 2 {
		t.Fatalf("binding: %+v", p)
	}
	// claim_sets: the first set the credential satisfies.
	p = oid4vp.Match(q(`{"credentials":[{"id":"r","format":"dc+sd-jwt","meta":{},"claims":[{"id":"a","path":["passport"]},{"id":"b","path":["dateOfBirth"]}],"claim_sets":[["a"],["b"]]}]}`), held)
	if !p.CanAnswer() || strings.Join(p.Queries[0].Candidates[0].Disclose, ",") != "dateOfBirth" {
		t.Fatalf("claim_sets: %+v", p)
	}
	// credential_sets: a required set and an optional one.
	p = oid4vp.Match(q(`{"credentials":[{"id":"r","format":"dc+sd-jwt","meta":{}},{"id":"e","format":"jwt_vc_json","meta":{}},{"id":"m","format":"mso_mdoc","meta":{}}],
		"credential_sets":[{"options":[["m"],["r"]]},{"options":[["e"]],"required":false}]}`), held)
	if !p.CanAnswer() || len(p.Queries) != 2 || p.Queries[0].ID != "r" || !p.Queries[0].Required || p.Queries[1].ID != "e" || p.Queries[1].Required {
		t.Fatalf("credential_sets: %+v", p)
	}
	if _, err := p.Choose(map[string]string{"e": "jwt"}); err == nil {
		t.Fatal("a required query left out was accepted")
	}
	if _, err := p.Choose(map[string]string{"r": "jwt"}); err == nil {
		t.Fatal("a credential that does not answer was accepted")
	}
	if _, err := p.Choose(map[string]string{"r": "reg", "m": "reg"}); err == nil {
		t.Fatal("a query not asked was accepted")
	}
	if c, err := p.Choose(map[string]string{"r": "reg"}); err != nil || len(c) != 1 {
		t.Fatalf("%v %v", c, err)
	}
	if p := oid4vp.Match(q(`{"credentials":[{"id":"m","format":"mso_mdoc","meta":{}}],"credential_sets":[{"options":[["m"]]}]}`), held); p.CanAnswer() {
		t.Fatalf("required set answered by nothing: %+v", p)
	}
}

func stdB64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
