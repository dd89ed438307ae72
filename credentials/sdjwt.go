package credentials

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// SD-JWT VC: a credential as a Selective Disclosure JWT (RFC 9901) in the
// profile of IETF "SD-JWT-based Verifiable Credentials", media type
// application/dc+sd-jwt. The issuer signs a JWT whose payload holds the
// envelope claims in the clear (iss, iat, nbf, exp, vct, jti, cnf,
// credentialStatus, status) and, for each credentialSubject claim, only a salted
// SHA-256 digest. The disclosures that reveal the claims travel beside the
// JWT; the holder passes on only those it chooses, and proves with a
// key-binding JWT that it holds the key the issuer bound the credential
// to. See docs/formats.md.

// The media types and prefix tally uses for SD-JWT VC.
const (
	SDJWTType      = "dc+sd-jwt" // typ of the issuer-signed JWT
	KeyBindingType = "kb+jwt"    // typ of the key-binding JWT
	// VCTBase is the prefix of the vct claim; the credential type follows.
	VCTBase = "https://tally-id.github.io/vct/"
)

// VCT is the vct claim of a credential type.
func VCT(t Type) string { return VCTBase + string(t) }

// SDJWTOptions are the choices of an SD-JWT issuance.
type SDJWTOptions struct {
	// Holder is the holder's public key (Ed25519 or P-256), written as
	// cnf.jwk: a verifier then requires a key-binding JWT signed with it.
	// nil issues a credential bound to no key.
	Holder crypto.PublicKey
	// Rand supplies the salts and the decoy digests; crypto/rand.Reader
	// when nil.
	Rand io.Reader
	// Decoys is the number of decoy digests added to _sd, so that a
	// verifier cannot count the claims. 0 pads _sd to a multiple of 8 with
	// at least one decoy; a negative number adds none.
	Decoys int
}

// saltSize is the salt length in bytes: 128 bits, as RFC 9901 section
// 9.3 recommends.
const saltSize = 16

// sdjwtPayload is the payload of the issuer-signed JWT as tally writes it.
type sdjwtPayload struct {
	Iss    string        `json:"iss"`
	Iat    int64         `json:"iat"`
	Nbf    *int64        `json:"nbf,omitempty"`
	Exp    *int64        `json:"exp,omitempty"`
	VCT    string        `json:"vct"`
	Jti    string        `json:"jti,omitempty"`
	Cnf    *sdjwtCnf     `json:"cnf,omitempty"`
	Status []StatusEntry `json:"credentialStatus,omitempty"`
	// TokenStatus is the IETF Token Status List reference of the same
	// status record, for verifiers that read only that.
	TokenStatus *sdjwtStatus `json:"status,omitempty"`
	SD          []string     `json:"_sd"`
	SDAlg       string       `json:"_sd_alg"`
}

// sdjwtCnf is the confirmation claim (RFC 7800) binding a holder key.
type sdjwtCnf struct {
	JWK json.RawMessage `json:"jwk"`
}

// IssueSDJWT signs c as an SD-JWT VC with k at time now, every claim of
// its credentialSubject selectively disclosable, and returns it in the
// issuance form: the JWT, then every disclosure, each followed by "~".
func IssueSDJWT(c *Credential, k *Key, now time.Time, opts SDJWTOptions) (string, error) {
	if err := checkIssuable(c, k); err != nil {
		return "", err
	}
	r := opts.Rand
	if r == nil {
		r = rand.Reader
	}
	subject, err := json.Marshal(c.Subject)
	if err != nil {
		return "", fmt.Errorf("encode credentialSubject: %w", err)
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(subject, &claims); err != nil {
		return "", fmt.Errorf("encode credentialSubject: %w", err)
	}
	names := make([]string, 0, len(claims))
	for name := range claims {
		names = append(names, name)
	}
	slices.Sort(names)

	p := sdjwtPayload{
		Iss:    c.Issuer,
		Iat:    now.Unix(),
		VCT:    VCT(c.Type),
		Jti:    c.ID,
		Status: c.Status,
		SDAlg:  "sha-256",
	}
	p.TokenStatus = tokenStatusClaim(c.Status)
	if !c.ValidFrom.IsZero() {
		nbf := c.ValidFrom.Unix()
		p.Nbf = &nbf
	}
	if !c.ValidUntil.IsZero() {
		exp := c.ValidUntil.Unix()
		p.Exp = &exp
	}
	if opts.Holder != nil {
		if _, err := AlgorithmOf(opts.Holder); err != nil {
			return "", fmt.Errorf("holder key: %w", err)
		}
		j, err := jwk.FromRaw(opts.Holder)
		if err != nil {
			return "", fmt.Errorf("holder key to JWK: %w", err)
		}
		p.Cnf = &sdjwtCnf{}
		if p.Cnf.JWK, err = json.Marshal(j); err != nil {
			return "", fmt.Errorf("holder key to JWK: %w", err)
		}
	}

	disclosures := make([]string, 0, len(names))
	for _, name := range names {
		claim := name
		if claim == "id" {
			claim = "sub" // the holder's DID, as the JWT claim for it
		}
		salt := make([]byte, saltSize)
		if _, err := io.ReadFull(r, salt); err != nil {
			return "", fmt.Errorf("draw salt: %w", err)
		}
		d, err := json.Marshal([]any{b64url.EncodeToString(salt), claim, claims[name]})
		if err != nil {
			return "", fmt.Errorf("encode disclosure of %s: %w", name, err)
		}
		disclosure := b64url.EncodeToString(d)
		disclosures = append(disclosures, disclosure)
		p.SD = append(p.SD, digestOf(disclosure))
	}
	decoys := opts.Decoys
	if decoys == 0 {
		decoys = 8 - len(p.SD)%8
	}
	for range max(decoys, 0) {
		noise := make([]byte, saltSize)
		if _, err := io.ReadFull(r, noise); err != nil {
			return "", fmt.Errorf("draw decoy: %w", err)
		}
		p.SD = append(p.SD, digestOf(b64url.EncodeToString(noise)))
	}
	slices.Sort(p.SD)
	if len(slices.Compact(slices.Clone(p.SD))) != len(p.SD) {
		// Only a random source that repeats itself gives two equal digests.
		return "", fmt.Errorf("two digests are equal: the random source is not random")
	}

	payload, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode SD-JWT payload: %w", err)
	}
	jwt, err := signCompactJWS(payload, k.Alg, k.Signer, map[string]any{"typ": SDJWTType, "kid": k.ID})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(jwt)
	b.WriteByte('~')
	for _, d := range disclosures {
		b.WriteString(d)
		b.WriteByte('~')
	}
	return b.String(), nil
}

