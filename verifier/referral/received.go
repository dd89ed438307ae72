package referral

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer/audit"
	"github.com/tally-id/tally/verifier"
)

// Received is what the receiving organisation keeps of a referral:
// nothing personal (the shared fields' values are shown when the
// credentials are presented, never stored).
type Received struct {
	// ID is the ReferralCredential's id.
	ID string `json:"id"`
	// Org is the receiving organisation's slug.
	Org string `json:"org"`
	// From is the referring organisation's DID; FromName its name as the
	// trust list gives it.
	From     string `json:"from"`
	FromName string `json:"fromName,omitempty"`
	Service  string `json:"service"`
	Urgency  string `json:"urgency,omitempty"`
	// Fields are the names of the fields the person consented to pass on.
	Fields []string `json:"fields,omitempty"`
	State  State    `json:"state"`
	// Code is the decline's reason, or the outcome, of the last change.
	Code       string    `json:"code,omitempty"`
	Received   time.Time `json:"received"`
	ReceivedBy string    `json:"receivedBy"`
	// Changes are the state changes after reception, oldest first.
	Changes []Change `json:"changes,omitempty"`
}

// Change is one state change of a received referral.
type Change struct {
	State State     `json:"state"`
	Code  string    `json:"code,omitempty"`
	At    time.Time `json:"at"`
	By    string    `json:"by"`
	// Feedback is the id (jti) of the feedback sent for it; Delivered is
	// when the referring organisation accepted it, zero until then.
	Feedback  string    `json:"feedback"`
	Delivered time.Time `json:"delivered,omitzero"`
}

// Updated is when the referral last changed.
func (r Received) Updated() time.Time {
	if n := len(r.Changes); n > 0 {
		return r.Changes[n-1].At
	}
	return r.Received
}

// Store keeps the referrals an organisation received, and the outbox of
// their feedback.
type Store interface {
	// AddReceived stores r, unless org has a referral of that id: then
	// it returns the stored one and false.
	AddReceived(ctx context.Context, r Received) (Received, bool, error)
	// Received returns one referral, or an error wrapping ErrNotFound.
	Received(ctx context.Context, org, id string) (Received, error)
	// ListReceived lists an organisation's referrals, newest first.
	ListReceived(ctx context.Context, org string) ([]Received, error)
	// ChangeReceived calls change with the stored referral and stores
	// what it returns with the delivery it queues, in one transaction.
	ChangeReceived(ctx context.Context, org, id string, change func(Received) (Received, Delivery, error)) (Received, error)
}

// Presented is a referral checked at the receiving organisation, with the
// person's registration credential: what the page shows.
type Presented struct {
	Record Received
	// Shared are the consented fields' values, in Record.Fields' order.
	Shared []SharedField
	// Warnings from the verifier, in plain words.
	Warnings []string
}

// SharedField is one consented field and its value.
type SharedField struct {
	Name  string
	Value string
}

// Check verifies a referral credential and the person's registration
// credential with v, for the organisation org whose DID is orgDID: both
// must verify, the referral must name orgDID as referredTo, and both must
// be about the same person. Nothing is stored.
func Check(ctx context.Context, v *verifier.Verifier, org, orgDID string, referral, registration []byte) (*Presented, error) {
	if len(referral) == 0 {
		return nil, invalid("referral", "required", "give the referral credential: scan it, paste it or upload a photo of it")
	}
	if len(registration) == 0 {
		return nil, invalid("registration", "required", "give the person's registration credential: scan their card, paste it or upload a photo of it")
	}
	ref, err := v.Verify(ctx, referral)
	if err != nil {
		return nil, unverified("referral", err)
	}
	var sub *credentials.Referral
	if ref.Credential != nil {
		sub, _ = ref.Credential.Subject.(*credentials.Referral)
	}
	if sub == nil {
		return nil, invalid("referral", "type", "this is not a referral credential: give the ReferralCredential")
	}
	if ref.Credential.ID == "" || len(ref.Credential.ID) > 256 {
		return nil, invalid("referral", "format", "the referral credential has no id, so it cannot be recorded")
	}
	if sub.ReferredTo != orgDID {
		return nil, invalid("referral", "not_for_us", "this referral is to another organisation, not to this one")
	}
	reg, err := v.Verify(ctx, registration)
	if err != nil {
		return nil, unverified("registration", err)
	}
	if reg.Credential == nil || reg.Credential.Type != credentials.TypeRegistration {
		return nil, invalid("registration", "type", "this is not a registration credential: give the person's registration card")
	}
	if !verifier.SamePerson(ref, reg) {
		return nil, invalid("registration", "not_same_person", "the referral and the registration credential are not about the same person")
	}
	p := &Presented{Record: Received{
		ID: ref.Credential.ID, Org: org, From: ref.Issuer, FromName: ref.IssuerName,
		Service: sub.Service, Urgency: sub.Urgency, State: StateReceived,
	}}
	// Only fields the consent names pass, whatever else the subject holds.
	if sub.Consent != nil {
		for _, f := range sub.Consent.Fields {
			if v, ok := sub.SharedFields[f]; ok && !slices.Contains(p.Record.Fields, f) {
				p.Record.Fields = append(p.Record.Fields, f)
				p.Shared = append(p.Shared, SharedField{Name: f, Value: v})
			}
		}
	}
	p.Warnings = append(append(p.Warnings, ref.Warnings...), reg.Warnings...)
	return p, nil
}

