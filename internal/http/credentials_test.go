package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier"
)

// verifierOf is a service point's verifier that trusts demo and fetches
// its status lists from the test server. Each call makes a new one, with
// an empty cache.
func (e *env) verifierOf(t *testing.T) *verifier.Verifier {
	t.Helper()
	key, err := e.svc.SigningKey(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	iss, err := verifier.NewTrustedIssuer("Organisation demo", []credentials.Type{credentials.TypeRegistration}, key)
	if err != nil {
		t.Fatal(err)
	}
	iss.StatusBase = e.ts.URL + "/status/demo"
	trust := verifier.NewTrustList("test")
	if err := trust.Add(iss); err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(verifier.Options{Trust: trust, Fetcher: verifier.HTTPStatusFetcher{Client: e.ts.Client()}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestIssueVerifyRevoke issues a card over the API, verifies it with the
// verifier library against the server's status lists, revokes it, and
// sees it revoked.
func TestIssueVerifyRevoke(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	res := e.do("POST", "/api/v1/orgs/demo/registrations/"+e.regID+"/credentials", "application/json", `{"type":"RegistrationCredential"}`,
		e.asToken("demo", issuer.RoleRegistrar))
	body := readBody(t, res)
	if res.StatusCode != http.StatusCreated || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	var issued struct {
		Record     issuer.CredentialRecord `json:"record"`
		Credential string                  `json:"credential"`
	}
	if err := json.Unmarshal([]byte(body), &issued); err != nil {
		t.Fatal(err)
	}
	got, err := e.verifierOf(t).Verify(ctx, []byte(issued.Credential))
	if err != nil {
		t.Fatalf("verify the new card: %v", err)
	}
	if !got.Status.Checked {
		t.Fatalf("the status was not checked: %+v", got.Status)
	}

	res = e.do("POST", "/api/v1/orgs/demo/credentials/"+issued.Record.ID+"/revoke", "", "", e.asToken("demo", issuer.RoleSupervisor))
	if body := readBody(t, res); res.StatusCode != http.StatusOK || !strings.Contains(body, `"state":"revoked"`) {
		t.Fatalf("revoke: %d %s", res.StatusCode, body)
	}
	_, err = e.verifierOf(t).Verify(ctx, []byte(issued.Credential))
	var ve *verifier.Error
	if !errors.As(err, &ve) || ve.Reason != verifier.Revoked {
		t.Fatalf("after revocation: %v, want Revoked", err)
	}

	res = e.do("GET", "/api/v1/orgs/demo/registrations/"+e.regID+"/credentials", "", "", e.asStaff("demo", issuer.RoleAuditor))
	if body := readBody(t, res); res.StatusCode != http.StatusOK || !strings.Contains(body, issued.Record.ID) || strings.Contains(body, "Fatima") {
		t.Fatalf("list: %d %s", res.StatusCode, body)
	}
	res = e.do("POST", "/api/v1/orgs/demo/credentials/"+issued.Record.ID+"/suspend", "", "", e.asToken("demo", issuer.RoleRegistrar))
	if code, _ := apiErr(t, res); res.StatusCode != http.StatusConflict || code != "state" {
		t.Fatalf("suspend a revoked card: %d %s", res.StatusCode, code)
	}
	res = e.do("POST", "/api/v1/orgs/demo/credentials/urn:uuid:00000000-0000-4000-8000-000000000000/revoke", "", "", e.asToken("demo", issuer.RoleSupervisor))
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("revoke an unknown card: %d", res.StatusCode)
	}
}

func TestStatusListRoutes(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		path, mediaType string
		status          int
	}{
		{"/status/demo/revocation/0", "application/vc+jwt", 200},
		{"/status/demo/suspension/0", "application/vc+jwt", 200},
		{"/status/demo/token/0", credentials.TokenStatusListMediaType, 200},
		{"/status/demo/revocation/1", "", 404},
		{"/status/demo/revocation/-1", "", 404},
		{"/status/demo/revocation/01", "", 404},
		{"/status/demo/other/0", "", 404},
		{"/status/nope/revocation/0", "", 404},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res := e.do("GET", tc.path, "", "", who{})
			body := readBody(t, res)
			if res.StatusCode != tc.status {
				t.Fatalf("%d, want %d: %s", res.StatusCode, tc.status, body)
			}
			if tc.status != 200 {
				// A verifier reads why, as JSON, not a page for people.
				if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || !strings.Contains(body, `"code":"not_found"`) {
					t.Fatalf("%s: %s", res.Header.Get("Content-Type"), body)
				}
				return
			}
			if res.Header.Get("Content-Type") != tc.mediaType || res.Header.Get("Cache-Control") != "public, max-age=300" {
				t.Fatalf("%s, %s", res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
			}
			if tc.mediaType == "application/vc+jwt" {
				l, err := credentials.ParseStatusList([]byte(body))
				if err != nil || l.List.ValidUntil.IsZero() || l.List.Size() != issuer.StatusListSize {
					t.Fatalf("%+v, %v", l, err)
				}
			}
		})
	}
}

// TestIssuePages issues a card from a registration's page, sees its QR
// code, prints it, and revokes it.
func TestIssuePages(t *testing.T) {
	e := newEnv(t)
	registrar, supervisor := e.asStaff("demo", issuer.RoleRegistrar), e.asStaff("demo", issuer.RoleSupervisor)
	page := readBody(t, e.do("GET", "/issuer/registrations/"+e.regID, "", "", registrar))
	if !strings.Contains(page, "Issue card") || !strings.Contains(page, e.credID) {
		t.Fatal("the registration's page offers no card, or lists no credential")
	}
	page = readBody(t, e.do("GET", "/issuer/registrations/"+e.regID, "", "", e.asStaff("demo", issuer.RoleAuditor)))
	if !strings.Contains(page, "Registration ·") || strings.Contains(page, "/issuer/credentials/") || strings.Contains(page, "Issue card") {
		t.Fatal("an auditor sees no credential, or is offered what they may not open or do")
	}
	res := e.do("POST", "/issuer/registrations/"+e.regID+"/credentials", formType, form("type", "RegistrationCredential"), registrar)
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/issuer/credentials/urn:uuid:") {
		t.Fatalf("%d to %q", res.StatusCode, loc)
	}
	res = e.do("GET", loc, "", "", registrar)
	page = readBody(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, `src="data:image/png;base64,`) || !strings.Contains(page, "card.pdf") || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d: %.400s", res.StatusCode, page)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(loc, "/issuer/credentials/"), "?done=issued")
	res = e.do("GET", "/issuer/credentials/"+id+"/card.pdf", "", "", registrar)
	if body := readBody(t, res); res.StatusCode != 200 || !strings.HasPrefix(body, "%PDF-") || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("pdf: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if page := readBody(t, e.do("GET", "/issuer/credentials/"+id, "", "", supervisor)); !strings.Contains(page, "/revoke") {
		t.Fatal("a supervisor is not offered to revoke")
	}
	if res := e.do("POST", "/issuer/credentials/"+id+"/revoke", formType, "", supervisor); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	page = readBody(t, e.do("GET", "/issuer/credentials/"+id, "", "", registrar))
	if !strings.Contains(page, "Revoked") || strings.Contains(page, "data:image/png") {
		t.Fatalf("a revoked card's page: %.400s", page)
	}
	if res := e.do("GET", "/issuer/credentials/"+id+"/card.pdf", "", "", registrar); res.StatusCode != http.StatusConflict {
		t.Fatalf("a revoked card printed: %d", res.StatusCode)
	}
}
