package trustsync

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/tally-id/tally/verifier"
)

// ErrNotFound is why a removal fails: no anchor or trust list has that id.
var ErrNotFound = errors.New("not found")

// Anchor is a trust anchor's public key: trust lists signed by it are
// accepted.
type Anchor struct {
	// ID is the key's RFC 7638 thumbprint, base64url.
	ID   string `json:"id"`
	Name string `json:"name"`
	// JWK is the public key.
	JWK     json.RawMessage `json:"jwk"`
	AddedAt time.Time       `json:"addedAt"`
	// FromConfig marks an anchor given by --trust-anchor: it is not stored,
	// and cannot be removed on a page.
	FromConfig bool `json:"-"`
}

// ListSource is a trust list the verifier follows: uploaded, fetched from
// a URL, or given by --trust. Raw is the last list accepted from it.
type ListSource struct {
	ID string `json:"id"`
	// URL is where the list is fetched from; "" for an uploaded list.
	URL string `json:"url,omitempty"`
	// Interval is how often a fetched list is fetched again.
	Interval time.Duration `json:"interval,omitempty"`
	// Raw is the list as accepted (signed JWS or plain JSON); the store
	// keeps it, the service reads it at each rebuild.
	Raw []byte `json:"raw,omitempty"`
	// Name, Anchor, Issued, ValidUntil and Issuers describe Raw.
	Name       string    `json:"name,omitempty"`
	Anchor     string    `json:"anchor,omitempty"`
	Issued     time.Time `json:"issued,omitzero"`
	ValidUntil time.Time `json:"validUntil,omitzero"`
	Issuers    int       `json:"issuers"`
	// ETag and LastModified are the validators of the last response.
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"lastModified,omitempty"`
	AddedAt      time.Time `json:"addedAt"`
	// FetchedAt is the last successful fetch (or the upload); TriedAt the
	// last attempt; NextFetch the next one.
	FetchedAt time.Time `json:"fetchedAt,omitzero"`
	TriedAt   time.Time `json:"triedAt,omitzero"`
	NextFetch time.Time `json:"nextFetch,omitzero"`
	// LastError says, in plain words, why the last fetch failed or the
	// list is not used; "" if it is fine.
	LastError string `json:"lastError,omitempty"`
	Failures  int    `json:"failures,omitempty"`
	// FromConfig marks the list given by --trust: read from its file at
	// each start, it cannot be removed on a page.
	FromConfig bool `json:"fromConfig,omitempty"`
}

// StatusRecord is a status list the verifier fetched: the signed list as
// served, and when and from where it came.
type StatusRecord struct {
	URL    string `json:"url"`
	Issuer string `json:"issuer"`
	// MediaType is what was asked for: a Bitstring Status List credential
	// (application/vc+jwt) or a Status List Token.
	MediaType string `json:"mediaType"`
	// Raw is the signed list (a VC-JWT or a Status List Token).
	Raw       []byte        `json:"raw,omitempty"`
	SignedAt  time.Time     `json:"signedAt"`
	FetchedAt time.Time     `json:"fetchedAt"`
	MaxAge    time.Duration `json:"maxAge"`
	// Lifetime is how long the list counts as fresh after it was signed
	// (the smaller of its ttl and MaxAge, at most a day): older, it is
	// stale.
	Lifetime time.Duration `json:"lifetime,omitempty"`
	// ValidUntil is when the list lapses (zero: never).
	ValidUntil time.Time `json:"validUntil,omitzero"`
	TriedAt    time.Time `json:"triedAt,omitzero"`
	NextFetch  time.Time `json:"nextFetch,omitzero"`
	LastError  string    `json:"lastError,omitempty"`
	Failures   int       `json:"failures,omitempty"`
}

// AnchorStore keeps the trust anchors a consortium administrator added.
type AnchorStore interface {
	Anchors(ctx context.Context) ([]Anchor, error)
	PutAnchor(ctx context.Context, a Anchor) error
	// DeleteAnchor fails with ErrNotFound for an unknown id.
	DeleteAnchor(ctx context.Context, id string) error
}

// ListStore keeps the trust lists followed, and the state that refuses an
// older signed list (verifier.TrustListState).
type ListStore interface {
	// TrustLists returns every list, Raw included.
	TrustLists(ctx context.Context) ([]ListSource, error)
	// PutTrustList stores l and, if state is not nil, the state, in one
	// transaction. With l.Raw nil, the list kept is kept.
	PutTrustList(ctx context.Context, l ListSource, state *verifier.TrustListState) error
	// DeleteTrustList fails with ErrNotFound for an unknown id.
	DeleteTrustList(ctx context.Context, id string) error
	// TrustListState returns the state (an empty one at first).
	TrustListState(ctx context.Context) (*verifier.TrustListState, error)
}

// StatusStore keeps the status lists fetched.
type StatusStore interface {
	// StatusLists returns every record, Raw included.
	StatusLists(ctx context.Context) ([]StatusRecord, error)
	// PutStatusList stores r, unless the store holds a list at the same
	// URL signed later: then it fails with verifier.ErrOlderStatusList.
	// With r.Raw nil, it updates the bookkeeping (tries, errors, next
	// fetch) of the record kept, if any, and keeps its list.
	PutStatusList(ctx context.Context, r StatusRecord) error
}

// Stores are the stores a Service keeps its state in.
type Stores struct {
	Anchors AnchorStore
	Lists   ListStore
	Status  StatusStore
}
