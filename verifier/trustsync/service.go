package trustsync

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tally-id/tally/verifier"
)

// LocalIssuers lists the issuers of this instance itself (its own
// organisations, with their current public keys and status bases): they are
// trusted without a trust list.
type LocalIssuers func(ctx context.Context) ([]*verifier.TrustedIssuer, error)

// Options configure a Service.
type Options struct {
	// Local lists the instance's own issuers; none if nil.
	Local LocalIssuers
	// Verifier is the template of the verifiers built: the clock, the
	// status fetcher, the offline switch, the status age policy and the
	// extra formats. Its Trust is ignored: the Service sets it.
	Verifier verifier.Options
}

// Service holds the current verifier. It is safe for concurrent use.
type Service struct {
	opts Options
	mu   sync.Mutex // serialises rebuilds
	cur  atomic.Pointer[verifier.Verifier]
	list atomic.Pointer[verifier.TrustList]
}

// New builds the first verifier.
func New(ctx context.Context, opts Options) (*Service, error) {
	s := &Service{opts: opts}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Verifier returns the current verifier. Callers keep it for one check
// only: a reload replaces it.
func (s *Service) Verifier() *verifier.Verifier { return s.cur.Load() }

// TrustList returns the trust list the current verifier uses.
func (s *Service) TrustList() *verifier.TrustList { return s.list.Load() }

// Reload rebuilds the verifier from the issuers trusted now (after an
// organisation was added or its keys changed).
func (s *Service) Reload(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := verifier.NewTrustList("this instance")
	if s.opts.Local != nil {
		local, err := s.opts.Local(ctx)
		if err != nil {
			return fmt.Errorf("list this instance's issuers: %w", err)
		}
		// Add indexes each issuer: appending to Issuers would leave the
		// list's index empty, and every credential untrusted.
		for _, iss := range local {
			if err := list.Add(iss); err != nil {
				return fmt.Errorf("trust this instance's issuer %s: %w", iss.Identifier(), err)
			}
		}
	}
	if len(list.Issuers) == 0 {
		return errors.New("no issuer is trusted: the verifier would refuse every credential")
	}
	o := s.opts.Verifier
	o.Trust = list
	v, err := verifier.New(o)
	if err != nil {
		return err
	}
	s.list.Store(list)
	s.cur.Store(v)
	return nil
}
