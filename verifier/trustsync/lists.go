package trustsync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"time"

	"github.com/tally-id/tally/verifier"
)

// Bounds of a followed trust list's refresh interval, and its default.
const (
	DefaultInterval = time.Hour
	MinInterval     = time.Minute
	MaxInterval     = 7 * 24 * time.Hour
	// maxTrustListBody bounds a trust list fetched or uploaded: a
	// 1,000-issuer list is about 1 MB.
	maxTrustListBody = 16 << 20
)

// NewList is a trust list to follow: uploaded (Raw, signed by an anchor,
// or plain JSON for the organisation's own list), or fetched from URL
// every Interval (it must be signed).
type NewList struct {
	Raw      []byte
	URL      string
	Interval time.Duration
}

// ConfigListID is the id of the list given by --trust.
const ConfigListID = "config"

func sourceID(kind, key string) string {
	h := sha256.Sum256([]byte(kind + "\x00" + key))
	return hex.EncodeToString(h[:8])
}

// describe copies what t says into src.
func describe(src *ListSource, t *verifier.TrustList) {
	src.Name, src.Anchor, src.Issued, src.ValidUntil, src.Issuers = t.Name, t.Anchor(), t.Issued, t.ValidUntil, len(t.Issuers)
}

// loadConfigList takes the list given by --trust: it replaces the one
// kept from an earlier start, unless it is older than a signed list
// accepted from the same anchor (then the newer one stays, and the
// configured one is not used: its error says so).
func (s *Service) loadConfigList(ctx context.Context) error {
	keys, _, err := s.anchorKeys(ctx)
	if err != nil {
		return err
	}
	var state *verifier.TrustListState
	if s.opts.Stores != nil {
		if state, err = s.opts.Stores.Lists.TrustListState(ctx); err != nil {
			return err
		}
	}
	t, err := verifier.ParseTrustList(s.opts.ConfigList, verifier.TrustListOptions{Anchors: keys, AllowUnsigned: true, Now: s.opts.Verifier.Now, Seen: state})
	switch {
	case errors.Is(err, verifier.ErrOlderTrustList):
		// Keep the newer one; say why the file is not used.
		if s.opts.Stores == nil {
			return fmt.Errorf("--trust %s: %w", s.opts.ConfigListName, err)
		}
		return s.noteListError(ctx, ConfigListID, "the file "+s.opts.ConfigListName+" is not used: "+err.Error())
	case err != nil:
		return fmt.Errorf("--trust %s: %w", s.opts.ConfigListName, err)
	}
	if s.opts.Stores == nil {
		return errors.New("--trust needs a store")
	}
	now := s.now().UTC()
	src := ListSource{ID: ConfigListID, Raw: s.opts.ConfigList, AddedAt: now, FetchedAt: now, FromConfig: true}
	describe(&src, t)
	if state != nil {
		state.Accept(t)
	}
	return s.opts.Stores.Lists.PutTrustList(ctx, src, state)
}

// noteListError records why a list is not used or not fetched.
func (s *Service) noteListError(ctx context.Context, id, msg string) error {
	lists, err := s.opts.Stores.Lists.TrustLists(ctx)
	if err != nil {
		return err
	}
	for _, l := range lists {
		if l.ID == id {
			l.Raw, l.LastError = nil, msg
			return s.opts.Stores.Lists.PutTrustList(ctx, l, nil)
		}
	}
	// Not kept yet: keep its error, with no list.
	now := s.now().UTC()
	return s.opts.Stores.Lists.PutTrustList(ctx, ListSource{ID: id, Raw: []byte{}, AddedAt: now, TriedAt: now, LastError: msg, FromConfig: id == ConfigListID}, nil)
}

