package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/verifier/registry"
)

// The dedup registry's buckets (verifier/registry), one per noun:
//   - registry_domains: domain id → the domain as JSON, its key sealed;
//   - registry_tokens: one nested bucket per domain id, made with the
//     domain, in which a token's 16 bytes → its entry (registry_entry.go);
//   - registry_peer_lists: domain id, 0, peer, 0 → the number of rows of
//     the peer's list (so that an empty list is found too) and, after a
//     comma, when it was imported in Unix milliseconds; and domain id,
//     0, peer, 0, token, 0, programme, 0, month → the count, in decimal.
//
// Identifiers, tokens and months never hold a 0 byte (the registry checks
// them), so the keys of one peer's list share a prefix.
var (
	bucketRegistryDomains = []byte("registry_domains")
	bucketRegistryTokens  = []byte("registry_tokens")
	bucketRegistryPeers   = []byte("registry_peer_lists")
)

// RegistryStore keeps the dedup registry in its own buckets of a bbolt
// database. It implements registry.DomainStore, registry.TokenStore and
// registry.PeerListStore.
type RegistryStore struct {
	db *bbolt.DB
}

var (
	_ registry.DomainStore   = (*RegistryStore)(nil)
	_ registry.TokenStore    = (*RegistryStore)(nil)
	_ registry.PeerListStore = (*RegistryStore)(nil)
)

// NewRegistryStore returns the registry store in db, creating its buckets.
func NewRegistryStore(db *bbolt.DB) (*RegistryStore, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketRegistryDomains, bucketRegistryTokens, bucketRegistryPeers} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("registry store: %w", err)
	}
	return &RegistryStore{db: db}, nil
}

// Stores returns the store as every store registry.New needs.
func (s *RegistryStore) Stores() registry.Stores {
	return registry.Stores{Domains: s, Tokens: s, Peers: s}
}

func (s *RegistryStore) view(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// CreateDomain stores a new domain.
func (s *RegistryStore) CreateDomain(ctx context.Context, d registry.Domain) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		if err := putNew(tx, bucketRegistryDomains, []byte(d.ID), d, fmt.Errorf("dedup domain %q: %w", d.ID, registry.ErrConflict)); err != nil {
			return err
		}
		_, err := tx.Bucket(bucketRegistryTokens).CreateBucketIfNotExists([]byte(d.ID))
		return err
	})
}

// Domain returns a domain.
func (s *RegistryStore) Domain(ctx context.Context, id string) (registry.Domain, error) {
	var d registry.Domain
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return get(tx, bucketRegistryDomains, []byte(id), &d, fmt.Errorf("dedup domain %q: %w", id, registry.ErrNotFound))
	})
	return d, err
}

// Domains returns every domain, by id.
func (s *RegistryStore) Domains(ctx context.Context) ([]registry.Domain, error) {
	var out []registry.Domain
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketRegistryDomains).ForEach(func(k, v []byte) error {
			var d registry.Domain
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("bucket %s: damaged record: %w", bucketRegistryDomains, err)
			}
			out = append(out, d)
			return nil
		})
	})
	return out, err
}

// tokensOf is a domain's bucket of tokens, or ErrNotFound.
func tokensOf(tx *bbolt.Tx, domain string) (*bbolt.Bucket, error) {
	b := tx.Bucket(bucketRegistryTokens).Bucket([]byte(domain))
	if b == nil || tx.Bucket(bucketRegistryDomains).Get([]byte(domain)) == nil {
		return nil, fmt.Errorf("dedup domain %q: %w", domain, registry.ErrNotFound)
	}
	return b, nil
}

// RecordScans counts scans of one domain in one transaction. A single scan
// goes through bbolt's Batch, so that scans arriving together from many
// service points share one commit (one disk sync); a batch of scans is its
// own transaction, in which the tokens are visited in key order (the
// scans of one token in the order given), so that bbolt inserts into each
// page once and in order.
func (s *RegistryStore) RecordScans(ctx context.Context, domain string, scans []registry.Scan) ([]registry.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keys := make([][]byte, len(scans))
	order := make([]int, len(scans))
	for i, sc := range scans {
		if sc.Domain != domain {
			return nil, fmt.Errorf("a scan of domain %q in a batch of domain %q", sc.Domain, domain)
		}
		k, err := tokenKeyOf(sc.Token)
		if err != nil {
			return nil, fmt.Errorf("scan %d: %w", i+1, err)
		}
		keys[i], order[i] = k, i
	}
	slices.SortStableFunc(order, func(a, b int) int { return bytes.Compare(keys[a], keys[b]) })
	var out []registry.Outcome
	fn := func(tx *bbolt.Tx) error {
		// Batch may run fn again alone after another fn of its batch
		// failed: start afresh each time.
		out = make([]registry.Outcome, len(scans))
		b, err := tokensOf(tx, domain)
		if err != nil {
			return err
		}
		for _, i := range order {
			var prev *registry.Entry
			if data := b.Get(keys[i]); data != nil {
				e, err := decodeEntry(scans[i].Token, data)
				if err != nil {
					return err
				}
				prev = &e
			}
			o := registry.Apply(prev, scans[i])
			if err := b.Put(keys[i], encodeEntry(&o.After)); err != nil {
				return err
			}
			out[i] = o
		}
		return nil
	}
	var err error
	if len(scans) == 1 {
		err = s.db.Batch(fn)
	} else {
		err = s.db.Update(fn)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Lookup returns a token's entry.
func (s *RegistryStore) Lookup(ctx context.Context, domain, token string) (registry.Entry, error) {
	key, err := tokenKeyOf(token)
	if err != nil {
		return registry.Entry{}, err
	}
	var e registry.Entry
	err = s.view(ctx, func(tx *bbolt.Tx) error {
		b, err := tokensOf(tx, domain)
		if err != nil {
			return err
		}
		data := b.Get(key)
		if data == nil {
			return registry.ErrNotFound
		}
		e, err = decodeEntry(token, data)
		return err
	})
	return e, err
}

// EachEntry calls fn with each of a domain's entries, by token, in one
// read transaction.
func (s *RegistryStore) EachEntry(ctx context.Context, domain string, fn func(registry.Entry) error) error {
	return s.view(ctx, func(tx *bbolt.Tx) error {
		b, err := tokensOf(tx, domain)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			e, err := decodeEntry(tokenOfKey(k), v)
			if err != nil {
				return err
			}
			return fn(e)
		})
	})
}

