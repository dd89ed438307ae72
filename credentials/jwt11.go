package credentials

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// A VC Data Model 1.1 JWT (VCDM 1.1 section 6.3.1): the credential in the
// vc claim, its envelope repeated in the registered JWT claims. OpenID for
// Verifiable Credential Issuance 1.0 (Appendix A.1.1) defines its
// jwt_vc_json format on this encoding, and phone wallets (walt.id,
// Sphereon, the EUDI reference wallet, Lissi, ...) read and show that
// shape. tally issues it to wallets that ask for jwt_vc_json; its own
// VC-JWT (IssueJWT) is VCDM 2.0 secured with JOSE. See docs/formats.md.

// JWT11Type is the typ header of a VCDM 1.1 JWT ("typ, if present, MUST be
// set to JWT").
const JWT11Type = "JWT"

// defaultContextV1JSON is DefaultContextV1 as json.Marshal writes it, so
// that the parser need not decode tally's inline context again.
var defaultContextV1JSON = mustMarshal(DefaultContextV1())

// DefaultContextV1 returns the @context of a tally credential in the VCDM
// 1.1 shape: the VCDM 1.1 base context URL, then tally's context inline,
// which defines the subject's terms (and, being protected, redefines none
// of the base context's). The BitstringStatusListEntry terms are VCDM
// 2.0's: a JWT is not processed as JSON-LD (jwt_vc_json is "not using
// JSON-LD"), and wallets that do not know the status type ignore it.
func DefaultContextV1() []any {
	return []any{BaseContextV1, tallyInline}
}

// isContextV1 reports whether a credential's @context names the VCDM 1.1
// base context first.
func isContextV1(ctx []any) bool {
	return len(ctx) > 0 && ctx[0] == BaseContextV1
}

// IssueJWT11 signs c as a VCDM 1.1 JWT with k: the header names alg, typ
// JWT and kid (k's id); the payload holds the
// credential in the vc claim, with the VCDM 1.1 context (DefaultContextV1)
// and members (issuanceDate, expirationDate instead of validFrom,
// validUntil), and the registered claims that VCDM 1.1 maps to them, in
// addition to them: iss (issuer), sub (credentialSubject.id, the holder's
// DID, when the subject has one), jti (id), nbf (issuanceDate) and exp
// (expirationDate). The subject keeps its dedup seed and the credential
// its BitstringStatusListEntry status entries, as the VC-JWT has them.
// The credential must be complete and valid (see Prepare) and issued by
// k's DID; its own @context is replaced.
//
// There is no iat claim: VCDM 1.1 maps none of the credential's members to
// it, and readers disagree on what it means (vc-go takes it for
// issuanceDate, over nbf), so that an iat other than nbf would show a
// wallet another date of issue than the credential's.
func IssueJWT11(c *Credential, k *Key) (string, error) {
	if err := checkIssuable(c, k); err != nil {
		return "", err
	}
	v1 := *c
	v1.Context = DefaultContextV1()
	body, err := json.Marshal(&v1)
	if err != nil {
		return "", fmt.Errorf("encode credential: %w", err)
	}
	payload := make([]byte, 0, len(body)+256)
	payload = append(payload, `{"vc":`...)
	payload = append(payload, body...)
	payload = appendStringClaim(payload, "iss", c.Issuer)
	if sub := subjectID(c.Subject); sub != "" {
		payload = appendStringClaim(payload, "sub", sub)
	}
	if c.ID != "" {
		payload = appendStringClaim(payload, "jti", c.ID)
	}
	if !c.ValidFrom.IsZero() {
		payload = appendDateClaim(payload, "nbf", c.ValidFrom)
	}
	if !c.ValidUntil.IsZero() {
		payload = appendDateClaim(payload, "exp", c.ValidUntil)
	}
	payload = append(payload, '}')
	return signCompactJWS(payload, k.Alg, k.Signer, map[string]any{
		"typ": JWT11Type,
		"kid": k.ID,
	})
}

// readVCClaim reads the credential of a tally JWT whose payload has it in
// a vc claim: VCDM 1.1 section 6.3.1, with the VCDM 1.1 context or the
// VCDM 2.0 one. The registered claims stand in for the members they
// encode when the credential leaves them out; readTallyJWT then checks
// that they agree with those it states.
func readVCClaim(vc []byte, claims *jwtClaims, nbf, exp numericDate) (*credentialParts, error) {
	parts, err := decodeCredentialJSON(vc)
	if err != nil {
		return nil, err
	}
	parts.allowV1 = true
	from, until := &parts.ValidFrom, &parts.ValidUntil
	if partsAreV1(parts) {
		from, until = &parts.IssuanceDate, &parts.ExpirationDate
	}
	if parts.Issuer == "" && claims.Iss != nil {
		parts.Issuer = *claims.Iss
	}
	if parts.ID == "" && claims.Jti != nil {
		parts.ID = *claims.Jti
	}
	if *from == "" && nbf.set {
		*from = formatTime(nbf.time())
	}
	if *until == "" && exp.set {
		*until = formatTime(exp.time())
	}
	return parts, nil
}

// partsAreV1 reports whether a credential's @context names the VCDM 1.1
// base context first. A context in another shape is left to
// credentialParts.credential to refuse.
func partsAreV1(p *credentialParts) bool {
	if bytes.Equal(p.Context, defaultContextV1JSON) {
		return true
	}
	v, err := contextVersion(p.Context, true)
	return err == nil && v == vcdm11
}

// setSubjectIDFromSub gives the subject the holder's DID that the sub
// claim of a VCDM 1.1 JWT carries for it ("sub MUST represent the id
// property contained in the credentialSubject"), when the subject leaves
// its id out. Validate then checks that it is a DID.
func setSubjectIDFromSub(s Subject, sub string) {
	if sub == "" || subjectID(s) != "" {
		return
	}
	switch s := s.(type) {
	case *Registration:
		s.ID = sub
	case *Eligibility:
		s.ID = sub
	case *Referral:
		s.ID = sub
	}
}