// AddList follows a trust list: an uploaded one at once, one at a URL
// once it was fetched and accepted. An upload of a list already followed
// (the same name and anchor) replaces it, unless it is older.
func (s *Service) AddList(ctx context.Context, in NewList) (ListSource, error) {
	if s.opts.Stores == nil {
		return ListSource{}, errors.New("this verifier keeps no trust lists")
	}
	now := s.now().UTC()
	if in.URL != "" && len(in.Raw) > 0 {
		return ListSource{}, &FieldError{Field: "url", Err: errors.New("give either a file or a URL, not both")}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var src ListSource
	if in.URL != "" {
		if err := checkListURL(in.URL); err != nil {
			return ListSource{}, &FieldError{Field: "url", Err: err}
		}
		switch {
		case in.Interval == 0:
			in.Interval = DefaultInterval
		case in.Interval < MinInterval || in.Interval > MaxInterval:
			return ListSource{}, &FieldError{Field: "interval", Err: fmt.Errorf("%v is not between %v and %v", in.Interval, MinInterval, MaxInterval)}
		}
		if s.Offline() {
			return ListSource{}, &FieldError{Field: "url", Err: ErrOffline}
		}
		src = ListSource{ID: sourceID("url", in.URL), URL: in.URL, Interval: in.Interval, AddedAt: now}
		if _, err := s.fetchList(ctx, &src, true, true); err != nil {
			return ListSource{}, &FieldError{Field: "url", Err: err}
		}
	} else {
		if len(in.Raw) == 0 {
			return ListSource{}, &FieldError{Field: "list", Err: errors.New("give the trust list file (signed, or plain JSON), or its URL")}
		}
		if len(in.Raw) > maxTrustListBody {
			return ListSource{}, &FieldError{Field: "list", Err: fmt.Errorf("the file is larger than %d MiB", maxTrustListBody>>20)}
		}
		t, state, err := s.parseNew(ctx, in.Raw, true)
		if err != nil {
			return ListSource{}, &FieldError{Field: "list", Err: err}
		}
		src = ListSource{ID: sourceID("upload", t.Anchor()+"\x00"+t.Name), Raw: in.Raw, AddedAt: now, FetchedAt: now}
		if src.ID == ConfigListID {
			src.ID += "-upload"
		}
		describe(&src, t)
		state.Accept(t)
		if err := s.opts.Stores.Lists.PutTrustList(ctx, src, state); err != nil {
			return ListSource{}, err
		}
	}
	src.Raw = nil
	return src, s.reload(ctx)
}

// parseNew reads a list offered now: signed by an anchor, not older than
// the newest accepted from it.
func (s *Service) parseNew(ctx context.Context, raw []byte, allowUnsigned bool) (*verifier.TrustList, *verifier.TrustListState, error) {
	keys, _, err := s.anchorKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	state, err := s.opts.Stores.Lists.TrustListState(ctx)
	if err != nil {
		return nil, nil, err
	}
	t, err := verifier.ParseTrustList(raw, verifier.TrustListOptions{Anchors: keys, AllowUnsigned: allowUnsigned, Now: s.opts.Verifier.Now, Seen: state})
	if err != nil {
		return nil, nil, err
	}
	if !t.ValidUntil.IsZero() && s.now().After(t.ValidUntil) {
		return nil, nil, fmt.Errorf("the list lapsed on %s: get a current one", t.ValidUntil.UTC().Format(time.RFC3339))
	}
	return t, state, nil
}

// RemoveList stops following a trust list: its issuers are no longer
// trusted (unless another list names them).
func (s *Service) RemoveList(ctx context.Context, id string) error {
	if s.opts.Stores == nil {
		return ErrNotFound
	}
	if id == ConfigListID {
		return ErrFromConfig
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.opts.Stores.Lists.DeleteTrustList(ctx, id); err != nil {
		return err
	}
	return s.reload(ctx)
}

// Lists returns the trust lists followed, without their bodies.
func (s *Service) Lists() []ListSource {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	return append([]ListSource(nil), s.sources...)
}

// checkListURL accepts https URLs, and plain http to this machine only.
func checkListURL(raw string) error {
	u, err := neturl.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" || len(raw) > 2000 {
		return fmt.Errorf("%q is not an https URL with a host", raw)
	}
	return verifier.CheckSecureScheme(u, "trust lists")
}

// fetchList fetches src's list (with its validators: an unchanged list
// costs a 304), accepts it if it is signed by an anchor and not older than
// the newest accepted, and stores src with what happened. With first set,
// a failure is returned and nothing is stored; otherwise the failure is
// recorded in src, and the next fetch is put off with a growing backoff.
// It reports whether the list changed (then the verifier must be rebuilt).
// The download happens without s.mu; with locked unset, fetchList takes
// s.mu for the rest.
func (s *Service) fetchList(ctx context.Context, src *ListSource, first, locked bool) (bool, error) {
	now := s.now().UTC()
	src.TriedAt = now
	body, hdr, err := s.download(ctx, src)
	if !locked {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	changed := false
	if err == nil && body != nil {
		changed, err = s.acceptList(ctx, src, body, hdr, now)
	}
	if err != nil {
		if first {
			return false, err
		}
		src.Failures++
		src.LastError = err.Error()
		src.NextFetch = now.Add(backoff(src.Failures, src.Interval))
		src.Raw = nil
		return false, s.opts.Stores.Lists.PutTrustList(ctx, *src, nil)
	}
	if changed {
		return true, nil
	}
	src.Failures, src.LastError = 0, ""
	src.FetchedAt = now
	src.NextFetch = now.Add(src.Interval)
	src.Raw = nil
	return false, s.opts.Stores.Lists.PutTrustList(ctx, *src, nil)
}

// download GETs src's list: its body, or nil if it has not changed.
func (s *Service) download(ctx context.Context, src *ListSource) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/jose, application/json")
	if src.ETag != "" {
		req.Header.Set("If-None-Match", src.ETag)
	}
	if src.LastModified != "" {
		req.Header.Set("If-Modified-Since", src.LastModified)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("could not reach %s: %v", src.URL, unwrapURLError(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && len(src.ETag+src.LastModified) > 0:
		return nil, resp.Header, nil
	case resp.StatusCode != http.StatusOK:
		return nil, nil, fmt.Errorf("%s answered %s", src.URL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTrustListBody+1))
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %v", src.URL, err)
	}
	if len(body) > maxTrustListBody {
		return nil, nil, fmt.Errorf("%s sent more than %d MiB", src.URL, maxTrustListBody>>20)
	}
	return body, resp.Header, nil
}

// acceptList checks a list downloaded and, if it is accepted, stores src
// with it and the state, and reports changed.
func (s *Service) acceptList(ctx context.Context, src *ListSource, body []byte, hdr http.Header, now time.Time) (bool, error) {
	t, state, err := s.parseNew(ctx, body, false)
	if err != nil {
		return false, err
	}
	describe(src, t)
	src.ETag, src.LastModified = hdr.Get("ETag"), hdr.Get("Last-Modified")
	src.Raw = body
	src.Failures, src.LastError, src.FetchedAt, src.NextFetch = 0, "", now, now.Add(src.Interval)
	state.Accept(t)
	if err := s.opts.Stores.Lists.PutTrustList(ctx, *src, state); err != nil {
		return false, err
	}
	return true, nil
}

func unwrapURLError(err error) error {
	var ue *neturl.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// backoff is how long to wait after the n-th failure in a row: 30 s,
// doubling, at most 30 minutes (and at most every, if it is shorter).
func backoff(n int, every time.Duration) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < 30*time.Minute; i++ {
		d *= 2
	}
	d = min(d, 30*time.Minute)
	if every > 0 {
		d = min(d, every)
	}
	return d
}
