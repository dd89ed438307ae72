package cli

import (
	"context"
	"log/slog"

	"github.com/tally-id/tally/internal/oid4vp"
)

// sweepPresentations deletes the OpenID4VP requests and their outcomes
// (the claims shown to staff) 30 minutes after they expire, in the
// background until Close (review of issue 7: they were deleted only when a
// new request was made).
func (m *Main) sweepPresentations(st oid4vp.Store, log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	m.stopVPSweep, m.vpSweepDone = cancel, make(chan struct{})
	go func() {
		defer close(m.vpSweepDone)
		oid4vp.RunSweeper(ctx, st, m.Now, oid4vp.SweepInterval, func(err error) {
			log.Error("presentation requests sweep", "error", err.Error())
		})
	}()
}
