package registry_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/verifier/registry"
)

func TestRecordNewThenSeen(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	first, err := f.svc.Record(ctx, scan(1, "MPCA-2026", t0))
	if err != nil {
		t.Fatal(err)
	}
	if !first.New || first.After.Count != 1 || !first.After.FirstSeen.Equal(t0) {
		t.Fatalf("first scan: %+v", first)
	}
	later := t0.Add(40 * 24 * time.Hour)
	s := scan(1, "HEALTH", later)
	s.ServicePoint = "Clinic 7"
	second, err := f.svc.Record(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if second.New {
		t.Fatal("a token seen before came back new")
	}
	b := second.Before
	if b.Count != 1 || !b.FirstSeen.Equal(t0) || !b.LastSeen.Equal(t0) || b.FirstAt != "Point 3" || b.FirstProgramme != "MPCA-2026" {
		t.Errorf("before the second scan: %+v", b)
	}
	a := second.After
	if a.Count != 2 || !a.LastSeen.Equal(later) || a.LastAt != "Clinic 7" || a.LastProgramme != "HEALTH" || len(a.Periods) != 2 {
		t.Errorf("after the second scan: %+v", a)
	}
	// A scan synced late, older than the first, moves the first back and
	// leaves the last alone.
	early := scan(1, "MPCA-2026", t0.Add(-time.Hour))
	third, err := f.svc.Record(ctx, early)
	if err != nil {
		t.Fatal(err)
	}
	if e := third.After; !e.FirstSeen.Equal(early.At) || !e.LastSeen.Equal(later) || e.Count != 3 || e.Periods[0].Count != 2 {
		t.Errorf("after a late scan: %+v", e)
	}
	got, err := f.svc.Lookup(ctx, "consortium-x", tok(1))
	if err != nil || got.Count != 3 {
		t.Fatalf("lookup: %+v, %v", got, err)
	}
	if _, err := f.svc.Lookup(ctx, "consortium-x", tok(2)); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("an unknown token: %v", err)
	}
}

// Two service points scanning one card at the same moment: one of them
// sees it new, never both.
func TestRecordConcurrentOnlyOneNew(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	const n = 24
	var wg sync.WaitGroup
	news := make(chan bool, n)
	for i := range n {
		wg.Go(func() {
			o, err := f.svc.Record(ctx, scan(9, "MPCA-2026", t0.Add(time.Duration(i)*time.Second)))
			if err != nil {
				t.Error(err)
				return
			}
			news <- o.New
		})
	}
	wg.Wait()
	close(news)
	count := 0
	for isNew := range news {
		if isNew {
			count++
		}
	}
	e, err := f.svc.Lookup(ctx, "consortium-x", tok(9))
	if count != 1 || err != nil || e.Count != n {
		t.Fatalf("%d scans: %d new, entry %+v, %v", n, count, e, err)
	}
}

func TestRecordBadInput(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cases := []struct {
		name, field string
		edit        func(*registry.Scan)
	}{
		{"no domain", "domain", func(s *registry.Scan) { s.Domain = "" }},
		{"a domain with a NUL", "domain", func(s *registry.Scan) { s.Domain = "a\x00b" }},
		{"a short token", "token", func(s *registry.Scan) { s.Token = s.Token[:20] }},
		{"an upper-case token", "token", func(s *registry.Scan) { s.Token = strings.ToUpper(s.Token) }},
		{"a token that encodes more than 16 bytes", "token", func(s *registry.Scan) { s.Token = s.Token[:25] + "b" }},
		{"no service point", "service point", func(s *registry.Scan) { s.ServicePoint = " " }},
		{"a service point with a new line", "service point", func(s *registry.Scan) { s.ServicePoint = "a\nb" }},
		{"a programme with a comma", "programme", func(s *registry.Scan) { s.Programme = "a,b" }},
		{"no time", "time", func(s *registry.Scan) { s.At = time.Time{} }},
		{"a time before 2000", "time", func(s *registry.Scan) { s.At = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := scan(3, "MPCA-2026", t0)
			c.edit(&s)
			_, err := f.svc.Record(ctx, s)
			var ie *registry.InputError
			if !errors.As(err, &ie) || ie.Field != c.field || !errors.Is(err, registry.ErrInvalid) {
				t.Fatalf("error %v, want one about %s", err, c.field)
			}
		})
	}
	if _, err := f.svc.Lookup(ctx, "consortium-x", tok(3)); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("a refused scan was recorded: %v", err)
	}
	if _, err := f.svc.Record(ctx, registry.Scan{Domain: "elsewhere", Token: tok(3), ServicePoint: "P", At: t0}); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("a scan in an unknown domain: %v", err)
	}
	// One bad scan in a batch records none of it.
	batch := []registry.Scan{scan(4, "", t0), scan(5, "", t0), scan(6, "", time.Time{})}
	if _, err := f.svc.RecordMany(ctx, "consortium-x", batch); !errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), "scan 3") {
		t.Fatalf("a batch with a bad scan: %v", err)
	}
	if _, err := f.svc.Lookup(ctx, "consortium-x", tok(4)); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("part of a refused batch was recorded: %v", err)
	}
}

