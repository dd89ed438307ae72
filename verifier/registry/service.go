package registry

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/verifier"
)

// DomainStore keeps dedup domains, their keys sealed.
type DomainStore interface {
	// CreateDomain stores a new domain; ErrConflict if its id is taken.
	CreateDomain(ctx context.Context, d Domain) error
	// Domain returns a domain, or ErrNotFound.
	Domain(ctx context.Context, id string) (Domain, error)
	// Domains returns every domain, by id.
	Domains(ctx context.Context) ([]Domain, error)
}

// TokenStore keeps each domain's tokens.
type TokenStore interface {
	// RecordScans counts scans, all of one domain and in order, in one
	// transaction: for each it reads the token's entry, calls Apply and
	// writes Outcome.After. ErrNotFound if the domain does not exist.
	RecordScans(ctx context.Context, domain string, scans []Scan) ([]Outcome, error)
	// Lookup returns a token's entry, or ErrNotFound.
	Lookup(ctx context.Context, domain, token string) (Entry, error)
	// EachEntry calls fn with each of a domain's entries, by token.
	EachEntry(ctx context.Context, domain string, fn func(Entry) error) error
	// CountTokens returns the number of a domain's tokens, or ErrNotFound.
	CountTokens(ctx context.Context, domain string) (int, error)
}

// PeerListStore keeps the token lists other agencies of a domain sent.
type PeerListStore interface {
	// ReplacePeerList stores a peer's list in place of the one before, in
	// one transaction: all of it or, on error, nothing; at is when it was
	// imported.
	ReplacePeerList(ctx context.Context, peer string, l List, at time.Time) error
	// PeerList returns a peer's list in a domain, or ErrNotFound.
	PeerList(ctx context.Context, domain, peer string) (List, error)
	// PeerLists describes every peer's list of a domain, by peer.
	PeerLists(ctx context.Context, domain string) ([]PeerListInfo, error)
}

// Stores are the stores a Service needs.
type Stores struct {
	Domains DomainStore
	Tokens  TokenStore
	Peers   PeerListStore
}

// Options tune a Service.
type Options struct {
	// MasterKey seals and opens the domains' keys. Without it domains can
	// be neither added nor opened, but tokens can still be recorded,
	// exported and reconciled.
	MasterKey []byte
	// ScryptN is the scrypt cost keys are sealed at, and the least one may
	// be opened at; credentials.DefaultScryptN if zero. Only tests lower it.
	ScryptN int
	Now     func() time.Time
	Rand    io.Reader
}

// Service is the dedup registry of one instance.
type Service struct {
	stores Stores
	opts   Options

	mu   sync.Mutex
	open map[string]verifier.DedupKey
}

