package credentials

import (
	"bytes"
	"compress/gzip"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// StatusList is one W3C Bitstring Status List v1.0 list: a bitstring in
// which bit i is set when the credential at index i has the list's status
// (revoked, or suspended). Bit 0 is the most significant bit of byte 0.
type StatusList struct {
	// URL is where the list is served; it is the id of its credential.
	URL     string
	Issuer  string
	Purpose string
	// Bits is the bitstring, at least MinStatusListSize bits long.
	Bits       []byte
	ValidFrom  time.Time
	ValidUntil time.Time
	// TTL is how long a verifier may cache the list (0: the verifier decides).
	TTL time.Duration
	// Issued is when the list was signed (the JWT's iat), set by
	// ParseStatusList; IssueStatusList stamps it with its now.
	Issued time.Time
}

// DefaultStatusListValidity is how long a status list credential is valid
// when its StatusList sets no ValidUntil. A verifier never uses a list past
// its validUntil, so this bounds how long an old list can stand in for the
// current one on a device that cannot fetch; issuers sign their lists again
// well before (at least once per ttl).
const DefaultStatusListValidity = 14 * 24 * time.Hour

// maxStatusListBits bounds a list a verifier will inflate (16 Mbit = 2 MiB).
const maxStatusListBits = 1 << 24

// NewStatusList returns an empty list of size bits (at least
// MinStatusListSize, a multiple of 8).
func NewStatusList(url, issuer, purpose string, size int) (*StatusList, error) {
	if size < MinStatusListSize || size%8 != 0 || size > maxStatusListBits {
		return nil, fmt.Errorf("a status list has between %d and %d entries, a multiple of 8; not %d", MinStatusListSize, maxStatusListBits, size)
	}
	if purpose != PurposeRevocation && purpose != PurposeSuspension {
		return nil, fmt.Errorf("status purpose must be revocation or suspension, not %q", purpose)
	}
	return &StatusList{URL: url, Issuer: issuer, Purpose: purpose, Bits: make([]byte, size/8)}, nil
}

// Size is the number of entries in the list.
func (l *StatusList) Size() int { return len(l.Bits) * 8 }

// Get reports whether the entry at index is set.
func (l *StatusList) Get(index int) (bool, error) {
	if index < 0 || index >= l.Size() {
		return false, fmt.Errorf("status index %d is outside the list's %d entries", index, l.Size())
	}
	return l.Bits[index/8]&(0x80>>(index%8)) != 0, nil
}

// Set sets or clears the entry at index.
func (l *StatusList) Set(index int, value bool) error {
	if index < 0 || index >= l.Size() {
		return fmt.Errorf("status index %d is outside the list's %d entries", index, l.Size())
	}
	if value {
		l.Bits[index/8] |= 0x80 >> (index % 8)
	} else {
		l.Bits[index/8] &^= 0x80 >> (index % 8)
	}
	return nil
}

// EncodeBitstring compresses a bitstring with GZIP and encodes it as a
// multibase base64url string ("u" prefix, no padding), the encodedList of
// Bitstring Status List v1.0.
func EncodeBitstring(bits []byte) (string, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(bits); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// DecodeBitstring reverses EncodeBitstring, refusing lists that inflate to
// more than 2 MiB.
func DecodeBitstring(s string) ([]byte, error) {
	if len(s) < 2 || s[0] != 'u' {
		return nil, fmt.Errorf("encodedList must be multibase base64url (starting with u): %w", ErrMalformed)
	}
	gz, err := base64.RawURLEncoding.DecodeString(s[1:])
	if err != nil {
		return nil, fmt.Errorf("encodedList is not base64url: %w", ErrMalformed)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("encodedList is not GZIP: %w", ErrMalformed)
	}
	bits, err := io.ReadAll(io.LimitReader(zr, maxStatusListBits/8+1))
	if err != nil {
		return nil, fmt.Errorf("encodedList does not inflate: %w", ErrMalformed)
	}
	if len(bits) > maxStatusListBits/8 {
		return nil, fmt.Errorf("encodedList inflates to more than %d bytes: %w", maxStatusListBits/8, ErrMalformed)
	}
	if len(bits)*8 < MinStatusListSize {
		return nil, fmt.Errorf("status list has %d entries, fewer than the %d required: %w", len(bits)*8, MinStatusListSize, ErrMalformed)
	}
	return bits, nil
}

type statusListSubject struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Purpose     string `json:"statusPurpose"`
	EncodedList string `json:"encodedList"`
	TTL         int64  `json:"ttl,omitempty"`
}

type statusListCredential struct {
	Context    []string          `json:"@context"`
	ID         string            `json:"id"`
	Type       []string          `json:"type"`
	Issuer     string            `json:"issuer"`
	ValidFrom  string            `json:"validFrom,omitempty"`
	ValidUntil string            `json:"validUntil,omitempty"`
	Subject    statusListSubject `json:"credentialSubject"`
	// JWT claims mirroring the credential, for plain JWT libraries.
	Iss string `json:"iss,omitempty"`
	Iat int64  `json:"iat,omitempty"`
	Exp int64  `json:"exp,omitempty"`
}

// IssueStatusList signs the list as a BitstringStatusListCredential secured
// as a VC-JWT (application/vc+jwt), as the issuer serves it by GET. The
// credential always says when it was signed (iat, and validFrom unless the
// list sets one) and until when it is valid (validUntil and exp: the list's
// ValidUntil, or DefaultStatusListValidity from now), so that a verifier can
// tell its age and never uses it once it has lapsed.
func IssueStatusList(l *StatusList, k *Key, now time.Time) ([]byte, error) {
	if k.Signer == nil {
		return nil, errors.New("issue status list: the key has no private part")
	}
	if l.Issuer != k.DID {
		return nil, fmt.Errorf("issue status list: the list belongs to %s, the key to %s", l.Issuer, k.DID)
	}
	if l.TTL < 0 {
		return nil, fmt.Errorf("issue status list: ttl %s is negative", l.TTL)
	}
	from, until := l.ValidFrom, l.ValidUntil
	if from.IsZero() {
		from = now
	}
	if until.IsZero() {
		until = now.Add(DefaultStatusListValidity)
	}
	if !until.After(now) || !until.After(from) {
		return nil, fmt.Errorf("issue status list: validUntil %s is not after the time of issue and validFrom", formatTime(until))
	}
	enc, err := EncodeBitstring(l.Bits)
	if err != nil {
		return nil, err
	}
	c := statusListCredential{
		Context:    []string{BaseContext},
		ID:         l.URL,
		Type:       []string{"VerifiableCredential", "BitstringStatusListCredential"},
		Issuer:     l.Issuer,
		Subject:    statusListSubject{ID: l.URL + "#list", Type: "BitstringStatusList", Purpose: l.Purpose, EncodedList: enc, TTL: l.TTL.Milliseconds()},
		Iss:        l.Issuer,
		Iat:        now.Unix(),
		Exp:        until.Unix(),
		ValidFrom:  formatTime(from),
		ValidUntil: formatTime(until),
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	token, err := signCompactJWS(payload, k.Alg, k.Signer, map[string]any{"kid": k.ID, "typ": JWTType, "cty": JWTContentType})
	return []byte(token), err
}

// SignedStatusList is a status list credential parsed from its VC-JWT, its
// signature not yet checked.
type SignedStatusList struct {
	List  *StatusList
	KeyID string
	jws   *compactJWS
}

// maxStatusListTTL is the largest ttl (in milliseconds) a time.Duration
// holds, about 292 years.
const maxStatusListTTL = math.MaxInt64 / int64(time.Millisecond)

// maxStatusListJWT bounds the size of a status list credential.
const maxStatusListJWT = 4 << 20

// ParseStatusList reads a BitstringStatusListCredential secured as a VC-JWT.
// Check its signature with VerifySignature before trusting it.
func ParseStatusList(raw []byte) (*SignedStatusList, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > maxStatusListJWT {
		return nil, fmt.Errorf("status list credential is larger than %d MiB: %w", maxStatusListJWT>>20, ErrMalformed)
	}
	j, err := parseCompactJWSUpTo(raw, "status list credential", nil, maxStatusListJWT)
	if err != nil {
		return nil, err
	}
	var c statusListCredential
	if err := json.Unmarshal(j.payload, &c); err != nil {
		return nil, fmt.Errorf("status list credential payload: %v: %w", err, ErrMalformed)
	}
	isList := false
	for _, t := range c.Type {
		isList = isList || t == "BitstringStatusListCredential"
	}
	if !isList || c.Subject.Type != "BitstringStatusList" {
		return nil, fmt.Errorf("not a BitstringStatusListCredential: %w", ErrMalformed)
	}
	if c.Subject.Purpose != PurposeRevocation && c.Subject.Purpose != PurposeSuspension {
		return nil, fmt.Errorf("status list purpose %q is not revocation or suspension: %w", c.Subject.Purpose, ErrUnsupported)
	}
	if c.Subject.TTL < 0 || c.Subject.TTL > maxStatusListTTL {
		return nil, fmt.Errorf("status list ttl %d ms is negative or too large: %w", c.Subject.TTL, ErrMalformed)
	}
	bits, err := DecodeBitstring(c.Subject.EncodedList)
	if err != nil {
		return nil, err
	}
	l := &StatusList{URL: c.ID, Issuer: c.Issuer, Purpose: c.Subject.Purpose, Bits: bits, TTL: time.Duration(c.Subject.TTL) * time.Millisecond}
	if c.Iat < 0 || c.Iat > maxNumericDate {
		return nil, fmt.Errorf("status list iat %d is not a date between 1970 and 9999: %w", c.Iat, ErrMalformed)
	}
	if c.Iat > 0 {
		l.Issued = time.Unix(c.Iat, 0).UTC()
	}
	if l.ValidFrom, err = parseTime("validFrom", c.ValidFrom); err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrMalformed)
	}
	if l.ValidUntil, err = parseTime("validUntil", c.ValidUntil); err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrMalformed)
	}
	if c.Exp < 0 || c.Exp > maxNumericDate {
		return nil, fmt.Errorf("status list exp %d is not a date between 1970 and 9999: %w", c.Exp, ErrMalformed)
	}
	if exp := time.Unix(c.Exp, 0).UTC(); c.Exp > 0 && (l.ValidUntil.IsZero() || exp.Before(l.ValidUntil)) {
		// The earlier of validUntil and exp bounds the list.
		l.ValidUntil = exp
	}
	return &SignedStatusList{List: l, KeyID: j.header.Kid, jws: j}, nil
}

// VerifySignature checks the status list credential's signature with pub.
func (s *SignedStatusList) VerifySignature(pub crypto.PublicKey) error {
	return s.jws.verify(pub, "status list credential")
}
