package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier/referral"
)

// The referrals' buckets (verifier/referral, issue 7):
//   - referrals_received: org, 0, referral credential id → the referral
//     as the receiving organisation keeps it;
//   - referral_outbox: feedback id → the feedback waiting for delivery;
//   - referrals_sent: org, 0, referral credential id → what the referring
//     organisation heard of it.
var (
	bucketReferralsReceived = []byte("referrals_received")
	bucketReferralOutbox    = []byte("referral_outbox")
	bucketReferralsSent     = []byte("referrals_sent")
)

// ReferralStore keeps referrals in their own buckets of a bbolt database.
// It implements referral.Store, referral.OutboxStore and
// referral.SentStore.
type ReferralStore struct {
	db *bbolt.DB
}

var (
	_ referral.Store       = (*ReferralStore)(nil)
	_ referral.OutboxStore = (*ReferralStore)(nil)
	_ referral.SentStore   = (*ReferralStore)(nil)
)

// NewReferralStore returns the referral store in db, creating its buckets.
func NewReferralStore(db *bbolt.DB) (*ReferralStore, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketReferralsReceived, bucketReferralOutbox, bucketReferralsSent} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("referral store: %w", err)
	}
	return &ReferralStore{db: db}, nil
}

func referralKey(org, id string) []byte { return []byte(org + "\x00" + id) }

func notFoundReferral(id string) error {
	return fmt.Errorf("referral %s: %w", id, referral.ErrNotFound)
}

// AddReceived implements referral.Store.
func (s *ReferralStore) AddReceived(_ context.Context, r referral.Received) (referral.Received, bool, error) {
	created := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		k := referralKey(r.Org, r.ID)
		if data := tx.Bucket(bucketReferralsReceived).Get(k); data != nil {
			return json.Unmarshal(data, &r)
		}
		created = true
		return put(tx, bucketReferralsReceived, k, r)
	})
	return r, created, err
}

// Received implements referral.Store.
func (s *ReferralStore) Received(_ context.Context, org, id string) (referral.Received, error) {
	var r referral.Received
	err := s.db.View(func(tx *bbolt.Tx) error {
		return get(tx, bucketReferralsReceived, referralKey(org, id), &r, notFoundReferral(id))
	})
	return r, err
}

// ListReceived implements referral.Store.
func (s *ReferralStore) ListReceived(_ context.Context, org string) ([]referral.Received, error) {
	var out []referral.Received
	err := s.db.View(func(tx *bbolt.Tx) error {
		prefix := []byte(org + "\x00")
		c := tx.Bucket(bucketReferralsReceived).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r referral.Received
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("bucket %s: damaged record: %w", bucketReferralsReceived, err)
			}
			out = append(out, r)
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b referral.Received) int { return b.Received.Compare(a.Received) })
	return out, err
}

// ChangeReceived implements referral.Store.
func (s *ReferralStore) ChangeReceived(_ context.Context, org, id string, change func(referral.Received) (referral.Received, referral.Delivery, error)) (referral.Received, error) {
	var out referral.Received
	err := s.db.Update(func(tx *bbolt.Tx) error {
		var cur referral.Received
		k := referralKey(org, id)
		if err := get(tx, bucketReferralsReceived, k, &cur, notFoundReferral(id)); err != nil {
			return err
		}
		next, d, err := change(cur)
		if err != nil {
			return err
		}
		if next.ID != cur.ID || next.Org != cur.Org {
			return fmt.Errorf("referral %s: a change may not move it", id)
		}
		if err := put(tx, bucketReferralsReceived, k, next); err != nil {
			return err
		}
		if d.ID != "" {
			if err := putNew(tx, bucketReferralOutbox, []byte(d.ID), d, fmt.Errorf("feedback %s is queued already", d.ID)); err != nil {
				return err
			}
		}
		out = next
		return nil
	})
	return out, err
}

// Pending implements referral.OutboxStore.
func (s *ReferralStore) Pending(_ context.Context) ([]referral.Delivery, error) {
	var out []referral.Delivery
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketReferralOutbox).ForEach(func(_, v []byte) error {
			var d referral.Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("bucket %s: damaged record: %w", bucketReferralOutbox, err)
			}
			out = append(out, d)
			return nil
		})
	})
	slices.SortStableFunc(out, func(a, b referral.Delivery) int { return a.NextAt.Compare(b.NextAt) })
	return out, err
}

