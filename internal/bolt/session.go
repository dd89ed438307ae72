package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/issuer"
)

// CreateSession stores a session under the hash of its id.
func (d *DB) CreateSession(ctx context.Context, s issuer.Session) error {
	if len(s.Hash) == 0 {
		return fmt.Errorf("a session needs its hash")
	}
	return d.update(ctx, func(tx *bbolt.Tx) error {
		return putNew(tx, bucketSessions, s.Hash, s, fmt.Errorf("session: %w", issuer.ErrConflict))
	})
}

// Session returns a session.
func (d *DB) Session(ctx context.Context, hash []byte) (issuer.Session, error) {
	var s issuer.Session
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		return get(tx, bucketSessions, hash, &s, fmt.Errorf("session: %w", issuer.ErrNotFound))
	})
	return s, err
}

// TouchSession sets a session's LastSeen.
func (d *DB) TouchSession(ctx context.Context, hash []byte, seen time.Time) error {
	return d.update(ctx, func(tx *bbolt.Tx) error {
		var s issuer.Session
		if err := get(tx, bucketSessions, hash, &s, fmt.Errorf("session: %w", issuer.ErrNotFound)); err != nil {
			return err
		}
		s.LastSeen = seen
		return put(tx, bucketSessions, hash, s)
	})
}

// DeleteSession removes a session.
func (d *DB) DeleteSession(ctx context.Context, hash []byte) error {
	return d.update(ctx, func(tx *bbolt.Tx) error { return tx.Bucket(bucketSessions).Delete(hash) })
}

// DeleteExpiredSessions removes the sessions past their expiry, or idle
// for idle or longer, at now.
func (d *DB) DeleteExpiredSessions(ctx context.Context, now time.Time, idle time.Duration) (int, error) {
	n := 0
	err := d.update(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketSessions).Cursor()
		for k, v := c.First(); k != nil; {
			var s issuer.Session
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("session: damaged record: %w", err)
			}
			if !now.Before(s.Expires) || now.Sub(s.LastSeen) >= idle {
				if err := c.Delete(); err != nil {
					return err
				}
				n++
				k, v = c.Seek(k)
				continue
			}
			k, v = c.Next()
		}
		return nil
	})
	return n, err
}
