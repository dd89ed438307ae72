package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
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
	if r.Org == "" || r.ID == "" {
		return fmt.Errorf("a registration needs an organisation and an id")
	}
	if r.Erasure != nil {
		if len(r.Sealed) != 0 || len(r.Index) != 0 {
			return fmt.Errorf("registration %s: an erased registration keeps no sealed record and no index entry", r.ID)
		}
		return nil
	}
	if len(r.Sealed) == 0 {
		return fmt.Errorf("registration %s: a registration needs its sealed record", r.ID)
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
	return d.update(ctx, func(tx *bbolt.Tx) error { return createRegistration(tx, r) })
}

func createRegistration(tx *bbolt.Tx, r issuer.SealedRegistration) error {
	if tx.Bucket(bucketOrgs).Get([]byte(r.Org)) == nil {
		return fmt.Errorf("organisation %q: %w", r.Org, issuer.ErrNotFound)
	}
	if err := putNew(tx, bucketRegistrations, registrationKey(r.Org, r.ID), r, fmt.Errorf("registration %s: %w", r.ID, issuer.ErrConflict)); err != nil {
		return err
	}
	return addIndex(tx, r)
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
		if err := bumpIndexGeneration(tx, r.Org, k); err != nil {
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
	return d.update(ctx, func(tx *bbolt.Tx) error { return updateRegistration(tx, r) })
}

func updateRegistration(tx *bbolt.Tx, r issuer.SealedRegistration) error {
	var old issuer.SealedRegistration
	key := registrationKey(r.Org, r.ID)
	if err := get(tx, bucketRegistrations, key, &old, fmt.Errorf("registration %s: %w", r.ID, issuer.ErrNotFound)); err != nil {
		return err
	}
	if old.Rev != r.Rev-1 {
		return fmt.Errorf("registration %s is at revision %d, not %d: %w", r.ID, old.Rev, r.Rev-1, issuer.ErrConflict)
	}
	if old.Erasure != nil && r.Erasure == nil {
		return fmt.Errorf("registration %s: %w", r.ID, issuer.ErrErased)
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
	if err := put(tx, bucketRegistrations, key, r); err != nil {
		return err
	}
	return bumpGeneration(tx, r.Org)
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

// --- retention: erasure, data key rotation, the duplicate race ---

// generationKey is where the meta bucket keeps an organisation's
// registration generation: a counter that every registration created or
// updated moves on.
func generationKey(org string) []byte { return []byte("registration-generation\x00" + org) }

func bumpGeneration(tx *bbolt.Tx, org string) error {
	b := tx.Bucket(bucketMeta)
	var n uint64
	if v := b.Get(generationKey(org)); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	return b.Put(generationKey(org), binary.BigEndian.AppendUint64(nil, n+1))
}

func generation(tx *bbolt.Tx, org string) uint64 {
	if v := tx.Bucket(bucketMeta).Get(generationKey(org)); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// indexGenerationKey is where the meta bucket keeps the generation of
// one index key: a counter that every entry added under it moves on.
func indexGenerationKey(org string, k issuer.IndexKey) []byte {
	return append([]byte("index-generation\x00"), indexPrefix(org, k)...)
}

func bumpIndexGeneration(tx *bbolt.Tx, org string, k issuer.IndexKey) error {
	b := tx.Bucket(bucketMeta)
	key := indexGenerationKey(org, k)
	var n uint64
	if v := b.Get(key); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	return b.Put(key, binary.BigEndian.AppendUint64(nil, n+1))
}

// generations is org's registration generation plus those of the index
// keys: counters only grow, so the sum changes whenever any of them does.
func generations(tx *bbolt.Tx, org string, keys []issuer.IndexKey) uint64 {
	n := generation(tx, org)
	b := tx.Bucket(bucketMeta)
	for _, k := range keys {
		if v := b.Get(indexGenerationKey(org, k)); len(v) == 8 {
			n += binary.BigEndian.Uint64(v)
		}
	}
	return n
}

// RegistrationGeneration returns a number that changes whenever a
// registration of org is updated, or one is stored under any of keys.
func (d *DB) RegistrationGeneration(ctx context.Context, org string, keys []issuer.IndexKey) (uint64, error) {
	var n uint64
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		n = generations(tx, org, keys)
		return nil
	})
	return n, err
}

// CreateRegistrationIf stores a new registration, in one transaction with
// the check that no registration of its organisation was updated, and
// none stored under keys, since the generation gen was read.
func (d *DB) CreateRegistrationIf(ctx context.Context, r issuer.SealedRegistration, keys []issuer.IndexKey, gen uint64) error {
	if err := checkRegistration(r); err != nil {
		return err
	}
	return d.update(ctx, func(tx *bbolt.Tx) error {
		if now := generations(tx, r.Org, keys); now != gen {
			return fmt.Errorf("registration %s: organisation %s's registrations changed since the check for duplicates (generation %d, now %d): %w", r.ID, r.Org, gen, now, issuer.ErrRaced)
		}
		return createRegistration(tx, r)
	})
}

// ListRegistrations returns up to limit registrations of org after the id
// after, in id order.
func (d *DB) ListRegistrations(ctx context.Context, org, after string, limit int) ([]issuer.SealedRegistration, error) {
	var out []issuer.SealedRegistration
	prefix := []byte(org + "\x00")
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketRegistrations).Cursor()
		k, v := c.Seek(registrationKey(org, after))
		if after != "" && k != nil && string(k) == string(registrationKey(org, after)) {
			k, v = c.Next()
		}
		for ; k != nil && hasPrefix(k, prefix) && len(out) < limit; k, v = c.Next() {
			var r issuer.SealedRegistration
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("bucket %s: damaged record: %w", bucketRegistrations, err)
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// ReplaceRegistrations updates several registrations in one transaction.
func (d *DB) ReplaceRegistrations(ctx context.Context, rs []issuer.SealedRegistration) error {
	for _, r := range rs {
		if err := checkRegistration(r); err != nil {
			return err
		}
	}
	return d.update(ctx, func(tx *bbolt.Tx) error {
		for _, r := range rs {
			if err := updateRegistration(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// oldDataKeyKey is where an organisation's older data key of version v is
// kept, beside its current one (under the organisation's slug).
func oldDataKeyKey(org string, v int) []byte {
	return binary.BigEndian.AppendUint32([]byte(org+"\x00"), uint32(v))
}

// DataKeys returns an organisation's data keys, oldest first.
func (d *DB) DataKeys(ctx context.Context, org string) ([]issuer.DataKey, error) {
	var out []issuer.DataKey
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketDataKeys)
		prefix := []byte(org + "\x00")
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			var dk issuer.DataKey
			if err := json.Unmarshal(v, &dk); err != nil {
				return fmt.Errorf("bucket %s: damaged record: %w", bucketDataKeys, err)
			}
			out = append(out, dk)
		}
		var cur issuer.DataKey
		if err := get(tx, bucketDataKeys, []byte(org), &cur, fmt.Errorf("data key of %q: %w", org, issuer.ErrNotFound)); err != nil {
			return err
		}
		out = append(out, cur)
		return nil
	})
	return out, err
}

// AddDataKey makes k the current data key, and keeps the one before it
// under its version, in one transaction.
func (d *DB) AddDataKey(ctx context.Context, k issuer.DataKey) error {
	return d.update(ctx, func(tx *bbolt.Tx) error {
		var cur issuer.DataKey
		if err := get(tx, bucketDataKeys, []byte(k.Org), &cur, fmt.Errorf("data key of %q: %w", k.Org, issuer.ErrNotFound)); err != nil {
			return err
		}
		if cur.Version != k.Version-1 {
			return fmt.Errorf("data key of %q: the current one is version %d, not %d: %w", k.Org, cur.Version, k.Version-1, issuer.ErrConflict)
		}
		if err := putNew(tx, bucketDataKeys, oldDataKeyKey(k.Org, cur.Version), cur, fmt.Errorf("data key %d of %q: %w", cur.Version, k.Org, issuer.ErrConflict)); err != nil {
			return err
		}
		return put(tx, bucketDataKeys, []byte(k.Org), k)
	})
}

// DeleteDataKey deletes an older data key that no registration uses, in
// one transaction with the check.
func (d *DB) DeleteDataKey(ctx context.Context, org string, version int) error {
	return d.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketDataKeys)
		key := oldDataKeyKey(org, version)
		if b.Get(key) == nil {
			return fmt.Errorf("data key %d of %q: %w", version, org, issuer.ErrNotFound)
		}
		prefix := []byte(org + "\x00")
		c := tx.Bucket(bucketRegistrations).Cursor()
		for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			var r struct {
				DataKey int             `json:"dataKey"`
				Erasure json.RawMessage `json:"erasure"`
			}
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("bucket %s: damaged record: %w", bucketRegistrations, err)
			}
			if r.DataKey == version && r.Erasure == nil {
				return fmt.Errorf("data key %d of %q still seals registrations: %w", version, org, issuer.ErrConflict)
			}
		}
		return b.Delete(key)
	})
}
