package credentials

import (
	"bytes"
	"crypto"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// VC-JWT: a credential secured with JOSE as W3C "Securing Verifiable
// Credentials using JOSE and COSE" (VC-JOSE-COSE) defines it. The JWS
// payload is the credential itself, in VCDM 2.0 JSON. tally adds the JWT
// claims iss, jti, iat, nbf and exp beside it, mirroring issuer, id,
// validFrom and validUntil, so that plain JWT libraries enforce the
// validity period too. See docs/formats.md.

// The JOSE header values tally writes on a VC-JWT.
const (
	JWTType        = "vc+jwt" // typ
	JWTContentType = "vc"     // cty
)

// IssueJWT signs c as a VC-JWT with k at time now (the iat claim). The
// credential must be complete and valid (see Prepare) and issued by k's DID.
func IssueJWT(c *Credential, k *Key, now time.Time) (string, error) {
	if err := checkIssuable(c, k); err != nil {
		return "", err
	}
	if isContextV1(c.Context) {
		return "", fieldError("@context", "starts with the VCDM 1.1 context %s: a VC-JWT is VCDM 2.0; issue a VCDM 1.1 JWT with IssueJWT11", BaseContextV1)
	}
	body, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode credential: %w", err)
	}
	// The credential is a JSON object; the JWT claims join its members.
	payload := make([]byte, 0, len(body)+160)
	payload = append(payload, body[:len(body)-1]...)
	payload = appendStringClaim(payload, "iss", c.Issuer)
	if c.ID != "" {
		payload = appendStringClaim(payload, "jti", c.ID)
	}
	payload = appendDateClaim(payload, "iat", now)
	if !c.ValidFrom.IsZero() {
		payload = appendDateClaim(payload, "nbf", c.ValidFrom)
	}
	if !c.ValidUntil.IsZero() {
		payload = appendDateClaim(payload, "exp", c.ValidUntil)
	}
	payload = append(payload, '}')
	return signCompactJWS(payload, k.Alg, k.Signer, map[string]any{
		"typ": JWTType,
		"cty": JWTContentType,
		"kid": k.ID,
	})
}

// checkIssuable checks that k may sign c.
func checkIssuable(c *Credential, k *Key) error {
	if k == nil || k.Signer == nil {
		return fmt.Errorf("the issuer key has no private part to sign with")
	}
	if c.Issuer != k.DID {
		return fmt.Errorf("the credential's issuer is %q, but the key belongs to %s", c.Issuer, k.DID)
	}
	return c.Validate()
}

func appendStringClaim(b []byte, name, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	quoted, _ := json.Marshal(value) // a string always encodes
	return append(b, quoted...)
}

func appendDateClaim(b []byte, name string, t time.Time) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, t.Unix(), 10)
}

// JWT is a parsed VC-JWT whose signature has not been checked yet. It
// implements Secured.
type JWT struct {
	jws      *compactJWS
	keyID    string
	cred     *Credential // nil for a type that is not tally's
	view     *View       // for a type that is not tally's
	issuedAt time.Time
}

// jwtClaims are the JWT claims (RFC 7519) a VC-JWT payload may carry
// beside the credential's members. A VCDM 1.1-style payload has the
// credential in the vc claim instead.
type jwtClaims struct {
	Iss *string  `json:"iss"`
	Sub string   `json:"sub"`
	Jti *string  `json:"jti"`
	Iat *float64 `json:"iat"`
	Nbf *float64 `json:"nbf"`
	Exp *float64 `json:"exp"`
	VC  rawJSON  `json:"vc"`
	VP  rawJSON  `json:"vp"`
}

// jwtPayload is a VC-JWT payload whose credential members have their usual
// shapes, decoded in one pass; jwtPayloadAnyShape is the slower fallback.
type jwtPayload struct {
	credentialParts
	jwtClaims
}

type jwtPayloadAnyShape struct {
	credentialFields
	jwtClaims
}

// dates reads the NumericDate claims.
func (p *jwtClaims) dates() (iat, nbf, exp numericDate, err error) {
	for _, d := range []struct {
		name string
		in   *float64
		out  *numericDate
	}{{"iat", p.Iat, &iat}, {"nbf", p.Nbf, &nbf}, {"exp", p.Exp, &exp}} {
		if *d.out, err = numericDateOf(d.in); err != nil {
			return iat, nbf, exp, fmt.Errorf("VC-JWT claim %s: %v: %w", d.name, err, ErrMalformed)
		}
	}
	return iat, nbf, exp, nil
}

