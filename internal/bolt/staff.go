package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/issuer"
)

// CreateStaff stores a staff member and the index of its user name.
func (d *DB) CreateStaff(ctx context.Context, s issuer.Staff) error {
	return d.update(ctx, func(tx *bbolt.Tx) error { return createStaff(tx, s) })
}

func createStaff(tx *bbolt.Tx, s issuer.Staff) error {
	if s.ID == "" || s.Username == "" || s.Org == "" {
		return fmt.Errorf("a staff member needs an id, a user name and an organisation")
	}
	if tx.Bucket(bucketOrgs).Get([]byte(s.Org)) == nil {
		return fmt.Errorf("organisation %q: %w", s.Org, issuer.ErrNotFound)
	}
	names := tx.Bucket(bucketStaffByUsername)
	if names.Get([]byte(s.Username)) != nil {
		return fmt.Errorf("user name %q: %w", s.Username, issuer.ErrConflict)
	}
	if err := putNew(tx, bucketStaff, []byte(s.ID), staffRecord(s), fmt.Errorf("staff id %s: %w", s.ID, issuer.ErrConflict)); err != nil {
		return err
	}
	return names.Put([]byte(s.Username), []byte(s.ID))
}

// staffRecord is a staff member as stored: issuer.Staff leaves the
// password hash out of its JSON, which is what APIs show.
type staffRecord issuer.Staff

func (r staffRecord) MarshalJSON() ([]byte, error) {
	type plain issuer.Staff
	return json.Marshal(struct {
		plain
		PasswordHash string `json:"passwordHash"`
	}{plain(r), r.PasswordHash})
}

func (r *staffRecord) UnmarshalJSON(data []byte) error {
	type plain issuer.Staff
	var v struct {
		plain
		PasswordHash string `json:"passwordHash"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*r = staffRecord(v.plain)
	r.PasswordHash = v.PasswordHash
	return nil
}

// StaffByID returns a staff member.
func (d *DB) StaffByID(ctx context.Context, id string) (issuer.Staff, error) {
	var r staffRecord
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		return get(tx, bucketStaff, []byte(id), &r, fmt.Errorf("staff member %s: %w", id, issuer.ErrNotFound))
	})
	return issuer.Staff(r), err
}

// StaffByUsername returns a staff member by user name.
func (d *DB) StaffByUsername(ctx context.Context, username string) (issuer.Staff, error) {
	var r staffRecord
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		id := tx.Bucket(bucketStaffByUsername).Get([]byte(username))
		if id == nil {
			return fmt.Errorf("user name: %w", issuer.ErrNotFound)
		}
		return get(tx, bucketStaff, id, &r, fmt.Errorf("staff member %s: %w", id, issuer.ErrNotFound))
	})
	return issuer.Staff(r), err
}

// ListStaff returns an organisation's staff, by user name.
func (d *DB) ListStaff(ctx context.Context, org string) ([]issuer.Staff, error) {
	var list []issuer.Staff
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketStaff).ForEach(func(k, v []byte) error {
			var r staffRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("staff member %s: damaged record: %w", k, err)
			}
			if r.Org == org {
				list = append(list, issuer.Staff(r))
			}
			return nil
		})
	})
	sort.Slice(list, func(i, j int) bool { return list[i].Username < list[j].Username })
	return list, err
}
