package issuer

import (
	"context"
	"fmt"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// TrustedIssuers returns this instance's organisations as a verifier's
// trust list entries: each with the keys of its DID document (compromised
// keys left out), any credential type, and its status base. A verifier
// service on the same instance trusts them without a trust list
// (trustsync.LocalIssuers).
func (s *Service) TrustedIssuers(ctx context.Context) ([]*verifier.TrustedIssuer, error) {
	orgs, err := s.orgs.Organisations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*verifier.TrustedIssuer, 0, len(orgs))
	for _, org := range orgs {
		keys, err := s.PublicKeys(ctx, org.Slug)
		if err != nil {
			return nil, err
		}
		iss, err := verifier.NewTrustedIssuer(org.Name, []credentials.Type{credentials.TypeAny}, keys...)
		if err != nil {
			return nil, fmt.Errorf("organisation %s: %w", org.Slug, err)
		}
		iss.StatusBase = s.StatusBase(org.Slug)
		out = append(out, iss)
	}
	return out, nil
}
