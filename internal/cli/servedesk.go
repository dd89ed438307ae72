package cli

// --- desk (issue 7)

import (
	"context"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/registry"
	"github.com/tally-id/tally/verifier/servicepoint"
	"github.com/tally-id/tally/verifier/trustsync"
)

// servicePoints wires the service points: scans checked with the current
// verifier and counted in the registry, the organisations' settings on
// bbolt.
func (m *Main) servicePoints(ctx context.Context, svc *issuer.Service, trust *trustsync.Service, reg *registry.Service) (*servicepoint.Service, error) {
	st, err := bolt.NewServicePointStore(m.db.Bolt())
	if err != nil {
		return nil, err
	}
	if len(m.deskIssuers) > 0 {
		// Tests only: the instance's issuers and the extra ones.
		extra := m.deskIssuers
		trust, err = trustsync.New(ctx, trustsync.Options{
			Local: func(ctx context.Context) ([]*verifier.TrustedIssuer, error) {
				own, err := svc.TrustedIssuers(ctx)
				return append(own, extra...), err
			},
			Verifier: verifier.Options{Now: m.Now},
		})
		if err != nil {
			return nil, err
		}
	}
	return servicepoint.New(trust, reg, st, servicepoint.Options{Now: m.Now, Rand: m.Rand, Nonces: st})
}
