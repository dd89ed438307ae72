package bolt_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/verifier/registry"
)

// A damaged entry is reported as such, by lookup and by export, and the
// domain's other entries are untouched.
func TestRegistryDamagedEntry(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	st, err := bolt.NewRegistryStore(db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateDomain(ctx, registry.Domain{ID: "d", Name: "D", Kind: registry.KindOwn, Members: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateDomain(ctx, registry.Domain{ID: "d", Name: "D again"}); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("a domain twice: %v", err)
	}
	tok := "aaaqeayeaudaocajbifqydiob4"
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if _, err := st.RecordScans(ctx, "d", []registry.Scan{{Domain: "d", Token: tok, ServicePoint: "P", At: at}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordScans(ctx, "e", []registry.Scan{{Domain: "e", Token: tok, ServicePoint: "P", At: at}}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("a scan in an unknown domain: %v", err)
	}
	err = db.Bolt().Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("registry_tokens")).Bucket([]byte("d"))
		k, _ := b.Cursor().First()
		return b.Put(k, []byte{1, 2, 3})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Lookup(ctx, "d", tok); err == nil || errors.Is(err, registry.ErrNotFound) {
		t.Errorf("lookup of a damaged entry: %v", err)
	}
	if err := st.EachEntry(ctx, "d", func(registry.Entry) error { return nil }); err == nil {
		t.Error("export of a damaged entry passed")
	}
	if _, err := st.RecordScans(ctx, "d", []registry.Scan{{Domain: "d", Token: tok, ServicePoint: "P", At: at}}); err == nil {
		t.Error("a scan over a damaged entry was counted")
	}
}
