package verifier

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tally-id/tally/credentials"
)

// TrustListVersion is the version of the trust list format.
const TrustListVersion = 1

// TrustList says which issuers a verifier trusts: for each, its DID, a
// display name, its public keys (so that verification works offline), the
// credential types it may issue, where its status lists live, and for how
// long it is trusted. It travels as a JSON file, or as a JWS signed by a
// trust anchor such as a consortium key (see SignTrustList).
type TrustList struct {
	Version int `json:"version"`
	// Name names the list, e.g. the consortium that keeps it.
	Name string `json:"name,omitempty"`
	// Issued and ValidUntil bound the list itself; a zero ValidUntil never
	// lapses (allowed for a local file, not for a signed list).
	Issued     time.Time        `json:"issued,omitzero"`
	ValidUntil time.Time        `json:"validUntil,omitzero"`
	Issuers    []*TrustedIssuer `json:"issuers"`

	byDID map[string]*TrustedIssuer
}

// TrustedIssuer is one issuer of a trust list.
type TrustedIssuer struct {
	DID  string `json:"did"`
	Name string `json:"name,omitempty"`
	// Keys are public JWKs with their kid. A did:key issuer may list none:
	// its key is in its DID.
	Keys []json.RawMessage `json:"keys,omitempty"`
	// Types are the credential types the issuer may issue.
	Types []credentials.Type `json:"types"`
	// StatusBase is the URL below which the issuer serves its status lists
	// ({StatusBase}/revocation/N). Cards carry paths relative to it.
	StatusBase string    `json:"statusBase,omitempty"`
	ValidFrom  time.Time `json:"validFrom,omitzero"`
	ValidUntil time.Time `json:"validUntil,omitzero"`

	keys  []*credentials.Key
	byKID map[string]*credentials.Key
}

// ParseTrustList reads a trust list from a plain JSON file or from a signed
// JWS. A signed list is verified against anchors, the trust anchors' public
// keys; a plain file is accepted only when allowUnsigned is set (one
// organisation's own list). Every key and DID is checked, so that a bad list
// fails here and not at a service point.
func ParseTrustList(data []byte, anchors []crypto.PublicKey, allowUnsigned bool) (*TrustList, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("trust list: the file is empty")
	}
	if data[0] == '{' {
		if !allowUnsigned {
			return nil, errors.New("trust list: it is not signed, and this verifier accepts only signed trust lists")
		}
		return decodeTrustList(data)
	}
	payload, err := verifyTrustListJWS(data, anchors)
	if err != nil {
		return nil, err
	}
	t, err := decodeTrustList(payload)
	if err != nil {
		return nil, err
	}
	if t.ValidUntil.IsZero() {
		return nil, errors.New("trust list: a signed trust list must say until when it is valid")
	}
	return t, nil
}

func decodeTrustList(data []byte) (*TrustList, error) {
	var t TrustList
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("trust list: not a valid trust list: %v", err)
	}
	if t.Version != TrustListVersion {
		return nil, fmt.Errorf("trust list: version %d is not supported (this tally reads version %d)", t.Version, TrustListVersion)
	}
	if err := t.index(); err != nil {
		return nil, err
	}
	return &t, nil
}

// index checks every issuer and builds the lookup tables.
func (t *TrustList) index() error {
	t.byDID = make(map[string]*TrustedIssuer, len(t.Issuers))
	for i, iss := range t.Issuers {
		if iss == nil {
			return fmt.Errorf("trust list: issuers[%d] is empty", i)
		}
		if err := iss.index(); err != nil {
			return fmt.Errorf("trust list: issuers[%d] (%s): %w", i, iss.DID, err)
		}
		if _, dup := t.byDID[iss.DID]; dup {
			return fmt.Errorf("trust list: %s is listed twice", iss.DID)
		}
		t.byDID[iss.DID] = iss
	}
	return nil
}

func (iss *TrustedIssuer) index() error {
	if !credentials.IsDID(iss.DID) {
		return fmt.Errorf("did %q is not a DID", iss.DID)
	}
	if len(iss.Types) == 0 {
		return errors.New("types is empty: say which credential types the issuer may issue")
	}
	for _, typ := range iss.Types {
		if typ == credentials.TypeAny {
			continue
		}
		if _, err := credentials.ParseType(string(typ)); err != nil {
			return err
		}
	}
	if iss.StatusBase != "" && !strings.HasPrefix(iss.StatusBase, "https://") && !strings.HasPrefix(iss.StatusBase, "http://") {
		return fmt.Errorf("statusBase %q is not an http(s) URL", iss.StatusBase)
	}
	if !iss.ValidUntil.IsZero() && !iss.ValidUntil.After(iss.ValidFrom) {
		return errors.New("validUntil is not after validFrom")
	}
	iss.keys = nil
	iss.byKID = map[string]*credentials.Key{}
	for j, raw := range iss.Keys {
		pub, kid, err := credentials.ParseJWK(raw)
		if err != nil {
			return fmt.Errorf("keys[%d]: %w", j, err)
		}
		k, err := credentials.NewPublicKey(pub, iss.DID)
		if err != nil {
			return fmt.Errorf("keys[%d]: %w", j, err)
		}
		if kid != "" {
			if strings.HasPrefix(kid, "#") {
				kid = iss.DID + kid
			}
			if !strings.HasPrefix(kid, iss.DID+"#") {
				return fmt.Errorf("keys[%d]: kid %q is not a key of %s", j, kid, iss.DID)
			}
			k.ID = kid
		}
		iss.addKey(k)
	}
	if strings.HasPrefix(iss.DID, "did:key:") {
		pub, err := credentials.ParseDIDKey(iss.DID)
		if err != nil {
			return err
		}
		k, err := credentials.NewPublicKey(pub, iss.DID)
		if err != nil {
			return err
		}
		if _, seen := iss.byKID[k.ID]; !seen {
			iss.addKey(k)
		}
	}
	if len(iss.keys) == 0 {
		return errors.New("keys is empty: a did:web issuer needs its public keys in the list, for offline use")
	}
	return nil
}

