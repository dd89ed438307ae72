package audit_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/issuer/audit"
)

func TestVerifyIntactLog(t *testing.T) {
	log, store, anchors := newTestLog(t)
	sum, err := log.Verify(context.Background(), anchors...)
	if err != nil {
		t.Fatal(err)
	}
	last := store.entry(t, 10)
	if sum.Entries != 10 || sum.Head.Seq != 10 || sum.Head.Hash != last.Hash || !sum.Head.Time.Equal(last.Time) {
		t.Errorf("summary %+v, want 10 entries and head %d %s", sum, last.Seq, last.Hash)
	}
}

func TestVerifyEmptyLog(t *testing.T) {
	log := audit.NewLog(&memStore{}, audit.Options{})
	sum, err := log.Verify(context.Background(), audit.Anchor{})
	if err != nil {
		t.Fatal(err)
	}
	if sum != (audit.Summary{}) {
		t.Errorf("summary %+v, want zero", sum)
	}
}

// TestVerifyDetectsTampering tampers with an intact log of 10 entries (with
// anchors taken after entries 7 and 10) in each way someone with the
// database file could, and checks that Verify names the first entry it
// can no longer vouch for, and why.
func TestVerifyDetectsTampering(t *testing.T) {
	const noAnchor, anchor7, anchor10 = 0, 1, 2
	tests := []struct {
		name   string
		tamper func(t *testing.T, s *memStore)
		// anchors are the indexes of the anchors Verify is given.
		anchors []int
		reason  audit.Reason
		seq     uint64
		found   uint64
		// says is a part of the message.
		says string
	}{
		{
			name: "altered field",
			tamper: func(t *testing.T, s *memStore) {
				e := s.entry(t, 5)
				e.Outcome = audit.OutcomeFailed // the hash is left as it was
				s.put(t, 5, e)
			},
			reason: audit.ReasonAltered, seq: 5, says: "entry 5 was altered",
		},
		{
			name: "altered object id",
			tamper: func(t *testing.T, s *memStore) {
				e := s.entry(t, 3)
				e.Objects[1].ID = "urn:uuid:00000000-0000-4000-8000-000000000000"
				s.put(t, 3, e)
			},
			reason: audit.ReasonAltered, seq: 3,
		},
		{
			name: "altered time",
			tamper: func(t *testing.T, s *memStore) {
				e := s.entry(t, 2)
				e.Time = e.Time.Add(-24 * time.Hour)
				s.put(t, 2, e)
			},
			reason: audit.ReasonAltered, seq: 2,
		},
		{
			name: "altered byte in the stored record",
			tamper: func(t *testing.T, s *memStore) {
				i := s.index(t, 4)
				s.records[i].data = bytes.Replace(s.records[i].data, []byte("dadaab"), []byte("kakuma"), 1)
			},
			reason: audit.ReasonAltered, seq: 4,
		},
		{
			name: "altered with its hash recomputed",
			tamper: func(t *testing.T, s *memStore) {
				e := s.entry(t, 5)
				e.Actor = audit.Staff("st_someone_else")
				e.Hash = e.ComputeHash()
				s.put(t, 5, e)
			},
			reason: audit.ReasonUnlinked, seq: 5, found: 6, says: "entry 6 does not follow entry 5",
		},
		{
			name: "first entry replaced",
			tamper: func(t *testing.T, s *memStore) {
				e := s.entry(t, 1)
				e.Org = "kakuma"
				e.Hash = e.ComputeHash()
				s.put(t, 1, e)
			},
			reason: audit.ReasonUnlinked, seq: 1, found: 2,
		},
		{
			name: "first entry made to follow another",
			tamper: func(t *testing.T, s *memStore) {
				e := s.entry(t, 1)
				e.Prev = s.entry(t, 9).Hash
				e.Hash = e.ComputeHash()
				s.put(t, 1, e)
				s.relink(t, 2)
			},
			reason: audit.ReasonUnlinked, seq: 1, found: 1, says: "entry 1 does not begin the chain",
		},
		{
			name: "last entry altered, hash recomputed: only an anchor shows it",
			tamper: func(t *testing.T, s *memStore) {
				e := s.entry(t, 10)
				e.Outcome = audit.OutcomeDenied
				e.Hash = e.ComputeHash()
				s.put(t, 10, e)
			},
			anchors: []int{anchor10},
			reason:  audit.ReasonAnchorMismatch, seq: 10, says: "not the one an anchor recorded",
		},
		{
			name: "tail rewritten, hashes and links recomputed: the anchor shows it",
			tamper: func(t *testing.T, s *memStore) {
				e := s.entry(t, 6)
				e.Objects = nil
				s.put(t, 6, e)
				s.relink(t, 6)
			},
			anchors: []int{anchor7},
			reason:  audit.ReasonAnchorMismatch, seq: 7,
		},
		{
			name: "entries reordered",
			tamper: func(t *testing.T, s *memStore) {
				i, j := s.index(t, 4), s.index(t, 5)
				s.records[i].data, s.records[j].data = s.records[j].data, s.records[i].data
			},
			reason: audit.ReasonOutOfPlace, seq: 4, found: 5, says: "entry 4 is out of place",
		},
		{
			name: "entries reordered and renumbered",
			tamper: func(t *testing.T, s *memStore) {
				i, j := s.index(t, 4), s.index(t, 5)
				s.records[i].data, s.records[j].data = s.records[j].data, s.records[i].data
				s.renumber(t, 4)
			},
			reason: audit.ReasonUnlinked, seq: 3, found: 4,
		},
		{
			name:   "entry removed in the middle",
			tamper: func(t *testing.T, s *memStore) { s.remove(t, 5) },
			reason: audit.ReasonMissing, seq: 5, found: 6, says: "entry 5 is missing",
		},
		{
			name:   "entries removed in the middle",
			tamper: func(t *testing.T, s *memStore) { s.remove(t, 5); s.remove(t, 6); s.remove(t, 7) },
			reason: audit.ReasonMissing, seq: 5, found: 8, says: "entries 5 to 7 are missing",
		},
		{
			name:   "first entry removed",
			tamper: func(t *testing.T, s *memStore) { s.remove(t, 1) },
			reason: audit.ReasonMissing, seq: 1, found: 2, says: "entry 1 is missing: the log begins at entry 2",
		},
		{
			name:   "first entries removed",
			tamper: func(t *testing.T, s *memStore) { s.remove(t, 1); s.remove(t, 2) },
			reason: audit.ReasonMissing, seq: 1, found: 3, says: "entries 1 to 2 are missing: the log begins at entry 3",
		},
		{
			name:   "entry removed and the rest moved up",
			tamper: func(t *testing.T, s *memStore) { s.remove(t, 5); s.shift(6, -1) },
			reason: audit.ReasonOutOfPlace, seq: 5, found: 6,
		},
		{
			name:   "entry removed, the rest moved up and renumbered",
			tamper: func(t *testing.T, s *memStore) { s.remove(t, 5); s.shift(6, -1); s.renumber(t, 5) },
			reason: audit.ReasonUnlinked, seq: 4, found: 5,
		},
		{
			name: "entry inserted, the rest moved down",
			tamper: func(t *testing.T, s *memStore) {
				forged := forgedAfter(t, s, 5)
				s.shift(6, +1)
				s.put(t, 6, forged)
			},
			reason: audit.ReasonInserted, seq: 6, found: 7, says: "entry 6 is in the log twice",
		},
		{
			name: "entry inserted, the rest moved down and renumbered",
			tamper: func(t *testing.T, s *memStore) {
				forged := forgedAfter(t, s, 5)
				s.shift(6, +1)
				s.put(t, 6, forged)
				s.renumber(t, 7)
			},
			reason: audit.ReasonUnlinked, seq: 6, found: 7, says: "entry 7 does not follow entry 6",
		},
		{
			name: "entry inserted in place of another",
			tamper: func(t *testing.T, s *memStore) {
				s.put(t, 6, forgedAfter(t, s, 5))
			},
			reason: audit.ReasonUnlinked, seq: 6, found: 7,
		},
		{
			name:   "tail cut off",
			tamper: func(t *testing.T, s *memStore) { s.remove(t, 9); s.remove(t, 10) },
			reason: audit.ReasonTruncated, seq: 9, found: 10, says: "the store has numbered entries up to 10",
		},
		{
			name:    "tail cut off and the sequence reset: the anchor shows it",
			tamper:  func(t *testing.T, s *memStore) { s.remove(t, 9); s.remove(t, 10); s.seq = 8 },
			anchors: []int{anchor7, anchor10},
			reason:  audit.ReasonTruncated, seq: 9, found: 10, says: "cut off after entry 8: entries 9 to 10 were removed (an anchor shows entry 10",
		},
		{
			name: "log emptied and the sequence reset: the anchor shows it",
			tamper: func(t *testing.T, s *memStore) {
				s.records, s.seq = nil, 0
			},
			anchors: []int{anchor7},
			reason:  audit.ReasonTruncated, seq: 1, found: 7, says: "it is empty",
		},
		{
			name: "record replaced by garbage",
			tamper: func(t *testing.T, s *memStore) {
				s.records[s.index(t, 3)].data = []byte("not an entry")
			},
			reason: audit.ReasonMalformed, seq: 3, says: "entry 3 cannot be read",
		},
		{
			name: "record with a byte added",
			tamper: func(t *testing.T, s *memStore) {
				i := s.index(t, 3)
				s.records[i].data = append(s.records[i].data, 0)
			},
			reason: audit.ReasonMalformed, seq: 3,
		},
		{
			name: "record with a word off the vocabulary",
			tamper: func(t *testing.T, s *memStore) {
				i := s.index(t, 2)
				s.records[i].data = bytes.Replace(s.records[i].data, []byte("register"), []byte("rEgister"), 1)
			},
			reason: audit.ReasonMalformed, seq: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, store, anchors := newTestLog(t)
			tt.tamper(t, store)
			var given []audit.Anchor
			for _, i := range tt.anchors {
				given = append(given, anchors[i-1])
			}
			_, err := log.Verify(context.Background(), given...)
			var ce *audit.ChainError
			if !errors.As(err, &ce) {
				t.Fatalf("Verify: %v, want a *ChainError", err)
			}
			if !errors.Is(err, audit.ErrBroken) {
				t.Error("errors.Is(err, ErrBroken) is false")
			}
			if ce.Reason != tt.reason || ce.Seq != tt.seq || ce.Found != tt.found {
				t.Errorf("got %v at %d (found %d), want %v at %d (found %d): %v", ce.Reason, ce.Seq, ce.Found, tt.reason, tt.seq, tt.found, err)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("message %q does not say %q", err, tt.says)
			}
			if tt.anchors != nil {
				// The same log without the anchors: only the anchor
				// showed the problem.
				if _, err := log.Verify(context.Background()); err != nil {
					t.Errorf("without the anchors: %v; the case does not need them", err)
				}
			}
		})
	}
}

