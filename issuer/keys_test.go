package issuer_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
)

// TestCompromiseSweepResumes: a key marked compromised whose sweep never
// ran (the process was killed just after marking it) is swept by
// ResumeKeySweeps: everything it signed is revoked, in several
// transactions, the other key's credentials stay active, the audit log
// counts the revoked ones, and a second resume does nothing.
func TestCompromiseSweepResumes(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	reg, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	issue := func() issuer.CredentialRecord {
		out, err := d.svc.Issue(ctx, d.registrar, "demo", reg.ID, issuer.IssueInput{Type: credentials.TypeRegistration})
		if err != nil {
			t.Fatal(err)
		}
		return out.Record
	}
	var byA, byB []issuer.CredentialRecord
	for range 7 {
		byA = append(byA, issue())
	}
	admin := issuer.Principal{Org: "demo", Role: issuer.RoleAdmin, StaffID: "admin-id"}
	d.now = d.now.Add(time.Minute)
	b, err := d.svc.RotateKey(ctx, admin, "demo", issuer.RotateInput{Alg: "p256"})
	if err != nil || b.Alg != credentials.ES256 || b.State != issuer.KeyCurrent {
		t.Fatalf("rotate: %+v %v", b, err)
	}
	for range 3 {
		byB = append(byB, issue())
	}
	keys, err := d.db.OrgKeys(ctx, "demo")
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys: %d %v", len(keys), err)
	}
	a := keys[0]
	// Killed after marking: the mark is stored, the sweep never ran.
	if _, err := d.db.ChangeOrgKeys(ctx, "demo", func(ks []issuer.OrgKey) ([]issuer.OrgKey, error) {
		ks[0].Compromised, ks[0].Reason = d.now, "test"
		return ks, nil
	}); err != nil {
		t.Fatal(err)
	}
	n, err := d.svc.ResumeKeySweeps(ctx)
	if err != nil || n != len(byA) {
		t.Fatalf("resume: %d, %v; want %d", n, err, len(byA))
	}
	for _, r := range byA {
		if got, _ := d.svc.CredentialRecord(ctx, "demo", r.ID); got.State != issuer.StateRevoked {
			t.Fatalf("A's credential is %s", got.State)
		}
	}
	for _, r := range byB {
		if got, _ := d.svc.CredentialRecord(ctx, "demo", r.ID); got.State != issuer.StateActive {
			t.Fatalf("B's credential is %s", got.State)
		}
	}
	// Issued before B was made, A's bits are in the status list.
	bits, err := d.db.StatusBits(ctx, "demo", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range byA {
		if bits.Revoked[r.Index/8]&(0x80>>(r.Index%8)) == 0 {
			t.Fatalf("A's credential %s is not revoked in the list", r.ID)
		}
	}
	counted := 0
	for _, e := range d.entries(t) {
		if e.Action == audit.ActionRevoke && e.Objects[0] == (audit.Object{Kind: audit.ObjectKey, ID: a.ID}) {
			counted += len(e.Objects) - 1
		}
	}
	if counted != len(byA) {
		t.Fatalf("the audit log counts %d revoked, want %d", counted, len(byA))
	}
	infos, err := d.svc.Keys(ctx, "demo")
	if err != nil || infos[0].State != issuer.KeyCompromised || infos[0].Swept.IsZero() || infos[0].Revoked != len(byA) || infos[1].State != issuer.KeyCurrent {
		t.Fatalf("keys after: %+v %v", infos, err)
	}
	if n, err := d.svc.ResumeKeySweeps(ctx); n != 0 || err != nil {
		t.Fatalf("a second resume: %d %v", n, err)
	}
	doc, err := d.svc.DIDDocument(ctx, "demo")
	if err != nil || len(doc.VerificationMethod) != 1 || doc.VerificationMethod[0].ID != b.ID || !slices.Equal(doc.AssertionMethod, []string{b.ID}) {
		t.Fatalf("DID document: %+v %v", doc, err)
	}
}

