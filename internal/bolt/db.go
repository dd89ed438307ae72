// Package bolt stores tally's records in one bbolt file (tally.db in the
// data directory), one bucket per noun, and implements the store
// interfaces the domain packages declare (issuer.OrgStore,
// issuer.StaffStore, issuer.RegistrationStore, ...). Every change of more
// than one record happens in one transaction. Records are JSON.
// Registrations arrive sealed, with their blind index entries: nothing
// personal is written here in the clear.
//
// Other stores of the same file (the audit log) take the *bbolt.DB from
// DB.Bolt and keep their own buckets.
package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/tally-id/tally/issuer"
)

// FileName is the name of the database file in the data directory.
const FileName = "tally.db"

// The buckets, one per noun, and the indexes beside them.
var (
	bucketMeta            = []byte("meta")
	bucketOrgs            = []byte("orgs")
	bucketOrgKeys         = []byte("org_keys")
	bucketStaff           = []byte("staff")
	bucketStaffByUsername = []byte("staff_by_username")
	bucketTokens          = []byte("tokens")
	bucketSessions        = []byte("sessions")
	bucketProgrammes      = []byte("programmes")
	// bucketDataKeys holds each organisation's sealed data key.
	bucketDataKeys = []byte("data_keys")
	// bucketRegistrations holds sealed registrations; bucketRegistrationIndex
	// their blind index entries, with empty values.
	bucketRegistrations     = []byte("registrations")
	bucketRegistrationIndex = []byte("registration_index")
)

func allBuckets() [][]byte {
	return [][]byte{bucketMeta, bucketOrgs, bucketOrgKeys, bucketStaff, bucketStaffByUsername, bucketTokens, bucketSessions,
		bucketProgrammes, bucketDataKeys, bucketRegistrations, bucketRegistrationIndex,
		bucketCredentials, bucketCredentialsByRegistration, bucketStatusBits,
		bucketOffers, bucketOfferTokens}
}

// DB is the open database.
type DB struct {
	db *bbolt.DB
	// batch makes changes with bbolt's Batch (see Batched).
	batch bool
}

// Batched returns the database as stores whose changes are made with
// bbolt's Batch: changes made at the same time by many goroutines share
// one transaction and one sync to disk, each still all or nothing. A bulk
// import uses it; a lone change waits up to bbolt's MaxBatchDelay (10 ms).
func (d *DB) Batched() *DB { return &DB{db: d.db, batch: true} }

// ErrLocked is returned by Open when another process (a running tally
// serve) holds the file.
var ErrLocked = errors.New("the database is in use by another tally process (is tally serve running?)")

// Open opens the database file at path, creating it (readable by its
// owner only) and its buckets if needed. It waits at most a second for
// another process to let go of the file.
func Open(path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range allBuckets() {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("prepare %s: %w", path, err)
	}
	return &DB{db: db}, nil
}

// Close closes the file.
func (d *DB) Close() error { return d.db.Close() }

// Bolt returns the underlying bbolt database, for stores in other files
// of this package (or beside it) that share the file.
func (d *DB) Bolt() *bbolt.DB { return d.db }

// Ping checks that the database answers a read, for readiness probes.
func (d *DB) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("the database has no meta bucket")
		}
		return nil
	})
}

// view and update run fn in a read or a read-write transaction, after
// checking ctx.
func (d *DB) view(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.db.View(fn)
}

func (d *DB) update(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d.batch {
		return d.db.Batch(fn)
	}
	return d.db.Update(fn)
}

// get reads the JSON record of key in bucket into v; notFound is returned
// when there is none.
func get(tx *bbolt.Tx, bucket, key []byte, v any, notFound error) error {
	data := tx.Bucket(bucket).Get(key)
	if data == nil {
		return notFound
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("bucket %s: damaged record: %w", bucket, err)
	}
	return nil
}

// put writes v as the JSON record of key in bucket.
func put(tx *bbolt.Tx, bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Bucket(bucket).Put(key, data)
}

// putNew writes v like put, or returns exists when key is taken.
func putNew(tx *bbolt.Tx, bucket, key []byte, v any, exists error) error {
	if tx.Bucket(bucket).Get(key) != nil {
		return exists
	}
	return put(tx, bucket, key, v)
}

// Stores returns the database as every store the issuer needs.
func (d *DB) Stores() issuer.Stores {
	return issuer.Stores{Orgs: d, Creator: d, Staff: d, Tokens: d, Sessions: d,
		Programmes: d, DataKeys: d, Registrations: d, Index: d, Status: d, Offers: d,
		Keys: d, Sweeper: d, Settings: d, Accounts: d}
}

// Wrap returns the stores of an open bbolt database without preparing it:
// for reading a database opened read-only (tally audit verify), whose
// buckets must be there already.
func Wrap(db *bbolt.DB) *DB { return &DB{db: db} }
