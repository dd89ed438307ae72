package credentials

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// VC-JWTs whose credential is not of one of tally's types: other issuers'
// credentials, read into a View (see anycredential.go). Two encodings:
//
//   - VCDM 2.0 secured as VC-JOSE-COSE defines it: the payload is the
//     credential. JWT claims beside it are the JWT's: iss, jti and sub must
//     not contradict issuer, id and credentialSubject.id (VC-JOSE-COSE
//     asks issuers not to set conflicting values); nbf and exp bound the
//     signature's validity, so they narrow the credential's.
//   - VCDM 1.1 section 6.3.1 (as did-jwt-vc, Aries/vc-go and Microsoft
//     Entra Verified ID issue them): the credential is in the vc claim, and
//     iss, nbf, exp, jti and sub encode issuer, issuanceDate,
//     expirationDate, id and credentialSubject.id, instead of or in
//     addition to them. A claim and the member it encodes must agree.

// jwtRegisteredClaims are the JWT claims a View is made of. status is the
// IETF Token Status List claim, which any JWT may carry: the View's
// TokenStatus, which the verifier checks.
var jwtRegisteredClaims = []string{"iss", "sub", "jti", "iat", "nbf", "exp", "status"}

// readForeignJWT reads a VC-JWT whose credential is not of one of tally's
// types: body is its payload. defaultContext says that body lacks tally's
// default @context member, which the parser skipped.
func readForeignJWT(j *compactJWS, body []byte, defaultContext bool) (*JWT, error) {
	// Bound the cost before decoding anything the envelope does not need.
	if err := checkJSONBounds(body, "VC-JWT payload"); err != nil {
		return nil, err
	}
	// The fast decoder does not check the syntax of what it skips; the
	// claims are handed on as JSON, so they must be JSON.
	if !json.Valid(body) {
		return nil, fmt.Errorf("VC-JWT payload is not JSON: %w", ErrMalformed)
	}
	var top map[string]rawJSON
	if err := unmarshalJSON(body, &top); err != nil || top == nil {
		return nil, fmt.Errorf("VC-JWT payload is not a JSON object: %w", ErrMalformed)
	}
	if defaultContext {
		top["@context"] = defaultContextJSON
	}
	// The JWT claims, by their exact names (a struct would match any case).
	claims, err := exactJWTClaims(top)
	if err != nil {
		return nil, err
	}
	if len(claims.VP) > 0 {
		return nil, fmt.Errorf("VC-JWT payload is a presentation (vp claim), not a credential: %w", ErrMalformed)
	}
	iat, nbf, exp, err := claims.dates()
	if err != nil {
		return nil, err
	}
	tokenStatus, err := readStatusClaim(top["status"])
	if err != nil {
		return nil, err
	}

	inVC := len(claims.VC) > 0
	members, what := top, "VC-JWT payload"
	var skipped []string
	if inVC {
		for _, m := range []string{"@context", "type", "credentialSubject"} {
			if _, ok := top[m]; ok {
				return nil, fmt.Errorf("VC-JWT payload has both a vc claim and credential members: %w", ErrMalformed)
			}
		}
		members = nil // a fresh map, not top's
		if err := unmarshalJSON(claims.VC, &members); err != nil || members == nil {
			return nil, fmt.Errorf("VC-JWT vc claim is not a JSON object: %w", ErrMalformed)
		}
		what = "VC-JWT vc claim"
		for name := range top {
			if name != "vc" && !slices.Contains(jwtRegisteredClaims, name) {
				skipped = append(skipped, name)
			}
		}
	} else {
		for _, name := range jwtRegisteredClaims {
			delete(members, name)
		}
	}
	c, err := readAnyCredential(members, what, inVC)
	if err != nil {
		return nil, err
	}
	v := &c.view
	for _, name := range v.Skipped {
		if inVC {
			name = "vc." + name
		}
		skipped = append(skipped, name)
	}
	slices.Sort(skipped)
	v.Skipped = skipped

	// iss, jti: the same as issuer and id, or in a vc claim, for them.
	switch {
	case claims.Iss == nil:
	case v.Issuer == "" && inVC:
		v.Issuer = *claims.Iss
	case *claims.Iss != v.Issuer:
		return nil, fmt.Errorf("VC-JWT claim iss (%s) is not the credential's issuer (%s): %w", *claims.Iss, v.Issuer, ErrMalformed)
	}
	if v.Issuer == "" {
		return nil, fmt.Errorf("%s names no issuer: %w", what, ErrMalformed)
	}
	switch {
	case claims.Jti == nil:
	case v.ID == "" && inVC:
		v.ID = *claims.Jti
	case *claims.Jti != v.ID:
		return nil, fmt.Errorf("VC-JWT claim jti differs from the credential's id: %w", ErrMalformed)
	}
	if v.Claims, err = c.claimsWithSubject(claims.Sub, inVC); err != nil {
		return nil, err
	}

	// Validity. In a vc claim, nbf and exp encode the credential's own
	// bounds, so they must agree with the members they stand for.
	from, until, fromName, untilName := c.validFrom, c.validUntil, "validFrom", "validUntil"
	if c.version == vcdm11 {
		from, until, fromName, untilName = c.issuanceDate, c.expirationDate, "issuanceDate", "expirationDate"
	}
	if inVC {
		for _, b := range []struct {
			claim, member string
			claimed       numericDate
			stated        *time.Time
		}{{"nbf", fromName, nbf, &from}, {"exp", untilName, exp, &until}} {
			switch {
			case !b.claimed.set:
			case b.stated.IsZero():
				*b.stated = b.claimed.time()
			case b.stated.Unix() != b.claimed.unix:
				return nil, fmt.Errorf("VC-JWT claim %s (%s) differs from the credential's %s (%s): %w",
					b.claim, formatTime(b.claimed.time()), b.member, formatTime(*b.stated), ErrMalformed)
			}
		}
	}
	// Every bound the issuer signed narrows the validity: a verifier never
	// accepts a credential at a time one of them excludes.
	v.ValidFrom = latest(from, c.validFrom, c.issuanceDate, nbf.timeOrZero())
	v.ValidUntil = earliest(until, c.validUntil, c.expirationDate, exp.timeOrZero())

	v.TokenStatus = tokenStatus

	out := &JWT{jws: j, view: v}
	if iat.set {
		out.issuedAt = iat.time()
	}
	if out.keyID, err = keyIDFor(j.header.Kid, v.Issuer, "VC-JWT header"); err != nil {
		return nil, err
	}
	return out, nil
}

