package oid4vci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/fetch"
)

// This file is the wallet side of OpenID4VCI 1.0: a wallet that receives
// credentials offered with a pre-authorized code (sections 4 to 8).
// Resolve reads an offer and everything needed to show it to the holder;
// Receive asks for the credentials, checks each one, and returns them
// for the caller to keep. Every fetch goes through internal/fetch: bounded,
// no redirect, public addresses only.

// Step names the step of the flow an error happened at.
type Step string

// The steps of receiving a credential.
const (
	StepOffer      Step = "offer"      // reading or fetching the offer
	StepMetadata   Step = "metadata"   // the Credential Issuer's metadata
	StepAuthServer Step = "authserver" // the Authorization Server's metadata
	StepToken      Step = "token"      // the token request
	StepNonce      Step = "nonce"      // the nonce request
	StepCredential Step = "credential" // the credential request
	StepCheck      Step = "check"      // checking what the issuer sent
)

// StepError is a failure of one step, in plain words: Detail says what
// went wrong (English, no secret); IssuerError is the issuer's OAuth
// error code when it answered one.
type StepError struct {
	Step        Step
	Detail      string
	IssuerError string
	// Input tells that the offer itself is not one (the caller's input);
	// Unreachable that the other party could not be reached or answered
	// no usable HTTP response.
	Input, Unreachable bool
}

func (e *StepError) Error() string { return string(e.Step) + ": " + e.Detail }

func stepErr(step Step, format string, args ...any) *StepError {
	return &StepError{Step: step, Detail: fmt.Sprintf(format, args...)}
}

// Bounds of what the client reads.
const (
	maxMetadata        = 256 << 10
	maxConfigurations  = 256
	maxIssuedPerConfig = 4
	maxCredential      = 128 << 10
	maxIssuerKeys      = 16
)

// Client is a wallet's OpenID4VCI client.
type Client struct {
	// Fetch is the bounded outbound client.
	Fetch *fetch.Client
	// Now is the time (proofs' iat).
	Now func() time.Time
	// DIDWeb resolves issuers' did:web DIDs (this server's own
	// organisations without a fetch). Its Client is Fetch when nil.
	DIDWeb fetch.DIDWeb
	// Timeout bounds a whole Resolve or Receive, every fetch included
	// (FlowTimeout when zero).
	Timeout time.Duration
}

// FlowTimeout bounds a whole Resolve or Receive by default: each fetch
// is bounded by the fetch client, and a flow makes several.
const FlowTimeout = 30 * time.Second

func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	t := c.Timeout
	if t <= 0 {
		t = FlowTimeout
	}
	return context.WithTimeout(ctx, t)
}

// Prepared is an offer read and checked, with what is needed to show it
// and to receive it.
type Prepared struct {
	Offer         CredentialOffer
	Metadata      IssuerMetadata
	TokenEndpoint string
}

// Grant is the offer's pre-authorized code grant.
func (p *Prepared) Grant() *PreAuthorizedCodeGrant { return p.Offer.Grants.PreAuthorizedCode }

// IssuerName is the issuer's display name in lang (or the first one), or
// its identifier's host.
func (p *Prepared) IssuerName(lang string) string {
	if n := displayIn(p.Metadata.Display, lang); n != "" {
		return n
	}
	if u, err := url.Parse(p.Metadata.CredentialIssuer); err == nil {
		return u.Host
	}
	return p.Metadata.CredentialIssuer
}

// ConfigurationName is a configuration's display name in lang, or its
// type, or its id.
func (p *Prepared) ConfigurationName(id, lang string) string {
	c := p.Metadata.CredentialConfigurationsSupported[id]
	if c.CredentialMetadata != nil {
		if n := displayIn(c.CredentialMetadata.Display, lang); n != "" {
			return n
		}
	}
	if t := configurationType(c); t != "" {
		return t
	}
	return id
}

