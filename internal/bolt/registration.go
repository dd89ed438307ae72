package bolt

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/issuer"
)

// DataKey returns an organisation's sealed data key.
func (d *DB) DataKey(ctx context.Context, org string) (issuer.DataKey, error) {
	var k issuer.DataKey
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		return get(tx, bucketDataKeys, []byte(org), &k, fmt.Errorf("data key of %q: %w", org, issuer.ErrNotFound))
	})
	return k, err
}

// CreateDataKey stores an organisation's first data key.
func (d *DB) CreateDataKey(ctx context.Context, k issuer.DataKey) error {
	return d.update(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketOrgs).Get([]byte(k.Org)) == nil {
			return fmt.Errorf("organisation %q: %w", k.Org, issuer.ErrNotFound)
		}
		return putNew(tx, bucketDataKeys, []byte(k.Org), k, fmt.Errorf("data key of %q: %w", k.Org, issuer.ErrConflict))
	})
}

// registrationKey is the key of a registration: the organisation's slug,
// a zero byte, the registration's internal id.
func registrationKey(org, id string) []byte { return []byte(org + "\x00" + id) }

// indexPrefix is the start of the index entries of one key: the
// organisation, the kind and the blind value, each ended by a zero byte
// (the value has a fixed length); the registration's id follows.
func indexPrefix(org string, k issuer.IndexKey) []byte {
	b := make([]byte, 0, len(org)+len(k.Kind)+len(k.Value)+3)
	b = append(b, org...)
	b = append(b, 0)
	b = append(b, k.Kind...)
	b = append(b, 0)
	b = append(b, k.Value...)
	return append(b, 0)
}

func indexEntry(org string, k issuer.IndexKey, id string) []byte {
	return append(indexPrefix(org, k), id...)
}

func checkRegistration(r issuer.SealedRegistration) error {
	if r.Org == "" || r.ID == "" || len(r.Sealed) == 0 {
		return fmt.Errorf("a registration needs an organisation, an id and its sealed record")
	}
	for _, k := range r.Index {
		if k.Kind == "" || len(k.Value) != issuer.IndexSize || bytes.IndexByte([]byte(k.Kind), 0) >= 0 {
			return fmt.Errorf("registration %s: a malformed index entry", r.ID)
		}
	}
	return nil
}

// CreateRegistration stores a new registration and its index entries in
// one transaction.
func (d *DB) CreateRegistration(ctx context.Context, r issuer.SealedRegistration) error {
	if err := checkRegistration(r); err != nil {
		return err
	}
	return d.update(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketOrgs).Get([]byte(r.Org)) == nil {
			return fmt.Errorf("organisation %q: %w", r.Org, issuer.ErrNotFound)
		}
		if err := putNew(tx, bucketRegistrations, registrationKey(r.Org, r.ID), r, fmt.Errorf("registration %s: %w", r.ID, issuer.ErrConflict)); err != nil {
			return err
		}
		return addIndex(tx, r)
	})
}

// addIndex writes a registration's index entries, refusing a unique one
// another registration holds.
func addIndex(tx *bbolt.Tx, r issuer.SealedRegistration) error {
	b := tx.Bucket(bucketRegistrationIndex)
	for _, k := range r.Index {
		if k.Unique() {
			prefix := indexPrefix(r.Org, k)
			c := b.Cursor()
			for key, _ := c.Seek(prefix); key != nil && hasPrefix(key, prefix); key, _ = c.Next() {
				if string(key[len(prefix):]) != r.ID {
					return fmt.Errorf("registration %s: a unique index entry (%s) is taken: %w", r.ID, k.Kind, issuer.ErrConflict)
				}
			}
		}
		if err := b.Put(indexEntry(r.Org, k, r.ID), nil); err != nil {
			return err
		}
	}
	return nil
}

// Registration returns one registration.
func (d *DB) Registration(ctx context.Context, org, id string) (issuer.SealedRegistration, error) {
	var r issuer.SealedRegistration
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		return get(tx, bucketRegistrations, registrationKey(org, id), &r, fmt.Errorf("registration %s: %w", id, issuer.ErrNotFound))
	})
	return r, err
}

// UpdateRegistration replaces a registration of the revision before
// r.Rev, and its index entries, in one transaction.
func (d *DB) UpdateRegistration(ctx context.Context, r issuer.SealedRegistration) error {
	if err := checkRegistration(r); err != nil {
		return err
	}
	return d.update(ctx, func(tx *bbolt.Tx) error {
		var old issuer.SealedRegistration
		key := registrationKey(r.Org, r.ID)
		if err := get(tx, bucketRegistrations, key, &old, fmt.Errorf("registration %s: %w", r.ID, issuer.ErrNotFound)); err != nil {
			return err
		}
		if old.Rev != r.Rev-1 {
			return fmt.Errorf("registration %s is at revision %d, not %d: %w", r.ID, old.Rev, r.Rev-1, issuer.ErrConflict)
		}
		b := tx.Bucket(bucketRegistrationIndex)
		for _, k := range old.Index {
			if err := b.Delete(indexEntry(old.Org, k, old.ID)); err != nil {
				return err
			}
		}
		if err := addIndex(tx, r); err != nil {
			return err
		}
		return put(tx, bucketRegistrations, key, r)
	})
}

// FindRegistrations returns the registrations of org that hold any of
// keys, with the keys each holds; at most limit per key.
func (d *DB) FindRegistrations(ctx context.Context, org string, keys []issuer.IndexKey, limit int) ([]issuer.IndexHit, error) {
	var hits []issuer.IndexHit
	at := map[string]int{}
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketRegistrationIndex).Cursor()
		for _, k := range keys {
			prefix := indexPrefix(org, k)
			n := 0
			for key, _ := c.Seek(prefix); key != nil && hasPrefix(key, prefix) && n < limit; key, _ = c.Next() {
				n++
				id := string(key[len(prefix):])
				i, ok := at[id]
				if !ok {
					i = len(hits)
					at[id] = i
					hits = append(hits, issuer.IndexHit{ID: id})
				}
				if !slices.ContainsFunc(hits[i].Keys, func(h issuer.IndexKey) bool { return h.Kind == k.Kind && bytes.Equal(h.Value, k.Value) }) {
					hits[i].Keys = append(hits[i].Keys, k)
				}
			}
		}
		return nil
	})
	return hits, err
}

// CountRegistrations returns how many registrations an organisation has.
func (d *DB) CountRegistrations(ctx context.Context, org string) (int, error) {
	n := 0
	prefix := []byte(org + "\x00")
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketRegistrations).Cursor()
		for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n, err
}