// claimsWithSubject returns the credential's claims about its subject as
// the View holds them: credentialSubject as it came, with the subject's id
// from the sub claim when a vc claim leaves it to sub (VCDM 1.1 section
// 6.3.1). A sub that names none of the subjects is refused, without
// quoting it: it is the holder's identifier.
func (c *anyCredential) claimsWithSubject(sub string, inVC bool) ([]byte, error) {
	claims := bytes.Clone(c.subject)
	switch {
	case sub == "" || slices.Contains(c.subjectIDs, sub):
		return claims, nil
	case len(c.subjectIDs) > 0 || claims[0] == '[':
		return nil, fmt.Errorf("VC-JWT claim sub is not the id of the credential's subject: %w", ErrMalformed)
	case !inVC:
		// VC-JOSE-COSE maps no claim to a member: sub is the JWT's.
		return claims, nil
	}
	id, _ := json.Marshal(sub)
	rest := bytes.TrimSpace(claims[1:])
	out := make([]byte, 0, len(claims)+len(id)+8)
	out = append(out, `{"id":`...)
	out = append(out, id...)
	if rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, rest...), nil
}

// latest is the latest of the times that are not zero, or zero.
func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if !t.IsZero() && (out.IsZero() || t.After(out)) {
			out = t
		}
	}
	return out
}

// earliest is the earliest of the times that are not zero, or zero.
func earliest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if !t.IsZero() && (out.IsZero() || t.Before(out)) {
			out = t
		}
	}
	return out
}

// exactJWTClaims reads the JWT claims of a payload decoded one level.
func exactJWTClaims(top map[string]rawJSON) (*jwtClaims, error) {
	c := &jwtClaims{VC: top["vc"], VP: top["vp"]}
	for _, m := range []struct {
		name string
		to   any
	}{
		{"iss", &c.Iss}, {"sub", &c.Sub}, {"jti", &c.Jti},
		{"iat", &c.Iat}, {"nbf", &c.Nbf}, {"exp", &c.Exp},
	} {
		if raw, ok := top[m.name]; ok && unmarshalJSON(raw, m.to) != nil {
			return nil, fmt.Errorf("VC-JWT claim %s has the wrong type: %w", m.name, ErrMalformed)
		}
	}
	return c, nil
}