func peerPrefix(domain, peer string) []byte {
	k := make([]byte, 0, len(domain)+len(peer)+2)
	k = append(k, domain...)
	k = append(k, 0)
	k = append(k, peer...)
	return append(k, 0)
}

// ReplacePeerList deletes the peer's earlier list of the domain and
// stores l, in one transaction.
func (s *RegistryStore) ReplacePeerList(ctx context.Context, peer string, l registry.List, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	prefix := peerPrefix(l.Domain, peer)
	return s.db.Update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketRegistryDomains).Get([]byte(l.Domain)) == nil {
			return fmt.Errorf("dedup domain %q: %w", l.Domain, registry.ErrNotFound)
		}
		b := tx.Bucket(bucketRegistryPeers)
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		// Rows arrive mostly in key order (by token): bbolt fills pages
		// fuller then.
		b.FillPercent = 0.9
		head := strconv.AppendInt(nil, int64(len(l.Rows)), 10)
		head = strconv.AppendInt(append(head, ','), at.UnixMilli(), 10)
		if err := b.Put(prefix, head); err != nil {
			return err
		}
		for _, r := range l.Rows {
			key := make([]byte, 0, len(prefix)+len(r.Token)+len(r.Programme)+len(r.Month)+2)
			key = append(key, prefix...)
			key = append(key, r.Token...)
			key = append(key, 0)
			key = append(key, r.Programme...)
			key = append(key, 0)
			key = append(key, r.Month...)
			if err := b.Put(key, strconv.AppendInt(nil, int64(r.Count), 10)); err != nil {
				return err
			}
		}
		return nil
	})
}

// PeerList returns a peer's list of a domain, by token, programme and
// month.
func (s *RegistryStore) PeerList(ctx context.Context, domain, peer string) (registry.List, error) {
	prefix := peerPrefix(domain, peer)
	l := registry.List{Domain: domain}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketRegistryPeers).Cursor()
		k, _ := c.Seek(prefix)
		if !bytes.Equal(k, prefix) {
			return fmt.Errorf("no list from %q in dedup domain %q: %w", peer, domain, registry.ErrNotFound)
		}
		for k, v := c.Next(); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			parts := bytes.Split(k[len(prefix):], []byte{0})
			count, err := strconv.Atoi(string(v))
			if len(parts) != 3 || err != nil {
				return fmt.Errorf("bucket %s: damaged record", bucketRegistryPeers)
			}
			l.Rows = append(l.Rows, registry.ListRow{Token: string(parts[0]), Programme: string(parts[1]), Month: registry.Month(parts[2]), Count: count})
		}
		return nil
	})
	if err != nil {
		return registry.List{}, err
	}
	return l, nil
}

// CountTokens returns the number of a domain's tokens. bbolt counts them
// by walking the bucket's pages: a few milliseconds for a million tokens.
func (s *RegistryStore) CountTokens(ctx context.Context, domain string) (int, error) {
	n := 0
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b, err := tokensOf(tx, domain)
		if err != nil {
			return err
		}
		n = b.Stats().KeyN
		return nil
	})
	return n, err
}

// PeerLists describes every peer's list of a domain, by peer: it reads
// each list's first key and seeks past its rows.
func (s *RegistryStore) PeerLists(ctx context.Context, domain string) ([]registry.PeerListInfo, error) {
	var out []registry.PeerListInfo
	prefix := append([]byte(domain), 0)
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketRegistryDomains).Get([]byte(domain)) == nil {
			return fmt.Errorf("dedup domain %q: %w", domain, registry.ErrNotFound)
		}
		c := tx.Bucket(bucketRegistryPeers).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); {
			rest := k[len(prefix):]
			end := bytes.IndexByte(rest, 0)
			if end != len(rest)-1 {
				return fmt.Errorf("bucket %s: damaged record", bucketRegistryPeers)
			}
			info := registry.PeerListInfo{Peer: string(rest[:end])}
			rows, imported, _ := bytes.Cut(v, []byte(","))
			var err error
			if info.Rows, err = strconv.Atoi(string(rows)); err != nil {
				return fmt.Errorf("bucket %s: damaged record", bucketRegistryPeers)
			}
			if ms, err := strconv.ParseInt(string(imported), 10, 64); err == nil {
				info.Imported = time.UnixMilli(ms).UTC()
			}
			out = append(out, info)
			// The peer's rows follow its first key; 1 sorts after 0.
			next := append(append([]byte(nil), k[:len(k)-1]...), 1)
			k, v = c.Seek(next)
		}
		return nil
	})
	return out, err
}
