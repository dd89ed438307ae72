package http

// OpenID4VCI 1.0: each organisation is a Credential Issuer identified by
// BASEURL/orgs/SLUG, and its own authorization server. Its metadata is at
// the path-inserted well-known URLs; the offer by reference, the token,
// nonce and credential endpoints are below the identifier. These routes
// are public (the wallet has no account); what protects them is the
// offer's secret, its transaction code, the access token and the key
// proof. Their errors are OAuth JSON, never pages. See docs/oid4vci.md.

import (
	"encoding/base64"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/oid4vci"
	"github.com/tally-id/tally/issuer"
)

// OpenID4VCI limits.
const (
	// vciNonceTTL is how long a c_nonce lasts; vciProofMaxAge how old a
	// key proof's iat may be, vciProofSkew how far ahead.
	vciNonceTTL    = 5 * time.Minute
	vciProofMaxAge = 5 * time.Minute
	vciProofSkew   = time.Minute
	// vciBodyLimit bounds token and credential request bodies.
	vciBodyLimit = 64 << 10
	// offerPNGSize is the width in pixels of an offer's QR image.
	offerPNGSize = 384
)

// offerView is an offer just made, as its page shows it once.
type offerView struct {
	Registration string
	Type         credentials.Type
	// URI is the openid-credential-offer:// link: html/template would
	// refuse its scheme unless it is marked as made here.
	URI     template.URL
	Image   template.URL
	TxCode  string
	Expires time.Time
}

// vciJSON writes a protocol answer, never cached.
func vciJSON(c echo.Context, status int, v any) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(status, v)
}

