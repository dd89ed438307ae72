// Package oid4vci is the protocol layer of OpenID for Verifiable
// Credential Issuance 1.0 (final, 2025) as tally's issuer speaks it: the
// pre-authorized code flow, with the credential offer by reference, the
// token, nonce and credential endpoints, key proofs of type jwt
// (openid4vci-proof+jwt) and the credential formats dc+sd-jwt and
// jwt_vc_json. Its messages are typed structs; its parsers are bounded and
// fuzzed. The rules of offers (expiry, single use, transaction codes)
// are the issuer package's; the HTTP handlers are internal/http's.
//
// Each organisation is its own Credential Issuer, identified by
// BASEURL/orgs/SLUG, and its own Authorization Server (same identifier).
package oid4vci

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Protocol constants of OpenID4VCI 1.0.
const (
	// GrantPreAuthorizedCode is the grant type of the pre-authorized code
	// flow.
	GrantPreAuthorizedCode = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
	// ProofJWTType is the typ of a jwt key proof.
	ProofJWTType = "openid4vci-proof+jwt"
	// OfferScheme is the custom URL scheme of a credential offer for a
	// wallet that publishes no Credential Offer Endpoint.
	OfferScheme = "openid-credential-offer://"
	// FormatSDJWTVC and FormatJWTVCJSON are the credential format
	// identifiers tally issues.
	FormatSDJWTVC   = "dc+sd-jwt"
	FormatJWTVCJSON = "jwt_vc_json"
	// WellKnownIssuer and WellKnownAS are the well-known path segments
	// inserted before an identifier's path (OpenID4VCI 1.0 section 12.2.2,
	// RFC 8414 section 3).
	WellKnownIssuer = "/.well-known/openid-credential-issuer"
	WellKnownAS     = "/.well-known/oauth-authorization-server"
)

// CredentialOffer is a Credential Offer object (section 4.1.1).
type CredentialOffer struct {
	CredentialIssuer           string   `json:"credential_issuer"`
	CredentialConfigurationIDs []string `json:"credential_configuration_ids"`
	Grants                     *Grants  `json:"grants,omitempty"`
}

// Grants are the grant types an offer admits; tally's admit the
// pre-authorized code grant only.
type Grants struct {
	PreAuthorizedCode *PreAuthorizedCodeGrant `json:"urn:ietf:params:oauth:grant-type:pre-authorized_code,omitempty"`
}

// PreAuthorizedCodeGrant carries the pre-authorized code and says
// whether a transaction code is needed.
type PreAuthorizedCodeGrant struct {
	PreAuthorizedCode string  `json:"pre-authorized_code"`
	TxCode            *TxCode `json:"tx_code,omitempty"`
	// AuthorizationServer picks one of the issuer's
	// authorization_servers (section 4.1.1); tally's issuers leave it out.
	AuthorizationServer string `json:"authorization_server,omitempty"`
}

// TxCode describes the transaction code the wallet asks its user for.
type TxCode struct {
	InputMode   string `json:"input_mode,omitempty"`
	Length      int    `json:"length,omitempty"`
	Description string `json:"description,omitempty"`
}

// OfferURI is the credential offer by reference, as a QR code shows it:
// openid-credential-offer://?credential_offer_uri=URI.
func OfferURI(offerURI string) string {
	return OfferScheme + "?" + url.Values{"credential_offer_uri": {offerURI}}.Encode()
}

// TokenRequest is a token request of the pre-authorized code grant
// (section 6.1), as parsed from its form.
type TokenRequest struct {
	PreAuthorizedCode string
	TxCode            string
	// HasTxCode tells whether tx_code was sent (possibly empty).
	HasTxCode bool
}

// maxField bounds the length of one form or JSON field: codes are tens
// of characters.
const maxField = 512

// ParseTokenRequest reads a token request form. Unknown parameters are
// ignored (RFC 6749 section 3.2); a repeated one is an error.
func ParseTokenRequest(form url.Values) (TokenRequest, *Error) {
	for _, name := range []string{"grant_type", "pre-authorized_code", "tx_code"} {
		if len(form[name]) > 1 {
			return TokenRequest{}, tokenError("invalid_request", name+" is repeated")
		}
		if len(form.Get(name)) > maxField {
			return TokenRequest{}, tokenError("invalid_request", name+" is too long")
		}
	}
	switch gt := form.Get("grant_type"); gt {
	case "":
		return TokenRequest{}, tokenError("invalid_request", "grant_type is missing")
	case GrantPreAuthorizedCode:
	default:
		return TokenRequest{}, tokenError("unsupported_grant_type", "only the pre-authorized code grant is supported")
	}
	r := TokenRequest{PreAuthorizedCode: form.Get("pre-authorized_code"), TxCode: form.Get("tx_code")}
	_, r.HasTxCode = form["tx_code"]
	if r.PreAuthorizedCode == "" {
		return TokenRequest{}, tokenError("invalid_request", "pre-authorized_code is missing")
	}
	return r, nil
}

// TokenResponse is a successful token response (section 6.2).
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// NonceResponse is the nonce endpoint's answer (section 7.2).
type NonceResponse struct {
	CNonce string `json:"c_nonce"`
}

