package issuer

import (
	"context"

	"github.com/tally-id/tally/credentials"
)

// VerifierKey is the organisation's current signing key, opened once and
// kept, for the organisation acting as a verifier: it signs the OpenID4VP
// Request Objects its staff show to wallets, which find the key in the
// organisation's DID document by its id (Key.ID, a DID URL). The key
// must not leave the process: never log or store it.
func (s *Service) VerifierKey(ctx context.Context, org string) (*credentials.Key, error) {
	return s.signingKey(ctx, org)
}
