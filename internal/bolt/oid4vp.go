package bolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/internal/oid4vp"
)

// OpenID4VP presentation requests: bucketPresentations holds each
// transaction under its id; bucketPresentationExpiry indexes them by
// expiry (RFC 3339 time, 0, id) for the sweep.
var (
	bucketPresentations      = []byte("oid4vp_transactions")
	bucketPresentationExpiry = []byte("oid4vp_transactions_by_expiry")
)

// PresentationStore implements oid4vp.Store on the database file.
type PresentationStore struct {
	d *DB
}

// NewPresentationStore returns the presentation store of d, making its
// buckets if needed.
func NewPresentationStore(d *DB) (*PresentationStore, error) {
	err := d.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketPresentations, bucketPresentationExpiry} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("prepare the presentation buckets: %w", err)
	}
	return &PresentationStore{d: d}, nil
}

func expiryKey(t time.Time, id string) []byte {
	return []byte(t.UTC().Format("2006-01-02T15:04:05.000000000Z") + "\x00" + id)
}

// CreatePresentation stores a new transaction.
func (s *PresentationStore) CreatePresentation(ctx context.Context, t oid4vp.Transaction) error {
	if t.ID == "" || t.Org == "" {
		return fmt.Errorf("a presentation request needs an id and an organisation")
	}
	return s.d.update(ctx, func(tx *bbolt.Tx) error {
		if err := putNew(tx, bucketPresentations, []byte(t.ID), t, fmt.Errorf("presentation request %s exists already", t.ID)); err != nil {
			return err
		}
		return tx.Bucket(bucketPresentationExpiry).Put(expiryKey(t.Expires, t.ID), nil)
	})
}

// Presentation returns a transaction, or oid4vp.ErrNotFound.
func (s *PresentationStore) Presentation(ctx context.Context, id string) (oid4vp.Transaction, error) {
	var t oid4vp.Transaction
	err := s.d.view(ctx, func(tx *bbolt.Tx) error {
		return get(tx, bucketPresentations, []byte(id), &t, oid4vp.ErrNotFound)
	})
	return t, err
}

// UpdatePresentation changes a transaction in one bbolt transaction:
// writers are serialised, so that of two concurrent responses only one
// finds the transaction unanswered. Nothing is written when change
// refuses.
func (s *PresentationStore) UpdatePresentation(ctx context.Context, id string, change func(*oid4vp.Transaction) error) (oid4vp.Transaction, error) {
	var t oid4vp.Transaction
	err := s.d.update(ctx, func(tx *bbolt.Tx) error {
		if err := get(tx, bucketPresentations, []byte(id), &t, oid4vp.ErrNotFound); err != nil {
			return err
		}
		before := t.Expires
		if err := change(&t); err != nil {
			return err
		}
		if t.ID != id || !t.Expires.Equal(before) {
			return fmt.Errorf("a presentation request's id and expiry do not change")
		}
		return put(tx, bucketPresentations, []byte(id), t)
	})
	if err != nil {
		return oid4vp.Transaction{}, err
	}
	return t, nil
}

// DeletePresentationsBefore removes the transactions that expired before
// t, outcomes and all.
func (s *PresentationStore) DeletePresentationsBefore(ctx context.Context, t time.Time) (int, error) {
	n := 0
	end := expiryKey(t, "")
	err := s.d.update(ctx, func(tx *bbolt.Tx) error {
		idx := tx.Bucket(bucketPresentationExpiry)
		var keys [][]byte
		c := idx.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			id := k[bytes.IndexByte(k, 0)+1:]
			if err := tx.Bucket(bucketPresentations).Delete(id); err != nil {
				return err
			}
			if err := idx.Delete(k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

var _ oid4vp.Store = (*PresentationStore)(nil)
