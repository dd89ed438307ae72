package oid4vp

import (
	"context"
	"time"
)

// KeepAfterExpiry is how long a transaction and its outcome (the claims
// shown to staff, a name and a date of birth among them) are kept once the
// request can no longer be answered, for the staff page to show it.
const KeepAfterExpiry = 30 * time.Minute

// SweepInterval is how often RunSweeper deletes what is past
// KeepAfterExpiry.
const SweepInterval = 5 * time.Minute

// RunSweeper deletes, every interval until ctx ends (and once at start),
// the transactions that expired more than KeepAfterExpiry ago, so that an
// outcome's claims are not kept longer than that even when no new request
// is made. Errors go to failed.
func RunSweeper(ctx context.Context, st Store, now func() time.Time, interval time.Duration, failed func(error)) {
	if interval <= 0 {
		interval = SweepInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := st.DeletePresentationsBefore(ctx, now().Add(-KeepAfterExpiry)); err != nil && ctx.Err() == nil && failed != nil {
			failed(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
