package holder_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/internal/bolt"
)

// BenchmarkSignIn measures a holder's sign-in at the default argon2id
// cost (what a wallet's opening costs the server), on real bbolt.
func BenchmarkSignIn(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "tally.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st, err := bolt.NewHolderStore(db)
	if err != nil {
		b.Fatal(err)
	}
	s, err := holder.New(st, holder.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	o, err := s.Open(ctx, "480915", "en")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.SignIn(ctx, o.ID, o.DeviceSecret, "480915"); err != nil {
			b.Fatal(err)
		}
	}
}