// forgedAfter makes an entry that follows the one stored under seq as a
// real one would: intact and linked.
func forgedAfter(t *testing.T, s *memStore, seq uint64) audit.Entry {
	t.Helper()
	prev := s.entry(t, seq)
	e := audit.Entry{
		Seq: seq + 1, Time: prev.Time, Actor: audit.Staff("st_forger"), Org: "dadaab",
		Action: audit.ActionReinstate, Objects: []audit.Object{{Kind: audit.ObjectCredential, ID: "urn:uuid:5f0e3c52-9b1d-4c59-8f0a-0d6c1b1a2e77"}},
		Purpose: audit.PurposeRectification, Outcome: audit.OutcomeSuccess, Prev: prev.Hash,
	}
	e.Hash = e.ComputeHash()
	return e
}

func TestVerifyConflictingAnchors(t *testing.T) {
	log, _, anchors := newTestLog(t)
	other := anchors[1]
	other.Hash[0] ^= 1
	_, err := log.Verify(context.Background(), anchors[1], other)
	var ce *audit.ChainError
	if !errors.As(err, &ce) || ce.Reason != audit.ReasonAnchorMismatch || ce.Seq != 10 {
		t.Fatalf("Verify with two anchors of entry 10 that disagree: %v", err)
	}
}

