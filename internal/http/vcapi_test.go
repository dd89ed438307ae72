package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
	tallyhttp "github.com/tally-id/tally/internal/http"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/web"
)

const demoDID = "did:web:tally.example:orgs:demo"

// vcCredential is the credential of the VC API tests, as a conformance
// suite sends it: change edits it.
func vcCredential(change func(m map[string]any)) map[string]any {
	m := map[string]any{
		"@context": []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"},
		"type":     []any{"VerifiableCredential", "ExampleAlumniCredential"},
		"issuer":   demoDID,
		"credentialSubject": map[string]any{
			"id":       "did:example:ebfeb1f712ebc6f1c276e12ec21",
			"alumniOf": map[string]any{"name": "Example University"},
		},
	}
	if change != nil {
		change(m)
	}
	return m
}

// vcIssueBody is a POST /credentials/issue body.
func vcIssueBody(cred any, options string) string {
	c, err := json.Marshal(cred)
	if err != nil {
		panic(err)
	}
	if options == "" {
		return fmt.Sprintf(`{"credential":%s}`, c)
	}
	return fmt.Sprintf(`{"credential":%s,"options":%s}`, c, options)
}

// vcapiCases are the route table's cases of the VC API routes: the
// issuer test suites' bad inputs, each refused with the field it names.
func vcapiCases(e *env) map[string]routeCase {
	const jsonType = "application/json"
	withStatus := `{"credentialStatus":{"type":"BitstringStatusListEntry"}}`
	bad := func(name string, change func(m map[string]any), fields ...string) badInput {
		return badInput{name, jsonType, vcIssueBody(vcCredential(change), withStatus), http.StatusBadRequest, fields, nil}
	}
	del := func(k string) func(m map[string]any) { return func(m map[string]any) { delete(m, k) } }
	set := func(k string, v any) func(m map[string]any) { return func(m map[string]any) { m[k] = v } }
	// A credential id of the caller's making is never logged: it may name
	// a person.
	e.secrets = append(e.secrets, "urn:example:vcapi:")
	status := func(entry string) string {
		return fmt.Sprintf(`{"credentialId":%q,"credentialStatus":%s}`, e.credID, entry)
	}
	return map[string]routeCase{
		"POST /credentials/issue": {
			contentType: jsonType, status: http.StatusCreated, otherStatus: http.StatusBadRequest,
			good: func(n int) string {
				return vcIssueBody(vcCredential(set("id", fmt.Sprintf("urn:example:vcapi:%d", n))), withStatus)
			},
			bad: []badInput{
				{"not JSON", formType, form("credential", "x"), http.StatusBadRequest, []string{"body"}, nil},
				{"no credential", jsonType, `{"options":{}}`, http.StatusBadRequest, []string{"credential"}, nil},
				{"a verifiableCredential instead", jsonType, `{"verifiableCredential":{}}`, http.StatusBadRequest, []string{"body"}, nil},
				{"credential not an object", jsonType, `{"credential":[1]}`, http.StatusBadRequest, []string{"credential"}, nil},
				{"unknown option", jsonType, `{"credential":{},"options":{"proofType":"Ed25519Signature2020"}}`, http.StatusBadRequest, []string{"body"}, nil},
				bad("no @context", del("@context"), "credential.@context"),
				bad("@context a number", set("@context", 4), "credential.@context"),
				bad("@context items not strings", set("@context", []any{map[string]any{"foo": true}, 4, false, nil}), "credential.@context"),
				bad("@context not starting with the base context", set("@context", []any{"https://www.w3.org/2018/credentials/v1"}), "credential.@context"),
				bad("no type", del("type"), "credential.type"),
				bad("type a number", set("type", 4), "credential.type"),
				bad("type items not strings", set("type", []any{2, nil, map[string]any{"foo": true}, false}), "credential.type"),
				bad("type without VerifiableCredential", set("type", []any{"ExampleAlumniCredential"}), "credential.type"),
				bad("no issuer", del("issuer"), "credential.issuer"),
				bad("issuer a number", set("issuer", 4), "credential.issuer"),
				bad("issuer object without id", set("issuer", map[string]any{"name": "X"}), "credential.issuer"),
				bad("issuer not the caller's organisation", set("issuer", "did:web:tally.example:orgs:other"), "credential.issuer"),
				bad("no credentialSubject", del("credentialSubject"), "credential.credentialSubject"),
				bad("credentialSubject not objects", set("credentialSubject", []any{nil, true, 4}), "credential.credentialSubject"),
				bad("credentialSubject empty", set("credentialSubject", map[string]any{}), "credential.credentialSubject"),
				bad("id not a URL", set("id", "not a url"), "credential.id"),
				bad("validFrom not a date-time", set("validFrom", "2026-13-01"), "credential.validFrom"),
				bad("validUntil without a time zone", set("validUntil", "2030-01-01T00:00:00"), "credential.validUntil"),
				bad("validUntil before validFrom", func(m map[string]any) {
					m["validFrom"] = "2030-01-01T00:00:00Z"
					m["validUntil"] = "2029-01-01T00:00:00Z"
				}, "credential.validUntil"),
				bad("termsOfUse without a type", set("termsOfUse", map[string]any{"id": "https://example.org/tos"}), "credential.termsOfUse"),
				bad("evidence without a type", set("evidence", []any{map[string]any{"id": "https://example.org/ev"}}), "credential.evidence"),
				bad("credentialSchema without an id", set("credentialSchema", map[string]any{"type": "JsonSchema"}), "credential.credentialSchema"),
				bad("refreshService without a type", set("refreshService", map[string]any{"id": "https://example.org/refresh"}), "credential.refreshService"),
				bad("name a number", set("name", 4), "credential.name"),
				bad("description not a language value", set("description", map[string]any{"@language": "en"}), "credential.description"),
				bad("relatedResource without a digest", set("relatedResource", []any{map[string]any{"id": "https://example.org/logo.png"}}), "credential.relatedResource"),
				bad("a proof already", set("proof", map[string]any{"type": "DataIntegrityProof"}), "credential.proof"),
				bad("a status entry with its own list", set("credentialStatus", map[string]any{"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "7", "statusListCredential": "https://example.org/list"}), "credential.credentialStatus"),
				bad("a term no context defines", func(m map[string]any) {
					m["@context"] = []any{"https://www.w3.org/ns/credentials/v2"}
					m["type"] = []any{"VerifiableCredential"}
					m["credentialSubject"] = map[string]any{"id": "did:example:1", "favouriteColour": "blue"}
				}, "credential"),
				bad("a VCDM 1.1 member", func(m map[string]any) {
					m["@context"] = []any{"https://www.w3.org/ns/credentials/v2"}
					m["type"] = []any{"VerifiableCredential"}
					m["credentialSubject"] = map[string]any{"id": "did:example:1"}
					m["issuanceDate"] = "2026-01-01T00:00:00Z"
				}, "credential"),
				bad("an id issued already", set("id", e.credID), "credential.id"),
				{"unknown format", jsonType, vcIssueBody(vcCredential(nil), `{"format":"ldp"}`), http.StatusBadRequest, []string{"options.format"}, nil},
				{"unknown status type", jsonType, vcIssueBody(vcCredential(nil), `{"credentialStatus":{"type":"StatusList2021Entry"}}`), http.StatusBadRequest, []string{"options.credentialStatus.type"}, nil},
				{"unknown status purpose", jsonType, vcIssueBody(vcCredential(nil), `{"credentialStatus":{"type":"BitstringStatusListEntry","statusPurpose":"message"}}`), http.StatusBadRequest, []string{"options.credentialStatus.statusPurpose"}, nil},
				{"too large", jsonType, vcIssueBody(vcCredential(set("description", strings.Repeat("x", 100<<10))), ""), http.StatusRequestEntityTooLarge, nil, nil},
				{"too large for JSON-LD", jsonType, vcIssueBody(vcCredential(set("description", strings.Repeat("x", 70<<10))), ""), http.StatusBadRequest, []string{"credential"}, nil},
			},
		},
		"POST /credentials/status": {
			contentType: jsonType, status: http.StatusOK, otherStatus: http.StatusNotFound,
			good: func(int) string { return status(`{"type":"BitstringStatusListEntry","statusPurpose":"suspension"}`) },
			bad: []badInput{
				{"not JSON", formType, form("credentialId", "x"), http.StatusBadRequest, []string{"body"}, nil},
				{"empty object", jsonType, `{}`, http.StatusBadRequest, []string{"credentialId", "credentialStatus"}, nil},
				{"unknown field", jsonType, `{"credentialId":"x","credentialStatus":{"type":"BitstringStatusListEntry","statusPurpose":"revocation"},"reason":"lost"}`, http.StatusBadRequest, []string{"body"}, nil},
				{"status not a boolean", jsonType, `{"credentialId":"x","credentialStatus":{"type":"BitstringStatusListEntry","statusPurpose":"revocation"},"status":"yes"}`, http.StatusBadRequest, []string{"body"}, nil},
				{"no purpose", jsonType, status(`{"type":"BitstringStatusListEntry"}`), http.StatusBadRequest, []string{"credentialStatus.statusPurpose"}, nil},
				{"unknown purpose", jsonType, status(`{"type":"BitstringStatusListEntry","statusPurpose":"message"}`), http.StatusBadRequest, []string{"credentialStatus.statusPurpose"}, nil},
				{"unknown type", jsonType, status(`{"type":"StatusList2021Entry","statusPurpose":"suspension"}`), http.StatusBadRequest, []string{"credentialStatus.type"}, nil},
				{"unknown member in the entry", jsonType, status(`{"type":"BitstringStatusListEntry","statusPurpose":"suspension","colour":"red"}`), http.StatusBadRequest, []string{"credentialStatus"}, nil},
				{"another index", jsonType, status(`{"type":"BitstringStatusListEntry","statusPurpose":"suspension","statusListIndex":"999999999"}`), http.StatusBadRequest, []string{"credentialStatus.statusListIndex"}, nil},
				{"older form, unknown state", jsonType, status(`[{"type":"BitstringStatusListCredential","status":"lost"}]`), http.StatusBadRequest, []string{"credentialStatus.status"}, nil},
				{"unknown credential", jsonType, `{"credentialId":"urn:uuid:00000000-0000-4000-8000-000000000000","credentialStatus":{"type":"BitstringStatusListEntry","statusPurpose":"suspension"}}`, http.StatusNotFound, nil, nil},
			},
		},
	}
}

// vcVerifier verifies Data Integrity credentials and VC-JWTs of any type
// by demo, with demo's status lists from the test server.
func (e *env) vcVerifier(t *testing.T) *verifier.Verifier {
	t.Helper()
	key, err := e.svc.SigningKey(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	iss, err := verifier.NewTrustedIssuer("Organisation demo", []credentials.Type{credentials.TypeAny}, key)
	if err != nil {
		t.Fatal(err)
	}
	iss.StatusBase = e.ts.URL + "/status/demo"
	trust := verifier.NewTrustList("test")
	if err := trust.Add(iss); err != nil {
		t.Fatal(err)
	}
	di, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(verifier.Options{Trust: trust, Fetcher: verifier.HTTPStatusFetcher{Client: e.ts.Client()}, Formats: []verifier.FormatParser{di}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// vcIssue issues over the VC API and returns the verifiableCredential.
func (e *env) vcIssue(t *testing.T, body string, as who) json.RawMessage {
	t.Helper()
	res := e.do(http.MethodPost, "/credentials/issue", "application/json", body, as)
	out := readBody(t, res)
	if res.StatusCode != http.StatusCreated || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("issue: %d %s", res.StatusCode, out)
	}
	var resp struct {
		VerifiableCredential json.RawMessage `json:"verifiableCredential"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil || len(resp.VerifiableCredential) == 0 {
		t.Fatalf("issue: %v: %s", err, out)
	}
	return resp.VerifiableCredential
}

// vcSetStatus posts a status update and checks its answer.
func (e *env) vcSetStatus(t *testing.T, body string, as who, want int) string {
	t.Helper()
	res := e.do(http.MethodPost, "/credentials/status", "application/json", body, as)
	out := readBody(t, res)
	if res.StatusCode != want {
		t.Fatalf("status update: %d, want %d: %s", res.StatusCode, want, out)
	}
	return out
}

func wantReason(t *testing.T, err error, reason verifier.Reason) {
	t.Helper()
	var ve *verifier.Error
	if !errors.As(err, &ve) || ve.Reason != reason {
		t.Fatalf("%v, want %v", err, reason)
	}
}

// TestVCAPIIssueVerifyRevoke issues a Data Integrity credential with a
// revocation and a suspension entry over the VC API, verifies it with the
// verifier library's Data Integrity path against the server's status
// lists, suspends, reinstates and revokes it through /credentials/status,
// and sees each state.
func TestVCAPIIssueVerifyRevoke(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	registrar, supervisor := e.asToken("demo", issuer.RoleRegistrar), e.asToken("demo", issuer.RoleSupervisor)
	id := "urn:uuid:7d3c6f1e-1d0f-4d5e-9a57-5b0f1c9e2a11"
	vc := e.vcIssue(t, vcIssueBody(vcCredential(func(m map[string]any) { m["id"] = id }),
		`{"credentialStatus":{"type":"BitstringStatusListEntry","statusPurpose":"suspension"}}`), registrar)
	var doc struct {
		Proof            map[string]any   `json:"proof"`
		CredentialStatus []map[string]any `json:"credentialStatus"`
	}
	if err := json.Unmarshal(vc, &doc); err != nil || doc.Proof["cryptosuite"] != "eddsa-rdfc-2022" || len(doc.CredentialStatus) != 2 {
		t.Fatalf("not a Data Integrity credential with two status entries (%v): %s", err, vc)
	}
	v := e.vcVerifier(t)
	got, err := v.Verify(ctx, vc)
	if err != nil {
		t.Fatalf("verify the new credential: %v", err)
	}
	if !got.Status.Checked || got.View().Issuer != demoDID {
		t.Fatalf("status not checked, or another issuer: %+v", got)
	}

	entry := func(purpose string) string {
		return fmt.Sprintf(`{"credentialId":%q,"credentialStatus":{"type":"BitstringStatusListEntry","statusPurpose":%q}`, id, purpose)
	}
	e.vcSetStatus(t, entry("suspension")+`}`, registrar, http.StatusOK)
	_, err = e.vcVerifier(t).Verify(ctx, vc)
	wantReason(t, err, verifier.Suspended)
	e.vcSetStatus(t, entry("suspension")+`,"status":false}`, registrar, http.StatusOK)
	if _, err := e.vcVerifier(t).Verify(ctx, vc); err != nil {
		t.Fatalf("reinstated: %v", err)
	}

	// Only a supervisor revokes.
	before := e.state("demo")
	e.vcSetStatus(t, entry("revocation")+`}`, registrar, http.StatusForbidden)
	if e.state("demo") != before {
		t.Fatal("a refused revocation changed something")
	}
	if out := e.vcSetStatus(t, entry("revocation")+`}`, supervisor, http.StatusOK); !strings.Contains(out, `"state":"revoked"`) || !strings.Contains(out, `"source":"vc-api"`) {
		t.Fatalf("revoke: %s", out)
	}
	_, err = e.vcVerifier(t).Verify(ctx, vc)
	wantReason(t, err, verifier.Revoked)
	// Revoked is for good.
	e.vcSetStatus(t, entry("suspension")+`,"status":false}`, registrar, http.StatusConflict)
	e.vcSetStatus(t, entry("revocation")+`,"status":false}`, supervisor, http.StatusConflict)
}

// TestVCAPIEnvelopedJWT issues an enveloped VC-JWT with a revocation entry,
// verifies it, and revokes it with the older form of the status update.
func TestVCAPIEnvelopedJWT(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	vc := e.vcIssue(t, vcIssueBody(vcCredential(nil), `{"format":"jwt","credentialStatus":{"type":"BitstringStatusListEntry"}}`), e.asStaff("demo", issuer.RoleSupervisor))
	var env struct {
		Context []string `json:"@context"`
		Type    string   `json:"type"`
		ID      string   `json:"id"`
	}
	if err := json.Unmarshal(vc, &env); err != nil || env.Type != "EnvelopedVerifiableCredential" || !strings.HasPrefix(env.ID, "data:application/vc+jwt,") ||
		len(env.Context) != 1 || env.Context[0] != credentials.BaseContext {
		t.Fatalf("not an enveloped VC-JWT (%v): %s", err, vc)
	}
	got, err := e.vcVerifier(t).Verify(ctx, vc)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !got.Status.Checked || got.View().ID == "" {
		t.Fatalf("no status checked, or no id drawn: %+v", got.View())
	}
	e.vcSetStatus(t, fmt.Sprintf(`{"credentialId":%q,"credentialStatus":[{"type":"BitstringStatusListCredential","status":"revoked"}]}`, got.View().ID),
		e.asToken("demo", issuer.RoleSupervisor), http.StatusOK)
	_, err = e.vcVerifier(t).Verify(ctx, vc)
	wantReason(t, err, verifier.Revoked)
	// It has no suspension entry.
	e.vcSetStatus(t, fmt.Sprintf(`{"credentialId":%q,"credentialStatus":{"type":"BitstringStatusListEntry","statusPurpose":"suspension"}}`, got.View().ID),
		e.asToken("demo", issuer.RoleSupervisor), http.StatusBadRequest)
}

// TestVCAPIWithoutStatus: a credential asked without status keeps no
// record, and verifies with no status to check.
func TestVCAPIWithoutStatus(t *testing.T) {
	e := newEnv(t)
	before := e.state("demo")
	vc := e.vcIssue(t, vcIssueBody(vcCredential(func(m map[string]any) {
		m["issuer"] = map[string]any{"id": demoDID, "name": "Organisation demo"}
		m["validFrom"] = "2026-01-01T00:00:00Z"
		m["name"] = map[string]any{"@value": "Alumni card", "@language": "en"}
		m["description"] = []any{"An example", map[string]any{"@value": "Un exemple", "@language": "fr"}}
		m["termsOfUse"] = map[string]any{"type": "ExampleTermsOfUse", "id": "https://example.org/tos"}
	}), ""), e.asToken("demo", issuer.RoleRegistrar))
	if e.state("demo") != before {
		t.Fatal("a credential without status left a record")
	}
	got, err := e.vcVerifier(t).Verify(context.Background(), vc)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.Checked || len(got.View().Status) != 0 {
		t.Fatalf("status: %+v", got.Status)
	}
}

// TestStatusListAsJSONLD: a status list asked for as JSON-LD is a
// BitstringStatusListCredential with a Data Integrity proof by the
// organisation, with the same bits as the VC-JWT served by default.
func TestStatusListAsJSONLD(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.Revoke(context.Background(), issuer.SystemPrincipal("test"), "demo", e.revokeID); err != nil {
		t.Fatal(err)
	}
	rec, err := e.svc.CredentialRecord(context.Background(), "demo", e.revokeID)
	if err != nil {
		t.Fatal(err)
	}
	get := func(accept string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, e.ts.URL+fmt.Sprintf("/status/demo/revocation/%d", rec.List), nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		res, err := e.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, accept := range []string{"", "*/*", "application/vc+jwt", "application/vc+jwt, application/json"} {
		if res := get(accept); res.Header.Get("Content-Type") != "application/vc+jwt" {
			t.Fatalf("Accept %q: %s, want a VC-JWT", accept, res.Header.Get("Content-Type"))
		}
	}
	res := get("application/vc+ld+json")
	body := readBody(t, res)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/vc+ld+json" || !strings.Contains(res.Header.Get("Vary"), "Accept") {
		t.Fatalf("%d %s %q", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	di, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := di.Parse(context.Background(), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	key, err := e.svc.SigningKey(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if err := cred.VerifySignature(key.Public); err != nil || cred.Issuer() != demoDID {
		t.Fatalf("the list does not verify as demo's: %v", err)
	}
	var slc struct {
		Type    []string `json:"type"`
		Subject struct {
			Type        string `json:"type"`
			Purpose     string `json:"statusPurpose"`
			EncodedList string `json:"encodedList"`
		} `json:"credentialSubject"`
	}
	if err := json.Unmarshal([]byte(body), &slc); err != nil || slc.Subject.Type != "BitstringStatusList" || slc.Subject.Purpose != "revocation" {
		t.Fatalf("%v: %s", err, body)
	}
	bits, err := credentials.DecodeBitstring(slc.Subject.EncodedList)
	if err != nil {
		t.Fatal(err)
	}
	if bits[rec.Index/8]&(0x80>>(rec.Index%8)) == 0 {
		t.Fatal("the revoked credential's bit is clear in the JSON-LD list")
	}
	// The token list has no JSON-LD form.
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/status/demo/token/0", nil)
	req.Header.Set("Accept", "application/json")
	if res, err := e.ts.Client().Do(req); err != nil || res.Header.Get("Content-Type") != credentials.TokenStatusListMediaType {
		t.Fatalf("token list: %v %v", err, res.Header.Get("Content-Type"))
	}
}

// TestVCAPIOpen: with the open conformance flag, the VC API routes need
// no credentials and act for the organisation given; other routes stay
// guarded.
func TestVCAPIOpen(t *testing.T) {
	e := newEnv(t)
	srv, err := tallyhttp.New(tallyhttp.Options{Issuer: e.svc, Files: web.FS, VCAPIOpenOrg: "demo", Logger: slog.New(slog.NewJSONHandler(e.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	post := func(path, body string) (int, string) {
		res, err := http.Post(ts.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, readBody(t, res)
	}
	code, body := post("/credentials/issue", vcIssueBody(vcCredential(func(m map[string]any) { m["id"] = "urn:example:open:1" }), `{"credentialStatus":{"type":"BitstringStatusListEntry"}}`))
	if code != http.StatusCreated || !strings.Contains(body, "eddsa-rdfc-2022") {
		t.Fatalf("issue: %d %s", code, body)
	}
	if code, body := post("/credentials/status", `{"credentialId":"urn:example:open:1","credentialStatus":{"type":"BitstringStatusListEntry","statusPurpose":"revocation"}}`); code != http.StatusOK || !strings.Contains(body, `"state":"revoked"`) {
		t.Fatalf("status: %d %s", code, body)
	}
	if code, _ := post("/credentials/issue", vcIssueBody(vcCredential(func(m map[string]any) { m["issuer"] = "did:web:tally.example:orgs:other" }), "")); code != http.StatusBadRequest {
		t.Fatalf("another organisation's DID: %d", code)
	}
	if code, _ := post("/api/v1/orgs/demo/registrations/search", `{"name":"Fatima"}`); code != http.StatusUnauthorized {
		t.Fatalf("an API route: %d, want 401", code)
	}
}
