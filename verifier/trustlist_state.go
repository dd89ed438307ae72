package verifier

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// TrustListStateVersion is the version of the trust list state format.
const TrustListStateVersion = 1

// TrustListState remembers, for each trust anchor, when the newest signed
// trust list accepted from it was issued, so that an older list signed by
// the same anchor can be refused: a list from before an issuer was removed,
// or a key withdrawn, cannot be played back to a verifier. Give it to
// ParseTrustList as TrustListOptions.Seen, record each list accepted with
// Accept, and keep it (Marshal, ParseTrustListState) between runs.
type TrustListState struct {
	Version int `json:"version"`
	// Newest maps a trust anchor's key thumbprint (RFC 7638, base64url:
	// TrustList.Anchor) to the issued time of the newest list accepted
	// from it.
	Newest map[string]time.Time `json:"newest"`
}

// NewTrustListState returns a state that has seen no list.
func NewTrustListState() *TrustListState {
	return &TrustListState{Version: TrustListStateVersion, Newest: map[string]time.Time{}}
}

// ParseTrustListState reads a state written by Marshal.
func ParseTrustListState(data []byte) (*TrustListState, error) {
	s := NewTrustListState()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		return nil, fmt.Errorf("trust list state: not a valid state: %v", err)
	}
	if s.Version != TrustListStateVersion {
		return nil, fmt.Errorf("trust list state: version %d is not supported (this tally reads version %d)", s.Version, TrustListStateVersion)
	}
	if s.Newest == nil {
		s.Newest = map[string]time.Time{}
	}
	for anchor, at := range s.Newest {
		if anchor == "" || at.IsZero() {
			return nil, errors.New("trust list state: an entry has no anchor or no time")
		}
	}
	return s, nil
}

// Marshal writes the state as indented JSON.
func (s *TrustListState) Marshal() ([]byte, error) {
	if s.Version == 0 {
		s.Version = TrustListStateVersion
	}
	return json.MarshalIndent(s, "", "  ")
}

// Check refuses a signed list issued before the newest list accepted from
// the same anchor, with an error wrapping ErrOlderTrustList. A plain list
// (no anchor) and a list issued at the same time or later pass.
func (s *TrustListState) Check(t *TrustList) error {
	if t.anchor == "" {
		return nil
	}
	if newest, ok := s.Newest[t.anchor]; ok && t.Issued.Before(newest) {
		return fmt.Errorf("trust list: %w (this list was issued at %s; the newest accepted, at %s)", ErrOlderTrustList,
			t.Issued.UTC().Format(time.RFC3339), newest.UTC().Format(time.RFC3339))
	}
	return nil
}

// Accept records a signed list as accepted, and reports whether that
// changed the state (a list newer than any accepted from its anchor).
func (s *TrustListState) Accept(t *TrustList) bool {
	if t.anchor == "" || t.Issued.IsZero() {
		return false
	}
	if s.Newest == nil {
		s.Newest = map[string]time.Time{}
	}
	if newest, ok := s.Newest[t.anchor]; ok && !t.Issued.After(newest) {
		return false
	}
	s.Newest[t.anchor] = t.Issued.UTC()
	return true
}
