package trustsync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/tally-id/tally/verifier"
)

// maxSleep bounds how long Run sleeps between passes.
const maxSleep = time.Minute

// RefreshDue does one refresh pass: it fetches every followed trust list
// and every status list kept that is due (before it goes stale, or again
// after a failure, with backoff), and rebuilds the verifier if a trust list
// changed. Failures are recorded on the lists (LastError), not returned:
// the verifier goes on with what it has. It returns when the next pass is
// due.
func (s *Service) RefreshDue(ctx context.Context) time.Time {
	s.refreshing.Lock()
	defer s.refreshing.Unlock()
	now := s.now()
	changed := false
	if s.opts.Stores != nil && !s.Offline() {
		for _, src := range s.Lists() {
			if src.URL == "" || src.NextFetch.After(now) {
				continue
			}
			c, err := s.fetchList(ctx, &src, false, false)
			changed = changed || c
			_ = err // recorded on the list
			s.setSource(src)
		}
	}
	if changed || s.localChanged(ctx) {
		_ = s.Reload(ctx) // on failure the verifier in use stays
	}
	for _, r := range s.StatusLists() {
		if r.NextFetch.After(now) {
			continue
		}
		_, _, _ = s.FetchStatusList(ctx, r.URL, r.MediaType)
	}
	return s.nextDue()
}

// nextDue is when the next list is due, at most maxSleep from now.
func (s *Service) nextDue() time.Time {
	next := s.now().Add(maxSleep)
	for _, src := range s.Lists() {
		if src.URL != "" && !s.Offline() && src.NextFetch.Before(next) {
			next = src.NextFetch
		}
	}
	for _, r := range s.StatusLists() {
		if r.NextFetch.Before(next) {
			next = r.NextFetch
		}
	}
	return next
}

// RefreshNow makes every list due and does a refresh pass at once.
func (s *Service) RefreshNow(ctx context.Context) {
	s.metaMu.Lock()
	now := s.now()
	for i := range s.sources {
		s.sources[i].NextFetch = now
	}
	for _, r := range s.status {
		r.NextFetch = now
	}
	s.metaMu.Unlock()
	s.RefreshDue(ctx)
}

// Run refreshes in the background until ctx ends: each list is fetched
// again before it goes stale, and retried with backoff while the network
// is down, so that the verifier catches up when it returns.
func (s *Service) Run(ctx context.Context) {
	for {
		next := s.RefreshDue(ctx)
		wait := min(max(time.Until(next), time.Second), maxSleep)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// setSource updates the bookkeeping of a list followed.
func (s *Service) setSource(src ListSource) {
	src.Raw = nil
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	for i := range s.sources {
		if s.sources[i].ID == src.ID {
			s.sources[i] = src
		}
	}
}

// localSignature sums up the instance's own issuers: their identifiers,
// keys and status bases.
func localSignature(local []*verifier.TrustedIssuer) string {
	h := sha256.New()
	for _, iss := range local {
		fmt.Fprintf(h, "%s\x00%s\x00", iss.Identifier(), iss.StatusBase)
		for _, k := range iss.Keys {
			h.Write(k)
			h.Write([]byte{0})
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// localChanged reports whether the instance's own issuers changed since
// the last rebuild (an organisation added, a key rotated or withdrawn), so
// that the refresher rebuilds the verifier within a pass.
func (s *Service) localChanged(ctx context.Context) bool {
	if s.opts.Local == nil {
		return false
	}
	local, err := s.opts.Local(ctx)
	if err != nil {
		return false
	}
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	return localSignature(local) != s.localSig
}
