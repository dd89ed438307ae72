package http

// OpenID4VP 1.0 (oid4vp, issue 7): staff at a service point ask a phone
// wallet for a credential. The staff pages (/verify/oid4vp/...) make a
// request and show its QR code, then the outcome; the wallet's endpoints
// (/verify/oid4vp/requests/ID, the request_uri, and
// /verify/oid4vp/responses/ID, the response_uri) are public: what guards
// them is the request's unguessable id, the state and nonce only the
// signed Request Object carries, and the key binding of each
// presentation. Their errors are OAuth JSON. See docs/oid4vp.md.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/oid4vp"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier"
	"github.com/tally-id/tally/verifier/registry"
)

// OpenID4VP limits.
const (
	// vpPurposeMax bounds the purpose, in characters.
	vpPurposeMax = 200
	// vpKeepAfterExpiry is how long a transaction and its outcome are kept
	// once it can no longer be answered, for the staff page to show it.
	vpKeepAfterExpiry = oid4vp.KeepAfterExpiry
	// vpPNGSize is the width in pixels of the request's QR image.
	vpPNGSize = 384
	// vpServicePoint names the scans of phone wallets in the registry.
	vpServicePoint = "phone wallet (OpenID4VP)"
)

// vpPage is what the transaction page shows.
type vpPage struct {
	ID      string
	Status  string
	Purpose string
	Preset  string
	// Claims are the claims asked, as catalogue keys' suffixes.
	Claims []string
	// URI is the openid4vp:// link; Image its QR code.
	URI     template.URL
	Image   template.URL
	Expires time.Time
	Expired bool
	// Interrupted: a response was taken but its check never finished.
	Interrupted bool
	Outcome     *oid4vp.Outcome
	// Ages say how long ago the registry saw the person, in words.
	FirstAgo, LastAgo string
	// Presets and Form are the new-request form's choices and values.
	Presets []oid4vp.Preset
}

// vpReady answers 404 when the verifier service is not set up.
func (s *Server) vpReady() error {
	if s.trust == nil || s.vpStore == nil {
		return issuer.ErrNotFound
	}
	return nil
}

// vpNewForm shows the form of a new request.
func (s *Server) vpNewForm(c echo.Context) error {
	if err := s.vpReady(); err != nil {
		return err
	}
	return s.renderVPForm(c, http.StatusOK, map[string]string{"preset": oid4vp.Presets()[0].Name}, nil)
}

func (s *Server) renderVPForm(c echo.Context, status int, form, errs map[string]string) error {
	d := s.newPage(c, "oid4vp_new_title")
	d.Form, d.Errors = form, errs
	if len(errs) > 0 {
		d.Message = d.T.Get("oid4vp_form_error")
	}
	d.VP = &vpPage{Presets: oid4vp.Presets()}
	return s.render(c, status, "oid4vp_new", d)
}

