package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/issuer"
)

// Organisation returns one organisation.
func (d *DB) Organisation(ctx context.Context, slug string) (issuer.Organisation, error) {
	var o issuer.Organisation
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		return get(tx, bucketOrgs, []byte(slug), &o, fmt.Errorf("organisation %q: %w", slug, issuer.ErrNotFound))
	})
	return o, err
}

// Organisations returns every organisation, by slug.
func (d *DB) Organisations(ctx context.Context) ([]issuer.Organisation, error) {
	var list []issuer.Organisation
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketOrgs).ForEach(func(k, v []byte) error {
			var o issuer.Organisation
			if err := json.Unmarshal(v, &o); err != nil {
				return fmt.Errorf("organisation %q: damaged record: %w", k, err)
			}
			list = append(list, o)
			return nil
		})
	})
	return list, err
}

// orgKeyKey is the key of an organisation's key record: the slug, a zero
// byte, the creation time (so that a prefix scan lists them oldest first)
// and the key id.
func orgKeyKey(k issuer.OrgKey) []byte {
	return fmt.Appendf(nil, "%s\x00%020d\x00%s", k.Org, k.Created.UnixNano(), k.ID)
}

// OrgKeys returns an organisation's keys, oldest first.
func (d *DB) OrgKeys(ctx context.Context, slug string) ([]issuer.OrgKey, error) {
	var list []issuer.OrgKey
	prefix := []byte(slug + "\x00")
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketOrgKeys).Cursor()
		for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			var ok issuer.OrgKey
			if err := json.Unmarshal(v, &ok); err != nil {
				return fmt.Errorf("organisation key %q: damaged record: %w", k, err)
			}
			list = append(list, ok)
		}
		return nil
	})
	return list, err
}

// CreateOrganisation stores an organisation, its first key and its first
// administrator in one transaction.
func (d *DB) CreateOrganisation(ctx context.Context, org issuer.Organisation, key issuer.OrgKey, admin issuer.Staff) error {
	if key.Org != org.Slug || admin.Org != org.Slug {
		return fmt.Errorf("the key and the administrator must belong to organisation %s", org.Slug)
	}
	return d.update(ctx, func(tx *bbolt.Tx) error {
		if err := putNew(tx, bucketOrgs, []byte(org.Slug), org, fmt.Errorf("organisation %q: %w", org.Slug, issuer.ErrConflict)); err != nil {
			return err
		}
		if err := putNew(tx, bucketOrgKeys, orgKeyKey(key), key, fmt.Errorf("organisation key %s: %w", key.ID, issuer.ErrConflict)); err != nil {
			return err
		}
		return createStaff(tx, admin)
	})
}

func hasPrefix(b, prefix []byte) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == string(prefix)
}
