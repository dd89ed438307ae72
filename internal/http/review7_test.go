package http_test

// Tests of the review of issue 7 (the verifier service).

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier/registry"
)

// TestDeskRevokedAfterScan: a card scanned at the desk, then revoked by
// its organisation on this instance (a stolen card), is refused at the
// next scan, not accepted from the status list read at the first.
func TestDeskRevokedAfterScan(t *testing.T) {
	e := newEnv(t)
	card, id := e.demoCard()
	as := e.asStaff("demo", issuer.RoleVerifier)
	scan := func() string {
		t.Helper()
		res := e.do("POST", "/verify/check", formType, form("servicePoint", "Gate A", "credential", card), as)
		page := readBody(t, res)
		if res.StatusCode != 200 {
			t.Fatalf("%d: %s", res.StatusCode, page)
		}
		return page
	}
	if page := scan(); strings.Contains(page, "answer-red") {
		t.Fatalf("before revocation: %s", page)
	}
	if _, err := e.svc.Revoke(context.Background(), issuer.Principal{Org: "demo", Role: issuer.RoleSupervisor, StaffID: e.staffID["demo/supervisor"]}, "demo", id); err != nil {
		t.Fatal(err)
	}
	if page := scan(); !strings.Contains(page, "answer-red") || !strings.Contains(page, "The issuer has cancelled this card.") {
		t.Fatalf("after revocation: %s", page)
	}
}

// TestDomainsOfAnotherOrganisation: an organisation's own dedup domain
// (its tokens, its counts per programme and month, its members' lists) is
// not shown to the staff of another organisation of the instance, nor can
// they export it or import a list into it; its own staff still can.
func TestDomainsOfAnotherOrganisation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.registry.AddDomain(ctx, registry.NewDomain{ID: "demo-own", Name: "Demo alone", Kind: registry.KindOwn,
		Members: []string{"demo"}, KeyFile: []byte(walkKeyHex)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.registry.Record(ctx, registry.Scan{Domain: "demo-own", Token: dtoken(1), ServicePoint: "Gate A", Programme: "MPCA-2026", At: e.svc.Now()}); err != nil {
		t.Fatal(err)
	}
	list := tokenList("demo-own", 0, 3, "HEALTH", "2026-03", 1)
	for _, as := range []who{e.asStaff("other", issuer.RoleConsortium), e.asToken("other", issuer.RoleConsortium), e.asStaff("other", issuer.RoleAdmin)} {
		for _, r := range []struct{ method, path, ct, body string }{
			{"GET", "/admin/domains/demo-own", "", ""},
			{"GET", "/admin/domains/demo-own/tokens.csv", "", ""},
			{"GET", "/api/v1/domains/demo-own", "", ""},
			{"GET", "/api/v1/domains/demo-own/tokens.csv", "", ""},
			{"PUT", "/api/v1/domains/demo-own/peers/agency-b", "text/csv", list},
			{"GET", "/api/v1/domains/demo-own/peers/agency-b/report", "", ""},
			{"GET", "/admin/domains/demo-own/peers/agency-b/report.csv", "", ""},
		} {
			res := e.do(r.method, r.path, r.ct, r.body, as)
			body := readBody(t, res)
			if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s: %d %s", r.method, r.path, res.StatusCode, body)
			}
		}
		for _, path := range []string{"/admin/domains", "/api/v1/domains"} {
			res := e.do("GET", path, "", "", as)
			if body := readBody(t, res); res.StatusCode != http.StatusOK || strings.Contains(body, "demo-own") {
				t.Errorf("%s lists another organisation's domain: %d %s", path, res.StatusCode, body)
			}
		}
	}
	if peers, err := e.registry.PeerLists(ctx, "demo-own"); err != nil || len(peers) != 0 {
		t.Fatalf("a list was imported: %v %v", peers, err)
	}
	own := e.asToken("demo", issuer.RoleConsortium)
	if res := e.do("GET", "/api/v1/domains/demo-own/tokens.csv", "", "", own); res.StatusCode != http.StatusOK || !strings.Contains(readBody(t, res), dtoken(1)) {
		t.Fatalf("demo's own export: %d", res.StatusCode)
	}
	if res := e.do("GET", "/api/v1/domains", "", "", own); !strings.Contains(readBody(t, res), "demo-own") {
		t.Fatal("demo's list lacks its domain")
	}
}
