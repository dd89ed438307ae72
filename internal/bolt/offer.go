package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/issuer"
)

// OpenID4VCI offers: bucketOffers holds each offer under ORG 0 the hash
// of its pre-authorized code; bucketOfferTokens maps ORG 0 the hash of an
// access token to the offer's key. No secret is stored in the clear.
var (
	bucketOffers      = []byte("oid4vci_offers")
	bucketOfferTokens = []byte("oid4vci_offer_tokens")
)

func offerKey(org string, hash []byte) []byte { return append([]byte(org+"\x00"), hash...) }

// CreateOffer stores a new offer.
func (d *DB) CreateOffer(ctx context.Context, o issuer.Offer) error {
	if len(o.CodeHash) == 0 {
		return fmt.Errorf("an offer needs the hash of its code")
	}
	return d.update(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketOrgs).Get([]byte(o.Org)) == nil {
			return fmt.Errorf("organisation %q: %w", o.Org, issuer.ErrNotFound)
		}
		return putNew(tx, bucketOffers, offerKey(o.Org, o.CodeHash), o, fmt.Errorf("offer: %w", issuer.ErrConflict))
	})
}

// OfferByCode returns an offer by the hash of its pre-authorized code.
func (d *DB) OfferByCode(ctx context.Context, org string, codeHash []byte) (issuer.Offer, error) {
	var o issuer.Offer
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		return get(tx, bucketOffers, offerKey(org, codeHash), &o, fmt.Errorf("offer: %w", issuer.ErrNotFound))
	})
	return o, err
}

// OfferByToken returns an offer by the hash of its access token.
func (d *DB) OfferByToken(ctx context.Context, org string, tokenHash []byte) (issuer.Offer, error) {
	var o issuer.Offer
	err := d.view(ctx, func(tx *bbolt.Tx) error {
		key := tx.Bucket(bucketOfferTokens).Get(offerKey(org, tokenHash))
		if key == nil {
			return fmt.Errorf("offer: %w", issuer.ErrNotFound)
		}
		return get(tx, bucketOffers, key, &o, fmt.Errorf("offer: %w", issuer.ErrNotFound))
	})
	return o, err
}

// UpdateOffer changes an offer in one transaction: the offer as change
// leaves it is stored even when change refuses (so that a wrong
// transaction code is counted), and its access token is indexed.
func (d *DB) UpdateOffer(ctx context.Context, org string, codeHash []byte, change func(*issuer.Offer) error) (issuer.Offer, error) {
	var o issuer.Offer
	var refused error
	err := d.update(ctx, func(tx *bbolt.Tx) error {
		key := offerKey(org, codeHash)
		if err := get(tx, bucketOffers, key, &o, fmt.Errorf("offer: %w", issuer.ErrNotFound)); err != nil {
			return err
		}
		refused = change(&o)
		if len(o.TokenHash) > 0 {
			if err := tx.Bucket(bucketOfferTokens).Put(offerKey(org, o.TokenHash), key); err != nil {
				return err
			}
		}
		return put(tx, bucketOffers, key, o)
	})
	if err != nil {
		return issuer.Offer{}, err
	}
	return o, refused
}

// SpendOffer changes an offer and adds a credential record in one
// transaction; a refusal by change stores nothing.
func (d *DB) SpendOffer(ctx context.Context, org string, codeHash []byte, change func(*issuer.Offer) error, rec issuer.CredentialRecord, choose issuer.IndexChooser) (issuer.CredentialRecord, error) {
	if rec.ID == "" || rec.Org == "" || rec.Registration == "" {
		return issuer.CredentialRecord{}, fmt.Errorf("a credential record needs an id, an organisation and a registration")
	}
	err := d.update(ctx, func(tx *bbolt.Tx) error {
		key := offerKey(org, codeHash)
		var o issuer.Offer
		if err := get(tx, bucketOffers, key, &o, fmt.Errorf("offer: %w", issuer.ErrNotFound)); err != nil {
			return err
		}
		if err := change(&o); err != nil {
			return err
		}
		if err := put(tx, bucketOffers, key, o); err != nil {
			return err
		}
		var err error
		rec, err = addCredential(tx, rec, choose)
		return err
	})
	if err != nil {
		return issuer.CredentialRecord{}, err
	}
	return rec, nil
}

// PurgeOffers deletes the offers whose offer and token have both expired
// before before, with their token index entries. It looks in a read
// transaction first, and writes only when there is something to delete.
func (d *DB) PurgeOffers(ctx context.Context, before time.Time) (int, error) {
	dead := func(tx *bbolt.Tx) ([]issuer.Offer, error) {
		var list []issuer.Offer
		err := tx.Bucket(bucketOffers).ForEach(func(k, v []byte) error {
			var o issuer.Offer
			if err := json.Unmarshal(v, &o); err != nil {
				return fmt.Errorf("bucket %s: damaged record: %w", bucketOffers, err)
			}
			if o.Expires.Before(before) && o.TokenExpires.Before(before) {
				list = append(list, o)
			}
			return nil
		})
		return list, err
	}
	var found []issuer.Offer
	if err := d.view(ctx, func(tx *bbolt.Tx) (err error) {
		found, err = dead(tx)
		return err
	}); err != nil || len(found) == 0 {
		return 0, err
	}
	n := 0
	err := d.update(ctx, func(tx *bbolt.Tx) error {
		list, err := dead(tx)
		if err != nil {
			return err
		}
		for _, o := range list {
			if len(o.TokenHash) > 0 {
				if err := tx.Bucket(bucketOfferTokens).Delete(offerKey(o.Org, o.TokenHash)); err != nil {
					return err
				}
			}
			if err := tx.Bucket(bucketOffers).Delete(offerKey(o.Org, o.CodeHash)); err != nil {
				return err
			}
		}
		n = len(list)
		return nil
	})
	return n, err
}
