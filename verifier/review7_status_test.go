package verifier_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// gateFetcher holds every fetch until release is closed, or its context
// ends.
type gateFetcher struct {
	next    verifier.StatusFetcher
	entered chan struct{}
	release chan struct{}
}

func (g *gateFetcher) FetchStatusList(ctx context.Context, url, mediaType string) ([]byte, time.Duration, error) {
	g.entered <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	return g.next.FetchStatusList(ctx, url, mediaType)
}

// A fetch merged for concurrent verifications is not the first caller's
// alone: when that caller gives up (a client that hangs up, on purpose or
// not), the others still get the list, and their credentials' status is
// checked.
func TestMergedFetchOutlivesFirstCaller(t *testing.T) {
	f := newFixture(t)
	raw := issue(t, credentials.FormatQR, sample(t, "registration", f.key, f.base), f.key)
	g := &gateFetcher{next: verifier.HTTPStatusFetcher{}, entered: make(chan struct{}, 16), release: make(chan struct{})}
	v := f.verifier(t, verifier.Options{Fetcher: g})
	first, hangUp := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = v.Verify(first, raw) })
	<-g.entered
	var res *verifier.Result
	var err error
	wg.Go(func() { res, err = v.Verify(context.Background(), raw) })
	time.Sleep(100 * time.Millisecond) // the second joins the first's fetch
	hangUp()
	time.Sleep(50 * time.Millisecond)
	close(g.release)
	wg.Wait()
	if err != nil || !res.Status.Checked {
		t.Fatalf("the second verification lost the list with the first caller: %v, status %+v", err, res.Status)
	}
}
