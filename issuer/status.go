package issuer

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer/audit"
)

// StatusListTTL is how long a verifier may cache an organisation's status
// lists before fetching them again: the list's ttl and the HTTP max-age.
const StatusListTTL = 5 * time.Minute

// StatusListValidity is how long a signed status list is valid: a device
// that cannot fetch keeps using its last list until then.
const StatusListValidity = 7 * 24 * time.Hour

// Revoke revokes a credential, for good. Revoking a revoked credential
// changes nothing and records nothing.
func (s *Service) Revoke(ctx context.Context, by Principal, org, id string) (CredentialRecord, error) {
	return s.changeState(ctx, by, org, id, StateRevoked, audit.ActionRevoke)
}

// Suspend suspends a credential until it is reinstated. A revoked
// credential cannot be suspended (ErrStateChange); suspending a suspended
// one changes nothing.
func (s *Service) Suspend(ctx context.Context, by Principal, org, id string) (CredentialRecord, error) {
	return s.changeState(ctx, by, org, id, StateSuspended, audit.ActionSuspend)
}

// Reinstate makes a suspended credential active again. A revoked
// credential cannot be reinstated (ErrStateChange); reinstating an active
// one changes nothing.
func (s *Service) Reinstate(ctx context.Context, by Principal, org, id string) (CredentialRecord, error) {
	return s.changeState(ctx, by, org, id, StateActive, audit.ActionReinstate)
}

// changeState moves a credential to state, in its record and its status
// bits, and audits the change. Moving it to the state it is in changes and
// records nothing, so that a request sent twice does no harm.
func (s *Service) changeState(ctx context.Context, by Principal, org, id string, state CredentialState, action audit.Action) (CredentialRecord, error) {
	if s.status == nil {
		return CredentialRecord{}, fmt.Errorf("credential %s: %w", id, ErrNotFound)
	}
	now := s.now().UTC()
	unchanged := false
	rec, err := s.status.SetCredentialState(ctx, org, id, func(r CredentialRecord) (CredentialRecord, error) {
		switch {
		case r.State == state:
			unchanged = true
			return r, nil
		case r.State == StateRevoked:
			return r, fmt.Errorf("credential %s is revoked, for good: %w", id, ErrStateChange)
		case state == StateSuspended && !r.HasStatusPurpose(credentials.PurposeSuspension):
			// A VC API credential issued without a suspension entry: no
			// verifier would see the bit.
			return r, fmt.Errorf("credential %s has no suspension entry: %w", id, ErrStateChange)
		}
		r.State, r.Changed, r.ChangedBy = state, now, by.Ref()
		return r, nil
	})
	if err != nil || unchanged {
		return rec, err
	}
	if s.onStatus != nil {
		s.onStatus(s.StatusBase(org) + "/")
	}
	// A credential issued through the VC API has no registration nor
	// programme, and an id of the caller's making.
	objects := []audit.Object{{Kind: audit.ObjectCredential, ID: s.AuditCredentialID(rec.ID)}}
	purpose := audit.PurposeVCAPI
	if rec.Registration != "" {
		objects = append(objects, audit.Object{Kind: audit.ObjectRegistration, ID: rec.Registration})
	}
	if rec.Programme != "" {
		purpose = audit.ProgrammePurpose(rec.Programme)
	}
	if err := s.record(ctx, audit.Entry{Actor: by.Actor(), Org: org, Action: action, Objects: objects, Purpose: purpose}); err != nil {
		return CredentialRecord{}, err
	}
	return rec, nil
}

