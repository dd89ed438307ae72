package issuer_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
)

// killedStore fails every ReplaceRegistrations after the first, as a
// process killed during a rotation would stop.
type killedStore struct {
	issuer.RegistrationStore
	calls int
}

var errKilled = errors.New("killed")

func (k *killedStore) ReplaceRegistrations(ctx context.Context, rs []issuer.SealedRegistration) error {
	if k.calls++; k.calls > 1 {
		return errKilled
	}
	return k.RegistrationStore.ReplaceRegistrations(ctx, rs)
}

func TestRotateDataKey(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	const people = 120
	ids := make([]string, people)
	for i := range people {
		p := fatima()
		p.RegistrationID, p.FirstName, p.LastName = fmt.Sprintf("R-%d", i), "", ""
		p.FullName = fmt.Sprintf("Person %d", i)
		reg, err := d.register(t, p, true)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = reg.ID
	}
	erased, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.EraseRegistration(ctx, d.registrar, "demo", erased.ID, issuer.EraseInput{Confirm: true}); err != nil {
		t.Fatal(err)
	}
	before, _ := d.db.Registration(ctx, "demo", ids[0])

	// A process killed after the first batch: the new key is current, some
	// records are sealed under it, the others still under the old one.
	stores := d.db.Stores()
	killed := &killedStore{RegistrationStore: stores.Registrations}
	stores.Registrations = killed
	opts := issuer.Options{MasterKey: []byte("river lantern cobalt pepper"), Now: func() time.Time { return d.now }, ScryptN: credentials.LowestScryptN,
		Password: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}, Audit: d.log}
	first, err := issuer.New(stores, opts)
	if err != nil {
		t.Fatal(err)
	}
	admin := issuer.Principal{Org: "demo", Role: issuer.RoleAdmin, StaffID: d.registrar.StaffID}
	if _, err := first.RotateDataKey(ctx, admin, "demo"); !errors.Is(err, errKilled) {
		t.Fatalf("the killed rotation: %v", err)
	}
	dks, _ := d.db.DataKeys(ctx, "demo")
	if len(dks) != 2 || dks[1].Version != 2 {
		t.Fatalf("keys after the killed rotation: %+v", dks)
	}
	versions := map[int]int{}
	for _, id := range ids {
		sr, _ := d.db.Registration(ctx, "demo", id)
		versions[sr.DataKey]++
	}
	if versions[1] == 0 || versions[2] == 0 {
		t.Fatalf("sealed under %v", versions)
	}
	// Meanwhile, another process reads, searches and checks duplicates
	// under both keys.
	again, err := issuer.New(d.db.Stores(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, people - 1} {
		got, err := again.Registration(ctx, "demo", ids[i])
		if err != nil || got.Person.FullName != fmt.Sprintf("Person %d", i) {
			t.Fatalf("reading %d mid-rotation: %v", i, err)
		}
		m, err := again.Search(ctx, "demo", issuer.SearchQuery{RegistrationID: fmt.Sprintf("R-%d", i)})
		if err != nil || len(m) != 1 || m[0].Registration.ID != ids[i] {
			t.Fatalf("searching %d mid-rotation: %v %v", i, m, err)
		}
	}
	p := fatima()
	p.RegistrationID, p.FirstName, p.LastName, p.FullName = "", "", "", fmt.Sprintf("Person %d", people-1)
	if _, err := again.Register(ctx, d.registrar, "demo", issuer.NewRegistration{Person: p, Consent: verbal()}); !errors.Is(err, issuer.ErrLikelyDuplicates) {
		t.Fatalf("a duplicate sealed under the old key is not found: %v", err)
	}

	// Called again, it goes on, and deletes the old key.
	rep, err := again.RotateDataKey(ctx, admin, "demo")
	if err != nil || rep.Started || !rep.Done || rep.Version != 2 || len(rep.Deleted) != 1 || rep.Deleted[0] != 1 || rep.Resealed != versions[1] {
		t.Fatalf("resumed: %+v %v (was %v)", rep, err, versions)
	}
	dks, _ = d.db.DataKeys(ctx, "demo")
	if len(dks) != 1 || dks[0].Version != 2 {
		t.Fatalf("keys after the rotation: %+v", dks)
	}
	for i, id := range ids {
		sr, _ := d.db.Registration(ctx, "demo", id)
		if sr.DataKey != 2 {
			t.Fatalf("%d still sealed under %d", i, sr.DataKey)
		}
	}
	after, _ := d.db.Registration(ctx, "demo", ids[0])
	if string(after.Sealed) == string(before.Sealed) || string(after.Index[0].Value) == string(before.Index[0].Value) || !after.Updated.Equal(before.Updated) {
		t.Fatal("the record or its index is as before, or its retention clock moved")
	}
	// A third process, with only the new key, reads and finds everyone.
	third, _ := issuer.New(d.db.Stores(), opts)
	m, err := third.Search(ctx, "demo", issuer.SearchQuery{Name: "Person 7"})
	if err != nil || len(m) == 0 || m[0].Registration.ID != ids[7] {
		t.Fatalf("search after the rotation: %v %v", m, err)
	}
	if got, err := third.Registration(ctx, "demo", erased.ID); err != nil || !got.Erased() {
		t.Fatalf("the erased one: %v", err)
	}
	// The other organisation's key did not change.
	if dks, _ := d.db.DataKeys(ctx, "other"); len(dks) > 1 || len(dks) == 1 && dks[0].Version != 1 {
		t.Fatal("other's key rotated")
	}
	n := 0
	for _, e := range d.entries(t) {
		if e.Action == audit.ActionKeyRotate && e.Org == "demo" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d key-rotate entries, want 2 (the new key, the old one deleted)", n)
	}
	// A new rotation makes key 3.
	if rep, err := third.RotateDataKey(ctx, admin, "demo"); err != nil || !rep.Started || rep.Version != 3 || !rep.Done {
		t.Fatalf("%+v %v", rep, err)
	}
}