// vpCreate makes a request: the transaction, then the page with its QR
// code.
func (s *Server) vpCreate(c echo.Context) error {
	if err := s.vpReady(); err != nil {
		return err
	}
	p := mustPrincipal(c)
	ctx := c.Request().Context()
	form := map[string]string{"preset": c.FormValue("preset"), "purpose": strings.TrimSpace(c.FormValue("purpose"))}
	m := s.cat.pick(c.Request())
	errs := map[string]string{}
	preset, ok := oid4vp.PresetNamed(form["preset"])
	if !ok {
		errs["preset"] = m.Get("oid4vp_err_preset")
	}
	switch purpose := form["purpose"]; {
	case purpose == "":
		errs["purpose"] = m.Get("oid4vp_err_purpose")
	case !utf8.ValidString(purpose) || utf8.RuneCountInString(purpose) > vpPurposeMax || strings.IndexFunc(purpose, isControl) >= 0:
		errs["purpose"] = m.Get("oid4vp_err_purpose_long", vpPurposeMax)
	}
	if len(errs) > 0 {
		return s.renderVPForm(c, http.StatusBadRequest, form, errs)
	}
	org, err := s.svc.Organisation(ctx, p.Org)
	if err != nil {
		return err
	}
	domain, err := s.vpDomain(ctx, p.Org)
	if err != nil {
		return err
	}
	now := s.svc.Now()
	if _, err := s.vpStore.DeletePresentationsBefore(ctx, now.Add(-vpKeepAfterExpiry)); err != nil {
		return err
	}
	t, err := oid4vp.NewTransaction(s.rand, oid4vp.NewInput{Org: p.Org, Staff: p.Ref(), ClientID: oid4vp.ClientID(org.DID),
		Preset: preset, Purpose: form["purpose"], Domain: domain}, now, oid4vp.DefaultTTL)
	if err != nil {
		return err
	}
	if err := s.vpStore.CreatePresentation(ctx, t); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "presentation request made", "presentation", t.ID, "preset", t.Preset, "org", p.Org, "by", p.Ref())
	return c.Redirect(http.StatusSeeOther, "/verify/oid4vp/"+t.ID)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// vpDomain is the dedup domain of an organisation's verifications: the
// one its verification settings name (the scanning desk's, so that a card
// and a phone wallet count alike), else the first of the registry's
// domains that names it among its members, or "" when there is none (no
// dedup check).
func (s *Server) vpDomain(ctx context.Context, org string) (string, error) {
	if s.registry == nil {
		return "", nil
	}
	if s.desk != nil {
		set, err := s.desk.Settings(ctx, org)
		if err != nil {
			return "", err
		}
		if set.Domain != "" {
			return set.Domain, nil
		}
	}
	domains, err := s.registry.Domains(ctx)
	if err != nil {
		return "", err
	}
	for _, d := range domains {
		if slices.Contains(d.Members, org) {
			return d.ID, nil
		}
	}
	return "", nil
}

// vpTransaction returns the path's transaction, if it is the caller's
// organisation's.
func (s *Server) vpTransaction(c echo.Context) (oid4vp.Transaction, error) {
	if err := s.vpReady(); err != nil {
		return oid4vp.Transaction{}, err
	}
	t, err := s.vpStore.Presentation(c.Request().Context(), c.Param("tx"))
	if errors.Is(err, oid4vp.ErrNotFound) || err == nil && t.Org != mustPrincipal(c).Org {
		return oid4vp.Transaction{}, issuer.ErrNotFound
	}
	return t, err
}

// vpURLs are a transaction's request_uri and response_uri.
func (s *Server) vpURLs(t oid4vp.Transaction) (requestURI, responseURI string) {
	base := strings.TrimSuffix(s.svc.CredentialIssuer(t.Org), "/orgs/"+t.Org)
	return base + "/verify/oid4vp/requests/" + t.ID, base + "/verify/oid4vp/responses/" + t.ID
}

// vpShow shows a transaction: its QR code while it waits, its outcome
// once it is known. The page refreshes itself (and its script polls the
// state) until then.
func (s *Server) vpShow(c echo.Context) error {
	t, err := s.vpTransaction(c)
	if err != nil {
		return err
	}
	now := s.svc.Now()
	d := s.newPage(c, "oid4vp_title")
	preset, _ := oid4vp.PresetNamed(t.Preset)
	v := &vpPage{ID: t.ID, Status: t.Status, Purpose: t.Purpose, Preset: t.Preset, Expires: t.Expires, Expired: t.Expired(now),
		Interrupted: t.Interrupted(now), Outcome: t.Outcome}
	v.Claims = append(v.Claims, preset.Claims...)
	if t.Status != oid4vp.StatusDone && !v.Expired {
		req, _ := s.vpURLs(t)
		uri := oid4vp.AuthorizationRequestURI(t.ClientID, req)
		png, err := credentials.CardPNG(uri, vpPNGSize)
		if err != nil {
			return err
		}
		v.URI = template.URL(uri)
		v.Image = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		d.Refresh, d.Script = 3, "/static/oid4vp.js"
	}
	if o := t.Outcome; o != nil && o.Dedup != nil && !o.Dedup.New && o.Dedup.Error == "" {
		v.FirstAgo, v.LastAgo = ago(d.T, now, o.Dedup.FirstSeen), ago(d.T, now, o.Dedup.LastSeen)
	}
	d.VP = v
	return s.render(c, http.StatusOK, "oid4vp", d)
}

