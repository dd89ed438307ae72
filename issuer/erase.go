package issuer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tally-id/tally/issuer/audit"
)

// ErasureReason says why a registration's personal data was erased.
type ErasureReason string

// The reasons for an erasure.
const (
	// ErasedRetention: its programme's retention period ended.
	ErasedRetention ErasureReason = "retention"
	// ErasedRequest: the person asked to be forgotten, and a supervisor or
	// an administrator erased it.
	ErasedRequest ErasureReason = "request"
)

// Erasure records that a registration's personal data was erased: when,
// by whom (a staff member, a token, or "system:retention") and why.
// Audited is set once the erasure is in the audit log: a sweep finds an
// erasure that is not and records it, so that none goes unrecorded when
// the process is killed between the two.
type Erasure struct {
	At      time.Time     `json:"at"`
	By      string        `json:"by"`
	Reason  ErasureReason `json:"reason"`
	Audited bool          `json:"audited"`
}

// RetentionEnds returns when the personal data of a registration of the
// programme, last changed at last, is to be erased, and false when the
// programme keeps it until it is erased by hand (RetentionMonths 0, which
// programmes made before retention was required may have).
func (p Programme) RetentionEnds(last time.Time) (time.Time, bool) {
	if p.RetentionMonths <= 0 {
		return time.Time{}, false
	}
	return last.AddDate(0, p.RetentionMonths, 0), true
}

// EraseInput confirms an erasure by hand.
type EraseInput struct {
	// Confirm must be true: erasure cannot be undone.
	Confirm bool `json:"confirm"`
}

// EraseRegistration erases one registration's personal data at the
// person's request (their right to be forgotten): the sealed record and
// its blind index entries are deleted, in one step, and a tombstone with
// nothing personal stays (id, programme, dates, who erased it and why).
// The credentials issued from it keep their records and status entries;
// the erasure is audited. Erasing an erased registration changes nothing.
func (s *Service) EraseRegistration(ctx context.Context, by Principal, org, id string, in EraseInput) (Registration, error) {
	if !in.Confirm {
		return Registration{}, &InvalidError{Fields: []FieldError{{Field: "confirm", Code: "required",
			Message: "erasure cannot be undone: tick to confirm that the person asked for their data to be erased"}}}
	}
	sr, err := s.registrations.Registration(ctx, org, id)
	if err != nil {
		return Registration{}, err
	}
	if sr.Erasure == nil {
		if sr, err = s.erase(ctx, by, sr, ErasedRequest); err != nil {
			return Registration{}, err
		}
	}
	return s.openRecord(&keyring{current: &orgSecrets{}}, sr)
}

// erase replaces a registration by its tombstone, then audits the
// erasure and marks the tombstone audited. Each step is one transaction:
// a process killed between them leaves a tombstone not audited, which the
// next sweep audits.
func (s *Service) erase(ctx context.Context, by Principal, sr SealedRegistration, reason ErasureReason) (SealedRegistration, error) {
	now := s.now().UTC()
	tomb := SealedRegistration{
		ID: sr.ID, Org: sr.Org, Programme: sr.Programme, Created: sr.Created, CreatedBy: sr.CreatedBy,
		Updated: now, UpdatedBy: by.Ref(), Rev: sr.Rev + 1, Corrections: sr.Corrections,
		Erasure: &Erasure{At: now, By: by.Ref(), Reason: reason},
	}
	if err := s.registrations.UpdateRegistration(ctx, tomb); err != nil {
		return SealedRegistration{}, err
	}
	return s.auditErasure(ctx, by, tomb)
}

// auditErasure records a tombstone's erasure in the audit log (action
// erase; the registration's id and its programme's code; the purpose
// retention or erasure-request; nothing personal) and marks it audited.
func (s *Service) auditErasure(ctx context.Context, by Principal, tomb SealedRegistration) (SealedRegistration, error) {
	purpose := audit.PurposeRetention
	if tomb.Erasure.Reason == ErasedRequest {
		purpose = audit.PurposeErasureRequest
	}
	if err := s.record(ctx, audit.Entry{Actor: by.Actor(), Org: tomb.Org, Action: audit.ActionErase,
		Objects: []audit.Object{{Kind: audit.ObjectRegistration, ID: tomb.ID}, {Kind: audit.ObjectProgramme, ID: tomb.Programme}},
		Purpose: purpose}); err != nil {
		return SealedRegistration{}, fmt.Errorf("registration %s was erased, but %w", tomb.ID, err)
	}
	done := tomb
	e := *tomb.Erasure
	e.Audited = true
	done.Erasure, done.Rev = &e, tomb.Rev+1
	if err := s.registrations.UpdateRegistration(ctx, done); err != nil {
		return SealedRegistration{}, err
	}
	return done, nil
}

