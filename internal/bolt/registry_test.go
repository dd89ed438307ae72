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

// PeerLists finds each peer's list once, with its rows and import time,
// also when one peer's name begins another's; CountTokens counts a
// domain's tokens.
func TestRegistryPeerListsAndCount(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	st, err := bolt.NewRegistryStore(db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"d", "d2"} {
		if err := st.CreateDomain(ctx, registry.Domain{ID: id, Name: "D", Kind: registry.KindConsortium, Members: []string{"a", "a.b", "b"}}); err != nil {
			t.Fatal(err)
		}
	}
	toks := []string{"aaaqeayeaudaocajbifqydiob4", "aeaqcaibaeaqcaibaeaqcaibae", "ciaqcaibaeaqcaibaeaqcaibae"}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var scans []registry.Scan
	for _, tok := range toks {
		scans = append(scans, registry.Scan{Domain: "d", Token: tok, ServicePoint: "P", At: at}, registry.Scan{Domain: "d", Token: tok, ServicePoint: "P", At: at})
	}
	if _, err := st.RecordScans(ctx, "d", scans); err != nil {
		t.Fatal(err)
	}
	if n, err := st.CountTokens(ctx, "d"); err != nil || n != 3 {
		t.Fatalf("count %d, %v", n, err)
	}
	if n, err := st.CountTokens(ctx, "d2"); err != nil || n != 0 {
		t.Fatalf("count of an empty domain %d, %v", n, err)
	}
	if _, err := st.CountTokens(ctx, "nope"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("count of an unknown domain: %v", err)
	}
	list := func(domain string, n int) registry.List {
		l := registry.List{Domain: domain}
		for _, tok := range toks[:n] {
			l.Rows = append(l.Rows, registry.ListRow{Token: tok, Programme: "P", Month: "2026-03", Count: 1})
		}
		return l
	}
	t1, t2 := at.Add(time.Hour), at.Add(2*time.Hour)
	for _, c := range []struct {
		peer string
		l    registry.List
		at   time.Time
	}{{"a", list("d", 3), t1}, {"a.b", list("d", 1), t1}, {"b", list("d", 0), t2}, {"a", list("d2", 2), t2}, {"a", list("d", 2), t2}} {
		if err := st.ReplacePeerList(ctx, c.peer, c.l, c.at); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.PeerLists(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	want := []registry.PeerListInfo{{Peer: "a", Rows: 2, Imported: t2}, {Peer: "a.b", Rows: 1, Imported: t1}, {Peer: "b", Rows: 0, Imported: t2}}
	if len(got) != len(want) {
		t.Fatalf("peer lists %+v", got)
	}
	for i := range want {
		if got[i].Peer != want[i].Peer || got[i].Rows != want[i].Rows || !got[i].Imported.Equal(want[i].Imported) {
			t.Fatalf("peer list %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, err := st.PeerLists(ctx, "nope"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("lists of an unknown domain: %v", err)
	}
}
