package verifier

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	neturl "net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tally-id/tally/credentials"
)

// TrustListVersion is the version of the trust list format.
const TrustListVersion = 1

// TrustList says which issuers a verifier trusts: for each, its DID (or,
// for an issuer of Claim 169 cards, the https URI its cards carry), a
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

	byID map[string]*TrustedIssuer
	// anchor is the thumbprint of the trust anchor that signed the list,
	// or "" for a plain file.
	anchor string
}

// Anchor is the RFC 7638 thumbprint (base64url) of the trust anchor key
// whose signature ParseTrustList checked, or "" for a plain file.
func (t *TrustList) Anchor() string { return t.anchor }

// TrustedIssuer is one issuer of a trust list, named by exactly one of DID
// and URI.
type TrustedIssuer struct {
	// DID names an issuer by its DID (did:key or did:web).
	DID string `json:"did,omitempty"`
	// URI names an issuer by an https URI instead: what Claim 169 cards of
	// MOSIP-style issuers carry in their CWT iss.
	URI  string `json:"uri,omitempty"`
	Name string `json:"name,omitempty"`
	// Keys are public JWKs. A DID issuer's keys have its DID URLs as kid
	// (or a bare fragment), or none; a did:key issuer may list none: its
	// key is in its DID. A URI issuer's keys have any kid, or none.
	Keys []json.RawMessage `json:"keys,omitempty"`
	// Types are the credential types the issuer may issue: tally's types,
	// any other credential type (a VC type or an SD-JWT vct), or
	// credentials.TypeAny ("*") for any type.
	Types []credentials.Type `json:"types"`
	// StatusBase is the URL below which the issuer serves its status lists
	// ({StatusBase}/revocation/N). Cards carry paths relative to it.
	StatusBase string    `json:"statusBase,omitempty"`
	ValidFrom  time.Time `json:"validFrom,omitzero"`
	ValidUntil time.Time `json:"validUntil,omitzero"`

	keys  []*credentials.Key
	byKID map[string]*credentials.Key
}

// Identifier is the issuer's identifier, whichever names it: its DID, or
// its https URI. Credentials name their issuer by it.
func (iss *TrustedIssuer) Identifier() string {
	if iss.DID != "" {
		return iss.DID
	}
	return iss.URI
}

// TrustListOptions say how ParseTrustList checks a list.
type TrustListOptions struct {
	// Anchors are the trust anchors' public keys: a signed list must be
	// signed by one of them.
	Anchors []crypto.PublicKey
	// AllowUnsigned accepts a plain JSON file (one organisation's own list).
	AllowUnsigned bool
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// ClockSkew is how far a signed list's issued time may lie ahead of
	// Now: DefaultClockSkew if zero, none if negative.
	ClockSkew time.Duration
	// Seen, when set, is what the verifier remembers of the signed lists
	// it accepted before: a list issued before the newest one accepted from
	// the same anchor is refused (ErrOlderTrustList). ParseTrustList does
	// not change it: record an accepted list with Seen.Accept.
	Seen *TrustListState
}

// Why a signed trust list is refused for its time; ParseTrustList wraps
// them with the details.
var (
	// ErrTrustListFromFuture: the list says it was issued later than now
	// (beyond the clock skew allowed).
	ErrTrustListFromFuture = errors.New("it says it was issued later than now")
	// ErrOlderTrustList: the list was issued before the newest list from
	// the same trust anchor that was accepted earlier. An older list never
	// replaces a newer one, so that a list from before an issuer was
	// removed cannot be played back to a verifier.
	ErrOlderTrustList = errors.New("it is older than a list from the same trust anchor accepted earlier")
)