// CredentialRequest is a credential request (section 8.2).
type CredentialRequest struct {
	CredentialConfigurationID string `json:"credential_configuration_id,omitempty"`
	CredentialIdentifier      string `json:"credential_identifier,omitempty"`
	// ProofJWTs are the jwt key proofs of proofs.jwt.
	ProofJWTs []string `json:"-"`
}

// maxProofJWT bounds the size of one key proof JWT.
const maxProofJWT = 8 << 10

// ParseCredentialRequest reads a credential request body of at most
// maxBody bytes, admitting at most maxProofs key proofs. Unknown
// parameters are ignored, as section 8.2 says; repeated ones are refused.
func ParseCredentialRequest(body []byte, maxProofs int) (CredentialRequest, *Error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return CredentialRequest{}, credentialError("invalid_credential_request", "the body is not a JSON object")
	}
	if dec.More() {
		return CredentialRequest{}, credentialError("invalid_credential_request", "the body holds more than one JSON value")
	}
	if dup := duplicateMember(body); dup != "" {
		return CredentialRequest{}, credentialError("invalid_credential_request", dup+" is repeated")
	}
	var r CredentialRequest
	str := func(name string, dst *string) *Error {
		v, ok := raw[name]
		if !ok {
			return nil
		}
		if err := json.Unmarshal(v, dst); err != nil || *dst == "" || len(*dst) > maxField {
			return credentialError("invalid_credential_request", name+" must be a non-empty string")
		}
		return nil
	}
	if e := str("credential_configuration_id", &r.CredentialConfigurationID); e != nil {
		return CredentialRequest{}, e
	}
	if e := str("credential_identifier", &r.CredentialIdentifier); e != nil {
		return CredentialRequest{}, e
	}
	switch {
	case r.CredentialIdentifier != "":
		// tally's token responses carry no authorization_details, so no
		// credential identifier was ever given out.
		return CredentialRequest{}, credentialError("unknown_credential_identifier", "this issuer gives out no credential identifiers: use credential_configuration_id")
	case r.CredentialConfigurationID == "":
		return CredentialRequest{}, credentialError("invalid_credential_request", "credential_configuration_id is missing")
	}
	if _, ok := raw["credential_response_encryption"]; ok {
		return CredentialRequest{}, credentialError("invalid_encryption_parameters", "this issuer does not encrypt credential responses")
	}
	proofs, ok := raw["proofs"]
	if !ok {
		return CredentialRequest{}, credentialError("invalid_proof", "proofs is missing")
	}
	var byType map[string]json.RawMessage
	if err := json.Unmarshal(proofs, &byType); err != nil || len(byType) != 1 {
		return CredentialRequest{}, credentialError("invalid_proof", "proofs must be an object with exactly one proof type")
	}
	jwts, ok := byType["jwt"]
	if !ok {
		return CredentialRequest{}, credentialError("invalid_proof", "only proofs of type jwt are supported")
	}
	if err := json.Unmarshal(jwts, &r.ProofJWTs); err != nil || len(r.ProofJWTs) == 0 {
		return CredentialRequest{}, credentialError("invalid_proof", "proofs.jwt must be a non-empty array of strings")
	}
	if len(r.ProofJWTs) > maxProofs {
		return CredentialRequest{}, credentialError("invalid_proof", fmt.Sprintf("at most %d key proof(s) per request", maxProofs))
	}
	for _, p := range r.ProofJWTs {
		if len(p) > maxProofJWT {
			return CredentialRequest{}, credentialError("invalid_proof", "a key proof is too large")
		}
	}
	return r, nil
}

// duplicateMember returns the name of a top-level member a JSON object
// repeats, or "".
func duplicateMember(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ""
		}
		name, _ := t.(string)
		if seen[name] {
			return name
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return ""
		}
	}
	return ""
}

// CredentialResponse is an immediate credential response (section 8.3).
type CredentialResponse struct {
	Credentials []IssuedCredential `json:"credentials"`
}

// IssuedCredential is one credential of a response.
type IssuedCredential struct {
	Credential string `json:"credential"`
}

// Error is an OAuth-style error response: RFC 6749 section 5.2 at the
// token endpoint, RFC 6750 section 3 and OpenID4VCI section 8.3.1 at the
// credential endpoint.
type Error struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// Is matches errors of the same code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

func tokenError(code, description string) *Error {
	status := http.StatusBadRequest
	if code == "invalid_client" {
		status = http.StatusUnauthorized
	}
	return &Error{Status: status, Code: code, Description: ascii(description)}
}

func credentialError(code, description string) *Error {
	status := http.StatusBadRequest
	if code == "invalid_token" {
		status = http.StatusUnauthorized
	}
	return &Error{Status: status, Code: code, Description: ascii(description)}
}

// TokenError is a token endpoint error.
func TokenError(code, description string) *Error { return tokenError(code, description) }

// CredentialError is a credential endpoint error.
func CredentialError(code, description string) *Error { return credentialError(code, description) }

// ascii keeps the characters error_description may hold (%x20-21 /
// %x23-5B / %x5D-7E).
func ascii(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}
