package oid4vp

// The wallet side of OpenID4VP 1.0 (issue 8): read an Authorization
// Request (the openid4vp:// link of a verifier's QR code, its https form,
// or a Request Object by value), fetch its signed Request Object and
// check it before anything is shown to the holder. Only verifiers that
// prove who they are with a DID (Client Identifier Prefix
// decentralized_identifier) are answered; see docs/wallet-present.md.

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/fetch"
)

// Wallet-side limits.
const (
	// MaxAuthorizationRequest bounds the link a wallet reads (a Request
	// Object by value included).
	MaxAuthorizationRequest = 32 << 10
	// MaxRequestObject bounds a Request Object, fetched or by value.
	MaxRequestObject = 64 << 10
	maxNonceLength   = 256
	maxPurposeLength = 500
	maxNameLength    = 200
)

// The problems a wallet finds with a request, by kind: the web wallet
// names each in plain words from its catalogue, the API sends the kind
// as code and the detail.
const (
	// ProblemLink: the link is not an OpenID4VP request.
	ProblemLink = "link"
	// ProblemUnsupported: the verifier identifies itself in a way the
	// wallet does not accept (an unsigned redirect_uri request, X.509,
	// attestation, federation, or no prefix at all).
	ProblemUnsupported = "unsupported"
	// ProblemFetch: the request object could not be fetched.
	ProblemFetch = "fetch"
	// ProblemSignature: the request is not signed by the verifier it names.
	ProblemSignature = "signature"
	// ProblemExpired: the request has expired.
	ProblemExpired = "expired"
	// ProblemRequest: the request object breaks a rule of OpenID4VP.
	ProblemRequest = "request"
)

// WalletError is a request the wallet will not answer.
type WalletError struct {
	Kind   string
	Detail string
}

func (e *WalletError) Error() string { return e.Detail }

