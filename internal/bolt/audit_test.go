package bolt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/issuer/audit"
)

// openAuditTestDB opens (creating) the bbolt file at path, closed when the
// test ends.
func openAuditTestDB(t *testing.T, path string, readOnly bool) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: readOnly, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// auditTestClock moves a second each time it is read.
func auditTestClock() func() time.Time {
	var mu sync.Mutex
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		at = at.Add(time.Second)
		return at
	}
}

// auditTestEntry is the i-th entry a test appends: a registrar issuing a
// credential.
func auditTestEntry(i int) audit.Entry {
	return audit.Entry{
		Actor: audit.Staff(fmt.Sprintf("st_%d", i%3)), Org: "dadaab", Action: audit.ActionIssue,
		Objects: []audit.Object{
			{Kind: audit.ObjectRegistration, ID: fmt.Sprintf("reg_%04d", i)},
			{Kind: audit.ObjectCredential, ID: fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i)},
		},
		Purpose: audit.ProgrammePurpose("MPCA-2026"), Outcome: audit.OutcomeSuccess,
	}
}

// newAuditTestLog opens a fresh database in a temporary directory with n
// entries in its audit log.
func newAuditTestLog(t *testing.T, n int) (*bbolt.DB, *audit.Log) {
	t.Helper()
	db := openAuditTestDB(t, filepath.Join(t.TempDir(), "tally.db"), false)
	store, err := bolt.NewAuditStore(db)
	if err != nil {
		t.Fatal(err)
	}
	log := audit.NewLog(store, audit.Options{Now: auditTestClock()})
	appendAuditEntries(t, log, 0, n)
	return db, log
}

func appendAuditEntries(t *testing.T, log *audit.Log, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		e, err := log.Append(context.Background(), auditTestEntry(i))
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != uint64(i+1) {
			t.Fatalf("entry %d was given sequence number %d", i+1, e.Seq)
		}
	}
}

func TestAuditStoreAppendAndVerify(t *testing.T) {
	ctx := context.Background()
	_, log := newAuditTestLog(t, 20)
	sum, err := log.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Entries != 20 || sum.Head.Seq != 20 {
		t.Errorf("summary %+v", sum)
	}
	anchor, err := log.Anchor(ctx)
	if err != nil || anchor != sum.Head {
		t.Errorf("Anchor %+v (%v), Verify's head %+v", anchor, err, sum.Head)
	}
	var got []string
	err = log.Entries(ctx, func(e audit.Entry) error {
		got = append(got, e.Objects[0].ID)
		return nil
	})
	if err != nil || len(got) != 20 || got[0] != "reg_0000" || got[19] != "reg_0019" {
		t.Errorf("Entries: %v, %v", got, err)
	}
}

func TestAuditStoreEmpty(t *testing.T) {
	_, log := newAuditTestLog(t, 0)
	sum, err := log.Verify(context.Background())
	if err != nil || sum != (audit.Summary{}) {
		t.Fatalf("an empty log: %+v, %v", sum, err)
	}
}

// TestAuditStoreReopen closes the file and opens it again, read-write and
// read-only: the chain and the sequence go on where they were.
func TestAuditStoreReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tally.db")
	open := func(readOnly bool) (*bbolt.DB, *audit.Log) {
		db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: readOnly, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		store, err := bolt.NewAuditStore(db)
		if err != nil {
			t.Fatal(err)
		}
		return db, audit.NewLog(store, audit.Options{Now: auditTestClock()})
	}

	db, log := open(false)
	appendAuditEntries(t, log, 0, 5)
	first, _ := log.Anchor(ctx)
	db.Close()

	db, log = open(false)
	appendAuditEntries(t, log, 5, 5)
	sum, err := log.Verify(ctx, first)
	if err != nil || sum.Entries != 10 {
		t.Fatalf("after reopening and appending: %+v, %v", sum, err)
	}
	db.Close()

	db, log = open(true)
	defer db.Close()
	sum2, err := log.Verify(ctx, first, sum.Head)
	if err != nil || sum2 != sum {
		t.Fatalf("read-only: %+v, %v; want %+v", sum2, err, sum)
	}
	if _, err := log.Append(ctx, auditTestEntry(10)); !errors.Is(err, berrors.ErrDatabaseReadOnly) {
		t.Errorf("Append on a read-only database: %v", err)
	}
}

func TestAuditStoreReadOnlyWithoutAuditLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tally.db")
	db := openAuditTestDB(t, path, false)
	db.Close()
	ro := openAuditTestDB(t, path, true)
	if _, err := bolt.NewAuditStore(ro); !errors.Is(err, bolt.ErrNoAuditLog) {
		t.Fatalf("NewAuditStore on a read-only database without the bucket: %v", err)
	}
}

// TestAuditStoreConcurrentAppends appends from many goroutines to one
// database; the chain must stay one line. Run with -race.
func TestAuditStoreConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	_, log := newAuditTestLog(t, 0)
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := log.Append(ctx, auditTestEntry(w*each+i)); err != nil {
					errs <- err
				}
			}
		}()
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
	// Every entry is there once.
	seen := map[string]bool{}
	log.Entries(ctx, func(e audit.Entry) error { seen[e.Objects[0].ID] = true; return nil })
	if len(seen) != workers*each {
		t.Errorf("%d distinct entries, want %d", len(seen), workers*each)
	}
}

