package issuer_test

import (
	"context"
	"testing"

	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
)

// TestRecordAdministrationOutlivesItsRequest: the audit entry of a change
// already made is written even when the request that made it was cancelled
// meanwhile (the client went away): otherwise a consortium administrator
// could drop the connection as the change commits and leave no trace.
func TestRecordAdministrationOutlivesItsRequest(t *testing.T) {
	d := newDesk(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	by := issuer.Principal{Org: "demo", Role: issuer.RoleConsortium, StaffID: "st-1"}
	if err := d.svc.RecordAdministration(ctx, by, audit.ActionTrustChange, audit.ObjectTrustList, "list-1"); err != nil {
		t.Fatalf("RecordAdministration after the request was cancelled: %v", err)
	}
	found := false
	if err := d.log.Entries(context.Background(), func(e audit.Entry) error {
		if e.Action == audit.ActionTrustChange && len(e.Objects) == 1 && e.Objects[0].ID == "list-1" {
			found = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatal("the trust list's change is not in the audit log")
	}
}