func configurationType(c CredentialConfiguration) string {
	if c.VCT != "" {
		return c.VCT
	}
	if c.CredentialDefinition != nil && len(c.CredentialDefinition.Type) > 0 {
		return c.CredentialDefinition.Type[len(c.CredentialDefinition.Type)-1]
	}
	return ""
}

// displayIn picks the display for lang: the same language tag, else the
// same primary language, else one without a locale, else the first.
func displayIn(ds []Display, lang string) string {
	best, score := "", -1
	for _, d := range ds {
		s := 0
		switch {
		case strings.EqualFold(d.Locale, lang):
			s = 4
		case lang != "" && strings.EqualFold(strings.SplitN(d.Locale, "-", 2)[0], strings.SplitN(lang, "-", 2)[0]):
			s = 3
		case d.Locale == "":
			s = 2
		default:
			s = 1
		}
		if s > score && strings.TrimSpace(d.Name) != "" {
			best, score = d.Name, s
		}
	}
	if len(best) > 200 {
		best = best[:200]
	}
	return best
}

// SupportedFormat tells whether the wallet can receive a format.
func SupportedFormat(f string) bool { return f == FormatSDJWTVC || f == FormatJWTVCJSON }

// Resolve reads an offer link, fetches the offer when it is by reference,
// the Credential Issuer's metadata (whose credential_issuer must be the
// offer's) and its Authorization Server's metadata (for the token
// endpoint). Every offered configuration must be in the metadata, in a
// format this wallet receives.
func (c *Client) Resolve(ctx context.Context, link string) (*Prepared, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	ref, err := ParseOfferLink(link)
	if err != nil {
		e := stepErr(StepOffer, "%s", err.Error())
		e.Input = true
		return nil, e
	}
	offer := ref.Offer
	if offer == nil {
		res, err := c.get(ctx, ref.URI, "application/json")
		if err != nil {
			return nil, fetchErr(StepOffer, "the offer", err)
		}
		if res.Status != http.StatusOK {
			return nil, httpErr(StepOffer, "the offer", res)
		}
		if offer, err = ParseCredentialOffer(res.Body); err != nil {
			return nil, stepErr(StepOffer, "%s", err.Error())
		}
	}
	p := &Prepared{Offer: *offer}
	if p.Metadata, err = c.issuerMetadata(ctx, offer.CredentialIssuer); err != nil {
		return nil, err
	}
	for _, id := range offer.CredentialConfigurationIDs {
		conf, ok := p.Metadata.CredentialConfigurationsSupported[id]
		if !ok {
			return nil, stepErr(StepMetadata, "the issuer's metadata does not describe the offered credential %q", clipText(id))
		}
		if !SupportedFormat(conf.Format) {
			return nil, stepErr(StepMetadata, "the offered credential %q is in the format %q, which this wallet cannot keep yet", clipText(id), clipText(conf.Format))
		}
	}
	as := offer.CredentialIssuer
	if len(p.Metadata.AuthorizationServers) > 0 {
		as = p.Metadata.AuthorizationServers[0]
		if want := p.Grant().AuthorizationServer; want != "" {
			found := false
			for _, a := range p.Metadata.AuthorizationServers {
				found = found || a == want
			}
			if !found {
				return nil, stepErr(StepAuthServer, "the offer names an authorization server the issuer's metadata does not list")
			}
			as = want
		}
	}
	if p.TokenEndpoint, err = c.tokenEndpoint(ctx, as); err != nil {
		return nil, err
	}
	return p, nil
}

func (c *Client) get(ctx context.Context, u, accept string) (*fetch.Response, error) {
	return c.Fetch.Get(ctx, u, accept)
}

