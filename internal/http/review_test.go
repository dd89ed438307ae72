package http_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tally-id/tally/issuer"
)

// TestSignInLimitsIPv6Prefix: guesses from many addresses of one IPv6 /64
// (which one machine commonly holds) count as one client: after five
// wrong passwords for a user name from that /64, a sixth address of it
// gets 429 even with the right password; an address of another /64 does
// not.
func TestSignInLimitsIPv6Prefix(t *testing.T) {
	e := newEnv(t)
	signin := func(remote, password string) int {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/signin", strings.NewReader(form("username", "demo-auditor", "password", password)))
		req.Header.Set("Content-Type", formType)
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := range 5 {
		if code := signin(fmt.Sprintf("[2001:db8:1:2::%x]:4000", i+1), "a wrong guess"); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if code := signin("[2001:db8:1:2:ffff::9]:4000", ownPassword("demo-auditor")); code != http.StatusTooManyRequests {
		t.Fatalf("a sixth address of the same /64: %d, want 429", code)
	}
	if code := signin("[2001:db8:1:3::1]:4000", ownPassword("demo-auditor")); code != http.StatusSeeOther {
		t.Fatalf("another /64: %d, want 303", code)
	}
}

// TestCredentialAfterErasure: a wallet holding an access token for a
// registration erased since gets an OAuth credential_request_denied that
// says nothing of the erasure, and nothing is issued.
func TestCredentialAfterErasure(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	w, m, token := e.redeemed(t, `{"type":"RegistrationCredential"}`)
	sup := issuer.Principal{Org: "demo", Role: issuer.RoleSupervisor, StaffID: e.staffID["demo/supervisor"]}
	if _, err := e.svc.EraseRegistration(ctx, sup, "demo", e.regID, issuer.EraseInput{Confirm: true}); err != nil {
		t.Fatal(err)
	}
	before, err := e.svc.Credentials(ctx, "demo", e.regID)
	if err != nil {
		t.Fatal(err)
	}
	res := w.credential(m, token, "RegistrationCredential_dc+sd-jwt", w.proof(e.ts.URL+"/orgs/demo", w.nonce(m), proofOptions{}))
	if code := res.oauthError(t); res.status != http.StatusBadRequest || code != "credential_request_denied" || strings.Contains(string(res.body), "erase") {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if after, _ := e.svc.Credentials(ctx, "demo", e.regID); len(after) != len(before) {
		t.Fatalf("issued after erasure: %d records, %d before", len(after), len(before))
	}
}
