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
// have not been checked yet. It implements Secured. For one of tally's
// types its Credential holds only the disclosed claims; for any other vct
// Credential is nil and View holds what was disclosed.
type SDJWT struct {
	jws         *compactJWS
	keyID       string
	issuer      string
	cred        *Credential // tally's types
	view        *View       // other types
	tokenStatus *TokenStatusRef
	vct         string
	issuedAt    time.Time
	disclosed   []string
	holder      crypto.PublicKey
	kb          *compactJWS // nil without a key-binding JWT
	kbClaims    kbClaims
	sdHash      string // the sd_hash a key-binding JWT must carry
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
// disclosed and never read as credentialSubject claims of one of tally's
// types.
var sdjwtEnvelopeClaims = []string{
	"iss", "iat", "nbf", "exp", "aud", "vct", "vct#integrity", "jti", "cnf",
	"status", "credentialStatus", "_sd", "_sd_alg", "...",
}

// sdjwtNeverDisclosed are the claims an SD-JWT VC of any type must not
// disclose (SD-JWT VC section 3.2.2.2), and credentialStatus, which a
// holder could otherwise withhold to hide a revocation. iat and sub may
// be disclosed.
var sdjwtNeverDisclosed = []string{
	"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "credentialStatus", "_sd_alg",
}

// sdjwtViewEnvelope are the claims of an SD-JWT VC that the View holds
// elsewhere than in Claims (or not at all: _sd_alg).
var sdjwtViewEnvelope = []string{
	"iss", "iat", "nbf", "exp", "vct", "vct#integrity", "jti", "cnf", "status", "credentialStatus", "_sd_alg",
}

// ParseSDJWT reads an SD-JWT VC in issuance or presentation form
// (JWT~disclosure~...~ with an optional key-binding JWT at the end), or an
// enveloped one. It checks the issuer JWT's header, and processes the
// disclosures as RFC 9901 section 7.1 says: each must be one the issuer
// signed a digest of, once, and claims are disclosed at any depth, in
// objects and in arrays. It does not check the signatures: call
// VerifySignature with the issuer's key, then VerifyKeyBinding. Errors
// wrap ErrMalformed or ErrUnsupported. Like ParseJWT, it keeps a
// reference to raw.
//
// A vct of one of tally's types (VCT) gives a Credential, whose disclosed
// claims must be valid. Any other vct is read into a View: Types is the
// vct, Claims the disclosed claims.
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
	if n := bytes.Count(raw[:last], []byte{'~'}); n > maxDisclosures {
		return nil, fmt.Errorf("SD-JWT has more than %d disclosures: %w", maxDisclosures, ErrMalformed)
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
	if s.keyID, err = keyIDFor(j.header.Kid, s.issuer, "SD-JWT header"); err != nil {
		return nil, err
	}
	return s, nil
}

// sdjwtEnvelope are the claims of an SD-JWT VC's payload that are not
// about its subject.
type sdjwtEnvelope struct {
	Iss, VCT, Jti string
	Nbf, Exp      *float64
	SDAlg         *string
	Cnf           *struct {
		JWK rawJSON `json:"jwk"`
	}
}

// read decodes the envelope claims of members.
func (env *sdjwtEnvelope) read(members map[string]rawJSON) error {
	for _, m := range []struct {
		name string
		to   any
	}{
		{"iss", &env.Iss}, {"vct", &env.VCT}, {"jti", &env.Jti}, {"nbf", &env.Nbf},
		{"exp", &env.Exp}, {"_sd_alg", &env.SDAlg}, {"cnf", &env.Cnf},
	} {
		if v, ok := members[m.name]; ok {
			if err := unmarshalJSON(v, m.to); err != nil {
				return fmt.Errorf("SD-JWT claim %s has the wrong type: %w", m.name, ErrMalformed)
			}
		}
	}
	return nil
}

// readPayload reads the issuer-signed payload and the disclosures.
func (s *SDJWT) readPayload(payload []byte, disclosures []string) error {
	if err := checkJSONBounds(payload, "SD-JWT payload"); err != nil {
		return err
	}
	if !json.Valid(payload) {
		return fmt.Errorf("SD-JWT payload is not JSON: %w", ErrMalformed)
	}
	var members map[string]rawJSON
	if err := unmarshalJSON(payload, &members); err != nil || members == nil {
		return fmt.Errorf("SD-JWT payload is not a JSON object: %w", ErrMalformed)
	}
	var env sdjwtEnvelope
	if err := env.read(members); err != nil {
		return err
	}
	if env.SDAlg != nil && *env.SDAlg != "sha-256" {
		return fmt.Errorf("SD-JWT _sd_alg %q is not supported: tally uses sha-256: %w", *env.SDAlg, ErrUnsupported)
	}
	if env.VCT == "" {
		return fmt.Errorf("SD-JWT has no vct: it is not an SD-JWT VC: %w", ErrMalformed)
	}
	if env.Iss == "" {
		return fmt.Errorf("SD-JWT has no iss: tally finds an issuer's keys by iss in its trust list: %w", ErrUnsupported)
	}
	var tallyType Type
	if t, ok := strings.CutPrefix(env.VCT, VCTBase); ok {
		tallyType, _ = ParseType(t)
	}
	var nbf, exp numericDate
	for _, d := range []struct {
		name string
		in   *float64
		out  *numericDate
	}{{"nbf", env.Nbf, &nbf}, {"exp", env.Exp, &exp}} {
		var err error
		if *d.out, err = numericDateOf(d.in); err != nil {
			return fmt.Errorf("SD-JWT claim %s: %v: %w", d.name, err, ErrMalformed)
		}
	}
	if env.Cnf != nil {
		var err error
		if s.holder, err = holderKey(env.Cnf.JWK); err != nil {
			return err
		}
	}
	// The status claim (IETF Token Status List), which is never disclosed.
	tokenStatus, err := readStatusClaim(members["status"])
	if err != nil {
		return err
	}
	s.tokenStatus = tokenStatus
	s.issuer, s.vct = env.Iss, env.VCT

	never := sdjwtNeverDisclosed
	if tallyType != "" {
		never = sdjwtEnvelopeClaims
	}
	d, err := newDiscloser(disclosures, never)
	if err != nil {
		return err
	}
	claims, err := d.disclose(members)
	if err != nil {
		return err
	}
	// iat may be disclosed (SD-JWT VC section 3.2.2.2).
	if raw, ok := claims["iat"]; ok {
		var f float64
		if unmarshalJSON(raw, &f) != nil {
			return fmt.Errorf("SD-JWT claim iat has the wrong type: %w", ErrMalformed)
		}
		iat, err := numericDateOf(&f)
		if err != nil {
			return fmt.Errorf("SD-JWT claim iat: %v: %w", err, ErrMalformed)
		}
		s.issuedAt = iat.time()
	}
	if tallyType != "" {
		return s.readTallyClaims(tallyType, &env, nbf, exp, claims)
	}
	return s.readForeignClaims(&env, nbf, exp, claims)
}

// readTallyClaims reads the disclosed claims of one of tally's types,
// strictly: the subject's claims must be valid.
func (s *SDJWT) readTallyClaims(t Type, env *sdjwtEnvelope, nbf, exp numericDate, claims map[string]rawJSON) error {
	c := &Credential{ID: env.Jti, Issuer: env.Iss, Type: t, ValidFrom: nbf.timeOrZero(), ValidUntil: exp.timeOrZero()}
	if st := claims["credentialStatus"]; len(st) > 0 && string(st) != "null" {
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
	// The subject: the claims in the clear and the disclosed ones.
	subject := make(map[string]rawJSON, len(claims))
	for name, v := range claims {
		if !slices.Contains(sdjwtEnvelopeClaims, name) {
			subject[name] = v
		}
	}
	if v, ok := subject["sub"]; ok {
		// The holder's DID is the JWT's sub claim and the subject's id.
		if _, dup := subject["id"]; dup {
			return fmt.Errorf("SD-JWT has both sub and id: %w", ErrMalformed)
		}
		delete(subject, "sub")
		subject["id"] = v
	}
	s.disclosed = sortedNames(subject)
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
	s.cred = c
	return nil
}

// readForeignClaims reads the disclosed claims of an SD-JWT VC of any
// other vct into a View, with no schema: Claims are every claim in the
// clear or disclosed, but those the View holds elsewhere.
func (s *SDJWT) readForeignClaims(env *sdjwtEnvelope, nbf, exp numericDate, claims map[string]rawJSON) error {
	v := &View{
		Types:      []string{env.VCT},
		Issuer:     env.Iss,
		ID:         env.Jti,
		ValidFrom:  nbf.timeOrZero(),
		ValidUntil: exp.timeOrZero(),
	}
	// A Bitstring Status List entry, as tally's own SD-JWT VCs carry it.
	var status anyCredential
	if err := status.readStatus(claims["credentialStatus"]); err != nil {
		return fmt.Errorf("SD-JWT: %w: %w", err, ErrMalformed)
	}
	v.Status, v.UncheckedStatus, v.Skipped = status.view.Status, status.view.UncheckedStatus, status.view.Skipped
	if _, ok := claims["vct#integrity"]; ok {
		v.Skipped = append(v.Skipped, "vct#integrity: the type metadata is not fetched nor checked")
	}
	subject := make(map[string]rawJSON, len(claims))
	for name, value := range claims {
		if !slices.Contains(sdjwtViewEnvelope, name) {
			subject[name] = value
		}
	}
	s.disclosed = sortedNames(subject)
	var err error
	if v.Claims, err = json.Marshal(subject); err != nil {
		return fmt.Errorf("SD-JWT claims: %v: %w", err, ErrMalformed)
	}
	s.view = v
	return nil
}

// sortedNames lists the names of m in order.
func sortedNames(m map[string]rawJSON) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
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
func (s *SDJWT) Issuer() string { return s.issuer }

// KeyID implements Secured: the kid header as a DID URL of the issuer's,
// or "".
func (s *SDJWT) KeyID() string { return s.keyID }

// Credential implements Secured: for one of tally's types, the credential
// whose subject holds only the disclosed claims (its @context is empty, as
// SD-JWT VC has none); nil for any other vct.
func (s *SDJWT) Credential() *Credential { return s.cred }

// VCT is the vct claim: for tally's types, the credential type under
// VCTBase.
func (s *SDJWT) VCT() string { return s.vct }

// IssuedAt is the iat claim, or zero when there is none.
func (s *SDJWT) IssuedAt() time.Time { return s.issuedAt }

// Disclosed lists, sorted, the names of the claims the presentation
// reveals (in the clear or disclosed): for tally's types the
// credentialSubject claims ("id" for the holder's DID), for other types
// the top-level claims in View().Claims.
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

// KeyBindingAudiences are the aud values of the presentation's
// key-binding JWT (one, as a rule), or nil when there is none.
func (s *SDJWT) KeyBindingAudiences() []string {
	if s.kb == nil {
		return nil
	}
	auds, _ := s.audiences()
	return auds
}

// KeyBindingIssuedAt is the iat of the presentation's key-binding JWT, or
// zero when there is none.
func (s *SDJWT) KeyBindingIssuedAt() time.Time {
	if s.kb == nil {
		return time.Time{}
	}
	iat, _ := numericDateOf(s.kbClaims.Iat)
	return iat.time()
}

// View implements Secured: the generic view of what was disclosed, for any
// vct. Each call returns a new View.
func (s *SDJWT) View() *View {
	var v *View
	if s.cred != nil {
		v = s.cred.View()
	} else {
		v = s.view.clone()
	}
	if s.tokenStatus != nil {
		ts := *s.tokenStatus
		v.TokenStatus = &ts
	}
	return v
}
