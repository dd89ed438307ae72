package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
)

// eraseTargets holds, per env, the registration the erase routes erase in
// the route walk (not Fatima's, which the other routes use).
var eraseTargets sync.Map

// eraseID returns demo's registration of Hodan, made the first time.
func (e *env) eraseID() string {
	if id, ok := eraseTargets.Load(e); ok {
		return id.(string)
	}
	p := credentials.Registration{FullName: "Hodan Warsame Jama", DateOfBirth: "1975-06-02", Programme: "MPCA-2026"}
	reg, err := e.svc.Register(context.Background(), issuer.Principal{Org: "demo", Role: issuer.RoleRegistrar, StaffID: e.staffID["demo/registrar"]}, "demo",
		issuer.NewRegistration{Person: p, Consent: issuer.ConsentInput{Given: true, Method: issuer.ConsentVerbal, Language: "so"}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.secrets = append(e.secrets, "Hodan", "Warsame", "1975-06-02")
	eraseTargets.Store(e, reg.ID)
	return reg.ID
}

// retentionCases are the cases of the erasure, data key, audit page and
// anchor routes.
func retentionCases() map[string]routeCase {
	const jsonType = "application/json"
	return map[string]routeCase{
		"GET /issuer/registrations/:id/erase": {status: http.StatusOK, otherStatus: http.StatusNotFound},
		"POST /issuer/registrations/:id/erase": {
			contentType: formType, status: http.StatusSeeOther, otherStatus: http.StatusNotFound,
			good: func(int) string { return form("confirm", "yes") },
			bad: []badInput{
				{"not confirmed", formType, "", http.StatusBadRequest, []string{"confirm"}, nil},
				{"confirmed otherwise", formType, form("confirm", "on"), http.StatusBadRequest, []string{"confirm"}, nil},
			},
		},
		"POST /api/v1/orgs/:org/registrations/:id/erase": {
			contentType: jsonType, status: http.StatusOK,
			good: func(int) string { return `{"confirm":true}` },
			bad: []badInput{
				{"not JSON", formType, form("confirm", "yes"), http.StatusBadRequest, []string{"body"}, nil},
				{"empty object", jsonType, `{}`, http.StatusBadRequest, []string{"confirm"}, nil},
				{"not confirmed", jsonType, `{"confirm":false}`, http.StatusBadRequest, []string{"confirm"}, nil},
				{"unknown field", jsonType, `{"confirm":true,"reason":"asked"}`, http.StatusBadRequest, []string{"body"}, nil},
			},
		},
		"POST /api/v1/orgs/:org/datakey/rotate": {status: http.StatusOK},
		"GET /admin/datakey":                    {status: http.StatusOK},
		"POST /admin/datakey":                   {contentType: formType, status: http.StatusSeeOther},
		"GET /admin/audit":                      {status: http.StatusOK},
		"GET /api/v1/orgs/:org/audit/anchor":    {status: http.StatusOK},
	}
}

// TestEraseOnRequestHTTP: a supervisor erases Hodan's registration from
// her page; it then shows as erased, and nothing of her is served.
func TestEraseOnRequestHTTP(t *testing.T) {
	e := newEnv(t)
	id := e.eraseID()
	sup := e.asStaff("demo", issuer.RoleSupervisor)
	page := readBody(t, e.do(http.MethodGet, "/issuer/registrations/"+id, "", "", sup))
	if !strings.Contains(page, "/issuer/registrations/"+id+"/erase") {
		t.Fatal("a supervisor's registration page has no erase link")
	}
	page = readBody(t, e.do(http.MethodGet, "/issuer/registrations/"+id+"/erase", "", "", e.asStaff("demo", issuer.RoleAdmin)))
	if strings.Contains(page, "Hodan") || !strings.Contains(page, `name="confirm"`) {
		t.Fatalf("the confirmation page shows the person, or no confirmation: %.400s", page)
	}
	res := e.do(http.MethodPost, "/issuer/registrations/"+id+"/erase", formType, form("confirm", "yes"), sup)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("%d", res.StatusCode)
	}
	for _, path := range []string{"/issuer/registrations/" + id, "/issuer/registrations/" + id + "/erase"} {
		page := readBody(t, e.do(http.MethodGet, path, "", "", sup))
		if strings.Contains(page, "Hodan") || strings.Contains(page, "1975") || !strings.Contains(page, "Registration erased") {
			t.Fatalf("%s after erasure: %.600s", path, page)
		}
	}
	res = e.do(http.MethodGet, "/api/v1/orgs/demo/registrations/"+id, "", "", e.asToken("demo", issuer.RoleAuditor))
	body := readBody(t, res)
	if res.StatusCode != http.StatusOK || strings.Contains(body, "Hodan") || !strings.Contains(body, `"erasure":{`) || !strings.Contains(body, `"reason":"request"`) {
		t.Fatalf("the API after erasure: %d %s", res.StatusCode, body)
	}
	res = e.do(http.MethodPost, "/api/v1/orgs/demo/registrations/"+id+"/credentials", "application/json", `{"type":"RegistrationCredential"}`, e.asToken("demo", issuer.RoleRegistrar))
	if code, _ := apiErr(t, res); res.StatusCode != http.StatusGone || code != "erased" {
		t.Fatalf("issuing from an erased registration: %d %s", res.StatusCode, code)
	}
	res = e.do(http.MethodPatch, "/api/v1/orgs/demo/registrations/"+id, "application/json", `{"householdSize":2}`, e.asToken("demo", issuer.RoleRegistrar))
	if res.StatusCode != http.StatusGone {
		t.Fatalf("correcting an erased registration: %d", res.StatusCode)
	}
}

// TestAuditPage: the audit page lists the organisation's entries newest
// first, filters them, pages, verifies the chain, and refuses bad filters
// naming the field.
func TestAuditPage(t *testing.T) {
	e := newEnv(t)
	auditor := e.asStaff("demo", issuer.RoleAuditor)
	page := readBody(t, e.do(http.MethodGet, "/admin/audit", "", "", auditor))
	if !strings.Contains(page, "<td><bdi dir=\"ltr\">issue</bdi></td>") || !strings.Contains(page, "register") {
		t.Fatalf("the page lists no issue or register entry: %.800s", page)
	}
	// Newest first: the two cards were issued after the registration.
	if strings.Index(page, `<bdi dir="ltr">issue</bdi></td>`) > strings.Index(page, `<bdi dir="ltr">register</bdi></td>`) {
		t.Fatal("not newest first")
	}
	if strings.Contains(page, "organisation-create</bdi></td>") && strings.Contains(page, "Organisation other") {
		t.Fatal("the page shows another organisation")
	}
	if !strings.Contains(page, "<bdi>Staff demo-registrar</bdi>") || !strings.Contains(page, `<option value="`+e.staffID["demo/registrar"]+`">`) {
		t.Fatal("staff are not named beside their ids, or not offered to the filter")
	}
	page = readBody(t, e.do(http.MethodGet, "/admin/audit?actor="+e.staffID["demo/registrar"], "", "", auditor))
	rows := strings.Count(page, "<tr>") - 1
	if rows < 2 || strings.Count(page, `<td><bdi dir="ltr">staff:`+e.staffID["demo/registrar"]+`</bdi><br>`) != rows || !strings.Contains(page, `<bdi dir="ltr">register</bdi></td>`) {
		t.Fatalf("the actor filter: %d rows", rows)
	}
	page = readBody(t, e.do(http.MethodGet, "/admin/audit?action=register", "", "", auditor))
	if strings.Contains(page, `<bdi dir="ltr">issue</bdi></td>`) || !strings.Contains(page, `<bdi dir="ltr">register</bdi></td>`) {
		t.Fatal("the action filter does not filter")
	}
	page = readBody(t, e.do(http.MethodGet, "/admin/audit?verify=1", "", "", auditor))
	if !strings.Contains(page, "The chain is intact") {
		t.Fatalf("verify: %.600s", page)
	}
	for _, tc := range []struct{ query, field string }{
		{"action=delete-everything", "action"},
		{"from=yesterday", "from"},
		{"from=2026-11-03&to=2026-11-01", "to"},
		{"before=-1", "before"},
		{"actor=" + strings.Repeat("x", 300), "actor"},
	} {
		res := e.do(http.MethodGet, "/admin/audit?"+tc.query, "", "", auditor)
		page := readBody(t, res)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(page, `role="alert"`) || !strings.Contains(page, `id="`+tc.field+`-error"`) {
			t.Fatalf("%s: %d, or field %s not marked", tc.query, res.StatusCode, tc.field)
		}
	}
	// Paging: make more entries than a page holds.
	for range issuer.AuditPageSize/2 + 3 {
		if _, err := e.svc.Suspend(context.Background(), issuer.SystemPrincipal("test"), "demo", e.credID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Reinstate(context.Background(), issuer.SystemPrincipal("test"), "demo", e.credID); err != nil {
			t.Fatal(err)
		}
	}
	page = readBody(t, e.do(http.MethodGet, "/admin/audit", "", "", auditor))
	i := strings.Index(page, "/admin/audit?before=")
	if i < 0 || strings.Count(page, "<tr>") != issuer.AuditPageSize+1 {
		t.Fatalf("%d rows, or no link to older entries", strings.Count(page, "<tr>"))
	}
	next := page[i : strings.Index(page[i:], `"`)+i]
	next = strings.ReplaceAll(next, "&amp;", "&")
	older := readBody(t, e.do(http.MethodGet, next, "", "", auditor))
	if strings.Count(older, "<tr>") < 2 || !strings.Contains(older, `<bdi dir="ltr">register</bdi></td>`) {
		t.Fatalf("the older page: %d rows", strings.Count(older, "<tr>"))
	}
}

// TestAuditAnchorRoute: the anchor is the verified head, signed by the
// organisation's key as its DID document publishes it.
func TestAuditAnchorRoute(t *testing.T) {
	e := newEnv(t)
	res := e.do(http.MethodGet, "/api/v1/orgs/demo/audit/anchor", "", "", e.asToken("demo", issuer.RoleAuditor))
	var got struct {
		Anchor audit.SignedAnchorClaims `json:"anchor"`
		KID    string                   `json:"kid"`
		JWS    string                   `json:"jws"`
	}
	if err := json.Unmarshal([]byte(readBody(t, res)), &got); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%d %v", res.StatusCode, err)
	}
	sum, err := e.svc.VerifyAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Anchor.Seq != sum.Head.Seq || got.Anchor.Hash != sum.Head.Hash || got.Anchor.Entries != sum.Entries || got.Anchor.Org != "demo" {
		t.Fatalf("anchor %+v, head %+v", got.Anchor, sum)
	}
	doc, err := e.svc.DIDDocument(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	ok := false
	for _, vm := range doc.VerificationMethod {
		pub, err := credentials.ParseMultikey(vm.PublicKeyMultibase)
		if err != nil {
			t.Fatal(err)
		}
		k, err := credentials.NewPublicKey(pub, doc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := credentials.VerifyJSON([]byte(got.JWS), k, audit.SignedAnchorTyp); err == nil && vm.ID == got.KID {
			ok = true
		}
	}
	if !ok {
		t.Fatal("the anchor is not signed by a key of demo's DID document")
	}
	lines, err := audit.ParseAnchorLines([]byte(got.JWS + "\n"))
	if err != nil || lines[0].Anchor.Hash != sum.Head.Hash || lines[0].Org != "demo" {
		t.Fatalf("the JWS as an anchor file line: %+v %v", lines, err)
	}
}

// TestReferral: a registrar refers Fatima to a health organisation from
// her page, with her consent to pass on her name and date of birth; the
// card verifies and prints; over the API a VC-JWT carries the reason
// once. Bad input names the field and issues nothing.
func TestReferral(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.UpdateProgramme(ctx, issuer.SystemPrincipal("test"), "demo", "MPCA-2026", issuer.ProgrammeInput{
		Name: "Cash demo", Languages: []string{"en", "so", "ar"}, RetentionMonths: 24,
		CredentialTypes: []string{"registration", "referral"}, Purpose: "Monthly cash in 2026.",
	}); err != nil {
		t.Fatal(err)
	}
	reg := e.asStaff("demo", issuer.RoleRegistrar)
	page := readBody(t, e.do(http.MethodGet, "/issuer/registrations/"+e.regID, "", "", reg))
	if !strings.Contains(page, `value="ReferralCredential"`) || !strings.Contains(page, `name="referral.consent.fields" value="dateOfBirth"`) {
		t.Fatal("no referral form on the registration page")
	}
	good := []string{"type", "ReferralCredential", "programme", "MPCA-2026", "referral.referredTo", "did:web:health.example.org",
		"referral.service", "primary-health-care", "referral.urgency", "high", "referral.consent.purpose", "referral for health care",
		"referral.consent.method", "verbal", "referral.consent.given", "yes",
		"referral.consent.fields", "fullName", "referral.consent.fields", "dateOfBirth"}
	before := len(credentialsOf(t, e))
	bad := formMulti(append(slices.Clone(good[:len(good)-6]), "referral.consent.fields", "fullName", "referral.consent.fields", "photo")...)
	res := e.do(http.MethodPost, "/issuer/registrations/"+e.regID+"/credentials", formType, bad, reg)
	page = readBody(t, res)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="referral.consent.given-error"`) ||
		!strings.Contains(page, `id="referral.consent.fields-error"`) || !strings.Contains(page, `value="did:web:health.example.org"`) {
		t.Fatalf("bad referral: %d, fields not marked or values lost", res.StatusCode)
	}
	if len(credentialsOf(t, e)) != before {
		t.Fatal("a refused referral was issued")
	}
	res = e.do(http.MethodPost, "/issuer/registrations/"+e.regID+"/credentials", formType, formMulti(good...), reg)
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/issuer/credentials/") {
		t.Fatalf("referral: %d %s", res.StatusCode, readBody(t, res))
	}
	page = readBody(t, e.do(http.MethodGet, loc, "", "", reg))
	if !strings.Contains(page, "data:image/png;base64,") || !strings.Contains(page, "did:web:health.example.org") {
		t.Fatal("the referral's page shows no card or no receiving organisation")
	}
	credPath, _, _ := strings.Cut(loc, "?")
	res = e.do(http.MethodGet, credPath+"/card.pdf", "", "", reg)
	if body := readBody(t, res); res.StatusCode != http.StatusOK || !strings.HasPrefix(body, "%PDF") {
		t.Fatalf("the referral card's PDF: %d", res.StatusCode)
	}
	out, err := e.svc.Reprint(ctx, "demo", strings.TrimPrefix(credPath, "/issuer/credentials/"))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := credentials.ParseCard([]byte(out.Credential))
	if err != nil {
		t.Fatal(err)
	}
	sub := parsed.Credential().Subject.(*credentials.Referral)
	if sub.SharedFields["fullName"] != "Fatima Hassan Abdi" || sub.SharedFields["dateOfBirth"] != "1991-03-14" || len(sub.SharedFields) != 2 {
		t.Fatalf("shared %v", sub.SharedFields)
	}

	body := `{"type":"ReferralCredential","format":"jwt","referral":{"referredTo":"did:web:health.example.org","service":"primary-health-care",` +
		`"reason":"Follow-up of chronic condition","consent":{"given":true,"purpose":"referral for health care","method":"verbal","fields":["language"]}}}`
	res = e.do(http.MethodPost, "/api/v1/orgs/demo/registrations/"+e.regID+"/credentials", "application/json", body, e.asToken("demo", issuer.RoleRegistrar))
	var issued struct {
		Credential string `json:"credential"`
	}
	if err := json.Unmarshal([]byte(readBody(t, res)), &issued); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("API referral: %d %v", res.StatusCode, err)
	}
	pj, err := credentials.ParseJWT([]byte(issued.Credential))
	if err != nil {
		t.Fatal(err)
	}
	if s := pj.Credential().Subject.(*credentials.Referral); s.Reason != "Follow-up of chronic condition" || s.SharedFields["language"] != "som" {
		t.Fatalf("the JWT: %+v", s)
	}
	e.secrets = append(e.secrets, "chronic")
	res = e.do(http.MethodPost, "/api/v1/orgs/demo/registrations/"+e.regID+"/credentials", "application/json",
		`{"type":"ReferralCredential","referral":{"referredTo":"health","service":"x","consent":{"given":true,"purpose":"p","method":"sms"}}}`, e.asToken("demo", issuer.RoleRegistrar))
	if _, fields := apiErr(t, res); res.StatusCode != http.StatusBadRequest || !slices.Equal(fields, []string{"referral.referredTo", "referral.consent.method"}) {
		t.Fatalf("API bad referral: %d %v", res.StatusCode, fields)
	}
}

func credentialsOf(t *testing.T, e *env) []issuer.CredentialRecord {
	t.Helper()
	recs, err := e.svc.Credentials(context.Background(), "demo", e.regID)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// formMulti is form with repeated names kept (checkboxes).
func formMulti(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

// TestDataKeyPage: an administrator rotates the data key from its page;
// Fatima's registration still reads, and is found, under the new key.
func TestDataKeyPage(t *testing.T) {
	e := newEnv(t)
	admin := e.asStaff("demo", issuer.RoleAdmin)
	page := readBody(t, e.do(http.MethodGet, "/admin/datakey", "", "", admin))
	if !strings.Contains(page, "<dd>1</dd>") {
		t.Fatalf("version 1 not shown: %.600s", page)
	}
	res := e.do(http.MethodPost, "/admin/datakey", formType, "", admin)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/datakey?done=datakey_rotated" {
		t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Location"))
	}
	page = readBody(t, e.do(http.MethodGet, "/admin/datakey?done=datakey_rotated", "", "", admin))
	if !strings.Contains(page, "<dd>2</dd>") || !strings.Contains(page, "Rotated") {
		t.Fatalf("after rotation: %s", page[strings.Index(page, "<main"):])
	}
	m, err := e.svc.Search(context.Background(), "demo", issuer.SearchQuery{Name: "Fatima Hassan Abdi"})
	if err != nil || len(m) != 1 || m[0].Registration.ID != e.regID {
		t.Fatalf("search after rotation: %v %v", m, err)
	}
}
