package registry_test

import (
	"bytes"

	"go.etcd.io/bbolt"
)

type bboltTx = bbolt.Tx

// dumpAll writes every key and value of the database to w, nested
// buckets included.
func dumpAll(tx *bbolt.Tx, w *bytes.Buffer) error {
	var walk func(b *bbolt.Bucket) error
	walk = func(b *bbolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			w.Write(k)
			if v == nil {
				return walk(b.Bucket(k))
			}
			w.Write(v)
			return nil
		})
	}
	return tx.ForEach(func(name []byte, b *bbolt.Bucket) error { return walk(b) })
}