func refuse(kind, format string, args ...any) error {
	return &WalletError{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// ProblemOf is the kind of a wallet error, or "" for another error.
func ProblemOf(err error) string {
	var we *WalletError
	if errors.As(err, &we) {
		return we.Kind
	}
	return ""
}

// AuthorizationRequest is what the link of a verifier's QR code says:
// who asks (client_id), and where the Request Object is (request_uri,
// with request_uri_method "get" or "post") or the Request Object itself
// (request).
type AuthorizationRequest struct {
	ClientID         string
	RequestURI       string
	RequestURIMethod string
	Request          string
}

// The Client Identifier Prefixes OpenID4VP 1.0 defines, which the
// wallet names when it refuses them.
var knownPrefixes = []string{"redirect_uri", "openid_federation", "decentralized_identifier", "verifier_attestation", "x509_san_dns", "x509_hash", "origin"}

// ParseAuthorizationRequest reads an Authorization Request: the
// openid4vp:// link ("Wallet Invocation"), an https link carrying the
// same parameters, or the bare query. It checks what can be checked
// before anything is fetched: one client_id of the decentralized_identifier
// prefix, and either a request_uri (https, or loopback when the client
// allows it) or a request.
func ParseAuthorizationRequest(s string) (AuthorizationRequest, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return AuthorizationRequest{}, refuse(ProblemLink, "the request is empty: scan the verifier's QR code again")
	}
	if len(s) > MaxAuthorizationRequest {
		return AuthorizationRequest{}, refuse(ProblemLink, "the request is longer than %d bytes", MaxAuthorizationRequest)
	}
	var query string
	switch {
	case strings.HasPrefix(strings.ToLower(s), "openid4vp:"), strings.HasPrefix(strings.ToLower(s), "https://"):
		u, err := url.Parse(s)
		if err != nil {
			return AuthorizationRequest{}, refuse(ProblemLink, "the request is not a valid link")
		}
		if strings.EqualFold(u.Scheme, "openid4vp") && u.Opaque != "" {
			// openid4vp:?client_id=... (no //)
			_, query, _ = strings.Cut(u.Opaque, "?")
			if query == "" {
				query = u.RawQuery
			}
		} else {
			query = u.RawQuery
		}
	case strings.HasPrefix(s, "?"):
		query = s[1:]
	default:
		return AuthorizationRequest{}, refuse(ProblemLink, "this is not a request to share credentials (an openid4vp:// link)")
	}
	vals, err := url.ParseQuery(query)
	if err != nil {
		return AuthorizationRequest{}, refuse(ProblemLink, "the request's parameters cannot be read")
	}
	for name, v := range vals {
		if len(v) > 1 {
			return AuthorizationRequest{}, refuse(ProblemLink, "the request names %s twice", clip(name))
		}
	}
	ar := AuthorizationRequest{ClientID: vals.Get("client_id"), RequestURI: vals.Get("request_uri"),
		RequestURIMethod: vals.Get("request_uri_method"), Request: vals.Get("request")}
	if ar.ClientID == "" {
		return AuthorizationRequest{}, refuse(ProblemLink, "the request has no client_id: it does not say who asks")
	}
	if err := checkClientID(ar.ClientID); err != nil {
		return AuthorizationRequest{}, err
	}
	switch {
	case ar.RequestURI != "" && ar.Request != "":
		return AuthorizationRequest{}, refuse(ProblemLink, "the request has both request and request_uri")
	case ar.RequestURI == "" && ar.Request == "":
		return AuthorizationRequest{}, refuse(ProblemUnsupported, "the request is not signed by the verifier (no request object): this wallet answers signed requests only")
	case ar.Request != "" && ar.RequestURIMethod != "":
		return AuthorizationRequest{}, refuse(ProblemLink, "request_uri_method without request_uri")
	}
	switch ar.RequestURIMethod {
	case "":
		if ar.RequestURI != "" {
			ar.RequestURIMethod = "get"
		}
	case "get", "post":
	default:
		return AuthorizationRequest{}, refuse(ProblemLink, "request_uri_method must be get or post, not %q", clip(ar.RequestURIMethod))
	}
	if len(ar.Request) > MaxRequestObject {
		return AuthorizationRequest{}, refuse(ProblemLink, "the request object is larger than %d bytes", MaxRequestObject)
	}
	return ar, nil
}

// checkClientID accepts the decentralized_identifier prefix with a DID
// of a method the wallet resolves, and refuses any other with a reason.
func checkClientID(id string) error {
	if len(id) > 2048 {
		return refuse(ProblemLink, "the client_id is longer than 2048 characters")
	}
	prefix, rest, ok := strings.Cut(id, ":")
	if !ok {
		return refuse(ProblemUnsupported, "the verifier is not supported: it names itself without a Client Identifier Prefix (a pre-registered client of another wallet)")
	}
	switch prefix {
	case PrefixDID:
	case "redirect_uri":
		return refuse(ProblemUnsupported, "the verifier is not supported: it does not prove who it is (redirect_uri requests are unsigned)")
	default:
		known := false
		for _, k := range knownPrefixes {
			known = known || k == prefix
		}
		if known {
			return refuse(ProblemUnsupported, "the verifier is not supported: this wallet does not accept verifiers identified by %s", prefix)
		}
		return refuse(ProblemUnsupported, "the verifier is not supported: it names itself in a way this wallet does not know")
	}
	switch {
	case strings.HasPrefix(rest, "did:web:"):
		if _, err := credentials.DIDWebURL(rest); err != nil {
			return refuse(ProblemLink, "the verifier's DID is not valid: %v", err)
		}
	case strings.HasPrefix(rest, "did:key:"), strings.HasPrefix(rest, "did:jwk:"):
	default:
		return refuse(ProblemUnsupported, "the verifier is not supported: this wallet resolves did:web, did:key and did:jwk only")
	}
	return nil
}

// VerifierDID is the DID of a decentralized_identifier client_id.
func VerifierDID(clientID string) string {
	did, _ := strings.CutPrefix(clientID, PrefixDID+":")
	return did
}

// DIDResolver finds the public key a verifier signed with: the
// verification method kid of did's DID document, with the document
// (nil for did:key and did:jwk, which have none to fetch).
type DIDResolver interface {
	VerificationKey(ctx context.Context, did, kid string) (crypto.PublicKey, *credentials.DIDDocument, error)
}

// Resolver resolves did:key and did:jwk in place, and did:web with Web
// (this instance's organisations without a fetch, others through the
// wallet's bounded client).
type Resolver struct {
	Web fetch.DIDWeb
}

// VerificationKey implements DIDResolver.
func (r Resolver) VerificationKey(ctx context.Context, did, kid string) (crypto.PublicKey, *credentials.DIDDocument, error) {
	frag, ok := strings.CutPrefix(kid, did+"#")
	if !ok || frag == "" {
		return nil, nil, refuse(ProblemSignature, "the request is signed with a key (kid) that is not one of the verifier's DID %s", clip(did))
	}
	switch {
	case strings.HasPrefix(did, "did:key:"), strings.HasPrefix(did, "did:jwk:"):
		pub, err := credentials.ParseKeyDID(kid)
		if errors.Is(err, credentials.ErrOtherMethod) {
			return nil, nil, refuse(ProblemSignature, "the request's kid is not the verification method of the verifier's %s", did[:7])
		} else if err != nil {
			return nil, nil, refuse(ProblemSignature, "the verifier's %s cannot be read", did[:7])
		}
		return pub, nil, nil
	case strings.HasPrefix(did, "did:web:"):
		doc, err := r.didWeb(ctx, did)
		if err != nil {
			return nil, nil, err
		}
		for _, k := range doc.PublicKeys() {
			if k.ID == kid {
				return k.Public, doc, nil
			}
		}
		return nil, nil, refuse(ProblemSignature, "the verifier's DID document has no key %s", clip(kid))
	}
	return nil, nil, refuse(ProblemUnsupported, "the verifier is not supported: this wallet resolves did:web, did:key and did:jwk only")
}

func (r Resolver) didWeb(ctx context.Context, did string) (*credentials.DIDDocument, error) {
	doc, err := r.Web.Document(ctx, did)
	switch {
	case errors.Is(err, fetch.ErrDIDInvalid):
		return nil, refuse(ProblemLink, "the verifier's DID is not valid")
	case errors.Is(err, fetch.ErrDIDMismatch):
		return nil, refuse(ProblemSignature, "the DID document fetched is not the verifier's: %v", err)
	case err != nil:
		return nil, refuse(ProblemFetch, "the verifier's DID document cannot be fetched: %v", err)
	}
	return doc, nil
}

// Request is a checked Request Object, as the wallet answers it.
type Request struct {
	ClientID    string
	DID         string
	KeyID       string
	ResponseURI string
	Nonce       string
	State       string
	Purpose     string
	// ClientName is the verifier's name as its client_metadata gives it.
	ClientName string
	Query      Query
	Expires    time.Time
	// Document is the verifier's DID document (did:web), nil otherwise.
	Document *credentials.DIDDocument
}

// walletRequestObject is a Request Object as the wallet reads it: the
// members it checks, and the ones it must refuse when present.
type walletRequestObject struct {
	ClientID        string          `json:"client_id"`
	Audience        json.RawMessage `json:"aud"`
	Expires         *float64        `json:"exp"`
	ResponseType    string          `json:"response_type"`
	ResponseMode    string          `json:"response_mode"`
	ResponseURI     string          `json:"response_uri"`
	RedirectURI     string          `json:"redirect_uri"`
	Nonce           string          `json:"nonce"`
	State           string          `json:"state"`
	WalletNonce     string          `json:"wallet_nonce"`
	Purpose         string          `json:"purpose"`
	DCQLQuery       json.RawMessage `json:"dcql_query"`
	Scope           string          `json:"scope"`
	TransactionData json.RawMessage `json:"transaction_data"`
	RequestURI      string          `json:"request_uri"`
	ClientMetadata  struct {
		ClientName string `json:"client_name"`
	} `json:"client_metadata"`
}

// CheckOptions are what a Request Object is checked against.
type CheckOptions struct {
	Resolver DIDResolver
	// URLCheck accepts a response_uri the wallet may post to (fetch's
	// CheckURL).
	URLCheck func(u string) (*url.URL, error)
	Now      time.Time
	// WalletNonce is the wallet_nonce sent with a POST to the request_uri,
	// which the Request Object must echo.
	WalletNonce string
}

// CheckRequestObject checks a Request Object for the client_id of its
// Authorization Request (RFC 9101 and OpenID4VP 1.0 "Request URI
// Response", "decentralized_identifier"): a compact JWS of typ
// oauth-authz-req+jwt, signed with ES256 or EdDSA by the verification
// method kid of the client's DID; then its members.
func CheckRequestObject(ctx context.Context, token []byte, clientID string, o CheckOptions) (*Request, error) {
	if err := checkClientID(clientID); err != nil {
		return nil, err
	}
	token = []byte(strings.TrimSpace(string(token)))
	if len(token) > MaxRequestObject {
		return nil, refuse(ProblemRequest, "the request object is larger than %d bytes", MaxRequestObject)
	}
	if strings.Count(string(token), ".") != 2 {
		return nil, refuse(ProblemSignature, "the request object is not a signed JWT")
	}
	msg, err := jws.Parse(token, jws.WithCompact())
	if err != nil || len(msg.Signatures()) != 1 {
		return nil, refuse(ProblemSignature, "the request object is not a signed JWT")
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	typ := strings.ToLower(h.Type())
	if typ != RequestObjectType && typ != "application/"+RequestObjectType {
		return nil, refuse(ProblemSignature, "the request object's typ is %q, not %s", clip(h.Type()), RequestObjectType)
	}
	alg := h.Algorithm()
	if alg != jwa.ES256 && alg != jwa.EdDSA {
		return nil, refuse(ProblemSignature, "the request object is signed with %q: only ES256 and EdDSA are accepted", clip(alg.String()))
	}
	if h.JWKSetURL() != "" || h.JWK() != nil || h.X509CertChain() != nil || len(h.Critical()) > 0 {
		return nil, refuse(ProblemSignature, "the request object's header names keys or extensions this wallet does not use")
	}
	did := VerifierDID(clientID)
	pub, doc, err := o.Resolver.VerificationKey(ctx, did, h.KeyID())
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify(token, jws.WithKey(alg, pub))
	if err != nil {
		return nil, refuse(ProblemSignature, "the request object's signature does not verify with the verifier's key")
	}
	var ro walletRequestObject
	if err := json.Unmarshal(payload, &ro); err != nil {
		return nil, refuse(ProblemRequest, "the request object is not a JSON object of OpenID4VP parameters")
	}
	r, err := ro.check(clientID, o)
	if err != nil {
		return nil, err
	}
	r.DID, r.KeyID, r.Document = did, h.KeyID(), doc
	return r, nil
}

func (ro walletRequestObject) check(clientID string, o CheckOptions) (*Request, error) {
	switch {
	case ro.ClientID != clientID:
		return nil, refuse(ProblemSignature, "the request object names another verifier (client_id) than the link")
	case ro.ResponseType != ResponseTypeVPToken:
		return nil, refuse(ProblemRequest, "the request asks for response_type %q: this wallet answers vp_token only", clip(ro.ResponseType))
	case ro.ResponseMode == "direct_post.jwt":
		return nil, refuse(ProblemRequest, "the request asks for an encrypted answer (direct_post.jwt), which this wallet does not send yet")
	case ro.ResponseMode != ResponseModeDirectPost:
		return nil, refuse(ProblemRequest, "the request asks for response_mode %q: this wallet answers with direct_post only", clip(ro.ResponseMode))
	case ro.RedirectURI != "":
		return nil, refuse(ProblemRequest, "the request has a redirect_uri, which direct_post does not allow")
	case ro.ResponseURI == "":
		return nil, refuse(ProblemRequest, "the request has no response_uri to answer to")
	case ro.Nonce == "":
		return nil, refuse(ProblemRequest, "the request has no nonce")
	case len(ro.Nonce) > maxNonceLength || len(ro.State) > maxStateLength:
		return nil, refuse(ProblemRequest, "the request's nonce or state is too long")
	case ro.Scope != "":
		return nil, refuse(ProblemRequest, "the request asks by scope, which this wallet does not know: it answers DCQL queries")
	case len(ro.TransactionData) > 0 && string(ro.TransactionData) != "null":
		return nil, refuse(ProblemRequest, "the request carries transaction_data, which this wallet does not support")
	case ro.RequestURI != "":
		return nil, refuse(ProblemRequest, "the request object holds a request_uri")
	case o.WalletNonce != "" && ro.WalletNonce != o.WalletNonce:
		return nil, refuse(ProblemSignature, "the request object does not echo this wallet's wallet_nonce: it may be replayed")
	case len(ro.DCQLQuery) == 0 || string(ro.DCQLQuery) == "null":
		return nil, refuse(ProblemRequest, "the request has no dcql_query: it does not say what it asks for")
	}
	if len(ro.Audience) > 0 {
		var aud string
		if json.Unmarshal(ro.Audience, &aud) != nil || aud != StaticAudience {
			return nil, refuse(ProblemRequest, "the request object is meant for another wallet (aud is not %s)", StaticAudience)
		}
	}
	var expires time.Time
	if ro.Expires != nil {
		expires = time.Unix(int64(*ro.Expires), 0)
		if !o.Now.Before(expires) {
			return nil, refuse(ProblemExpired, "the request has expired: ask the verifier for a new one")
		}
	}
	if o.URLCheck != nil {
		u, err := o.URLCheck(ro.ResponseURI)
		if err != nil {
			return nil, refuse(ProblemRequest, "the request's response_uri is not a public https address")
		}
		// An address in a private network is refused here, before the
		// holder is asked; the fetch client refuses names that resolve to
		// one when the answer is sent.
		if a, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && !a.IsLoopback() && (a.IsPrivate() || !a.IsGlobalUnicast()) {
			return nil, refuse(ProblemRequest, "the request's response_uri is not a public https address")
		}
	}
	q, err := ParseQuery(ro.DCQLQuery)
	if err != nil {
		return nil, refuse(ProblemRequest, "the request's dcql_query is not valid: %v", err)
	}
	return &Request{ClientID: clientID, ResponseURI: ro.ResponseURI, Nonce: ro.Nonce, State: ro.State,
		Purpose: oneLine(ro.Purpose, maxPurposeLength), ClientName: oneLine(ro.ClientMetadata.ClientName, maxNameLength),
		Query: q, Expires: expires}, nil
}

// oneLine keeps a verifier's words printable, on one line, bounded.
func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}

// FetchRequest gets and checks the Request Object of ar: by value, or
// from its request_uri with GET, or with POST and the wallet's metadata
// when request_uri_method is post ("Request URI Method post").
func FetchRequest(ctx context.Context, client *fetch.Client, ar AuthorizationRequest, o CheckOptions) (*Request, error) {
	if ar.Request != "" {
		return CheckRequestObject(ctx, []byte(ar.Request), ar.ClientID, o)
	}
	if _, err := client.CheckURL(ar.RequestURI); err != nil {
		return nil, refuse(ProblemLink, "the request's request_uri is not a public https address")
	}
	var res *fetch.Response
	var err error
	accept := "application/" + RequestObjectType
	if ar.RequestURIMethod == "post" {
		meta, _ := json.Marshal(WalletMetadata())
		form := url.Values{"wallet_metadata": {string(meta)}}
		if o.WalletNonce != "" {
			form.Set("wallet_nonce", o.WalletNonce)
		}
		res, err = client.Post(ctx, ar.RequestURI, "application/x-www-form-urlencoded", []byte(form.Encode()), "Accept", accept)
	} else {
		o.WalletNonce = ""
		res, err = client.Get(ctx, ar.RequestURI, accept)
	}
	if err != nil {
		return nil, refuse(ProblemFetch, "the verifier's request cannot be fetched: %v", err)
	}
	if res.Status != 200 {
		var oe Error
		if json.Unmarshal(res.Body, &oe) == nil && oe.Code == ErrInvalidRequestURI {
			return nil, refuse(ProblemExpired, "the verifier no longer answers this request (%s): ask for a new one", clip(ascii(oe.Description)))
		}
		return nil, refuse(ProblemFetch, "the verifier's request cannot be fetched: its server answered %d", res.Status)
	}
	ct := strings.ToLower(strings.TrimSpace(strings.Split(res.Header.Get("Content-Type"), ";")[0]))
	if ct != "application/"+RequestObjectType {
		return nil, refuse(ProblemRequest, "the request_uri answered %q, not a request object (application/%s)", clip(ct), RequestObjectType)
	}
	return CheckRequestObject(ctx, res.Body, ar.ClientID, o)
}

// WalletMetadata is what the wallet tells a verifier when it fetches a
// Request Object with POST ("Wallet Metadata"): the formats and
// algorithms it presents, the prefixes it accepts, and that it wants a
// signed Request Object.
func WalletMetadata() map[string]any {
	return map[string]any{
		"vp_formats_supported": map[string]any{
			FormatSDJWTVC: map[string]any{"sd-jwt_alg_values": SupportedAlgorithms, "kb-jwt_alg_values": []string{"ES256"}},
		},
		"client_id_prefixes_supported":                []string{PrefixDID},
		"request_object_signing_alg_values_supported": SupportedAlgorithms,
		"response_types_supported":                    []string{ResponseTypeVPToken},
		"response_modes_supported":                    []string{ResponseModeDirectPost},
	}
}
