package servicepoint

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/registry"
)

// Verifiers gives the current verifier (trustsync.Service does).
type Verifiers interface {
	Verifier() *verifier.Verifier
}

// Registry is the dedup registry the service records scans in
// (registry.Service).
type Registry interface {
	Key(ctx context.Context, domain string) (verifier.DedupKey, error)
	Record(ctx context.Context, scan registry.Scan) (registry.Outcome, error)
	AddDomain(ctx context.Context, in registry.NewDomain) (registry.Domain, error)
	Domains(ctx context.Context) ([]registry.Domain, error)
}

// Options tune a Service.
type Options struct {
	Now  func() time.Time
	Rand io.Reader
	// Nonces remembers the nonces of wallets' offline presentations
	// (offline.go); without it they are refused.
	Nonces NonceStore
}

// Service checks credentials at service points. It is safe for
// concurrent use.
type Service struct {
	verifiers Verifiers
	registry  Registry
	settings  SettingsStore
	opts      Options
}

// New returns the service.
func New(v Verifiers, reg Registry, settings SettingsStore, opts Options) (*Service, error) {
	if v == nil || reg == nil || settings == nil {
		return nil, errors.New("servicepoint: the verifiers, the registry and the settings store are needed")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	return &Service{verifiers: v, registry: reg, settings: settings, opts: opts}, nil
}

// Point is where and for what a credential is checked.
type Point struct {
	// Org is the verifying organisation's slug.
	Org string
	// ServicePoint names the place ("Kakuma distribution point 3").
	ServicePoint string
	// Programme is the programme code the person is served under; "" for
	// none.
	Programme string
	// Domain is the dedup domain the scan is recorded in.
	Domain string
}

// Check reports the first bad field of p.
func (p Point) Check() error {
	if p.Org == "" {
		return invalid("org", "required", "the organisation is missing")
	}
	if err := checkServicePoint("servicePoint", p.ServicePoint); err != nil {
		return err
	}
	if err := checkIdentifier("programme", p.Programme); err != nil {
		return err
	}
	if p.Domain == "" {
		return invalid("domain", "required", "the dedup domain is missing")
	}
	return checkIdentifier("domain", p.Domain)
}

// Settings returns an organisation's verification settings.
func (s *Service) Settings(ctx context.Context, org string) (Settings, error) {
	return s.settings.Settings(ctx, org)
}

// SaveSettings checks and stores a supervisor's change of the settings:
// the domain must exist and have the organisation as a member.
func (s *Service) SaveSettings(ctx context.Context, org string, in SettingsInput) (Settings, error) {
	points, err := cleanServicePoints(in.ServicePoints)
	if err != nil {
		return Settings{}, err
	}
	if err := checkIdentifier("domain", in.Domain); err != nil {
		return Settings{}, err
	}
	if in.Domain != "" {
		if err := s.memberOf(ctx, org, in.Domain); err != nil {
			return Settings{}, err
		}
	}
	var out Settings
	err = s.settings.UpdateSettings(ctx, org, func(st *Settings) error {
		if in.Domain != "" && in.Domain != st.Domain {
			st.Domain, st.OwnDomainMade = in.Domain, time.Time{}
		}
		st.ServicePoints = points
		st.Updated = s.opts.Now().UTC()
		out = *st
		return nil
	})
	return out, err
}

// Domains lists the dedup domains the organisation is a member of.
func (s *Service) Domains(ctx context.Context, org string) ([]registry.Domain, error) {
	all, err := s.registry.Domains(ctx)
	if err != nil {
		return nil, err
	}
	var out []registry.Domain
	for _, d := range all {
		if slices.Contains(d.Members, org) {
			d.Key = registry.SealedKey{}
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *Service) memberOf(ctx context.Context, org, domain string) error {
	ds, err := s.Domains(ctx, org)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d.ID == domain {
			return nil
		}
	}
	return invalid("domain", "unknown", "no dedup domain %s has this organisation as a member", domain)
}

// Point checks where a scan is made and resolves the organisation's dedup
// domain, making the organisation's own domain (id = its slug, a fresh
// key sealed in the registry) when none is set yet.
func (s *Service) Point(ctx context.Context, org, servicePoint, programme string) (Point, error) {
	p := Point{Org: org, ServicePoint: servicePoint, Programme: programme, Domain: "pending"}
	if err := p.Check(); err != nil {
		return Point{}, err
	}
	st, err := s.settings.Settings(ctx, org)
	if err != nil {
		return Point{}, err
	}
	if len(st.ServicePoints) > 0 && !slices.Contains(st.ServicePoints, servicePoint) {
		return Point{}, invalid("servicePoint", "unknown", "pick one of the organisation's service points")
	}
	p.Domain = st.Domain
	if p.Domain == "" {
		if p.Domain, err = s.ownDomain(ctx, org); err != nil {
			return Point{}, err
		}
	}
	return p, nil
}

// ownDomain makes the organisation's own domain, once, and sets it in its
// settings unless a domain was set meanwhile; it returns the domain set.
func (s *Service) ownDomain(ctx context.Context, org string) (string, error) {
	key, err := verifier.NewDedupKey(org, s.opts.Rand)
	if err != nil {
		return "", err
	}
	file, err := key.MarshalText()
	if err != nil {
		return "", err
	}
	_, err = s.registry.AddDomain(ctx, registry.NewDomain{ID: org, Name: org + " (own)", Kind: registry.KindOwn, Members: []string{org}, KeyFile: file})
	clear(file)
	clear(key.Secret[:])
	switch {
	case errors.Is(err, registry.ErrConflict):
		// Another scan made it first, or a domain of that id exists: it
		// will do only if it is this organisation's.
		if err := s.memberOf(ctx, org, org); err != nil {
			return "", fmt.Errorf("%w: a dedup domain %s exists that is not this organisation's; a supervisor must choose the domain in the settings", ErrNoDomain, org)
		}
	case err != nil:
		return "", err
	}
	var domain string
	err = s.settings.UpdateSettings(ctx, org, func(st *Settings) error {
		if st.Domain == "" {
			st.Domain, st.OwnDomainMade = org, s.opts.Now().UTC()
		}
		domain = st.Domain
		return nil
	})
	return domain, err
}

// Check verifies a credential shown at point p and, when it is valid and
// carries a dedup seed, records the person's token in p's domain. A
// credential refused by the verifier is an Answer with Verdict Invalid,
// not an error; errors are bad input (ErrInvalid) and failures of the
// registry. Neither raw nor the seed is kept.
func (s *Service) Check(ctx context.Context, raw []byte, p Point) (*Answer, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, invalid("credential", "required", "scan, upload or paste a credential")
	}
	if len(raw) > verifier.MaxCredentialSize {
		return nil, invalid("credential", "too_long", "a credential is at most %d KiB", verifier.MaxCredentialSize>>10)
	}
	v := s.verifiers.Verifier()
	if v == nil {
		return nil, errors.New("servicepoint: no verifier")
	}
	now := s.opts.Now().UTC()
	a := &Answer{CheckedAt: now, ServicePoint: p.ServicePoint, Programme: p.Programme}
	var res *verifier.Result
	var err error
	if sd, ok := offlineOf(raw); ok {
		res, err = s.verifyOffline(ctx, v, raw, sd, now)
	} else {
		res, err = v.Verify(ctx, raw)
	}
	var rejected *verifier.Error
	if errors.As(err, &rejected) {
		a.Verdict, a.Reason, a.ReasonCode, a.Detail = Invalid, rejected.Reason, rejected.Reason.Code(), rejected.Detail
		return a, nil
	}
	if err != nil {
		return nil, err
	}
	a.Format, a.Issuer, a.IssuerName = string(res.Format), res.Issuer, res.IssuerName
	a.Status, a.Warnings = freshnessOf(res.Status), res.Warnings
	if c := res.Credential; c != nil {
		a.Type, a.Types = string(c.Type), []string{string(c.Type)}
		a.ValidFrom, a.ValidUntil = c.ValidFrom, c.ValidUntil
		a.Person = personOf(c)
	} else if view := res.View(); view != nil {
		a.Types = view.Types
		if len(view.Types) > 0 {
			a.Type = view.Types[len(view.Types)-1]
		}
		a.ValidFrom, a.ValidUntil = view.ValidFrom, view.ValidUntil
		a.Claims = view.Claims
		a.Person = foreignPerson(view.Claims)
	}
	if err := s.dedup(ctx, res, p, now, a); err != nil {
		return nil, err
	}
	a.Verdict = Valid
	if len(a.Warnings) > 0 || a.Status.Stale || (a.Status.HasStatus && !a.Status.Checked) || (a.Dedup != nil && !a.Dedup.New) {
		a.Verdict = Warning
	}
	return a, nil
}

// dedup derives the person's token in p's domain and records the scan.
func (s *Service) dedup(ctx context.Context, res *verifier.Result, p Point, now time.Time, a *Answer) error {
	key, err := s.registry.Key(ctx, p.Domain)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoDomain, err)
	}
	token, err := res.DedupToken(key)
	if errors.Is(err, verifier.ErrNoDedupSeed) {
		a.NoDedup = true
		return nil
	}
	if err != nil {
		return err
	}
	out, err := s.registry.Record(ctx, registry.Scan{Domain: p.Domain, Token: token, ServicePoint: p.ServicePoint, Programme: p.Programme, At: now})
	if err != nil {
		return err
	}
	d := &Dedup{Domain: p.Domain, New: out.New}
	if !out.New {
		b := out.Before
		d.SeenBefore = b.Count
		d.FirstSeen, d.FirstServicePoint, d.FirstProgramme = b.FirstSeen, b.FirstAt, b.FirstProgramme
		d.LastSeen, d.LastServicePoint, d.LastProgramme = b.LastSeen, b.LastAt, b.LastProgramme
	}
	a.Dedup = d
	return nil
}