// digestOf is the digest of a disclosure (or of any string): the
// base64url SHA-256 of its ASCII form (RFC 9901 section 4.2.3).
func digestOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return b64url.EncodeToString(sum[:])
}

// PresentSDJWT makes a presentation of an SD-JWT in issuance form for one
// verifier: it keeps the disclosures of the claims named in disclose (the
// credentialSubject claim names; "id" is the holder's DID) and drops the
// rest. Naming a claim the credential does not have is an error. With a holder key, it appends a key-binding JWT (typ kb+jwt) for
// audience aud with the verifier's nonce, issued at now, whose sd_hash
// covers the presentation. holder nil means no key binding, which a
// verifier refuses when the credential is bound to a key.
func PresentSDJWT(sdjwt string, disclose []string, holder crypto.Signer, aud, nonce string, now time.Time) (string, error) {
	parts := strings.Split(strings.TrimSpace(sdjwt), "~")
	if len(parts) < 2 {
		return "", fmt.Errorf("not an SD-JWT: it has no ~ separators")
	}
	if parts[len(parts)-1] != "" {
		return "", fmt.Errorf("the SD-JWT already ends in a key-binding JWT: present the SD-JWT as the issuer gave it")
	}
	want := make(map[string]bool, len(disclose))
	for _, name := range disclose {
		if name == "id" {
			name = "sub"
		}
		want[name] = false
	}
	var b strings.Builder
	b.WriteString(parts[0])
	b.WriteByte('~')
	for i, d := range parts[1 : len(parts)-1] {
		dis, err := decodeDisclosure(d)
		if err != nil {
			return "", fmt.Errorf("disclosure %d: %w", i+1, err)
		}
		if dis.array {
			return "", fmt.Errorf("disclosure %d discloses an array element, which tally credentials do not use", i+1)
		}
		if _, ok := want[dis.name]; ok {
			want[dis.name] = true
			b.WriteString(d)
			b.WriteByte('~')
		}
	}
	for name, found := range want {
		if !found {
			return "", fmt.Errorf("the credential has no claim %q to disclose", name)
		}
	}
	presentation := b.String()
	if holder == nil {
		return presentation, nil
	}

	if aud == "" || nonce == "" {
		return "", fmt.Errorf("a key-binding JWT needs the verifier's audience and nonce")
	}
	bound, err := boundKey(parts[0])
	if err != nil {
		return "", err
	}
	if bound == nil {
		return "", fmt.Errorf("the credential is bound to no holder key: present it without key binding")
	}
	if !samePublicKey(bound, holder.Public()) {
		return "", fmt.Errorf("the holder key is not the key the credential is bound to")
	}
	alg, err := AlgorithmOf(holder.Public())
	if err != nil {
		return "", fmt.Errorf("holder key: %w", err)
	}
	kb, err := json.Marshal(kbPayload{
		Iat:    now.Unix(),
		Aud:    aud,
		Nonce:  nonce,
		SDHash: digestOf(presentation),
	})
	if err != nil {
		return "", err
	}
	kbJWT, err := signCompactJWS(kb, alg, holder, map[string]any{"typ": KeyBindingType})
	if err != nil {
		return "", fmt.Errorf("key-binding JWT: %w", err)
	}
	return presentation + kbJWT, nil
}

