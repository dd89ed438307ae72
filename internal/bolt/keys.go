package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/issuer"
)

// This file is the store of organisations' settings and keys (rotation
// and compromise), of the sweep that revokes what a compromised key
// signed, and of staff accounts (passwords, disabling).

// UpdateOrganisation changes an organisation's record in one transaction.
func (d *DB) UpdateOrganisation(ctx context.Context, slug string, change func(issuer.Organisation) (issuer.Organisation, error)) (issuer.Organisation, error) {
	var out issuer.Organisation
	err := d.update(ctx, func(tx *bbolt.Tx) error {
		var o issuer.Organisation
		if err := get(tx, bucketOrgs, []byte(slug), &o, fmt.Errorf("organisation %q: %w", slug, issuer.ErrNotFound)); err != nil {
			return err
		}
		next, err := change(o)
		if err != nil {
			return err
		}
		if next.Slug != o.Slug || next.DID != o.DID || !next.Created.Equal(o.Created) {
			return fmt.Errorf("organisation %s: its slug, DID and creation time may not change", slug)
		}
		out = next
		return put(tx, bucketOrgs, []byte(slug), next)
	})
	return out, err
}

// ChangeOrgKeys changes an organisation's keys in one transaction: the
// keys it has keep their id, sealed key and creation time; new ones are
// added after them.
func (d *DB) ChangeOrgKeys(ctx context.Context, org string, change func([]issuer.OrgKey) ([]issuer.OrgKey, error)) ([]issuer.OrgKey, error) {
	var out []issuer.OrgKey
	err := d.update(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketOrgs).Get([]byte(org)) == nil {
			return fmt.Errorf("organisation %q: %w", org, issuer.ErrNotFound)
		}
		keys, err := orgKeys(tx, org)
		if err != nil {
			return err
		}
		before := slices.Clone(keys)
		next, err := change(keys)
		if err != nil {
			return err
		}
		if len(next) < len(before) {
			return fmt.Errorf("organisation %s: keys may not be removed", org)
		}
		for i, k := range next {
			if k.Org != org {
				return fmt.Errorf("key %s belongs to %s, not %s", k.ID, k.Org, org)
			}
			if i < len(before) {
				old := before[i]
				if k.ID != old.ID || !bytes.Equal(k.Sealed, old.Sealed) || !k.Created.Equal(old.Created) {
					return fmt.Errorf("organisation %s, key %s: only its state may change", org, old.ID)
				}
				if err := put(tx, bucketOrgKeys, orgKeyKey(old), k); err != nil {
					return err
				}
				continue
			}
			if len(k.Sealed) == 0 || k.ID == "" {
				return fmt.Errorf("organisation %s: a new key needs its id and sealed key", org)
			}
			for _, o := range next[:i] {
				if o.ID == k.ID {
					return fmt.Errorf("organisation key %s: %w", k.ID, issuer.ErrConflict)
				}
			}
			if err := putNew(tx, bucketOrgKeys, orgKeyKey(k), k, fmt.Errorf("organisation key %s: %w", k.ID, issuer.ErrConflict)); err != nil {
				return err
			}
		}
		out, err = orgKeys(tx, org)
		return err
	})
	return out, err
}

// orgKeys reads an organisation's keys, oldest first.
func orgKeys(tx *bbolt.Tx, org string) ([]issuer.OrgKey, error) {
	var list []issuer.OrgKey
	prefix := []byte(org + "\x00")
	c := tx.Bucket(bucketOrgKeys).Cursor()
	for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
		var ok issuer.OrgKey
		if err := json.Unmarshal(v, &ok); err != nil {
			return nil, fmt.Errorf("organisation key %q: damaged record: %w", k, err)
		}
		list = append(list, ok)
	}
	return list, nil
}

