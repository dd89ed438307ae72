package http_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