func TestRecordManyCountsInOrder(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	out, err := f.svc.RecordMany(ctx, "consortium-x", []registry.Scan{scan(1, "A", t0), scan(2, "A", t0), scan(1, "A", t0.Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].New || !out[1].New || out[2].New || out[2].After.Count != 2 {
		t.Fatalf("outcomes %+v", out)
	}
}

func TestDomainKeySealed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	key, err := f.svc.Key(ctx, "consortium-x")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := key.MarshalText()
	if string(text) != keyHex {
		t.Fatalf("the opened key is %q", text)
	}
	// Nothing of the key is stored in the clear.
	var raw bytes.Buffer
	err = f.db.Bolt().View(func(tx *bboltTx) error { return dumpAll(tx, &raw) })
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(key.Secret[:])
	if bytes.Contains(raw.Bytes(), key.Secret[:]) || bytes.Contains(raw.Bytes(), []byte(strings.TrimSpace(keyHex))) || bytes.Contains(raw.Bytes(), []byte(b64[:40])) {
		t.Fatal("the domain key is stored in the clear")
	}
	// Another master key cannot open it.
	other, err := registry.New(f.st.Stores(), registry.Options{MasterKey: []byte("another passphrase"), ScryptN: credentials.LowestScryptN})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Key(ctx, "consortium-x"); !errors.Is(err, registry.ErrNoKey) {
		t.Errorf("a wrong master key: %v", err)
	}
	// A domain sealed cheaper than the service requires is refused.
	strict, _ := registry.New(f.st.Stores(), registry.Options{MasterKey: []byte("master passphrase for tests"), ScryptN: credentials.LowestScryptN * 2})
	if _, err := strict.Key(ctx, "consortium-x"); !errors.Is(err, registry.ErrNoKey) {
		t.Errorf("a weakly sealed key: %v", err)
	}
	// A printed domain does not show the sealed bytes.
	d, _ := f.st.Domain(ctx, "consortium-x")
	if s := d.Key.String(); strings.Contains(s, "ciphertext") || len(s) > 60 {
		t.Errorf("a sealed key prints as %q", s)
	}
}

func TestAddDomainBadInput(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	good := registry.NewDomain{ID: "org-a-own", Name: "Org A", Kind: registry.KindOwn, Members: []string{"org-a"}, KeyFile: []byte(keyHex)}
	cases := []struct {
		name, field string
		edit        func(*registry.NewDomain)
	}{
		{"no id", "id", func(d *registry.NewDomain) { d.ID = "" }},
		{"an id with a slash", "id", func(d *registry.NewDomain) { d.ID = "a/b" }},
		{"no name", "name", func(d *registry.NewDomain) { d.Name = "" }},
		{"an unknown kind", "kind", func(d *registry.NewDomain) { d.Kind = "shared" }},
		{"no members", "members", func(d *registry.NewDomain) { d.Members = nil }},
		{"an own domain of two", "members", func(d *registry.NewDomain) { d.Members = []string{"a", "b"} }},
		{"a member twice", "members", func(d *registry.NewDomain) { d.Kind = registry.KindConsortium; d.Members = []string{"a", "a"} }},
		{"a short key", "key", func(d *registry.NewDomain) { d.KeyFile = []byte("0011") }},
		{"a key that is not hex", "key", func(d *registry.NewDomain) { d.KeyFile = bytes.Repeat([]byte("z"), 64) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := good
			c.edit(&d)
			_, err := f.svc.AddDomain(ctx, d)
			var ie *registry.InputError
			if !errors.As(err, &ie) || ie.Field != c.field {
				t.Fatalf("error %v, want one about %s", err, c.field)
			}
			if strings.Contains(err.Error(), strings.TrimSpace(keyHex)) {
				t.Fatal("the error quotes the key")
			}
		})
	}
	ds, _ := f.svc.Domains(ctx)
	if len(ds) != 1 {
		t.Fatalf("refused domains were stored: %d domains", len(ds))
	}
	dup := good
	dup.ID = "consortium-x"
	if _, err := f.svc.AddDomain(ctx, dup); !errors.Is(err, registry.ErrConflict) {
		t.Errorf("a domain id taken: %v", err)
	}
	noMaster, _ := registry.New(f.st.Stores(), registry.Options{ScryptN: credentials.LowestScryptN})
	if _, err := noMaster.AddDomain(ctx, good); !errors.Is(err, registry.ErrNoKey) {
		t.Errorf("no master key: %v", err)
	}
}

// The registry keeps what it recorded when the database is closed and
// opened again.
func TestRecordSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() (*bolt.DB, *registry.Service) {
		db, err := bolt.Open(dir + "/" + bolt.FileName)
		if err != nil {
			t.Fatal(err)
		}
		st, err := bolt.NewRegistryStore(db.Bolt())
		if err != nil {
			t.Fatal(err)
		}
		svc, _ := registry.New(st.Stores(), registry.Options{MasterKey: []byte("m"), ScryptN: credentials.LowestScryptN})
		return db, svc
	}
	db, svc := open()
	if _, err := svc.AddDomain(ctx, registry.NewDomain{ID: "consortium-x", Name: "X", Kind: registry.KindOwn, Members: []string{"a"}, KeyFile: []byte(keyHex)}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Record(ctx, scan(1, "A", t0)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, svc = open()
	defer db.Close()
	o, err := svc.Record(ctx, scan(1, "A", t0.Add(time.Hour)))
	if err != nil || o.New || o.After.Count != 2 {
		t.Fatalf("after reopening: %+v, %v", o, err)
	}
	if _, err := svc.Key(ctx, "consortium-x"); err != nil {
		t.Fatal(err)
	}
}
