package referral

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/tally-id/tally/issuer/audit"
)

// Issued is what the referring organisation knows of a referral
// credential it issued.
type Issued struct {
	ID  string `json:"id"`
	Org string `json:"org"`
	// ReferredTo is the DID of the organisation the person was referred to.
	ReferredTo string `json:"referredTo"`
	Service    string `json:"service"`
	// Registration is the internal id of the registration it was issued
	// from; IssuedAt when.
	Registration string    `json:"registration"`
	IssuedAt     time.Time `json:"issued"`
}

// SentState is what the referring organisation heard of one of its
// referrals: the latest state the receiving organisation sent.
type SentState struct {
	// Referral is the referral credential's id; Org the referring
	// organisation's slug; From the DID of the organisation that sent the
	// feedback (the one referred to).
	Referral string `json:"referral"`
	Org      string `json:"org"`
	From     string `json:"from"`
	State    State  `json:"state"`
	// Code is the decline's reason or the outcome.
	Code string `json:"code,omitempty"`
	// At is when the receiving organisation made the change (the
	// feedback's iat); Heard when this organisation received it.
	At    time.Time `json:"at"`
	Heard time.Time `json:"heard"`
	// Seen are the ids (jti) of the feedback received, so that a replay
	// is known; at most maxSeen, the newest.
	Seen []string `json:"seen"`
}

// maxSeen bounds SentState.Seen: a referral has three changes, each sent
// once (its retries carry the same id).
const maxSeen = 16

// Sent is an issued referral with what was heard of it: Feedback is nil
// until feedback arrives.
type Sent struct {
	Issued
	Feedback *SentState `json:"feedback,omitempty"`
}

// SentStore keeps the referring organisation's feedback.
type SentStore interface {
	// UpdateSent calls change with the stored state of one referral (and
	// whether there is one) and stores what it returns when it says so,
	// in one transaction.
	UpdateSent(ctx context.Context, org, referral string, change func(cur SentState, found bool) (SentState, bool, error)) (SentState, error)
	// SentStates returns the stored states of the referrals with these
	// ids (those with none are left out).
	SentStates(ctx context.Context, org string, ids []string) (map[string]SentState, error)
	// ListSent lists the referral credentials org issued with their
	// state, newest first.
	ListSent(ctx context.Context, org string) ([]Sent, error)
}

// maxFutureIAT is how far in the future a feedback's iat may be.
const maxFutureIAT = 5 * time.Minute

// ReceiveFeedback takes a feedback JWT sent to organisation org (whose DID
// is orgDID) and records the state it tells. It returns the referral's
// state and whether it changed: a replay (a feedback id seen already) or
// an older state changes nothing and is not an error.
func (s *Service) ReceiveFeedback(ctx context.Context, org, orgDID string, token []byte) (SentState, bool, error) {
	ft, err := ParseFeedback(token)
	if err != nil {
		return SentState{}, false, err
	}
	fb := ft.Claims
	if fb.Audience != orgDID {
		return SentState{}, false, refused("audience", "the feedback is addressed to another organisation (aud)")
	}
	keys, err := s.opts.SenderKeys(ctx, fb.Issuer)
	if errors.Is(err, ErrNotFound) {
		return SentState{}, false, refused("unknown_sender", "the sender (iss) is neither trusted nor an organisation of this instance")
	} else if err != nil {
		return SentState{}, false, err
	}
	if err := ft.Verify(keys); err != nil {
		return SentState{}, false, err
	}
	now := s.now().UTC()
	if fb.IssuedAtTime().After(now.Add(maxFutureIAT)) {
		return SentState{}, false, refused("malformed", "the feedback's iat is in the future")
	}
	iss, err := s.opts.Issued(ctx, org, fb.Referral)
	if errors.Is(err, ErrNotFound) {
		return SentState{}, false, refused("unknown_referral", "this organisation issued no referral with that id")
	} else if err != nil {
		return SentState{}, false, err
	}
	if iss.ReferredTo != fb.Issuer {
		return SentState{}, false, refused("not_referred_to_sender", "the referral was made to another organisation, not to the sender")
	}
	changed := false
	st, err := s.opts.Sent.UpdateSent(ctx, org, fb.Referral, func(cur SentState, found bool) (SentState, bool, error) {
		if found && (slices.Contains(cur.Seen, fb.ID) || cur.State.rank() >= fb.State.rank()) {
			return cur, false, nil
		}
		next := SentState{Referral: fb.Referral, Org: org, From: fb.Issuer, State: fb.State, Code: fb.Code(),
			At: fb.IssuedAtTime(), Heard: now, Seen: append(slices.Clone(cur.Seen), fb.ID)}
		if len(next.Seen) > maxSeen {
			next.Seen = next.Seen[len(next.Seen)-maxSeen:]
		}
		changed = true
		return next, true, nil
	})
	if err != nil {
		return SentState{}, false, err
	}
	if changed {
		if err := s.audit(ctx, audit.System("referral-feedback"), org, audit.ActionReferralFeedback, fb.Referral); err != nil {
			return SentState{}, false, err
		}
	}
	return st, changed, nil
}

// SentStates returns what was heard of the referrals with these ids.
func (s *Service) SentStates(ctx context.Context, org string, ids []string) (map[string]SentState, error) {
	return s.opts.Sent.SentStates(ctx, org, ids)
}

// ListSent lists the referrals org issued, newest first, with their state;
// of one state only when state is not empty ("" in the list: none heard).
func (s *Service) ListSent(ctx context.Context, org string) ([]Sent, error) {
	return s.opts.Sent.ListSent(ctx, org)
}