// New returns the registry on stores.
func New(stores Stores, opts Options) (*Service, error) {
	if stores.Domains == nil || stores.Tokens == nil || stores.Peers == nil {
		return nil, errors.New("registry: every store is needed")
	}
	if opts.ScryptN == 0 {
		opts.ScryptN = credentials.DefaultScryptN
	}
	if opts.ScryptN < credentials.LowestScryptN || opts.ScryptN > credentials.DefaultScryptN || opts.ScryptN&(opts.ScryptN-1) != 0 {
		return nil, fmt.Errorf("registry: scrypt cost %d must be a power of two from %d to %d", opts.ScryptN, credentials.LowestScryptN, credentials.DefaultScryptN)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	master := slices.Clone(opts.MasterKey)
	opts.MasterKey = master
	return &Service{stores: stores, opts: opts, open: map[string]verifier.DedupKey{}}, nil
}

// NewDomain is a domain to add: its key comes from a key file (64 hex
// digits, as tally dedup-key new writes it).
type NewDomain struct {
	ID      string
	Name    string
	Kind    string
	Members []string
	KeyFile []byte
}

var errNoMasterKey = errors.New("no master key to seal or open domain keys with")

// AddDomain checks a new domain, seals its key and stores it. The key is
// never returned, logged or put in an error.
func (s *Service) AddDomain(ctx context.Context, in NewDomain) (Domain, error) {
	if err := checkIdentifier(in.ID); err != nil {
		return Domain{}, invalid("id", "%v", err)
	}
	if err := checkLabel(in.Name, maxDomainName); err != nil {
		return Domain{}, invalid("name", "%v", err)
	}
	if in.Kind != KindOwn && in.Kind != KindConsortium {
		return Domain{}, invalid("kind", "a domain is %q (an agency's own key) or %q (a key shared by a consortium)", KindOwn, KindConsortium)
	}
	if len(in.Members) == 0 || len(in.Members) > maxMembers {
		return Domain{}, invalid("members", "name from 1 to %d member agencies", maxMembers)
	}
	seen := map[string]bool{}
	for _, m := range in.Members {
		if err := checkIdentifier(m); err != nil {
			return Domain{}, invalid("members", "member %q: %v", m, err)
		}
		if seen[m] {
			return Domain{}, invalid("members", "member %q is named twice", m)
		}
		seen[m] = true
	}
	if in.Kind == KindOwn && len(in.Members) != 1 {
		return Domain{}, invalid("members", "an agency's own domain has one member, the agency")
	}
	key, err := verifier.ParseDedupKey(in.ID, in.KeyFile)
	if err != nil {
		return Domain{}, invalid("key", "%v", err)
	}
	if len(s.opts.MasterKey) == 0 {
		return Domain{}, fmt.Errorf("%w: %w", ErrNoKey, errNoMasterKey)
	}
	sealed, err := sealKey(s.opts.MasterKey, key, s.opts.ScryptN, s.opts.Rand)
	if err != nil {
		return Domain{}, err
	}
	d := Domain{ID: in.ID, Name: in.Name, Kind: in.Kind, Members: slices.Clone(in.Members), Key: sealed, Created: s.opts.Now().UTC()}
	if err := s.stores.Domains.CreateDomain(ctx, d); err != nil {
		return Domain{}, err
	}
	return d, nil
}

// Domains returns every domain, by id.
func (s *Service) Domains(ctx context.Context) ([]Domain, error) {
	return s.stores.Domains.Domains(ctx)
}

// Key opens domain id's key, once per process, for a verifier to derive
// tokens with (verifier.Result.DedupToken).
func (s *Service) Key(ctx context.Context, id string) (verifier.DedupKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.open[id]; ok {
		return k, nil
	}
	if len(s.opts.MasterKey) == 0 {
		return verifier.DedupKey{}, fmt.Errorf("%w: %w", ErrNoKey, errNoMasterKey)
	}
	d, err := s.stores.Domains.Domain(ctx, id)
	if err != nil {
		return verifier.DedupKey{}, err
	}
	k, err := openKey(s.opts.MasterKey, d, s.opts.ScryptN)
	if err != nil {
		return verifier.DedupKey{}, err
	}
	s.open[id] = k
	return k, nil
}

// Record counts one scan and tells whether the token is new in its domain
// or was seen before (when, where, in which programme, how many times).
// Two scans of one token, however close, are never both new.
func (s *Service) Record(ctx context.Context, scan Scan) (Outcome, error) {
	if err := scan.Check(); err != nil {
		return Outcome{}, err
	}
	out, err := s.stores.Tokens.RecordScans(ctx, scan.Domain, []Scan{scan})
	if err != nil {
		return Outcome{}, err
	}
	return out[0], nil
}

// maxBatch bounds the scans of one RecordMany call (one transaction).
const maxBatch = 100_000

// RecordMany counts scans of one domain, in order, in one transaction: a
// device's scans synced after working offline. All are checked first;
// one bad scan records none.
func (s *Service) RecordMany(ctx context.Context, domain string, scans []Scan) ([]Outcome, error) {
	if len(scans) > maxBatch {
		return nil, invalid("scans", "send at most %d scans at once", maxBatch)
	}
	for i, sc := range scans {
		if sc.Domain != domain {
			return nil, invalid("domain", "scan %d is of domain %q, not %q", i+1, sc.Domain, domain)
		}
		if err := sc.Check(); err != nil {
			return nil, fmt.Errorf("scan %d: %w", i+1, err)
		}
	}
	if len(scans) == 0 {
		return nil, nil
	}
	return s.stores.Tokens.RecordScans(ctx, domain, scans)
}

// Lookup returns what the domain knows of a token, or ErrNotFound.
func (s *Service) Lookup(ctx context.Context, domain, token string) (Entry, error) {
	if err := checkIdentifier(domain); err != nil {
		return Entry{}, invalid("domain", "%v", err)
	}
	if err := CheckToken(token); err != nil {
		return Entry{}, invalid("token", "%v", err)
	}
	return s.stores.Tokens.Lookup(ctx, domain, token)
}

// Export returns the domain's own token list: one row per token,
// programme and month in which it was scanned.
func (s *Service) Export(ctx context.Context, domain string) (List, error) {
	if _, err := s.stores.Domains.Domain(ctx, domain); err != nil {
		return List{}, err
	}
	l := List{Domain: domain}
	err := s.stores.Tokens.EachEntry(ctx, domain, func(e Entry) error {
		l.Rows = append(l.Rows, e.rows()...)
		return nil
	})
	return l, err
}

// rows are an entry's list rows, by programme and month.
func (e Entry) rows() []ListRow {
	rows := make([]ListRow, 0, len(e.Periods))
	for _, p := range e.Periods {
		rows = append(rows, ListRow{Token: e.Token, Programme: p.Programme, Month: p.Month, Count: p.Count})
	}
	slices.SortFunc(rows, compareRows)
	return rows
}

// ImportPeerList stores another member's token list of a domain this
// instance knows, in place of the one it sent before: all of it, or
// nothing.
func (s *Service) ImportPeerList(ctx context.Context, peer string, l List) error {
	if err := checkIdentifier(peer); err != nil {
		return invalid("peer", "%v", err)
	}
	if err := l.Check(); err != nil {
		return err
	}
	d, err := s.stores.Domains.Domain(ctx, l.Domain)
	if err != nil {
		return err
	}
	// Only a member holds the key its tokens were derived with.
	if !slices.Contains(d.Members, peer) {
		return invalid("peer", "%s is not a member of domain %s (its members: %s): only a member's tokens can match", peer, d.ID, strings.Join(d.Members, ", "))
	}
	return s.stores.Peers.ReplacePeerList(ctx, peer, l, s.opts.Now().UTC())
}

// ReconcileWithPeer compares the domain's own list with a peer's list
// imported before.
func (s *Service) ReconcileWithPeer(ctx context.Context, domain, self, peer string) (*Report, error) {
	if err := checkIdentifier(peer); err != nil {
		return nil, invalid("peer", "%v", err)
	}
	own, err := s.Export(ctx, domain)
	if err != nil {
		return nil, err
	}
	theirs, err := s.stores.Peers.PeerList(ctx, domain, peer)
	if err != nil {
		return nil, err
	}
	return Reconcile(self, own, peer, theirs)
}
