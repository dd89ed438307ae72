package credentials

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// Format is a securing format of a credential.
type Format string

// The four securing formats.
const (
	FormatQR            Format = "qr"
	FormatJWT           Format = "jwt"
	FormatSDJWT         Format = "sd-jwt"
	FormatDataIntegrity Format = "di"
)

// Formats lists every format in a stable order.
func Formats() []Format { return []Format{FormatQR, FormatJWT, FormatSDJWT, FormatDataIntegrity} }

// ParseFormat reads a format name as the command line gives it.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown format %q: use qr, jwt, sd-jwt or di", s)
}

// MediaType returns the media type of a format.
func (f Format) MediaType() string {
	switch f {
	case FormatQR:
		return "application/vnd.tally.card+base45"
	case FormatJWT:
		return "application/vc+jwt"
	case FormatSDJWT:
		return "application/dc+sd-jwt"
	case FormatDataIntegrity:
		return "application/vc"
	}
	return ""
}

// DetectFormat tells which format raw is in, from its shape alone: a JSON
// object is Data Integrity, a compact JWS with "~" separators is SD-JWT, a
// compact JWS is VC-JWT, and text in the base45 alphabet is a QR card.
// An enveloped credential (see UnwrapEnveloped) is in the format of the
// token it wraps. Surrounding white space is ignored.
func DetectFormat(raw []byte) (Format, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", fmt.Errorf("the credential is empty")
	}
	if inner, ok := UnwrapEnveloped(raw); ok {
		raw = bytes.TrimSpace(inner)
	}
	switch {
	case raw[0] == '{':
		return FormatDataIntegrity, nil
	case bytes.HasPrefix(raw, []byte("ey")):
		// A JWS header is base64url of a JSON object, '{"' → "ey"; base45
		// has no lower-case letters, so no card starts so. The parsers
		// check the rest.
		if bytes.IndexByte(raw, '~') >= 0 {
			return FormatSDJWT, nil
		}
		if bytes.Count(raw, []byte{'.'}) == 2 {
			return FormatJWT, nil
		}
	case isBase45(raw):
		return FormatQR, nil
	}
	return "", fmt.Errorf("not a credential tally knows: expected a QR card, a VC-JWT, an SD-JWT or a JSON credential")
}

// base45Alphabet is RFC 9285's alphabet.
const base45Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// isBase45Char marks the bytes of base45Alphabet.
var isBase45Char = func() (t [256]bool) {
	for i := range len(base45Alphabet) {
		t[base45Alphabet[i]] = true
	}
	return t
}()

func isBase45(b []byte) bool {
	for _, c := range b {
		if !isBase45Char[c] {
			return false
		}
	}
	return true
}

// Prepare completes a credential drafted from an input like
// ../shared/samples/registration.json before it is signed: the default
// @context if none, the issuer's DID, an id (urn:uuid), and a dedup seed
// for the subject if it has none. It then validates the result. r supplies
// randomness (crypto/rand.Reader when nil).
func Prepare(c *Credential, issuerDID string, r io.Reader) error {
	if r == nil {
		r = rand.Reader
	}
	if c.Context == nil {
		c.Context = DefaultContext()
	}
	if c.Issuer == "" {
		c.Issuer = issuerDID
	} else if c.Issuer != issuerDID {
		return fieldError("issuer", "is %s, but the signing key belongs to %s", c.Issuer, issuerDID)
	}
	if c.ID == "" {
		var u [16]byte
		if _, err := io.ReadFull(r, u[:]); err != nil {
			return fmt.Errorf("draw credential id: %w", err)
		}
		u[6] = u[6]&0x0f | 0x40 // version 4
		u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
		h := hex.EncodeToString(u[:])
		c.ID = "urn:uuid:" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	}
	if c.Subject != nil && SubjectSeed(c.Subject) == nil {
		seed, err := NewSeed(r)
		if err != nil {
			return err
		}
		SetSubjectSeed(c.Subject, seed)
	}
	return c.Validate()
}

// Sentinel errors of the formats. Parsers wrap ErrMalformed; signature
// checks wrap ErrBadSignature. Callers test them with errors.Is.
var (
	// ErrMalformed: the input is not a well-formed credential of its format.
	ErrMalformed = errors.New("malformed credential")
	// ErrBadSignature: the signature does not verify with the given key.
	ErrBadSignature = errors.New("signature does not verify")
	// ErrUnsupported: a well-formed input uses an algorithm or feature tally
	// does not support.
	ErrUnsupported = errors.New("unsupported")
)

// Secured is a credential parsed from one of the formats, whose signature
// has not been checked yet. Parse it, find the issuer's key by Issuer and
// KeyID in a trust list, then call VerifySignature with that key.
type Secured interface {
	// Format is the securing format.
	Format() Format
	// Issuer is the issuer DID the envelope names (the https URI in iss,
	// for another issuer's Claim 169 card).
	Issuer() string
	// KeyID names the signing key: a DID URL for the JSON formats, the
	// hex form of the 8-byte short key id (see CardKeyIDString) for a card,
	// or "" when the credential names no key (a Claim 169 card without a
	// COSE kid): then the issuer's keys are tried.
	KeyID() string
	// Credential is the parsed credential when it is one of tally's types,
	// else nil. For SD-JWT it holds only the disclosed claims. Not to be
	// trusted before VerifySignature succeeds.
	Credential() *Credential
	// View is the generic view of the credential, of any type and issuer,
	// read from what the signature covers. Not to be trusted before
	// VerifySignature succeeds.
	View() *View
	// VerifySignature checks the issuer's signature with pub. It returns an
	// error wrapping ErrBadSignature when the signature is wrong.
	VerifySignature(pub crypto.PublicKey) error
}

// CardKeyIDString is the KeyID a card reports: the hex form of its short
// key id.
func CardKeyIDString(short []byte) string { return hex.EncodeToString(short) }