// vciError writes an OAuth error; a 401 says how to authenticate
// (RFC 6750 section 3).
func vciError(c echo.Context, e *oid4vci.Error) error {
	if e.Status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer error="`+e.Code+`"`)
	}
	return vciJSON(c, e.Status, e)
}

// vciOrg checks that the path's organisation exists, and returns its
// Credential Issuer Identifier.
func (s *Server) vciOrg(c echo.Context) (issuer.Organisation, string, error) {
	org, err := s.svc.Organisation(c.Request().Context(), c.Param("org"))
	if err != nil {
		return issuer.Organisation{}, "", err
	}
	return org, s.svc.CredentialIssuer(org.Slug), nil
}

// vciIssuerMetadata serves the Credential Issuer Metadata.
func (s *Server) vciIssuerMetadata(c echo.Context) error {
	org, id, err := s.vciOrg(c)
	if err != nil {
		return err
	}
	alg, err := s.svc.SigningAlgorithm(c.Request().Context(), org.Slug)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, oid4vci.NewIssuerMetadata(id, org.Name, string(alg.JWA())))
}

// vciASMetadata serves the authorization server metadata (RFC 8414).
func (s *Server) vciASMetadata(c echo.Context) error {
	_, id, err := s.vciOrg(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, oid4vci.NewAuthorizationServerMetadata(id))
}

// vciOffer serves a credential offer by reference, while it can be
// redeemed.
func (s *Server) vciOffer(c echo.Context) error {
	_, id, err := s.vciOrg(c)
	if err != nil {
		return err
	}
	secret := c.Param("offer")
	o, err := s.svc.OfferBySecret(c.Request().Context(), c.Param("org"), secret)
	if errors.Is(err, issuer.ErrOfferUnusable) {
		return issuer.ErrNotFound
	}
	if err != nil {
		return err
	}
	return vciJSON(c, http.StatusOK, offerObject(id, o, issuer.PreAuthorizedCode(secret)))
}

// offerObject is the Credential Offer of an offer.
func offerObject(issuerID string, o issuer.Offer, code string) oid4vci.CredentialOffer {
	grant := &oid4vci.PreAuthorizedCodeGrant{PreAuthorizedCode: code}
	if o.TxHash != nil {
		grant.TxCode = &oid4vci.TxCode{InputMode: "numeric", Length: issuer.TxCodeLength,
			Description: "The code the registration staff told you"}
	}
	out := oid4vci.CredentialOffer{CredentialIssuer: issuerID, Grants: &oid4vci.Grants{PreAuthorizedCode: grant}}
	for _, f := range o.Formats {
		out.CredentialConfigurationIDs = append(out.CredentialConfigurationIDs, oid4vci.ConfigurationID(o.Type, f))
	}
	return out
}

// vciForm reads a form body of at most vciBodyLimit bytes.
func vciForm(c echo.Context) (url.Values, *oid4vci.Error) {
	r := c.Request()
	if ct := r.Header.Get(echo.HeaderContentType); !strings.HasPrefix(ct, echo.MIMEApplicationForm) {
		return nil, oid4vci.TokenError("invalid_request", "the token request must be application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, vciBodyLimit+1))
	if err != nil || len(body) > vciBodyLimit {
		return nil, oid4vci.TokenError("invalid_request", "the token request is too large")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, oid4vci.TokenError("invalid_request", "the token request is not a valid form")
	}
	return form, nil
}

// vciToken exchanges a pre-authorized code for an access token.
func (s *Server) vciToken(c echo.Context) error {
	if _, _, err := s.vciOrg(c); err != nil {
		return err
	}
	form, perr := vciForm(c)
	if perr != nil {
		return vciError(c, perr)
	}
	req, perr := oid4vci.ParseTokenRequest(form)
	if perr != nil {
		return vciError(c, perr)
	}
	token, expires, err := s.svc.RedeemOffer(c.Request().Context(), c.Param("org"), req.PreAuthorizedCode, req.TxCode, req.HasTxCode)
	switch {
	case errors.Is(err, issuer.ErrOfferUnusable):
		return vciError(c, oid4vci.TokenError("invalid_grant", "the pre-authorized code is unknown, used or expired"))
	case errors.Is(err, issuer.ErrTxCodeWrong):
		return vciError(c, oid4vci.TokenError("invalid_grant", "the transaction code is wrong"))
	case errors.Is(err, issuer.ErrTxCodeMissing):
		return vciError(c, oid4vci.TokenError("invalid_request", "tx_code is missing: this offer needs its transaction code"))
	case errors.Is(err, issuer.ErrTxCodeUnexpected):
		return vciError(c, oid4vci.TokenError("invalid_request", "tx_code was sent, but this offer has none"))
	case err != nil:
		return err
	}
	return vciJSON(c, http.StatusOK, oid4vci.TokenResponse{AccessToken: token, TokenType: "Bearer",
		ExpiresIn: int(time.Until(expires).Round(time.Second) / time.Second)})
}

// vciNonce gives a fresh c_nonce.
func (s *Server) vciNonce(c echo.Context) error {
	_, id, err := s.vciOrg(c)
	if err != nil {
		return err
	}
	n, err := s.nonces.New(id)
	if err != nil {
		return err
	}
	return vciJSON(c, http.StatusOK, oid4vci.NonceResponse{CNonce: n})
}

// bearer is the access token of an Authorization: Bearer header.
func bearer(c echo.Context) string {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// vciCredential issues the credential an access token was given for,
// bound to the key its proof shows. The access token is checked first;
// then the request's shape, then each proof's signature, then its nonce
// (spent), and only then is anything issued.
func (s *Server) vciCredential(c echo.Context) error {
	_, id, err := s.vciOrg(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	org := c.Param("org")
	token := bearer(c)
	if token == "" {
		return vciError(c, oid4vci.CredentialError("invalid_token", "an access token from the token endpoint is required"))
	}
	o, err := s.svc.OfferByToken(ctx, org, token)
	if errors.Is(err, issuer.ErrTokenUnusable) {
		return vciError(c, oid4vci.CredentialError("invalid_token", "the access token is unknown or expired"))
	} else if err != nil {
		return err
	}
	if ct := c.Request().Header.Get(echo.HeaderContentType); !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return vciError(c, oid4vci.CredentialError("invalid_credential_request", "the credential request must be application/json"))
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, vciBodyLimit+1))
	if err != nil || len(body) > vciBodyLimit {
		return vciError(c, oid4vci.CredentialError("invalid_credential_request", "the credential request is too large"))
	}
	req, perr := oid4vci.ParseCredentialRequest(body, 1)
	if perr != nil {
		return vciError(c, perr)
	}
	typ, format, ok := oid4vci.ParseConfigurationID(req.CredentialConfigurationID)
	if !ok {
		return vciError(c, oid4vci.CredentialError("unknown_credential_configuration", "no such credential configuration"))
	}
	if typ != o.Type || !slices.Contains(o.Formats, format) {
		return vciError(c, oid4vci.CredentialError("credential_request_denied", "this access token was not given for that credential configuration"))
	}
	chk := oid4vci.ProofCheck{Audience: id, Now: s.svc.Now(), MaxAge: vciProofMaxAge, Skew: vciProofSkew}
	proofs := make([]oid4vci.Proof, 0, len(req.ProofJWTs))
	for _, jwt := range req.ProofJWTs {
		p, perr := oid4vci.VerifyProof(jwt, chk)
		if perr != nil {
			return vciError(c, perr)
		}
		proofs = append(proofs, p)
	}
	for _, p := range proofs {
		if !s.nonces.Spend(id, p.Nonce) {
			return vciError(c, oid4vci.CredentialError("invalid_nonce", "the c_nonce is unknown, spent or expired: get a new one from the nonce endpoint"))
		}
	}
	var out oid4vci.CredentialResponse
	for _, p := range proofs {
		issued, err := s.svc.IssueOffered(ctx, org, token, format, p.Key)
		switch {
		case errors.Is(err, issuer.ErrTokenUnusable):
			return vciError(c, oid4vci.CredentialError("invalid_token", "the access token is unknown or expired"))
		case errors.Is(err, issuer.ErrNotOffered):
			return vciError(c, oid4vci.CredentialError("credential_request_denied", "this credential was issued already with this access token"))
		case errors.Is(err, issuer.ErrNoConsent):
			return vciError(c, oid4vci.CredentialError("credential_request_denied", "the person's consent is no longer recorded"))
		case errors.Is(err, issuer.ErrErased):
			return vciError(c, oid4vci.CredentialError("credential_request_denied", "this credential can no longer be issued"))
		case err != nil:
			return err
		}
		s.log.InfoContext(ctx, "issued to a wallet", "credential", issued.Record.ID, "offer", o.ID, "org", org)
		out.Credentials = append(out.Credentials, oid4vci.IssuedCredential{Credential: issued.Credential})
	}
	return vciJSON(c, http.StatusOK, out)
}

// offerInputOf reads an offer form: the type, the programme, the
// format(s) and whether to ask for a transaction code.
func offerInputOf(c echo.Context) issuer.OfferInput {
	in := issuer.OfferInput{Type: credentials.Type(c.FormValue("type")), Programme: strings.TrimSpace(c.FormValue("programme")),
		NoTxCode: c.FormValue("noTxCode") != ""}
	switch c.FormValue("format") {
	case "jwt":
		in.Formats = []credentials.Format{credentials.FormatJWT}
	case "both":
		in.Formats = []credentials.Format{credentials.FormatSDJWT, credentials.FormatJWT}
	case "", "sd-jwt":
	default:
		in.Formats = []credentials.Format{credentials.Format(c.FormValue("format"))}
	}
	return in
}

// createOffer makes an offer from a registration's page and shows it
// once: the QR code for the wallet and the transaction code to tell the
// person.
func (s *Server) createOffer(c echo.Context) error {
	p := mustPrincipal(c)
	out, err := s.svc.CreateOffer(c.Request().Context(), p, p.Org, c.Param("id"), offerInputOf(c))
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		return s.renderRegistration(c, http.StatusBadRequest, nil, ie)
	}
	if err != nil {
		return err
	}
	uri := oid4vci.OfferURI(oid4vci.OfferEndpoint(s.svc.CredentialIssuer(p.Org), out.Secret))
	png, err := credentials.CardPNG(uri, offerPNGSize)
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "offer made", "offer", out.Offer.ID, "registration", out.Offer.Registration, "org", p.Org, "by", p.Ref())
	d := s.newPage(c, "offer_title")
	d.Offer = &offerView{Registration: out.Offer.Registration, Type: out.Offer.Type, URI: template.URL(uri), TxCode: out.TxCode, Expires: out.Offer.Expires,
		Image: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))}
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.render(c, http.StatusOK, "offer", d)
}

// apiOffer is the answer of POST /api/v1/orgs/ORG/registrations/ID/offers.
type apiOffer struct {
	ID string `json:"id"`
	// CredentialOffer is what the QR code shows.
	CredentialOffer    string    `json:"credentialOffer"`
	CredentialOfferURI string    `json:"credentialOfferUri"`
	TxCode             string    `json:"txCode,omitempty"`
	Expires            time.Time `json:"expires"`
}

// apiCreateOffer makes an offer for an integration.
func (s *Server) apiCreateOffer(c echo.Context) error {
	p := mustPrincipal(c)
	var in issuer.OfferInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	out, err := s.svc.CreateOffer(c.Request().Context(), p, c.Param("org"), c.Param("id"), in)
	if err != nil {
		return err
	}
	ref := oid4vci.OfferEndpoint(s.svc.CredentialIssuer(c.Param("org")), out.Secret)
	s.log.InfoContext(c.Request().Context(), "offer made", "offer", out.Offer.ID, "registration", out.Offer.Registration, "org", p.Org, "by", p.Ref())
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, apiOffer{ID: out.Offer.ID, CredentialOffer: oid4vci.OfferURI(ref), CredentialOfferURI: ref,
		TxCode: out.TxCode, Expires: out.Offer.Expires})
}
