package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/registry"
	"github.com/tally-id/tally/verifier/trustsync"
)

// verification wires the verifier service: the verifier built on the
// issuers this instance trusts (its own organisations, the trust lists
// given by --trust and added by consortium administrators), the status
// lists it keeps, the refresher that keeps them current, and the dedup
// registry. di verifies Data Integrity credentials (the VC API's); with
// --vc-api-open the verifier also accepts did:key issuers outside the
// trust list, with a warning, as the W3C conformance suites' issuers are.
func (m *Main) verification(ctx context.Context, svc *issuer.Service, master []byte, di verifier.FormatParser, log *slog.Logger) (*trustsync.Service, *registry.Service, error) {
	st, err := bolt.NewRegistryStore(m.db.Bolt())
	if err != nil {
		return nil, nil, err
	}
	reg, err := registry.New(st.Stores(), registry.Options{MasterKey: master, ScryptN: m.scryptN, Now: m.Now})
	if err != nil {
		return nil, nil, err
	}
	// --- trust (issue 7) ---
	ts, err := bolt.NewTrustStore(m.db.Bolt())
	if err != nil {
		return nil, nil, err
	}
	opts := trustsync.Options{
		Local:       svc.TrustedIssuers,
		LocalStatus: svc.LocalStatusList,
		Stores:      ts.Stores(),
		Verifier: verifier.Options{Now: m.Now, Offline: m.Config.Offline, MaxStatusAge: m.Config.MaxStatusAge,
			Formats: []verifier.FormatParser{di}, TrustDIDKeyIssuers: m.Config.VCAPIOpen},
	}
	// A card revoked on this instance is refused here at once, not once
	// the status list cached before expires.
	opts.LocalStatusGeneration = svc.StatusGeneration
	for _, f := range m.Config.TrustAnchorFiles() {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("--trust-anchor: %w", err)
		}
		opts.Anchors = append(opts.Anchors, json.RawMessage(bytes.TrimSpace(data)))
	}
	if f := m.Config.Trust; f != "" {
		if opts.ConfigList, err = os.ReadFile(f); err != nil {
			return nil, nil, fmt.Errorf("--trust: %w", err)
		}
		opts.ConfigListName = f
	}
	trust, err := trustsync.New(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	for _, l := range trust.Lists() {
		if l.LastError != "" {
			log.Warn("a trust list is not in force", "list", l.Name, "id", l.ID, "error", l.LastError)
		}
	}
	runCtx, stop := context.WithCancel(context.Background())
	m.stopTrust, m.trustDone = stop, make(chan struct{})
	go func() {
		defer close(m.trustDone)
		trust.Run(runCtx)
	}()
	// --- end trust ---
	return trust, reg, nil
}