func TestVerifyAnchorBeyondAShorterLog(t *testing.T) {
	log, store, anchors := newTestLog(t)
	store.records, store.seq = store.records[:7], 7
	if _, err := log.Verify(context.Background(), anchors[0]); err != nil {
		t.Fatalf("a log of 7 entries with an anchor of entry 7: %v", err)
	}
	_, err := log.Verify(context.Background(), anchors...)
	var ce *audit.ChainError
	if !errors.As(err, &ce) || ce.Reason != audit.ReasonTruncated || ce.Seq != 8 || ce.Anchor == nil || ce.Anchor.Seq != 10 {
		t.Fatalf("with an anchor of entry 10: %v", err)
	}
}

func TestVerifyStoreError(t *testing.T) {
	log := audit.NewLog(failingStore{}, audit.Options{})
	_, err := log.Verify(context.Background())
	if err == nil || errors.Is(err, audit.ErrBroken) {
		t.Fatalf("Verify on a store that fails: %v, want the store's error, not a broken chain", err)
	}
}

func TestVerifyCancelled(t *testing.T) {
	log, _, _ := newTestLog(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := log.Verify(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify with a cancelled context: %v", err)
	}
}

type failingStore struct{}

var errStore = errors.New("disk on fire")

func (failingStore) Append(context.Context, func(uint64, []byte) ([]byte, error)) error {
	return errStore
}
func (failingStore) Records(context.Context, func(uint64, []byte) error) error { return errStore }
func (failingStore) Head(context.Context) (uint64, []byte, error)              { return 0, nil, errStore }

func TestReasonString(t *testing.T) {
	for r := audit.ReasonMalformed; r <= audit.ReasonAnchorMismatch; r++ {
		if s := r.String(); strings.HasPrefix(s, "Reason(") {
			t.Errorf("reason %d has no name", int(r))
		}
	}
	if s := audit.Reason(0).String(); s != "Reason(0)" {
		t.Errorf("Reason(0).String() = %q", s)
	}
}