// issuerMetadata fetches the Credential Issuer Metadata (section 12.2.2)
// and checks that it is the issuer's (section 12.2.3).
func (c *Client) issuerMetadata(ctx context.Context, issuer string) (IssuerMetadata, error) {
	u, err := WellKnownURL(issuer, WellKnownIssuer)
	if err != nil {
		return IssuerMetadata{}, stepErr(StepMetadata, "%s", err.Error())
	}
	res, err := c.get(ctx, u, "application/json")
	if err != nil {
		return IssuerMetadata{}, fetchErr(StepMetadata, "the issuer's metadata", err)
	}
	if res.Status != http.StatusOK {
		return IssuerMetadata{}, httpErr(StepMetadata, "the issuer's metadata", res)
	}
	m, err := ParseIssuerMetadata(res.Body)
	if err != nil {
		return IssuerMetadata{}, stepErr(StepMetadata, "%s", err.Error())
	}
	if m.CredentialIssuer != issuer {
		return IssuerMetadata{}, stepErr(StepMetadata, "the metadata is of another issuer (%q, not %q)", clipText(m.CredentialIssuer), clipText(issuer))
	}
	return m, nil
}

// ParseIssuerMetadata reads Credential Issuer Metadata (section 12.2.4):
// bounded, with the members a wallet needs.
func ParseIssuerMetadata(body []byte) (IssuerMetadata, error) {
	var m IssuerMetadata
	if len(body) > maxMetadata {
		return m, fmt.Errorf("the issuer's metadata is larger than %d bytes", maxMetadata)
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return m, fmt.Errorf("the issuer's metadata is not a JSON object of the expected shape")
	}
	if err := checkIssuerID(m.CredentialIssuer); err != nil {
		return m, fmt.Errorf("the metadata's credential_issuer: %w", err)
	}
	if _, err := checkEndpoint(m.CredentialEndpoint); err != nil {
		return m, fmt.Errorf("the metadata's credential_endpoint: %w", err)
	}
	if m.NonceEndpoint != "" {
		if _, err := checkEndpoint(m.NonceEndpoint); err != nil {
			return m, fmt.Errorf("the metadata's nonce_endpoint: %w", err)
		}
	}
	if len(m.AuthorizationServers) > 8 {
		return m, fmt.Errorf("the metadata lists more than 8 authorization servers")
	}
	for _, a := range m.AuthorizationServers {
		if err := checkIssuerID(a); err != nil {
			return m, fmt.Errorf("the metadata's authorization_servers: %w", err)
		}
	}
	if n := len(m.CredentialConfigurationsSupported); n == 0 || n > maxConfigurations {
		return m, fmt.Errorf("the metadata must describe between 1 and %d credentials", maxConfigurations)
	}
	return m, nil
}

func checkEndpoint(u string) (*url.URL, error) {
	p, err := url.Parse(u)
	if u == "" || len(u) > 2048 || err != nil || p.Host == "" || (p.Scheme != "https" && p.Scheme != "http") {
		return nil, fmt.Errorf("%q is not an https URL", clipText(u))
	}
	return p, nil
}

// tokenEndpoint fetches an Authorization Server's RFC 8414 metadata
// (path insertion, section 3.1), whose issuer must be the server's
// identifier (section 3.3). A server that answers 404 there is asked at
// /.well-known/openid-configuration, as RFC 8414 section 5 lets an
// OpenID provider publish the same metadata.
func (c *Client) tokenEndpoint(ctx context.Context, as string) (string, error) {
	var last *fetch.Response
	for _, wk := range []string{WellKnownAS, "/.well-known/openid-configuration"} {
		u, err := WellKnownURL(as, wk)
		if err != nil {
			return "", stepErr(StepAuthServer, "%s", err.Error())
		}
		if wk != WellKnownAS {
			// OpenID Connect Discovery appends, rather than inserts.
			u = strings.TrimSuffix(as, "/") + wk
		}
		res, err := c.get(ctx, u, "application/json")
		if err != nil {
			return "", fetchErr(StepAuthServer, "the authorization server's metadata", err)
		}
		last = res
		if res.Status == http.StatusNotFound {
			continue
		}
		if res.Status != http.StatusOK {
			break
		}
		m, err := ParseAuthorizationServerMetadata(res.Body)
		if err != nil {
			return "", stepErr(StepAuthServer, "%s", err.Error())
		}
		if m.Issuer != as {
			return "", stepErr(StepAuthServer, "the authorization server's metadata is of another server (%q, not %q)", clipText(m.Issuer), clipText(as))
		}
		return m.TokenEndpoint, nil
	}
	return "", httpErr(StepAuthServer, "the authorization server's metadata", last)
}

