package http_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/web"
)

func TestPublicRoutes(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, method, path, contentType, body string
		status                                int
		check                                 func(t *testing.T, res *http.Response, body string)
	}{
		{"health", "GET", "/healthz", "", "", 200, nil},
		{"readiness", "GET", "/readyz", "", "", 200, nil},
		{"DID document", "GET", "/orgs/demo/did.json", "", "", 200, func(t *testing.T, res *http.Response, body string) {
			if !strings.Contains(body, `"id":"did:web:tally.example:orgs:demo"`) || res.Header.Get("Content-Type") != "application/did+json" {
				t.Fatalf("%s %s", res.Header.Get("Content-Type"), body)
			}
		}},
		{"DID document of no organisation", "GET", "/orgs/nope/did.json", "", "", 404, func(t *testing.T, res *http.Response, body string) {
			if !strings.Contains(body, `"code":"not_found"`) {
				t.Fatal(body)
			}
		}},
		{"style sheet", "GET", "/static/tally.css", "", "", 200, nil},
		{"no such file", "GET", "/static/nope.js", "", "", 404, nil},
		{"root", "GET", "/", "", "", 303, func(t *testing.T, res *http.Response, _ string) {
			if res.Header.Get("Location") != "/issuer/" {
				t.Fatal(res.Header.Get("Location"))
			}
		}},
		{"no such page", "GET", "/nope", "", "", 404, func(t *testing.T, res *http.Response, body string) {
			if !strings.Contains(body, "This page does not exist.") {
				t.Fatal(body)
			}
		}},
		{"no such API", "GET", "/api/v1/nope", "", "", 404, func(t *testing.T, res *http.Response, body string) {
			if !strings.Contains(body, `"code":"not_found"`) {
				t.Fatal(body)
			}
		}},
		{"wrong method", "DELETE", "/api/v1/whoami", "", "", 405, nil},
		{"sign-in form", "GET", "/signin?next=/admin/staff", "", "", 200, func(t *testing.T, res *http.Response, body string) {
			if !strings.Contains(body, `name="next" value="/admin/staff"`) || !strings.Contains(body, `autocomplete="current-password"`) {
				t.Fatal(body)
			}
		}},
		{"sign-in form will not send you elsewhere", "GET", "/signin?next=//evil.example/", "", "", 200, func(t *testing.T, res *http.Response, body string) {
			if !strings.Contains(body, `name="next" value="/"`) {
				t.Fatal(body)
			}
		}},
		{"wrong password", "POST", "/signin", formType, form("username", "admin-demo", "password", "wrong"), 401, func(t *testing.T, res *http.Response, body string) {
			if !strings.Contains(body, "The user name or the password is wrong.") || !strings.Contains(body, `value="admin-demo"`) || res.Header.Get("Set-Cookie") != "" {
				t.Fatal(body)
			}
		}},
		{"no user name", "POST", "/signin", formType, "", 401, nil},
		{"sign out without a session", "POST", "/signout", "", "", 303, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(tc.method, tc.path, tc.contentType, tc.body, who{})
			body := readBody(t, res)
			if res.StatusCode != tc.status {
				t.Fatalf("%d, want %d: %.300s", res.StatusCode, tc.status, body)
			}
			if tc.check != nil {
				tc.check(t, res, body)
			}
		})
	}
}

func TestSignInAndOut(t *testing.T) {
	e := newEnv(t)
	st, pw, err := e.svc.CreateStaff(t.Context(), issuer.SystemPrincipal("test"), "demo", issuer.NewStaff{Name: "Rita", Username: "rita", Role: issuer.RoleRegistrar})
	if err != nil {
		t.Fatal(err)
	}
	e.secrets = append(e.secrets, pw, st.Username)
	// Rita has chosen her own password (a one-time password leads to
	// /account/password first: TestFirstSignInChangesPassword).
	e.signIn("demo", "rita", "rita", pw)
	pw = ownPassword("rita")
	for _, next := range []string{"https://evil.example/", "//evil.example", `/\evil.example`} {
		res := e.do("POST", "/signin", formType, form("username", "rita", "password", pw, "next", next), who{})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
			t.Fatalf("next %q: %d to %q", next, res.StatusCode, res.Header.Get("Location"))
		}
	}
	res := e.do("POST", "/signin", formType, form("username", "RITA", "password", pw, "next", "/admin/staff"), who{})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/staff" {
		t.Fatalf("%d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	cookie := res.Header.Get("Set-Cookie")
	for _, attr := range []string{"tally_session=", "Path=/", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(cookie, attr) {
			t.Fatalf("cookie %q lacks %s", cookie, attr)
		}
	}
	id := res.Cookies()[0].Value
	e.secrets = append(e.secrets, id)
	res = e.do("GET", "/issuer/", "", "", who{session: id})
	if body := readBody(t, res); res.StatusCode != 200 || !strings.Contains(body, "Signed in as Rita (registrar) at Organisation demo.") {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	res = e.do("POST", "/signout", "", "", who{session: id})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("sign-out: %d %q", res.StatusCode, res.Header.Get("Set-Cookie"))
	}
	if res := e.do("GET", "/api/v1/whoami", "", "", who{session: id}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the session lives on after sign-out: %d", res.StatusCode)
	}
}

