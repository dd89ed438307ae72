package issuer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
)

// desk is a registration desk: a Service with an audit log on real bbolt,
// organisation demo with programme MPCA-2026 and a registrar, and
// organisation other with the same programme code.
type desk struct {
	*fixture
	log       *audit.Log
	registrar issuer.Principal
	corrected []issuer.Corrected
}

func newDesk(t *testing.T) *desk {
	t.Helper()
	ctx := context.Background()
	db, err := bolt.Open(filepath.Join(t.TempDir(), bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, err := bolt.NewAuditStore(db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	d := &desk{fixture: &fixture{db: db, now: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}}
	d.log = audit.NewLog(store, audit.Options{Now: func() time.Time { return d.now }, Programmes: db})
	d.svc, err = issuer.New(db.Stores(), issuer.Options{
		MasterKey: []byte("river lantern cobalt pepper"),
		Now:       func() time.Time { return d.now },
		Password:  issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1},
		ScryptN:   credentials.LowestScryptN,
		Audit:     d.log,
		BaseURL:   "https://tally.example:8443",
		OnCorrected: func(ctx context.Context, c issuer.Corrected) error {
			d.corrected = append(d.corrected, c)
			return d.svc.OnCorrectedRevoke(ctx, c)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	sys := issuer.SystemPrincipal("test")
	for _, org := range []string{"demo", "other"} {
		d.org(t, org, "admin-"+org)
		if _, err := d.svc.CreateProgramme(ctx, sys, org, mpca()); err != nil {
			t.Fatal(err)
		}
	}
	st, _, err := d.svc.CreateStaff(ctx, sys, "demo", issuer.NewStaff{Name: "Rania", Username: "rania", Role: issuer.RoleRegistrar})
	if err != nil {
		t.Fatal(err)
	}
	d.registrar = issuer.Principal{Org: "demo", Role: issuer.RoleRegistrar, StaffID: st.ID}
	return d
}

// fatima is the sample registration (../shared/samples/registration.json).
func fatima() credentials.Registration {
	return credentials.Registration{
		RegistrationID: "KE-DAD-2026-000123", FullName: "Fatima Hassan Abdi", FirstName: "Fatima", LastName: "Abdi",
		DateOfBirth: "1991-03-14", Gender: "female", Nationality: "SO", LegalStatus: "asylum-seeker",
		LocationCode: "KE-DADAAB-HSP1", Language: "som", Programme: "MPCA-2026", HouseholdSize: 5,
	}
}

func verbal() issuer.ConsentInput {
	return issuer.ConsentInput{Given: true, Method: issuer.ConsentVerbal, Language: "so"}
}

func (d *desk) register(t *testing.T, p credentials.Registration, confirm bool) (issuer.Registration, error) {
	t.Helper()
	return d.svc.Register(context.Background(), d.registrar, "demo", issuer.NewRegistration{Person: p, Consent: verbal(), Confirm: confirm})
}

func (d *desk) entries(t *testing.T) []audit.Entry {
	t.Helper()
	var list []audit.Entry
	if err := d.log.Entries(context.Background(), func(e audit.Entry) error { list = append(list, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return list
}

func TestRegister(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	reg, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	if reg.ID == "" || reg.Rev != 1 || len(reg.Seed) != credentials.SeedSize || reg.Person.DedupSeed != nil ||
		reg.Person.FullName != "Fatima Hassan Abdi" || reg.CreatedBy != d.registrar.StaffID || reg.Programme != "MPCA-2026" {
		t.Fatalf("registered %+v", reg)
	}
	c := reg.Consent
	if c.ID == "" || c.Method != issuer.ConsentVerbal || c.Language != "so" || c.Date != "2026-11-01" || c.StaffID != d.registrar.StaffID ||
		c.Purpose != mpca().Purpose || c.Programme != "MPCA-2026" || !reg.Consented("MPCA-2026") || reg.Consented("OTHER") {
		t.Fatalf("consent %+v", c)
	}
	if sub := reg.Subject(); !bytes.Equal(sub.DedupSeed, reg.Seed) || sub.RegistrationID != "KE-DAD-2026-000123" {
		t.Fatalf("subject %+v", sub)
	}
	got, err := d.svc.Registration(ctx, "demo", reg.ID)
	if err != nil || !bytes.Equal(got.Seed, reg.Seed) || !reflect.DeepEqual(got.Person, reg.Person) || got.Consent.ID != c.ID {
		t.Fatalf("read back %+v, %v", got, err)
	}
	if _, err := d.svc.Registration(ctx, "other", reg.ID); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("another organisation reads it: %v", err)
	}
	// The API's JSON never shows the seed.
	if data, _ := json.Marshal(got); bytes.Contains(data, []byte("dedupSeed")) || bytes.Contains(data, []byte("seed")) {
		t.Fatalf("JSON with a seed: %s", data)
	}

	// A person without a registration ID gets one, from the programme.
	p := fatima()
	p.RegistrationID, p.FullName, p.FirstName, p.LastName, p.DateOfBirth = "", "Khadija Omar Warsame", "", "", "1980"
	k, err := d.register(t, p, false)
	if err != nil || !strings.HasPrefix(k.Person.RegistrationID, "MPCA-2026-") || len(k.Person.RegistrationID) != len("MPCA-2026-")+8 {
		t.Fatalf("drawn registration ID %q, %v", k.Person.RegistrationID, err)
	}

	// A token names the staff member who took the consent.
	token := issuer.Principal{Org: "demo", Role: issuer.RoleRegistrar, TokenID: "tok1"}
	p.RegistrationID, p.FullName = "", "Amina Yusuf Ali"
	in := issuer.NewRegistration{Person: p, Consent: verbal()}
	if _, err := d.svc.Register(ctx, token, "demo", in); !slices.Equal(fields(err), []string{"consent.staffId"}) {
		t.Fatalf("a token without the consent's staff member: %v", err)
	}
	in.Consent.StaffID = d.registrar.StaffID
	tr, err := d.svc.Register(ctx, token, "demo", in)
	if err != nil || tr.CreatedBy != "token:tok1" || tr.Consent.StaffID != d.registrar.StaffID {
		t.Fatalf("by token: %+v %v", tr, err)
	}

	// Each registration is audited, by ids, for its programme.
	var registered int
	for _, e := range d.entries(t) {
		if e.Action == audit.ActionRegister {
			registered++
			if e.Purpose != audit.ProgrammePurpose("MPCA-2026") || len(e.Objects) != 2 || e.Objects[1].Kind != audit.ObjectConsent {
				t.Fatalf("entry %+v", e)
			}
		}
	}
	if registered != 3 {
		t.Fatalf("%d register entries, want 3", registered)
	}
}

func TestRegisterRefuses(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	if _, err := d.register(t, fatima(), false); err != nil {
		t.Fatal(err)
	}
	person := func(mod func(*credentials.Registration)) credentials.Registration {
		p := fatima()
		p.RegistrationID, p.FullName, p.FirstName, p.LastName, p.DateOfBirth = "NEW-1", "Zahra Noor", "", "", "2001-02-03"
		mod(&p)
		return p
	}
	tests := []struct {
		name       string
		in         issuer.NewRegistration
		wantFields []string
	}{
		{"nothing", issuer.NewRegistration{}, []string{"fullName", "programme", "consent.given", "consent.method", "consent.language"}},
		{"no consent", issuer.NewRegistration{Person: person(func(*credentials.Registration) {})}, []string{"consent.given", "consent.method", "consent.language"}},
		{"consent not ticked", issuer.NewRegistration{Person: person(func(*credentials.Registration) {}),
			Consent: issuer.ConsentInput{Method: issuer.ConsentWritten, Language: "en"}}, []string{"consent.given"}},
		{"unknown method", issuer.NewRegistration{Person: person(func(*credentials.Registration) {}),
			Consent: issuer.ConsentInput{Given: true, Method: "nodded", Language: "en"}}, []string{"consent.method"}},
		{"bad language", issuer.NewRegistration{Person: person(func(*credentials.Registration) {}),
			Consent: issuer.ConsentInput{Given: true, Method: issuer.ConsentGuardian, Language: "Somali please"}}, []string{"consent.language"}},
		{"consent in the future", issuer.NewRegistration{Person: person(func(*credentials.Registration) {}),
			Consent: issuer.ConsentInput{Given: true, Method: issuer.ConsentVerbal, Language: "so", Date: "2026-11-02"}}, []string{"consent.date"}},
		{"consent two years ago", issuer.NewRegistration{Person: person(func(*credentials.Registration) {}),
			Consent: issuer.ConsentInput{Given: true, Method: issuer.ConsentVerbal, Language: "so", Date: "2024-11-01"}}, []string{"consent.date"}},
		{"someone else's consent", issuer.NewRegistration{Person: person(func(*credentials.Registration) {}),
			Consent: issuer.ConsentInput{Given: true, Method: issuer.ConsentVerbal, Language: "so", StaffID: "someone"}}, []string{"consent.staffId"}},
		{"unknown programme", issuer.NewRegistration{Person: person(func(p *credentials.Registration) { p.Programme = "NOPE" }), Consent: verbal()}, []string{"programme"}},
		{"bad claims", issuer.NewRegistration{Person: person(func(p *credentials.Registration) {
			p.DateOfBirth, p.Gender, p.Nationality, p.Language, p.HouseholdSize, p.RegistrationID = "14/03/1991", "f", "Somalia", "Somali", -1, "no spaces allowed"
		}), Consent: verbal()}, []string{"registrationId", "dateOfBirth", "gender", "nationality", "language", "householdSize"}},
		{"a name without letters", issuer.NewRegistration{Person: person(func(p *credentials.Registration) { p.FullName = "--" }), Consent: verbal()}, []string{"fullName"}},
		{"a holder DID", issuer.NewRegistration{Person: person(func(p *credentials.Registration) { p.ID = "did:key:z6Mk" }), Consent: verbal()}, []string{"id"}},
		{"a seed", issuer.NewRegistration{Person: person(func(p *credentials.Registration) { p.DedupSeed = make(credentials.Seed, 16) }), Consent: verbal()}, []string{"dedupSeed"}},
		{"registration ID taken, even confirmed", issuer.NewRegistration{Person: person(func(p *credentials.Registration) { p.RegistrationID = "KE-DAD-2026-000123" }),
			Consent: verbal(), Confirm: true}, []string{"registrationId"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(d.entries(t))
			_, err := d.svc.Register(ctx, d.registrar, "demo", tc.in)
			if !errors.Is(err, issuer.ErrInvalid) || !slices.Equal(fields(err), tc.wantFields) {
				t.Fatalf("error %v (fields %v), want %v", err, fields(err), tc.wantFields)
			}
			if n, _ := d.db.CountRegistrations(ctx, "demo"); n != 1 {
				t.Fatalf("%d registrations after a refused one", n)
			}
			if len(d.entries(t)) != before {
				t.Fatal("a refused registration was audited")
			}
		})
	}
}

// TestDuplicates: Faadumo Xasan Cabdi, born the same day, is Fatima
// Hassan Abdi written the Somali way: she is shown, with why, and the
// visit is linked to her registration.
func TestDuplicates(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	fat, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	other := fatima()
	other.RegistrationID, other.FullName, other.FirstName, other.LastName, other.DateOfBirth = "KE-DAD-2026-000200", "Mohamed Ali Omar", "", "", "1985"
	mo, err := d.register(t, other, false)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		mod     func(p *credentials.Registration)
		want    string
		reasons []issuer.MatchReason
	}{
		{"Somali spelling, same date of birth", func(p *credentials.Registration) {
			p.FullName, p.FirstName, p.LastName = "Faadumo Xasan Cabdi", "Faadumo", "Cabdi"
		}, fat.ID, []issuer.MatchReason{issuer.ReasonName, issuer.ReasonDateOfBirth}},
		{"Arabic script, no date of birth", func(p *credentials.Registration) {
			p.FullName, p.FirstName, p.LastName, p.DateOfBirth = "فاطمة حسن عبدي", "", "", ""
		}, fat.ID, []issuer.MatchReason{issuer.ReasonName}},
		{"two names and the year", func(p *credentials.Registration) {
			p.FullName, p.FirstName, p.LastName, p.DateOfBirth = "Fatuma Abdi", "", "", "1991"
		}, fat.ID, []issuer.MatchReason{issuer.ReasonSimilarName, issuer.ReasonYearOfBirth}},
		{"one name and the date", func(p *credentials.Registration) {
			p.FullName, p.FirstName, p.LastName = "Faadumo Warsame", "", ""
		}, fat.ID, []issuer.MatchReason{issuer.ReasonNamePart, issuer.ReasonDateOfBirth}},
		{"the registration ID", func(p *credentials.Registration) {
			p.FullName, p.FirstName, p.LastName, p.DateOfBirth, p.RegistrationID = "Someone Else", "", "", "", "KE-DAD-2026-000200"
		}, mo.ID, []issuer.MatchReason{issuer.ReasonRegistrationID}},
		{"Maxamed Cali Cumar, in Somali", func(p *credentials.Registration) {
			p.FullName, p.FirstName, p.LastName, p.DateOfBirth = "Maxamed Cali Cumar", "", "", ""
		}, mo.ID, []issuer.MatchReason{issuer.ReasonName}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := fatima()
			p.RegistrationID = ""
			tc.mod(&p)
			_, err := d.register(t, p, false)
			var de *issuer.DuplicatesError
			if !errors.As(err, &de) || !errors.Is(err, issuer.ErrLikelyDuplicates) {
				t.Fatalf("error %v, want likely duplicates", err)
			}
			if len(de.Matches) != 1 || de.Matches[0].Registration.ID != tc.want || !slices.Equal(de.Matches[0].Reasons, tc.reasons) {
				t.Fatalf("matches %+v, want %s for %v", de.Matches, tc.want, tc.reasons)
			}
		})
	}

	// Not likely duplicates: another name born the same day; Fatima's
	// first name only, born another year; Hussein for Hassan.
	for _, mod := range []func(p *credentials.Registration){
		func(p *credentials.Registration) { p.FullName, p.FirstName, p.LastName = "Khadija Omar", "", "" },
		func(p *credentials.Registration) {
			p.FullName, p.FirstName, p.LastName, p.DateOfBirth = "Fatima Noor", "", "", "2001"
		},
		func(p *credentials.Registration) {
			p.FullName, p.FirstName, p.LastName, p.DateOfBirth = "Halima Hussein", "", "", "1991-05-01"
		},
	} {
		p := fatima()
		p.RegistrationID = ""
		mod(&p)
		if _, err := d.register(t, p, false); err != nil {
			t.Fatalf("%s: %v", p.FullName, err)
		}
	}

	// The visit is linked instead; "create anyway" needs Confirm.
	before, _ := d.db.CountRegistrations(ctx, "demo")
	linked, err := d.svc.Link(ctx, d.registrar, "demo", fat.ID, issuer.LinkInput{Programme: "MPCA-2026",
		Consent: issuer.ConsentInput{Given: true, Method: issuer.ConsentWritten, Language: "ar"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(linked.Links) != 1 || linked.Rev != 2 || linked.Links[0].Consent.Language != "ar" || !bytes.Equal(linked.Seed, fat.Seed) {
		t.Fatalf("linked %+v", linked)
	}
	if after, _ := d.db.CountRegistrations(ctx, "demo"); after != before {
		t.Fatalf("linking made a registration: %d → %d", before, after)
	}
	if _, err := d.svc.Link(ctx, d.registrar, "demo", fat.ID, issuer.LinkInput{Programme: "MPCA-2026"}); !errors.Is(err, issuer.ErrInvalid) {
		t.Fatalf("a link without consent: %v", err)
	}
	if _, err := d.svc.Link(ctx, d.registrar, "other", fat.ID, issuer.LinkInput{Programme: "MPCA-2026", Consent: verbal()}); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("a link from another organisation: %v", err)
	}
	p := fatima()
	p.RegistrationID, p.FullName = "", "Faadumo Xasan Cabdi"
	if _, err := d.register(t, p, true); err != nil {
		t.Fatalf("create anyway: %v", err)
	}
	var links int
	for _, e := range d.entries(t) {
		if e.Action == audit.ActionLink {
			links++
		}
	}
	if links != 1 {
		t.Fatalf("%d link entries", links)
	}

	// Likely duplicates stay within the organisation, and so do
	// registration IDs.
	in := issuer.NewRegistration{Person: fatima(), Consent: verbal()}
	if _, err := d.svc.Register(ctx, issuer.Principal{Org: "other", Role: issuer.RoleRegistrar, StaffID: "st-other"}, "other", in); err != nil {
		t.Fatalf("Fatima in another organisation: %v", err)
	}
}

func TestCorrect(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	reg, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	name, dob, hh := "Faadumo Xasan Cabdi", "1991-03-15", 6
	d.now = d.now.Add(time.Hour)
	sup := issuer.Principal{Org: "demo", Role: issuer.RoleSupervisor, StaffID: "sup1"}
	got, err := d.svc.Correct(ctx, sup, "demo", reg.ID, issuer.PersonCorrection{FullName: &name, DateOfBirth: &dob, HouseholdSize: &hh, Rev: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got.Person.FullName != name || got.Person.DateOfBirth != dob || got.Person.HouseholdSize != 6 || got.Person.LastName != "Abdi" ||
		!bytes.Equal(got.Seed, reg.Seed) || got.Consent.ID != reg.Consent.ID || got.Rev != 2 || got.UpdatedBy != "sup1" ||
		len(got.Corrections) != 1 || !slices.Equal(got.Corrections[0].Fields, []string{"fullName", "dateOfBirth", "householdSize"}) {
		t.Fatalf("corrected %+v", got)
	}
	if len(d.corrected) != 1 || d.corrected[0].Registration != reg.ID || d.corrected[0].Rev != 2 || d.corrected[0].By.StaffID != "sup1" {
		t.Fatalf("hook %+v", d.corrected)
	}
	// The indexes follow: the new date is found, the old one is not.
	if m, err := d.svc.Search(ctx, "demo", issuer.SearchQuery{DateOfBirth: "1991-03-15"}); err != nil || len(m) != 1 {
		t.Fatalf("search by the new date: %d %v", len(m), err)
	}
	if m, err := d.svc.Search(ctx, "demo", issuer.SearchQuery{DateOfBirth: "1991-03-14"}); err != nil || len(m) != 0 {
		t.Fatalf("search by the old date: %d %v", len(m), err)
	}

	// Nothing to change: nothing recorded.
	if same, err := d.svc.Correct(ctx, sup, "demo", reg.ID, issuer.PersonCorrection{FullName: &name}); err != nil || same.Rev != 2 || len(d.corrected) != 1 {
		t.Fatalf("no change: rev %d, %v", same.Rev, err)
	}
	bad := "1991-02-30"
	empty := ""
	otherID := "KE-DAD-2026-000999"
	tests := []struct {
		name string
		in   issuer.PersonCorrection
		want error
	}{
		{"stale revision", issuer.PersonCorrection{FullName: &name, Rev: 1}, issuer.ErrConflict},
		{"a date that does not exist", issuer.PersonCorrection{DateOfBirth: &bad}, issuer.ErrInvalid},
		{"no name", issuer.PersonCorrection{FullName: &empty}, issuer.ErrInvalid},
		{"no registration ID", issuer.PersonCorrection{RegistrationID: &empty}, issuer.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := d.svc.Correct(ctx, sup, "demo", reg.ID, tc.in); !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			now, _ := d.svc.Registration(ctx, "demo", reg.ID)
			if now.Rev != 2 {
				t.Fatalf("rev %d after a refused correction", now.Rev)
			}
		})
	}
	// A registration ID another registration has is refused.
	p := fatima()
	p.RegistrationID, p.FullName, p.FirstName, p.LastName, p.DateOfBirth = otherID, "Omar Ismail", "", "", ""
	if _, err := d.register(t, p, false); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.Correct(ctx, sup, "demo", reg.ID, issuer.PersonCorrection{RegistrationID: &otherID}); !slices.Equal(fields(err), []string{"registrationId"}) {
		t.Fatalf("taken registration ID: %v", err)
	}
	if _, err := d.svc.Correct(ctx, sup, "other", reg.ID, issuer.PersonCorrection{FullName: &name}); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("another organisation corrects: %v", err)
	}
	var corrections int
	for _, e := range d.entries(t) {
		if e.Action == audit.ActionCorrect {
			corrections++
			if e.Purpose != audit.PurposeRectification {
				t.Fatalf("entry %+v", e)
			}
		}
	}
	if corrections != 1 {
		t.Fatalf("%d correct entries", corrections)
	}
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	fat, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	p := fatima()
	p.RegistrationID, p.FullName, p.FirstName, p.LastName, p.DateOfBirth = "KE-DAD-2026-000124", "Hassan Abdi Farah", "", "", "1991-07-01"
	d.now = d.now.Add(time.Minute)
	hassan, err := d.register(t, p, true)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    issuer.SearchQuery
		want []string
	}{
		{"registration ID", issuer.SearchQuery{RegistrationID: "KE-DAD-2026-000123"}, []string{fat.ID}},
		{"unknown registration ID", issuer.SearchQuery{RegistrationID: "KE-DAD-2026-999999"}, nil},
		{"whole name in Somali", issuer.SearchQuery{Name: "Faadumo Xasan Cabdi"}, []string{fat.ID, hassan.ID}},
		{"one name", issuer.SearchQuery{Name: "Farah"}, []string{hassan.ID}},
		{"name and date", issuer.SearchQuery{Name: "Abdi", DateOfBirth: "1991-07-01"}, []string{hassan.ID}},
		// Equally good matches come newest first.
		{"year", issuer.SearchQuery{DateOfBirth: "1991"}, []string{hassan.ID, fat.ID}},
		{"date", issuer.SearchQuery{DateOfBirth: "1991-03-14"}, []string{fat.ID}},
		{"Arabic name", issuer.SearchQuery{Name: "فاطمة"}, []string{fat.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := d.svc.Search(ctx, "demo", tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, x := range m {
				ids = append(ids, x.Registration.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Fatalf("found %v, want %v", ids, tc.want)
			}
		})
	}
	if m, err := d.svc.Search(ctx, "other", issuer.SearchQuery{Name: "Fatima Hassan Abdi"}); err != nil || len(m) != 0 {
		t.Fatalf("another organisation finds %d, %v", len(m), err)
	}
	for _, q := range []issuer.SearchQuery{{}, {DateOfBirth: "14 March 1991"}, {Name: strings.Repeat("n", 201)}} {
		if _, err := d.svc.Search(ctx, "demo", q); !errors.Is(err, issuer.ErrInvalid) {
			t.Fatalf("search %+v: %v", q, err)
		}
	}
}

// TestDataKey: the data key is sealed under the master key; another
// master key cannot open the registrations.
func TestDataKey(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	reg, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	dk, err := d.db.DataKey(ctx, "demo")
	if err != nil || dk.Version != 1 || dk.KDF != "scrypt" || len(dk.Ciphertext) == 0 {
		t.Fatalf("data key %+v, %v", dk, err)
	}
	for _, master := range [][]byte{nil, []byte("another master passphrase")} {
		other, err := issuer.New(d.db.Stores(), issuer.Options{MasterKey: master, ScryptN: credentials.LowestScryptN,
			Password: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Registration(ctx, "demo", reg.ID); !errors.Is(err, issuer.ErrNoDataKey) {
			t.Fatalf("master %q: %v", master, err)
		}
		if err := other.OpenDataKeys(ctx); !errors.Is(err, issuer.ErrNoDataKey) {
			t.Fatalf("OpenDataKeys with master %q: %v", master, err)
		}
	}
	// The same master key, in a new process, opens them.
	again, err := issuer.New(d.db.Stores(), issuer.Options{MasterKey: []byte("river lantern cobalt pepper"), ScryptN: credentials.LowestScryptN,
		Password: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := again.OpenDataKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := again.Registration(ctx, "demo", reg.ID); err != nil || got.Person.FullName != "Fatima Hassan Abdi" {
		t.Fatalf("%+v %v", got, err)
	}
	// A record moved to another registration's place does not open.
	sr, _ := d.db.Registration(ctx, "demo", reg.ID)
	p := fatima()
	p.RegistrationID, p.FullName, p.FirstName, p.LastName = "X-1", "Omar Ismail", "", ""
	o, err := d.register(t, p, true)
	if err != nil {
		t.Fatal(err)
	}
	so, _ := d.db.Registration(ctx, "demo", o.ID)
	so.Sealed, so.Rev = sr.Sealed, so.Rev+1
	if err := d.db.UpdateRegistration(ctx, so); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.Registration(ctx, "demo", o.ID); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("a swapped record opened: %v", err)
	}
}
