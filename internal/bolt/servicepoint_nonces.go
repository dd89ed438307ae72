package bolt

import (
	"context"
	"encoding/binary"
	"time"

	"go.etcd.io/bbolt"
)

// bucketOfflineNonces holds the nonces of wallets' offline presentations
// seen at service points (issue 8): nonce → expiry (unix seconds, big
// endian). Expired entries are swept a few at a time by later uses.
var bucketOfflineNonces = []byte("servicepoint-offline-nonces")

// offlineSweep bounds the expired entries one use deletes.
const offlineSweep = 64

// UseNonce implements servicepoint.NonceStore: in one transaction, it
// tells whether nonce is new (or expired) and records it until expires.
// Two desks reading the same code at once: one of them is first.
func (s *ServicePointStore) UseNonce(ctx context.Context, nonce string, expires, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	fresh := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketOfflineNonces)
		if err != nil {
			return err
		}
		if v := b.Get([]byte(nonce)); len(v) == 8 && int64(binary.BigEndian.Uint64(v)) > now.Unix() {
			return nil
		}
		var until [8]byte
		binary.BigEndian.PutUint64(until[:], uint64(expires.Unix()))
		if err := b.Put([]byte(nonce), until[:]); err != nil {
			return err
		}
		fresh = true
		// Sweep: a few expired entries, from a point that moves with the
		// nonces (random), so that the whole bucket is visited over time.
		c := b.Cursor()
		var stale [][]byte
		for k, v := c.Seek([]byte(nonce)); k != nil && len(stale) < offlineSweep; k, v = c.Next() {
			if len(v) == 8 && int64(binary.BigEndian.Uint64(v)) <= now.Unix() {
				stale = append(stale, append([]byte(nil), k...))
			}
		}
		for _, k := range stale {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	return fresh, err
}

// OfflineNonceCount is how many offline nonces are kept (tests, metrics).
func (s *ServicePointStore) OfflineNonceCount() int {
	n := 0
	_ = s.db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketOfflineNonces); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n
}