// ReviseCredentials walks up to limit of an organisation's credential
// records after the id after, in one transaction, and stores those change
// revises, with their status bits.
func (d *DB) ReviseCredentials(ctx context.Context, org, after string, limit int, change func(issuer.CredentialRecord) (issuer.CredentialRecord, bool)) ([]issuer.CredentialRecord, string, error) {
	if limit <= 0 {
		return nil, "", fmt.Errorf("a batch needs a positive limit")
	}
	var changed []issuer.CredentialRecord
	next := ""
	err := d.update(ctx, func(tx *bbolt.Tx) error {
		changed, next = nil, ""
		prefix := []byte(org + "\x00")
		c := tx.Bucket(bucketCredentials).Cursor()
		k, v := c.Seek(credentialKey(org, after))
		if after != "" && k != nil && bytes.Equal(k, credentialKey(org, after)) {
			k, v = c.Next()
		}
		// Records are revised after the walk: a cursor's bucket must not
		// change under it.
		var revised []issuer.CredentialRecord
		n, last := 0, ""
		for ; k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			if n == limit {
				// More are left: the walk goes on after the last one
				// looked at.
				next = last
				break
			}
			n++
			last = string(k[len(prefix):])
			var r issuer.CredentialRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("credential %q: damaged record: %w", k, err)
			}
			nr, ok := change(r)
			if !ok {
				continue
			}
			if nr.ID != r.ID || nr.Org != r.Org || nr.List != r.List || nr.Index != r.Index {
				return fmt.Errorf("credential %s: only its state may change", r.ID)
			}
			revised = append(revised, nr)
		}
		for _, r := range revised {
			if err := storeState(tx, r); err != nil {
				return err
			}
		}
		changed = revised
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return changed, next, nil
}

// storeState writes a credential record and its revocation and suspension
// bits.
func storeState(tx *bbolt.Tx, r issuer.CredentialRecord) error {
	for _, b := range []struct {
		kind byte
		on   bool
	}{{bitsRevoked, r.State == issuer.StateRevoked}, {bitsSuspended, r.State == issuer.StateSuspended}} {
		v, _ := bits(tx, r.Org, r.List, b.kind)
		setBit(v, r.Index, b.on)
		if err := tx.Bucket(bucketStatusBits).Put(statusBitsKey(r.Org, r.List, b.kind), v); err != nil {
			return err
		}
	}
	return put(tx, bucketCredentials, credentialKey(r.Org, r.ID), r)
}

// UpdateStaff changes a staff member's password and flags in one
// transaction.
func (d *DB) UpdateStaff(ctx context.Context, id string, change func(issuer.Staff) (issuer.Staff, error)) (issuer.Staff, error) {
	var out issuer.Staff
	err := d.update(ctx, func(tx *bbolt.Tx) error {
		var r staffRecord
		if err := get(tx, bucketStaff, []byte(id), &r, fmt.Errorf("staff member %s: %w", id, issuer.ErrNotFound)); err != nil {
			return err
		}
		old := issuer.Staff(r)
		next, err := change(old)
		if err != nil {
			return err
		}
		if next.ID != old.ID || next.Org != old.Org || next.Username != old.Username || next.Role != old.Role ||
			next.Name != old.Name || !next.Created.Equal(old.Created) {
			return fmt.Errorf("staff member %s: only the password and the flags may change", id)
		}
		out = next
		return put(tx, bucketStaff, []byte(id), staffRecord(next))
	})
	return out, err
}

// DeleteStaffSessions ends a staff member's sessions but keep.
func (d *DB) DeleteStaffSessions(ctx context.Context, staffID string, keep []byte) (int, error) {
	n := 0
	err := d.update(ctx, func(tx *bbolt.Tx) error {
		n = 0
		var doomed [][]byte
		err := tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
			var s issuer.Session
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("session: damaged record: %w", err)
			}
			if s.StaffID == staffID && !bytes.Equal(k, keep) {
				doomed = append(doomed, slices.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range doomed {
			if err := tx.Bucket(bucketSessions).Delete(k); err != nil {
				return err
			}
		}
		n = len(doomed)
		return nil
	})
	return n, err
}
