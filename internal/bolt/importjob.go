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

// The import buckets: bucketImports holds each job's record (counts,
// never personal data), bucketImportRows each handled row's outcome,
// bucketImportFiles each unfinished job's uploaded file, sealed under its
// organisation's data key by the issuer before it gets here.
var (
	bucketImports     = []byte("imports")
	bucketImportRows  = []byte("import_rows")
	bucketImportFiles = []byte("import_files")
)

// ImportStore implements issuer.ImportStore on the database file.
type ImportStore struct {
	d *DB
}

// NewImportStore returns the import store of d, making its buckets if
// needed.
func NewImportStore(d *DB) (*ImportStore, error) {
	err := d.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketImports, bucketImportRows, bucketImportFiles} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("prepare the import buckets: %w", err)
	}
	return &ImportStore{d: d}, nil
}

func importKey(org, id string) []byte { return []byte(org + "\x00" + id) }

func importRowPrefix(org, id string) []byte { return []byte(org + "\x00" + id + "\x00") }

func importRowKey(org, id string, line int) []byte {
	return binary.BigEndian.AppendUint32(importRowPrefix(org, id), uint32(line))
}

// CreateImport stores a new job and its sealed file in one transaction.
func (s *ImportStore) CreateImport(ctx context.Context, job issuer.ImportJob, sealedFile []byte) error {
	if job.Org == "" || job.ID == "" {
		return fmt.Errorf("an import needs an organisation and an id")
	}
	return s.d.update(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketOrgs).Get([]byte(job.Org)) == nil {
			return fmt.Errorf("organisation %q: %w", job.Org, issuer.ErrNotFound)
		}
		if err := putNew(tx, bucketImports, importKey(job.Org, job.ID), job, fmt.Errorf("import %s: %w", job.ID, issuer.ErrConflict)); err != nil {
			return err
		}
		return tx.Bucket(bucketImportFiles).Put(importKey(job.Org, job.ID), sealedFile)
	})
}

// Import returns one job.
func (s *ImportStore) Import(ctx context.Context, org, id string) (issuer.ImportJob, error) {
	var job issuer.ImportJob
	err := s.d.view(ctx, func(tx *bbolt.Tx) error {
		return get(tx, bucketImports, importKey(org, id), &job, fmt.Errorf("import %s: %w", id, issuer.ErrNotFound))
	})
	return job, err
}

// Imports lists an organisation's jobs, newest first.
func (s *ImportStore) Imports(ctx context.Context, org string) ([]issuer.ImportJob, error) {
	var jobs []issuer.ImportJob
	prefix := []byte(org + "\x00")
	err := s.d.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketImports).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var j issuer.ImportJob
			if err := json.Unmarshal(v, &j); err != nil {
				return fmt.Errorf("bucket %s: damaged record: %w", bucketImports, err)
			}
			jobs = append(jobs, j)
		}
		return nil
	})
	slices.SortStableFunc(jobs, func(a, b issuer.ImportJob) int { return b.Created.Compare(a.Created) })
	return jobs, err
}

// RunningImports lists every organisation's running jobs.
func (s *ImportStore) RunningImports(ctx context.Context) ([]issuer.ImportJob, error) {
	var jobs []issuer.ImportJob
	err := s.d.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketImports).ForEach(func(_, v []byte) error {
			var j issuer.ImportJob
			if err := json.Unmarshal(v, &j); err != nil {
				return fmt.Errorf("bucket %s: damaged record: %w", bucketImports, err)
			}
			if j.State == issuer.ImportRunning {
				jobs = append(jobs, j)
			}
			return nil
		})
	})
	return jobs, err
}

// UpdateImport replaces a job's record.
func (s *ImportStore) UpdateImport(ctx context.Context, job issuer.ImportJob) error {
	return s.d.update(ctx, func(tx *bbolt.Tx) error {
		return putJob(tx, job)
	})
}

func putJob(tx *bbolt.Tx, job issuer.ImportJob) error {
	k := importKey(job.Org, job.ID)
	if tx.Bucket(bucketImports).Get(k) == nil {
		return fmt.Errorf("import %s: %w", job.ID, issuer.ErrNotFound)
	}
	if err := put(tx, bucketImports, k, job); err != nil {
		return err
	}
	if job.State == issuer.ImportDone {
		return tx.Bucket(bucketImportFiles).Delete(k)
	}
	return nil
}

// SaveImportRows stores rows' outcomes and the job's record in one
// transaction, deleting the file of a job done.
func (s *ImportStore) SaveImportRows(ctx context.Context, job issuer.ImportJob, rows []issuer.ImportRow) error {
	return s.d.update(ctx, func(tx *bbolt.Tx) error {
		for _, r := range rows {
			if err := put(tx, bucketImportRows, importRowKey(job.Org, job.ID, r.Line), r); err != nil {
				return err
			}
		}
		return putJob(tx, job)
	})
}

// ImportRows calls fn with each stored row of a job, by line.
func (s *ImportStore) ImportRows(ctx context.Context, org, id string, fn func(issuer.ImportRow) error) error {
	prefix := importRowPrefix(org, id)
	return s.d.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketImportRows).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r issuer.ImportRow
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("bucket %s: damaged record: %w", bucketImportRows, err)
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// ImportFile returns a job's sealed file.
func (s *ImportStore) ImportFile(ctx context.Context, org, id string) ([]byte, error) {
	var out []byte
	err := s.d.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketImportFiles).Get(importKey(org, id))
		if v == nil {
			return fmt.Errorf("the file of import %s: %w", id, issuer.ErrNotFound)
		}
		out = bytes.Clone(v)
		return nil
	})
	return out, err
}

// DeleteImportFile deletes the sealed file of a checked or failed job.
func (s *ImportStore) DeleteImportFile(ctx context.Context, org, id string) error {
	return s.d.update(ctx, func(tx *bbolt.Tx) error {
		var job issuer.ImportJob
		if err := get(tx, bucketImports, importKey(org, id), &job, fmt.Errorf("import %s: %w", id, issuer.ErrNotFound)); err != nil {
			return err
		}
		if job.State != issuer.ImportChecked && job.State != issuer.ImportFailed {
			return fmt.Errorf("import %s is %s: its file stays until it ends: %w", id, job.State, issuer.ErrStateChange)
		}
		b := tx.Bucket(bucketImportFiles)
		if b.Get(importKey(org, id)) == nil {
			return fmt.Errorf("the file of import %s: %w", id, issuer.ErrNotFound)
		}
		return b.Delete(importKey(org, id))
	})
}

// ReplaceImportFile replaces the sealed file of a job not done.
func (s *ImportStore) ReplaceImportFile(ctx context.Context, org, id string, sealedFile []byte) error {
	return s.d.update(ctx, func(tx *bbolt.Tx) error {
		var job issuer.ImportJob
		if err := get(tx, bucketImports, importKey(org, id), &job, fmt.Errorf("import %s: %w", id, issuer.ErrNotFound)); err != nil {
			return err
		}
		if job.State == issuer.ImportDone {
			return fmt.Errorf("import %s is done, its file deleted: %w", id, issuer.ErrNotFound)
		}
		return tx.Bucket(bucketImportFiles).Put(importKey(org, id), sealedFile)
	})
}
