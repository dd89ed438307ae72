package verifier_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// gatedFetcher reads a revocation list at once, then holds the first such
// read back until released: a fetch under way while the status changes.
type gatedFetcher struct {
	entered, release chan struct{}
	once             sync.Once
}

func (g *gatedFetcher) FetchStatusList(ctx context.Context, url, mediaType string) ([]byte, time.Duration, error) {
	body, age, err := verifier.HTTPStatusFetcher{}.FetchStatusList(ctx, url, mediaType)
	if strings.Contains(url, "/revocation/") {
		first := false
		g.once.Do(func() { first = true })
		if first {
			close(g.entered)
			<-g.release
		}
	}
	return body, age, err
}

// TestExpireStatusListsDuringFetch: a verification that starts after
// ExpireStatusLists does not take the list of a fetch begun before it
// (read before the change), and that list is not kept as fresh either.
func TestExpireStatusListsDuringFetch(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	raw := issue(t, credentials.FormatQR, sample(t, "registration", f.key, f.base), f.key)
	g := &gatedFetcher{entered: make(chan struct{}), release: make(chan struct{})}
	v := f.verifier(t, verifier.Options{Fetcher: g})
	first := make(chan error, 1)
	go func() { _, err := v.Verify(ctx, raw); first <- err }()
	<-g.entered // the list is read, not revoked; its fetch is not over
	f.setStatus(t, credentials.PurposeRevocation, testIndex)
	v.ExpireStatusLists(f.base + "/")
	second := make(chan error, 1)
	go func() { _, err := v.Verify(ctx, raw); second <- err }()
	var err error
	select {
	case err = <-second:
	case <-time.After(300 * time.Millisecond):
		close(g.release)
		err = <-second
		t.Fatalf("the verification after the change waited for the fetch begun before it (then: %v)", err)
	}
	wantReason(t, err, verifier.Revoked)
	close(g.release)
	if err := <-first; err != nil {
		t.Fatalf("the verification begun before the change: %v", err)
	}
	// The list read before the change, stored last, is not fresh.
	_, err = v.Verify(ctx, raw)
	wantReason(t, err, verifier.Revoked)
}
