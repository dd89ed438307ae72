package cli

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/issuer/audit"
)

// checkSignedAnchors checks each signed anchor's signature against the
// keys its organisation has in the database at path (opened read-only by
// openAuditLog already: it is opened again, read-only, here).
func checkSignedAnchors(ctx context.Context, path string, signed []audit.AnchorLine) error {
	if len(signed) == 0 {
		return nil
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	store := bolt.Wrap(db)
	for _, l := range signed {
		keys, err := store.OrgKeys(ctx, l.Org)
		if err != nil {
			return err
		}
		ok := false
		for _, k := range keys {
			pub, err := credentials.ReadPublicKey(k.Sealed)
			if err != nil {
				return fmt.Errorf("organisation %s, key %s: %w", l.Org, k.ID, err)
			}
			if _, _, err := credentials.VerifyJSON([]byte(l.Token), pub, audit.SignedAnchorTyp); err == nil {
				// Whoever holds a compromised key can sign an anchor of a
				// rewritten log, dated as they like: its signature proves
				// nothing any more.
				if !k.Compromised.IsZero() {
					return fmt.Errorf("the signed anchor of entry %d is signed by key %s, declared compromised on %s: it proves nothing; fetch a new signed anchor", l.Anchor.Seq, k.ID, k.Compromised.Format("2006-01-02"))
				}
				ok = true
				break
			} else if !errors.Is(err, credentials.ErrBadSignature) {
				return fmt.Errorf("the signed anchor of entry %d: %w", l.Anchor.Seq, err)
			}
		}
		if !ok {
			return fmt.Errorf("the signed anchor of entry %d is not signed by any key of organisation %q", l.Anchor.Seq, l.Org)
		}
	}
	return nil
}
