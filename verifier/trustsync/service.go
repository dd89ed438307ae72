package trustsync

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// LocalIssuers lists the issuers of this instance itself (its own
// organisations, with their current public keys and status bases): they are
// trusted without a trust list.
type LocalIssuers func(ctx context.Context) ([]*verifier.TrustedIssuer, error)

// LocalStatus reads one of this instance's own status lists in-process,
// without the network: ok is false for a URL that is not its own.
type LocalStatus func(ctx context.Context, url, mediaType string) (body []byte, maxAge time.Duration, ok bool, err error)

// ErrOffline is why a status list or trust list is not fetched: the
// verifier works offline, from its caches only.
var ErrOffline = errors.New("this verifier works offline (--offline): it fetches nothing, and uses what it has kept")

// Options configure a Service.
type Options struct {
	// Local lists the instance's own issuers; none if nil.
	Local LocalIssuers
	// LocalStatus reads the instance's own status lists in-process; every
	// list is fetched over the network if nil.
	LocalStatus LocalStatus
	// Verifier is the template of the verifiers built: the clock, the
	// network status fetcher (an HTTPStatusFetcher if nil), the offline
	// switch (then nothing is fetched from the network, and the instance's
	// own lists are still read in-process), the status age policy and the
	// extra formats. Its Trust is ignored: the Service sets it.
	Verifier verifier.Options
	// Stores keep anchors, trust lists and status lists across restarts;
	// with none, nothing is kept and nothing can be added.
	Stores *Stores
	// Anchors are trust anchors given by configuration (--trust-anchor):
	// public JWKs.
	Anchors []json.RawMessage
	// ConfigList is the trust list given by configuration (--trust), signed
	// or plain; ConfigListName says where it came from (its file).
	ConfigList     []byte
	ConfigListName string
	// HTTPClient fetches trust lists; a client with a 20 s timeout that
	// follows no redirect if nil.
	HTTPClient *http.Client
}

// Service holds the current verifier, keeps the trust lists and status
// lists it depends on, and refreshes them. It is safe for concurrent use.
type Service struct {
	opts    Options
	network verifier.StatusFetcher
	client  *http.Client

	mu   sync.Mutex // serialises rebuilds and changes
	cur  atomic.Pointer[verifier.Verifier]
	list atomic.Pointer[verifier.TrustList]

	// refreshing serialises refresh passes.
	refreshing sync.Mutex

	// meta is what the pages show, and when to fetch again; it holds no
	// list body (those are in the store).
	metaMu  sync.Mutex
	anchors []Anchor
	sources []ListSource
	status  map[string]*StatusRecord
	// localSig sums up the instance's own issuers the verifier was built
	// on (localSignature).
	localSig string

	wake chan struct{}
}

