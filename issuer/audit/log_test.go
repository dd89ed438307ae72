package audit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/issuer/audit"
)

func TestAppendFillsSeqTimePrevAndHash(t *testing.T) {
	ctx := context.Background()
	store := &memStore{}
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.FixedZone("EAT", 3*3600))
	log := audit.NewLog(store, audit.Options{Now: func() time.Time { return at }})
	var prev audit.Hash
	for i, in := range sampleEntries() {
		got, err := log.Append(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if got.Seq != uint64(i+1) || got.Prev != prev || got.Hash != got.ComputeHash() || got.Hash.IsZero() {
			t.Errorf("entry %d: seq %d, prev %s (want %s), hash %s (computed %s)", i+1, got.Seq, got.Prev, prev, got.Hash, got.ComputeHash())
		}
		if !got.Time.Equal(at) || got.Time.Location() != time.UTC {
			t.Errorf("entry %d: time %v, want %v in UTC", i+1, got.Time, at)
		}
		stored := store.entry(t, got.Seq)
		if fmt.Sprint(stored) != fmt.Sprint(got) {
			t.Errorf("entry %d: Append returned\n%v\nbut stored\n%v", i+1, got, stored)
		}
		prev = got.Hash
	}
}

func TestAppendRefusesEntries(t *testing.T) {
	ok := audit.Entry{Actor: audit.Staff("st_1"), Org: "dadaab", Action: audit.ActionIssue,
		Objects: []audit.Object{{Kind: audit.ObjectCredential, ID: "urn:uuid:5f0e3c52-9b1d-4c59-8f0a-0d6c1b1a2e77"}},
		Purpose: audit.ProgrammePurpose("MPCA-2026"), Outcome: audit.OutcomeSuccess}
	many := make([]audit.Object, audit.MaxObjects+1)
	for i := range many {
		many[i] = audit.Object{Kind: audit.ObjectCredential, ID: fmt.Sprintf("c%d", i)}
	}
	tests := []struct {
		name  string
		edit  func(e *audit.Entry)
		field string
		// secret is a value that must not appear in the error.
		secret string
	}{
		{"seq filled", func(e *audit.Entry) { e.Seq = 7 }, "seq", ""},
		{"time filled", func(e *audit.Entry) { e.Time = time.Now() }, "seq", ""},
		{"hash filled", func(e *audit.Entry) { e.Hash[0] = 1 }, "seq", ""},
		{"actor is a full name", func(e *audit.Entry) { e.Actor = audit.Staff("Fatima Hassan Abdi") }, "actor.id", "Fatima"},
		{"actor is an e-mail address", func(e *audit.Entry) { e.Actor = audit.Staff("amina@drc.example") }, "actor.id", "amina"},
		{"actor is a name in Arabic script", func(e *audit.Entry) { e.Actor = audit.Staff("فاطمة") }, "actor.id", "فاطمة"},
		{"actor id empty", func(e *audit.Entry) { e.Actor = audit.Staff("") }, "actor.id", ""},
		{"actor id too long", func(e *audit.Entry) { e.Actor = audit.Token(strings.Repeat("a", audit.MaxIDLen+1)) }, "actor.id", ""},
		{"actor kind unknown", func(e *audit.Entry) { e.Actor = audit.Actor{Kind: "person", ID: "x"} }, "actor.kind", ""},
		{"anonymous with an id", func(e *audit.Entry) { e.Actor = audit.Actor{Kind: audit.ActorAnonymous, ID: "fatima"} }, "actor.id", "fatima"},
		{"object id is a date of birth", func(e *audit.Entry) {
			e.Objects = []audit.Object{{Kind: audit.ObjectRegistration, ID: "1991-03-14"}}
		}, "objects[0].id", "1991-03-14"},
		{"object id holds a date of birth", func(e *audit.Entry) {
			e.Objects = append(e.Objects, audit.Object{Kind: audit.ObjectRegistration, ID: "abdi_1991-03-14"})
		}, "objects[1].id", "1991"},
		{"object id holds a space", func(e *audit.Entry) {
			e.Objects = []audit.Object{{Kind: audit.ObjectRegistration, ID: "Hassan Abdi"}}
		}, "objects[0].id", "Hassan"},
		{"object kind unknown", func(e *audit.Entry) { e.Objects = []audit.Object{{Kind: "person", ID: "x"}} }, "objects[0].kind", ""},
		{"too many objects", func(e *audit.Entry) { e.Objects = many }, "objects", ""},
		{"org not a slug", func(e *audit.Entry) { e.Org = "Dadaab Camp" }, "org", "Dadaab"},
		{"org starts with a hyphen", func(e *audit.Entry) { e.Org = "-x" }, "org", ""},
		{"action unknown", func(e *audit.Entry) { e.Action = "looked at Fatima" }, "action", "Fatima"},
		{"action empty", func(e *audit.Entry) { e.Action = "" }, "action", ""},
		{"purpose free text", func(e *audit.Entry) { e.Purpose = "Fatima asked for cash" }, "purpose", "Fatima"},
		{"purpose empty", func(e *audit.Entry) { e.Purpose = "" }, "purpose", ""},
		{"programme code with a space", func(e *audit.Entry) { e.Purpose = audit.ProgrammePurpose("cash for Fatima") }, "purpose", "Fatima"},
		{"programme code empty", func(e *audit.Entry) { e.Purpose = audit.ProgrammePurpose("") }, "purpose", ""},
		{"outcome unknown", func(e *audit.Entry) { e.Outcome = "ok" }, "outcome", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &memStore{}
			log := audit.NewLog(store, audit.Options{Now: testClock()})
			e := ok
			e.Objects = append([]audit.Object(nil), ok.Objects...)
			tt.edit(&e)
			_, err := log.Append(context.Background(), e)
			var ee *audit.EntryError
			if !errors.As(err, &ee) || !errors.Is(err, audit.ErrInvalidEntry) {
				t.Fatalf("Append: %v, want an *EntryError", err)
			}
			if ee.Field != tt.field {
				t.Errorf("field %q, want %q (%v)", ee.Field, tt.field, err)
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("the error repeats the refused value: %v", err)
			}
			if seq, last, _ := store.Head(context.Background()); seq != 0 || last != nil {
				t.Errorf("something was stored: head %d", seq)
			}
		})
	}
	t.Run("the entry they edit is fine", func(t *testing.T) {
		log := audit.NewLog(&memStore{}, audit.Options{Now: testClock()})
		if _, err := log.Append(context.Background(), ok); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAppendAcceptsIDs(t *testing.T) {
	ids := []string{
		"reg_01JD3X4T9Q",
		"42",
		"urn:uuid:5f0e3c52-9b1d-4c59-8f0a-0d6c1b1a2e77",
		"did:web:tally.example%3A8443:orgs:dadaab#key-1",
		"https://tally.example/status/dadaab/3",
		"KE-DAD-2026-000123",
		"batch-2026-11", // a year and a month are not a date
		"a2026-11-26b",  // a date inside a word is still a date: refused
	}
	log := audit.NewLog(&memStore{}, audit.Options{Now: testClock()})
	for _, id := range ids {
		_, err := log.Append(context.Background(), audit.Entry{Actor: audit.System("retention"), Action: audit.ActionErase,
			Objects: []audit.Object{{Kind: audit.ObjectRegistration, ID: id}}, Purpose: audit.PurposeRetention, Outcome: audit.OutcomeSuccess})
		wantErr := id == "a2026-11-26b"
		if (err != nil) != wantErr {
			t.Errorf("id %q: %v", id, err)
		}
	}
}

type programmes map[string]bool

func (p programmes) HasProgramme(ctx context.Context, org, code string) (bool, error) {
	if org == "broken" {
		return false, errStore
	}
	return p[org+"/"+code], nil
}

func TestAppendChecksProgrammes(t *testing.T) {
	log := audit.NewLog(&memStore{}, audit.Options{Now: testClock(), Programmes: programmes{"dadaab/MPCA-2026": true}})
	entry := func(org, code string) audit.Entry {
		return audit.Entry{Actor: audit.Staff("st_1"), Org: org, Action: audit.ActionRegister,
			Purpose: audit.ProgrammePurpose(code), Outcome: audit.OutcomeSuccess}
	}
	ctx := context.Background()
	if _, err := log.Append(ctx, entry("dadaab", "MPCA-2026")); err != nil {
		t.Errorf("a programme of the organisation: %v", err)
	}
	var ee *audit.EntryError
	if _, err := log.Append(ctx, entry("kakuma", "MPCA-2026")); !errors.As(err, &ee) || ee.Field != "purpose" {
		t.Errorf("another organisation's programme: %v", err)
	}
	if _, err := log.Append(ctx, entry("broken", "MPCA-2026")); !errors.Is(err, errStore) {
		t.Errorf("a catalogue that fails: %v", err)
	}
	fixed := entry("kakuma", "x")
	fixed.Purpose = audit.PurposeAdministration
	if _, err := log.Append(ctx, fixed); err != nil {
		t.Errorf("a purpose of the vocabulary is not looked up: %v", err)
	}
}

// TestAppendAfterTruncation: when the tail was cut off, the log goes on
// after its last record, and the gap stays for Verify to show.
func TestAppendAfterTruncation(t *testing.T) {
	log, store, _ := newTestLog(t)
	store.remove(t, 10)
	store.remove(t, 9)
	got, err := log.Append(context.Background(), sampleEntries()[0])
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 11 || got.Prev != store.entry(t, 8).Hash {
		t.Errorf("appended entry %d after %s, want 11 after entry 8's hash", got.Seq, got.Prev)
	}
	_, err = log.Verify(context.Background())
	var ce *audit.ChainError
	if !errors.As(err, &ce) || ce.Reason != audit.ReasonMissing || ce.Seq != 9 || ce.Found != 11 {
		t.Fatalf("Verify: %v, want entries 9 to 10 missing", err)
	}
}

func TestAppendOnADamagedTail(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, s *memStore)
	}{
		{"last record unreadable", func(t *testing.T, s *memStore) { s.records[s.index(t, 10)].data = []byte{1, 2, 3} }},
		{"sequence behind the last record", func(t *testing.T, s *memStore) { s.seq = 5 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, store, _ := newTestLog(t)
			tt.tamper(t, store)
			n := len(store.records)
			if _, err := log.Append(context.Background(), sampleEntries()[0]); !errors.Is(err, audit.ErrDamaged) {
				t.Fatalf("Append: %v, want ErrDamaged", err)
			}
			if len(store.records) != n {
				t.Error("something was stored")
			}
		})
	}
}

