package credentials

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	neturl "net/url"
	"slices"
	"time"
)

// IETF Token Status List (draft-ietf-oauth-status-list, "Token Status
// List"): a Status List Token is a JWT (typ statuslist+jwt) whose
// status_list claim holds a byte array, compressed with DEFLATE in the ZLIB
// format and base64url-encoded, in which each referenced token has bits
// 1, 2, 4 or 8 bits at its index, packed from the least significant bit of
// each byte. SD-JWT VCs point into one with their status claim
// {"status_list": {"idx": N, "uri": "..."}}; generic SD-JWT VC verifiers
// read only that. tally serves its Token Status Lists from the same status
// record as its Bitstring Status Lists (see TokenStatusListOf).

// The JWT type and the media type of a Status List Token.
const (
	TokenStatusListType      = "statuslist+jwt"
	TokenStatusListMediaType = "application/statuslist+jwt"
)

// TokenStatus is a status value of a Token Status List.
type TokenStatus byte

// The status values the draft defines. Others (3, and 0x0C to 0x0F) are
// application-specific, or reserved.
const (
	TokenValid     TokenStatus = 0
	TokenInvalid   TokenStatus = 1 // revoked
	TokenSuspended TokenStatus = 2
)

// String names the status: VALID, INVALID, SUSPENDED, or its number.
func (s TokenStatus) String() string {
	switch s {
	case TokenValid:
		return "VALID"
	case TokenInvalid:
		return "INVALID"
	case TokenSuspended:
		return "SUSPENDED"
	}
	return fmt.Sprintf("0x%02X", byte(s))
}

// TokenStatusList is a Token Status List: the status of each referenced
// token at its index.
type TokenStatusList struct {
	// URI is where the list is served: the JWT's sub, which the uri of
	// every referenced token's status claim equals.
	URI string
	// Issuer is the JWT's iss, when it has one.
	Issuer string
	// Bits is the number of bits per status: 1, 2, 4 or 8.
	Bits int
	// Statuses is the byte array, uncompressed.
	Statuses []byte
	// Issued is when the list was signed (iat); set by
	// ParseTokenStatusList, and stamped by IssueTokenStatusList.
	Issued time.Time
	// Expires is when the list lapses (exp); zero when it says not.
	Expires time.Time
	// TTL is how long a verifier may cache the list (ttl); 0 when it says
	// not.
	TTL time.Duration
}

// NewTokenStatusList returns a list of size statuses of bits bits (1 or
// 2), all VALID. Like Bitstring Status Lists, tally's have at least
// MinStatusListSize entries, a multiple of 8.
func NewTokenStatusList(uri, issuer string, bits, size int) (*TokenStatusList, error) {
	if bits != 1 && bits != 2 {
		return nil, fmt.Errorf("a token status list of tally's has 1 or 2 bits per status, not %d", bits)
	}
	if size < MinStatusListSize || size%8 != 0 || size*bits > maxStatusListBits {
		return nil, fmt.Errorf("a token status list has between %d and %d entries of %d bits, a multiple of 8; not %d", MinStatusListSize, maxStatusListBits/bits, bits, size)
	}
	return &TokenStatusList{URI: uri, Issuer: issuer, Bits: bits, Statuses: make([]byte, size*bits/8)}, nil
}

// Size is the number of statuses the list holds.
func (l *TokenStatusList) Size() int {
	if l.Bits <= 0 {
		return 0
	}
	return len(l.Statuses) * 8 / l.Bits
}

// Get returns the status at index.
func (l *TokenStatusList) Get(index int) (TokenStatus, error) {
	if index < 0 || index >= l.Size() {
		return 0, fmt.Errorf("status index %d is outside the list's %d entries", index, l.Size())
	}
	bit := index * l.Bits
	mask := byte(1<<l.Bits - 1)
	return TokenStatus(l.Statuses[bit/8] >> (bit % 8) & mask), nil
}

// Set sets the status at index.
func (l *TokenStatusList) Set(index int, s TokenStatus) error {
	if index < 0 || index >= l.Size() {
		return fmt.Errorf("status index %d is outside the list's %d entries", index, l.Size())
	}
	mask := byte(1<<l.Bits - 1)
	if byte(s) > mask {
		return fmt.Errorf("status %s does not fit in %d bits", s, l.Bits)
	}
	bit := index * l.Bits
	l.Statuses[bit/8] = l.Statuses[bit/8]&^(mask<<(bit%8)) | byte(s)<<(bit%8)
	return nil
}

