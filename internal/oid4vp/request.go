// Package oid4vp is the protocol layer of OpenID for Verifiable
// Presentations 1.0 (final, 2025) as tally's verifier service speaks it to
// phone wallets, across devices: an Authorization Request by reference
// (openid4vp://?client_id=...&request_uri=..., shown as a QR code), a
// Request Object signed by the organisation (typ oauth-authz-req+jwt,
// RFC 9101) with the Client Identifier Prefix decentralized_identifier
// and the organisation's did:web, a DCQL query for dc+sd-jwt credentials,
// response_mode direct_post, and the Authorization Response posted to the
// response_uri (vp_token: a JSON object keyed by credential query id, each
// an array of presentations).
//
// Its messages are typed structs and its parsers are bounded and fuzzed.
// The rules of a presentation transaction (expiry, fetch count, single
// use) are in transaction.go, over a Store that internal/bolt implements;
// the HTTP handlers are internal/http's; the credentials and their key
// binding are checked by package verifier. See docs/oid4vp.md.
package oid4vp

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
)

// Protocol constants of OpenID4VP 1.0.
const (
	// Scheme is the custom URL scheme of an Authorization Request
	// ("Wallet Invocation").
	Scheme = "openid4vp://"
	// RequestObjectType is the typ of a signed Request Object and the
	// media type the request_uri answers with (RFC 9101).
	RequestObjectType = "oauth-authz-req+jwt"
	// PrefixDID is the Client Identifier Prefix of a verifier named by a
	// DID, whose Request Objects are signed with a key of its DID document
	// ("Defined Client Identifier Prefixes").
	PrefixDID = "decentralized_identifier"
	// ResponseTypeVPToken and ResponseModeDirectPost are the only response
	// type and mode tally asks for.
	ResponseTypeVPToken    = "vp_token"
	ResponseModeDirectPost = "direct_post"
	// FormatSDJWTVC is the credential format identifier of SD-JWT VC
	// (appendix B.3).
	FormatSDJWTVC = "dc+sd-jwt"
	// StaticAudience is the aud of a Request Object sent without dynamic
	// discovery of the wallet ("aud of a Request Object").
	StaticAudience = "https://self-issued.me/v2"
)

// ClientID is the Client Identifier of a verifier named by did: the
// decentralized_identifier prefix and the DID. Key-binding JWTs carry it,
// whole, as their aud.
func ClientID(did string) string { return PrefixDID + ":" + did }

// AuthorizationRequestURI is the Authorization Request by reference, as a
// QR code shows it. request_uri_method is left out: the wallet fetches
// the Request Object with GET (RFC 9101), and tally also answers a POST.
func AuthorizationRequestURI(clientID, requestURI string) string {
	return Scheme + "?" + url.Values{"client_id": {clientID}, "request_uri": {requestURI}}.Encode()
}

// RequestObject is the payload of the signed Request Object ("Authorization
// Request", "Response Mode direct_post").
type RequestObject struct {
	Issuer         string         `json:"iss"`
	Audience       string         `json:"aud"`
	IssuedAt       int64          `json:"iat"`
	Expires        int64          `json:"exp"`
	ClientID       string         `json:"client_id"`
	ResponseType   string         `json:"response_type"`
	ResponseMode   string         `json:"response_mode"`
	ResponseURI    string         `json:"response_uri"`
	Nonce          string         `json:"nonce"`
	State          string         `json:"state"`
	DCQLQuery      Query          `json:"dcql_query"`
	ClientMetadata ClientMetadata `json:"client_metadata"`
	// WalletNonce echoes the wallet_nonce of a POST to the request_uri.
	WalletNonce string `json:"wallet_nonce,omitempty"`
	// Purpose says in words why the verifier asks. OpenID4VP 1.0 defines
	// no purpose parameter; wallets ignore what they do not know, and
	// tally's wallet shows it.
	Purpose string `json:"purpose,omitempty"`
}

// ClientMetadata is the verifier's metadata in the request ("client_metadata"):
// the formats it accepts.
type ClientMetadata struct {
	VPFormatsSupported VPFormats `json:"vp_formats_supported"`
	// ClientName is the verifier's name, for the wallet to show (RFC 7591
	// client_name).
	ClientName string `json:"client_name,omitempty"`
}

// VPFormats are the formats and algorithms the verifier accepts
// ("vp_formats_supported", appendix B.3).
type VPFormats struct {
	SDJWT *SDJWTFormat `json:"dc+sd-jwt,omitempty"`
}

// SDJWTFormat lists the algorithms of the issuer-signed JWT and of the
// key-binding JWT that tally checks.
type SDJWTFormat struct {
	SDJWTAlgValues []string `json:"sd-jwt_alg_values,omitempty"`
	KBJWTAlgValues []string `json:"kb-jwt_alg_values,omitempty"`
}

// SupportedAlgorithms are the JWS algorithms tally's verifier checks.
var SupportedAlgorithms = []string{"EdDSA", "ES256"}

// DefaultClientMetadata is what tally accepts: SD-JWT VC with EdDSA or
// ES256.
func DefaultClientMetadata() ClientMetadata {
	return ClientMetadata{VPFormatsSupported: VPFormats{SDJWT: &SDJWTFormat{
		SDJWTAlgValues: SupportedAlgorithms, KBJWTAlgValues: SupportedAlgorithms}}}
}

// SignRequestObject signs r with the verifier's key: typ
// oauth-authz-req+jwt, kid the verification method's DID URL, so that a
// wallet finds the key in the DID document of the DID in client_id.
func SignRequestObject(r RequestObject, key *credentials.Key) (string, error) {
	if key == nil || key.Signer == nil {
		return "", fmt.Errorf("the verifier's key has no private part to sign with")
	}
	payload, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	h := jws.NewHeaders()
	for name, v := range map[string]any{jws.TypeKey: RequestObjectType, jws.KeyIDKey: key.ID} {
		if err := h.Set(name, v); err != nil {
			return "", err
		}
	}
	out, err := jws.Sign(payload, jws.WithKey(key.Alg.JWA(), key.Signer, jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", fmt.Errorf("sign the request object: %w", err)
	}
	return string(out), nil
}

// NewRequestObject fills a Request Object for a transaction.
func NewRequestObject(t Transaction, responseURI string, now time.Time) RequestObject {
	return RequestObject{
		Issuer: t.ClientID, Audience: StaticAudience, IssuedAt: now.Unix(), Expires: t.Expires.Unix(),
		ClientID: t.ClientID, ResponseType: ResponseTypeVPToken, ResponseMode: ResponseModeDirectPost,
		ResponseURI: responseURI, Nonce: t.Nonce, State: t.State, DCQLQuery: t.Query,
		ClientMetadata: DefaultClientMetadata(), Purpose: t.Purpose,
	}
}
