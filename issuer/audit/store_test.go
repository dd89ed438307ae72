package audit_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/issuer/audit"
)

// memStore is an audit.Store in memory, whose records tests can tamper
// with the way someone with the database file could: change a value, move
// it to another key, delete it, or reset the sequence.
type memStore struct {
	mu      sync.Mutex
	seq     uint64 // the last sequence number given out
	records []memRecord
}

type memRecord struct {
	seq  uint64
	data []byte
}

var _ audit.Store = (*memStore)(nil)

func (s *memStore) Append(ctx context.Context, build func(uint64, []byte) ([]byte, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.seq + 1
	var last []byte
	if n := len(s.records); n > 0 {
		last = slices.Clone(s.records[n-1].data)
	}
	rec, err := build(next, last)
	if err != nil {
		return err
	}
	if n := len(s.records); n > 0 && s.records[n-1].seq >= next {
		return fmt.Errorf("memStore: sequence %d is taken", next)
	}
	s.records = append(s.records, memRecord{next, slices.Clone(rec)})
	s.seq = next
	return nil
}

func (s *memStore) Records(ctx context.Context, fn func(uint64, []byte) error) error {
	s.mu.Lock()
	snapshot := slices.Clone(s.records)
	s.mu.Unlock()
	for _, r := range snapshot {
		if err := fn(r.seq, slices.Clone(r.data)); err != nil {
			return err
		}
	}
	return nil
}

func (s *memStore) Head(ctx context.Context) (uint64, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.records); n > 0 {
		return s.seq, slices.Clone(s.records[n-1].data), nil
	}
	return s.seq, nil, nil
}

// index returns where the record stored under seq is.
func (s *memStore) index(t *testing.T, seq uint64) int {
	t.Helper()
	for i, r := range s.records {
		if r.seq == seq {
			return i
		}
	}
	t.Fatalf("no record stored under %d", seq)
	return -1
}