// New builds the first verifier: from the instance's own issuers, the
// trust lists kept in the stores and the one given by configuration, with
// the status lists kept preloaded.
func New(ctx context.Context, opts Options) (*Service, error) {
	s := &Service{opts: opts, status: map[string]*StatusRecord{}, wake: make(chan struct{}, 1)}
	if s.opts.Verifier.Now == nil {
		s.opts.Verifier.Now = time.Now
	}
	s.network = opts.Verifier.Fetcher
	if s.network == nil {
		s.network = verifier.HTTPStatusFetcher{}
	}
	s.client = opts.HTTPClient
	if s.client == nil {
		s.client = &http.Client{
			Timeout:       20 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	for i, raw := range opts.Anchors {
		a, err := parseAnchor(raw, "", s.now())
		if err != nil {
			return nil, fmt.Errorf("trust anchor %d: %w", i+1, err)
		}
		a.FromConfig = true
		a.Name = fmt.Sprintf("configuration (--trust-anchor %d)", i+1)
		s.anchors = append(s.anchors, a)
	}
	if opts.ConfigList != nil {
		if err := s.loadConfigList(ctx); err != nil {
			return nil, err
		}
	}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) now() time.Time { return s.opts.Verifier.Now() }

// Offline reports whether the verifier fetches nothing from the network.
func (s *Service) Offline() bool { return s.opts.Verifier.Offline }

// MaxStatusAge is the status age policy (0: accept with a warning).
func (s *Service) MaxStatusAge() time.Duration { return s.opts.Verifier.MaxStatusAge }

// Verifier returns the current verifier. Callers keep it for one check
// only: a reload replaces it.
func (s *Service) Verifier() *verifier.Verifier { return s.cur.Load() }

// StatusChanged tells the current verifier that a status list below
// prefix changed (a card of this instance revoked, suspended or
// reinstated): it reads the list afresh at its next check, rather than
// when its cached copy's lifetime ends.
func (s *Service) StatusChanged(prefix string) {
	if v := s.cur.Load(); v != nil {
		v.ExpireStatusLists(prefix)
	}
}

// TrustList returns the trust list the current verifier uses: the
// instance's own issuers and those of every trust list in force.
func (s *Service) TrustList() *verifier.TrustList { return s.list.Load() }

// anchorKeys are the public keys of every anchor, from the configuration
// and the store.
func (s *Service) anchorKeys(ctx context.Context) ([]crypto.PublicKey, []Anchor, error) {
	s.metaMu.Lock()
	all := slices.Clone(s.anchors)
	s.metaMu.Unlock()
	all = slices.DeleteFunc(all, func(a Anchor) bool { return !a.FromConfig })
	if s.opts.Stores != nil {
		stored, err := s.opts.Stores.Anchors.Anchors(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("read the trust anchors: %w", err)
		}
		all = append(all, stored...)
	}
	keys := make([]crypto.PublicKey, 0, len(all))
	for _, a := range all {
		pub, _, err := credentials.ParseJWK(a.JWK)
		if err != nil {
			return nil, nil, fmt.Errorf("trust anchor %s: %w", a.ID, err)
		}
		keys = append(keys, pub)
	}
	return keys, all, nil
}

// Reload rebuilds the verifier from the issuers trusted now (after an
// organisation was added or its keys changed, or a trust list or anchor
// changed), and swaps it in at once. A trust list that no anchor signs any
// more, or that fails to read, is left out (its LastError says why); the
// issuers of a list that has lapsed are trusted only until it lapsed. The
// status lists kept are loaded into the new verifier.
func (s *Service) Reload(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reload(ctx)
}

func (s *Service) reload(ctx context.Context) error {
	list := verifier.NewTrustList("this instance")
	localSig := ""
	if s.opts.Local != nil {
		local, err := s.opts.Local(ctx)
		if err != nil {
			return fmt.Errorf("list this instance's issuers: %w", err)
		}
		localSig = localSignature(local)
		for _, iss := range local {
			if err := list.Add(iss); err != nil {
				return fmt.Errorf("this instance's issuer %s: %w", iss.Identifier(), err)
			}
		}
	}
	keys, anchors, err := s.anchorKeys(ctx)
	if err != nil {
		return err
	}
	var sources []ListSource
	if s.opts.Stores != nil {
		if sources, err = s.opts.Stores.Lists.TrustLists(ctx); err != nil {
			return fmt.Errorf("read the trust lists: %w", err)
		}
	}
	for i := range sources {
		src := &sources[i]
		if len(src.Raw) == 0 {
			continue
		}
		t, err := verifier.ParseTrustList(src.Raw, verifier.TrustListOptions{Anchors: keys, AllowUnsigned: src.URL == "", Now: s.opts.Verifier.Now})
		if err != nil {
			src.LastError = "not in force: " + err.Error()
			continue
		}
		if err := addList(list, t); err != nil {
			src.LastError = "not in force: " + err.Error()
		}
		src.Raw = nil
	}
	for i := range sources {
		sources[i].Raw = nil
	}
	if len(list.Issuers) == 0 {
		return errors.New("no issuer is trusted: the verifier would refuse every credential")
	}
	o := s.opts.Verifier
	o.Trust = list
	o.Offline = false // s fetches: in-process always, from the network unless offline
	o.Fetcher = s
	v, err := verifier.New(o)
	if err != nil {
		return err
	}
	status := map[string]*StatusRecord{}
	if s.opts.Stores != nil {
		recs, err := s.opts.Stores.Status.StatusLists(ctx)
		if err != nil {
			return fmt.Errorf("read the status lists kept: %w", err)
		}
		for i := range recs {
			r := &recs[i]
			if err := v.LoadStatusList(r.Raw); err != nil && r.LastError == "" {
				r.LastError = "kept, but not used: " + err.Error()
			}
			r.Raw = nil
			status[r.URL] = r
		}
	}
	s.metaMu.Lock()
	s.anchors = anchors
	s.sources = sources
	s.status = status
	s.localSig = localSig
	s.metaMu.Unlock()
	s.list.Store(list)
	s.cur.Store(v)
	return nil
}

// addList adds the issuers of t to the combined list. Each issuer is
// trusted no longer than t is valid: once t lapses, its issuers are no
// longer trusted, and the verifier says until when they were.
func addList(combined, t *verifier.TrustList) error {
	for _, iss := range t.Issuers {
		if !t.ValidUntil.IsZero() && (iss.ValidUntil.IsZero() || iss.ValidUntil.After(t.ValidUntil)) {
			if !iss.ValidFrom.IsZero() && !t.ValidUntil.After(iss.ValidFrom) {
				continue // never trusted while the list is valid
			}
			iss.ValidUntil = t.ValidUntil
		}
		if err := combined.Add(iss); err != nil {
			return fmt.Errorf("%s: %w", iss.Identifier(), err)
		}
	}
	return nil
}
