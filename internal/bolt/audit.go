package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/issuer/audit"
)

// auditBucket is the bucket of the audit log: one record per entry, under
// its sequence number as 8 big-endian bytes, so that bbolt's key order is
// the log's order. The bucket's own sequence is the last number given out.
const auditBucket = "audit"

// ErrNoAuditLog is returned by NewAuditStore for a database opened
// read-only that has no audit log: it was never written by tally, or the
// log was deleted.
var ErrNoAuditLog = errors.New("the database has no audit log")

// AuditStore keeps the audit log (issuer/audit) in its own bucket of a
// bbolt database. It implements audit.Store.
type AuditStore struct {
	db *bbolt.DB
	// batch appends with bbolt's Batch (see Batched).
	batch bool
}

// Batched returns the store appending with bbolt's Batch, as DB.Batched
// does: appends made at the same time share a transaction, in one chain.
func (s *AuditStore) Batched() *AuditStore { return &AuditStore{db: s.db, batch: true} }

var _ audit.Store = (*AuditStore)(nil)

// NewAuditStore returns the audit store in db, creating its bucket when db
// is writable. On a read-only db (bbolt.Options.ReadOnly, as `tally audit
// verify` opens it) the bucket must already be there.
func NewAuditStore(db *bbolt.DB) (*AuditStore, error) {
	if db.IsReadOnly() {
		err := db.View(func(tx *bbolt.Tx) error {
			if tx.Bucket([]byte(auditBucket)) == nil {
				return ErrNoAuditLog
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return &AuditStore{db: db}, nil
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte(auditBucket))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("audit store: %w", err)
	}
	return &AuditStore{db: db}, nil
}

// Append stores the record build makes under the bucket's next sequence
// number, in one read-write transaction: bbolt runs one at a time, so
// concurrent appends each see the record the one before stored. It refuses
// to overwrite a record (should the bucket's sequence have been set back).
func (s *AuditStore) Append(ctx context.Context, build func(seq uint64, last []byte) ([]byte, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	update := s.db.Update
	if s.batch {
		update = s.db.Batch
	}
	return update(func(tx *bbolt.Tx) error {
		b, err := auditBucketOf(tx)
		if err != nil {
			return err
		}
		_, last := b.Cursor().Last()
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		key := auditKey(seq)
		if b.Get(key) != nil {
			return fmt.Errorf("%w: sequence number %d is taken", audit.ErrDamaged, seq)
		}
		// last is valid only in this transaction; build decodes it
		// there and keeps nothing of it.
		record, err := build(seq, last)
		if err != nil {
			return err
		}
		return b.Put(key, bytes.Clone(record))
	})
}

// Records calls fn with each record in key order, in one read-only
// transaction. A key that is not 8 bytes, or a nested bucket, is reported
// as audit.ErrMalformed: tally writes neither.
func (s *AuditStore) Records(ctx context.Context, fn func(seq uint64, record []byte) error) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		b, err := auditBucketOf(tx)
		if err != nil {
			return err
		}
		c := b.Cursor()
		n := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if len(k) != 8 || v == nil {
				return fmt.Errorf("%w: the audit bucket holds something under key %x that tally did not write", audit.ErrMalformed, k)
			}
			if err := fn(binary.BigEndian.Uint64(k), v); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
}

// Head returns the bucket's sequence (the last number Append gave out) and
// a copy of the last record.
func (s *AuditStore) Head(ctx context.Context) (uint64, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	var seq uint64
	var last []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := auditBucketOf(tx)
		if err != nil {
			return err
		}
		seq = b.Sequence()
		if _, v := b.Cursor().Last(); v != nil {
			last = bytes.Clone(v)
		}
		return nil
	})
	return seq, last, err
}

func auditBucketOf(tx *bbolt.Tx) (*bbolt.Bucket, error) {
	b := tx.Bucket([]byte(auditBucket))
	if b == nil {
		return nil, ErrNoAuditLog
	}
	return b, nil
}

func auditKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// RecordsBefore calls fn with the records under sequence numbers below
// before (all when before is 0), newest first, in one read-only
// transaction. It implements audit.ReverseStore.
func (s *AuditStore) RecordsBefore(ctx context.Context, before uint64, fn func(seq uint64, record []byte) (bool, error)) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		b, err := auditBucketOf(tx)
		if err != nil {
			return err
		}
		c := b.Cursor()
		var k, v []byte
		if before == 0 {
			k, v = c.Last()
		} else if k, v = c.Seek(auditKey(before)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		n := 0
		for ; k != nil; k, v = c.Prev() {
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if len(k) != 8 || v == nil {
				return fmt.Errorf("%w: the audit bucket holds something under key %x that tally did not write", audit.ErrMalformed, k)
			}
			seq := binary.BigEndian.Uint64(k)
			if before != 0 && seq >= before {
				continue
			}
			more, err := fn(seq, v)
			if err != nil || !more {
				return err
			}
		}
		return ctx.Err()
	})
}
