package credentials

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/veraison/go-cose"
)

// The QR card is tally's printed credential: a CBOR Web Token (RFC 8392)
// signed as a COSE_Sign1 (RFC 9052), compressed with zlib (RFC 1950) and
// written in base45 (RFC 9285), so that a QR code carries it in alphanumeric
// mode. The identity claims sit in the MOSIP Claim 169 map, so Claim 169
// readers can read the card too; tally's own claims sit in the private-use
// CWT claim -65537. docs/qr-card.md describes the profile. ParseCard also
// reads the Claim 169 cards of other issuers (see cardforeign.go).

// MaxCardSize bounds a card's COSE bytes after inflating; larger input is
// refused (a compressed "zip bomb" would otherwise cost memory).
const MaxCardSize = 64 << 10

// maxCardText bounds the base45 text ParseCard reads (a version 40 QR code
// holds at most 4,296 alphanumeric characters).
const maxCardText = 8192

// zlibCMF is the first byte of a zlib stream of deflate data with a 32 KiB
// window, which is what compress/zlib writes.
const zlibCMF = 0x78

// IssueCard signs c as a QR card with k and returns the card's base45 text.
// The card carries what the schema puts on a card of c's type (never a
// high-sensitivity claim), the validity period, the status list number and
// index, and the dedup seed. now is the issue time (CWT iat). c must be
// valid, and issued by k's DID.
func IssueCard(c *Credential, k *Key, now time.Time) (string, error) {
	raw, err := issueCardCOSE(c, k, now)
	if err != nil {
		return "", err
	}
	z, err := deflate(raw)
	if err != nil {
		return "", err
	}
	return Base45Encode(z), nil
}

// issueCardCOSE returns the signed COSE_Sign1 of a card, before compression.
func issueCardCOSE(c *Credential, k *Key, now time.Time) ([]byte, error) {
	if k == nil || k.Signer == nil {
		return nil, errors.New("card: the key has no private part to sign with")
	}
	if c.Issuer != k.DID {
		return nil, fmt.Errorf("card: the credential's issuer is %q, but the key belongs to %s", c.Issuer, k.DID)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	claims, err := cardClaims(c, now)
	if err != nil {
		return nil, err
	}
	kid := k.CardKeyID()
	if strings.HasPrefix(k.DID, "did:key:") {
		// A did:key is its public key: the card carries the key (34 or 35
		// bytes) as its kid instead of the 56-character DID as iss and an
		// 8-byte kid, and the verifier derives the DID from it. This keeps
		// a did:key issuer's registration card within QR version 13.
		if kid, err = multicodecKey(k.Public); err != nil {
			return nil, fmt.Errorf("card: %w", err)
		}
		claims.Issuer = ""
	}
	payload, err := cardEncMode.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("card: encode claims: %w", err)
	}
	alg, err := coseAlgorithm(k.Alg)
	if err != nil {
		return nil, err
	}
	signer, err := cose.NewSigner(alg, k.Signer)
	if err != nil {
		return nil, fmt.Errorf("card: %w", err)
	}
	msg := cose.Sign1Message{
		Headers: cose.Headers{Protected: cose.ProtectedHeader{
			cose.HeaderLabelAlgorithm: alg,
			cose.HeaderLabelKeyID:     kid,
		}},
		Payload: payload,
	}
	if err := msg.Sign(rand.Reader, nil, signer); err != nil {
		return nil, fmt.Errorf("card: sign: %w", err)
	}
	return msg.MarshalCBOR()
}

func coseAlgorithm(a Algorithm) (cose.Algorithm, error) {
	switch a {
	case EdDSA:
		return cose.AlgorithmEdDSA, nil
	case ES256:
		return cose.AlgorithmES256, nil
	}
	return 0, fmt.Errorf("card: algorithm %q: %w", a, ErrUnsupported)
}