func TestAppendStoreError(t *testing.T) {
	log := audit.NewLog(failingStore{}, audit.Options{})
	if _, err := log.Append(context.Background(), sampleEntries()[0]); !errors.Is(err, errStore) {
		t.Fatalf("Append: %v", err)
	}
}

// TestAppendConcurrently appends from many goroutines at once and checks
// that the chain stays one line. Run with -race.
func TestAppendConcurrently(t *testing.T) {
	ctx := context.Background()
	log := audit.NewLog(&memStore{}, audit.Options{Now: testClock()})
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := sampleEntries()[(w+i)%10]
				if _, err := log.Append(ctx, e); err != nil {
					errs <- err
				}
			}
		}()
	}
	// Verify while they append: entries appended during the walk are not
	// taken for a truncation.
	for range 5 {
		if _, err := log.Verify(ctx); err != nil {
			t.Errorf("Verify during appends: %v", err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	sum, err := log.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Entries != workers*each {
		t.Errorf("%d entries, want %d", sum.Entries, workers*each)
	}
}

func TestEntriesAndAnchor(t *testing.T) {
	ctx := context.Background()
	log, store, anchors := newTestLog(t)
	var seqs []uint64
	if err := log.Entries(ctx, func(e audit.Entry) error { seqs = append(seqs, e.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seqs) != "[1 2 3 4 5 6 7 8 9 10]" {
		t.Errorf("Entries gave %v", seqs)
	}
	if a := anchors[1]; a.Seq != 10 || a.Hash != store.entry(t, 10).Hash || !a.Time.Equal(store.entry(t, 10).Time) {
		t.Errorf("anchor %+v is not entry 10", a)
	}
	stop := errors.New("stop")
	n := 0
	if err := log.Entries(ctx, func(audit.Entry) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("Entries did not stop at fn's error: %v after %d", err, n)
	}
	store.records[store.index(t, 4)].data = []byte("x")
	var ce *audit.ChainError
	if err := log.Entries(ctx, func(audit.Entry) error { return nil }); !errors.As(err, &ce) || ce.Seq != 4 || ce.Reason != audit.ReasonMalformed {
		t.Errorf("Entries over a malformed record: %v", err)
	}

	empty := audit.NewLog(&memStore{}, audit.Options{})
	if a, err := empty.Anchor(ctx); err != nil || a != (audit.Anchor{}) {
		t.Errorf("an empty log's anchor: %+v, %v", a, err)
	}
}