// apiPresentation is a request as the API shows it: never its nonce or
// state.
type apiPresentation struct {
	ID      string          `json:"id"`
	Preset  string          `json:"preset"`
	Purpose string          `json:"purpose"`
	Status  string          `json:"status"`
	Expires time.Time       `json:"expires"`
	Expired bool            `json:"expired"`
	Outcome *oid4vp.Outcome `json:"outcome,omitempty"`
}

// vpState serves a request's state and outcome: the transaction page's
// script polls it, and integrations may.
func (s *Server) vpState(c echo.Context) error {
	t, err := s.vpTransaction(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, apiPresentation{ID: t.ID, Preset: t.Preset, Purpose: t.Purpose, Status: t.Status,
		Expires: t.Expires, Expired: t.Expired(s.svc.Now()), Outcome: t.Outcome})
}

// vpJSON writes a protocol answer, never cached.
func vpJSON(c echo.Context, status int, v any) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(status, v)
}

// vpRequestObject serves the signed Request Object at the request_uri,
// a few times at most, while the request can be answered. A POST (the
// request_uri_method post of OpenID4VP 1.0) may carry a wallet_nonce,
// which the Request Object then echoes.
func (s *Server) vpRequestObject(c echo.Context) error {
	if err := s.vpReady(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var walletNonce string
	if c.Request().Method == http.MethodPost {
		form, err := vpForm(c)
		if err != nil {
			return vpJSON(c, err.Status, err)
		}
		if len(form["wallet_nonce"]) > 1 || len(form.Get("wallet_nonce")) > 256 {
			e := oid4vp.Errorf(http.StatusBadRequest, oid4vp.ErrInvalidRequest, "wallet_nonce is repeated or too long")
			return vpJSON(c, e.Status, e)
		}
		walletNonce = form.Get("wallet_nonce")
	}
	now := s.svc.Now()
	var refused *oid4vp.Error
	t, err := s.vpStore.UpdatePresentation(ctx, c.Param("tx"), func(t *oid4vp.Transaction) error {
		if refused = t.Fetch(now); refused != nil {
			return refused
		}
		return nil
	})
	if errors.Is(err, oid4vp.ErrNotFound) {
		e := oid4vp.Errorf(http.StatusNotFound, oid4vp.ErrInvalidRequestURI, "no such request: ask the verifier for a new one")
		return vpJSON(c, e.Status, e)
	}
	if refused != nil {
		return vpJSON(c, refused.Status, refused)
	}
	if err != nil {
		return err
	}
	key, err := s.svc.VerifierKey(ctx, t.Org)
	if err != nil {
		return err
	}
	_, responseURI := s.vpURLs(t)
	ro := oid4vp.NewRequestObject(t, responseURI, now)
	ro.WalletNonce = walletNonce
	if org, err := s.svc.Organisation(ctx, t.Org); err == nil {
		ro.ClientMetadata.ClientName = org.Name // the wallet shows it (issue 8)
	}
	jwt, err := oid4vp.SignRequestObject(ro, key)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "application/"+oid4vp.RequestObjectType, []byte(jwt))
}

