package cli

import (
	"context"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/registry"
	"github.com/tally-id/tally/verifier/trustsync"
)

// verification wires the verifier service: the verifier built on the
// issuers this instance trusts, and the dedup registry. di verifies Data
// Integrity credentials (the VC API's); with --vc-api-open the verifier
// also accepts did:key issuers outside the trust list, with a warning, as
// the W3C conformance suites' issuers are.
func (m *Main) verification(ctx context.Context, svc *issuer.Service, master []byte, di verifier.FormatParser) (*trustsync.Service, *registry.Service, error) {
	st, err := bolt.NewRegistryStore(m.db.Bolt())
	if err != nil {
		return nil, nil, err
	}
	reg, err := registry.New(st.Stores(), registry.Options{MasterKey: master, ScryptN: m.scryptN, Now: m.Now})
	if err != nil {
		return nil, nil, err
	}
	trust, err := trustsync.New(ctx, trustsync.Options{
		Local:    svc.TrustedIssuers,
		Verifier: verifier.Options{Now: m.Now, Formats: []verifier.FormatParser{di}, TrustDIDKeyIssuers: m.Config.VCAPIOpen},
	})
	if err != nil {
		return nil, nil, err
	}
	return trust, reg, nil
}
