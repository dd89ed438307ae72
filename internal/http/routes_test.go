package http_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"context"

	tallyhttp "github.com/tally-id/tally/internal/http"
	"github.com/tally-id/tally/issuer"
)

// badInput is a request a route must refuse, changing nothing.
type badInput struct {
	name, contentType, body string
	status                  int
	fields                  []string
	// now, when set, makes the body at the time of the request.
	now func() string
}

// routeCase says how to call a guarded route well, and badly.
type routeCase struct {
	contentType string
	good        func(n int) string // a body that succeeds; n makes it unique
	status      int
	// otherStatus is the answer to another organisation's staff on a
	// route without :org in its path, when it is not status: their own
	// organisation has no such registration (404), or the body names
	// demo's staff (400).
	otherStatus int
	// public says the page may name other organisations of the instance:
	// it shows what the whole instance trusts (their public names and
	// DIDs), never their people.
	instanceWide bool
	bad          []badInput
}

func staffJSON(name, username, role string) string {
	return fmt.Sprintf(`{"name":%q,"username":%q,"role":%q}`, name, username, role)
}

// unique is a name whose key no other has: a part of digits only is its
// own key.
func unique(first string, n int) string { return fmt.Sprintf("%s %d", first, n) }

func programmeJSON(code, name string) string {
	return fmt.Sprintf(`{"code":%q,"name":%q,"languages":["en","so"],"retentionMonths":12,"credentialTypes":["registration"],"purpose":"Cash."}`, code, name)
}

