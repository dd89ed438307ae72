package oid4vci

import (
	"crypto"
	"encoding/json"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
)

// ProofAlgorithms are the key proof algorithms accepted (and advertised
// in proof_signing_alg_values_supported): the holder keys tally binds
// credentials to are P-256 or Ed25519.
var ProofAlgorithms = []string{"ES256", "EdDSA"}

// ProofCheck is what a jwt key proof is checked against.
type ProofCheck struct {
	// Audience is the Credential Issuer Identifier.
	Audience string
	// Now is the time of the check.
	Now time.Time
	// MaxAge is how old a proof's iat may be; Skew how far in the future.
	MaxAge, Skew time.Duration
}

// Proof is a verified key proof: the key to bind the credential to, and
// the c_nonce it carries (to be checked and spent by the caller).
type Proof struct {
	Key   crypto.PublicKey
	Nonce string
}

// proofClaims are the claims of a key proof's payload.
type proofClaims struct {
	Iss   *string         `json:"iss"`
	Aud   json.RawMessage `json:"aud"`
	Iat   *json.Number    `json:"iat"`
	Nonce *string         `json:"nonce"`
}

// VerifyProof checks a jwt key proof (OpenID4VCI 1.0 appendix F.1 and
// F.4): a compact JWS, typ openid4vci-proof+jwt, alg ES256 or EdDSA (never
// none nor a MAC), the key in exactly one of jwk (public only) or kid (a
// did:key or did:jwk DID URL), the signature by that key, aud the
// Credential Issuer Identifier, iat within the window, a nonce present.
// The work before the signature check is bounded by the proof's size.
func VerifyProof(token string, chk ProofCheck) (Proof, *Error) {
	bad := func(why string) (Proof, *Error) { return Proof{}, credentialError("invalid_proof", why) }
	if len(token) > maxProofJWT || strings.Count(token, ".") != 2 || strings.ContainsAny(token, " \t\r\n") {
		return bad("the key proof is not a compact JWS")
	}
	msg, err := jws.ParseString(token)
	if err != nil || len(msg.Signatures()) != 1 {
		return bad("the key proof is not a compact JWS")
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	if h.Type() != ProofJWTType {
		return bad("the key proof's typ must be " + ProofJWTType)
	}
	alg := h.Algorithm()
	if alg != jwa.ES256 && alg != jwa.EdDSA {
		return bad("the key proof's alg must be ES256 or EdDSA")
	}
	if h.X509CertChain() != nil && h.X509CertChain().Len() > 0 {
		return bad("key proofs with x5c are not supported: use jwk or kid")
	}
	var pub crypto.PublicKey
	switch j, kid := h.JWK(), h.KeyID(); {
	case j != nil && kid != "":
		return bad("the key proof has both jwk and kid")
	case j != nil:
		raw, err := json.Marshal(j)
		if err != nil {
			return bad("the key proof's jwk is not a key")
		}
		if pub, _, err = credentials.ParseJWK(raw); err != nil {
			return bad("the key proof's jwk is not a public Ed25519 or P-256 key")
		}
	case kid != "":
		if pub, err = credentials.ParseKeyDID(kid); err != nil {
			return bad("the key proof's kid is not a did:key or did:jwk DID URL")
		}
	default:
		return bad("the key proof names no key: give jwk or kid")
	}
	keyAlg, err := credentials.AlgorithmOf(pub)
	if err != nil || string(keyAlg.JWA()) != alg.String() {
		return bad("the key proof's alg does not fit its key")
	}
	payload, err := jws.Verify([]byte(token), jws.WithKey(alg, pub))
	if err != nil {
		return bad("the key proof's signature does not verify")
	}
	var c proofClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return bad("the key proof's payload is not a JSON object")
	}
	var aud string
	if json.Unmarshal(c.Aud, &aud) != nil || aud != chk.Audience {
		return bad("the key proof's aud must be the credential issuer " + chk.Audience)
	}
	if c.Iat == nil {
		return bad("the key proof has no iat")
	}
	iat, err := c.Iat.Float64()
	if err != nil {
		return bad("the key proof's iat is not a number")
	}
	at := time.Unix(int64(iat), 0)
	if at.Before(chk.Now.Add(-chk.MaxAge)) || at.After(chk.Now.Add(chk.Skew)) {
		return bad("the key proof's iat is too old or in the future")
	}
	if c.Nonce == nil || *c.Nonce == "" {
		return bad("the key proof has no nonce: get a c_nonce from the nonce endpoint")
	}
	return Proof{Key: pub, Nonce: *c.Nonce}, nil
}
