package issuer

import (
	"context"
	"sync/atomic"
)

// countingStatus is the status store that counts the changes of
// credentials' states (revoked, suspended, reinstated), so that a verifier
// on this instance reads its own status lists anew after one.
type countingStatus struct {
	StatusStore
	gen *atomic.Uint64
}

func (c countingStatus) SetCredentialState(ctx context.Context, org, id string, change func(CredentialRecord) (CredentialRecord, error)) (CredentialRecord, error) {
	rec, err := c.StatusStore.SetCredentialState(ctx, org, id, change)
	// Counted even on an error: a change may have been written.
	c.gen.Add(1)
	return rec, err
}

// StatusGeneration is a number that changes whenever the status of a
// credential of this instance changes: the verifier service on this
// instance compares it to read its own status lists anew (LocalStatusList)
// rather than from its cache.
func (s *Service) StatusGeneration() uint64 { return s.statusGen.Load() }