// ParseJWT reads a VC-JWT: the compact JWS, or its enveloped forms
// ("data:application/vc+jwt,..." or an EnvelopedVerifiableCredential
// object). It checks the header (alg EdDSA or ES256, no critical
// extensions) and that the JWT claims agree with the credential; not the
// signature: call VerifySignature with the issuer's key. Errors wrap
// ErrMalformed or ErrUnsupported.
//
// A credential of one of tally's types must be valid (Credential holds
// it). A credential of any other type is read into a View, with no schema
// and no JSON-LD processing: a VCDM 2.0 credential as the payload
// (VC-JOSE-COSE), or a VCDM 1.1 or 2.0 credential in a vc claim (VCDM 1.1
// section 6.3.1), whose JWT claims then stand in for the members they
// encode; Credential is nil. See docs/formats.md.
//
// The JWT keeps a reference to raw for VerifySignature: change raw before
// then and the signature will not verify.
func ParseJWT(raw []byte) (*JWT, error) {
	raw = bytes.TrimSpace(raw)
	if inner, ok := UnwrapEnveloped(raw); ok {
		raw = inner
	}
	j, err := parseCompactJWS(raw, "VC-JWT", &jwtStart)
	if err != nil {
		return nil, err
	}
	switch h := j.header; {
	case h.Typ != "" && !mediaTypeIs(h.Typ, "vc+jwt") && !mediaTypeIs(h.Typ, "JWT") &&
		!mediaTypeIs(h.Typ, "vc+ld+json+jwt") && !mediaTypeIs(h.Typ, "vc+ld+jwt") && !mediaTypeIs(h.Typ, "vc-ld+jwt"):
		return nil, fmt.Errorf("VC-JWT header typ %q is not a credential's (vc+jwt): %w", h.Typ, ErrMalformed)
	case mediaTypeIs(h.Cty, "JWT"):
		return nil, fmt.Errorf("VC-JWT is a nested JWT (cty JWT), which tally does not read: %w", ErrUnsupported)
	}

	body, defaultContext := cutDefaultContext(j)
	// tally's own credentials, as tally writes them, decode in one pass.
	var p jwtPayload
	fast := unmarshalJSON(body, &p) == nil
	if fast && len(p.VC) == 0 && len(p.VP) == 0 && namesTallyType(p.Type) {
		if defaultContext && len(p.Context) == 0 {
			p.Context = defaultContextJSON
		}
		return readTallyJWT(j, &p.credentialParts, &p.jwtClaims)
	}

	// Anything else: members in other shapes, a vc claim, other types.
	var f jwtPayloadAnyShape
	claims, types := &p.jwtClaims, p.Type
	if !fast {
		if err := unmarshalJSON(body, &f); err != nil {
			return nil, fmt.Errorf("VC-JWT payload is not a JSON object of credential members and JWT claims: %s: %w", jsonProblem(err), ErrMalformed)
		}
		claims = &f.jwtClaims
		types, _ = parseTypeList(f.Type)
	}
	if len(claims.VC) > 0 {
		types = typesIn(claims.VC)
	}
	if len(claims.VP) > 0 || !namesTallyType(types) {
		return readForeignJWT(j, body, defaultContext)
	}
	parts := &p.credentialParts
	if !fast {
		if parts, err = f.parts(); err != nil {
			return nil, fmt.Errorf("VC-JWT payload: %w: %w", err, ErrMalformed)
		}
	}
	if defaultContext && len(parts.Context) == 0 {
		parts.Context = defaultContextJSON
	}
	return readTallyJWT(j, parts, claims)
}

// namesTallyType reports whether a type list names one of tally's types.
func namesTallyType(types []string) bool {
	for _, s := range types {
		switch Type(s) {
		case TypeRegistration, TypeEligibility, TypeReferral:
			return true
		}
	}
	return false
}

// typesIn reads the "type" of a credential's JSON, or nil.
func typesIn(credential []byte) []string {
	var head struct {
		Type rawJSON `json:"type"`
	}
	if unmarshalJSON(credential, &head) != nil {
		return nil
	}
	types, _ := parseTypeList(head.Type)
	return types
}

// readTallyJWT reads a VC-JWT of one of tally's types: the credential
// members parts of the payload (empty when the credential is in a vc
// claim) and its JWT claims.
func readTallyJWT(j *compactJWS, parts *credentialParts, claims *jwtClaims) (*JWT, error) {
	iat, nbf, exp, err := claims.dates()
	if err != nil {
		return nil, err
	}
	switch {
	case len(claims.VP) > 0:
		return nil, fmt.Errorf("VC-JWT payload is a presentation (vp claim), not a credential: %w", ErrMalformed)
	case len(claims.VC) > 0:
		if len(parts.Context) > 0 || parts.Type != nil || len(parts.Subject) > 0 {
			return nil, fmt.Errorf("VC-JWT payload has both a vc claim and credential members: %w", ErrMalformed)
		}
		// A VCDM 1.1-style JWT may leave to its claims what they carry
		// (see jwt11.go).
		if parts, err = readVCClaim(claims.VC, claims, nbf, exp); err != nil {
			return nil, fmt.Errorf("VC-JWT vc claim: %w: %w", err, ErrMalformed)
		}
	}
	c, err := parts.credential()
	if err != nil {
		return nil, fmt.Errorf("VC-JWT payload: %w: %w", err, ErrMalformed)
	}
	if len(claims.VC) > 0 {
		setSubjectIDFromSub(c.Subject, claims.Sub)
	}
	if err := claims.agreeWith(c, nbf, exp); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("VC-JWT credential: %w: %w", err, ErrMalformed)
	}
	out := &JWT{jws: j, cred: c}
	if iat.set {
		out.issuedAt = iat.time()
	}
	if out.keyID, err = keyIDFor(j.header.Kid, c.Issuer, "VC-JWT header"); err != nil {
		return nil, err
	}
	return out, nil
}