// Card is a parsed QR card. It implements Secured: find the issuer's key by
// Issuer and KeyID, then call VerifySignature.
type Card struct {
	msg  *coseMessage
	alg  Algorithm
	iat  time.Time
	cred *Credential
	// shortKID is the 8-byte key id, derived from the key when the card
	// carries a did:key issuer's whole public key as its kid.
	shortKID []byte
	// foreign is what a Claim 169 card of another issuer says; nil for
	// tally's own cards, and then cred is set.
	foreign *foreignCard
}

var _ Secured = (*Card)(nil)

// ParseCard reads a QR card's base45 text (surrounding white space is
// ignored): base45, then zlib when the bytes start with a zlib header (plain
// COSE is accepted too), then the COSE_Sign1 (tagged or not) and its CWT
// claims. A card with tally's claim -65537 is one of tally's credentials; a
// card without it but with a Claim 169 identity is another issuer's
// identity card, read into the generic view only (Credential is nil). The
// signature is not checked. Errors wrap ErrMalformed, or ErrUnsupported for
// a signature algorithm other than EdDSA and ES256 or an encrypted card.
func ParseCard(raw []byte) (*Card, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, fmt.Errorf("card: the text is empty: %w", ErrMalformed)
	}
	if len(raw) > maxCardText {
		return nil, fmt.Errorf("card: the text is %d characters long, more than any QR code holds: %w", len(raw), ErrMalformed)
	}
	buf := getCardBuffer()
	defer putCardBuffer(buf)
	data, err := base45Decode(buf.b45[:0], raw)
	if err != nil {
		return nil, fmt.Errorf("card: %w", err)
	}
	buf.b45 = data
	switch {
	case isZlib(data):
		if data, err = buf.inflate(data); err != nil {
			return nil, err
		}
	case !coseStart(data):
		// Neither zlib nor a (tagged) COSE array. Claim 169 v1.2.2 lets
		// issuers use Brotli, which has no header to tell it by.
		return nil, fmt.Errorf("card: the data is not zlib (no RFC 1950 header) and not a COSE_Sign1 either (tally does not read Brotli): %w", ErrMalformed)
	}
	return parseCardCOSE(data)
}

// isZlib reports whether b starts with a zlib header: deflate with a 32 KiB
// window or less, and a header checksum that is a multiple of 31. A COSE
// message never does: it starts with 0xd2, 0xd8 or 0x84.
func isZlib(b []byte) bool {
	return len(b) >= 2 && b[0]&0x0f == 8 && b[0]>>4 <= 7 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0
}

// coseStart reports whether b starts as a COSE message may: an array of
// four, or tag 16, 17, 18 or a tag of one more byte (61, 96 to 98).
func coseStart(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	switch b[0] {
	case cborArray4, tagCOSEEncrypt0, tagCOSEMac0, tagCOSESign1, 0xd8:
		return true
	}
	return false
}

// parseCardCOSE reads an uncompressed card.
func parseCardCOSE(data []byte) (*Card, error) {
	m, err := decodeCOSESign1(data)
	if err != nil {
		return nil, err
	}
	c := &Card{msg: m}
	switch m.alg {
	case cose.AlgorithmEdDSA:
		c.alg = EdDSA
	case cose.AlgorithmES256:
		c.alg = ES256
	default:
		return nil, fmt.Errorf("card: signature algorithm %v (use EdDSA or ES256): %w", m.alg, ErrUnsupported)
	}
	if len(m.kid) > 64 {
		return nil, fmt.Errorf("card: the key id (COSE kid) is longer than 64 bytes: %w", ErrMalformed)
	}
	var claims cardCWT
	if err := cardDecMode.Unmarshal(m.payload, &claims); err != nil {
		return nil, fmt.Errorf("card: bad CWT claims: %v: %w", err, ErrMalformed)
	}
	if claims.IssuedAt != nil {
		c.iat = time.Unix(*claims.IssuedAt, 0).UTC()
	}
	if claims.Tally == nil {
		if c.foreign, err = parseForeignCard(m, &claims); err != nil {
			return nil, err
		}
		return c, nil
	}
	if len(m.kid) == 0 {
		return nil, fmt.Errorf("card: no key id (COSE kid) of 1 to 64 bytes: %w", ErrMalformed)
	}
	c.shortKID = m.kid
	if len(m.kid) > CardKeyIDSize {
		// A did:key issuer's card: the kid is the public key.
		pub, err := parseMulticodecKey(m.kid)
		if err != nil {
			return nil, fmt.Errorf("card: the key id is neither a short key id nor a public key: %w", ErrMalformed)
		}
		did, err := DIDKey(pub)
		if err != nil {
			return nil, fmt.Errorf("card: %v: %w", err, ErrMalformed)
		}
		if claims.Issuer != "" && claims.Issuer != did {
			return nil, fmt.Errorf("card: the issuer %s is not the key's did:key: %w", claims.Issuer, ErrMalformed)
		}
		claims.Issuer = did
		c.shortKID = Thumbprint(pub)[:CardKeyIDSize]
	}
	if c.cred, err = credentialFromClaims(&claims); err != nil {
		return nil, err
	}
	c.cred.Context = DefaultContext()
	return c, nil
}

