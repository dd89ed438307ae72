package bolt_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/trustsync"
)

// The trust store keeps a status list unless an older one is offered, and
// keeps a list's body when only its bookkeeping changes.
func TestTrustStore(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	st, err := bolt.NewTrustStore(db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	url := "https://a.example/status/revocation/0"
	if err := st.PutStatusList(ctx, trustsync.StatusRecord{URL: url, Raw: []byte("new"), SignedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutStatusList(ctx, trustsync.StatusRecord{URL: url, Raw: []byte("old"), SignedAt: at.Add(-time.Hour)}); !errors.Is(err, verifier.ErrOlderStatusList) {
		t.Fatalf("an older list: %v", err)
	}
	if err := st.PutStatusList(ctx, trustsync.StatusRecord{URL: url, LastError: "down", Failures: 2}); err != nil {
		t.Fatal(err)
	}
	recs, err := st.StatusLists(ctx)
	if err != nil || len(recs) != 1 || string(recs[0].Raw) != "new" || recs[0].LastError != "down" || !recs[0].SignedAt.Equal(at) {
		t.Fatalf("%+v %v", recs, err)
	}

	state := verifier.NewTrustListState()
	state.Newest["anchor"] = at
	if err := st.PutTrustList(ctx, trustsync.ListSource{ID: "l", Raw: []byte("list")}, state); err != nil {
		t.Fatal(err)
	}
	if err := st.PutTrustList(ctx, trustsync.ListSource{ID: "l", LastError: "down"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.PutTrustList(ctx, trustsync.ListSource{ID: "m", LastError: "down"}, nil); !errors.Is(err, trustsync.ErrNotFound) {
		t.Fatalf("bookkeeping of an unknown list: %v", err)
	}
	lists, err := st.TrustLists(ctx)
	if err != nil || len(lists) != 1 || string(lists[0].Raw) != "list" || lists[0].LastError != "down" {
		t.Fatalf("%+v %v", lists, err)
	}
	got, err := st.TrustListState(ctx)
	if err != nil || !got.Newest["anchor"].Equal(at) {
		t.Fatalf("%+v %v", got, err)
	}
	if err := st.DeleteTrustList(ctx, "l"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteTrustList(ctx, "l"); !errors.Is(err, trustsync.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
	if got, err := st.TrustListState(ctx); err != nil || !got.Newest["anchor"].Equal(at) {
		t.Fatal("the state went with the list")
	}
	if err := st.PutAnchor(ctx, trustsync.Anchor{ID: "a", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteAnchor(ctx, "b"); !errors.Is(err, trustsync.ErrNotFound) {
		t.Fatalf("an unknown anchor: %v", err)
	}
}