// TestAuditStoreTampering edits the bbolt file's audit bucket directly,
// as someone with the file could, and checks what Verify says.
func TestAuditStoreTampering(t *testing.T) {
	key := func(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }
	tests := []struct {
		name    string
		tamper  func(b *bbolt.Bucket) error
		anchor  bool
		reason  audit.Reason
		seq     uint64
		cleanOK bool // Verify passes without the anchor
	}{
		{
			name: "value altered",
			tamper: func(b *bbolt.Bucket) error {
				return b.Put(key(4), bytes.Replace(b.Get(key(4)), []byte("reg_0003"), []byte("reg_0099"), 1))
			},
			reason: audit.ReasonAltered, seq: 4,
		},
		{
			name:   "entry deleted",
			tamper: func(b *bbolt.Bucket) error { return b.Delete(key(5)) },
			reason: audit.ReasonMissing, seq: 5,
		},
		{
			name: "values swapped",
			tamper: func(b *bbolt.Bucket) error {
				v3, v4 := bytes.Clone(b.Get(key(3))), bytes.Clone(b.Get(key(4)))
				if err := b.Put(key(3), v4); err != nil {
					return err
				}
				return b.Put(key(4), v3)
			},
			reason: audit.ReasonOutOfPlace, seq: 3,
		},
		{
			name: "entry inserted, the rest moved down",
			tamper: func(b *bbolt.Bucket) error {
				for seq := uint64(10); seq >= 6; seq-- {
					if err := b.Put(key(seq+1), bytes.Clone(b.Get(key(seq)))); err != nil {
						return err
					}
				}
				// Entry 6 again, under 6 and 7: the copy at 6 stands in
				// for a forged entry linked to 5.
				return b.SetSequence(11)
			},
			reason: audit.ReasonInserted, seq: 6,
		},
		{
			name: "tail deleted",
			tamper: func(b *bbolt.Bucket) error {
				b.Delete(key(10))
				return b.Delete(key(9))
			},
			reason: audit.ReasonTruncated, seq: 9,
		},
		{
			name: "tail deleted and the sequence reset",
			tamper: func(b *bbolt.Bucket) error {
				b.Delete(key(10))
				b.Delete(key(9))
				return b.SetSequence(8)
			},
			anchor: true, reason: audit.ReasonTruncated, seq: 9, cleanOK: true,
		},
		{
			name:   "a key that is not a sequence number",
			tamper: func(b *bbolt.Bucket) error { return b.Put([]byte("zz"), []byte("x")) },
			reason: audit.ReasonMalformed, seq: 11,
		},
		{
			name: "a nested bucket",
			tamper: func(b *bbolt.Bucket) error {
				_, err := b.CreateBucket(key(11))
				return err
			},
			reason: audit.ReasonMalformed, seq: 11,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db, log := newAuditTestLog(t, 10)
			anchor, err := log.Anchor(ctx)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bbolt.Tx) error { return tt.tamper(tx.Bucket([]byte("audit"))) })
			if err != nil {
				t.Fatal(err)
			}
			var anchors []audit.Anchor
			if tt.anchor {
				anchors = append(anchors, anchor)
			}
			_, err = log.Verify(ctx, anchors...)
			var ce *audit.ChainError
			if !errors.As(err, &ce) || ce.Reason != tt.reason || ce.Seq != tt.seq {
				t.Fatalf("Verify: %v, want %v at entry %d", err, tt.reason, tt.seq)
			}
			if _, err := log.Verify(ctx); (err == nil) != tt.cleanOK {
				t.Errorf("Verify without the anchor: %v", err)
			}
		})
	}
}

// TestAuditStoreNeverOverwrites: with the bucket's sequence set back, an
// append would land on an existing entry; it is refused instead.
func TestAuditStoreNeverOverwrites(t *testing.T) {
	ctx := context.Background()
	db, log := newAuditTestLog(t, 5)
	var before []byte
	db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("audit"))
		before = bytes.Clone(b.Get(binary.BigEndian.AppendUint64(nil, 3)))
		return b.SetSequence(2)
	})
	if _, err := log.Append(ctx, auditTestEntry(5)); !errors.Is(err, audit.ErrDamaged) {
		t.Fatalf("Append: %v, want ErrDamaged", err)
	}
	db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("audit"))
		if !bytes.Equal(b.Get(binary.BigEndian.AppendUint64(nil, 3)), before) {
			t.Error("entry 3 was overwritten")
		}
		if b.Sequence() != 2 {
			t.Errorf("the failed append moved the sequence to %d", b.Sequence())
		}
		return nil
	})
}

// TestAuditStoreBuildError: when build fails, nothing is stored and the
// sequence does not move.
func TestAuditStoreBuildError(t *testing.T) {
	ctx := context.Background()
	db, _ := newAuditTestLog(t, 3)
	store, err := bolt.NewAuditStore(db)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = store.Append(ctx, func(seq uint64, last []byte) ([]byte, error) {
		if seq != 4 || last == nil {
			t.Errorf("build got %d, %x", seq, last)
		}
		return nil, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Append: %v", err)
	}
	seq, last, err := store.Head(ctx)
	if err != nil || seq != 3 {
		t.Fatalf("Head: %d, %v", seq, err)
	}
	if e, err := audit.DecodeEntry(last); err != nil || e.Seq != 3 {
		t.Errorf("the last record: %v, %v", e.Seq, err)
	}
}

func TestAuditStoreCancelled(t *testing.T) {
	db, _ := newAuditTestLog(t, 3)
	store, _ := bolt.NewAuditStore(db)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := store.Append(ctx, func(uint64, []byte) ([]byte, error) { return []byte("x"), nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Append: %v", err)
	}
	if err := store.Records(ctx, func(uint64, []byte) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Records: %v", err)
	}
	if _, _, err := store.Head(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Head: %v", err)
	}
}
