package bolt_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/internal/bolt"
)

// TestOfflineNonces: a nonce is fresh once while it lasts, fresh again
// once it expired, and of many desks reading it at once exactly one gets
// it; expired entries are swept by later uses.
func TestOfflineNonces(t *testing.T) {
	ctx := context.Background()
	db, err := bolt.Open(filepath.Join(t.TempDir(), bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := bolt.NewServicePointStore(db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	use := func(nonce string, at time.Time) bool {
		t.Helper()
		fresh, err := st.UseNonce(ctx, nonce, at.Add(6*time.Minute), at)
		if err != nil {
			t.Fatal(err)
		}
		return fresh
	}
	if !use("n1", now) || use("n1", now.Add(time.Minute)) || use("n1", now.Add(6*time.Minute-time.Second)) {
		t.Fatal("a nonce was not single-use while it lasts")
	}
	if !use("n1", now.Add(7*time.Minute)) {
		t.Fatal("an expired nonce is still remembered")
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fresh, err := st.UseNonce(ctx, "race", now.Add(6*time.Minute), now)
			if err != nil {
				t.Error(err)
			}
			if fresh {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d desks accepted the same nonce", won)
	}
	// Sweep: entries long expired give way to later uses.
	for i := range 50 {
		use(fmt.Sprintf("old-%02d", i), now)
	}
	later := now.Add(time.Hour)
	for i := range 50 {
		use(fmt.Sprintf("a-%02d", i), later)
	}
	if n := st.OfflineNonceCount(); n > 60 {
		t.Fatalf("%d nonces kept after the sweep", n)
	}
}
