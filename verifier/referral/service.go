package referral

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer/audit"
)

// Options configure a Service. The receiving side needs Store, Outbox,
// Signer and Resolve; the referring side Sent, SenderKeys and Issued.
type Options struct {
	Store  Store
	Outbox OutboxStore
	Sent   SentStore
	// Audit receives an entry for every change; none if nil.
	Audit Auditor
	// Signer returns an organisation's current signing key (by slug), for
	// the feedback it sends.
	Signer func(ctx context.Context, org string) (*credentials.Key, error)
	// Resolve returns the DID document of a referring organisation, where
	// its feedback endpoint is (NewResolver).
	Resolve func(ctx context.Context, did string) (*credentials.DIDDocument, error)
	// SenderKeys returns the public keys of a feedback's sender, by DID:
	// a trusted issuer or an organisation of this instance; an error
	// wrapping ErrNotFound for anyone else.
	SenderKeys func(ctx context.Context, did string) ([]*credentials.Key, error)
	// Issued returns the referral credential org issued with that id, or
	// an error wrapping ErrNotFound.
	Issued func(ctx context.Context, org, id string) (Issued, error)
	// Client posts the feedback; if nil, a client with a 10 s timeout
	// that follows no redirect.
	Client *http.Client
	// MinRetry and MaxRetry bound the backoff between delivery attempts:
	// it doubles from MinRetry (30 s) up to MaxRetry (1 h).
	MinRetry, MaxRetry time.Duration
	// InsecureLoopback lets feedback go to http:// endpoints of loopback
	// hosts: for tests only (ResolverOptions.InsecureLoopback).
	InsecureLoopback bool
	// Now is the clock; time.Now if nil. Rand draws feedback ids;
	// crypto/rand if nil.
	Now    func() time.Time
	Rand   io.Reader
	Logger *slog.Logger
}

// Service is both sides of referrals. It is safe for concurrent use.
type Service struct {
	opts Options
	kick chan struct{}
	// deliverMu serialises DeliverDue, so that no feedback is sent twice
	// at once.
	deliverMu sync.Mutex
}

// New returns a Service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil && opts.Sent == nil {
		return nil, errors.New("referral: a Store or a SentStore is required")
	}
	if opts.Store != nil && (opts.Outbox == nil || opts.Signer == nil || opts.Resolve == nil) {
		return nil, errors.New("referral: receiving referrals needs an Outbox, a Signer and Resolve")
	}
	if opts.Sent != nil && (opts.SenderKeys == nil || opts.Issued == nil) {
		return nil, errors.New("referral: receiving feedback needs SenderKeys and Issued")
	}
	if opts.Client == nil {
		// Redirects are not followed: the endpoint is the one the DID
		// document names, over https, and nowhere else.
		opts.Client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: noRedirects}
	}
	if opts.MinRetry <= 0 {
		opts.MinRetry = 30 * time.Second
	}
	if opts.MaxRetry < opts.MinRetry {
		opts.MaxRetry = max(time.Hour, opts.MinRetry)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{opts: opts, kick: make(chan struct{}, 1)}, nil
}

func (s *Service) now() time.Time { return s.opts.Now() }

// newID draws a feedback id: 128 random bits, base64url.
func (s *Service) newID() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(s.opts.Rand, b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// audit appends one entry naming the referral by its credential's id.
func (s *Service) audit(ctx context.Context, actor audit.Actor, org string, action audit.Action, id string) error {
	if s.opts.Audit == nil {
		return nil
	}
	// Written even if the request was cancelled meanwhile: the change it
	// records is stored, and a retry finds it done and writes no entry.
	_, err := s.opts.Audit.Append(context.WithoutCancel(ctx), audit.Entry{Actor: actor, Org: org, Action: action,
		Objects: []audit.Object{{Kind: audit.ObjectReferral, ID: id}}, Purpose: audit.PurposeReferral, Outcome: audit.OutcomeSuccess})
	return err
}

// noRedirects makes a client return a redirect as the answer.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
