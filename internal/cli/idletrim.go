package cli

import (
	"context"
	"net"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// idleTrimAfter is how long the server must have been quiet before it
// gives the memory its last requests left free back to the system.
const idleTrimAfter = 15 * time.Second

// idleTrimmer gives free memory back to the system once the server has
// gone quiet after some work: Go keeps freed heap for reuse, and a
// verifier on a shared laptop or a small VM should not hold on to what a
// burst of scans took. One forced collection per quiet spell is its cost.
type idleTrimmer struct {
	busy atomic.Int64 // unix nanoseconds of the last connection activity; 0: trimmed since
}

// connState is http.Server.ConnState: any connection activity counts.
func (t *idleTrimmer) connState(net.Conn, http.ConnState) {
	t.busy.Store(time.Now().UnixNano())
}

// run trims when quiet, until ctx ends.
func (t *idleTrimmer) run(ctx context.Context) {
	tick := time.NewTicker(idleTrimAfter / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			last := t.busy.Load()
			if last != 0 && now.Sub(time.Unix(0, last)) >= idleTrimAfter && t.busy.CompareAndSwap(last, 0) {
				debug.FreeOSMemory()
			}
		}
	}
}
