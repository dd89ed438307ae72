package credentials

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lestrrat-go/jwx/v2/jws"
)

// This file holds what VC-JWT and SD-JWT share: signing a compact JWS
// (RFC 7515) with jwx, and reading one back. Reading is done here rather
// than with jws.Parse because a verifier spends most of its time on it:
// the compact form is split at its dots, base64url-decoded with the
// standard library, its JSON decoded with goccy/go-json (see json.go), and
// the signature is checked with VerifySignature (crypto/ed25519,
// crypto/ecdsa). jwx's jws.Verify alone, without decoding the credential,
// adds about twice what this whole parse costs to the signature check
// (BenchmarkJWXVerifyJWT).

// maxTokenSize bounds the compact tokens tally reads. A registration
// credential is about 3 KB as a VC-JWT.
const maxTokenSize = 64 << 10

// b64url is base64url without padding, as JOSE uses (RFC 7515 section 2).
// Strict decoding refuses non-zero trailing bits, so each value has one
// encoding. (segmentio/asm/base64, in the module graph through jwx, is
// several times faster, but its URL alphabet also takes '/': a token
// would have more than one encoding.)
var b64url = base64.RawURLEncoding.Strict()

// joseHeader is the protected header of a compact JWS, as far as tally
// reads it. Other members are ignored, as RFC 7515 asks.
type joseHeader struct {
	Alg  string          `json:"alg"`
	Typ  string          `json:"typ"`
	Cty  string          `json:"cty"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// compactJWS is a compact JWS split into its parts.
type compactJWS struct {
	header       joseHeader
	alg          Algorithm
	payload      []byte // decoded, maybe without a known start (see skipped)
	skipped      bool   // whether payload lacks the known start
	signingInput []byte // ASCII(BASE64URL(header) || '.' || BASE64URL(payload)), in the token
	signature    []byte // decoded
}

// knownStart is a start that payloads often have, with its base64url
// form, so that the parser need not decode (nor the JSON decoder scan) it.
type knownStart struct {
	decoded []byte // whole groups of 3 bytes, so that the encoding is fixed
	encoded []byte
}

func newKnownStart(p []byte) knownStart {
	p = p[:len(p)-len(p)%3]
	return knownStart{decoded: p, encoded: []byte(b64url.EncodeToString(p))}
}

// parseCompactJWS splits and decodes a compact JWS. what names the token
// in error messages ("VC-JWT", "key-binding JWT"). It checks the header's
// alg and crit; typ is left to the caller. When the payload begins with
// start (which may be nil), only the rest of it is decoded.
func parseCompactJWS(token []byte, what string, start *knownStart) (*compactJWS, error) {
	return parseCompactJWSUpTo(token, what, start, maxTokenSize)
}

// parseCompactJWSUpTo is parseCompactJWS for tokens of up to limit bytes.
func parseCompactJWSUpTo(token []byte, what string, start *knownStart, limit int) (*compactJWS, error) {
	if len(token) > limit {
		return nil, fmt.Errorf("%s is longer than %d bytes: %w", what, limit, ErrMalformed)
	}
	first := indexByte(token, '.', 0)
	if first < 0 {
		return nil, fmt.Errorf("%s is not a compact JWS (header.payload.signature): %w", what, ErrMalformed)
	}
	second := indexByte(token, '.', first+1)
	if second < 0 || indexByte(token, '.', second+1) >= 0 {
		return nil, fmt.Errorf("%s is not a compact JWS: it must have exactly three parts separated by dots: %w", what, ErrMalformed)
	}
	// One allocation holds the decoded parts.
	encHeader, encPayload, encSig := token[:first], token[first+1:second], token[second+1:]
	skipped := start != nil && bytes.HasPrefix(encPayload, start.encoded)
	if skipped {
		encPayload = encPayload[len(start.encoded):]
	}
	// The signing input refers to token, which is not copied: the
	// signature and everything read are decoded copies, so a token changed
	// after parsing can only fail to verify.
	buf := make([]byte, b64url.DecodedLen(len(encHeader))+b64url.DecodedLen(len(encPayload))+b64url.DecodedLen(len(encSig)))
	j := &compactJWS{signingInput: token[:second:second], skipped: skipped}
	rest := buf

	n, err := b64url.Decode(rest, encHeader)
	if err != nil || n == 0 {
		return nil, fmt.Errorf("%s header is not base64url: %w", what, ErrMalformed)
	}
	headerJSON := rest[:n:n]
	rest = rest[n:]
	if n, err = b64url.Decode(rest, encPayload); err != nil {
		return nil, fmt.Errorf("%s payload is not base64url: %w", what, ErrMalformed)
	}
	j.payload, rest = rest[:n:n], rest[n:]
	if n, err = b64url.Decode(rest, encSig); err != nil {
		return nil, fmt.Errorf("%s signature is not base64url: %w", what, ErrMalformed)
	}
	j.signature = rest[:n:n]

	// JSON is UTF-8 (RFC 8259 section 8.1); the fast decoder would keep
	// invalid bytes where encoding/json puts U+FFFD.
	if !utf8.Valid(headerJSON) || !utf8.Valid(j.payload) {
		return nil, fmt.Errorf("%s header or payload is not UTF-8: %w", what, ErrMalformed)
	}
	if err := unmarshalJSON(headerJSON, &j.header); err != nil {
		return nil, fmt.Errorf("%s header is not a JSON object of strings: %w", what, ErrMalformed)
	}
	if j.alg, err = jwsAlgorithm(j.header.Alg, what); err != nil {
		return nil, err
	}
	if len(j.header.Crit) > 0 {
		return nil, fmt.Errorf("%s header lists critical extensions %s that tally does not understand: %w", what, j.header.Crit, ErrMalformed)
	}
	return j, nil
}

// indexByte is the index of c in b at or after from, or -1.
func indexByte(b []byte, c byte, from int) int {
	if i := bytes.IndexByte(b[from:], c); i >= 0 {
		return from + i
	}
	return -1
}

// jwsAlgorithm reads a JWS alg header value.
func jwsAlgorithm(alg, what string) (Algorithm, error) {
	switch alg {
	case string(EdDSA):
		return EdDSA, nil
	case string(ES256):
		return ES256, nil
	case "":
		return "", fmt.Errorf("%s header has no alg: %w", what, ErrMalformed)
	case "none":
		return "", fmt.Errorf("%s is unsigned (alg none), which is never accepted: %w", what, ErrUnsupported)
	}
	return "", fmt.Errorf("%s is signed with alg %q; tally accepts EdDSA and ES256: %w", what, alg, ErrUnsupported)
}

// verify checks the JWS signature with pub, whose algorithm must be the
// header's.
func (j *compactJWS) verify(pub crypto.PublicKey, what string) error {
	alg, err := AlgorithmOf(pub)
	if err != nil {
		return fmt.Errorf("%s: %v: %w", what, err, ErrBadSignature)
	}
	if alg != j.alg {
		return fmt.Errorf("%s is signed with %s but the key is a %s key: %w", what, j.alg, alg, ErrBadSignature)
	}
	if !VerifySignature(pub, j.signingInput, j.signature) {
		return fmt.Errorf("%s: %w", what, ErrBadSignature)
	}
	return nil
}

// mediaTypeIs reports whether a typ or cty header value names the media
// type want (like "vc+jwt"): compared without case, with or without the
// "application/" prefix (RFC 7515 section 4.1.9).
func mediaTypeIs(value, want string) bool {
	if len(value) > len("application/") && strings.EqualFold(value[:len("application/")], "application/") {
		value = value[len("application/"):]
	}
	return strings.EqualFold(value, want)
}

// keyIDFor turns a kid header into a DID URL of the issuer's: a DID URL
// is kept (it must name a key of the issuer), a fragment ("#key-1" or
// "key-1") is resolved against the issuer's DID, and no kid stays "".
func keyIDFor(kid, issuer, what string) (string, error) {
	switch {
	case kid == "":
		return "", nil
	case strings.HasPrefix(kid, "did:"):
		did := kid
		if i := strings.IndexAny(did, "#?/"); i >= 0 {
			did = did[:i]
		}
		if did != issuer {
			return "", fmt.Errorf("%s kid %q names a key of %s, but the issuer is %s: %w", what, kid, did, issuer, ErrMalformed)
		}
		return kid, nil
	case strings.HasPrefix(kid, "#"):
		return issuer + kid, nil
	}
	return issuer + "#" + kid, nil
}

// signCompactJWS signs payload as a compact JWS with jwx, with the
// protected header members given (alg is added). jwx turns an ECDSA
// signer's ASN.1 signature into the raw r||s form JOSE uses.
func signCompactJWS(payload []byte, alg Algorithm, signer crypto.Signer, header map[string]any) (string, error) {
	if signer == nil {
		return "", fmt.Errorf("the key has no private part to sign with")
	}
	jalg := alg.JWA()
	if jalg == "" {
		return "", fmt.Errorf("cannot sign with algorithm %q", alg)
	}
	if got, err := AlgorithmOf(signer.Public()); err != nil || got != alg {
		return "", fmt.Errorf("the signing key is not a %s key", alg)
	}
	h := jws.NewHeaders()
	for name, value := range header {
		if err := h.Set(name, value); err != nil {
			return "", fmt.Errorf("JWS header %s: %w", name, err)
		}
	}
	out, err := jws.Sign(payload, jws.WithKey(jalg, signer, jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", fmt.Errorf("sign JWS: %w", err)
	}
	return string(out), nil
}

// numericDate is a JWT NumericDate (RFC 7519 section 2): seconds since
// 1970, maybe with a fraction, which is dropped.
type numericDate struct {
	set  bool
	unix int64
}

// maxNumericDate is the end of the year 9999, beyond which no date makes
// sense.
const maxNumericDate = 253402300799

// numericDateOf reads a NumericDate claim decoded as a number (nil when
// the claim is absent).
func numericDateOf(f *float64) (numericDate, error) {
	if f == nil {
		return numericDate{}, nil
	}
	if math.IsNaN(*f) || *f < 0 || *f > maxNumericDate {
		return numericDate{}, fmt.Errorf("must be a number of seconds between 1970 and 9999")
	}
	return numericDate{set: true, unix: int64(math.Floor(*f))}, nil
}

func (d numericDate) time() time.Time { return time.Unix(d.unix, 0).UTC() }

// timeOrZero is the date, or the zero time when the claim is absent.
func (d numericDate) timeOrZero() time.Time {
	if !d.set {
		return time.Time{}
	}
	return d.time()
}
