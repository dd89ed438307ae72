package cli

import (
	"context"
	"log/slog"
	"strings"

	"github.com/tally-id/tally/internal/bolt"
	tallyhttp "github.com/tally-id/tally/internal/http"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
	"github.com/tally-id/tally/verifier/referral"
	"github.com/tally-id/tally/verifier/trustsync"
)

// referrals wires both sides of referrals (issue 7) on the database, and
// starts delivering their feedback outbox: what was pending when the
// server stopped goes first. Close stops it.
func (m *Main) referrals(svc *issuer.Service, trust *trustsync.Service, auditLog *audit.Log, log *slog.Logger) (*referral.Service, error) {
	st, err := bolt.NewReferralStore(m.db.Bolt())
	if err != nil {
		return nil, err
	}
	// A server on plain http (a trial on this machine) may send feedback
	// to its own loopback address; anything else goes over https.
	o := tallyhttp.ReferralOptions(svc, trust, strings.HasPrefix(m.baseURL, "http://"))
	o.Store, o.Outbox, o.Sent, o.Audit, o.Now, o.Rand, o.Logger = st, st, st, auditLog, m.Now, m.Rand, log
	refs, err := referral.New(o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.stopReferrals, m.referralsDone = cancel, make(chan struct{})
	go func() {
		defer close(m.referralsDone)
		refs.Run(ctx)
	}()
	return refs, nil
}
