package bolt

import (
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/issuer"
)

// CreateToken stores an API token under its hash.
func (d *DB) CreateToken(ctx context.Context, t issuer.Token) error {
	if len(t.Hash) == 0 {
		return fmt.Errorf("an API token needs its hash")
	}
	return d.update(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketOrgs).Get([]byte(t.Org)) == nil {
			return fmt.Errorf("organisation %q: %w", t.Org, issuer.ErrNotFound)
		}
		return putNew(tx, bucketTokens, t.Hash, t, fmt.Errorf("API token: %w", issuer.ErrConflict))
	})
}

// TokenByHash returns the API token of a hash.
func (d *DB) TokenByHash(ctx context.Context, hash []byte) (issuer.Token, error) {
	var t issuer.Token
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		return get(tx, bucketTokens, hash, &t, fmt.Errorf("API token: %w", issuer.ErrNotFound))
	})
	return t, err
}