// TestCompromiseCurrentKey: declaring the current key compromised makes a
// new one, of the same algorithm, which signs what comes next; the input
// is checked first.
func TestCompromiseCurrentKey(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	reg, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	first, err := d.svc.Issue(ctx, d.registrar, "demo", reg.ID, issuer.IssueInput{Type: credentials.TypeRegistration})
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := d.svc.Keys(ctx, "demo")
	admin := issuer.Principal{Org: "demo", Role: issuer.RoleAdmin, StaffID: "admin-id"}
	for _, in := range []issuer.CompromiseInput{{}, {Reason: "x"}, {Reason: string(make([]byte, 501)), Confirm: true}} {
		if _, err := d.svc.CompromiseKey(ctx, admin, "demo", keys[0].Fragment, in); !errors.Is(err, issuer.ErrInvalid) {
			t.Fatalf("%+v: %v", in, err)
		}
	}
	if _, err := d.svc.CompromiseKey(ctx, admin, "demo", "no-such-key", issuer.CompromiseInput{Reason: "x", Confirm: true}); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	// Another organisation's key is not found from demo.
	otherKeys, _ := d.svc.Keys(ctx, "other")
	if _, err := d.svc.CompromiseKey(ctx, admin, "demo", otherKeys[0].Fragment, issuer.CompromiseInput{Reason: "x", Confirm: true}); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("other's key: %v", err)
	}
	out, err := d.svc.CompromiseKey(ctx, admin, "demo", keys[0].Fragment, issuer.CompromiseInput{Reason: "A stolen laptop.", Confirm: true})
	if err != nil || out.Revoked != 1 || out.NewKey == nil || out.NewKey.Alg != credentials.EdDSA || out.NewKey.State != issuer.KeyCurrent {
		t.Fatalf("compromise: %+v %v", out, err)
	}
	if _, err := d.svc.Reprint(ctx, "demo", first.Record.ID); !errors.Is(err, issuer.ErrStateChange) {
		t.Fatalf("reprint of a revoked card: %v", err)
	}
	next, err := d.svc.Issue(ctx, d.registrar, "demo", reg.ID, issuer.IssueInput{Type: credentials.TypeRegistration})
	if err != nil || next.Record.Key() != out.NewKey.ID {
		t.Fatalf("issued after: %v, key %s", err, next.Record.Key())
	}
	parsed, err := credentials.ParseCard([]byte(next.Credential))
	if err != nil {
		t.Fatal(err)
	}
	key, err := d.svc.SigningKey(ctx, "demo")
	if err != nil || key.ID != out.NewKey.ID || parsed.VerifySignature(key.Public) != nil {
		t.Fatalf("the new card is not signed by the new key: %v", err)
	}
	// Other's keys are untouched.
	if again, _ := d.svc.Keys(ctx, "other"); len(again) != 1 || again[0].State != issuer.KeyCurrent {
		t.Fatalf("other's keys: %+v", again)
	}
}

// TestCompromiseConcurrently: several administrators declaring the
// current key compromised at once make one new key, one audit entry, and
// revoke each credential once.
func TestCompromiseConcurrently(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	reg, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, err := d.svc.Issue(ctx, d.registrar, "demo", reg.ID, issuer.IssueInput{Type: credentials.TypeRegistration}); err != nil {
			t.Fatal(err)
		}
	}
	keys, _ := d.svc.Keys(ctx, "demo")
	admin := issuer.Principal{Org: "demo", Role: issuer.RoleAdmin, StaffID: "admin-id"}
	results := make(chan issuer.Compromised, 4)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			out, err := d.svc.CompromiseKey(ctx, admin, "demo", keys[0].Fragment, issuer.CompromiseInput{Reason: "Leaked.", Confirm: true})
			results <- out
			errs <- err
		}()
	}
	revoked, newKeys := 0, 0
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		out := <-results
		revoked += out.Revoked
		if out.NewKey != nil {
			newKeys++
		}
	}
	after, _ := d.svc.Keys(ctx, "demo")
	if revoked != 4 || newKeys != 1 || len(after) != 2 || after[0].Revoked != 4 {
		t.Fatalf("revoked %d, %d new keys, keys %+v", revoked, newKeys, after)
	}
	n := 0
	for _, e := range d.entries(t) {
		if e.Action == audit.ActionKeyCompromise {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d key-compromise entries", n)
	}
}
