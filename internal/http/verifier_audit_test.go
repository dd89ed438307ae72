package http_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
)

// TestVerifierAdministrationAudited: making a dedup domain, handing its
// key over, exporting its tokens and changing the trust anchors are in
// the audit log, by whom, with no key in it.
func TestVerifierAdministrationAudited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.asStaff("demo", issuer.RoleConsortium)
	once := freshDomain(e, "audited-2026-05-01") // an id with a date: recorded as a keyed hash
	if res := e.do(http.MethodPost, "/admin/domain-key", formType, form("once", once), admin); res.StatusCode != http.StatusOK {
		t.Fatalf("key download: %d", res.StatusCode)
	}
	if res := e.do(http.MethodGet, "/admin/domains/audited-2026-05-01/tokens.csv", "", "", admin); res.StatusCode != http.StatusOK {
		t.Fatalf("export: %d", res.StatusCode)
	}
	if res := e.do(http.MethodPost, "/admin/trust/anchors", formType, form("name", "Consortium", "jwk", trustJWK(t, "audit")), admin); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("anchor: %d", res.StatusCode)
	}
	seen := map[audit.Action]audit.Entry{}
	if err := e.auditLog.Entries(ctx, func(en audit.Entry) error {
		seen[en.Action] = en
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []audit.Action{audit.ActionDomainCreate, audit.ActionDomainKeyDownload, audit.ActionExport, audit.ActionTrustChange} {
		en, ok := seen[a]
		if !ok {
			t.Errorf("no %s entry", a)
			continue
		}
		if en.Org != "demo" || en.Actor.ID != e.staffID["demo/"+string(issuer.RoleConsortium)] || en.Purpose != audit.PurposeAdministration {
			t.Errorf("%s: %+v", a, en)
		}
		if a != audit.ActionTrustChange && (len(en.Objects) != 1 || en.Objects[0].Kind != audit.ObjectDomain || en.Objects[0].ID == "audited-2026-05-01") {
			t.Errorf("%s names the domain %+v, want a keyed hash of its id", a, en.Objects)
		}
	}
}
