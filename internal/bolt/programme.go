package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/issuer"
)

// programmeKey is the key of a programme: the organisation's slug, a zero
// byte, the code; a prefix scan lists an organisation's programmes by code.
func programmeKey(org, code string) []byte { return []byte(org + "\x00" + code) }

// CreateProgramme stores a new programme.
func (d *DB) CreateProgramme(ctx context.Context, p issuer.Programme) error {
	if p.Org == "" || p.Code == "" {
		return fmt.Errorf("a programme needs an organisation and a code")
	}
	return d.update(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketOrgs).Get([]byte(p.Org)) == nil {
			return fmt.Errorf("organisation %q: %w", p.Org, issuer.ErrNotFound)
		}
		return putNew(tx, bucketProgrammes, programmeKey(p.Org, p.Code), p, fmt.Errorf("programme %q: %w", p.Code, issuer.ErrConflict))
	})
}

// UpdateProgramme replaces a programme.
func (d *DB) UpdateProgramme(ctx context.Context, p issuer.Programme) error {
	return d.update(ctx, func(tx *bbolt.Tx) error {
		key := programmeKey(p.Org, p.Code)
		if tx.Bucket(bucketProgrammes).Get(key) == nil {
			return fmt.Errorf("programme %q: %w", p.Code, issuer.ErrNotFound)
		}
		return put(tx, bucketProgrammes, key, p)
	})
}

// Programme returns one programme.
func (d *DB) Programme(ctx context.Context, org, code string) (issuer.Programme, error) {
	var p issuer.Programme
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		return get(tx, bucketProgrammes, programmeKey(org, code), &p, fmt.Errorf("programme %q: %w", code, issuer.ErrNotFound))
	})
	return p, err
}

// Programmes returns an organisation's programmes, by code.
func (d *DB) Programmes(ctx context.Context, org string) ([]issuer.Programme, error) {
	var list []issuer.Programme
	prefix := []byte(org + "\x00")
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketProgrammes).Cursor()
		for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			var p issuer.Programme
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("programme %q: damaged record: %w", k[len(prefix):], err)
			}
			list = append(list, p)
		}
		return nil
	})
	return list, err
}

// HasProgramme tells whether organisation org has a programme of that
// code: the audit log asks it before recording work done for a programme.
func (d *DB) HasProgramme(ctx context.Context, org, code string) (bool, error) {
	_, err := d.Programme(ctx, org, code)
	if errors.Is(err, issuer.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