// vpForm reads a wallet's form body, bounded.
func vpForm(c echo.Context) (url.Values, *oid4vp.Error) {
	r := c.Request()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return nil, oid4vp.Errorf(http.StatusBadRequest, oid4vp.ErrInvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, oid4vp.MaxResponseSize)
	if err := r.ParseForm(); err != nil {
		return nil, oid4vp.Errorf(http.StatusBadRequest, oid4vp.ErrInvalidRequest, "the body is not a form within "+fmt.Sprint(oid4vp.MaxResponseSize>>10)+" KiB")
	}
	return r.PostForm, nil
}

// vpResponse takes the Authorization Response posted to the response_uri
// (direct_post): once per transaction, with its state, before it expires;
// then checks it and stores the outcome for the staff page.
func (s *Server) vpResponse(c echo.Context) error {
	if err := s.vpReady(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	form, perr := vpForm(c)
	if perr != nil {
		return vpJSON(c, perr.Status, perr)
	}
	resp, perr := oid4vp.ParseResponse(form)
	if perr != nil {
		return vpJSON(c, perr.Status, perr)
	}
	now := s.svc.Now()
	var refused *oid4vp.Error
	t, err := s.vpStore.UpdatePresentation(ctx, c.Param("tx"), func(t *oid4vp.Transaction) error {
		if refused = t.Take(resp.State, now); refused != nil {
			return refused
		}
		return nil
	})
	if errors.Is(err, oid4vp.ErrNotFound) {
		e := oid4vp.Errorf(http.StatusBadRequest, oid4vp.ErrInvalidRequest, "no such request: it expired or never was")
		return vpJSON(c, e.Status, e)
	}
	if refused != nil {
		return vpJSON(c, refused.Status, refused)
	}
	if err != nil {
		return err
	}
	// The response is this transaction's alone from here: whatever its
	// checks find is its outcome.
	out, answer := oid4vp.Check(ctx, s.trust.Verifier(), t, resp, now, s.vpDedup(t))
	if _, err := s.vpStore.UpdatePresentation(ctx, t.ID, func(t *oid4vp.Transaction) error {
		t.Status, t.Outcome = oid4vp.StatusDone, &out
		return nil
	}); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "presentation checked", "presentation", t.ID, "org", t.Org, "valid", out.Valid, "reason", out.Reason, "walletError", loggedWalletError(out.WalletError))
	if answer != nil {
		return vpJSON(c, answer.Status, answer)
	}
	return vpJSON(c, http.StatusOK, map[string]any{})
}

// loggedWalletError is a wallet's error code as the log keeps it: a code
// OpenID4VP or OAuth defines, or "other" (the wallet chose the text).
func loggedWalletError(code string) string {
	switch code {
	case "", "access_denied", "invalid_request", "invalid_client", "invalid_scope", "vp_formats_not_supported",
		"invalid_request_uri_method", "invalid_transaction_data", "wallet_unavailable", "server_error", "temporarily_unavailable":
		return code
	}
	return "other"
}

// vpDedup derives the person's token in t's domain and records the scan.
func (s *Server) vpDedup(t oid4vp.Transaction) oid4vp.DedupFunc {
	if s.registry == nil || t.Domain == "" {
		return nil
	}
	return func(ctx context.Context, res *verifier.Result) *oid4vp.Dedup {
		d := &oid4vp.Dedup{Domain: t.Domain}
		key, err := s.registry.Key(ctx, t.Domain)
		if err != nil {
			d.Error = "key"
			return d
		}
		tok, err := res.DedupToken(key)
		if err != nil {
			d.Error = "seed"
			return d
		}
		o, err := s.registry.Record(ctx, registry.Scan{Domain: t.Domain, Token: tok, ServicePoint: vpServicePoint, At: s.svc.Now()})
		if err != nil {
			d.Error = "record"
			return d
		}
		d.New = o.New
		if !o.New {
			d.Count, d.FirstSeen, d.LastSeen, d.LastAt = o.Before.Count, o.Before.FirstSeen, o.Before.LastSeen, o.Before.LastAt
		}
		return d
	}
}
