package trustsync

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// FetchStatusList implements verifier.StatusFetcher for the verifiers the
// Service builds: the instance's own lists are read in-process, others
// fetched over the network (unless offline). A list fetched is checked by
// the current verifier and, if it is not older than the one kept, kept in
// the store, so that a restart without network still has it.
func (s *Service) FetchStatusList(ctx context.Context, url, mediaType string) ([]byte, time.Duration, error) {
	now := s.now().UTC()
	body, maxAge, err := s.fetchStatus(ctx, url, mediaType)
	if err != nil {
		s.statusFailed(ctx, url, now, err)
		return nil, 0, err
	}
	if err := s.keepStatus(ctx, url, mediaType, body, maxAge, now); err != nil {
		s.statusFailed(ctx, url, now, err)
	}
	return body, maxAge, nil
}

func (s *Service) fetchStatus(ctx context.Context, url, mediaType string) ([]byte, time.Duration, error) {
	if s.opts.LocalStatus != nil {
		body, maxAge, ok, err := s.opts.LocalStatus(ctx, url, mediaType)
		if ok {
			return body, maxAge, err
		}
	}
	if s.Offline() {
		return nil, 0, ErrOffline
	}
	return s.network.FetchStatusList(ctx, url, mediaType)
}

// statusMeta reads what a status list says of itself, unverified: its
// URL, issuer, when it was signed, until when it is valid, and its ttl.
func statusMeta(body []byte) (url, issuer string, signedAt, validUntil time.Time, ttl time.Duration, err error) {
	if credentials.IsTokenStatusList(body) {
		t, err := credentials.ParseTokenStatusList(body)
		if err != nil {
			return "", "", time.Time{}, time.Time{}, 0, err
		}
		l := t.List
		return l.URI, l.Issuer, l.Issued, l.Expires, l.TTL, nil
	}
	sl, err := credentials.ParseStatusList(body)
	if err != nil {
		return "", "", time.Time{}, time.Time{}, 0, err
	}
	l := sl.List
	at := l.Issued
	if at.IsZero() {
		at = l.ValidFrom
	}
	return l.URL, l.Issuer, at, l.ValidUntil, l.TTL, nil
}

// keepStatus checks a fetched list with the current verifier (which then
// holds it) and keeps it.
func (s *Service) keepStatus(ctx context.Context, url, mediaType string, body []byte, maxAge time.Duration, now time.Time) error {
	listURL, issuer, signedAt, validUntil, ttl, err := statusMeta(body)
	if err != nil {
		return fmt.Errorf("the list fetched is not a status list: %w", err)
	}
	if listURL != url {
		return fmt.Errorf("the list at %s says it is %s", url, listURL)
	}
	if v := s.cur.Load(); v != nil {
		if err := v.LoadStatusList(body); err != nil {
			if errors.Is(err, verifier.ErrOlderStatusList) {
				return err
			}
			return fmt.Errorf("the list fetched was refused: %w", err)
		}
	}
	if v := s.open.Load(); v != nil {
		_ = v.LoadStatusList(body) // checked as the current verifier did
	}
	lifetime := s.lifetime(maxAge, ttl)
	r := StatusRecord{
		URL: url, Issuer: issuer, MediaType: mediaType, Raw: body, SignedAt: signedAt.UTC(), FetchedAt: now, MaxAge: maxAge,
		Lifetime: lifetime, ValidUntil: validUntil, TriedAt: now, NextFetch: now.Add(refreshAfter(lifetime)),
	}
	if s.opts.Stores != nil {
		if err := s.opts.Stores.Status.PutStatusList(ctx, r); err != nil {
			return err
		}
	}
	r.Raw = nil
	s.metaMu.Lock()
	s.status[url] = &r
	s.metaMu.Unlock()
	return nil
}

// lifetime is how long a list counts as fresh, as the verifier reckons it.
func (s *Service) lifetime(maxAge, ttl time.Duration) time.Duration {
	d := s.opts.Verifier.StatusTTL
	if d <= 0 {
		d = verifier.DefaultStatusTTL
	}
	switch {
	case maxAge > 0 && ttl > 0:
		d = min(maxAge, ttl)
	case maxAge > 0:
		d = maxAge
	case ttl > 0:
		d = ttl
	}
	return min(d, verifier.MaxStatusCacheLifetime)
}

// refreshAfter is when to fetch a list again: before it goes stale.
func refreshAfter(lifetime time.Duration) time.Duration {
	return max(lifetime*3/4, 10*time.Second)
}

// statusFailed records a failed fetch of a list kept, and puts the next
// attempt off with a growing backoff.
func (s *Service) statusFailed(ctx context.Context, url string, now time.Time, err error) {
	s.metaMu.Lock()
	r, ok := s.status[url]
	if !ok {
		s.metaMu.Unlock()
		return
	}
	if !errors.Is(err, verifier.ErrOlderStatusList) {
		r.Failures++
		r.LastError = err.Error()
		r.NextFetch = now.Add(backoff(r.Failures, 0))
	} else {
		r.NextFetch = now.Add(backoff(1, 0))
	}
	r.TriedAt = now
	rec := *r
	s.metaMu.Unlock()
	if s.opts.Stores != nil {
		// Raw nil: the store updates the bookkeeping only.
		_ = s.opts.Stores.Status.PutStatusList(ctx, rec)
	}
}

// Stale reports whether the list was signed longer ago than its
// lifetime at now: a newer one could not be had.
func (r StatusRecord) Stale(now time.Time) bool {
	return r.Lifetime > 0 && now.After(r.SignedAt.Add(r.Lifetime))
}

// StatusLists returns the status lists kept, without their bodies, by URL.
func (s *Service) StatusLists() []StatusRecord {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	out := make([]StatusRecord, 0, len(s.status))
	for _, r := range s.status {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URL < out[j].URL })
	return out
}