// ParseAuthorizationServerMetadata reads RFC 8414 metadata, bounded: an
// issuer and a token endpoint.
func ParseAuthorizationServerMetadata(body []byte) (AuthorizationServerMetadata, error) {
	var m AuthorizationServerMetadata
	if len(body) > maxMetadata {
		return m, fmt.Errorf("the authorization server's metadata is larger than %d bytes", maxMetadata)
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return m, fmt.Errorf("the authorization server's metadata is not a JSON object of the expected shape")
	}
	if err := checkIssuerID(m.Issuer); err != nil {
		return m, fmt.Errorf("the authorization server's issuer: %w", err)
	}
	if _, err := checkEndpoint(m.TokenEndpoint); err != nil {
		return m, fmt.Errorf("the authorization server's token_endpoint: %w", err)
	}
	if len(m.GrantTypesSupported) > 0 {
		ok := false
		for _, g := range m.GrantTypesSupported {
			ok = ok || g == GrantPreAuthorizedCode
		}
		if !ok {
			return m, fmt.Errorf("the authorization server does not support the pre-authorized code grant")
		}
	}
	return m, nil
}

// Received is one credential received and checked.
type Received struct {
	ConfigurationID string
	Format          string
	Raw             string
	// Issuer is the credential's issuer (iss), Type its vct or VC type.
	Issuer, Type string
	// HolderKey is the holder key's DID URL when the credential is bound
	// to it.
	HolderKey string
	// Verified tells whether the issuer's signature was checked with a
	// key resolved from the issuer's identifier; false when its method is
	// one this wallet cannot resolve (the credential is kept all the
	// same, as the issuer's metadata vouches for it).
	Verified bool
}

