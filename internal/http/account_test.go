package http_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tally-id/tally/issuer"
)

var secretOnPage = regexp.MustCompile(`class="secret">([^<]+)<`)

// TestFirstSignInChangesPassword: a staff member who signs in with a
// one-time password is sent to /account/password, kept there (pages
// redirect, posts are refused), and goes where they were going once they
// have chosen a password that the rules accept.
func TestFirstSignInChangesPassword(t *testing.T) {
	e := newEnv(t)
	admin := e.asStaff("demo", issuer.RoleAdmin)
	res := e.do(http.MethodPost, "/admin/staff", formType, form("name", "Nasra Ali", "username", "nasra", "role", "registrar"), admin)
	oneTime := secretOnPage.FindStringSubmatch(readBody(t, res))[1]
	e.secrets = append(e.secrets, oneTime, "Nasra Ali")

	res = e.do(http.MethodPost, "/signin", formType, form("username", "nasra", "password", oneTime, "next", "/issuer/register"), who{})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/password?next=%2Fissuer%2Fregister" {
		t.Fatalf("sign in: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	var session string
	for _, c := range res.Cookies() {
		if c.Name == "tally_session" {
			session = c.Value
		}
	}
	e.secrets = append(e.secrets, session)
	nasra := who{session: session}
	if res := e.do(http.MethodGet, "/issuer/search", "", "", nasra); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/account/password?next=") {
		t.Fatalf("a page before choosing: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	before := e.state("demo")
	if res := e.do(http.MethodPost, "/issuer/search", formType, form("q", "Fatima"), nasra); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a post before choosing: %d", res.StatusCode)
	}
	page := readBody(t, e.do(http.MethodGet, "/account/password?next=%2Fissuer%2Fregister", "", "", nasra))
	if !strings.Contains(page, "one-time password") || !strings.Contains(page, `name="next" value="/issuer/register"`) {
		t.Fatalf("the password page: %.500s", page)
	}
	res = e.do(http.MethodPost, "/account/password", formType, form("current", oneTime, "new", "nasra2026nasra", "next", "/issuer/register"), nasra)
	if page := readBody(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="new-error"`) || !strings.Contains(page, "user name") {
		t.Fatalf("a password with the user name: %d", res.StatusCode)
	}
	if e.state("demo") != before {
		t.Fatal("a refused change changed demo")
	}
	const chosen = "amber lighthouse tamarind kite"
	e.secrets = append(e.secrets, chosen)
	res = e.do(http.MethodPost, "/account/password", formType, form("current", oneTime, "new", chosen, "next", "/issuer/register"), nasra)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/issuer/register" {
		t.Fatalf("choose: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res := e.do(http.MethodGet, "/issuer/register", "", "", nasra); res.StatusCode != http.StatusOK {
		t.Fatalf("after choosing: %d", res.StatusCode)
	}
}

// TestSignInTooMany: after five wrong passwords for a user name from one
// client, even the right one gets 429 with Retry-After and a page that
// says when to try again.
func TestSignInTooMany(t *testing.T) {
	e := newEnv(t)
	for range 5 {
		if res := e.do(http.MethodPost, "/signin", formType, form("username", "demo-auditor", "password", "a wrong guess"), who{}); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a wrong password: %d", res.StatusCode)
		}
	}
	res := e.do(http.MethodPost, "/signin", formType, form("username", "demo-auditor", "password", ownPassword("demo-auditor")), who{})
	page := readBody(t, res)
	retry, _ := strconv.Atoi(res.Header.Get("Retry-After"))
	if res.StatusCode != http.StatusTooManyRequests || retry < 1 || retry > 900 || !strings.Contains(page, "Try again in 15 minutes") || !strings.Contains(page, `role="alert"`) {
		t.Fatalf("the sixth: %d, Retry-After %q: %.300s", res.StatusCode, res.Header.Get("Retry-After"), page)
	}
	for _, c := range res.Cookies() {
		if c.Name == "tally_session" && c.Value != "" {
			t.Fatal("a refused sign-in got a session")
		}
	}
	// Another user name is not held up.
	if res := e.do(http.MethodPost, "/signin", formType, form("username", "demo-verifier", "password", ownPassword("demo-verifier")), who{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("another user: %d", res.StatusCode)
	}
}

// TestResetAndDisable: an administrator resets a password (the new
// one-time password is shown once, the old sessions end) and disables a
// staff member (their session ends, they cannot sign in); an
// administrator cannot disable themselves.
func TestResetAndDisable(t *testing.T) {
	e := newEnv(t)
	admin := e.asStaff("demo", issuer.RoleAdmin)
	sup := e.asStaff("demo", issuer.RoleSupervisor)
	id := e.staffID["demo/supervisor"]
	res := e.do(http.MethodPost, "/admin/staff/"+id+"/password", formType, "", admin)
	page := readBody(t, res)
	m := secretOnPage.FindStringSubmatch(page)
	if res.StatusCode != http.StatusOK || m == nil || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("reset: %d", res.StatusCode)
	}
	e.secrets = append(e.secrets, m[1])
	if res := e.do(http.MethodGet, "/issuer/search", "", "", sup); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/signin") {
		t.Fatalf("the supervisor's session after a reset: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res = e.do(http.MethodPost, "/signin", formType, form("username", "demo-supervisor", "password", m[1]), who{})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/account/password") {
		t.Fatalf("sign in with the reset password: %d %q", res.StatusCode, res.Header.Get("Location"))
	}

	reg := e.asStaff("demo", issuer.RoleRegistrar)
	res = e.do(http.MethodPost, "/api/v1/orgs/demo/staff/"+e.staffID["demo/registrar"]+"/disable", "", "", e.asToken("demo", issuer.RoleAdmin))
	if body := readBody(t, res); res.StatusCode != http.StatusOK || !strings.Contains(body, `"disabled":true`) {
		t.Fatalf("disable: %d %s", res.StatusCode, body)
	}
	if res := e.do(http.MethodGet, "/api/v1/whoami", "", "", reg); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a disabled member's session: %d", res.StatusCode)
	}
	if res := e.do(http.MethodPost, "/signin", formType, form("username", "demo-registrar", "password", ownPassword("demo-registrar")), who{}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a disabled member signs in: %d", res.StatusCode)
	}
	staffPage := readBody(t, e.do(http.MethodGet, "/admin/staff", "", "", admin))
	if !strings.Contains(staffPage, "disabled") {
		t.Fatal("the staff page does not show who is disabled")
	}
	// Their own row has no buttons; posting anyway is refused.
	res = e.do(http.MethodPost, "/admin/staff/"+adminID(t, e)+"/disable", formType, "", admin)
	if page := readBody(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="staff-error"`) {
		t.Fatalf("disable oneself: %d", res.StatusCode)
	}
	if res := e.do(http.MethodPost, "/admin/staff/no-such-id/password", formType, "", admin); res.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown staff member: %d", res.StatusCode)
	}
}

func adminID(t *testing.T, e *env) string {
	list, err := e.svc.ListStaff(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range list {
		if st.Username == "admin-demo" {
			return st.ID
		}
	}
	t.Fatal("no admin-demo")
	return ""
}