// unverified is the input error of a credential that did not verify: its
// reason, in the verifier's plain words, which never quote the subject.
func unverified(field string, err error) error {
	var ve *verifier.Error
	if errors.As(err, &ve) {
		return &InputError{Field: field, Code: "unverified", Message: "the " + field + " credential does not verify: " + ve.Reason.String()}
	}
	return fmt.Errorf("verify the %s credential: %w", field, err)
}

// Auditor appends to the audit log.
type Auditor interface {
	Append(ctx context.Context, e audit.Entry) (audit.Entry, error)
}

// Receive records a presented referral for staff member staffID (actor),
// once: a referral recorded already is returned as it stands, with false.
func (s *Service) Receive(ctx context.Context, actor audit.Actor, p *Presented) (Received, bool, error) {
	r := p.Record
	r.State, r.Code, r.Changes = StateReceived, "", nil
	r.Received, r.ReceivedBy = s.now().UTC(), actor.ID
	stored, created, err := s.opts.Store.AddReceived(ctx, r)
	if err != nil {
		return Received{}, false, err
	}
	// The id is the referring organisation's to choose, and anyone who
	// saw its card knows it: another organisation's referral of that id
	// is not this one, and its feedback must not go there.
	if !created && stored.From != r.From {
		return Received{}, false, invalid("referral", "id_taken", "a referral of this id from another organisation is recorded already: ask the referring organisation to issue it again")
	}
	if created {
		if err := s.audit(ctx, actor, r.Org, audit.ActionReferralReceive, r.ID); err != nil {
			return Received{}, false, err
		}
	}
	return stored, created, nil
}

// ChangeInput is a state change asked for: accepted; declined with a
// reason code; closed with an outcome code.
type ChangeInput struct {
	State State  `json:"state"`
	Code  string `json:"code,omitempty"`
}

// Change moves a received referral to a new state, and queues the
// feedback that tells the referring organisation. A repeated change (the
// same state and code) changes nothing.
func (s *Service) Change(ctx context.Context, actor audit.Actor, org, orgDID, id string, in ChangeInput) (Received, error) {
	switch {
	case in.State == "":
		return Received{}, invalid("state", "required", "choose accepted, declined or closed")
	case in.State != StateAccepted && in.State != StateDeclined && in.State != StateClosed:
		return Received{}, invalid("state", "unknown", "choose accepted, declined or closed")
	case in.State == StateDeclined && in.Code == "":
		return Received{}, invalid("code", "required", "give the reason for declining")
	case in.State == StateClosed && in.Code == "":
		return Received{}, invalid("code", "required", "give the outcome")
	case !codeFits(in.State, in.Code):
		return Received{}, invalid("code", "unknown", "choose one of the codes listed for "+string(in.State))
	}
	jti, err := s.newID()
	if err != nil {
		return Received{}, err
	}
	now := s.now().UTC()
	repeated := false
	out, err := s.opts.Store.ChangeReceived(ctx, org, id, func(r Received) (Received, Delivery, error) {
		if r.State == in.State && r.Code == in.Code {
			repeated = true
			return r, Delivery{}, nil
		}
		if !r.State.next(in.State) {
			return r, Delivery{}, fmt.Errorf("the referral is %s and cannot become %s: %w", r.State, in.State, ErrState)
		}
		r.State, r.Code = in.State, in.Code
		if !credentials.IsDID(r.From) {
			// An issuer named by an https URI publishes no DID document,
			// so no feedback endpoint: the change is recorded only.
			r.Changes = append(r.Changes, Change{State: in.State, Code: in.Code, At: now, By: actor.ID})
			return r, Delivery{}, nil
		}
		r.Changes = append(r.Changes, Change{State: in.State, Code: in.Code, At: now, By: actor.ID, Feedback: jti})
		fb := Feedback{Issuer: orgDID, Audience: r.From, ID: jti, IssuedAt: now.Unix(), Referral: r.ID, State: in.State}
		if in.State == StateClosed {
			fb.Outcome = in.Code
		} else {
			fb.Reason = in.Code
		}
		return r, Delivery{ID: jti, Org: org, Feedback: fb, NextAt: now, Created: now}, nil
	})
	if err != nil {
		return Received{}, err
	}
	if !repeated {
		action := map[State]audit.Action{StateAccepted: audit.ActionReferralAccept, StateDeclined: audit.ActionReferralDecline, StateClosed: audit.ActionReferralOutcome}[in.State]
		if err := s.audit(ctx, actor, org, action, id); err != nil {
			return Received{}, err
		}
		s.Kick()
	}
	return out, nil
}

// Received returns one referral an organisation received.
func (s *Service) Received(ctx context.Context, org, id string) (Received, error) {
	return s.opts.Store.Received(ctx, org, id)
}

// ListReceived lists the referrals an organisation received, newest
// first; of one state only when state is not empty.
func (s *Service) ListReceived(ctx context.Context, org string, state State) ([]Received, error) {
	all, err := s.opts.Store.ListReceived(ctx, org)
	if err != nil || state == "" {
		return all, err
	}
	return slices.DeleteFunc(all, func(r Received) bool { return r.State != state }), nil
}