// Receive exchanges the pre-authorized code (with txCode when the offer
// asks for one) for an access token, then asks for each offered
// credential with a key proof signed by holderKey, and checks each one.
// Nothing is returned unless every credential passed.
func (c *Client) Receive(ctx context.Context, p *Prepared, txCode string, holderKey *credentials.Key) ([]Received, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	g := p.Grant()
	form := url.Values{"grant_type": {GrantPreAuthorizedCode}, "pre-authorized_code": {g.PreAuthorizedCode}}
	if g.TxCode != nil {
		txCode = strings.TrimSpace(txCode)
		if txCode == "" {
			return nil, &StepError{Step: StepToken, Detail: "the issuer asks for a transaction code: type the code the issuer gave you", IssuerError: "tx_code_missing"}
		}
		if len(txCode) > maxField {
			return nil, stepErr(StepToken, "the transaction code is too long")
		}
		form.Set("tx_code", txCode)
	}
	res, err := c.Fetch.Post(ctx, p.TokenEndpoint, "application/x-www-form-urlencoded", []byte(form.Encode()), "Accept", "application/json")
	if err != nil {
		return nil, fetchErr(StepToken, "the access token", err)
	}
	if res.Status != http.StatusOK {
		return nil, oauthErr(StepToken, "the issuer refused the code", res)
	}
	var tok TokenResponse
	if err := json.Unmarshal(res.Body, &tok); err != nil || tok.AccessToken == "" || len(tok.AccessToken) > 4096 {
		return nil, stepErr(StepToken, "the token response has no access_token")
	}
	if !strings.EqualFold(tok.TokenType, "Bearer") {
		return nil, stepErr(StepToken, "the token type %q is not Bearer (DPoP is not supported yet)", clipText(tok.TokenType))
	}
	var out []Received
	for _, id := range p.Offer.CredentialConfigurationIDs {
		got, err := c.requestCredential(ctx, p, id, tok.AccessToken, holderKey)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// requestCredential asks for one configuration (section 8) and checks
// the answer.
func (c *Client) requestCredential(ctx context.Context, p *Prepared, id, token string, holderKey *credentials.Key) ([]Received, error) {
	conf := p.Metadata.CredentialConfigurationsSupported[id]
	nonce := ""
	if p.Metadata.NonceEndpoint != "" {
		res, err := c.Fetch.Post(ctx, p.Metadata.NonceEndpoint, "application/json", nil, "Accept", "application/json")
		if err != nil {
			return nil, fetchErr(StepNonce, "a nonce", err)
		}
		if res.Status != http.StatusOK {
			return nil, oauthErr(StepNonce, "the issuer gave no nonce", res)
		}
		var n NonceResponse
		if err := json.Unmarshal(res.Body, &n); err != nil || n.CNonce == "" || len(n.CNonce) > maxField {
			return nil, stepErr(StepNonce, "the nonce response has no c_nonce")
		}
		nonce = n.CNonce
	}
	req := map[string]any{"credential_configuration_id": id}
	if len(conf.CryptographicBindingMethodsSupported) > 0 || len(conf.ProofTypesSupported) > 0 {
		if _, ok := conf.ProofTypesSupported["jwt"]; len(conf.ProofTypesSupported) > 0 && !ok {
			return nil, stepErr(StepCredential, "the issuer takes no jwt key proof for %q, the only kind this wallet makes", clipText(id))
		}
		proof, err := c.Proof(p.Offer.CredentialIssuer, nonce, holderKey, jwkOnly(conf.CryptographicBindingMethodsSupported))
		if err != nil {
			return nil, stepErr(StepCredential, "the key proof could not be signed")
		}
		req["proofs"] = map[string]any{"jwt": []string{proof}}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	res, err := c.Fetch.Post(ctx, p.Metadata.CredentialEndpoint, "application/json", body, "Authorization", "Bearer "+token, "Accept", "application/json")
	if err != nil {
		return nil, fetchErr(StepCredential, "the credential", err)
	}
	if res.Status != http.StatusOK && res.Status != http.StatusAccepted {
		return nil, oauthErr(StepCredential, "the issuer refused to give the credential", res)
	}
	raws, err := ParseCredentialResponse(res.Body)
	if err != nil {
		return nil, stepErr(StepCredential, "%s", err.Error())
	}
	out := make([]Received, 0, len(raws))
	for _, raw := range raws {
		r, err := c.Check(ctx, conf.Format, raw, holderKey)
		if err != nil {
			return nil, err
		}
		r.ConfigurationID = id
		out = append(out, r)
	}
	return out, nil
}

// jwkOnly tells whether an issuer binds credentials to a jwk and to no
// DID, so that the key proof must carry the key as jwk (appendix F.1).
func jwkOnly(methods []string) bool {
	jwk, did := false, false
	for _, m := range methods {
		switch {
		case m == "jwk":
			jwk = true
		case m == "did:jwk" || m == "did" || strings.HasPrefix(m, "did:"):
			did = did || m == "did:jwk" || m == "did"
		}
	}
	return jwk && !did
}

// ParseCredentialResponse reads a credential response (section 8.3): the
// credentials array's strings. A transaction_id (a deferred issuance)
// is refused plainly: this wallet does not come back for credentials yet.
func ParseCredentialResponse(body []byte) ([]string, error) {
	if len(body) > maxIssuedPerConfig*maxCredential+1024 {
		return nil, fmt.Errorf("the credential response is too large")
	}
	var r struct {
		Credentials   json.RawMessage `json:"credentials"`
		TransactionID string          `json:"transaction_id"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("the credential response is not a JSON object")
	}
	if r.TransactionID != "" && len(r.Credentials) == 0 {
		return nil, fmt.Errorf("the issuer will send the credential later, which this wallet cannot receive yet: ask the issuer to offer it again when it is ready")
	}
	var list []struct {
		Credential json.RawMessage `json:"credential"`
	}
	if err := json.Unmarshal(r.Credentials, &list); err != nil || len(list) == 0 {
		return nil, fmt.Errorf("the credential response has no credentials array")
	}
	if len(list) > maxIssuedPerConfig {
		return nil, fmt.Errorf("the credential response holds more than %d credentials", maxIssuedPerConfig)
	}
	out := make([]string, 0, len(list))
	for _, c := range list {
		var s string
		if err := json.Unmarshal(c.Credential, &s); err != nil || s == "" {
			return nil, fmt.Errorf("a credential of the response is not a string")
		}
		if len(s) > maxCredential {
			return nil, fmt.Errorf("a credential of the response is larger than %d bytes", maxCredential)
		}
		out = append(out, s)
	}
	return out, nil
}

// Proof signs a jwt key proof (appendix F.1) with the holder key: typ
// openid4vci-proof+jwt, the key named by kid (its DID URL) or, when
// useJWK, given as jwk; aud the Credential Issuer, iat now, and the
// nonce when there is one.
func (c *Client) Proof(aud, nonce string, k *credentials.Key, useJWK bool) (string, error) {
	if k == nil || k.Signer == nil {
		return "", errors.New("no holder key")
	}
	claims := map[string]any{"aud": aud, "iat": c.Now().Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	h := jws.NewHeaders()
	if err := h.Set(jws.TypeKey, ProofJWTType); err != nil {
		return "", err
	}
	if useJWK {
		pub, err := credentials.PublicJWK(k.PublicOnly())
		if err != nil {
			return "", err
		}
		_ = pub.Remove("kid")
		if err := h.Set(jws.JWKKey, pub); err != nil {
			return "", err
		}
	} else if err := h.Set(jws.KeyIDKey, k.ID); err != nil {
		return "", err
	}
	signed, err := jws.Sign(payload, jws.WithKey(k.Alg.JWA(), k.Signer, jws.WithProtectedHeaders(h)))
	return string(signed), err
}

// fetchErr says a fetch failed, without the URL's secrets.
func fetchErr(step Step, what string, err error) *StepError {
	var e *StepError
	switch {
	case errors.Is(err, fetch.ErrRefused):
		e = stepErr(step, "%s could not be fetched: the address is not allowed (only public https addresses are)", what)
	case strings.Contains(err.Error(), "larger than"):
		return stepErr(step, "%s is too large", what)
	default:
		e = stepErr(step, "%s could not be fetched: the issuer did not answer", what)
	}
	e.Unreachable = true
	return e
}

func httpErr(step Step, what string, res *fetch.Response) *StepError {
	if res == nil {
		e := stepErr(step, "%s could not be fetched", what)
		e.Unreachable = true
		return e
	}
	if res.Status == http.StatusNotFound {
		return stepErr(step, "%s was not found (it may have expired or been used already)", what)
	}
	return stepErr(step, "%s could not be fetched: the issuer answered %d", what, res.Status)
}

// oauthErr reads an OAuth error answer (RFC 6749 section 5.2, OpenID4VCI
// section 8.3.1): the issuer's error code and description, quoted plainly.
func oauthErr(step Step, what string, res *fetch.Response) *StepError {
	var e Error
	if json.Unmarshal(res.Body, &e) == nil && e.Code != "" {
		d := what + ": " + clipText(e.Code)
		if e.Description != "" {
			desc := ascii(e.Description)
			if len(desc) > 200 {
				desc = desc[:200] + "..."
			}
			d += " (" + desc + ")"
		}
		return &StepError{Step: step, Detail: d, IssuerError: clipText(e.Code)}
	}
	return stepErr(step, "%s: it answered %d", what, res.Status)
}