// TokenStatusListOf makes the Token Status List (2 bits per status) of one
// status record kept as a revocation and a suspension Bitstring Status
// List with the same indexes: INVALID where the revocation bit is set,
// else SUSPENDED where the suspension bit is set, else VALID. uri is where
// the token list is served.
func TokenStatusListOf(uri string, revocation, suspension *StatusList) (*TokenStatusList, error) {
	switch {
	case revocation == nil || suspension == nil:
		return nil, errors.New("token status list: give both the revocation and the suspension list")
	case revocation.Purpose != PurposeRevocation || suspension.Purpose != PurposeSuspension:
		return nil, fmt.Errorf("token status list: the lists have purposes %s and %s, not revocation and suspension", revocation.Purpose, suspension.Purpose)
	case revocation.Issuer != suspension.Issuer:
		return nil, errors.New("token status list: the revocation and the suspension list have different issuers")
	case revocation.Size() != suspension.Size():
		return nil, fmt.Errorf("token status list: the revocation list has %d entries and the suspension list %d", revocation.Size(), suspension.Size())
	}
	t, err := NewTokenStatusList(uri, revocation.Issuer, 2, revocation.Size())
	if err != nil {
		return nil, err
	}
	t.TTL = min(revocation.TTL, suspension.TTL)
	for i := range revocation.Size() {
		revoked, _ := revocation.Get(i)
		suspended, _ := suspension.Get(i)
		switch {
		case revoked:
			_ = t.Set(i, TokenInvalid)
		case suspended:
			_ = t.Set(i, TokenSuspended)
		}
	}
	return t, nil
}

// EncodeTokenStatuses compresses a status byte array with DEFLATE in the
// ZLIB format at the best compression, and base64url-encodes it: the lst of
// a Token Status List.
func EncodeTokenStatuses(statuses []byte) (string, error) {
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(statuses); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return b64url.EncodeToString(buf.Bytes()), nil
}

// DecodeTokenStatuses reverses EncodeTokenStatuses, refusing lists that
// inflate to more than 2 MiB.
func DecodeTokenStatuses(lst string) ([]byte, error) {
	z, err := b64url.DecodeString(lst)
	if err != nil {
		return nil, fmt.Errorf("status_list lst is not base64url: %w", ErrMalformed)
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, fmt.Errorf("status_list lst is not ZLIB: %w", ErrMalformed)
	}
	statuses, err := io.ReadAll(io.LimitReader(zr, maxStatusListBits/8+1))
	if err != nil {
		return nil, fmt.Errorf("status_list lst does not inflate: %w", ErrMalformed)
	}
	if len(statuses) > maxStatusListBits/8 {
		return nil, fmt.Errorf("status_list lst inflates to more than %d bytes: %w", maxStatusListBits/8, ErrMalformed)
	}
	if len(statuses) == 0 {
		return nil, fmt.Errorf("status_list lst is empty: %w", ErrMalformed)
	}
	return statuses, nil
}

// tokenStatusListClaims is the payload of a Status List Token.
type tokenStatusListClaims struct {
	Sub        string         `json:"sub"`
	Iss        string         `json:"iss,omitempty"`
	Iat        int64          `json:"iat"`
	Exp        int64          `json:"exp,omitempty"`
	TTL        int64          `json:"ttl,omitempty"`
	StatusList tokenStatusLst `json:"status_list"`
}

type tokenStatusLst struct {
	Bits int    `json:"bits"`
	Lst  string `json:"lst"`
}

