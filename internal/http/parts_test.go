package http_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	tallyhttp "github.com/tally-id/tally/internal/http"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/web"
)

// TestParts: tally verifier serves the verifier service and what every
// part shares, and none of the issuer's routes; tally issuer the reverse;
// tally wallet the wallet alone.
func TestParts(t *testing.T) {
	e := newEnv(t)
	serve := func(parts tallyhttp.Part) *httptest.Server {
		srv, err := tallyhttp.New(tallyhttp.Options{Issuer: e.svc, Files: web.FS, Trust: e.trust, Registry: e.registry, ServicePoints: e.desk, Holders: e.holders, Parts: parts})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv)
		t.Cleanup(ts.Close)
		return ts
	}
	get := func(ts *httptest.Server, path string, as who) *http.Response {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		if as.session != "" {
			req.AddCookie(&http.Cookie{Name: "tally_session", Value: as.session})
		}
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	verifierOnly, issuerOnly, walletOnly := serve(tallyhttp.PartVerifier), serve(tallyhttp.PartIssuer), serve(tallyhttp.PartWallet)
	verifierStaff, registrar := e.asStaff("demo", issuer.RoleVerifier), e.asStaff("demo", issuer.RoleRegistrar)
	for _, c := range []struct {
		ts     *httptest.Server
		path   string
		as     who
		status int
		to     string
	}{
		{verifierOnly, "/verify/", verifierStaff, 200, ""},
		{verifierOnly, "/verify/trust", verifierStaff, 200, ""},
		{verifierOnly, "/orgs/demo/did.json", who{}, 200, ""},
		{verifierOnly, "/account/password", verifierStaff, 200, ""},
		{verifierOnly, "/issuer/register", registrar, 404, ""},
		{verifierOnly, "/issuer/", registrar, 404, ""},
		{verifierOnly, "/status/demo/revocation/1", who{}, 404, ""},
		{verifierOnly, "/", who{}, 303, "/verify/"},
		{verifierOnly, "/", verifierStaff, 303, "/verify/"},
		{issuerOnly, "/issuer/register", registrar, 200, ""},
		{issuerOnly, "/verify/", verifierStaff, 404, ""},
		{issuerOnly, "/", verifierStaff, 303, "/issuer/"},
		{issuerOnly, "/", registrar, 303, "/issuer/"},
		{issuerOnly, "/wallet/", who{}, 404, ""},
		{verifierOnly, "/wallet/", who{}, 404, ""},
		{walletOnly, "/wallet/", who{}, 200, ""},
		{walletOnly, "/wallet/open", who{}, 200, ""},
		{walletOnly, "/", who{}, 303, "/wallet/"},
		{walletOnly, "/verify/", verifierStaff, 404, ""},
		{walletOnly, "/issuer/", registrar, 404, ""},
		{walletOnly, "/orgs/demo/did.json", who{}, 200, ""},
	} {
		res := get(c.ts, c.path, c.as)
		if res.StatusCode != c.status || c.to != "" && res.Header.Get("Location") != c.to {
			t.Errorf("%s (%s): %d to %q, want %d %q", c.path, map[*httptest.Server]string{verifierOnly: "verifier only", issuerOnly: "issuer only", walletOnly: "wallet only"}[c.ts], res.StatusCode, res.Header.Get("Location"), c.status, c.to)
		}
	}
	// The menu links only to pages the service serves.
	req, _ := http.NewRequest("GET", verifierOnly.URL+"/verify/", nil)
	req.AddCookie(&http.Cookie{Name: "tally_session", Value: e.asStaff("demo", issuer.RoleSupervisor).session})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, res)
	if res.StatusCode != 200 || strings.Contains(page, `href="/issuer/`) || !strings.Contains(page, `href="/verify/referrals"`) {
		t.Errorf("the verifier service's menu: %d %s", res.StatusCode, page)
	}
	for _, r := range mustServer(t, e, tallyhttp.PartVerifier).Routes() {
		if strings.HasPrefix(r.Path, "/issuer/") || strings.HasPrefix(r.Path, "/api/v1/orgs/:org/registrations") {
			t.Errorf("the verifier service serves %s %s", r.Method, r.Path)
		}
	}
}

func mustServer(t *testing.T, e *env, parts tallyhttp.Part) *tallyhttp.Server {
	srv, err := tallyhttp.New(tallyhttp.Options{Issuer: e.svc, Files: web.FS, Trust: e.trust, Registry: e.registry, Parts: parts})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}
