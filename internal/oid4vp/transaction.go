package oid4vp

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Transaction limits.
const (
	// DefaultTTL is how long a request can be answered.
	DefaultTTL = 10 * time.Minute
	// MaxFetches is how many times the Request Object is served: once,
	// and again if the wallet's first fetch was cut off.
	MaxFetches = 3
	// NonceBytes is the entropy of a nonce: 256 bits (the nonce parameter asks
	// for a fresh, cryptographically random value).
	NonceBytes = 32
	idBytes    = 16
)

// The states of a transaction.
const (
	// StatusWaiting: made, the QR code shown; StatusFetched: a wallet
	// fetched the Request Object.
	StatusWaiting = "waiting"
	StatusFetched = "fetched"
	// StatusChecking: one response was taken, and is being checked; no
	// other is accepted. A transaction left in this state (the process
	// stopped) is shown as interrupted once it expires.
	StatusChecking = "checking"
	// StatusDone: the outcome is known.
	StatusDone = "done"
)

// ErrNotFound: no such transaction (or it was swept after expiring).
var ErrNotFound = errors.New("no such presentation request")

// Transaction is one request to a phone wallet, from the QR code to the
// outcome.
type Transaction struct {
	// ID names the transaction in the request_uri and response_uri: 128
	// random bits.
	ID string `json:"id"`
	// Org and Staff are who asked: the organisation's slug and the staff
	// member's reference.
	Org   string `json:"org"`
	Staff string `json:"staff"`
	// Preset is the name of the preset query asked for; Query the DCQL
	// query; Purpose the purpose in words.
	Preset  string `json:"preset"`
	Query   Query  `json:"query"`
	Purpose string `json:"purpose"`
	// ClientID is the verifier's Client Identifier (with its prefix):
	// the aud the key-binding JWTs must carry.
	ClientID string `json:"clientId"`
	Nonce    string `json:"nonce"`
	State    string `json:"state"`
	// Domain is the dedup domain tokens are derived in, or "".
	Domain  string    `json:"domain,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	Fetches int       `json:"fetches"`
	Status  string    `json:"status"`
	// Outcome is the checked answer, once Status is StatusDone.
	Outcome *Outcome `json:"outcome,omitempty"`
}

// Store keeps transactions. UpdatePresentation runs change on the stored
// transaction in one transaction of the store, and writes it back only
// when change returns nil: two concurrent updates of one transaction see
// each other's effects.
type Store interface {
	CreatePresentation(ctx context.Context, t Transaction) error
	Presentation(ctx context.Context, id string) (Transaction, error)
	UpdatePresentation(ctx context.Context, id string, change func(*Transaction) error) (Transaction, error)
	// DeletePresentationsBefore removes the transactions that expired
	// before t, with their outcomes.
	DeletePresentationsBefore(ctx context.Context, t time.Time) (int, error)
}

// NewInput is what the staff member asks for.
type NewInput struct {
	Org, Staff, ClientID string
	Preset               Preset
	Purpose              string
	Domain               string
}

// NewTransaction draws a transaction's id, nonce and state from r.
func NewTransaction(r io.Reader, in NewInput, now time.Time, ttl time.Duration) (Transaction, error) {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	var vals [3]string
	for i, n := range []int{idBytes, NonceBytes, idBytes} {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return Transaction{}, fmt.Errorf("draw a presentation request's secrets: %w", err)
		}
		vals[i] = base64.RawURLEncoding.EncodeToString(b)
	}
	return Transaction{ID: vals[0], Nonce: vals[1], State: vals[2], Org: in.Org, Staff: in.Staff, ClientID: in.ClientID,
		Preset: in.Preset.Name, Query: in.Preset.Query(), Purpose: in.Purpose, Domain: in.Domain,
		Created: now.UTC(), Expires: now.Add(ttl).UTC(), Status: StatusWaiting}, nil
}

// Expired tells whether the transaction can no longer be answered.
func (t Transaction) Expired(now time.Time) bool { return !now.Before(t.Expires) }

// Interrupted tells whether a response was taken but its check never
// finished, and can no longer finish.
func (t Transaction) Interrupted(now time.Time) bool {
	return t.Status == StatusChecking && t.Expired(now)
}

// Fetch counts one fetch of the Request Object, if it may still be
// served.
func (t *Transaction) Fetch(now time.Time) *Error {
	switch {
	case t.Expired(now):
		return Errorf(http.StatusBadRequest, ErrInvalidRequestURI, "this request has expired: ask the verifier for a new one")
	case t.Status != StatusWaiting && t.Status != StatusFetched:
		return Errorf(http.StatusBadRequest, ErrInvalidRequestURI, "this request was already answered")
	case t.Fetches >= MaxFetches:
		return Errorf(http.StatusBadRequest, ErrInvalidRequestURI, "this request was fetched too many times: ask the verifier for a new one")
	}
	t.Fetches++
	t.Status = StatusFetched
	return nil
}

// Take accepts one response for the transaction: the state it carries
// must be this transaction's, the transaction unexpired and unanswered.
// After Take, no other response is accepted.
func (t *Transaction) Take(state string, now time.Time) *Error {
	switch {
	case state == "":
		return badResponse("state is missing")
	case state != t.State:
		return badResponse("the state is not this request's: the response answers another request")
	case t.Expired(now):
		return badResponse("this request has expired: ask the verifier for a new one")
	case t.Status == StatusChecking || t.Status == StatusDone:
		return badResponse("this request was already answered: a response is accepted once")
	}
	t.Status = StatusChecking
	return nil
}
