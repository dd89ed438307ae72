package http

// The web wallet's pages of part present (issue 8): bring a verifier's
// request (open its openid4vp:// link, paste it, or upload a photo of its
// QR code), see who asks, why and for what, tick the optional parts,
// Share or Decline; and show a credential as a QR code at a service
// point. Core flows work without JavaScript.

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/internal/oid4vp"
	"github.com/tally-id/tally/issuer"
)

// walletPresentView is what the pages of part present show.
type walletPresentView struct {
	// Request is the link as the holder gave it (the form's value).
	Request string
	// Preview is a checked request waiting for the holder's answer.
	Preview *apiPresentPreview
	// Outcome is the verifier's answer to a share or a decline.
	Outcome *presentOutcome
	// Declined: the holder declined.
	Declined bool
	// Offline is a credential to show as a QR code: its claims to choose
	// from, or the code.
	Offline *walletOfflineView
}

// walletOfflineView is the offline QR page.
type walletOfflineView struct {
	Credential holder.Credential
	// Claims are the claims the holder may choose (SD-JWT), Chosen the
	// ones chosen.
	Claims []offlineClaim
	QR     *offlineQR
}

type offlineClaim struct {
	Name, Label string
	Chosen      bool
}

func (s *Server) presentPage(c echo.Context, status int, title, tmpl string, v *walletPresentView, msgKey string) error {
	d := s.newWalletPage(c, title)
	d.Wallet.Present = v
	if msgKey != "" {
		d.Message = d.T.Get(msgKey)
	}
	if tmpl == "wallet_present" {
		// The credentials the holder may show as a QR code.
		cs, err := walletOf(c).Credentials(c.Request().Context())
		if err != nil {
			return err
		}
		d.Wallet.Credentials = cs
	}
	return s.render(c, status, tmpl, d)
}

// walletPresentForm asks for the verifier's request; with ?request= (the
// openid4vp:// link opened on the phone) it goes straight to the
// consent page.
func (s *Server) walletPresentForm(c echo.Context) error {
	if r := c.QueryParam("request"); r != "" {
		return s.walletPresentPreview(c, r)
	}
	return s.presentPage(c, http.StatusOK, "wallet_present_title", "wallet_present", &walletPresentView{}, "")
}

// walletPresentRead reads the request from the form: the pasted link or
// a photo of the QR code.
func (s *Server) walletPresentRead(c echo.Context) error {
	if err := c.Request().ParseMultipartForm(maxPhotoUpload); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return s.presentPage(c, http.StatusBadRequest, "wallet_present_title", "wallet_present", &walletPresentView{}, "wallet_present_err_link")
	}
	link := strings.TrimSpace(c.FormValue("request"))
	if fh, err := c.FormFile("photo"); err == nil && fh.Size > 0 {
		text, _, ie := s.decodeUpload(c.Request().Context(), fh)
		if ie != nil {
			return s.presentPage(c, http.StatusBadRequest, "wallet_present_title", "wallet_present", &walletPresentView{}, "wallet_present_err_photo")
		}
		link = text
	}
	return s.walletPresentPreview(c, link)
}

// walletPresentPreview checks the request and shows the consent page,
// or says in plain words why the wallet will not answer.
func (s *Server) walletPresentPreview(c echo.Context, link string) error {
	m := s.newWalletPage(c, "").T // the holder's language
	if link == "" {
		return s.presentPage(c, http.StatusBadRequest, "wallet_present_title", "wallet_present", &walletPresentView{}, "wallet_present_err_empty")
	}
	if len(link) > oid4vp.MaxAuthorizationRequest {
		link = link[:oid4vp.MaxAuthorizationRequest+1]
	}
	v, err := s.presentPreview(c.Request().Context(), walletOf(c), link)
	var ie *issuer.InvalidError
	if errors.As(err, &ie) && len(ie.Fields) == 1 {
		key := "wallet_present_err_" + ie.Fields[0].Code
		if m.Get(key) == key {
			key = "wallet_present_err_request"
		}
		shown := link
		if len(shown) > 2048 {
			shown = ""
		}
		return s.presentPage(c, http.StatusBadRequest, "wallet_present_title", "wallet_present", &walletPresentView{Request: shown}, key)
	}
	if err != nil {
		return err
	}
	p := previewOf(v, m)
	return s.presentPage(c, http.StatusOK, "wallet_present_consent_title", "wallet_present_consent", &walletPresentView{Preview: &p}, "")
}