// Retry implements referral.OutboxStore.
func (s *ReferralStore) Retry(_ context.Context, d referral.Delivery) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketReferralOutbox).Get([]byte(d.ID)) == nil {
			return fmt.Errorf("feedback %s: %w", d.ID, referral.ErrNotFound)
		}
		return put(tx, bucketReferralOutbox, []byte(d.ID), d)
	})
}

// Delivered implements referral.OutboxStore.
func (s *ReferralStore) Delivered(_ context.Context, d referral.Delivery, at time.Time) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bucketReferralOutbox).Delete([]byte(d.ID)); err != nil {
			return err
		}
		k := referralKey(d.Org, d.Feedback.Referral)
		var r referral.Received
		if err := get(tx, bucketReferralsReceived, k, &r, notFoundReferral(d.Feedback.Referral)); err != nil {
			return err
		}
		for i := range r.Changes {
			if r.Changes[i].Feedback == d.ID {
				r.Changes[i].Delivered = at
			}
		}
		return put(tx, bucketReferralsReceived, k, r)
	})
}

// UpdateSent implements referral.SentStore.
func (s *ReferralStore) UpdateSent(_ context.Context, org, id string, change func(referral.SentState, bool) (referral.SentState, bool, error)) (referral.SentState, error) {
	var out referral.SentState
	err := s.db.Update(func(tx *bbolt.Tx) error {
		k := referralKey(org, id)
		var cur referral.SentState
		found := false
		if data := tx.Bucket(bucketReferralsSent).Get(k); data != nil {
			if err := json.Unmarshal(data, &cur); err != nil {
				return fmt.Errorf("bucket %s: damaged record: %w", bucketReferralsSent, err)
			}
			found = true
		}
		next, store, err := change(cur, found)
		if err != nil {
			return err
		}
		out = next
		if !store {
			return nil
		}
		return put(tx, bucketReferralsSent, k, next)
	})
	return out, err
}

// SentStates implements referral.SentStore.
func (s *ReferralStore) SentStates(_ context.Context, org string, ids []string) (map[string]referral.SentState, error) {
	out := map[string]referral.SentState{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		for _, id := range ids {
			data := tx.Bucket(bucketReferralsSent).Get(referralKey(org, id))
			if data == nil {
				continue
			}
			var st referral.SentState
			if err := json.Unmarshal(data, &st); err != nil {
				return fmt.Errorf("bucket %s: damaged record: %w", bucketReferralsSent, err)
			}
			out[id] = st
		}
		return nil
	})
	return out, err
}

// ListSent implements referral.SentStore: the organisation's referral
// credentials (from the status records), with what was heard of each.
func (s *ReferralStore) ListSent(_ context.Context, org string) ([]referral.Sent, error) {
	var out []referral.Sent
	err := s.db.View(func(tx *bbolt.Tx) error {
		creds := tx.Bucket(bucketCredentials)
		if creds == nil {
			return nil
		}
		prefix := []byte(org + "\x00")
		c := creds.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var rec issuer.CredentialRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("bucket %s: damaged record: %w", bucketCredentials, err)
			}
			if rec.Type != credentials.TypeReferral || rec.Referral == nil {
				continue
			}
			sent := referral.Sent{Issued: referral.Issued{ID: rec.ID, Org: rec.Org, ReferredTo: rec.Referral.ReferredTo,
				Service: rec.Referral.Service, Registration: rec.Registration, IssuedAt: rec.Issued}}
			if data := tx.Bucket(bucketReferralsSent).Get(referralKey(org, rec.ID)); data != nil {
				sent.Feedback = &referral.SentState{}
				if err := json.Unmarshal(data, sent.Feedback); err != nil {
					return fmt.Errorf("bucket %s: damaged record: %w", bucketReferralsSent, err)
				}
			}
			out = append(out, sent)
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b referral.Sent) int { return b.IssuedAt.Compare(a.IssuedAt) })
	return out, err
}
