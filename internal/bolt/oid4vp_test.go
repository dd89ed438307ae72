package bolt_test

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/internal/oid4vp"
)

// TestPresentationStore: transactions are stored, taken once under
// concurrency, survive a reopen, and are swept once expired.
func TestPresentationStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), bolt.FileName)
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.NewPresentationStore(db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	p, _ := oid4vp.PresetNamed("registration")
	tx, err := oid4vp.NewTransaction(rand.Reader, oid4vp.NewInput{Org: "demo", ClientID: "decentralized_identifier:did:web:x", Preset: p, Purpose: "p"}, now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreatePresentation(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if err := st.CreatePresentation(ctx, tx); err == nil {
		t.Fatal("a transaction stored twice")
	}
	if _, err := st.Presentation(ctx, "nope"); !errors.Is(err, oid4vp.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}

	// Of many concurrent takes, one wins; the refused leave no trace.
	const n = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := st.UpdatePresentation(ctx, tx.ID, func(t *oid4vp.Transaction) error {
				if e := t.Take(tx.State, now); e != nil {
					return e
				}
				return nil
			})
			if err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d takes won, want 1", won)
	}
	// A refused change writes nothing.
	if _, err := st.UpdatePresentation(ctx, tx.ID, func(t *oid4vp.Transaction) error {
		t.Status = "tampered"
		return errors.New("refused")
	}); err == nil {
		t.Fatal("a refused change succeeded")
	}
	if _, err := st.UpdatePresentation(ctx, tx.ID, func(t *oid4vp.Transaction) error {
		t.Expires = t.Expires.Add(time.Hour)
		return nil
	}); err == nil {
		t.Fatal("the expiry was moved")
	}
	got, err := st.Presentation(ctx, tx.ID)
	if err != nil || got.Status != oid4vp.StatusChecking || got.Nonce != tx.Nonce || got.Query.Credentials[0].ID != "registration" {
		t.Fatalf("%+v %v", got, err)
	}

	// Kept across a restart (a process killed while checking leaves the
	// transaction taken, never answerable twice).
	db.Close()
	if db, err = bolt.Open(path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if st, err = bolt.NewPresentationStore(db); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Presentation(ctx, tx.ID); err != nil || got.Status != oid4vp.StatusChecking {
		t.Fatalf("after reopening: %+v %v", got, err)
	}

	// The sweep removes what expired before the time given, and only that.
	later, _ := oid4vp.NewTransaction(rand.Reader, oid4vp.NewInput{Org: "demo", Preset: p}, now.Add(time.Hour), time.Minute)
	if err := st.CreatePresentation(ctx, later); err != nil {
		t.Fatal(err)
	}
	if n, err := st.DeletePresentationsBefore(ctx, now.Add(2*time.Minute)); err != nil || n != 1 {
		t.Fatalf("swept %d, %v", n, err)
	}
	if _, err := st.Presentation(ctx, tx.ID); !errors.Is(err, oid4vp.ErrNotFound) {
		t.Fatalf("swept transaction: %v", err)
	}
	if _, err := st.Presentation(ctx, later.ID); err != nil {
		t.Fatalf("the later one was swept: %v", err)
	}
}