// jwtStart is how the payloads tally writes begin: the @context member
// with tally's default context. The parser skips it, and reads the default
// context without decoding it.
var jwtStart = newKnownStart(append([]byte(`{"@context":`), defaultContextJSON...))

// cutDefaultContext takes the default @context member off a payload that
// parseCompactJWS decoded without jwtStart. It returns the rest as a JSON
// object, or the whole payload and false. It may overwrite payload.
func cutDefaultContext(j *compactJWS) ([]byte, bool) {
	if !j.skipped {
		return j.payload, false
	}
	// The bytes of the member that jwtStart leaves, then a comma.
	const member = `{"@context":`
	tail := len(member) + len(defaultContextJSON) - len(jwtStart.decoded)
	if len(j.payload) > tail && j.payload[tail] == ',' &&
		bytes.Equal(j.payload[:tail], defaultContextJSON[len(defaultContextJSON)-tail:]) {
		j.payload[tail] = '{'
		return j.payload[tail:], true
	}
	// Another @context that starts alike: put the start back.
	return append(slices.Clip(jwtStart.decoded), j.payload...), false
}

// agreeWith checks that the JWT claims say what the credential says.
func (p *jwtClaims) agreeWith(c *Credential, nbf, exp numericDate) error {
	// The values are not quoted: sub is the holder's DID, personal data.
	mismatch := func(claim, member string, _, _ any) error {
		return fmt.Errorf("VC-JWT claim %s differs from the credential's %s: %w", claim, member, ErrMalformed)
	}
	// Values that may identify a person (sub, the holder's DID) or a
	// credential (jti) are not quoted.
	differs := func(claim, member string) error {
		return fmt.Errorf("VC-JWT claim %s differs from the credential's %s: %w", claim, member, ErrMalformed)
	}
	if p.Iss != nil && *p.Iss != c.Issuer {
		return mismatch("iss", "issuer", *p.Iss, c.Issuer)
	}
	if p.Jti != nil && *p.Jti != c.ID {
		return differs("jti", "id")
	}
	if nbf.set && (c.ValidFrom.IsZero() || nbf.unix != c.ValidFrom.Unix()) {
		return mismatch("nbf", "validFrom", formatTime(nbf.time()), formatOptionalTime(c.ValidFrom))
	}
	if exp.set && (c.ValidUntil.IsZero() || exp.unix != c.ValidUntil.Unix()) {
		return mismatch("exp", "validUntil", formatTime(exp.time()), formatOptionalTime(c.ValidUntil))
	}
	if p.Sub != "" && p.Sub != subjectID(c.Subject) {
		return differs("sub", "credentialSubject.id")
	}
	return nil
}

func formatOptionalTime(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return formatTime(t)
}

// subjectID returns the holder DID a subject names, or "".
func subjectID(s Subject) string {
	switch s := s.(type) {
	case *Registration:
		return s.ID
	case *Eligibility:
		return s.ID
	case *Referral:
		return s.ID
	}
	return ""
}

// Format implements Secured.
func (j *JWT) Format() Format { return FormatJWT }

// Issuer implements Secured: the credential's issuer, which the iss claim,
// when present, repeats (or, in a VCDM 1.1-style JWT, stands in for).
func (j *JWT) Issuer() string {
	if j.cred == nil {
		return j.view.Issuer
	}
	return j.cred.Issuer
}

// KeyID implements Secured: the kid header as a DID URL of the issuer's
// (a bare fragment is resolved against the issuer's DID), or "" when the
// header has no kid.
func (j *JWT) KeyID() string { return j.keyID }

// Credential implements Secured: nil when the credential is not of one of
// tally's types.
func (j *JWT) Credential() *Credential { return j.cred }

// Algorithm is the signature algorithm the header names.
func (j *JWT) Algorithm() Algorithm { return j.jws.alg }

// IssuedAt is the iat claim, or zero when there is none.
func (j *JWT) IssuedAt() time.Time { return j.issuedAt }

// VerifySignature implements Secured: it checks the JWS signature with pub,
// which must be a key of the header's algorithm.
func (j *JWT) VerifySignature(pub crypto.PublicKey) error {
	return j.jws.verify(pub, "VC-JWT signature")
}

// View implements Secured: the generic view of the credential, for any
// type. Each call returns a new View.
func (j *JWT) View() *View {
	if j.cred == nil {
		return j.view.clone()
	}
	return j.cred.View()
}