func (iss *TrustedIssuer) addKey(k *credentials.Key) {
	iss.keys = append(iss.keys, k)
	iss.byKID[k.ID] = k
	iss.byKID[credentials.CardKeyIDString(k.CardKeyID())] = k
	if _, frag, ok := strings.Cut(k.ID, "#"); ok {
		iss.byKID["#"+frag] = k
	}
}

// key finds the issuer's key named kid (a DID URL, a bare fragment, or a
// card's short id). With kid empty, an issuer with one key uses it.
func (iss *TrustedIssuer) key(kid string) (*credentials.Key, bool) {
	if kid == "" {
		if len(iss.keys) == 1 {
			return iss.keys[0], true
		}
		return nil, false
	}
	if k, ok := iss.byKID[kid]; ok {
		return k, true
	}
	if !strings.Contains(kid, "#") && !strings.HasPrefix(kid, "did:") {
		k, ok := iss.byKID["#"+kid]
		return k, ok
	}
	return nil, false
}

// PublicKeys returns the issuer's keys, parsed.
func (iss *TrustedIssuer) PublicKeys() []*credentials.Key { return iss.keys }

// MayIssue reports whether the issuer may issue credentials of type t: the
// trust list names t, or allows any type (credentials.TypeAny).
func (iss *TrustedIssuer) MayIssue(t credentials.Type) bool {
	for _, ok := range iss.Types {
		if ok == t || ok == credentials.TypeAny {
			return true
		}
	}
	return false
}

// mayIssueAny reports whether the issuer may issue a credential that
// declares the given types: the trust list allows any type, or names one of
// them other than the generic VerifiableCredential.
func (iss *TrustedIssuer) mayIssueAny(types []string) bool {
	for _, t := range types {
		if t != "VerifiableCredential" && iss.MayIssue(credentials.Type(t)) {
			return true
		}
	}
	return slices.Contains(iss.Types, credentials.TypeAny)
}

// Issuer returns the entry of the issuer with the given DID.
func (t *TrustList) Issuer(did string) (*TrustedIssuer, bool) {
	iss, ok := t.byDID[did]
	return iss, ok
}

// NewTrustList returns an empty trust list.
func NewTrustList(name string) *TrustList {
	return &TrustList{Version: TrustListVersion, Name: name, Issuers: []*TrustedIssuer{}, byDID: map[string]*TrustedIssuer{}}
}

// NewTrustedIssuer makes an entry for an issuer with the given keys (all of
// one DID) and types.
func NewTrustedIssuer(name string, types []credentials.Type, keys ...*credentials.Key) (*TrustedIssuer, error) {
	if len(keys) == 0 {
		return nil, errors.New("an issuer needs at least one key")
	}
	iss := &TrustedIssuer{DID: keys[0].DID, Name: name, Types: types}
	for _, k := range keys {
		j, err := credentials.PublicJWK(k)
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(j)
		if err != nil {
			return nil, err
		}
		iss.Keys = append(iss.Keys, raw)
	}
	if err := iss.index(); err != nil {
		return nil, err
	}
	return iss, nil
}

// Add puts an issuer on the list, or, when its DID is already there, adds
// the keys and types it does not have yet.
func (t *TrustList) Add(iss *TrustedIssuer) error {
	if err := iss.index(); err != nil {
		return err
	}
	if t.byDID == nil {
		if err := t.index(); err != nil {
			return err
		}
	}
	old, ok := t.byDID[iss.DID]
	if !ok {
		t.Issuers = append(t.Issuers, iss)
		t.byDID[iss.DID] = iss
		return nil
	}
	for _, raw := range iss.Keys {
		pub, _, _ := credentials.ParseJWK(raw)
		k, _ := credentials.NewPublicKey(pub, iss.DID)
		if _, have := old.key(credentials.CardKeyIDString(k.CardKeyID())); !have {
			old.Keys = append(old.Keys, raw)
		}
	}
	for _, typ := range iss.Types {
		if !old.MayIssue(typ) {
			old.Types = append(old.Types, typ)
		}
	}
	if iss.Name != "" {
		old.Name = iss.Name
	}
	if iss.StatusBase != "" {
		old.StatusBase = iss.StatusBase
	}
	return old.index()
}

// Marshal writes the trust list as indented JSON, the plain file form.
func (t *TrustList) Marshal() ([]byte, error) {
	if t.Version == 0 {
		t.Version = TrustListVersion
	}
	return json.MarshalIndent(t, "", "  ")
}

// checkTime reports why the list or the issuer is not trusted at now.
func (t *TrustList) checkTime(iss *TrustedIssuer, now time.Time) error {
	if !t.ValidUntil.IsZero() && now.After(t.ValidUntil) {
		return fmt.Errorf("the trust list expired on %s: get a current one", t.ValidUntil.Format(time.DateOnly))
	}
	if !iss.ValidFrom.IsZero() && now.Before(iss.ValidFrom) {
		return fmt.Errorf("%s is trusted only from %s", iss.displayName(), iss.ValidFrom.Format(time.DateOnly))
	}
	if !iss.ValidUntil.IsZero() && now.After(iss.ValidUntil) {
		return fmt.Errorf("%s was trusted only until %s", iss.displayName(), iss.ValidUntil.Format(time.DateOnly))
	}
	return nil
}

func (iss *TrustedIssuer) displayName() string {
	if iss.Name != "" {
		return iss.Name
	}
	return iss.DID
}
