package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/issuer"
)

var (
	_ issuer.ProgrammeStore    = (*bolt.DB)(nil)
	_ issuer.DataKeyStore      = (*bolt.DB)(nil)
	_ issuer.RegistrationStore = (*bolt.DB)(nil)
	_ issuer.RegistrationIndex = (*bolt.DB)(nil)
)

func TestProgrammeStore(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, "org-a", "alice")
	p := issuer.Programme{Org: "org-a", Code: "MPCA-2026", Name: "Cash", Languages: []string{"en"}, RetentionMonths: 24, Created: t0}
	if err := db.CreateProgramme(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateProgramme(ctx, p); !errors.Is(err, issuer.ErrConflict) {
		t.Fatalf("again: %v", err)
	}
	if err := db.CreateProgramme(ctx, issuer.Programme{Org: "nowhere", Code: "X"}); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("in no organisation: %v", err)
	}
	p.Name = "Cash 2026"
	if err := db.UpdateProgramme(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateProgramme(ctx, issuer.Programme{Org: "org-a", Code: "NOPE"}); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("update none: %v", err)
	}
	if err := db.CreateProgramme(ctx, issuer.Programme{Org: "org-a", Code: "ALPHA"}); err != nil {
		t.Fatal(err)
	}
	list, err := db.Programmes(ctx, "org-a")
	if err != nil || len(list) != 2 || list[0].Code != "ALPHA" || list[1].Name != "Cash 2026" {
		t.Fatalf("Programmes = %+v, %v", list, err)
	}
	for _, tc := range []struct {
		org, code string
		want      bool
	}{{"org-a", "MPCA-2026", true}, {"org-a", "MPCA", false}, {"org-b", "MPCA-2026", false}} {
		if got, err := db.HasProgramme(ctx, tc.org, tc.code); err != nil || got != tc.want {
			t.Errorf("HasProgramme(%s, %s) = %v, %v", tc.org, tc.code, got, err)
		}
	}
}

func key(kind issuer.IndexKind, b byte) issuer.IndexKey {
	return issuer.IndexKey{Kind: kind, Value: bytes.Repeat([]byte{b}, issuer.IndexSize)}
}

func TestRegistrationStore(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, "org-a", "alice")
	seed(t, db, "org-b", "bob")
	r1 := issuer.SealedRegistration{ID: "r1", Org: "org-a", Programme: "P", Rev: 1, DataKey: 1, Sealed: []byte("sealed-1"),
		Index: []issuer.IndexKey{key(issuer.IndexRegistrationID, 1), key(issuer.IndexNamePart, 2), key(issuer.IndexNamePart, 3)}}
	r2 := issuer.SealedRegistration{ID: "r2", Org: "org-a", Programme: "P", Rev: 1, DataKey: 1, Sealed: []byte("sealed-2"),
		Index: []issuer.IndexKey{key(issuer.IndexRegistrationID, 4), key(issuer.IndexNamePart, 2), key(issuer.IndexDateOfBirth, 0)}}
	for _, r := range []issuer.SealedRegistration{r1, r2} {
		if err := db.CreateRegistration(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// The same unique key in another organisation is fine.
	rb := r1
	rb.Org = "org-b"
	if err := db.CreateRegistration(ctx, rb); err != nil {
		t.Fatal(err)
	}

	refused := []struct {
		name string
		r    issuer.SealedRegistration
		want error
	}{
		{"id taken", issuer.SealedRegistration{ID: "r1", Org: "org-a", Sealed: []byte("x")}, issuer.ErrConflict},
		{"unique key taken", issuer.SealedRegistration{ID: "r3", Org: "org-a", Sealed: []byte("x"), Index: []issuer.IndexKey{key(issuer.IndexRegistrationID, 1)}}, issuer.ErrConflict},
		{"no organisation", issuer.SealedRegistration{ID: "r3", Org: "org-z", Sealed: []byte("x")}, issuer.ErrNotFound},
		{"nothing sealed", issuer.SealedRegistration{ID: "r3", Org: "org-a"}, nil},
		{"short index value", issuer.SealedRegistration{ID: "r3", Org: "org-a", Sealed: []byte("x"), Index: []issuer.IndexKey{{Kind: "part", Value: []byte{1}}}}, nil},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			err := db.CreateRegistration(ctx, tc.r)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if n, _ := db.CountRegistrations(ctx, "org-a"); n != 2 {
				t.Fatalf("%d registrations", n)
			}
			// A refused registration left no index entry behind.
			if hits, _ := db.FindRegistrations(ctx, "org-a", []issuer.IndexKey{key(issuer.IndexRegistrationID, 1)}, 10); len(hits) != 1 {
				t.Fatalf("hits %+v", hits)
			}
		})
	}

	hits, err := db.FindRegistrations(ctx, "org-a", []issuer.IndexKey{key(issuer.IndexNamePart, 2), key(issuer.IndexNamePart, 3), key(issuer.IndexYearOfBirth, 9)}, 10)
	if err != nil || len(hits) != 2 || hits[0].ID != "r1" || len(hits[0].Keys) != 2 || hits[1].ID != "r2" || len(hits[1].Keys) != 1 {
		t.Fatalf("FindRegistrations = %+v, %v", hits, err)
	}
	if hits, _ := db.FindRegistrations(ctx, "org-a", []issuer.IndexKey{key(issuer.IndexNamePart, 2)}, 1); len(hits) != 1 {
		t.Fatalf("limit 1: %+v", hits)
	}
	// The same value under another kind is another key.
	if hits, _ := db.FindRegistrations(ctx, "org-a", []issuer.IndexKey{key(issuer.IndexName, 2)}, 10); len(hits) != 0 {
		t.Fatalf("another kind: %+v", hits)
	}

	// Update: the revision must follow; the index is replaced.
	up := r1
	up.Rev, up.Sealed, up.Index = 2, []byte("sealed-1b"), []issuer.IndexKey{key(issuer.IndexRegistrationID, 5), key(issuer.IndexNamePart, 6)}
	if err := db.UpdateRegistration(ctx, up); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateRegistration(ctx, up); !errors.Is(err, issuer.ErrConflict) {
		t.Fatalf("the same revision again: %v", err)
	}
	taken := up
	taken.Rev, taken.Index = 3, []issuer.IndexKey{key(issuer.IndexRegistrationID, 4)}
	if err := db.UpdateRegistration(ctx, taken); !errors.Is(err, issuer.ErrConflict) {
		t.Fatalf("taking r2's registration ID: %v", err)
	}
	none := up
	none.ID, none.Rev = "nope", 2
	if err := db.UpdateRegistration(ctx, none); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("update none: %v", err)
	}
	got, err := db.Registration(ctx, "org-a", "r1")
	if err != nil || got.Rev != 2 || string(got.Sealed) != "sealed-1b" {
		t.Fatalf("Registration = %+v, %v", got, err)
	}
	for _, tc := range []struct {
		k    issuer.IndexKey
		want int
	}{{key(issuer.IndexRegistrationID, 1), 0}, {key(issuer.IndexNamePart, 3), 0}, {key(issuer.IndexRegistrationID, 5), 1}, {key(issuer.IndexNamePart, 2), 1}} {
		if hits, _ := db.FindRegistrations(ctx, "org-a", []issuer.IndexKey{tc.k}, 10); len(hits) != tc.want {
			t.Errorf("after the update, %s %x: %d hits, want %d", tc.k.Kind, tc.k.Value[0], len(hits), tc.want)
		}
	}
	if _, err := db.Registration(ctx, "org-b", "r2"); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("r2 in org-b: %v", err)
	}
}

