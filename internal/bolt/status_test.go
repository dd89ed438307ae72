package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/issuer"
)

var _ issuer.StatusStore = (*bolt.DB)(nil)

// firstFree chooses the lowest free index, and reports lists before from
// as full.
func firstFree(from int) issuer.IndexChooser {
	return func(list int, used []byte) (int, bool) {
		if list < from {
			return 0, false
		}
		for i := range len(used) * 8 {
			if used[i/8]&(0x80>>(i%8)) == 0 {
				return i, true
			}
		}
		return 0, false
	}
}

func TestStatusStore(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	rec := func(id, reg string) issuer.CredentialRecord {
		return issuer.CredentialRecord{ID: id, Org: "org-a", Registration: reg, Type: "RegistrationCredential", State: issuer.StateActive, Issued: t0}
	}
	a, err := db.AddCredential(ctx, rec("urn:uuid:a", "r1"), firstFree(0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.AddCredential(ctx, rec("urn:uuid:b", "r1"), firstFree(0))
	if err != nil {
		t.Fatal(err)
	}
	if a.List != 0 || a.Index != 0 || b.Index != 1 {
		t.Errorf("entries %d/%d and %d/%d, want 0/0 and 0/1", a.List, a.Index, b.List, b.Index)
	}
	if _, err := db.AddCredential(ctx, rec("urn:uuid:a", "r2"), firstFree(0)); !errors.Is(err, issuer.ErrConflict) {
		t.Errorf("the same id again: %v", err)
	}
	if _, err := db.AddCredential(ctx, rec("urn:uuid:x", "r2"), func(int, []byte) (int, bool) { return 0, true }); err == nil {
		t.Error("a used index was given again")
	}
	c, err := db.AddCredential(ctx, rec("urn:uuid:c", "r2"), firstFree(1))
	if err != nil || c.List != 1 || c.Index != 0 {
		t.Fatalf("with list 0 full: %+v, %v", c, err)
	}
	list, err := db.RegistrationCredentials(ctx, "org-a", "r1")
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("r1's credentials = %+v, %v", list, err)
	}
	if list, _ := db.RegistrationCredentials(ctx, "org-b", "r1"); len(list) != 0 {
		t.Errorf("another organisation sees %d credentials", len(list))
	}

	set := func(state issuer.CredentialState) func(issuer.CredentialRecord) (issuer.CredentialRecord, error) {
		return func(r issuer.CredentialRecord) (issuer.CredentialRecord, error) { r.State = state; return r, nil }
	}
	bit := func(b []byte, i int) bool { return b[i/8]&(0x80>>(i%8)) != 0 }
	for _, tc := range []struct {
		state          issuer.CredentialState
		rev, suspended bool
	}{{issuer.StateSuspended, false, true}, {issuer.StateActive, false, false}, {issuer.StateRevoked, true, false}} {
		if _, err := db.SetCredentialState(ctx, "org-a", b.ID, set(tc.state)); err != nil {
			t.Fatal(err)
		}
		bits, err := db.StatusBits(ctx, "org-a", 0)
		if err != nil {
			t.Fatal(err)
		}
		if bit(bits.Revoked, b.Index) != tc.rev || bit(bits.Suspended, b.Index) != tc.suspended || bit(bits.Revoked, a.Index) {
			t.Errorf("%s: bits wrong", tc.state)
		}
	}
	if _, err := db.SetCredentialState(ctx, "org-a", a.ID, func(r issuer.CredentialRecord) (issuer.CredentialRecord, error) {
		return r, fmt.Errorf("no: %w", issuer.ErrStateChange)
	}); !errors.Is(err, issuer.ErrStateChange) {
		t.Errorf("a refused change: %v", err)
	}
	if _, err := db.SetCredentialState(ctx, "org-b", a.ID, set(issuer.StateRevoked)); !errors.Is(err, issuer.ErrNotFound) {
		t.Errorf("another organisation's credential: %v", err)
	}
	if got, _ := db.Credential(ctx, "org-a", b.ID); got.State != issuer.StateRevoked {
		t.Errorf("b is %s", got.State)
	}
	if _, err := db.StatusBits(ctx, "org-a", 2); !errors.Is(err, issuer.ErrNotFound) {
		t.Errorf("list 2: %v", err)
	}
	if bits, err := db.StatusBits(ctx, "org-new", 0); err != nil || len(bits.Revoked)*8 != issuer.StatusListSize {
		t.Errorf("a new organisation's list 0: %d bits, %v", len(bits.Revoked)*8, err)
	}
}
