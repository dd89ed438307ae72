package http_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestWalletFormsRefuseOtherOrigins (review of issue 8): the wallet's
// cookies are SameSite=Strict, which keeps other sites out but not
// another origin of the same site (a sibling subdomain of the agency's
// domain): a form posted from there would carry the holder's session and
// could accept an offer into her wallet, change her language or sign her
// out. The server's CrossOriginProtection refuses them; this keeps the
// wallet's forms, public and holder's, under it. Requests without a
// browser's origin headers (wallet apps, tests) are not concerned.
func TestWalletFormsRefuseOtherOrigins(t *testing.T) {
	e := newEnv(t)
	h := e.newHolder()
	as := e.asHolder(h)
	for _, hdr := range [][]string{
		{"Sec-Fetch-Site", "same-site", "Origin", "https://evil.tally.example"},
		{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"},
		{"Origin", "https://evil.tally.example"},
	} {
		res := e.do(http.MethodPost, "/wallet/settings/lang", formType, "lang=ar", as, hdr...)
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("a form from %v: %d", hdr, res.StatusCode)
		}
		if page := readBody(t, e.do(http.MethodGet, "/wallet/settings", "", "", as, "Accept-Language", "en")); strings.Contains(page, `dir="rtl"`) {
			t.Fatalf("a form from %v changed the wallet", hdr)
		}
		if res := e.do(http.MethodPost, "/wallet/signout", formType, "", as, hdr...); res.StatusCode != http.StatusForbidden {
			t.Fatalf("a sign-out from %v: %d", hdr, res.StatusCode)
		}
	}
	if _, err := e.holders.Wallet(as.wallet); err != nil {
		t.Fatalf("another origin signed the holder out: %v", err)
	}
	// This origin's own forms, and clients that send no origin at all.
	host := strings.TrimPrefix(e.ts.URL, "http://")
	for _, hdr := range [][]string{{"Sec-Fetch-Site", "same-origin", "Origin", e.ts.URL}, {"Origin", e.ts.URL, "Host", host}, nil} {
		res := e.do(http.MethodPost, "/wallet/settings/lang", formType, "lang=fr", as, hdr...)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("this origin's form %v: %d", hdr, res.StatusCode)
		}
	}
}