// Format implements Secured: FormatQR.
func (c *Card) Format() Format { return FormatQR }

// Issuer implements Secured: the issuer DID of CWT claim 1, or the did:key
// of the public key a did:key issuer's card carries as its kid. For another
// issuer's Claim 169 card, its iss as it is (an https URI), or "" when it
// has none.
func (c *Card) Issuer() string {
	if c.foreign != nil {
		return c.foreign.issuer
	}
	return c.cred.Issuer
}

// KeyID implements Secured: the hex form of the card's short key id (see
// (*Key).CardKeyID and CardKeyIDString). For another issuer's Claim 169
// card, its COSE kid as text when it is printable ASCII, else in hex, or ""
// when the card names no key: then try each of the issuer's keys.
func (c *Card) KeyID() string {
	if c.foreign != nil {
		return c.foreign.keyID
	}
	return CardKeyIDString(c.shortKID)
}

// Algorithm is the signature algorithm the card names.
func (c *Card) Algorithm() Algorithm { return c.alg }

// IssuedAt is the card's CWT iat, or the zero time when it has none.
func (c *Card) IssuedAt() time.Time { return c.iat }

// Credential implements Secured: the credential the card carries, not to be
// trusted before VerifySignature succeeds. It has tally's default @context,
// no id (a card does not carry one), validFrom from nbf or else iat,
// validUntil from exp, and relative status entries (see StatusEntry). It is
// nil for another issuer's Claim 169 card: see View.
func (c *Card) Credential() *Credential { return c.cred }

// VerifySignature implements Secured: it checks the card's COSE signature
// with pub, an ed25519.PublicKey or a P-256 *ecdsa.PublicKey.
func (c *Card) VerifySignature(pub crypto.PublicKey) error {
	alg, err := AlgorithmOf(pub)
	if err != nil {
		return fmt.Errorf("card: %v: %w", err, ErrBadSignature)
	}
	if alg != c.alg {
		return fmt.Errorf("card: signed with %s, but the key is for %s: %w", c.alg, alg, ErrBadSignature)
	}
	if len(c.msg.signature) == 0 {
		return fmt.Errorf("card: the card carries no signature: %w", ErrBadSignature)
	}
	calg, _ := coseAlgorithm(alg)
	v, err := cose.NewVerifier(calg, pub)
	if err != nil {
		return fmt.Errorf("card: %v: %w", err, ErrBadSignature)
	}
	if err := c.msg.verify(v); err != nil {
		return fmt.Errorf("card: %v: %w", err, ErrBadSignature)
	}
	return nil
}

// View implements Secured: the generic view of the card. For another
// issuer's Claim 169 card its types are VerifiableCredential and
// Claim169Type, its issuer the CWT iss, its validity nbf to exp, its claims
// the identity decoded by the Claim 169 table (docs/qr-card.md), and
// Skipped names the photo, biometrics and other parts left undecoded.
func (c *Card) View() *View {
	if c.foreign != nil {
		return c.foreign.view()
	}
	return c.cred.View()
}
