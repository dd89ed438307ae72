package bolt

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/verifier/servicepoint"
)

// bucketServicePoints holds each organisation's verification settings
// (verifier/servicepoint): organisation slug → the settings as JSON.
var bucketServicePoints = []byte("servicepoint_settings")

// ServicePointStore keeps the organisations' verification settings in its
// own bucket. It implements servicepoint.SettingsStore.
type ServicePointStore struct {
	db *bbolt.DB
}

var _ servicepoint.SettingsStore = (*ServicePointStore)(nil)

var errNoSettings = errors.New("no settings")

// NewServicePointStore returns the store in db, creating its bucket.
func NewServicePointStore(db *bbolt.DB) (*ServicePointStore, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketServicePoints)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("service point store: %w", err)
	}
	return &ServicePointStore{db: db}, nil
}

// Settings returns an organisation's settings, or the zero Settings.
func (s *ServicePointStore) Settings(ctx context.Context, org string) (servicepoint.Settings, error) {
	if err := ctx.Err(); err != nil {
		return servicepoint.Settings{}, err
	}
	var st servicepoint.Settings
	err := s.db.View(func(tx *bbolt.Tx) error {
		return get(tx, bucketServicePoints, []byte(org), &st, errNoSettings)
	})
	if errors.Is(err, errNoSettings) {
		return servicepoint.Settings{}, nil
	}
	return st, err
}

// UpdateSettings changes an organisation's settings in one transaction.
func (s *ServicePointStore) UpdateSettings(ctx context.Context, org string, fn func(*servicepoint.Settings) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if org == "" {
		return errors.New("service point store: no organisation")
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		var st servicepoint.Settings
		if err := get(tx, bucketServicePoints, []byte(org), &st, errNoSettings); err != nil && !errors.Is(err, errNoSettings) {
			return err
		}
		if err := fn(&st); err != nil {
			return err
		}
		return put(tx, bucketServicePoints, []byte(org), st)
	})
}