// TestNoPersonalDataInTheFile registers people through the issuer, then
// reads the bbolt file's raw bytes: no name, date of birth, registration
// ID or other claim is in it, in any case or spelling the indexes use.
func TestNoPersonalDataInTheFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), bolt.FileName)
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := issuer.New(db.Stores(), issuer.Options{
		MasterKey: []byte("river lantern cobalt pepper"), ScryptN: credentials.LowestScryptN,
		Password: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := svc.CreateOrganisation(ctx, issuer.NewOrganisation{Slug: "demo", Name: "Demo", Host: "tally.example",
		Admin: issuer.NewStaff{Name: "Admin", Username: "admin"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateProgramme(ctx, issuer.SystemPrincipal("test"), "demo", issuer.ProgrammeInput{Code: "MPCA-2026", Name: "Cash",
		Languages: []string{"so"}, RetentionMonths: 24, CredentialTypes: []string{"registration"}, Purpose: "Cash."}); err != nil {
		t.Fatal(err)
	}
	by := issuer.Principal{Org: "demo", Role: issuer.RoleRegistrar, StaffID: "st1"}
	people := []credentials.Registration{
		{RegistrationID: "KE-DAD-2026-000123", FullName: "Fatima Hassan Abdi", FirstName: "Fatima", LastName: "Abdi",
			DateOfBirth: "1991-03-14", Gender: "female", Nationality: "SO", LegalStatus: "asylum-seeker",
			LocationCode: "KE-DADAAB-HSP1", Language: "som", Programme: "MPCA-2026", HouseholdSize: 5},
		{RegistrationID: "KE-DAD-2026-000777", FullName: "عائشة يوسف", DateOfBirth: "1988-12-02", Programme: "MPCA-2026", LegalStatus: "refugee-mandate"},
	}
	var ids []string
	for _, p := range people {
		reg, err := svc.Register(ctx, by, "demo", issuer.NewRegistration{Person: p, Confirm: true,
			Consent: issuer.ConsentInput{Given: true, Method: issuer.ConsentVerbal, Language: "so"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, reg.ID)
	}
	corrected := "Faadumo Xasan Cabdi"
	if _, err := svc.Correct(ctx, by, "demo", ids[0], issuer.PersonCorrection{FullName: &corrected}); err != nil {
		t.Fatal(err)
	}
	if m, err := svc.Search(ctx, "demo", issuer.SearchQuery{Name: "Fatima"}); err != nil || len(m) != 1 {
		t.Fatalf("search: %d %v", len(m), err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lower := bytes.ToLower(raw)
	for _, s := range []string{
		"Fatima", "Hassan", "Abdi", "Faadumo", "Xasan", "Cabdi", "1991-03-14", "19910314", "1991", "KE-DAD-2026-000123", "000123",
		"asylum-seeker", "KE-DADAAB-HSP1", "female", "عائشة", "يوسف", "عايشه", "1988-12-02", "KE-DAD-2026-000777", "refugee-mandate",
		"=fatima", "~dhr", "river lantern",
	} {
		if bytes.Contains(lower, bytes.ToLower([]byte(s))) {
			t.Errorf("the database file holds %q", s)
		}
	}
	// The records are there, sealed.
	if !bytes.Contains(raw, []byte(ids[0])) || !slices.ContainsFunc(ids, func(id string) bool { return strings.Contains(string(raw), id) }) {
		t.Fatal("the registrations are not in the file at all")
	}
}
