package trustsync

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tally-id/tally/credentials"
)

// maxAnchorJWK bounds an anchor's JWK.
const maxAnchorJWK = 8 << 10

// ErrExists is why an anchor is not added: it is there already.
var ErrExists = errors.New("it is there already")

// ErrFromConfig is why an anchor or trust list cannot be removed: it is
// given by the configuration (--trust, --trust-anchor).
var ErrFromConfig = errors.New("it is given by the server's configuration (--trust or --trust-anchor): change the configuration instead")

// parseAnchor reads a public JWK as an anchor.
func parseAnchor(jwk []byte, name string, now time.Time) (Anchor, error) {
	jwk = bytes.TrimSpace(jwk)
	if len(jwk) == 0 {
		return Anchor{}, errors.New("give the anchor's public key, as a JWK")
	}
	if len(jwk) > maxAnchorJWK {
		return Anchor{}, fmt.Errorf("the key is larger than %d KiB: a JWK is far smaller", maxAnchorJWK>>10)
	}
	pub, _, err := credentials.ParseJWK(jwk)
	if err != nil {
		return Anchor{}, err
	}
	pj, err := credentials.PublicJWK(&credentials.Key{Public: pub})
	if err != nil {
		return Anchor{}, err
	}
	raw, err := json.Marshal(pj)
	if err != nil {
		return Anchor{}, err
	}
	return Anchor{
		ID:      base64.RawURLEncoding.EncodeToString(credentials.Thumbprint(pub)),
		Name:    name,
		JWK:     raw,
		AddedAt: now.UTC(),
	}, nil
}

// checkName checks a display name: 1 to 200 characters of text.
func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 200 || !utf8.ValidString(name) || strings.ContainsAny(name, "\x00\r\n") {
		return "", errors.New("give a name of 1 to 200 characters, on one line")
	}
	return name, nil
}

// AddAnchor adds a trust anchor (its public JWK): trust lists signed by it
// are accepted from now on.
func (s *Service) AddAnchor(ctx context.Context, name string, jwk []byte) (Anchor, error) {
	if s.opts.Stores == nil {
		return Anchor{}, errors.New("this verifier keeps no trust anchors")
	}
	name, err := checkName(name)
	if err != nil {
		return Anchor{}, &FieldError{Field: "name", Err: err}
	}
	a, err := parseAnchor(jwk, name, s.now())
	if err != nil {
		return Anchor{}, &FieldError{Field: "jwk", Err: err}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, have := range s.Anchors() {
		if have.ID == a.ID {
			return Anchor{}, &FieldError{Field: "jwk", Err: fmt.Errorf("this key: %w (%s)", ErrExists, have.Name)}
		}
	}
	if err := s.opts.Stores.Anchors.PutAnchor(ctx, a); err != nil {
		return Anchor{}, err
	}
	return a, s.reload(ctx)
}

// RemoveAnchor removes a trust anchor: the lists it signed are no longer
// in force (unless another anchor signed them).
func (s *Service) RemoveAnchor(ctx context.Context, id string) error {
	if s.opts.Stores == nil {
		return ErrNotFound
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.Anchors() {
		if a.ID == id && a.FromConfig {
			return ErrFromConfig
		}
	}
	if err := s.opts.Stores.Anchors.DeleteAnchor(ctx, id); err != nil {
		return err
	}
	return s.reload(ctx)
}

// Anchors returns the trust anchors: the configuration's, then those
// added.
func (s *Service) Anchors() []Anchor {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	return append([]Anchor(nil), s.anchors...)
}

// FieldError is a bad value given to AddAnchor or AddList: Field names it
// (name, jwk, list, url, interval).
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }
