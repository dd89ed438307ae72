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
// issuers this instance trusts, and the dedup registry.
func (m *Main) verification(ctx context.Context, svc *issuer.Service, master []byte) (*trustsync.Service, *registry.Service, error) {
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
		Verifier: verifier.Options{Now: m.Now},
	})
	if err != nil {
		return nil, nil, err
	}
	return trust, reg, nil
}
