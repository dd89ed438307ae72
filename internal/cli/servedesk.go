package cli

// --- desk (issue 7)

import (
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/verifier/registry"
	"github.com/tally-id/tally/verifier/servicepoint"
	"github.com/tally-id/tally/verifier/trustsync"
)

// servicePoints wires the service points: scans checked with the current
// verifier and counted in the registry, the organisations' settings on
// bbolt.
func (m *Main) servicePoints(trust *trustsync.Service, reg *registry.Service) (*servicepoint.Service, error) {
	st, err := bolt.NewServicePointStore(m.db.Bolt())
	if err != nil {
		return nil, err
	}
	return servicepoint.New(trust, reg, st, servicepoint.Options{Now: m.Now, Rand: m.Rand})
}