// RevokeRegistration revokes every credential of a registration not
// revoked yet, as a correction asks (Options.OnCorrected): the corrected
// data is then issued anew. It returns the records it revoked.
func (s *Service) RevokeRegistration(ctx context.Context, by Principal, org, regID string) ([]CredentialRecord, error) {
	if s.status == nil {
		return nil, nil
	}
	recs, err := s.status.RegistrationCredentials(ctx, org, regID)
	if err != nil {
		return nil, err
	}
	var out []CredentialRecord
	for _, r := range recs {
		if r.State == StateRevoked {
			continue
		}
		r, err := s.Revoke(ctx, by, org, r.ID)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// OnCorrectedRevoke is an Options.OnCorrected hook: a corrected
// registration's credentials are revoked, so that only credentials with
// the corrected data remain valid once they are issued again.
func (s *Service) OnCorrectedRevoke(ctx context.Context, c Corrected) error {
	_, err := s.RevokeRegistration(ctx, c.By, c.Org, c.Registration)
	return err
}

// StatusListKind is which of an organisation's lists to serve.
type StatusListKind string

// The lists an organisation serves from one status record.
const (
	ListRevocation StatusListKind = credentials.PurposeRevocation
	ListSuspension StatusListKind = credentials.PurposeSuspension
	// ListToken is the IETF Token Status List of both.
	ListToken StatusListKind = "token"
)

// SignedList is a status list signed for serving.
type SignedList struct {
	// Body is the signed list: a VC-JWT (application/vc+jwt) or a Token
	// Status List JWT (application/statuslist+jwt).
	Body       []byte
	MediaType  string
	ValidUntil time.Time
	TTL        time.Duration
}

// StatusList signs list number n of an organisation, as it stands now.
// It fails with ErrNotFound for an unknown organisation, kind or list.
func (s *Service) StatusList(ctx context.Context, org string, kind StatusListKind, n int) (SignedList, error) {
	if s.status == nil || s.baseURL == "" || n < 0 {
		return SignedList{}, fmt.Errorf("status list %s/%d: %w", kind, n, ErrNotFound)
	}
	if kind != ListRevocation && kind != ListSuspension && kind != ListToken {
		return SignedList{}, fmt.Errorf("status list %s: %w", kind, ErrNotFound)
	}
	if _, err := s.orgs.Organisation(ctx, org); err != nil {
		return SignedList{}, err
	}
	bits, err := s.status.StatusBits(ctx, org, n)
	if err != nil {
		return SignedList{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	ck := listKey{org, kind, n}
	digest := sha256.Sum256(append(append([]byte(nil), bits.Revoked...), bits.Suspended...))
	if l, ok := s.signedLists.get(ck, digest, now); ok {
		return l, nil
	}
	return s.signedLists.sign(org, ck, digest, now, func() (SignedList, error) {
		return s.signStatusList(ctx, org, kind, n, bits, now)
	})
}

// signStatusList signs list n of kind from the record's bits, at now.
func (s *Service) signStatusList(ctx context.Context, org string, kind StatusListKind, n int, bits StatusBits, now time.Time) (SignedList, error) {
	key, err := s.signingKey(ctx, org)
	if err != nil {
		return SignedList{}, err
	}
	until := now.Add(StatusListValidity)
	base := s.StatusBase(org) + "/"
	list := func(purpose string, b []byte) (*credentials.StatusList, error) {
		l, err := credentials.NewStatusList(base+credentials.StatusListPath(purpose, n), key.DID, purpose, StatusListSize)
		if err != nil {
			return nil, err
		}
		copy(l.Bits, b)
		l.ValidFrom, l.ValidUntil, l.TTL = now, until, StatusListTTL
		return l, nil
	}
	out := SignedList{ValidUntil: until, TTL: StatusListTTL}
	switch kind {
	case ListRevocation, ListSuspension:
		b := bits.Revoked
		if kind == ListSuspension {
			b = bits.Suspended
		}
		l, err := list(string(kind), b)
		if err != nil {
			return SignedList{}, err
		}
		out.Body, err = credentials.IssueStatusList(l, key, now)
		out.MediaType = credentials.FormatJWT.MediaType()
		return out, err
	}
	rev, err := list(credentials.PurposeRevocation, bits.Revoked)
	if err != nil {
		return SignedList{}, err
	}
	sus, err := list(credentials.PurposeSuspension, bits.Suspended)
	if err != nil {
		return SignedList{}, err
	}
	t, err := credentials.TokenStatusListOf(base+credentials.TokenStatusListPath(n), rev, sus)
	if err != nil {
		return SignedList{}, err
	}
	t.Expires = until
	out.Body, err = credentials.IssueTokenStatusList(t, key, now)
	out.MediaType = credentials.TokenStatusListMediaType
	return out, err
}

// signedLists keeps each list as last signed, so that a public GET signs
// (and compresses) a list again only when its bits changed or half its
// cache lifetime has passed: the route costs a read and a hash, not a
// signature.
type signedLists struct {
	mu sync.Mutex
	m  map[listKey]signedList
	// gens counts each organisation's forgets: a list signed while its
	// key was rotated or declared compromised is not kept.
	gens map[string]uint64
}

type listKey struct {
	org  string
	kind StatusListKind
	n    int
}

type signedList struct {
	list     SignedList
	digest   [sha256.Size]byte
	signedAt time.Time
}

func (c *signedLists) get(k listKey, digest [sha256.Size]byte, now time.Time) (SignedList, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || e.digest != digest || now.Before(e.signedAt) || !now.Before(e.signedAt.Add(StatusListTTL/2)) {
		return SignedList{}, false
	}
	return e.list, true
}

// generation is how many times an organisation's lists were forgotten.
func (c *signedLists) generation(org string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gens[org]
}

// put keeps a list signed at now, unless the organisation's lists were
// forgotten since generation gen (its key changed meanwhile: the list may
// be signed by a key just declared compromised); it tells whether it did.
func (c *signedLists) put(k listKey, digest [sha256.Size]byte, now time.Time, l SignedList, gen uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens[k.org] != gen {
		return false
	}
	if c.m == nil {
		c.m = map[listKey]signedList{}
	}
	c.m[k] = signedList{list: l, digest: digest, signedAt: now}
	return true
}

// sign signs a list with sign and keeps it. When the organisation's key
// changed while it was signed, the list is signed again, once, with the
// key that is current now: a list signed by a key declared compromised
// meanwhile is neither served from the cache nor answered.
func (c *signedLists) sign(org string, k listKey, digest [sha256.Size]byte, now time.Time, sign func() (SignedList, error)) (SignedList, error) {
	for try := 0; ; try++ {
		gen := c.generation(org)
		out, err := sign()
		if err != nil {
			return SignedList{}, err
		}
		if c.put(k, digest, now, out, gen) || try > 0 {
			return out, nil
		}
	}
}
