package registry

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tally-id/tally/verifier"
)

// DomainInfo is a domain as its administrators see it: never its key,
// sealed or not.
type DomainInfo struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Kind    string    `json:"kind"`
	Members []string  `json:"members"`
	Created time.Time `json:"created"`
	// Tokens is the number of distinct tokens the domain's registry holds.
	Tokens int `json:"tokens"`
}

// PeerListInfo describes a peer's token list imported into a domain.
type PeerListInfo struct {
	Peer string `json:"peer"`
	// Rows is the number of rows of the list (token, programme, month).
	Rows int `json:"rows"`
	// Imported is when it was imported; zero for lists kept before
	// import times were.
	Imported time.Time `json:"imported"`
}

func (s *Service) info(ctx context.Context, d Domain) (DomainInfo, error) {
	n, err := s.stores.Tokens.CountTokens(ctx, d.ID)
	if err != nil {
		return DomainInfo{}, err
	}
	return DomainInfo{ID: d.ID, Name: d.Name, Kind: d.Kind, Members: slices.Clone(d.Members), Created: d.Created, Tokens: n}, nil
}

// DomainInfos returns every domain, by id, with its number of tokens.
func (s *Service) DomainInfos(ctx context.Context) ([]DomainInfo, error) {
	ds, err := s.stores.Domains.Domains(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DomainInfo, 0, len(ds))
	for _, d := range ds {
		in, err := s.info(ctx, d)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// DomainInfo returns one domain with its number of tokens; ErrNotFound
// also for an id that cannot be one.
func (s *Service) DomainInfo(ctx context.Context, id string) (DomainInfo, error) {
	if checkIdentifier(id) != nil {
		return DomainInfo{}, fmt.Errorf("dedup domain: %w", ErrNotFound)
	}
	d, err := s.stores.Domains.Domain(ctx, id)
	if err != nil {
		return DomainInfo{}, err
	}
	return s.info(ctx, d)
}

// PeerLists describes the peers' lists imported into a domain, by peer.
func (s *Service) PeerLists(ctx context.Context, domain string) ([]PeerListInfo, error) {
	if checkIdentifier(domain) != nil {
		return nil, fmt.Errorf("dedup domain: %w", ErrNotFound)
	}
	if _, err := s.stores.Domains.Domain(ctx, domain); err != nil {
		return nil, err
	}
	return s.stores.Peers.PeerLists(ctx, domain)
}

// AddDomainWithNewKey adds a domain with a key freshly drawn from the
// service's randomness, and returns the key file (64 hex digits and a line
// feed) for the caller to hand over once and then clear: after this call
// the key exists only sealed in the store. in.KeyFile must be empty.
func (s *Service) AddDomainWithNewKey(ctx context.Context, in NewDomain) (Domain, []byte, error) {
	if len(in.KeyFile) != 0 {
		return Domain{}, nil, invalid("key", "a new domain gets a fresh key: send no key file (or add the domain with the key file it has)")
	}
	k, err := verifier.NewDedupKey(in.ID, s.opts.Rand)
	if err != nil {
		return Domain{}, nil, err
	}
	file, _ := k.MarshalText()
	clear(k.Secret[:])
	in.KeyFile = file
	d, err := s.AddDomain(ctx, in)
	if err != nil {
		clear(file)
		return Domain{}, nil, err
	}
	return d, file, nil
}
