package http_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/trustsync"
)

// trustKey is a key made from a label.
func trustKey(t testing.TB, label, did string) *credentials.Key {
	t.Helper()
	seed := sha256.Sum256([]byte("trust " + label))
	k, err := credentials.NewKey(ed25519.NewKeyFromSeed(seed[:]), did)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func trustJWK(t testing.TB, label string) string {
	t.Helper()
	j, err := credentials.PublicJWK(trustKey(t, label, "did:web:anchor.example"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// plainTrustList is an organisation's own trust list, named name, naming
// one made-up issuer.
func plainTrustList(t testing.TB, name string) string {
	t.Helper()
	k := trustKey(t, name, "did:web:"+strings.ReplaceAll(strings.ToLower(name), " ", "-")+".example")
	iss, err := verifier.NewTrustedIssuer("Issuer of "+name, credentials.Types(), k)
	if err != nil {
		t.Fatal(err)
	}
	l := verifier.NewTrustList(name)
	if err := l.Add(iss); err != nil {
		t.Fatal(err)
	}
	raw, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// trustCases are the route-walk cases of the trust routes.
func trustCases(e *env) map[string]routeCase {
	const jsonType = "application/json"
	t := e.t
	addAnchor := func(n int) string {
		a, err := e.trust.AddAnchor(context.Background(), fmt.Sprintf("Anchor %d", n), []byte(trustJWK(t, fmt.Sprintf("removable %d", n))))
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	addList := func(n int) string {
		src, err := e.trust.AddList(context.Background(), trustsync.NewList{Raw: []byte(plainTrustList(t, fmt.Sprintf("Removable %d", n)))})
		if err != nil {
			t.Fatal(err)
		}
		return src.ID
	}
	return map[string]routeCase{
		// The instance's own organisations are trusted issuers: their
		// names and DIDs are public.
		"GET /verify/trust": {status: http.StatusOK, instanceWide: true},
		"GET /admin/trust":  {status: http.StatusOK, instanceWide: true},
		"POST /admin/trust/anchors": {
			contentType: formType, status: http.StatusSeeOther,
			good: func(n int) string {
				return form("name", fmt.Sprintf("Consortium %d", n), "jwk", trustJWK(t, fmt.Sprint(n)))
			},
			bad: []badInput{
				{name: "no name", contentType: formType, body: form("name", "", "jwk", trustJWK(t, "x")), status: http.StatusBadRequest, fields: []string{"name"}},
				{name: "not a key", contentType: formType, body: form("name", "X", "jwk", `{"kty":"OKP"}`), status: http.StatusBadRequest, fields: []string{"jwk"}},
				{name: "a private key", contentType: formType, body: form("name", "X", "jwk", `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}`), status: http.StatusBadRequest, fields: []string{"jwk"}},
			},
		},
		"POST /admin/trust/anchors/remove": {
			contentType: formType, status: http.StatusSeeOther,
			good: func(n int) string { return form("anchor", addAnchor(n)) },
			bad:  []badInput{{name: "unknown anchor", contentType: formType, body: form("anchor", "nope"), status: http.StatusBadRequest, fields: []string{"anchor"}}},
		},
		"POST /admin/trust/lists": {
			contentType: formType, status: http.StatusSeeOther,
			good: func(n int) string { return form("list", plainTrustList(t, fmt.Sprintf("List %d", n))) },
			bad: []badInput{
				{name: "nothing", contentType: formType, body: form("list", ""), status: http.StatusBadRequest, fields: []string{"list"}},
				{name: "not a list", contentType: formType, body: form("list", `{"version":1,"issuers":[{"did":"nope"}]}`), status: http.StatusBadRequest, fields: []string{"list"}},
				{name: "plain http elsewhere", contentType: formType, body: form("url", "http://trust.example/list"), status: http.StatusBadRequest, fields: []string{"url"}},
				{name: "bad interval", contentType: formType, body: form("url", "https://trust.example/list", "interval", "soon"), status: http.StatusBadRequest, fields: []string{"interval"}},
			},
		},
		"POST /admin/trust/lists/remove": {
			contentType: formType, status: http.StatusSeeOther,
			good: func(n int) string { return form("list", addList(n)) },
			bad: []badInput{
				{name: "unknown list", contentType: formType, body: form("list", "nope"), status: http.StatusBadRequest, fields: []string{"list"}},
			},
		},
		"POST /admin/trust/refresh":   {contentType: formType, status: http.StatusSeeOther},
		"GET /api/v1/orgs/:org/trust": {status: http.StatusOK},
		"POST /api/v1/orgs/:org/trust/anchors": {
			contentType: jsonType, status: http.StatusCreated,
			good: func(n int) string {
				return fmt.Sprintf(`{"name":"Consortium %d","jwk":%s}`, n, trustJWK(t, fmt.Sprint("api", n)))
			},
			bad: []badInput{
				{name: "no name", contentType: jsonType, body: `{"name":"","jwk":` + trustJWK(t, "y") + `}`, status: http.StatusBadRequest, fields: []string{"name"}},
				{name: "not a key", contentType: jsonType, body: `{"name":"X","jwk":{"kty":"OKP"}}`, status: http.StatusBadRequest, fields: []string{"jwk"}},
				{name: "not JSON", contentType: jsonType, body: `{`, status: http.StatusBadRequest, fields: []string{"body"}},
			},
		},
		"POST /api/v1/orgs/:org/trust/anchors/remove": {
			contentType: jsonType, status: http.StatusOK,
			good: func(n int) string { return fmt.Sprintf(`{"anchor":%q}`, addAnchor(n+100000)) },
			bad:  []badInput{{name: "unknown anchor", contentType: jsonType, body: `{"anchor":"nope"}`, status: http.StatusBadRequest, fields: []string{"anchor"}}},
		},
		"POST /api/v1/orgs/:org/trust/lists": {
			contentType: jsonType, status: http.StatusCreated,
			good: func(n int) string { return `{"list":` + plainTrustList(t, fmt.Sprintf("API list %d", n)) + `}` },
			bad: []badInput{
				{name: "nothing", contentType: jsonType, body: `{}`, status: http.StatusBadRequest, fields: []string{"list"}},
				{name: "not https", contentType: jsonType, body: `{"url":"ftp://trust.example/list"}`, status: http.StatusBadRequest, fields: []string{"url"}},
				{name: "interval too short", contentType: jsonType, body: `{"url":"https://trust.example/list","interval":"1s"}`, status: http.StatusBadRequest, fields: []string{"interval"}},
			},
		},
		"POST /api/v1/orgs/:org/trust/lists/remove": {
			contentType: jsonType, status: http.StatusOK,
			good: func(n int) string { return fmt.Sprintf(`{"list":%q}`, addList(n+100000)) },
			bad:  []badInput{{name: "unknown list", contentType: jsonType, body: `{"list":"nope"}`, status: http.StatusBadRequest, fields: []string{"list"}}},
		},
		"POST /api/v1/orgs/:org/trust/refresh": {contentType: jsonType, status: http.StatusOK},
	}
}

// TestTrustPages: the pages show what is trusted and kept, in plain words,
// and the admin's changes take effect on the verifier at once.
func TestTrustPages(t *testing.T) {
	e := newEnv(t)
	admin := e.asStaff("demo", issuer.RoleConsortium)
	res := e.do(http.MethodPost, "/admin/trust/lists", formType, form("list", plainTrustList(t, "Partner list")), admin)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("%d: %s", res.StatusCode, readBody(t, res))
	}
	k := trustKey(t, "Partner list", "did:web:partner-list.example")
	if _, ok := e.trust.TrustList().Issuer(k.DID); !ok {
		t.Fatal("the verifier does not trust the list's issuer")
	}
	page := readBody(t, e.do(http.MethodGet, "/verify/trust", "", "", e.asStaff("demo", issuer.RoleVerifier)))
	for _, want := range []string{"Partner list", "In force", "Online", "with a warning"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not say %q", want)
		}
	}
	res = e.do(http.MethodGet, "/verify/trust?lang=ar", "", "", e.asStaff("demo", issuer.RoleVerifier))
	if page := readBody(t, res); !strings.Contains(page, `dir="rtl"`) || !strings.Contains(page, "قوائم الثقة السارية") {
		t.Error("the Arabic page is not right-to-left, or not translated")
	}
	// A page with no trust service answers 404 (checked in the env's
	// server by removing nothing): the verifier's page is there.
	if res := e.do(http.MethodGet, "/admin/trust", "", "", e.asStaff("demo", issuer.RoleVerifier)); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a verifier on the admin page: %d", res.StatusCode)
	}
}

// TestTrustUploads: an anchor's JWK and a signed list come as files on the
// admin page (multipart), and the list is in force at once; the same list
// again is accepted (not older), an older one is refused, naming the field.
func TestTrustUploads(t *testing.T) {
	e := newEnv(t)
	admin := e.asStaff("demo", issuer.RoleConsortium)
	upload := func(path string, fields map[string]string, fileField, file string) *http.Response {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for k, v := range fields {
			_ = w.WriteField(k, v)
		}
		fw, err := w.CreateFormFile(fileField, fileField+".txt")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write([]byte(file))
		w.Close()
		return e.do(http.MethodPost, path, w.FormDataContentType(), buf.String(), admin)
	}
	if res := upload("/admin/trust/anchors", map[string]string{"name": "Consortium"}, "jwkfile", trustJWK(t, "uploaded anchor")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("anchor file: %d %s", res.StatusCode, readBody(t, res))
	}
	anchor := trustKey(t, "uploaded anchor", "did:web:anchor.example")
	sign := func(at time.Time) string {
		l, err := verifier.ParseTrustList([]byte(plainTrustList(t, "Signed list")), verifier.TrustListOptions{AllowUnsigned: true})
		if err != nil {
			t.Fatal(err)
		}
		body, err := verifier.SignTrustList(l, anchor, at, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return string(body)
	}
	now := time.Now()
	for _, body := range []string{sign(now.Add(-time.Minute)), sign(now.Add(-time.Minute))} {
		if res := upload("/admin/trust/lists", nil, "listfile", body); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("signed list file: %d %s", res.StatusCode, readBody(t, res))
		}
	}
	k := trustKey(t, "Signed list", "did:web:signed-list.example")
	if _, ok := e.trust.TrustList().Issuer(k.DID); !ok {
		t.Fatal("the signed list's issuer is not trusted")
	}
	res := upload("/admin/trust/lists", nil, "listfile", sign(now.Add(-time.Hour)))
	page := readBody(t, res)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="list-error"`) || !strings.Contains(page, "older") {
		t.Fatalf("an older signed list: %d %.500s", res.StatusCode, page)
	}
}
