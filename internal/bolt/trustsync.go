package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/trustsync"
)

// The verifier's trust buckets (verifier/trustsync), one per noun:
//   - trust_anchors: anchor id (key thumbprint) → the anchor as JSON;
//   - trust_lists: list id → the list followed as JSON, with its body;
//   - trust_state: "state" → the verifier.TrustListState that refuses an
//     older signed list;
//   - status_cache: status list URL → the status list kept, as JSON.
var (
	bucketTrustAnchors = []byte("trust_anchors")
	bucketTrustLists   = []byte("trust_lists")
	bucketTrustState   = []byte("trust_state")
	bucketStatusCache  = []byte("status_cache")
	keyTrustState      = []byte("state")
)

// TrustStore keeps the verifier's trust anchors, trust lists and status
// lists. It implements trustsync.AnchorStore, ListStore and StatusStore.
type TrustStore struct {
	db *bbolt.DB
}

var (
	_ trustsync.AnchorStore = (*TrustStore)(nil)
	_ trustsync.ListStore   = (*TrustStore)(nil)
	_ trustsync.StatusStore = (*TrustStore)(nil)
)

// NewTrustStore returns the trust store in db, creating its buckets.
func NewTrustStore(db *bbolt.DB) (*TrustStore, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketTrustAnchors, bucketTrustLists, bucketTrustState, bucketStatusCache} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("trust store: %w", err)
	}
	return &TrustStore{db: db}, nil
}

// Stores returns the store as every store trustsync.New needs.
func (s *TrustStore) Stores() *trustsync.Stores {
	return &trustsync.Stores{Anchors: s, Lists: s, Status: s}
}

func readAll[T any](ctx context.Context, db *bbolt.DB, bucket []byte) ([]T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []T
	err := db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			var x T
			if err := json.Unmarshal(v, &x); err != nil {
				return fmt.Errorf("%s %q: %w", bucket, k, err)
			}
			out = append(out, x)
			return nil
		})
	})
	return out, err
}

func putJSON(tx *bbolt.Tx, bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Bucket(bucket).Put(key, data)
}

func (s *TrustStore) update(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(fn)
}

func deleteKey(tx *bbolt.Tx, bucket []byte, key string) error {
	b := tx.Bucket(bucket)
	if b.Get([]byte(key)) == nil {
		return fmt.Errorf("%q: %w", key, trustsync.ErrNotFound)
	}
	return b.Delete([]byte(key))
}

// Anchors implements trustsync.AnchorStore.
func (s *TrustStore) Anchors(ctx context.Context) ([]trustsync.Anchor, error) {
	return readAll[trustsync.Anchor](ctx, s.db, bucketTrustAnchors)
}

// PutAnchor implements trustsync.AnchorStore.
func (s *TrustStore) PutAnchor(ctx context.Context, a trustsync.Anchor) error {
	return s.update(ctx, func(tx *bbolt.Tx) error { return putJSON(tx, bucketTrustAnchors, []byte(a.ID), a) })
}

// DeleteAnchor implements trustsync.AnchorStore.
func (s *TrustStore) DeleteAnchor(ctx context.Context, id string) error {
	return s.update(ctx, func(tx *bbolt.Tx) error { return deleteKey(tx, bucketTrustAnchors, id) })
}

// TrustLists implements trustsync.ListStore.
func (s *TrustStore) TrustLists(ctx context.Context) ([]trustsync.ListSource, error) {
	return readAll[trustsync.ListSource](ctx, s.db, bucketTrustLists)
}

// PutTrustList implements trustsync.ListStore: the list and the state in
// one transaction; with l.Raw nil, the body kept stays.
func (s *TrustStore) PutTrustList(ctx context.Context, l trustsync.ListSource, state *verifier.TrustListState) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if l.Raw == nil {
			old := tx.Bucket(bucketTrustLists).Get([]byte(l.ID))
			if old == nil {
				return fmt.Errorf("trust list %q: %w", l.ID, trustsync.ErrNotFound)
			}
			var kept trustsync.ListSource
			if err := json.Unmarshal(old, &kept); err != nil {
				return err
			}
			l.Raw = kept.Raw
		}
		if state != nil {
			data, err := state.Marshal()
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketTrustState).Put(keyTrustState, data); err != nil {
				return err
			}
		}
		return putJSON(tx, bucketTrustLists, []byte(l.ID), l)
	})
}

// DeleteTrustList implements trustsync.ListStore. The state stays: a list
// followed again later is still refused if older.
func (s *TrustStore) DeleteTrustList(ctx context.Context, id string) error {
	return s.update(ctx, func(tx *bbolt.Tx) error { return deleteKey(tx, bucketTrustLists, id) })
}

// TrustListState implements trustsync.ListStore.
func (s *TrustStore) TrustListState(ctx context.Context) (*verifier.TrustListState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var data []byte
	if err := s.db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketTrustState).Get(keyTrustState); v != nil {
			data = append([]byte(nil), v...)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if data == nil {
		return verifier.NewTrustListState(), nil
	}
	return verifier.ParseTrustListState(data)
}

// StatusLists implements trustsync.StatusStore.
func (s *TrustStore) StatusLists(ctx context.Context) ([]trustsync.StatusRecord, error) {
	return readAll[trustsync.StatusRecord](ctx, s.db, bucketStatusCache)
}

// PutStatusList implements trustsync.StatusStore: a list signed before
// the one kept is refused, in the same transaction that would replace it.
func (s *TrustStore) PutStatusList(ctx context.Context, r trustsync.StatusRecord) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketStatusCache)
		var kept trustsync.StatusRecord
		old := b.Get([]byte(r.URL))
		if old != nil {
			if err := json.Unmarshal(old, &kept); err != nil {
				return err
			}
		}
		if r.Raw == nil {
			if old == nil {
				return nil
			}
			kept.TriedAt, kept.NextFetch, kept.LastError, kept.Failures = r.TriedAt, r.NextFetch, r.LastError, r.Failures
			return putJSON(tx, bucketStatusCache, []byte(r.URL), kept)
		}
		if old != nil && kept.SignedAt.After(r.SignedAt) {
			return fmt.Errorf("status list %s: %w", r.URL, verifier.ErrOlderStatusList)
		}
		return putJSON(tx, bucketStatusCache, []byte(r.URL), r)
	})
}