// ParseTrustList reads a trust list from a plain JSON file or from a signed
// JWS. A signed list is verified against opts.Anchors, must say when it
// was issued (not later than now) and until when it is valid, and must not
// be older than the newest list accepted from the same anchor (opts.Seen);
// a plain file is accepted only when opts.AllowUnsigned is set. Every key,
// DID and URI is checked, so that a bad list fails here and not at a
// service point.
func ParseTrustList(data []byte, opts TrustListOptions) (*TrustList, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("trust list: the file is empty")
	}
	if data[0] == '{' {
		if !opts.AllowUnsigned {
			return nil, errors.New("trust list: it is not signed, and this verifier accepts only signed trust lists")
		}
		return decodeTrustList(data)
	}
	payload, anchor, err := verifyTrustListJWS(data, opts.Anchors)
	if err != nil {
		return nil, err
	}
	t, err := decodeTrustList(payload)
	if err != nil {
		return nil, err
	}
	t.anchor = base64.RawURLEncoding.EncodeToString(credentials.Thumbprint(anchor))
	if t.ValidUntil.IsZero() {
		return nil, errors.New("trust list: a signed trust list must say until when it is valid")
	}
	if t.Issued.IsZero() {
		return nil, errors.New("trust list: a signed trust list must say when it was issued")
	}
	now, skew := time.Now, opts.ClockSkew
	if opts.Now != nil {
		now = opts.Now
	}
	switch {
	case skew == 0:
		skew = DefaultClockSkew
	case skew < 0:
		skew = 0
	}
	if at := now(); t.Issued.After(at.Add(skew)) {
		return nil, fmt.Errorf("trust list: %w (issued at %s, and it is %s)", ErrTrustListFromFuture,
			t.Issued.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	if opts.Seen != nil {
		if err := opts.Seen.Check(t); err != nil {
			return nil, err
		}
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
	t.byID = make(map[string]*TrustedIssuer, len(t.Issuers))
	for i, iss := range t.Issuers {
		if iss == nil {
			return fmt.Errorf("trust list: issuers[%d] is empty", i)
		}
		if err := iss.index(); err != nil {
			return fmt.Errorf("trust list: issuers[%d] (%s): %w", i, iss.Identifier(), err)
		}
		if _, dup := t.byID[iss.Identifier()]; dup {
			return fmt.Errorf("trust list: %s is listed twice", iss.Identifier())
		}
		t.byID[iss.Identifier()] = iss
	}
	return nil
}

func (iss *TrustedIssuer) index() error {
	switch {
	case iss.DID != "" && iss.URI != "":
		return errors.New("an issuer is named by did or by uri, not both")
	case iss.DID == "" && iss.URI == "":
		return errors.New("an issuer needs a did or a uri to name it")
	case iss.URI != "":
		if err := checkIssuerURI(iss.URI); err != nil {
			return err
		}
	case !credentials.IsDID(iss.DID):
		return fmt.Errorf("did %q is not a DID", iss.DID)
	}
	if len(iss.Types) == 0 {
		return errors.New("types is empty: say which credential types the issuer may issue")
	}
	for _, typ := range iss.Types {
		if err := checkType(typ); err != nil {
			return err
		}
	}
	if iss.StatusBase != "" {
		if err := checkStatusBase(iss.StatusBase); err != nil {
			return fmt.Errorf("statusBase: %w", err)
		}
	}
	if !iss.ValidUntil.IsZero() && !iss.ValidUntil.After(iss.ValidFrom) {
		return errors.New("validUntil is not after validFrom")
	}
	iss.keys = nil
	iss.byKID = map[string]*credentials.Key{}
	if iss.URI != "" {
		return iss.indexURIKeys()
	}
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

// indexURIKeys reads the keys of an issuer named by URI: public JWKs,
// each with any kid or none (then its id is its RFC 7638 thumbprint).
func (iss *TrustedIssuer) indexURIKeys() error {
	for j, raw := range iss.Keys {
		pub, kid, err := credentials.ParseJWK(raw)
		if err != nil {
			return fmt.Errorf("keys[%d]: %w", j, err)
		}
		alg, err := credentials.AlgorithmOf(pub)
		if err != nil {
			return fmt.Errorf("keys[%d]: %w", j, err)
		}
		if kid == "" {
			kid = base64.RawURLEncoding.EncodeToString(credentials.Thumbprint(pub))
		}
		iss.addKey(&credentials.Key{Alg: alg, ID: kid, Public: pub})
	}
	if len(iss.keys) == 0 {
		return errors.New("keys is empty: an issuer named by uri needs its public keys in the list")
	}
	return nil
}

// checkIssuerURI checks the uri of an issuer: an https URL with a host, and
// no user, query or fragment.
func checkIssuerURI(uri string) error {
	u, err := neturl.Parse(uri)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("uri %q is not an https URL with a host (and no user, query or fragment)", uri)
	}
	return nil
}

// checkType checks a type of a trust list entry: "*" (any type), or a
// credential type of tally's or anyone's, named without whitespace.
func checkType(t credentials.Type) error {
	if t == "" || strings.ContainsFunc(string(t), unicode.IsSpace) || !utf8.ValidString(string(t)) {
		return fmt.Errorf("type %q is not a credential type (nor * for any type)", t)
	}
	return nil
}

func (iss *TrustedIssuer) addKey(k *credentials.Key) {
	iss.keys = append(iss.keys, k)
	iss.byKID[k.ID] = k
	iss.byKID[credentials.CardKeyIDString(k.CardKeyID())] = k
	if _, frag, ok := strings.Cut(k.ID, "#"); ok && iss.DID != "" {
		iss.byKID["#"+frag] = k
	}
}

// key finds the issuer's key named kid (a DID URL, a bare fragment, or a
// card's short id; for a URI issuer, the JWK's kid, maybe after the URI
// and "#"). With kid empty, an issuer with one key uses it; so does a URI
// issuer with one key whatever the kid, for other issuers' kids take many
// forms: the signature decides.
func (iss *TrustedIssuer) key(kid string) (*credentials.Key, bool) {
	if k, ok := iss.byKID[kid]; ok && kid != "" {
		return k, true
	}
	if iss.URI != "" {
		if rest, ok := strings.CutPrefix(kid, iss.URI+"#"); ok {
			if k, ok := iss.byKID[rest]; ok {
				return k, true
			}
		}
	}
	if kid == "" || iss.URI != "" {
		if len(iss.keys) == 1 {
			return iss.keys[0], true
		}
		return nil, false
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

// mayIssueAny reports whether the issuer may issue a credential that is
// not one of tally's and declares the given types: the trust list allows
// any type, or names one of them other than the generic
// VerifiableCredential. The names of tally's types do not count: a trust
// list that names one means tally's credential, which the typed path reads
// with its schema; another vocabulary's type of the same name (a Data
// Integrity type under the W3C examples vocabulary, an SD-JWT vct that is
// the bare name) is not it.
func (iss *TrustedIssuer) mayIssueAny(types []string) bool {
	for _, t := range types {
		if _, err := credentials.ParseType(t); err == nil {
			continue
		}
		if t != "VerifiableCredential" && iss.MayIssue(credentials.Type(t)) {
			return true
		}
	}
	return slices.Contains(iss.Types, credentials.TypeAny)
}

// Issuer returns the entry of the issuer with the given identifier: a DID,
// or an https URI.
func (t *TrustList) Issuer(id string) (*TrustedIssuer, bool) {
	iss, ok := t.byID[id]
	return iss, ok
}

// NewTrustList returns an empty trust list.
func NewTrustList(name string) *TrustList {
	return &TrustList{Version: TrustListVersion, Name: name, Issuers: []*TrustedIssuer{}, byID: map[string]*TrustedIssuer{}}
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

// NewTrustedURIIssuer makes an entry for an issuer named by an https URI
// (as Claim 169 cards name their issuer in iss), with its public keys as
// JWKs (with any kid, or none) and the types it may issue.
func NewTrustedURIIssuer(uri, name string, types []credentials.Type, jwks ...json.RawMessage) (*TrustedIssuer, error) {
	iss := &TrustedIssuer{URI: uri, Name: name, Types: types, Keys: jwks}
	if err := iss.index(); err != nil {
		return nil, err
	}
	return iss, nil
}

// Add puts an issuer on the list, or, when its DID or URI is already
// there, adds the keys and types it does not have yet.
func (t *TrustList) Add(iss *TrustedIssuer) error {
	if err := iss.index(); err != nil {
		return err
	}
	if t.byID == nil {
		if err := t.index(); err != nil {
			return err
		}
	}
	old, ok := t.byID[iss.Identifier()]
	if !ok {
		t.Issuers = append(t.Issuers, iss)
		t.byID[iss.Identifier()] = iss
		return nil
	}
	have := map[string]bool{}
	for _, k := range old.keys {
		have[string(k.Thumbprint())] = true
	}
	for i, raw := range iss.Keys {
		if k := iss.keys[i]; !have[string(k.Thumbprint())] {
			have[string(k.Thumbprint())] = true
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
	return iss.Identifier()
}
