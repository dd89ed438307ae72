package issuer

import (
	"context"
	"errors"
	"fmt"

	"github.com/tally-id/tally/issuer/audit"
)

// RotationReport is what a data key rotation did.
type RotationReport struct {
	// Version is the organisation's current data key version.
	Version int `json:"version"`
	// Started is true when this call made the new key; false when it went
	// on with a rotation left unfinished (the process was killed).
	Started bool `json:"started"`
	// Resealed counts the registrations sealed again under the new key.
	Resealed int `json:"resealed"`
	// Deleted are the versions of the older keys deleted, once no record
	// used them.
	Deleted []int `json:"deleted"`
	// Done is true when no older key is left.
	Done bool `json:"done"`
}

// rotateBatch is how many registrations one transaction seals again.
const rotateBatch = 100

// RotateDataKey rotates organisation org's data key: a new data key
// becomes the current one, every registration is sealed again under it
// and its blind index entries recomputed with its index key, in batches of
// one transaction each, and the older key is deleted once no record uses
// it. It is resumable: records carry the version of the key that sealed
// them, so a rotation killed half-way goes on where it stopped when it is
// called again (no new key is made while an older one is kept). While it
// runs, registrations are read, searched and checked for duplicates under
// both keys. The new key and the deletion of the old one are audited
// (action key-rotate, purpose security).
func (s *Service) RotateDataKey(ctx context.Context, by Principal, org string) (RotationReport, error) {
	var rep RotationReport
	if _, err := s.orgs.Organisation(ctx, org); err != nil {
		return rep, err
	}
	if _, err := s.keyring(ctx, org); err != nil {
		return rep, err
	}
	dks, err := s.dataKeys.DataKeys(ctx, org)
	if err != nil {
		return rep, err
	}
	cur := dks[len(dks)-1]
	if len(dks) == 1 {
		next, err := s.newDataKey(ctx, org, cur.Version+1)
		if err != nil {
			return rep, err
		}
		s.forgetKeys(org)
		rep.Started = true
		if err := s.recordKey(ctx, by, org, next.Version); err != nil {
			return rep, err
		}
		cur = next
	}
	rep.Version = cur.Version
	ring, err := s.keyring(ctx, org)
	if err != nil {
		return rep, err
	}
	if ring.current.version != cur.Version {
		s.forgetKeys(org)
		if ring, err = s.keyring(ctx, org); err != nil {
			return rep, err
		}
	}
	// A registration changed during a pass (sealed under the key a
	// registrar's process had open) is caught by the next.
	for pass := 0; pass < 3; pass++ {
		n, err := s.resealAll(ctx, ring, org)
		rep.Resealed += n
		if err != nil {
			return rep, err
		}
		if n == 0 {
			break
		}
	}
	rep.Done = true
	for _, k := range ring.older {
		err := s.dataKeys.DeleteDataKey(ctx, org, k.version)
		if isConflict(err) {
			rep.Done = false
			continue
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return rep, err
		}
		rep.Deleted = append(rep.Deleted, k.version)
		if err := s.recordKey(ctx, by, org, k.version); err != nil {
			return rep, err
		}
	}
	s.forgetKeys(org)
	return rep, nil
}

// resealAll seals again every registration of org not sealed under the
// current key, a batch per transaction, and returns how many it sealed.
func (s *Service) resealAll(ctx context.Context, ring *keyring, org string) (int, error) {
	n := 0
	after := ""
	for {
		page, err := s.registrations.ListRegistrations(ctx, org, after, rotateBatch)
		if err != nil {
			return n, err
		}
		var batch []SealedRegistration
		for _, sr := range page {
			if sr.Erasure != nil || sr.DataKey == ring.current.version {
				continue
			}
			next, err := s.reseal(ring, sr)
			if err != nil {
				return n, err
			}
			batch = append(batch, next)
		}
		if len(batch) > 0 {
			err := s.registrations.ReplaceRegistrations(ctx, batch)
			if isConflict(err) || errors.Is(err, ErrErased) {
				// One changed since it was read: the others one at a time,
				// and the changed one on the next pass.
				err = nil
				for _, r := range batch {
					switch e := s.registrations.UpdateRegistration(ctx, r); {
					case e == nil:
						n++
					case isConflict(e), errors.Is(e, ErrErased):
					default:
						err = e
					}
				}
			} else if err == nil {
				n += len(batch)
			}
			if err != nil {
				return n, err
			}
		}
		if len(page) < rotateBatch {
			return n, nil
		}
		after = page[len(page)-1].ID
	}
}

// reseal opens a registration and seals it again under the current data
// key, with its index entries under the current index key. Its revision
// moves on; when it last changed does not (retention counts from that).
func (s *Service) reseal(ring *keyring, sr SealedRegistration) (SealedRegistration, error) {
	reg, err := s.openRecord(ring, sr)
	if err != nil {
		return SealedRegistration{}, err
	}
	next := sr
	next.Rev = sr.Rev + 1
	next.Index = ring.current.indexKeys(reg.Person)
	if err := s.sealRecord(ring.current, reg, &next); err != nil {
		return SealedRegistration{}, err
	}
	return next, nil
}

func (s *Service) recordKey(ctx context.Context, by Principal, org string, version int) error {
	return s.record(ctx, audit.Entry{Actor: by.Actor(), Org: org, Action: audit.ActionKeyRotate,
		Objects: []audit.Object{{Kind: audit.ObjectKey, ID: fmt.Sprintf("data-key-%d", version)}}, Purpose: audit.PurposeSecurity})
}

// DataKeyVersions returns the versions of the data keys organisation org
// keeps, oldest first: the last is the current one; more than one means a
// rotation is unfinished.
func (s *Service) DataKeyVersions(ctx context.Context, org string) ([]int, error) {
	if _, err := s.keyring(ctx, org); err != nil {
		return nil, err
	}
	dks, err := s.dataKeys.DataKeys(ctx, org)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(dks))
	for i, k := range dks {
		out[i] = k.Version
	}
	return out, nil
}
