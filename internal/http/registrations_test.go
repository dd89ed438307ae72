package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tally-id/tally/issuer"
)

// TestRegisterPages walks the registration desk's pages as a registrar:
// Faadumo Xasan Cabdi, born the day Fatima was, is shown as likely
// Fatima, with why; "create anyway" needs the box ticked; linking records
// the visit on Fatima's registration.
func TestRegisterPages(t *testing.T) {
	e := newEnv(t)
	as := e.asStaff("demo", issuer.RoleRegistrar)
	secondVisit := form("programme", "MPCA-2026", "consent.given", "yes", "consent.method", "guardian", "consent.language", "ar",
		"fullName", "Faadumo Xasan Cabdi", "dateOfBirth", "1991-03-14", "gender", "female")

	res := e.do("GET", "/issuer/register", "", "", as)
	page := readBody(t, res)
	consentAt, personAt := strings.Index(page, `name="consent.given"`), strings.Index(page, `name="fullName"`)
	if res.StatusCode != 200 || consentAt < 0 || personAt < consentAt || !strings.Contains(page, "Monthly cash in 2026.") {
		t.Fatalf("the form does not put consent first (%d)", res.StatusCode)
	}

	before := e.state("demo")
	res = e.do("POST", "/issuer/register", formType, secondVisit, as)
	page = readBody(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, "This person may be registered already") ||
		!strings.Contains(page, "same name (the spelling may differ)") || !strings.Contains(page, "same date of birth") ||
		!strings.Contains(page, "KE-DAD-2026-000123") || !strings.Contains(page, `action="/issuer/registrations/`+e.regID+`/link"`) ||
		!strings.Contains(page, `name="confirm"`) {
		t.Fatalf("no duplicate prompt (%d): %s", res.StatusCode, page)
	}
	if e.state("demo") != before {
		t.Fatal("the duplicate prompt changed something")
	}
	// Sent again without ticking the box: the prompt again.
	if res = e.do("POST", "/issuer/register", formType, secondVisit, as); res.StatusCode != 200 || e.state("demo") != before {
		t.Fatalf("without confirming: %d", res.StatusCode)
	}

	// Link: the visit goes onto Fatima's registration.
	link := form("programme", "MPCA-2026", "consent.given", "yes", "consent.method", "guardian", "consent.language", "ar")
	res = e.do("POST", "/issuer/registrations/"+e.regID+"/link", formType, link, as)
	if res.StatusCode != 303 || res.Header.Get("Location") != "/issuer/registrations/"+e.regID+"?done=linked" {
		t.Fatalf("link: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	res = e.do("GET", res.Header.Get("Location"), "", "", as)
	page = readBody(t, res)
	if !strings.Contains(page, "This visit is linked") || !strings.Contains(page, "Later visits") || !strings.Contains(page, "A parent or guardian agreed") {
		t.Fatalf("registration after linking: %s", page)
	}
	reg, err := e.svc.Registration(context.Background(), "demo", e.regID)
	if err != nil || len(reg.Links) != 1 || reg.Links[0].Consent.StaffID != e.staffID["demo/registrar"] {
		t.Fatalf("links %+v %v", reg.Links, err)
	}

	// Create anyway, with the box ticked.
	res = e.do("POST", "/issuer/register", formType, secondVisit+"&confirm=yes", as)
	loc := res.Header.Get("Location")
	if res.StatusCode != 303 || !regexp.MustCompile(`^/issuer/registrations/[a-z2-7]{16}\?done=registered$`).MatchString(loc) {
		t.Fatalf("create anyway: %d %s", res.StatusCode, loc)
	}
	page = readBody(t, e.do("GET", loc, "", "", as))
	if !strings.Contains(page, "Faadumo Xasan Cabdi") || !strings.Contains(page, "MPCA-2026-") || !strings.Contains(page, "Registered.") {
		t.Fatalf("the new registration: %s", page)
	}

	// Search finds both through the blind indexes; an auditor may search.
	res = e.do("POST", "/issuer/search", formType, form("q", "Fatima Hassan Abdi"), e.asStaff("demo", issuer.RoleAuditor))
	page = readBody(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, "2 found") || strings.Contains(page, `href="/issuer/register"`) {
		t.Fatalf("search: %d %s", res.StatusCode, page)
	}
	res = e.do("POST", "/issuer/search", formType, form("q", "KE-DAD-2026-000123"), as)
	if page = readBody(t, res); !strings.Contains(page, "1 found") || !strings.Contains(page, "same registration ID") {
		t.Fatalf("search by ID: %s", page)
	}

	// In Arabic, right to left.
	res = e.do("GET", "/issuer/registrations/"+e.regID+"?lang=ar", "", "", as)
	if page = readBody(t, res); !strings.Contains(page, `dir="rtl"`) || !strings.Contains(page, `lang="ar"`) {
		t.Fatalf("Arabic: %.400s", page)
	}
}

// TestRegisterAPI: an integration registers with consent, is told of a
// likely duplicate with the registrations that match, links, and
// corrects.
func TestRegisterAPI(t *testing.T) {
	e := newEnv(t)
	as := e.asToken("demo", issuer.RoleSupervisor)
	body := `{"fullName":"Faadumo Xasan Cabdi","dateOfBirth":"1991-03-14","programme":"MPCA-2026",` +
		`"consent":{"given":true,"method":"written","language":"so","staffId":"` + e.staffID["demo/supervisor"] + `"}}`
	res := e.do("POST", "/api/v1/orgs/demo/registrations", "application/json", body, as)
	var dup struct {
		Error      struct{ Code string }
		Duplicates []issuer.Match
	}
	if err := json.NewDecoder(res.Body).Decode(&dup); err != nil || res.StatusCode != 409 || dup.Error.Code != "likely_duplicates" ||
		len(dup.Duplicates) != 1 || dup.Duplicates[0].Registration.ID != e.regID || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %+v %v", res.StatusCode, dup, err)
	}

	res = e.do("POST", "/api/v1/orgs/demo/registrations", "application/json", strings.Replace(body, `"programme"`, `"confirm":true,"programme"`, 1), as)
	var reg issuer.Registration
	if err := json.NewDecoder(res.Body).Decode(&reg); err != nil || res.StatusCode != 201 || reg.CreatedBy == "" || !strings.HasPrefix(reg.CreatedBy, "token:") ||
		reg.Consent.StaffID != e.staffID["demo/supervisor"] {
		t.Fatalf("confirmed: %d %+v %v", res.StatusCode, reg, err)
	}
	res = e.do("GET", "/api/v1/orgs/demo/registrations/"+reg.ID, "", "", as)
	if got := readBody(t, res); res.StatusCode != 200 || strings.Contains(got, "dedupSeed") || !strings.Contains(got, `"fullName":"Faadumo Xasan Cabdi"`) {
		t.Fatalf("get: %d %s", res.StatusCode, got)
	}
	res = e.do("PATCH", "/api/v1/orgs/demo/registrations/"+reg.ID, "application/json", `{"fullName":"Faadumo Xasan Cabdi Warsame","rev":1}`, as)
	if got := readBody(t, res); res.StatusCode != 200 || !strings.Contains(got, `"fields":["fullName"]`) || !strings.Contains(got, `"rev":2`) {
		t.Fatalf("correct: %d %s", res.StatusCode, got)
	}
	res = e.do("POST", "/api/v1/orgs/demo/registrations/search", "application/json", `{"name":"Warsame"}`, as)
	var found struct{ Matches []issuer.Match }
	if err := json.NewDecoder(res.Body).Decode(&found); err != nil || len(found.Matches) != 1 || found.Matches[0].Registration.ID != reg.ID {
		t.Fatalf("search: %+v %v", found, err)
	}
	// A verifier reads nothing.
	if res = e.do("GET", "/api/v1/orgs/demo/registrations/"+reg.ID, "", "", e.asToken("demo", issuer.RoleVerifier)); res.StatusCode != http.StatusForbidden {
		t.Fatalf("verifier: %d", res.StatusCode)
	}
}
