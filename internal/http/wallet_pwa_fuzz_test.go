package http

import (
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/web"
)

// FuzzHeldCredentialPage: whatever text a wallet keeps as a credential
// (it came from strangers: offers, card photos, backups), its page is
// made without a panic, with at most maxClaimRows claims, and a text that
// the wallet cannot read says so.
func FuzzHeldCredentialPage(f *testing.F) {
	cat, err := loadCatalogues(web.FS)
	if err != nil {
		f.Fatal(err)
	}
	t := cat.byLang["ar"]
	f.Add("qr", "NCFOXN%TSMAHN-H")
	f.Add("jwt_vc_json", "eyJhbGciOiJFUzI1NiJ9.eyJ2YyI6e319.c2ln")
	f.Add("dc+sd-jwt", "eyJhbGciOiJFUzI1NiJ9.eyJ2Y3QiOiJ4In0.c2ln~WyJzIiwiYSIsMV0~")
	f.Add("qr", "")
	f.Add("jwt_vc_json", strings.Repeat("~", 300))
	f.Fuzz(func(tt *testing.T, format, raw string) {
		s := &Server{}
		st := &holder.CredentialStatus{State: holder.StateValid, CheckedAt: time.Unix(1_800_000_000, 0)}
		p := s.heldCredentialPage(t, holder.Credential{ID: "ABC", Format: format, Raw: raw, Received: time.Unix(1_800_000_000, 0)}, st)
		if len(p.Claims) > maxClaimRows {
			tt.Fatalf("%d claims", len(p.Claims))
		}
		if p.Unreadable && (len(p.Claims) != 0 || p.QR != "") {
			tt.Fatal("an unreadable credential shows claims or a QR")
		}
		if p.Name == "" || p.Purpose == "" || p.Badge.Label == "" {
			tt.Fatalf("a page without a name, purpose or badge: %+v", p)
		}
	})
}