// retentionJob is the name the retention sweep acts under:
// "system:retention" in records, a system actor in the audit log.
const retentionJob = "retention"

// SweepItem is one registration a retention sweep erased, or would erase.
type SweepItem struct {
	Org          string    `json:"org"`
	Registration string    `json:"registration"`
	Programme    string    `json:"programme"`
	Due          time.Time `json:"due"`
}

// SweepReport is what a retention sweep did.
type SweepReport struct {
	// Checked counts the registrations looked at (tombstones included).
	Checked int `json:"checked"`
	// Erased are the registrations erased (or, in a dry run, that would
	// be).
	Erased []SweepItem `json:"erased"`
	// Audited counts earlier erasures this sweep found unaudited (the
	// process was killed) and audited.
	Audited int `json:"audited"`
	// Kept counts registrations whose programme keeps personal data until
	// it is erased by hand, or is gone.
	Kept   int  `json:"kept"`
	DryRun bool `json:"dryRun"`
}

// sweepPage is how many registrations a sweep reads at a time.
const sweepPage = 200

// RetentionSweep erases the personal data of every registration whose
// programme's retention period has ended: RetentionMonths after the
// registration last changed (was registered, corrected, or had a visit
// linked). Each erasure is its own transaction, audited as action erase
// for purpose retention, by "system:retention". A programme with no
// retention period keeps its registrations until they are erased by hand.
// With dryRun, it reports what it would erase and changes nothing.
func (s *Service) RetentionSweep(ctx context.Context, dryRun bool) (SweepReport, error) {
	rep := SweepReport{DryRun: dryRun, Erased: []SweepItem{}}
	orgs, err := s.orgs.Organisations(ctx)
	if err != nil {
		return rep, err
	}
	now := s.now().UTC()
	var errs []error
	for _, o := range orgs {
		progs, err := s.programmes.Programmes(ctx, o.Slug)
		if err != nil {
			return rep, err
		}
		byCode := make(map[string]Programme, len(progs))
		for _, p := range progs {
			byCode[p.Code] = p
		}
		after := ""
		for {
			page, err := s.registrations.ListRegistrations(ctx, o.Slug, after, sweepPage)
			if err != nil {
				return rep, err
			}
			for _, sr := range page {
				if err := ctx.Err(); err != nil {
					return rep, err
				}
				rep.Checked++
				if sr.Erasure != nil {
					if !sr.Erasure.Audited && !dryRun {
						by := Principal{Org: sr.Org, System: strings.TrimPrefix(sr.Erasure.By, "system:")}
						if !strings.HasPrefix(sr.Erasure.By, "system:") {
							by = principalOfRef(sr.Org, sr.Erasure.By)
						}
						if _, err := s.auditErasure(ctx, by, sr); err != nil {
							errs = append(errs, err)
							continue
						}
						rep.Audited++
					}
					continue
				}
				due, ok := byCode[sr.Programme].RetentionEnds(sr.Updated)
				if !ok {
					rep.Kept++
					continue
				}
				if now.Before(due) {
					continue
				}
				item := SweepItem{Org: sr.Org, Registration: sr.ID, Programme: sr.Programme, Due: due}
				if !dryRun {
					if _, err := s.erase(ctx, SystemPrincipal(retentionJob), sr, ErasedRetention); err != nil {
						// Changed since it was read (corrected, so no longer
						// due), or failing: the others go on.
						if !errors.Is(err, ErrConflict) {
							errs = append(errs, err)
						}
						continue
					}
				}
				rep.Erased = append(rep.Erased, item)
			}
			if len(page) < sweepPage {
				break
			}
			after = page[len(page)-1].ID
		}
	}
	return rep, errors.Join(errs...)
}

// principalOfRef is the principal a Ref names: a staff member's id, or
// "token:" and a token's id.
func principalOfRef(org, ref string) Principal {
	if id, ok := strings.CutPrefix(ref, "token:"); ok {
		return Principal{Org: org, TokenID: id}
	}
	return Principal{Org: org, StaffID: ref}
}