// guardedCases must name every guarded route: a new route without a case
// fails TestRouteTable.
func guardedCases(e *env) map[string]routeCase {
	const jsonType = "application/json"
	registrar := e.staffID["demo/registrar"]
	consent := []string{"programme", "MPCA-2026", "consent.given", "yes", "consent.method", "verbal", "consent.language", "so", "consent.staffId", registrar}
	person := func(name string, kv ...string) string {
		return form(append(append([]string{"fullName", name}, consent...), kv...)...)
	}
	consentJSON := fmt.Sprintf(`"consent":{"given":true,"method":"written","language":"ar","staffId":%q}`, registrar)
	rev := func() string {
		reg, err := e.svc.Registration(context.Background(), "demo", e.regID)
		if err != nil {
			e.t.Fatal(err)
		}
		return fmt.Sprint(reg.Rev)
	}
	correction := func(kv ...string) string {
		base := []string{"registrationId", "KE-DAD-2026-000123", "fullName", "Fatima Hassan Abdi", "dateOfBirth", "1991-03-14", "gender", "female", "rev", rev()}
		return form(append(base, kv...)...)
	}
	return map[string]routeCase{
		"GET /issuer/":                {status: http.StatusOK},
		"GET /admin/staff":            {status: http.StatusOK},
		"GET /api/v1/whoami":          {status: http.StatusOK},
		"GET /api/v1/orgs/:org/staff": {status: http.StatusOK},
		"POST /admin/staff": {
			contentType: formType, status: http.StatusCreated,
			good: func(n int) string {
				return form("name", "New Person", "username", fmt.Sprintf("new-%d", n), "role", "registrar")
			},
			bad: []badInput{
				{"empty form", formType, "", http.StatusBadRequest, []string{"name", "username", "role"}, nil},
				{"unknown role", formType, form("name", "X", "username", "xavier", "role", "root"), http.StatusBadRequest, []string{"role"}, nil},
				{"user name taken", formType, form("name", "X", "username", "demo-auditor", "role", "auditor"), http.StatusBadRequest, []string{"username"}, nil},
				{"user name with spaces", formType, form("name", "X", "username", "x y", "role", "auditor"), http.StatusBadRequest, []string{"username"}, nil},
				{"name too long", formType, form("name", strings.Repeat("n", 101), "username", "xavier", "role", "auditor"), http.StatusBadRequest, []string{"name"}, nil},
			},
		},
		"POST /api/v1/orgs/:org/staff": {
			contentType: jsonType, status: http.StatusCreated,
			good: func(n int) string { return staffJSON("New Person", fmt.Sprintf("api-%d", n), "verifier") },
			bad: []badInput{
				{"not JSON", formType, form("name", "X"), http.StatusBadRequest, []string{"body"}, nil},
				{"malformed JSON", jsonType, `{"name":`, http.StatusBadRequest, []string{"body"}, nil},
				{"unknown field", jsonType, `{"name":"X","username":"xavier","role":"auditor","admin":true}`, http.StatusBadRequest, []string{"body"}, nil},
				{"two objects", jsonType, staffJSON("X", "xavier", "auditor") + `{}`, http.StatusBadRequest, []string{"body"}, nil},
				{"empty object", jsonType, `{}`, http.StatusBadRequest, []string{"name", "username", "role"}, nil},
				{"unknown role", jsonType, staffJSON("X", "xavier", "root"), http.StatusBadRequest, []string{"role"}, nil},
				{"user name taken in another organisation", jsonType, staffJSON("X", "other-auditor", "auditor"), http.StatusBadRequest, []string{"username"}, nil},
				{"too large", jsonType, `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, http.StatusRequestEntityTooLarge, nil, nil},
			},
		},

		"GET /admin/programmes":       {status: http.StatusOK},
		"GET /admin/programmes/:code": {status: http.StatusOK},
		"POST /admin/programmes": {
			contentType: formType, status: http.StatusSeeOther,
			good: func(n int) string {
				return form("code", fmt.Sprintf("P-%d", n), "name", "Programme", "languages", "en, so", "retentionMonths", "12",
					"type_RegistrationCredential", "on", "purpose", "Cash.")
			},
			bad: []badInput{
				{"empty form", formType, "", http.StatusBadRequest, []string{"code", "name", "languages", "retentionMonths", "credentialTypes", "purpose"}, nil},
				{"code taken", formType, form("code", "MPCA-2026", "name", "P", "languages", "en", "retentionMonths", "12", "type_RegistrationCredential", "on", "purpose", "Cash."), http.StatusBadRequest, []string{"code"}, nil},
				{"not a language", formType, form("code", "NEW", "name", "P", "languages", "English", "retentionMonths", "12", "type_RegistrationCredential", "on", "purpose", "Cash."), http.StatusBadRequest, []string{"languages"}, nil},
				{"retention not a number", formType, form("code", "NEW", "name", "P", "languages", "en", "retentionMonths", "two years", "type_RegistrationCredential", "on", "purpose", "Cash."), http.StatusBadRequest, []string{"retentionMonths"}, nil},
			},
		},
		"POST /admin/programmes/:code": {
			contentType: formType, status: http.StatusSeeOther,
			good: func(n int) string {
				return form("name", fmt.Sprintf("Cash %d", n), "languages", "en, so, ar", "retentionMonths", "24",
					"type_RegistrationCredential", "on", "purpose", "Monthly cash in 2026.")
			},
			bad: []badInput{
				{"empty form", formType, "", http.StatusBadRequest, []string{"name", "languages", "retentionMonths", "credentialTypes", "purpose"}, nil},
				{"unknown credential type", formType, form("name", "P", "languages", "en", "retentionMonths", "12", "purpose", "Cash."), http.StatusBadRequest, []string{"credentialTypes"}, nil},
			},
		},
		"GET /api/v1/orgs/:org/programmes":       {status: http.StatusOK},
		"GET /api/v1/orgs/:org/programmes/:code": {status: http.StatusOK},
		"POST /api/v1/orgs/:org/programmes": {
			contentType: jsonType, status: http.StatusCreated,
			good: func(n int) string { return programmeJSON(fmt.Sprintf("API-%d", n), "Programme") },
			bad: []badInput{
				{"not JSON", formType, form("code", "X"), http.StatusBadRequest, []string{"body"}, nil},
				{"unknown field", jsonType, `{"code":"X","owner":"me"}`, http.StatusBadRequest, []string{"body"}, nil},
				{"empty object", jsonType, `{}`, http.StatusBadRequest, []string{"code", "name", "languages", "retentionMonths", "credentialTypes", "purpose"}, nil},
				{"code taken", jsonType, programmeJSON("MPCA-2026", "P"), http.StatusBadRequest, []string{"code"}, nil},
				{"retention as text", jsonType, `{"code":"X","retentionMonths":"2y"}`, http.StatusBadRequest, []string{"body"}, nil},
			},
		},
		"PUT /api/v1/orgs/:org/programmes/:code": {
			contentType: jsonType, status: http.StatusOK,
			good: func(n int) string { return programmeJSON("", fmt.Sprintf("Cash %d", n)) },
			bad: []badInput{
				{"empty object", jsonType, `{}`, http.StatusBadRequest, []string{"name", "languages", "retentionMonths", "credentialTypes", "purpose"}, nil},
				{"another code", jsonType, programmeJSON("OTHER", "P"), http.StatusBadRequest, []string{"code"}, nil},
			},
		},

		"GET /issuer/register": {status: http.StatusOK},
		"POST /issuer/register": {
			contentType: formType, status: http.StatusSeeOther, otherStatus: http.StatusBadRequest,
			good: func(n int) string { return person(unique("Amina", n), "householdSize", "3") },
			bad: []badInput{
				// Without a programme, the page asks for one first.
				{"empty form", formType, "", http.StatusBadRequest, []string{"programme"}, nil},
				{"consent not ticked", formType, form("fullName", "Amina Noor", "programme", "MPCA-2026", "consent.method", "verbal", "consent.language", "so"), http.StatusBadRequest, []string{"consent.given"}, nil},
				{"unknown programme", formType, person("Amina Noor", "programme", "NOPE"), http.StatusBadRequest, []string{"programme"}, nil},
				{"a date that is not one", formType, person("Amina Noor", "dateOfBirth", "14/03/1991"), http.StatusBadRequest, []string{"dateOfBirth"}, nil},
				{"household not a number", formType, person("Amina Noor", "householdSize", "five"), http.StatusBadRequest, []string{"householdSize"}, nil},
				{"registration ID taken, even confirmed", formType, person("Amina Noor", "registrationId", "KE-DAD-2026-000123", "confirm", "yes"), http.StatusBadRequest, []string{"registrationId"}, nil},
			},
		},
		"GET /issuer/search": {status: http.StatusOK},
		"POST /issuer/search": {
			contentType: formType, status: http.StatusOK,
			good: func(int) string { return form("q", "Faadumo", "dateOfBirth", "1991") },
			bad: []badInput{
				{"nothing to search for", formType, "", http.StatusBadRequest, []string{"q"}, nil},
				{"a date that is not one", formType, form("q", "Fatima", "dateOfBirth", "March 1991"), http.StatusBadRequest, []string{"dateOfBirth"}, nil},
			},
		},
		"GET /issuer/registrations/:id":         {status: http.StatusOK, otherStatus: http.StatusNotFound},
		"GET /issuer/registrations/:id/correct": {status: http.StatusOK, otherStatus: http.StatusNotFound},
		"POST /issuer/registrations/:id/correct": {
			contentType: formType, status: http.StatusSeeOther, otherStatus: http.StatusNotFound,
			good: func(n int) string { return correction("householdSize", fmt.Sprint(n)) },
			bad: []badInput{
				{"no revision", formType, form("fullName", "Fatima Hassan Abdi"), http.StatusBadRequest, []string{"rev"}, nil},
				{name: "no name", contentType: formType, status: http.StatusBadRequest, fields: []string{"fullName"},
					now: func() string { return correction("fullName", "") }},
				{name: "a date that is not one", contentType: formType, status: http.StatusBadRequest, fields: []string{"dateOfBirth"},
					now: func() string { return correction("dateOfBirth", "1991-02-30") }},
				{name: "an older revision", contentType: formType, status: http.StatusConflict,
					now: func() string { return correction("rev", "1", "householdSize", "9") }},
			},
		},
		"POST /issuer/registrations/:id/link": {
			contentType: formType, status: http.StatusSeeOther, otherStatus: http.StatusNotFound,
			good: func(int) string { return form(consent...) },
			bad: []badInput{
				{"empty form", formType, "", http.StatusBadRequest, []string{"programme", "consent.given", "consent.method", "consent.language"}, nil},
				{"consent not ticked", formType, form("programme", "MPCA-2026", "consent.method", "verbal", "consent.language", "so"), http.StatusBadRequest, []string{"consent.given"}, nil},
			},
		},
		"POST /api/v1/orgs/:org/registrations": {
			contentType: jsonType, status: http.StatusCreated,
			good: func(n int) string {
				return fmt.Sprintf(`{"fullName":%q,"programme":"MPCA-2026",%s}`, unique("Khadija", n), consentJSON)
			},
			bad: []badInput{
				{"not JSON", formType, form("fullName", "X"), http.StatusBadRequest, []string{"body"}, nil},
				{"unknown field", jsonType, `{"fullName":"X","photo":"..."}`, http.StatusBadRequest, []string{"body"}, nil},
				{"empty object", jsonType, `{}`, http.StatusBadRequest, []string{"fullName", "programme", "consent.given", "consent.method", "consent.language"}, nil},
				{"no consent", jsonType, `{"fullName":"Khadija Noor","programme":"MPCA-2026"}`, http.StatusBadRequest, []string{"consent.given", "consent.method", "consent.language"}, nil},
				{"a seed", jsonType, `{"fullName":"Khadija Noor","programme":"MPCA-2026","dedupSeed":"AAAAAAAAAAAAAAAAAAAAAA",` + consentJSON + `}`, http.StatusBadRequest, []string{"dedupSeed"}, nil},
				{"consent taken by a verifier", jsonType, fmt.Sprintf(`{"fullName":"Khadija Noor","programme":"MPCA-2026","consent":{"given":true,"method":"verbal","language":"so","staffId":%q}}`, e.staffID["demo/verifier"]), http.StatusBadRequest, []string{"consent.staffId"}, nil},
				{"likely a duplicate", jsonType, `{"fullName":"Faadumo Xasan Cabdi","dateOfBirth":"1991-03-14","programme":"MPCA-2026",` + consentJSON + `}`, http.StatusConflict, nil, nil},
			},
		},
		"POST /api/v1/orgs/:org/registrations/search": {
			contentType: jsonType, status: http.StatusOK,
			good: func(int) string { return `{"name":"Fatima"}` },
			bad: []badInput{
				{"empty object", jsonType, `{}`, http.StatusBadRequest, []string{"query"}, nil},
				{"a date that is not one", jsonType, `{"dateOfBirth":"14.3.1991"}`, http.StatusBadRequest, []string{"dateOfBirth"}, nil},
				{"unknown field", jsonType, `{"fullName":"Fatima"}`, http.StatusBadRequest, []string{"body"}, nil},
			},
		},
		"GET /api/v1/orgs/:org/registrations/:id": {status: http.StatusOK},
		"PATCH /api/v1/orgs/:org/registrations/:id": {
			contentType: jsonType, status: http.StatusOK,
			good: func(n int) string { return fmt.Sprintf(`{"householdSize":%d}`, n%150+1) },
			bad: []badInput{
				{"unknown field", jsonType, `{"programme":"OTHER"}`, http.StatusBadRequest, []string{"body"}, nil},
				{"a seed", jsonType, `{"dedupSeed":"AAAAAAAAAAAAAAAAAAAAAA"}`, http.StatusBadRequest, []string{"body"}, nil},
				{"no name", jsonType, `{"fullName":""}`, http.StatusBadRequest, []string{"fullName"}, nil},
				{"a date that is not one", jsonType, `{"dateOfBirth":"1991-13-01"}`, http.StatusBadRequest, []string{"dateOfBirth"}, nil},
				{"an older revision", jsonType, `{"householdSize":7,"rev":1}`, http.StatusConflict, nil, nil},
			},
		},
		"POST /api/v1/orgs/:org/registrations/:id/links": {
			contentType: jsonType, status: http.StatusCreated,
			good: func(int) string { return `{"programme":"MPCA-2026",` + consentJSON + `}` },
			bad: []badInput{
				{"empty object", jsonType, `{}`, http.StatusBadRequest, []string{"programme", "consent.given", "consent.method", "consent.language"}, nil},
				{"unknown programme", jsonType, `{"programme":"NOPE",` + consentJSON + `}`, http.StatusBadRequest, []string{"programme"}, nil},
			},
		},
	}
}

// issueCases are the cases of the routes that issue credentials and
// change their status.
func issueCases() map[string]routeCase {
	const jsonType = "application/json"
	return map[string]routeCase{
		"GET /api/v1/orgs/:org/registrations/:id/credentials": {status: http.StatusOK},
		"POST /api/v1/orgs/:org/registrations/:id/credentials": {
			contentType: jsonType, status: http.StatusCreated,
			good: func(int) string { return `{"type":"RegistrationCredential"}` },
			bad: []badInput{
				{"not JSON", formType, form("type", "RegistrationCredential"), http.StatusBadRequest, []string{"body"}, nil},
				{"empty object", jsonType, `{}`, http.StatusBadRequest, []string{"type"}, nil},
				{"unknown field", jsonType, `{"type":"RegistrationCredential","name":"Fatima"}`, http.StatusBadRequest, []string{"body"}, nil},
				{"unknown format", jsonType, `{"type":"RegistrationCredential","format":"pdf"}`, http.StatusBadRequest, []string{"format"}, nil},
				{"a type the programme does not issue", jsonType, `{"type":"EligibilityCredential"}`, http.StatusBadRequest, []string{"type"}, nil},
				{"unknown programme", jsonType, `{"type":"EligibilityCredential","programme":"NOPE"}`, http.StatusBadRequest, []string{"programme"}, nil},
			},
		},
		"POST /issuer/registrations/:id/credentials": {
			contentType: formType, status: http.StatusSeeOther, otherStatus: http.StatusNotFound,
			good: func(int) string { return form("type", "RegistrationCredential") },
			bad: []badInput{
				{"empty form", formType, "", http.StatusBadRequest, []string{"type"}, nil},
				{"a type the programme does not issue", formType, form("type", "EligibilityCredential", "programme", "MPCA-2026"), http.StatusBadRequest, []string{"type"}, nil},
				{"unknown programme", formType, form("type", "EligibilityCredential", "programme", "NOPE"), http.StatusBadRequest, []string{"programme"}, nil},
			},
		},
		"GET /issuer/credentials/:cred":                      {status: http.StatusOK, otherStatus: http.StatusNotFound},
		"GET /issuer/credentials/:cred/card.pdf":             {status: http.StatusOK, otherStatus: http.StatusNotFound},
		"GET /issuer/credentials/:cred/card.png":             {status: http.StatusOK, otherStatus: http.StatusNotFound},
		"POST /issuer/credentials/:cred/revoke":              {contentType: formType, status: http.StatusSeeOther, otherStatus: http.StatusNotFound},
		"POST /issuer/credentials/:cred/suspend":             {contentType: formType, status: http.StatusSeeOther, otherStatus: http.StatusNotFound},
		"POST /issuer/credentials/:cred/reinstate":           {contentType: formType, status: http.StatusSeeOther, otherStatus: http.StatusNotFound},
		"POST /api/v1/orgs/:org/credentials/:cred/revoke":    {status: http.StatusOK},
		"POST /api/v1/orgs/:org/credentials/:cred/suspend":   {status: http.StatusOK},
		"POST /api/v1/orgs/:org/credentials/:cred/reinstate": {status: http.StatusOK},
	}
}

// path makes a route's pattern a path: demo's Fatima for :id, its
// programme for :code.
func (e *env) path(pattern, org string) string {
	cred := e.credID
	if strings.HasSuffix(pattern, "/revoke") {
		cred = e.revokeID
	}
	id := e.regID
	if strings.HasSuffix(pattern, "/erase") {
		id = e.eraseID() // retention: not Fatima's, which other routes use
	}
	if strings.Contains(pattern, "/imports/") {
		id = e.importID
	}
	if strings.Contains(pattern, "/verify/referrals/") || strings.Contains(pattern, "/referrals/received/") {
		id = e.receivedReferralID() // referrals (issue 7): one demo received
	}
	return strings.NewReplacer(":org", org, ":id", id, ":code", "MPCA-2026", ":cred", cred,
		":domain", walkDomain, ":peer", walkPeer, // domains (issue 7)
		":tx", e.vpTx, // oid4vp (issue 7)
		":wallet", e.walletParam(pattern)). // wallet/account (issue 8)
		Replace(e.keysPath(pattern))
}

// TestRouteTable walks the route table: every guarded route refuses a
// request with no credentials (401; a page redirects a browser to the
// sign-in form), a role it does not admit (403), another organisation's
// staff and tokens (403), serves every role it admits, and refuses bad
// input with a clear error, changing nothing.
func TestRouteTable(t *testing.T) {
	e := newEnv(t)
	cases := guardedCases(e)
	for k, v := range issueCases() {
		cases[k] = v
	}
	for k, v := range vcapiCases(e) {
		cases[k] = v
	}
	// OpenID4VCI offers (oid4vci_routes_test.go).
	for k, v := range offerCases() {
		cases[k] = v
	}
	for k, v := range keysCases() {
		cases[k] = v
	}
	for k, v := range retentionCases() {
		cases[k] = v
	}
	for k, v := range importCases(e) {
		cases[k] = v
	}
	// domains (issue 7): the dedup registry (domains_test.go).
	for k, v := range domainsCases(e) {
		cases[k] = v
	}
	// oid4vp (oid4vp_routes_test.go).
	for k, v := range oid4vpCases(e) {
		cases[k] = v
	}
	for k, v := range referralCases(e) { // referrals (issue 7)
		cases[k] = v
	}
	// trust: the verifier's trust pages and API (trust_test.go).
	for k, v := range trustCases(e) {
		cases[k] = v
	}
	// desk (issue 7): desk_test.go.
	for k, v := range deskCases(e) {
		cases[k] = v
	}
	// vcapi (issue 7): the VC API verifier routes (vcverify_test.go).
	for k, v := range vcverifyCases(e) {
		cases[k] = v
	}
	for k, v := range vpverifyCases(e) {
		cases[k] = v
	}
	// wallet/account (issue 8): staff give reset codes (wallet_account_test.go).
	for k, v := range walletStaffCases(e) {
		cases[k] = v
	}
	seen := map[string]bool{}
	n := 0
	for _, r := range e.srv.Routes() {
		if r.Public || r.Holder { // the wallet's routes: TestWalletRouteTable
			continue
		}
		key := r.Method + " " + r.Path
		seen[key] = true
		rc, ok := cases[key]
		if !ok {
			t.Errorf("route %s has no case in guardedCases", key)
			continue
		}
		path := e.path(r.Path, "demo")
		body := func() string {
			if rc.good == nil {
				return ""
			}
			n++
			return rc.good(n)
		}
		t.Run(key, func(t *testing.T) {
			t.Run("no credentials", func(t *testing.T) {
				for _, as := range []who{{}, {session: "forged"}, {token: "tally_forged"}, {token: "not-a-token"}} {
					res := e.do(r.Method, path, rc.contentType, body(), as)
					switch {
					case r.Kind == tallyhttp.Page && r.Method == http.MethodGet:
						if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/signin?next=") {
							t.Fatalf("%+v: %d to %q, want 303 to the sign-in form", as, res.StatusCode, res.Header.Get("Location"))
						}
					case r.Kind == tallyhttp.API:
						if code, _ := apiErr(t, res); res.StatusCode != http.StatusUnauthorized || code != "unauthenticated" {
							t.Fatalf("%+v: %d %s, want 401", as, res.StatusCode, code)
						}
						if res.Header.Get("WWW-Authenticate") == "" {
							t.Fatal("401 without WWW-Authenticate")
						}
					default:
						if res.StatusCode != http.StatusUnauthorized {
							t.Fatalf("%+v: %d, want 401", as, res.StatusCode)
						}
					}
				}
			})
			t.Run("roles", func(t *testing.T) {
				for _, role := range issuer.AllRoles() {
					for _, as := range []who{e.asStaff("demo", role), e.asToken("demo", role)} {
						before := e.state("demo")
						res := e.do(r.Method, path, rc.contentType, body(), as)
						if !slices.Contains(r.Roles, role) {
							if res.StatusCode != http.StatusForbidden {
								t.Fatalf("role %s: %d, want 403", role, res.StatusCode)
							}
							if e.state("demo") != before {
								t.Fatalf("role %s: a refused request changed demo", role)
							}
							continue
						}
						if res.StatusCode != rc.status {
							t.Fatalf("role %s: %d, want %d: %s", role, res.StatusCode, rc.status, readBody(t, res))
						}
					}
				}
			})
			t.Run("another organisation", func(t *testing.T) {
				for _, as := range []who{e.asStaff("other", r.Roles[0]), e.asToken("other", r.Roles[0])} {
					before := e.state("demo")
					res := e.do(r.Method, path, rc.contentType, body(), as)
					if e.state("demo") != before {
						t.Fatal("another organisation's request changed demo")
					}
					if r.OrgScoped() {
						if res.StatusCode != http.StatusForbidden {
							t.Fatalf("%d, want 403", res.StatusCode)
						}
						continue
					}
					// Without an organisation in its path, a route acts on the
					// caller's own: it serves, and shows nothing of demo.
					page := readBody(t, res)
					want := rc.status
					if rc.otherStatus != 0 {
						want = rc.otherStatus
					}
					if res.StatusCode != want || !rc.instanceWide && (strings.Contains(page, "Organisation demo") || strings.Contains(page, "demo-")) ||
						strings.Contains(page, "KE-DAD-2026-000123") || strings.Contains(page, "Hassan") {
						t.Fatalf("%d, want %d, or demo shows through: %.300s", res.StatusCode, want, page)
					}
				}
			})
			for _, bad := range rc.bad {
				t.Run("bad input: "+bad.name, func(t *testing.T) {
					before := e.state("demo") + e.state("other")
					body := bad.body
					if bad.now != nil {
						body = bad.now()
					}
					res := e.do(r.Method, path, bad.contentType, body, e.asStaff("demo", r.Roles[0]))
					if res.StatusCode != bad.status {
						t.Fatalf("%d, want %d: %s", res.StatusCode, bad.status, readBody(t, res))
					}
					if r.Kind == tallyhttp.API {
						if _, fields := apiErr(t, res); !slices.Equal(fields, bad.fields) {
							t.Fatalf("fields %v, want %v", fields, bad.fields)
						}
					} else {
						page := readBody(t, res)
						if !strings.Contains(page, `role="alert"`) {
							t.Fatal("the page says nothing of the error")
						}
						for _, f := range bad.fields {
							if !strings.Contains(page, `id="`+f+`-error"`) {
								t.Fatalf("the page does not mark field %s", f)
							}
						}
					}
					if e.state("demo")+e.state("other") != before {
						t.Fatal("bad input changed something")
					}
				})
			}
		})
	}
	for key := range cases {
		if !seen[key] {
			t.Errorf("guardedCases names %s, which is not a guarded route", key)
		}
	}
}

// TestOwnOrganisationOnly: the routes without an organisation in their
// path act on the caller's own organisation only.
func TestOwnOrganisationOnly(t *testing.T) {
	e := newEnv(t)
	res := e.do(http.MethodGet, "/admin/staff", "", "", e.asStaff("other", issuer.RoleAdmin))
	page := readBody(t, res)
	if res.StatusCode != http.StatusOK || strings.Contains(page, "demo-registrar") || !strings.Contains(page, "other-registrar") {
		t.Fatalf("other's admin sees demo's staff, or not their own (%d)", res.StatusCode)
	}
	before := e.staffCount("demo")
	res = e.do(http.MethodPost, "/admin/staff", formType, form("name", "Omar", "username", "omar", "role", "auditor"), e.asStaff("other", issuer.RoleAdmin))
	if res.StatusCode != http.StatusCreated || e.staffCount("demo") != before {
		t.Fatalf("%d; demo's staff %d → %d", res.StatusCode, before, e.staffCount("demo"))
	}
	res = e.do(http.MethodGet, "/api/v1/whoami", "", "", e.asToken("other", issuer.RoleVerifier))
	if body := readBody(t, res); !strings.Contains(body, `"org":"other"`) || !strings.Contains(body, `"role":"verifier"`) {
		t.Fatalf("whoami = %s", body)
	}
}

// TestCrossOrigin: a form posted from another site is refused, even with
// a valid session, and changes nothing.
func TestCrossOrigin(t *testing.T) {
	e := newEnv(t)
	admin := e.asStaff("demo", issuer.RoleAdmin)
	tests := []struct {
		name   string
		header []string
		want   int
	}{
		{"another site, by Sec-Fetch-Site", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"another origin", []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"same origin", []string{"Sec-Fetch-Site", "same-origin"}, http.StatusCreated},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.staffCount("demo")
			res := e.do(http.MethodPost, "/admin/staff", formType, form("name", "Eve", "username", fmt.Sprintf("eve-%d", i), "role", "admin"), admin, tc.header...)
			if res.StatusCode != tc.want {
				t.Fatalf("%d, want %d", res.StatusCode, tc.want)
			}
			if tc.want == http.StatusForbidden && e.staffCount("demo") != before {
				t.Fatal("a refused cross-origin post added staff")
			}
		})
	}
}
