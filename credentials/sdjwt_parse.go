package credentials

import (
	"bytes"
	"crypto"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SDJWT is a parsed SD-JWT VC, or a presentation of one, whose signatures
// have not been checked yet. It implements Secured; its Credential holds
// only the disclosed claims.
type SDJWT struct {
	jws       *compactJWS
	keyID     string
	cred      *Credential
	vct       string
	disclosed []string
	holder    crypto.PublicKey
	kb        *compactJWS // nil without a key-binding JWT
	kbClaims  kbClaims
	sdHash    string // the sd_hash a key-binding JWT must carry
	// tokenStatus is the status.status_list claim, or nil.
	tokenStatus *TokenStatusRef
}

// kbClaims is a key-binding JWT payload as read: aud may be a string or a
// list.
type kbClaims struct {
	Iat    *float64 `json:"iat"`
	Aud    rawJSON  `json:"aud"`
	Nonce  *string  `json:"nonce"`
	SDHash *string  `json:"sd_hash"`
}

// Claims of the issuer-signed payload that are never selectively
// disclosed (RFC 9901 section 4.2.2 and SD-JWT VC section 3.2.2) and
// never read as credentialSubject claims.
var sdjwtEnvelopeClaims = []string{
	"iss", "iat", "nbf", "exp", "aud", "vct", "vct#integrity", "jti", "cnf",
	"status", "credentialStatus", "_sd", "_sd_alg", "...",
}

// ParseSDJWT reads an SD-JWT VC in issuance or presentation form
// (JWT~disclosure~...~ with an optional key-binding JWT at the end), or an
// enveloped one. It checks the issuer JWT's header, that every disclosure
// is one the issuer signed a digest of (once), and that the disclosed
// claims are valid; not the signatures: call VerifySignature with the
// issuer's key, then VerifyKeyBinding. Errors wrap ErrMalformed or
// ErrUnsupported. Like ParseJWT, it keeps a reference to raw.
func ParseSDJWT(raw []byte) (*SDJWT, error) {
	raw = bytes.TrimSpace(raw)
	if inner, ok := UnwrapEnveloped(raw); ok {
		raw = bytes.TrimSpace(inner)
	}
	if len(raw) > 4*maxTokenSize {
		return nil, fmt.Errorf("SD-JWT is longer than %d bytes: %w", 4*maxTokenSize, ErrMalformed)
	}
	last := bytes.LastIndexByte(raw, '~')
	if last < 0 {
		return nil, fmt.Errorf("SD-JWT has no ~ separator: %w", ErrMalformed)
	}
	parts := strings.Split(string(raw[:last]), "~")
	j, err := parseCompactJWS([]byte(parts[0]), "SD-JWT", nil)
	if err != nil {
		return nil, err
	}
	if !mediaTypeIs(j.header.Typ, SDJWTType) && !mediaTypeIs(j.header.Typ, "vc+sd-jwt") {
		return nil, fmt.Errorf("SD-JWT header typ %q is not %s: %w", j.header.Typ, SDJWTType, ErrMalformed)
	}
	s := &SDJWT{jws: j, sdHash: digestOf(string(raw[:last+1]))}
	if err := s.readPayload(j.payload, parts[1:]); err != nil {
		return nil, err
	}
	if kb := raw[last+1:]; len(kb) > 0 {
		if err := s.readKeyBinding(kb); err != nil {
			return nil, err
		}
	}
	if s.keyID, err = keyIDFor(j.header.Kid, s.cred.Issuer, "SD-JWT header"); err != nil {
		return nil, err
	}
	return s, nil
}

// readPayload reads the issuer-signed payload and the disclosures.
func (s *SDJWT) readPayload(payload []byte, disclosures []string) error {
	var members map[string]rawJSON
	if err := unmarshalJSON(payload, &members); err != nil {
		return fmt.Errorf("SD-JWT payload is not a JSON object: %w", ErrMalformed)
	}
	var env struct {
		Iss   string
		VCT   string
		Jti   string
		Iat   *float64
		Nbf   *float64
		Exp   *float64
		SD    []string
		SDAlg *string
		Cnf   *struct {
			JWK rawJSON `json:"jwk"`
		}
		Status rawJSON
	}
	for _, m := range []struct {
		name string
		to   any
	}{
		{"iss", &env.Iss}, {"vct", &env.VCT}, {"jti", &env.Jti}, {"iat", &env.Iat}, {"nbf", &env.Nbf},
		{"exp", &env.Exp}, {"_sd", &env.SD}, {"_sd_alg", &env.SDAlg}, {"cnf", &env.Cnf},
	} {
		if v, ok := members[m.name]; ok {
			if err := unmarshalJSON(v, m.to); err != nil {
				return fmt.Errorf("SD-JWT claim %s has the wrong type: %w", m.name, ErrMalformed)
			}
		}
	}
	tokenStatus, err := readStatusClaim(members["status"])
	if err != nil {
		return err
	}
	s.tokenStatus = tokenStatus
	if env.SDAlg != nil && *env.SDAlg != "sha-256" {
		return fmt.Errorf("SD-JWT _sd_alg %q is not supported: tally uses sha-256: %w", *env.SDAlg, ErrUnsupported)
	}

	c := &Credential{ID: env.Jti, Issuer: env.Iss}
	t, ok := strings.CutPrefix(env.VCT, VCTBase)
	if c.Type, _ = ParseType(t); !ok || c.Type == "" {
		return fmt.Errorf("SD-JWT vct %q is not a tally credential type (%s...): %w", env.VCT, VCTBase, ErrMalformed)
	}
	for _, d := range []struct {
		name string
		in   *float64
		out  *time.Time
	}{{"nbf", env.Nbf, &c.ValidFrom}, {"exp", env.Exp, &c.ValidUntil}, {"iat", env.Iat, new(time.Time)}} {
		nd, err := numericDateOf(d.in)
		if err != nil {
			return fmt.Errorf("SD-JWT claim %s: %v: %w", d.name, err, ErrMalformed)
		}
		if nd.set {
			*d.out = nd.time()
		}
	}
	if st := members["credentialStatus"]; len(st) > 0 && string(st) != "null" {
		list, err := parseStatus(st)
		if err == nil {
			c.Status = make([]StatusEntry, len(list))
			for i := range list {
				if c.Status[i], err = list[i].entry(); err != nil {
					break
				}
			}
		}
		if err != nil {
			return fmt.Errorf("SD-JWT: %w: %w", err, ErrMalformed)
		}
	}
	if env.Cnf != nil {
		var err error
		if s.holder, err = holderKey(env.Cnf.JWK); err != nil {
			return err
		}
	}

	// The subject: the claims in the clear, then the disclosed ones.
	subject := make(map[string]rawJSON)
	for name, v := range members {
		if !slices.Contains(sdjwtEnvelopeClaims, name) {
			subject[name] = v
		}
	}
	digests := make(map[string]bool, len(env.SD))
	for _, d := range env.SD {
		if _, dup := digests[d]; dup {
			return fmt.Errorf("SD-JWT _sd lists the digest %s twice: %w", d, ErrMalformed)
		}
		digests[d] = false
	}
	for i, text := range disclosures {
		used, known := digests[digestOf(text)]
		switch {
		case text == "":
			return fmt.Errorf("SD-JWT disclosure %d is empty (two ~ in a row): %w", i+1, ErrMalformed)
		case !known:
			return fmt.Errorf("SD-JWT disclosure %d is not one the issuer signed (its digest is not in _sd): %w", i+1, ErrMalformed)
		case used:
			return fmt.Errorf("SD-JWT disclosure %d is given twice: %w", i+1, ErrMalformed)
		}
		digests[digestOf(text)] = true
		d, err := decodeDisclosure(text)
		if err != nil {
			return fmt.Errorf("SD-JWT disclosure %d %w", i+1, err)
		}
		if slices.Contains(sdjwtEnvelopeClaims, d.name) {
			return fmt.Errorf("SD-JWT disclosure %d discloses %q, a claim that is never selectively disclosed: %w", i+1, d.name, ErrMalformed)
		}
		if _, dup := subject[d.name]; dup {
			return fmt.Errorf("SD-JWT disclosure %d discloses %q, which the credential already has: %w", i+1, d.name, ErrMalformed)
		}
		subject[d.name] = d.value
	}
	if v, ok := subject["sub"]; ok {
		// The holder's DID is the JWT's sub claim and the subject's id.
		if _, dup := subject["id"]; dup {
			return fmt.Errorf("SD-JWT has both sub and id: %w", ErrMalformed)
		}
		delete(subject, "sub")
		subject["id"] = v
	}
	s.disclosed = make([]string, 0, len(subject))
	for name := range subject {
		s.disclosed = append(s.disclosed, name)
	}
	slices.Sort(s.disclosed)
	subjectJSON, err := json.Marshal(subject)
	if err != nil {
		return fmt.Errorf("SD-JWT claims: %v: %w", err, ErrMalformed)
	}
	if c.Subject, err = decodeSubject(c.Type, subjectJSON); err != nil {
		return fmt.Errorf("SD-JWT claims: %w: %w", err, ErrMalformed)
	}
	if err := c.ValidateDisclosed(); err != nil {
		return fmt.Errorf("SD-JWT credential: %w: %w", err, ErrMalformed)
	}
	s.cred, s.vct = c, env.VCT
	return nil
}

// readKeyBinding reads the key-binding JWT at the end of a presentation.
func (s *SDJWT) readKeyBinding(token []byte) error {
	kb, err := parseCompactJWS(token, "key-binding JWT", nil)
	if err != nil {
		return err
	}
	if !mediaTypeIs(kb.header.Typ, KeyBindingType) {
		return fmt.Errorf("key-binding JWT header typ %q is not %s: %w", kb.header.Typ, KeyBindingType, ErrMalformed)
	}
	if err := unmarshalJSON(kb.payload, &s.kbClaims); err != nil {
		return fmt.Errorf("key-binding JWT payload is not a JSON object of iat, aud, nonce and sd_hash: %w", ErrMalformed)
	}
	switch k := s.kbClaims; {
	case k.Iat == nil, len(k.Aud) == 0, k.Nonce == nil, k.SDHash == nil:
		return fmt.Errorf("key-binding JWT lacks one of iat, aud, nonce and sd_hash: %w", ErrMalformed)
	}
	if _, err := numericDateOf(s.kbClaims.Iat); err != nil {
		return fmt.Errorf("key-binding JWT iat: %v: %w", err, ErrMalformed)
	}
	if _, err := s.audiences(); err != nil {
		return err
	}
	s.kb = kb
	return nil
}

func (s *SDJWT) audiences() ([]string, error) {
	var one string
	if unmarshalJSON(s.kbClaims.Aud, &one) == nil {
		return []string{one}, nil
	}
	var list []string
	if unmarshalJSON(s.kbClaims.Aud, &list) != nil {
		return nil, fmt.Errorf("key-binding JWT aud must be a string: %w", ErrMalformed)
	}
	return list, nil
}

// Format implements Secured.
func (s *SDJWT) Format() Format { return FormatSDJWT }

// Issuer implements Secured: the iss claim.
func (s *SDJWT) Issuer() string { return s.cred.Issuer }

// KeyID implements Secured: the kid header as a DID URL of the issuer's,
// or "".
func (s *SDJWT) KeyID() string { return s.keyID }

// Credential implements Secured. Its subject holds only the disclosed
// claims; its @context is empty, as SD-JWT VC has none.
func (s *SDJWT) Credential() *Credential { return s.cred }

// VCT is the vct claim: the credential type under VCTBase.
func (s *SDJWT) VCT() string { return s.vct }

// Disclosed lists the names of the credentialSubject claims the
// presentation reveals, sorted ("id" for the holder's DID).
func (s *SDJWT) Disclosed() []string { return slices.Clone(s.disclosed) }

// Holder is the key the credential is bound to (cnf.jwk), or nil.
func (s *SDJWT) Holder() crypto.PublicKey { return s.holder }

// VerifySignature implements Secured: it checks the issuer-signed JWT with
// pub. The disclosures were checked against its digests by ParseSDJWT.
func (s *SDJWT) VerifySignature(pub crypto.PublicKey) error {
	return s.jws.verify(pub, "SD-JWT signature")
}

// VerifyKeyBinding checks the key-binding JWT of a presentation of a
// credential bound to a holder key: signed with that key, over this very
// presentation (sd_hash), for audience aud and the nonce the verifier
// gave, issued within skew of now (DefaultKeyBindingWindow when skew is
// not positive). A credential bound to no key needs none, and passes. Call
// it after VerifySignature, which vouches for the holder key.
func (s *SDJWT) VerifyKeyBinding(aud, nonce string, now time.Time, skew time.Duration) error {
	if s.holder == nil {
		if s.kb != nil {
			return fmt.Errorf("the presentation has a key-binding JWT but the credential names no holder key: %w", ErrMalformed)
		}
		return nil
	}
	if s.kb == nil {
		return fmt.Errorf("the credential is bound to a holder key but the presentation has %w", ErrNoKeyBinding)
	}
	if err := s.kb.verify(s.holder, "key-binding JWT"); err != nil {
		return err
	}
	if *s.kbClaims.SDHash != s.sdHash {
		return fmt.Errorf("%w: its sd_hash is not the hash of the issuer JWT and disclosures it came with", ErrKeyBindingHash)
	}
	auds, _ := s.audiences()
	if !slices.Contains(auds, aud) {
		return fmt.Errorf("%w: it is for %q, not %q", ErrKeyBindingAudience, strings.Join(auds, ", "), aud)
	}
	if *s.kbClaims.Nonce != nonce {
		return fmt.Errorf("%w: the verifier asked for another nonce than %q", ErrKeyBindingNonce, *s.kbClaims.Nonce)
	}
	if skew <= 0 {
		skew = DefaultKeyBindingWindow
	}
	iat, _ := numericDateOf(s.kbClaims.Iat)
	if at := iat.time(); at.Before(now.Add(-skew)) || at.After(now.Add(skew)) {
		return fmt.Errorf("%w: it was issued at %s, more than %s from %s", ErrKeyBindingTime, formatTime(at), skew, formatTime(now))
	}
	return nil
}

// View is the generic view of the credential.
func (s *SDJWT) View() *View {
	v := s.cred.View()
	v.TokenStatus = s.TokenStatus()
	return v
}