// IssueTokenStatusList signs the list as a Status List Token (a JWT of typ
// statuslist+jwt) with k at now: sub the list's URI, iss its issuer, iat
// now, exp its Expires or DefaultStatusListValidity from now, ttl its TTL
// in seconds (rounded up), and status_list. The issuer serves it by GET
// as application/statuslist+jwt.
func IssueTokenStatusList(l *TokenStatusList, k *Key, now time.Time) ([]byte, error) {
	if k.Signer == nil {
		return nil, errors.New("issue token status list: the key has no private part")
	}
	if l.Issuer != "" && l.Issuer != k.DID {
		return nil, fmt.Errorf("issue token status list: the list belongs to %s, the key to %s", l.Issuer, k.DID)
	}
	if l.URI == "" || (l.Bits != 1 && l.Bits != 2) || len(l.Statuses) == 0 {
		return nil, errors.New("issue token status list: it needs a URI, 1 or 2 bits per status, and statuses")
	}
	if l.TTL < 0 {
		return nil, fmt.Errorf("issue token status list: ttl %s is negative", l.TTL)
	}
	exp := l.Expires
	if exp.IsZero() {
		exp = now.Add(DefaultStatusListValidity)
	}
	if !exp.After(now) {
		return nil, fmt.Errorf("issue token status list: exp %s is not after the time of issue", formatTime(exp))
	}
	lst, err := EncodeTokenStatuses(l.Statuses)
	if err != nil {
		return nil, err
	}
	c := tokenStatusListClaims{
		Sub:        l.URI,
		Iss:        l.Issuer,
		Iat:        now.Unix(),
		Exp:        exp.Unix(),
		TTL:        int64((l.TTL + time.Second - 1) / time.Second),
		StatusList: tokenStatusLst{Bits: l.Bits, Lst: lst},
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	token, err := signCompactJWS(payload, k.Alg, k.Signer, map[string]any{"kid": k.ID, "typ": TokenStatusListType})
	return []byte(token), err
}

// SignedTokenStatusList is a Status List Token parsed from its JWT, its
// signature not yet checked.
type SignedTokenStatusList struct {
	List  *TokenStatusList
	KeyID string
	jws   *compactJWS
}

// maxTokenStatusTTL is the largest ttl, in seconds, a time.Duration holds.
const maxTokenStatusTTL = math.MaxInt64 / int64(time.Second)

// ParseTokenStatusList reads a Status List Token in JWT form: typ
// statuslist+jwt, the claims sub, iat and status_list (bits 1, 2, 4 or 8;
// lst base64url ZLIB) required, exp and ttl (a positive number of
// seconds) optional. Check its signature with VerifySignature before
// trusting it. Errors wrap ErrMalformed or ErrUnsupported.
func ParseTokenStatusList(raw []byte) (*SignedTokenStatusList, error) {
	raw = bytes.TrimSpace(raw)
	j, err := parseCompactJWSUpTo(raw, "token status list", nil, maxStatusListJWT)
	if err != nil {
		return nil, err
	}
	if !mediaTypeIs(j.header.Typ, TokenStatusListType) {
		return nil, fmt.Errorf("token status list header typ %q is not %s: %w", j.header.Typ, TokenStatusListType, ErrMalformed)
	}
	var c struct {
		Sub        *string  `json:"sub"`
		Iss        *string  `json:"iss"`
		Iat        *float64 `json:"iat"`
		Exp        *float64 `json:"exp"`
		TTL        *float64 `json:"ttl"`
		StatusList *struct {
			Bits *int    `json:"bits"`
			Lst  *string `json:"lst"`
		} `json:"status_list"`
	}
	if err := unmarshalJSON(j.payload, &c); err != nil {
		return nil, fmt.Errorf("token status list payload is not a JSON object of its claims: %w", ErrMalformed)
	}
	switch {
	case c.Sub == nil || *c.Sub == "":
		return nil, fmt.Errorf("token status list has no sub (its URI): %w", ErrMalformed)
	case c.Iat == nil:
		return nil, fmt.Errorf("token status list has no iat: %w", ErrMalformed)
	case c.StatusList == nil || c.StatusList.Bits == nil || c.StatusList.Lst == nil:
		return nil, fmt.Errorf("token status list has no status_list with bits and lst: %w", ErrMalformed)
	case !slices.Contains([]int{1, 2, 4, 8}, *c.StatusList.Bits):
		return nil, fmt.Errorf("token status list bits %d is not 1, 2, 4 or 8: %w", *c.StatusList.Bits, ErrMalformed)
	}
	l := &TokenStatusList{URI: *c.Sub, Bits: *c.StatusList.Bits}
	if c.Iss != nil {
		l.Issuer = *c.Iss
	}
	for _, d := range []struct {
		name string
		in   *float64
		out  *time.Time
	}{{"iat", c.Iat, &l.Issued}, {"exp", c.Exp, &l.Expires}} {
		nd, err := numericDateOf(d.in)
		if err != nil {
			return nil, fmt.Errorf("token status list %s: %v: %w", d.name, err, ErrMalformed)
		}
		if nd.set {
			*d.out = nd.time()
		}
	}
	if !l.Expires.IsZero() && l.Expires.Before(l.Issued) {
		return nil, fmt.Errorf("token status list expires before it was issued: %w", ErrMalformed)
	}
	if c.TTL != nil {
		if math.IsNaN(*c.TTL) || *c.TTL <= 0 || *c.TTL > float64(maxTokenStatusTTL) {
			return nil, fmt.Errorf("token status list ttl must be a positive number of seconds: %w", ErrMalformed)
		}
		l.TTL = time.Duration(math.Ceil(*c.TTL)) * time.Second
	}
	if l.Statuses, err = DecodeTokenStatuses(*c.StatusList.Lst); err != nil {
		return nil, err
	}
	return &SignedTokenStatusList{List: l, KeyID: j.header.Kid, jws: j}, nil
}

// VerifySignature checks the Status List Token's signature with pub.
func (s *SignedTokenStatusList) VerifySignature(pub crypto.PublicKey) error {
	return s.jws.verify(pub, "token status list")
}

// IsTokenStatusList reports whether raw looks like a Status List Token (a
// compact JWS whose typ is statuslist+jwt) rather than a status list
// credential; it checks nothing else.
func IsTokenStatusList(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	dot := bytes.IndexByte(raw, '.')
	if dot <= 0 || dot > 1024 {
		return false
	}
	header, err := b64url.DecodeString(string(raw[:dot]))
	if err != nil {
		return false
	}
	var h struct {
		Typ string `json:"typ"`
	}
	return unmarshalJSON(header, &h) == nil && mediaTypeIs(h.Typ, TokenStatusListType)
}

// sdjwtStatus is the status claim of an SD-JWT VC as tally writes it.
type sdjwtStatus struct {
	StatusList sdjwtStatusList `json:"status_list"`
}

type sdjwtStatusList struct {
	Idx int    `json:"idx"`
	URI string `json:"uri"`
}

// tokenStatusClaim is the status claim for a credential's status entries:
// its Token Status List reference (TokenStatusOf), or nil.
func tokenStatusClaim(entries []StatusEntry) *sdjwtStatus {
	ref := TokenStatusOf(entries)
	if ref == nil {
		return nil
	}
	return &sdjwtStatus{StatusList: sdjwtStatusList{Idx: ref.Index, URI: ref.URI}}
}

// maxTokenStatusIndex bounds the idx of a status claim: no list tally
// reads has more entries (2 MiB of 1-bit statuses).
const maxTokenStatusIndex = maxStatusListBits

// readStatusClaim reads the status claim of an SD-JWT or another JWT
// (nil when absent):
// its status_list reference, a non-negative integer idx and a URI. A
// status claim that names only mechanisms tally does not check is
// unsupported: the credential's status could not be checked at all.
func readStatusClaim(raw rawJSON) (*TokenStatusRef, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var mechanisms map[string]rawJSON
	if err := unmarshalJSON(raw, &mechanisms); err != nil || mechanisms == nil {
		return nil, fmt.Errorf("the JWT status claim is not a JSON object: %w", ErrMalformed)
	}
	list, ok := mechanisms["status_list"]
	if !ok {
		names := make([]string, 0, len(mechanisms))
		for name := range mechanisms {
			names = append(names, name)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("the JWT status claim names no status_list, only status mechanisms tally does not check %q: %w", names, ErrUnsupported)
	}
	var ref struct {
		Idx *float64 `json:"idx"`
		URI *string  `json:"uri"`
	}
	if err := unmarshalJSON(list, &ref); err != nil || ref.Idx == nil || ref.URI == nil {
		return nil, fmt.Errorf("the JWT claim status.status_list must be an object with idx and uri: %w", ErrMalformed)
	}
	if idx := *ref.Idx; idx < 0 || idx != math.Trunc(idx) || idx > maxTokenStatusIndex {
		return nil, fmt.Errorf("the JWT claim status.status_list.idx must be a whole number from 0 to %d: %w", maxTokenStatusIndex, ErrMalformed)
	}
	if u, err := neturl.Parse(*ref.URI); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("the JWT claim status.status_list.uri is not an absolute URI: %w", ErrMalformed)
	}
	return &TokenStatusRef{Index: int(*ref.Idx), URI: *ref.URI}, nil
}

// TokenStatus is the credential's IETF Token Status List reference (its
// status.status_list claim), or nil.
func (s *SDJWT) TokenStatus() *TokenStatusRef {
	if s.tokenStatus == nil {
		return nil
	}
	ref := *s.tokenStatus
	return &ref
}