// walletPresentAnswer shares (or declines) a previewed request: for each
// query the credential chosen (cred_ID), optional queries only when
// ticked (include_ID).
func (s *Server) walletPresentAnswer(c echo.Context) error {
	w, ctx := walletOf(c), c.Request().Context()
	id := c.Param("rid")
	m := s.newWalletPage(c, "").T // the holder's language
	if c.FormValue("action") == "decline" {
		out, err := s.presentDecline(ctx, w, id)
		if err != nil {
			return err
		}
		return s.presentPage(c, http.StatusOK, "wallet_present_done_title", "wallet_present_done", &walletPresentView{Outcome: &out, Declined: true}, "")
	}
	v, err := s.present.peek(w.ID(), id, s.svc.Now())
	if err != nil {
		return err
	}
	choice := map[string]string{}
	for _, q := range v.plan.Queries {
		if !q.Required && c.FormValue("include_"+q.ID) == "" {
			continue
		}
		cred := c.FormValue("cred_" + q.ID)
		if cred == "" && len(q.Candidates) == 1 {
			cred = q.Candidates[0].Credential
		}
		choice[q.ID] = cred
	}
	out, err := s.presentShare(ctx, w, id, choice)
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		p := previewOf(v, m)
		return s.presentPage(c, http.StatusBadRequest, "wallet_present_consent_title", "wallet_present_consent", &walletPresentView{Preview: &p}, "wallet_present_err_choice")
	}
	if err != nil {
		return err
	}
	return s.presentPage(c, http.StatusOK, "wallet_present_done_title", "wallet_present_done", &walletPresentView{Outcome: &out}, "")
}

// walletOfflinePage shows a credential as a QR code: without claims, the
// claims to choose (SD-JWT); with ?claims=, the code, made anew at each
// load, and the page reloads itself every minute.
func (s *Server) walletOfflinePage(c echo.Context) error {
	w, ctx := walletOf(c), c.Request().Context()
	cred, err := w.Credential(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	view := &walletOfflineView{Credential: cred}
	chosen := c.QueryParams()["claims"]
	if cred.Format == oid4vp.FormatSDJWTVC {
		claims, err := s.offlineClaims(c, cred, chosen)
		if err != nil {
			return err
		}
		view.Claims = claims
	}
	if cred.Format == "qr" || len(chosen) > 0 {
		qr, err := s.offlinePresentation(ctx, w, cred.ID, chosen)
		var ie *issuer.InvalidError
		if errors.As(err, &ie) {
			return s.presentPage(c, http.StatusBadRequest, "wallet_present_offline_title", "wallet_present_offline", &walletPresentView{Offline: view}, "wallet_present_err_offline")
		}
		if err != nil {
			return err
		}
		view.QR = qr
	}
	d := s.newWalletPage(c, "wallet_present_offline_title")
	d.Wallet.Present = &walletPresentView{Offline: view}
	if view.QR != nil && cred.Format == oid4vp.FormatSDJWTVC {
		d.Refresh = int(offlineRefresh / time.Second)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.render(c, http.StatusOK, "wallet_present_offline", d)
}

// walletOfflineShow logs the holder's choice in the share log and shows
// the code.
func (s *Server) walletOfflineShow(c echo.Context) error {
	w, ctx := walletOf(c), c.Request().Context()
	cred, err := w.Credential(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := c.Request().ParseForm(); err != nil {
		return err
	}
	claims := c.Request().PostForm["claims"]
	qr, err := s.offlinePresentation(ctx, w, cred.ID, claims)
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		view := &walletOfflineView{Credential: cred}
		view.Claims, _ = s.offlineClaims(c, cred, nil)
		return s.presentPage(c, http.StatusBadRequest, "wallet_present_offline_title", "wallet_present_offline", &walletPresentView{Offline: view}, "wallet_present_err_offline")
	}
	if err != nil {
		return err
	}
	if err := s.logOffline(ctx, w, cred.ID, qr); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/wallet/present/offline/"+url.PathEscape(cred.ID)+"?"+url.Values{"claims": claims}.Encode())
}

// offlineClaims are the claims an SD-JWT credential can disclose, in the
// order a person reads them, named in the holder's language, those in
// chosen ticked.
func (s *Server) offlineClaims(c echo.Context, cred holder.Credential, chosen []string) ([]offlineClaim, error) {
	h, err := oid4vp.HeldFrom(cred.ID, cred.Format, cred.Raw)
	if err != nil {
		return nil, err
	}
	m := s.newWalletPage(c, "").T
	names := slices.Clone(h.Disclosable)
	slices.SortStableFunc(names, func(a, b string) int { return claimRank(a) - claimRank(b) })
	out := make([]offlineClaim, 0, len(names))
	for _, name := range names {
		out = append(out, offlineClaim{Name: name, Label: claimLabel(m, oid4vp.ClaimPath{name}), Chosen: slices.Contains(chosen, name)})
	}
	return out, nil
}