// entry decodes the record stored under seq.
func (s *memStore) entry(t *testing.T, seq uint64) audit.Entry {
	t.Helper()
	e, err := audit.DecodeEntry(s.records[s.index(t, seq)].data)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// put stores e's record under seq, replacing what is there or adding it in
// order.
func (s *memStore) put(t *testing.T, seq uint64, e audit.Entry) {
	t.Helper()
	rec, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	s.putRaw(seq, rec)
}

func (s *memStore) putRaw(seq uint64, rec []byte) {
	i, found := slices.BinarySearchFunc(s.records, seq, func(r memRecord, seq uint64) int {
		return cmpUint(r.seq, seq)
	})
	if found {
		s.records[i].data = rec
		return
	}
	s.records = slices.Insert(s.records, i, memRecord{seq, rec})
}

func (s *memStore) remove(t *testing.T, seq uint64) {
	t.Helper()
	i := s.index(t, seq)
	s.records = slices.Delete(s.records, i, i+1)
}

// shift moves every record stored under from or later by delta places
// (their content unchanged), as one would to make room for an inserted
// entry or close the gap of a removed one.
func (s *memStore) shift(from uint64, delta int) {
	for i := range s.records {
		if s.records[i].seq >= from {
			s.records[i].seq = uint64(int(s.records[i].seq) + delta)
		}
	}
}

// renumber rewrites the entries stored from `from` on so that each says
// it is the entry it is stored as, with its hash recomputed (but not the
// next entry's Prev: that would be rewriting the whole tail).
func (s *memStore) renumber(t *testing.T, from uint64) {
	t.Helper()
	for _, r := range slices.Clone(s.records) {
		if r.seq < from {
			continue
		}
		e := s.entry(t, r.seq)
		e.Seq = r.seq
		e.Hash = e.ComputeHash()
		s.put(t, r.seq, e)
	}
}

// relink rewrites the chain from `from` on, as someone who knows the
// encoding (it is public) can: each entry's Prev and hash recomputed.
func (s *memStore) relink(t *testing.T, from uint64) {
	t.Helper()
	var prev audit.Hash
	if from > 1 {
		prev = s.entry(t, from-1).Hash
	}
	for _, r := range slices.Clone(s.records) {
		if r.seq < from {
			continue
		}
		e := s.entry(t, r.seq)
		e.Prev = prev
		e.Hash = e.ComputeHash()
		s.put(t, r.seq, e)
		prev = e.Hash
	}
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// testClock is a clock that moves a second each time it is read.
func testClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

// sampleEntries are entries as the issuer service would append them.
func sampleEntries() []audit.Entry {
	prog := audit.ProgrammePurpose("MPCA-2026")
	return []audit.Entry{
		{Actor: audit.Staff("st_7k2m9q"), Org: "dadaab", Action: audit.ActionSignIn, Purpose: audit.PurposeSecurity, Outcome: audit.OutcomeSuccess},
		{Actor: audit.Staff("st_7k2m9q"), Org: "dadaab", Action: audit.ActionRegister, Objects: []audit.Object{
			{Kind: audit.ObjectRegistration, ID: "reg_01JD3X4T9Q"}, {Kind: audit.ObjectConsent, ID: "con_01JD3X4TA0"}},
			Purpose: prog, Outcome: audit.OutcomeSuccess},
		{Actor: audit.Staff("st_7k2m9q"), Org: "dadaab", Action: audit.ActionIssue, Objects: []audit.Object{
			{Kind: audit.ObjectRegistration, ID: "reg_01JD3X4T9Q"}, {Kind: audit.ObjectCredential, ID: "urn:uuid:5f0e3c52-9b1d-4c59-8f0a-0d6c1b1a2e77"}},
			Purpose: prog, Outcome: audit.OutcomeSuccess},
		{Actor: audit.Anonymous(), Org: "dadaab", Action: audit.ActionSignIn, Purpose: audit.PurposeSecurity, Outcome: audit.OutcomeDenied},
		{Actor: audit.Token("tok_3v8c"), Org: "dadaab", Action: audit.ActionRevoke, Objects: []audit.Object{
			{Kind: audit.ObjectCredential, ID: "urn:uuid:5f0e3c52-9b1d-4c59-8f0a-0d6c1b1a2e77"}},
			Purpose: audit.PurposeRectification, Outcome: audit.OutcomeSuccess},
		{Actor: audit.System("retention"), Org: "dadaab", Action: audit.ActionErase, Objects: []audit.Object{
			{Kind: audit.ObjectRegistration, ID: "reg_01JD3X4T9Q"}}, Purpose: audit.PurposeRetention, Outcome: audit.OutcomeSuccess},
		{Actor: audit.Staff("st_admin1"), Action: audit.ActionOrganisationCreate, Objects: []audit.Object{
			{Kind: audit.ObjectOrganisation, ID: "kakuma"}}, Purpose: audit.PurposeAdministration, Outcome: audit.OutcomeSuccess},
		{Actor: audit.Staff("st_admin1"), Org: "kakuma", Action: audit.ActionKeyRotate, Objects: []audit.Object{
			{Kind: audit.ObjectKey, ID: "did:web:tally.example:orgs:kakuma#key-2"}}, Purpose: audit.PurposeSecurity, Outcome: audit.OutcomeSuccess},
		{Actor: audit.Staff("st_aud1"), Org: "kakuma", Action: audit.ActionExport, Purpose: audit.PurposeOversight, Outcome: audit.OutcomeSuccess},
		{Actor: audit.Staff("st_7k2m9q"), Org: "dadaab", Action: audit.ActionSignOut, Purpose: audit.PurposeSecurity, Outcome: audit.OutcomeSuccess},
	}
}

// newTestLog returns a log on a fresh memStore with a test clock, holding
// the sample entries, and the anchors taken after entries 7 and 10.
func newTestLog(t *testing.T) (*audit.Log, *memStore, []audit.Anchor) {
	t.Helper()
	ctx := context.Background()
	store := &memStore{}
	log := audit.NewLog(store, audit.Options{Now: testClock()})
	var anchors []audit.Anchor
	for i, e := range sampleEntries() {
		if _, err := log.Append(ctx, e); err != nil {
			t.Fatalf("entry %d: %v", i+1, err)
		}
		if i+1 == 7 || i+1 == 10 {
			a, err := log.Anchor(ctx)
			if err != nil {
				t.Fatal(err)
			}
			anchors = append(anchors, a)
		}
	}
	return log, store, anchors
}
