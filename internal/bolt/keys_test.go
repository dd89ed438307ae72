package bolt_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/issuer"
)

var (
	_ issuer.OrgKeyChanger     = (*bolt.DB)(nil)
	_ issuer.CredentialSweeper = (*bolt.DB)(nil)
	_ issuer.OrgUpdater        = (*bolt.DB)(nil)
	_ issuer.AccountStore      = (*bolt.DB)(nil)
)

// TestReviseCredentials: a walk in batches of two sees every record of
// its organisation once, and no other's; what it revises is stored with
// its status bits, in the batch's transaction.
func TestReviseCredentials(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	for _, org := range []string{"org-a", "org-b"} {
		for i := range 5 {
			rec := issuer.CredentialRecord{ID: fmt.Sprintf("urn:uuid:%d", i), Org: org, Registration: "r", State: issuer.StateActive, Issued: t0}
			if _, err := db.AddCredential(ctx, rec, firstFree(0)); err != nil {
				t.Fatal(err)
			}
		}
	}
	seen := map[string]int{}
	after, batches, revised := "", 0, 0
	for {
		changed, next, err := db.ReviseCredentials(ctx, "org-a", after, 2, func(r issuer.CredentialRecord) (issuer.CredentialRecord, bool) {
			seen[r.Org+" "+r.ID]++
			if r.ID == "urn:uuid:1" || r.ID == "urn:uuid:4" {
				r.State = issuer.StateRevoked
				return r, true
			}
			return r, false
		})
		if err != nil {
			t.Fatal(err)
		}
		batches++
		revised += len(changed)
		if next == "" {
			break
		}
		after = next
	}
	if batches != 3 || revised != 2 || len(seen) != 5 {
		t.Fatalf("%d batches, %d revised, seen %v", batches, revised, seen)
	}
	for k, n := range seen {
		if n != 1 || k[:5] != "org-a" {
			t.Fatalf("seen %v", seen)
		}
	}
	bits, err := db.StatusBits(ctx, "org-a", 0)
	if err != nil {
		t.Fatal(err)
	}
	if bits.Revoked[0] != 0b01001000 {
		t.Fatalf("revocation bits %08b, want indexes 1 and 4", bits.Revoked[0])
	}
	if b, _ := db.StatusBits(ctx, "org-b", 0); b.Revoked[0] != 0 {
		t.Fatal("org-b's bits changed")
	}
	if _, _, err := db.ReviseCredentials(ctx, "org-a", "", 2, func(r issuer.CredentialRecord) (issuer.CredentialRecord, bool) {
		r.Index++
		return r, true
	}); err == nil {
		t.Fatal("a revision moved a status entry")
	}
}

// TestChangeOrgKeys: keys change only in their state, and are never
// removed; new ones are added after.
func TestChangeOrgKeys(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	org := issuer.Organisation{Slug: "org-a", Name: "A", DID: "did:web:h:orgs:org-a", Created: t0}
	k1 := issuer.OrgKey{Org: "org-a", ID: org.DID + "#k1", Sealed: []byte("sealed-1"), Created: t0}
	admin := issuer.Staff{ID: "s1", Org: "org-a", Name: "Admin", Username: "admin", Role: issuer.RoleAdmin, Created: t0}
	if err := db.CreateOrganisation(ctx, org, k1, admin); err != nil {
		t.Fatal(err)
	}
	k2 := issuer.OrgKey{Org: "org-a", ID: org.DID + "#k2", Sealed: []byte("sealed-2"), Created: t0.Add(time.Hour)}
	keys, err := db.ChangeOrgKeys(ctx, "org-a", func(ks []issuer.OrgKey) ([]issuer.OrgKey, error) {
		ks[0].Compromised = t0.Add(time.Hour)
		return append(ks, k2), nil
	})
	if err != nil || len(keys) != 2 || keys[0].Compromised.IsZero() || keys[1].ID != k2.ID {
		t.Fatalf("%+v %v", keys, err)
	}
	for name, change := range map[string]func([]issuer.OrgKey) ([]issuer.OrgKey, error){
		"remove":      func(ks []issuer.OrgKey) ([]issuer.OrgKey, error) { return ks[1:], nil },
		"swap a seal": func(ks []issuer.OrgKey) ([]issuer.OrgKey, error) { ks[0].Sealed = []byte("mine"); return ks, nil },
		"add twice":   func(ks []issuer.OrgKey) ([]issuer.OrgKey, error) { return append(ks, k2), nil },
		"another org's": func(ks []issuer.OrgKey) ([]issuer.OrgKey, error) {
			k := k2
			k.Org, k.ID = "org-b", "x"
			return append(ks, k), nil
		},
	} {
		if _, err := db.ChangeOrgKeys(ctx, "org-a", change); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if keys, _ := db.OrgKeys(ctx, "org-a"); len(keys) != 2 || string(keys[0].Sealed) != "sealed-1" {
		t.Fatalf("a refused change changed the keys: %+v", keys)
	}
	if _, err := db.UpdateOrganisation(ctx, "org-a", func(o issuer.Organisation) (issuer.Organisation, error) {
		o.DID = "did:web:evil"
		return o, nil
	}); err == nil {
		t.Fatal("the DID changed")
	}
	if _, err := db.UpdateStaff(ctx, "s1", func(s issuer.Staff) (issuer.Staff, error) {
		s.Role = issuer.RoleAuditor
		return s, nil
	}); err == nil {
		t.Fatal("a staff member's role changed through UpdateStaff")
	}
}
