package http_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
	tallyhttp "github.com/tally-id/tally/internal/http"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/trustsync"
	"github.com/tally-id/tally/web"
)

// verifyAnswer is the body of a verify route's answer.
type verifyAnswer struct {
	Verified bool     `json:"verified"`
	Checks   []string `json:"checks"`
	Warnings []string `json:"warnings"`
	Errors   []struct {
		Reason, Message, Field string
	} `json:"errors"`
	Issuer      string         `json:"issuer"`
	Format      string         `json:"format"`
	Credentials []verifyAnswer `json:"credentials"`
}

// vcVerifyBody is a POST /credentials/verify body.
func vcVerifyBody(vc any) string {
	b, err := json.Marshal(map[string]any{"verifiableCredential": vc, "options": map[string]any{"checks": []string{"proof"}}})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// verifyAt posts body to a verify route of ts and decodes the answer.
func verifyAt(t *testing.T, url, path, body string, header ...string) (int, verifyAnswer) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out verifyAnswer
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, out
}

// didKeyIssuer is an issuer from outside: a did:key, as the W3C suites'
// issuers are.
func didKeyIssuer(t testing.TB, label string) *credentials.Key {
	t.Helper()
	seed := sha256.Sum256([]byte(label))
	k, err := credentials.NewKey(ed25519.NewKeyFromSeed(seed[:]), "")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// outsideJWT is a VCDM 2.0 VC-JWT (VC-JOSE-COSE: the payload is the
// credential) by k, of a type tally does not define.
func outsideJWT(t testing.TB, k *credentials.Key, edit func(m map[string]any)) string {
	t.Helper()
	m := map[string]any{
		"@context":          []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"},
		"id":                "urn:uuid:3f1f6a0e-5a4e-4b8f-9d1c-2c6f0b7e9a21",
		"type":              []any{"VerifiableCredential", "ExampleAlumniCredential"},
		"issuer":            k.DID,
		"validFrom":         "2026-01-01T00:00:00Z",
		"credentialSubject": map[string]any{"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "alumniOf": map[string]any{"name": "Example University"}},
	}
	if edit != nil {
		edit(m)
	}
	payload, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	h := jws.NewHeaders()
	_ = h.Set("typ", "vc+jwt")
	_ = h.Set("kid", k.ID)
	out, err := jws.Sign(payload, jws.WithKey(jwa.EdDSA, k.Signer, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// editJSON returns raw with edit applied to its JSON object.
func editJSON(t testing.TB, raw json.RawMessage, edit func(m map[string]any)) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	return m
}

// vcverifyCases are the route table's cases of POST /credentials/verify:
// the W3C verifier suites' malformed credentials, each refused with the
// member it names, and credentials that fail verification.
func vcverifyCases(e *env) map[string]routeCase {
	const jsonType = "application/json"
	t := e.t
	registrar := e.asToken("demo", issuer.RoleRegistrar)
	di := e.vcIssue(t, vcIssueBody(vcCredential(nil), ""), registrar)
	edited := func(name string, edit func(m map[string]any), fields ...string) badInput {
		return badInput{name, jsonType, vcVerifyBody(editJSON(t, di, edit)), http.StatusBadRequest, fields, nil}
	}
	del := func(k string) func(m map[string]any) { return func(m map[string]any) { delete(m, k) } }
	set := func(k string, v any) func(m map[string]any) { return func(m map[string]any) { m[k] = v } }
	proof := func(edit func(p map[string]any)) func(m map[string]any) {
		return func(m map[string]any) { edit(m["proof"].(map[string]any)) }
	}
	const vc = "verifiableCredential"
	return map[string]routeCase{
		"POST /credentials/verify": {
			contentType: jsonType, status: http.StatusOK,
			good: func(int) string { return vcVerifyBody(di) },
			bad: []badInput{
				{"not JSON", formType, form(vc, "x"), http.StatusBadRequest, []string{"body"}, nil},
				{"no credential", jsonType, `{"options":{}}`, http.StatusBadRequest, []string{vc}, nil},
				{"two objects", jsonType, `{"verifiableCredential":"x"}{}`, http.StatusBadRequest, []string{"body"}, nil},
				{"malformed JSON", jsonType, `{"verifiableCredential":`, http.StatusBadRequest, []string{"body"}, nil},
				{"a credential to issue instead", jsonType, `{"credential":{}}`, http.StatusBadRequest, []string{"body"}, nil},
				{"credential a list", jsonType, `{"verifiableCredential":[1]}`, http.StatusBadRequest, []string{vc}, nil},
				{"credential an empty string", jsonType, `{"verifiableCredential":""}`, http.StatusBadRequest, []string{vc}, nil},
				{"unknown option", jsonType, `{"verifiableCredential":"x","options":{"proofType":"Ed25519Signature2020"}}`, http.StatusBadRequest, []string{"body"}, nil},
				{"unknown check", jsonType, `{"verifiableCredential":"x","options":{"checks":["astrology"]}}`, http.StatusBadRequest, []string{"options.checks"}, nil},
				{"a challenge for a credential", jsonType, `{"verifiableCredential":"x","options":{"challenge":"abc"}}`, http.StatusBadRequest, []string{"options.challenge"}, nil},
				edited("no @context", del("@context"), vc+".@context"),
				edited("@context a string", set("@context", "string"), vc+".@context"),
				edited("@context an object", set("@context", map[string]any{}), vc+".@context"),
				edited("@context items not strings", set("@context", []any{10}), vc+".@context"),
				edited("no type", del("type"), vc+".type"),
				edited("type a number", set("type", 10), vc+".type"),
				edited("type items not strings", set("type", []any{[]any{}}), vc+".type"),
				edited("type without VerifiableCredential", set("type", "string"), vc+".type"),
				edited("no issuer", del("issuer"), vc+".issuer"),
				edited("issuer a list", set("issuer", []any{}), vc+".issuer"),
				edited("issuer a number", set("issuer", 10), vc+".issuer"),
				edited("no credentialSubject", del("credentialSubject"), vc+".credentialSubject"),
				edited("credentialSubject a string", set("credentialSubject", "string"), vc+".credentialSubject"),
				edited("credentialSubject an empty list", set("credentialSubject", []any{}), vc+".credentialSubject"),
				edited("no proof", del("proof"), vc+".proof"),
				edited("proof a string", set("proof", "string"), vc+".proof"),
				edited("proof an empty list", set("proof", []any{}), vc+".proof"),
				edited("no proof.type", proof(func(p map[string]any) { delete(p, "type") }), vc+".proof.type"),
				edited("no proof.verificationMethod", proof(func(p map[string]any) { delete(p, "verificationMethod") }), vc+".proof.verificationMethod"),
				edited("no proof.proofValue", proof(func(p map[string]any) { delete(p, "proofValue") }), vc+".proof.proofValue"),
				edited("no proof.proofPurpose", proof(func(p map[string]any) { delete(p, "proofPurpose") }), vc+".proof.proofPurpose"),
				edited("no proof.cryptosuite", proof(func(p map[string]any) { delete(p, "cryptosuite") }), vc+".proof.cryptosuite"),
				// What the shape allows but the proof does not.
				edited("no proof.created (signed)", proof(func(p map[string]any) { delete(p, "created") }), vc),
				edited("an unknown cryptosuite", proof(func(p map[string]any) { p["cryptosuite"] = "eddsa-2099" }), vc),
				edited("the subject changed", set("credentialSubject", map[string]any{"id": "did:example:someone-else"}), vc),
				edited("the issuer changed", set("issuer", "did:web:tally.example:orgs:other"), vc),
				{"an enveloped credential without a data URL", jsonType, vcVerifyBody(map[string]any{"@context": []any{"https://www.w3.org/ns/credentials/v2"}, "type": "EnvelopedVerifiableCredential", "id": "https://example.org/vc"}), http.StatusBadRequest, []string{vc + ".id"}, nil},
				{"a token that is not a credential", jsonType, vcVerifyBody("eyJhbGciOiJub25lIn0.e30."), http.StatusBadRequest, []string{vc}, nil},
				{"an issuer outside the trust list", jsonType, vcVerifyBody(outsideJWT(t, didKeyIssuer(t, "outside"), nil)), http.StatusUnprocessableEntity, []string{vc}, nil},
				{"too large", jsonType, vcVerifyBody(strings.Repeat("x", 100<<10)), http.StatusRequestEntityTooLarge, nil, nil},
			},
		},
	}
}

// TestVCAPIVerifyCredential verifies over the VC API what the VC API
// issued, in each securing format, and sees each failure's status, reason
// and checks.
func TestVCAPIVerifyCredential(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	registrar, supervisor := e.asToken("demo", issuer.RoleRegistrar), e.asToken("demo", issuer.RoleSupervisor)
	verifierToken := "Bearer " + e.token["demo/verifier"]
	verify := func(t *testing.T, vc any) (int, verifyAnswer) {
		t.Helper()
		return verifyAt(t, e.ts.URL, "/credentials/verify", vcVerifyBody(vc), "Authorization", verifierToken)
	}
	withStatus := `{"credentialStatus":{"type":"BitstringStatusListEntry"}}`
	di := e.vcIssue(t, vcIssueBody(vcCredential(func(m map[string]any) { m["id"] = "urn:uuid:5b1f3a2e-6c4d-4e8f-9a0b-1c2d3e4f5a61" }), withStatus), registrar)
	jwt := e.vcIssue(t, vcIssueBody(vcCredential(nil), `{"format":"jwt"}`), registrar)
	var envelope struct{ ID string }
	if err := json.Unmarshal(jwt, &envelope); err != nil {
		t.Fatal(err)
	}
	compact := strings.TrimPrefix(envelope.ID, "data:application/vc+jwt,")

	for _, tc := range []struct {
		name       string
		vc         any
		wantChecks []string
	}{
		{"Data Integrity with a status", di, []string{"issuer", "proof", "validity", "credentialStatus"}},
		{"enveloped VC-JWT", jwt, []string{"issuer", "proof", "validity"}},
		{"bare compact VC-JWT", compact, []string{"issuer", "proof", "validity"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := verify(t, tc.vc)
			if code != http.StatusOK || !out.Verified || len(out.Errors) != 0 || out.Issuer != demoDID || !slices.Equal(out.Checks, tc.wantChecks) {
				t.Fatalf("%d %+v", code, out)
			}
		})
	}

	t.Run("a registration VC-JWT issued at the desk", func(t *testing.T) {
		out, err := e.svc.Issue(ctx, issuer.SystemPrincipal("test"), "demo", e.regID, issuer.IssueInput{Type: credentials.TypeRegistration, Format: credentials.FormatJWT})
		if err != nil {
			t.Fatal(err)
		}
		code, ans := verify(t, out.Credential)
		if code != http.StatusOK || !ans.Verified || ans.Format != "jwt" || !slices.Contains(ans.Checks, "credentialStatus") {
			t.Fatalf("%d %+v", code, ans)
		}
	})
	t.Run("an SD-JWT VC bound to a wallet, enveloped, without its presentation", func(t *testing.T) {
		wallet, _, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.svc.Issue(ctx, issuer.SystemPrincipal("test"), "demo", e.regID, issuer.IssueInput{Type: credentials.TypeRegistration, Format: credentials.FormatSDJWT, Holder: wallet})
		if err != nil {
			t.Fatal(err)
		}
		code, ans := verify(t, map[string]any{"@context": []any{"https://www.w3.org/ns/credentials/v2"}, "type": "EnvelopedVerifiableCredential", "id": "data:application/dc+sd-jwt," + out.Credential})
		if code != http.StatusUnprocessableEntity || ans.Verified || ans.Errors[0].Reason != "BAD_PRESENTATION" {
			t.Fatalf("%d %+v", code, ans)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		e.vcSetStatus(t, `{"credentialId":"urn:uuid:5b1f3a2e-6c4d-4e8f-9a0b-1c2d3e4f5a61","credentialStatus":{"type":"BitstringStatusListEntry","statusPurpose":"revocation"}}`, supervisor, http.StatusOK)
		// The revocation counts at once: the instance's verifier reads its own
		// lists anew after a status change (issuer.Service.StatusGeneration).
		code, out := verify(t, di)
		if code != http.StatusUnprocessableEntity || out.Verified || len(out.Errors) != 1 || out.Errors[0].Reason != "REVOKED" ||
			!slices.Equal(out.Checks, []string{"issuer", "proof", "validity", "credentialStatus"}) {
			t.Fatalf("%d %+v", code, out)
		}
	})
	t.Run("signature altered", func(t *testing.T) {
		code, out := verify(t, compact[:len(compact)-6]+"AAAAAA")
		if code != http.StatusBadRequest || out.Verified || out.Errors[0].Reason != "BAD_SIGNATURE" || !slices.Equal(out.Checks, []string{"issuer", "proof"}) {
			t.Fatalf("%d %+v", code, out)
		}
	})
	t.Run("an issuer outside the trust list", func(t *testing.T) {
		code, out := verify(t, outsideJWT(t, didKeyIssuer(t, "outside"), nil))
		if code != http.StatusUnprocessableEntity || out.Verified || out.Errors[0].Reason != "UNTRUSTED_ISSUER" || !strings.Contains(out.Errors[0].Message, "not in the trust list") {
			t.Fatalf("%d %+v", code, out)
		}
	})
	t.Run("wrong role", func(t *testing.T) {
		code, _ := verifyAt(t, e.ts.URL, "/credentials/verify", vcVerifyBody(di), "Authorization", "Bearer "+e.token["demo/registrar"])
		if code != http.StatusForbidden {
			t.Fatalf("registrar: %d, want 403", code)
		}
	})
}

// openVerifier is a server in open conformance mode whose verifier trusts
// did:key issuers outside the trust list, as tally serve --vc-api-open
// makes it.
func openVerifier(t *testing.T, e *env) *httptest.Server {
	t.Helper()
	di, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	trust, err := trustsync.New(context.Background(), trustsync.Options{Local: e.svc.TrustedIssuers,
		Verifier: verifier.Options{Formats: []verifier.FormatParser{di}, TrustDIDKeyIssuers: true}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tallyhttp.New(tallyhttp.Options{Issuer: e.svc, Files: web.FS, VCAPIOpenOrg: "demo", Trust: trust, Logger: slog.New(slog.NewJSONHandler(e.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

// TestVCAPIVerifyOpen: in open conformance mode the verify routes take
// requests with no credentials, from this machine only, and accept
// did:key issuers outside the trust list with a warning.
func TestVCAPIVerifyOpen(t *testing.T) {
	e := newEnv(t)
	ts := openVerifier(t, e)
	outsider := didKeyIssuer(t, "conformance suite")
	code, out := verifyAt(t, ts.URL, "/credentials/verify", vcVerifyBody(outsideJWT(t, outsider, nil)))
	if code != http.StatusOK || !out.Verified || out.Issuer != outsider.DID || !slices.Contains(out.Warnings, verifier.UntrustedDIDKeyWarning) {
		t.Fatalf("%d %+v", code, out)
	}
	expired := outsideJWT(t, outsider, func(m map[string]any) { m["validUntil"] = time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) })
	if code, out := verifyAt(t, ts.URL, "/credentials/verify", vcVerifyBody(expired)); code != http.StatusUnprocessableEntity || out.Errors[0].Reason != "EXPIRED" {
		t.Fatalf("expired: %d %+v", code, out)
	}
	forged := outsideJWT(t, outsider, nil)
	if code, out := verifyAt(t, ts.URL, "/credentials/verify", vcVerifyBody(forged[:len(forged)-4]+"AAAA")); code != http.StatusBadRequest || out.Errors[0].Reason != "BAD_SIGNATURE" {
		t.Fatalf("forged: %d %+v", code, out)
	}
	// From another machine, or relayed by a proxy: 403.
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/credentials/verify", strings.NewReader(vcVerifyBody(forged)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("relayed: %d, want 403", res.StatusCode)
	}
}

// TestVCAPIVerifyWithoutVerifier: without the verifier service the verify
// routes answer 404.
func TestVCAPIVerifyWithoutVerifier(t *testing.T) {
	e := newEnv(t)
	srv, err := tallyhttp.New(tallyhttp.Options{Issuer: e.svc, Files: web.FS, VCAPIOpenOrg: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	res, err := http.Post(ts.URL+"/credentials/verify", "application/json", strings.NewReader(vcVerifyBody("x")))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("%d, want 404", res.StatusCode)
	}
	_ = fmt.Sprint
}