func TestLanguages(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, path string
		header     []string
		want       []string
	}{
		{"English by default", "/signin", nil, []string{`lang="en" dir="ltr"`, "Sign in"}},
		{"Arabic by ?lang, right to left", "/signin?lang=ar", nil, []string{`lang="ar" dir="rtl"`, "تسجيل الدخول", `dir="ltr"`}},
		{"French by Accept-Language", "/signin", []string{"Accept-Language", "fr-CH, fr;q=0.9, en;q=0.8"}, []string{`lang="fr"`, "Connexion"}},
		{"the language cookie", "/signin", []string{"Cookie", "tally_lang=ar"}, []string{`dir="rtl"`}},
		{"an error page in French", "/nope?lang=fr", nil, []string{`lang="fr"`, "Cette page n’existe pas."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := readBody(t, e.do("GET", tc.path, "", "", who{}, tc.header...))
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Fatalf("page lacks %q", w)
				}
			}
		})
	}
}

// TestCatalogue: every message a template asks for is in the English
// catalogue, and so is every role's name and every error's message.
func TestCatalogue(t *testing.T) {
	en, err := fs.ReadFile(web.FS, "messages/en.json")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range issuer.AllRoles() {
		keys = append(keys, "role_"+string(r))
	}
	keys = append(keys, "err_invalid", "err_unauthenticated", "err_forbidden", "err_not_found", "err_conflict", "err_too_large", "err_cross_origin", "err_method", "err_internal",
		"field_required", "field_format", "field_too_long", "field_unknown", "field_taken")
	names, _ := fs.Glob(web.FS, "templates/*.html")
	used := regexp.MustCompile(`\.Get "([a-z_]+)"`)
	for _, name := range names {
		data, _ := fs.ReadFile(web.FS, name)
		for _, m := range used.FindAllStringSubmatch(string(data), -1) {
			keys = append(keys, m[1])
		}
	}
	for _, k := range keys {
		if !strings.Contains(string(en), `"`+k+`":`) {
			t.Errorf("messages/en.json has no %q", k)
		}
	}
}

// TestCataloguesComplete: every catalogue translates every key of the
// English one (a missing key would show English in the middle of an
// Arabic page), with the same arguments, and nothing else.
func TestCataloguesComplete(t *testing.T) {
	read := func(name string) map[string]string {
		data, err := fs.ReadFile(web.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return m
	}
	en := read("messages/en.json")
	names, _ := fs.Glob(web.FS, "messages/*.json")
	if len(names) < 3 {
		t.Fatalf("catalogues: %v", names)
	}
	for _, name := range names {
		if name == "messages/en.json" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			m := read(name)
			for k, v := range en {
				tr, ok := m[k]
				switch {
				case !ok:
					t.Errorf("no %q (English: %q)", k, v)
				case strings.TrimSpace(tr) == "":
					t.Errorf("%q is empty", k)
				case !slices.Equal(verbs(tr), verbs(v)):
					t.Errorf("%q takes %v, English takes %v", k, verbs(tr), verbs(v))
				}
			}
			for k := range m {
				if _, ok := en[k]; !ok {
					t.Errorf("%q is not in en.json", k)
				}
			}
		})
	}
}

var verb = regexp.MustCompile(`%(?:\[(\d+)\])?([a-z%])`)

// verbs lists a message's fmt verbs by the argument each one takes (%[2]s
// lets a translation reorder them).
func verbs(s string) []string {
	var out []string
	next := 1
	for _, m := range verb.FindAllStringSubmatch(s, -1) {
		if m[2] == "%" {
			continue
		}
		n := next
		if m[1] != "" {
			n, _ = strconv.Atoi(m[1])
		}
		out = append(out, fmt.Sprintf("%d:%s", n, m[2]))
		next = n + 1
	}
	slices.Sort(out)
	return out
}
