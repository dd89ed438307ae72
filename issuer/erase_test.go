package issuer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
)

// erasedEntries are the audit log's erase entries.
func (d *desk) erasedEntries(t *testing.T) []audit.Entry {
	var out []audit.Entry
	for _, e := range d.entries(t) {
		if e.Action == audit.ActionErase {
			out = append(out, e)
		}
	}
	return out
}

// checkErased checks that nothing personal of registration id is left:
// the stored record is a tombstone, no index entry names it, and reading
// it says it was erased.
func (d *desk) checkErased(t *testing.T, id string, reason issuer.ErasureReason) {
	t.Helper()
	ctx := context.Background()
	sr, err := d.db.Registration(ctx, "demo", id)
	if err != nil {
		t.Fatal(err)
	}
	if sr.Erasure == nil || sr.Erasure.Reason != reason || !sr.Erasure.Audited || len(sr.Sealed) != 0 || len(sr.Index) != 0 {
		t.Fatalf("stored after erasure: %+v", sr)
	}
	reg, err := d.svc.Registration(ctx, "demo", id)
	if err != nil || !reg.Erased() || reg.Person.FullName != "" || reg.Seed != nil || reg.Consent.ID != "" {
		t.Fatalf("read after erasure: %+v %v", reg, err)
	}
	raw, _ := json.Marshal(reg)
	if strings.Contains(string(raw), "Fatima") || strings.Contains(string(raw), "1991") {
		t.Fatalf("an erased registration shows %s", raw)
	}
	matches, err := d.svc.Search(ctx, "demo", issuer.SearchQuery{Name: "Fatima Hassan Abdi"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range matches {
		if m.Registration.ID == id {
			t.Fatal("search still finds an erased registration")
		}
	}
	if _, err := d.svc.Correct(ctx, d.registrar, "demo", id, issuer.PersonCorrection{HouseholdSize: ptr(2)}); !errors.Is(err, issuer.ErrErased) {
		t.Fatalf("correcting an erased registration: %v", err)
	}
	if _, err := d.svc.Link(ctx, d.registrar, "demo", id, issuer.LinkInput{Programme: "MPCA-2026", Consent: verbal()}); !errors.Is(err, issuer.ErrErased) {
		t.Fatalf("linking to an erased registration: %v", err)
	}
	if _, err := d.svc.Issue(ctx, d.registrar, "demo", id, issuer.IssueInput{Type: credentials.TypeRegistration}); !errors.Is(err, issuer.ErrErased) {
		t.Fatalf("issuing from an erased registration: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestRetentionSweep(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	start := d.now
	fatimaReg, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	card, err := d.svc.Issue(ctx, d.registrar, "demo", fatimaReg.ID, issuer.IssueInput{Type: credentials.TypeRegistration})
	if err != nil {
		t.Fatal(err)
	}
	p := fatima()
	p.RegistrationID, p.FullName, p.FirstName, p.LastName, p.DateOfBirth = "X-2", "Omar Ismail Farah", "", "", "1980"
	omar, err := d.register(t, p, false)
	if err != nil {
		t.Fatal(err)
	}
	// Omar's registration is corrected ten months on: his data is kept 24
	// months from then.
	d.now = start.AddDate(0, 10, 0)
	if _, err := d.svc.Correct(ctx, d.registrar, "demo", omar.ID, issuer.PersonCorrection{HouseholdSize: ptr(3)}); err != nil {
		t.Fatal(err)
	}

	// A day before Fatima's 24 months are over, nothing is due.
	d.now = start.AddDate(0, 24, -1)
	rep, err := d.svc.RetentionSweep(ctx, false)
	if err != nil || len(rep.Erased) != 0 || rep.Checked != 2 {
		t.Fatalf("%+v %v", rep, err)
	}
	d.now = start.AddDate(0, 24, 0)
	before := d.entries(t)
	rep, err = d.svc.RetentionSweep(ctx, true)
	if err != nil || !rep.DryRun || len(rep.Erased) != 1 || rep.Erased[0].Registration != fatimaReg.ID {
		t.Fatalf("dry run: %+v %v", rep, err)
	}
	if got, _ := d.svc.Registration(ctx, "demo", fatimaReg.ID); got.Erased() || len(d.entries(t)) != len(before) {
		t.Fatal("a dry run changed something")
	}
	rep, err = d.svc.RetentionSweep(ctx, false)
	if err != nil || len(rep.Erased) != 1 || rep.Erased[0].Registration != fatimaReg.ID || rep.Erased[0].Programme != "MPCA-2026" {
		t.Fatalf("sweep: %+v %v", rep, err)
	}
	d.checkErased(t, fatimaReg.ID, issuer.ErasedRetention)
	if got, err := d.svc.Registration(ctx, "demo", omar.ID); err != nil || got.Erased() {
		t.Fatalf("Omar's corrected registration was erased: %v", err)
	}
	// Her card's record and status entry stay; it can still be revoked.
	if rec, err := d.svc.CredentialRecord(ctx, "demo", card.Record.ID); err != nil || rec.State != issuer.StateActive {
		t.Fatalf("the card's record: %+v %v", rec, err)
	}
	if _, err := d.svc.Revoke(ctx, issuer.Principal{Org: "demo", Role: issuer.RoleSupervisor, StaffID: d.registrar.StaffID}, "demo", card.Record.ID); err != nil {
		t.Fatal(err)
	}
	erased := d.erasedEntries(t)
	if len(erased) != 1 {
		t.Fatalf("%d erase entries", len(erased))
	}
	e := erased[0]
	if e.Actor != audit.System("retention") || e.Purpose != audit.PurposeRetention ||
		!slices.Equal(e.Objects, []audit.Object{{Kind: audit.ObjectRegistration, ID: fatimaReg.ID}, {Kind: audit.ObjectProgramme, ID: "MPCA-2026"}}) {
		t.Fatalf("erase entry %+v", e)
	}
	// A second sweep has nothing to do.
	if rep, err := d.svc.RetentionSweep(ctx, false); err != nil || len(rep.Erased) != 0 || rep.Audited != 0 {
		t.Fatalf("second sweep: %+v %v", rep, err)
	}
	// Omar's turn comes 24 months after his correction.
	d.now = start.AddDate(0, 34, 0)
	if rep, err := d.svc.RetentionSweep(ctx, false); err != nil || len(rep.Erased) != 1 || rep.Erased[0].Registration != omar.ID {
		t.Fatalf("Omar's sweep: %+v %v", rep, err)
	}
}

// TestErasureKilledBeforeAudit: a tombstone stored by a process killed
// before it wrote the audit entry is audited by the next sweep.
func TestErasureKilledBeforeAudit(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	reg, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := d.db.Registration(ctx, "demo", reg.ID)
	if err != nil {
		t.Fatal(err)
	}
	tomb := issuer.SealedRegistration{ID: sr.ID, Org: sr.Org, Programme: sr.Programme, Created: sr.Created, CreatedBy: sr.CreatedBy,
		Updated: d.now, UpdatedBy: "system:retention", Rev: sr.Rev + 1,
		Erasure: &issuer.Erasure{At: d.now, By: "system:retention", Reason: issuer.ErasedRetention}}
	if err := d.db.UpdateRegistration(ctx, tomb); err != nil {
		t.Fatal(err)
	}
	rep, err := d.svc.RetentionSweep(ctx, false)
	if err != nil || rep.Audited != 1 || len(rep.Erased) != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	if n := len(d.erasedEntries(t)); n != 1 {
		t.Fatalf("%d erase entries", n)
	}
	d.checkErased(t, reg.ID, issuer.ErasedRetention)
	if rep, _ := d.svc.RetentionSweep(ctx, false); rep.Audited != 0 {
		t.Fatal("audited twice")
	}
}

func TestEraseOnRequest(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	reg, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	supervisor := issuer.Principal{Org: "demo", Role: issuer.RoleSupervisor, StaffID: d.registrar.StaffID}
	_, err = d.svc.EraseRegistration(ctx, supervisor, "demo", reg.ID, issuer.EraseInput{})
	if got := fields(err); !slices.Equal(got, []string{"confirm"}) {
		t.Fatalf("without confirmation: %v", err)
	}
	if got, _ := d.svc.Registration(ctx, "demo", reg.ID); got.Erased() {
		t.Fatal("erased without confirmation")
	}
	if _, err := d.svc.EraseRegistration(ctx, supervisor, "other", reg.ID, issuer.EraseInput{Confirm: true}); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("another organisation's: %v", err)
	}
	got, err := d.svc.EraseRegistration(ctx, supervisor, "demo", reg.ID, issuer.EraseInput{Confirm: true})
	if err != nil || !got.Erased() || got.Erasure.Reason != issuer.ErasedRequest || got.Erasure.By != supervisor.StaffID {
		t.Fatalf("%+v %v", got, err)
	}
	d.checkErased(t, reg.ID, issuer.ErasedRequest)
	// Again: nothing changes, nothing more is recorded.
	if _, err := d.svc.EraseRegistration(ctx, supervisor, "demo", reg.ID, issuer.EraseInput{Confirm: true}); err != nil {
		t.Fatal(err)
	}
	erased := d.erasedEntries(t)
	if len(erased) != 1 || erased[0].Purpose != audit.PurposeErasureRequest || erased[0].Actor != audit.Staff(supervisor.StaffID) {
		t.Fatalf("%+v", erased)
	}
	// The person can be registered again, as anyone new.
	if _, err := d.register(t, fatima(), false); err != nil {
		t.Fatalf("registering again after erasure: %v", err)
	}
}

// TestRegisterRace: registrars at several desks register the same person
// at the same moment; one registration is made, the others are told of it
// as a likely duplicate.
func TestRegisterRace(t *testing.T) {
	d := newDesk(t)
	const desks = 4
	people := []string{"Fatima Hassan Abdi", "Omar Ismail Farah", "Khadija Noor Ali", "Yusuf Adan Mire", "Hodan Warsame Jama"}
	for round, name := range people {
		p := fatima()
		p.RegistrationID, p.FirstName, p.LastName = "", "", ""
		p.FullName, p.DateOfBirth = name, fmt.Sprintf("19%d0-01-0%d", round+5, round+1)
		var wg sync.WaitGroup
		errs := make([]error, desks)
		start := make(chan struct{})
		for i := range desks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = d.svc.Register(context.Background(), d.registrar, "demo", issuer.NewRegistration{Person: p, Consent: verbal()})
			}()
		}
		close(start)
		wg.Wait()
		made := 0
		for _, err := range errs {
			switch {
			case err == nil:
				made++
			case !errors.Is(err, issuer.ErrLikelyDuplicates):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		matches, err := d.svc.Search(context.Background(), "demo", issuer.SearchQuery{Name: p.FullName})
		if err != nil {
			t.Fatal(err)
		}
		if made != 1 || len(matches) != 1 {
			t.Fatalf("round %d: %d registrations made, %d found", round, made, len(matches))
		}
	}
}
