package bolt_test

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/internal/oid4vp"
)

// TestPresentationSweeper: an answered request's outcome (the claims shown
// to staff) is deleted KeepAfterExpiry after the request expired, by the
// sweeper alone: no new request needs to be made.
func TestPresentationSweeper(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := bolt.Open(filepath.Join(t.TempDir(), bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := bolt.NewPresentationStore(db)
	if err != nil {
		t.Fatal(err)
	}
	made := time.Now().UTC()
	p, _ := oid4vp.PresetNamed("registration")
	tx, err := oid4vp.NewTransaction(rand.Reader, oid4vp.NewInput{Org: "demo", ClientID: "decentralized_identifier:did:web:x", Preset: p, Purpose: "p"}, made, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tx.Status, tx.Outcome = oid4vp.StatusDone, &oid4vp.Outcome{Valid: true, Claims: []oid4vp.Claim{{Name: "fullName", Value: "Fatima"}}}
	if err := st.CreatePresentation(ctx, tx); err != nil {
		t.Fatal(err)
	}
	clock := make(chan time.Time, 1)
	clock <- made.Add(time.Minute + oid4vp.KeepAfterExpiry - time.Second) // not yet
	now := func() time.Time {
		select {
		case t := <-clock:
			return t
		default:
			return made.Add(time.Minute + oid4vp.KeepAfterExpiry + time.Second)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		oid4vp.RunSweeper(ctx, st, now, 10*time.Millisecond, func(err error) { t.Error(err) })
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := st.Presentation(ctx, tx.ID)
		if errors.Is(err, oid4vp.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not swept: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}
