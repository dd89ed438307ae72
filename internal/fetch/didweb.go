package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tally-id/tally/credentials"
)

// MaxDIDDocument bounds a fetched DID document.
const MaxDIDDocument = 256 << 10

// The ways a did:web resolution fails; callers say them in their own
// words (an issuer's, a verifier's).
var (
	// ErrDIDInvalid: the DID is not a valid did:web.
	ErrDIDInvalid = errors.New("not a valid did:web")
	// ErrDIDUnreachable: the document could not be fetched (refused
	// address, network, a status other than 200, too large).
	ErrDIDUnreachable = errors.New("the DID document could not be fetched")
	// ErrDIDMismatch: what was fetched is not the DID's document (not
	// JSON, or its id is another DID).
	ErrDIDMismatch = errors.New("the document fetched is not the DID's")
)

// DIDWeb resolves did:web DIDs (W3C CCG did:web) through a Client: the
// documents of this instance's own organisations from Local, without a
// round trip, and every other over https (over http for a loopback host
// when the client allows loopback: make run, tests).
type DIDWeb struct {
	Client *Client
	// Local returns the DID document of one of this instance's
	// organisations; ok false for any other DID.
	Local func(ctx context.Context, did string) (doc *credentials.DIDDocument, ok bool, err error)
}

// Document returns the DID document of did.
func (r DIDWeb) Document(ctx context.Context, did string) (*credentials.DIDDocument, error) {
	if r.Local != nil {
		doc, ok, err := r.Local(ctx, did)
		if err != nil {
			return nil, err
		}
		if ok {
			return doc, nil
		}
	}
	u, err := credentials.DIDWebURL(did)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDIDInvalid, err)
	}
	if r.Client == nil {
		return nil, ErrDIDUnreachable
	}
	if r.Client.opts.AllowLoopback {
		if p, err := r.Client.CheckURL(u); err == nil && loopbackHost(p.Hostname()) {
			u = "http://" + strings.TrimPrefix(u, "https://")
		}
	}
	res, err := r.Client.Get(ctx, u, "application/did+json, application/json")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDIDUnreachable, err)
	}
	if res.Status != http.StatusOK {
		return nil, fmt.Errorf("%w: its server answered %d", ErrDIDUnreachable, res.Status)
	}
	if len(res.Body) > MaxDIDDocument {
		return nil, fmt.Errorf("%w: it is larger than %d bytes", ErrDIDUnreachable, MaxDIDDocument)
	}
	var doc credentials.DIDDocument
	if err := json.Unmarshal(res.Body, &doc); err != nil {
		return nil, fmt.Errorf("%w: it is not JSON", ErrDIDMismatch)
	}
	if doc.ID != did {
		return nil, fmt.Errorf("%w: its id is another DID", ErrDIDMismatch)
	}
	return &doc, nil
}