// kbPayload is the payload of a key-binding JWT (RFC 9901 section 4.3).
type kbPayload struct {
	Iat    int64  `json:"iat"`
	Aud    string `json:"aud"`
	Nonce  string `json:"nonce"`
	SDHash string `json:"sd_hash"`
}

// boundKey reads the cnf.jwk of an issuer-signed JWT, without checking
// its signature; nil when there is none.
func boundKey(jwt string) (crypto.PublicKey, error) {
	j, err := parseCompactJWS([]byte(jwt), "SD-JWT", nil)
	if err != nil {
		return nil, err
	}
	var p struct {
		Cnf *struct {
			JWK rawJSON `json:"jwk"`
		} `json:"cnf"`
	}
	if err := unmarshalJSON(j.payload, &p); err != nil {
		return nil, fmt.Errorf("SD-JWT payload is not a JSON object: %w", ErrMalformed)
	}
	if p.Cnf == nil {
		return nil, nil
	}
	return holderKey(p.Cnf.JWK)
}

// holderKey reads the JWK of a cnf claim.
func holderKey(raw []byte) (crypto.PublicKey, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("SD-JWT cnf claim binds a key by other means than a JWK: %w", ErrUnsupported)
	}
	pub, _, err := ParseJWK(raw)
	if err != nil {
		// ParseJWK's words may quote the key's members: the holder's key
		// identifies the holder, so none of it goes into the error.
		return nil, fmt.Errorf("SD-JWT cnf.jwk is not a public Ed25519 or P-256 JWK: %w", ErrMalformed)
	}
	return pub, nil
}

// disclosure is one decoded disclosure: [salt, claim name, value] for an
// object property, [salt, value] for an array element.
type disclosure struct {
	name  string
	array bool
	value rawJSON
}

// decodeDisclosure decodes a disclosure (RFC 9901 section 4.2).
func decodeDisclosure(s string) (disclosure, error) {
	raw, err := b64url.DecodeString(s)
	if err != nil {
		return disclosure{}, fmt.Errorf("is not base64url: %w", ErrMalformed)
	}
	// Its value may be handed on as it came: it must be JSON, and bounded.
	if !utf8.Valid(raw) || !json.Valid(raw) {
		return disclosure{}, fmt.Errorf("is not UTF-8 JSON: %w", ErrMalformed)
	}
	if err := checkJSONBounds(raw, "JSON"); err != nil {
		return disclosure{}, fmt.Errorf("is too large: %w", err)
	}
	var elems []rawJSON
	if err := unmarshalJSON(raw, &elems); err != nil {
		return disclosure{}, fmt.Errorf("is not a JSON array: %w", ErrMalformed)
	}
	var salt string
	var d disclosure
	switch len(elems) {
	case 3:
		if unmarshalJSON(elems[1], &d.name) != nil {
			return disclosure{}, fmt.Errorf("claim name must be a string: %w", ErrMalformed)
		}
		d.value = elems[2]
	case 2:
		d.array, d.value = true, elems[1]
	default:
		return disclosure{}, fmt.Errorf("has %d elements, not [salt, name, value] or [salt, value]: %w", len(elems), ErrMalformed)
	}
	if unmarshalJSON(elems[0], &salt) != nil {
		return disclosure{}, fmt.Errorf("salt must be a string: %w", ErrMalformed)
	}
	return d, nil
}

// Sentinel errors of key binding. VerifyKeyBinding wraps one of them, or
// ErrBadSignature, with the details; callers tell them apart with
// errors.Is.
var (
	// ErrNoKeyBinding: the credential is bound to a holder key, and the
	// presentation has no key-binding JWT.
	ErrNoKeyBinding = errors.New("no key-binding JWT")
	// ErrKeyBindingAudience: the key-binding JWT is for another verifier.
	ErrKeyBindingAudience = errors.New("key-binding JWT is for another audience")
	// ErrKeyBindingNonce: the key-binding JWT answers another challenge.
	ErrKeyBindingNonce = errors.New("key-binding JWT has another nonce")
	// ErrKeyBindingTime: the key-binding JWT was not made just now.
	ErrKeyBindingTime = errors.New("key-binding JWT was not issued just now")
	// ErrKeyBindingHash: the key-binding JWT was made for other
	// disclosures, or another credential.
	ErrKeyBindingHash = errors.New("key-binding JWT does not cover this presentation")
)

// DefaultKeyBindingWindow is how far a key-binding JWT's iat may lie from
// the verifier's clock when VerifyKeyBinding is given no skew.
const DefaultKeyBindingWindow = 5 * time.Minute
