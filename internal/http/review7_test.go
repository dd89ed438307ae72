package http_test

// Tests of the review of issue 7 (the verifier service).

import (
	"context"
	"strings"
	"testing"

	"github.com/tally-id/tally/issuer"
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
