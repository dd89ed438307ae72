package http_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	tallyhttp "github.com/tally-id/tally/internal/http"
	"github.com/tally-id/tally/web"
)

// TestVCAPIOpenOnlyLocal: the open conformance mode answers only requests
// made on this machine. A reverse proxy on the same machine (which
// connects from loopback but names whom it relays), a web page whose host
// name was rebound to 127.0.0.1 (its Host is its own name), and a
// connection from another address are refused with 403, before the body
// is read, and nothing is issued or changed.
func TestVCAPIOpenOnlyLocal(t *testing.T) {
	e := newEnv(t)
	srv, err := tallyhttp.New(tallyhttp.Options{Issuer: e.svc, Files: web.FS, VCAPIOpenOrg: "demo", Logger: slog.New(slog.NewJSONHandler(e.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	issue := vcIssueBody(vcCredential(func(m map[string]any) { m["id"] = "urn:example:open:local" }), `{"credentialStatus":{"type":"BitstringStatusListEntry"}}`)
	status := `{"credentialId":"urn:example:open:local","credentialStatus":{"type":"BitstringStatusListEntry","statusPurpose":"revocation"}}`
	send := func(path, body string, set func(r *http.Request)) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		set(req)
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, res)
		return res.StatusCode
	}
	cases := []struct {
		name string
		set  func(r *http.Request)
	}{
		{"relayed by a proxy (X-Forwarded-For)", func(r *http.Request) { r.Header.Set("X-Forwarded-For", "203.0.113.7") }},
		{"relayed by a proxy (Forwarded)", func(r *http.Request) { r.Header.Set("Forwarded", "for=203.0.113.7") }},
		{"relayed by a proxy (X-Real-IP)", func(r *http.Request) { r.Header.Set("X-Real-IP", "203.0.113.7") }},
		{"a rebound host name", func(r *http.Request) { r.Host = "attacker.example:8080" }},
		{"an unspecified address as host", func(r *http.Request) { r.Host = "0.0.0.0" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if code := send("/credentials/issue", issue, tc.set); code != http.StatusForbidden {
				t.Fatalf("issue: %d, want 403", code)
			}
			if code := send("/credentials/status", status, tc.set); code != http.StatusForbidden {
				t.Fatalf("status: %d, want 403", code)
			}
		})
	}
	// A connection from another machine.
	req := httptest.NewRequest(http.MethodPost, "/credentials/issue", strings.NewReader(issue))
	req.RemoteAddr, req.Host = "192.0.2.10:40000", "127.0.0.1:8080"
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("from another address: %d, want 403", rec.Code)
	}
	if _, err := e.svc.CredentialRecord(context.Background(), "demo", "urn:example:open:local"); err == nil {
		t.Fatal("a refused request issued a credential")
	}
	// Made on this machine, to localhost or [::1] by name, it is answered.
	if code := send("/credentials/issue", issue, func(r *http.Request) { r.Host = "localhost:8080" }); code != http.StatusCreated {
		t.Fatalf("local issue: %d, want 201", code)
	}
	if code := send("/credentials/status", status, func(r *http.Request) {}); code != http.StatusOK {
		t.Fatalf("local status: %d, want 200", code)
	}
}
