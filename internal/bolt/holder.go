package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/holder"
)

// The wallet's holders: bucketHolders keeps each account under its wallet
// number; bucketHolderItems keeps their sealed items under holder, kind
// and id (separated by 0 bytes), the sealed bytes as they are.
var (
	bucketHolders     = []byte("holders")
	bucketHolderItems = []byte("holder_items")
)

// HolderStore implements holder.Store on the database file.
type HolderStore struct {
	d *DB
}

// NewHolderStore returns the holder store of d, making its buckets if
// needed.
func NewHolderStore(d *DB) (*HolderStore, error) {
	err := d.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketHolders, bucketHolderItems} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("prepare the holder buckets: %w", err)
	}
	return &HolderStore{d: d}, nil
}

var errHolderNotFound = fmt.Errorf("wallet: %w", holder.ErrNotFound)

func itemPrefix(h string, kind holder.Kind) []byte {
	return []byte(h + "\x00" + string(kind) + "\x00")
}

func itemKey(h string, kind holder.Kind, id string) []byte {
	return append(itemPrefix(h, kind), id...)
}

// CreateAccount stores a new account.
func (s *HolderStore) CreateAccount(ctx context.Context, a holder.Account) error {
	if a.ID == "" {
		return errors.New("a holder account needs an id")
	}
	return s.d.update(ctx, func(tx *bbolt.Tx) error {
		return putNew(tx, bucketHolders, []byte(a.ID), a, fmt.Errorf("wallet %s exists already", a.ID))
	})
}

// Account returns an account, or holder.ErrNotFound.
func (s *HolderStore) Account(ctx context.Context, id string) (holder.Account, error) {
	var a holder.Account
	err := s.d.view(ctx, func(tx *bbolt.Tx) error {
		return get(tx, bucketHolders, []byte(id), &a, errHolderNotFound)
	})
	return a, err
}

// UpdateAccount changes an account in one transaction; with reset, its
// items go too.
func (s *HolderStore) UpdateAccount(ctx context.Context, id string, change func(*holder.Account) (bool, error)) (holder.Account, error) {
	var a holder.Account
	err := s.d.update(ctx, func(tx *bbolt.Tx) error {
		if err := get(tx, bucketHolders, []byte(id), &a, errHolderNotFound); err != nil {
			return err
		}
		reset, err := change(&a)
		if err != nil {
			return err
		}
		if a.ID != id {
			return errors.New("a holder account's id does not change")
		}
		if reset {
			if err := deletePrefix(tx.Bucket(bucketHolderItems), []byte(id+"\x00")); err != nil {
				return err
			}
		}
		return put(tx, bucketHolders, []byte(id), a)
	})
	if err != nil {
		return holder.Account{}, err
	}
	return a, nil
}

// DeleteAccount deletes an account and its items.
func (s *HolderStore) DeleteAccount(ctx context.Context, id string) error {
	return s.d.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketHolders)
		if b.Get([]byte(id)) == nil {
			return errHolderNotFound
		}
		if err := deletePrefix(tx.Bucket(bucketHolderItems), []byte(id+"\x00")); err != nil {
			return err
		}
		return b.Delete([]byte(id))
	})
}

func deletePrefix(b *bbolt.Bucket, prefix []byte) error {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// PutItem stores an item, within max items of its kind.
func (s *HolderStore) PutItem(ctx context.Context, it holder.Item, max int) error {
	if it.Holder == "" || it.Kind == "" || it.ID == "" || bytes.IndexByte([]byte(it.Holder+string(it.Kind)), 0) >= 0 {
		return errors.New("a holder item needs a holder, kind and id")
	}
	return s.d.update(ctx, func(tx *bbolt.Tx) error {
		var a holder.Account
		if err := get(tx, bucketHolders, []byte(it.Holder), &a, errHolderNotFound); err != nil {
			return err
		}
		if it.KeyID != a.KeyID {
			return fmt.Errorf("this wallet was started again since you signed in: sign in again: %w", holder.ErrUnauthenticated)
		}
		b := tx.Bucket(bucketHolderItems)
		key := itemKey(it.Holder, it.Kind, it.ID)
		if max > 0 && b.Get(key) == nil {
			n, prefix := 0, itemPrefix(it.Holder, it.Kind)
			c := b.Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				n++
			}
			if n >= max {
				return holder.ErrFull
			}
		}
		return b.Put(key, it.Sealed)
	})
}

// Item returns one item, or holder.ErrNotFound.
func (s *HolderStore) Item(ctx context.Context, h string, kind holder.Kind, id string) (holder.Item, error) {
	it := holder.Item{Holder: h, Kind: kind, ID: id}
	err := s.d.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketHolderItems).Get(itemKey(h, kind, id))
		if v == nil {
			return errHolderNotFound
		}
		it.Sealed = bytes.Clone(v)
		return nil
	})
	return it, err
}

// Items returns a holder's items of one kind, in id order.
func (s *HolderStore) Items(ctx context.Context, h string, kind holder.Kind) ([]holder.Item, error) {
	var out []holder.Item
	prefix := itemPrefix(h, kind)
	err := s.d.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketHolderItems).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			out = append(out, holder.Item{Holder: h, Kind: kind, ID: string(k[len(prefix):]), Sealed: bytes.Clone(v)})
		}
		return nil
	})
	return out, err
}

// DeleteItem deletes one item.
func (s *HolderStore) DeleteItem(ctx context.Context, h string, kind holder.Kind, id string) error {
	return s.d.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketHolderItems)
		key := itemKey(h, kind, id)
		if b.Get(key) == nil {
			return errHolderNotFound
		}
		return b.Delete(key)
	})
}

var _ holder.Store = (*HolderStore)(nil)
