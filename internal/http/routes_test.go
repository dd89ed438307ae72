package http_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	tallyhttp "github.com/tally-id/tally/internal/http"
	"github.com/tally-id/tally/issuer"
)

// badInput is a request a route must refuse, changing nothing.
type badInput struct {
	name, contentType, body string
	status                  int
	fields                  []string
}

// routeCase says how to call a guarded route well, and badly.
type routeCase struct {
	contentType string
	good        func(n int) string // a body that succeeds; n makes it unique
	status      int
	bad         []badInput
}

func staffJSON(name, username, role string) string {
	return fmt.Sprintf(`{"name":%q,"username":%q,"role":%q}`, name, username, role)
}

// guardedCases must name every guarded route: a new route without a case
// fails TestRouteTable.
func guardedCases() map[string]routeCase {
	const jsonType = "application/json"
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
				{"empty form", formType, "", http.StatusBadRequest, []string{"name", "username", "role"}},
				{"unknown role", formType, form("name", "X", "username", "xavier", "role", "root"), http.StatusBadRequest, []string{"role"}},
				{"user name taken", formType, form("name", "X", "username", "demo-auditor", "role", "auditor"), http.StatusBadRequest, []string{"username"}},
				{"user name with spaces", formType, form("name", "X", "username", "x y", "role", "auditor"), http.StatusBadRequest, []string{"username"}},
				{"name too long", formType, form("name", strings.Repeat("n", 101), "username", "xavier", "role", "auditor"), http.StatusBadRequest, []string{"name"}},
			},
		},
		"POST /api/v1/orgs/:org/staff": {
			contentType: jsonType, status: http.StatusCreated,
			good: func(n int) string { return staffJSON("New Person", fmt.Sprintf("api-%d", n), "verifier") },
			bad: []badInput{
				{"not JSON", formType, form("name", "X"), http.StatusBadRequest, []string{"body"}},
				{"malformed JSON", jsonType, `{"name":`, http.StatusBadRequest, []string{"body"}},
				{"unknown field", jsonType, `{"name":"X","username":"xavier","role":"auditor","admin":true}`, http.StatusBadRequest, []string{"body"}},
				{"two objects", jsonType, staffJSON("X", "xavier", "auditor") + `{}`, http.StatusBadRequest, []string{"body"}},
				{"empty object", jsonType, `{}`, http.StatusBadRequest, []string{"name", "username", "role"}},
				{"unknown role", jsonType, staffJSON("X", "xavier", "root"), http.StatusBadRequest, []string{"role"}},
				{"user name taken in another organisation", jsonType, staffJSON("X", "other-auditor", "auditor"), http.StatusBadRequest, []string{"username"}},
				{"too large", jsonType, `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, http.StatusRequestEntityTooLarge, nil},
			},
		},
	}
}

func concrete(path, org string) string { return strings.ReplaceAll(path, ":org", org) }

// TestRouteTable walks the route table: every guarded route refuses a
// request with no credentials (401; a page redirects a browser to the
// sign-in form), a role it does not admit (403), another organisation's
// staff and tokens (403), serves every role it admits, and refuses bad
// input with a clear error, changing nothing.
func TestRouteTable(t *testing.T) {
	e := newEnv(t)
	cases := guardedCases()
	seen := map[string]bool{}
	n := 0
	for _, r := range e.srv.Routes() {
		if r.Public {
			continue
		}
		key := r.Method + " " + r.Path
		seen[key] = true
		rc, ok := cases[key]
		if !ok {
			t.Errorf("route %s has no case in guardedCases", key)
			continue
		}
		path := concrete(r.Path, "demo")
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
						before := e.staffCount("demo")
						res := e.do(r.Method, path, rc.contentType, body(), as)
						if !slices.Contains(r.Roles, role) {
							if res.StatusCode != http.StatusForbidden {
								t.Fatalf("role %s: %d, want 403", role, res.StatusCode)
							}
							if e.staffCount("demo") != before {
								t.Fatalf("role %s: a refused request changed the staff", role)
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
					before := e.staffCount("demo")
					res := e.do(r.Method, path, rc.contentType, body(), as)
					if e.staffCount("demo") != before {
						t.Fatal("another organisation's request changed demo's staff")
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
					if res.StatusCode != rc.status || strings.Contains(page, "Organisation demo") || strings.Contains(page, "demo-") {
						t.Fatalf("%d, or demo shows through: %.300s", res.StatusCode, page)
					}
				}
			})
			for _, bad := range rc.bad {
				t.Run("bad input: "+bad.name, func(t *testing.T) {
					before := e.staffCount("demo") + e.staffCount("other")
					res := e.do(r.Method, path, bad.contentType, bad.body, e.asStaff("demo", r.Roles[0]))
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
					if after := e.staffCount("demo") + e.staffCount("other"); after != before {
						t.Fatalf("staff %d → %d after bad input", before, after)
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
