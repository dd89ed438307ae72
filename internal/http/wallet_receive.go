package http

// --- wallet/receive (issue 8): the wallet receives credentials. A holder
// pastes, scans or opens a credential offer (OpenID4VCI 1.0); the wallet
// fetches it, shows who offers what, asks for the transaction code when
// the issuer wants one, and on Accept receives, checks and keeps the
// credentials. A printed QR card is kept from a photo of it. The protocol
// is internal/oid4vci's client; every fetch is s.fetch's (bounded, public
// addresses only). Nothing an issuer sends is logged.

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/internal/oid4vci"
	"github.com/tally-id/tally/issuer"
)

// walletReceiveView is what the receiving pages show.
type walletReceiveView struct {
	// Offer is the offer link as given, carried to the Accept form.
	Offer string
	// IssuerName and Items say who offers what.
	IssuerName string
	Issuer     string
	Items      []receiveItem
	// TxCode is the transaction code the issuer asks for, if any.
	TxCode *oid4vci.TxCode
	// Problem is the step that failed, in plain words, and Detail what the
	// issuer or the check said (English).
	Problem, Detail string
}

type receiveItem struct {
	Name, Format string
}

// receiveClient is the wallet's OpenID4VCI client, which reads this
// server's own organisations' DID documents without a fetch.
func (s *Server) receiveClient() *oid4vci.Client {
	return &oid4vci.Client{Fetch: s.fetch, Now: s.svc.Now, DIDWeb: s.didWeb()}
}

// holderLang is the holder's language, for display names in the API's
// answers (pages use their own language).
func holderLang(c echo.Context) string {
	if l, err := walletOf(c).Lang(c.Request().Context()); err == nil && l != "" {
		return l
	}
	return "en"
}

// receiveProblem fills a view from a receiving error: a step's failure in
// plain words; other errors go up.
func receiveProblem(d *pageData, v *walletReceiveView, err error) bool {
	var se *oid4vci.StepError
	if !errors.As(err, &se) {
		return false
	}
	v.Problem = d.T.Get("wallet_receive_step_" + string(se.Step))
	v.Detail = se.Detail
	if se.IssuerError == "invalid_grant" || se.IssuerError == "tx_code_missing" {
		v.Problem = d.T.Get("wallet_receive_wrong_code")
	}
	return true
}

// stepStatus is the HTTP status of a receiving error: bad input is 400;
// what the issuer sent or refused is 422; an issuer that cannot be
// reached is 502.
func stepStatus(se *oid4vci.StepError) int {
	switch {
	case se.Input:
		return http.StatusBadRequest
	case se.Unreachable:
		return http.StatusBadGateway
	}
	return http.StatusUnprocessableEntity
}

// walletReceivePage asks for an offer: paste it, scan it, or upload a
// photo of its QR code. A link to /wallet/receive?offer=… (what the
// openid-credential-offer:// handler opens) goes straight to the
// confirmation.
func (s *Server) walletReceivePage(c echo.Context) error {
	if offer := c.QueryParam("offer"); offer != "" {
		return s.walletReceivePreview(c, offer)
	}
	if q := c.Request().URL.RawQuery; strings.Contains(q, "credential_offer") {
		// The scheme handler may hand over the whole offer's query.
		return s.walletReceivePreview(c, oid4vci.OfferScheme+"?"+q)
	}
	d := s.newWalletPage(c, "wallet_receive_title")
	d.Wallet.Receive = &walletReceiveView{}
	return s.render(c, http.StatusOK, "wallet_receive", d)
}

// walletReceiveForm reads the offer pasted or photographed.
func (s *Server) walletReceiveForm(c echo.Context) error {
	offer, status, ie := s.uploadedText(c, "offer")
	if ie != nil {
		d := s.newWalletPage(c, "wallet_receive_title")
		d.Wallet.Receive = &walletReceiveView{Offer: c.FormValue("offer")}
		d.Message = d.T.Get("wallet_receive_photo_" + ie.Fields[0].Code)
		return s.render(c, status, "wallet_receive", d)
	}
	return s.walletReceivePreview(c, offer)
}

// uploadedText is the text of a form: its text field when filled, else
// the QR code read from its photo.
func (s *Server) uploadedText(c echo.Context, field string) (string, int, *issuer.InvalidError) {
	if err := c.Request().ParseMultipartForm(maxPhotoUpload); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return "", http.StatusRequestEntityTooLarge, invalidField("photo", "too_long", "the file is too large")
		}
		return "", http.StatusBadRequest, invalidField("photo", "format", "the form could not be read")
	}
	if text := strings.TrimSpace(c.FormValue(field)); text != "" {
		return text, http.StatusOK, nil
	}
	fh, err := c.FormFile("photo")
	if err != nil {
		return "", http.StatusBadRequest, invalidField(field, "required", "paste the text or choose a photo")
	}
	return s.decodeUpload(c.Request().Context(), fh)
}

// walletReceivePreview shows who offers what, and asks for the
// transaction code when the issuer wants one.
func (s *Server) walletReceivePreview(c echo.Context, offer string) error {
	d := s.newWalletPage(c, "wallet_receive_confirm_title")
	v := &walletReceiveView{Offer: offer}
	d.Wallet.Receive = v
	p, err := s.receiveClient().Resolve(c.Request().Context(), offer)
	if err != nil {
		if !receiveProblem(d, v, err) {
			return err
		}
		var se *oid4vci.StepError
		errors.As(err, &se)
		d.Title = d.T.Get("wallet_receive_title")
		return s.render(c, stepStatus(se), "wallet_receive", d)
	}
	fillPreview(v, p, d.Lang)
	return s.render(c, http.StatusOK, "wallet_receive_confirm", d)
}

func fillPreview(v *walletReceiveView, p *oid4vci.Prepared, lang string) {
	v.IssuerName, v.Issuer = p.IssuerName(lang), p.Offer.CredentialIssuer
	for _, id := range p.Offer.CredentialConfigurationIDs {
		v.Items = append(v.Items, receiveItem{Name: p.ConfigurationName(id, lang), Format: p.Metadata.CredentialConfigurationsSupported[id].Format})
	}
	v.TxCode = p.Grant().TxCode
}

// walletReceiveAccept receives the offered credentials, checks them, and
// keeps them all, or none.
func (s *Server) walletReceiveAccept(c echo.Context) error {
	offer := c.FormValue("offer")
	d := s.newWalletPage(c, "wallet_receive_confirm_title")
	v := &walletReceiveView{Offer: offer}
	d.Wallet.Receive = v
	p, err := s.receiveClient().Resolve(c.Request().Context(), offer)
	if err == nil {
		fillPreview(v, p, d.Lang)
		_, err = s.receive(c, p, c.FormValue("tx_code"), d.Lang)
	}
	if err != nil {
		if !receiveProblem(d, v, err) {
			return err
		}
		var se *oid4vci.StepError
		errors.As(err, &se)
		page := "wallet_receive_confirm"
		if p == nil {
			page = "wallet_receive"
			d.Title = d.T.Get("wallet_receive_title")
		}
		return s.render(c, stepStatus(se), page, d)
	}
	return c.Redirect(http.StatusSeeOther, "/wallet/")
}

// receive runs the flow with the holder's key and keeps what came.
// Display names are kept in lang: the page's language, or the holder's
// for the API.
func (s *Server) receive(c echo.Context, p *oid4vci.Prepared, txCode, lang string) ([]apiReceivedCredential, error) {
	ctx := c.Request().Context()
	w := walletOf(c)
	key, err := w.Key(ctx)
	if err != nil {
		return nil, err
	}
	got, err := s.receiveClient().Receive(ctx, p, txCode, key)
	if err != nil {
		return nil, err
	}
	var kept []apiReceivedCredential
	for _, r := range got {
		hc, err := w.AddCredential(ctx, holder.Credential{
			Format: r.Format, Raw: r.Raw, Issuer: r.Issuer, IssuerName: p.IssuerName(lang),
			Type: r.Type, Name: p.ConfigurationName(r.ConfigurationID, lang), Configuration: r.ConfigurationID,
			HolderKey: r.HolderKey, Source: "oid4vci", Unverified: !r.Verified,
		})
		if err != nil {
			// All or none: take back what this offer already added.
			for _, k := range kept {
				_ = w.DeleteCredential(ctx, k.ID)
			}
			return nil, err
		}
		kept = append(kept, apiReceivedCredential{Credential: hc, Verified: r.Verified})
	}
	s.log.InfoContext(ctx, "wallet received credentials", "count", len(kept), "issuer_host", hostOf(p.Offer.CredentialIssuer))
	return kept, nil
}

func hostOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	h, _, _ := strings.Cut(u, "/")
	return h
}

// walletImportPage asks for a photo (or PDF, or the text) of a QR card.
func (s *Server) walletImportPage(c echo.Context) error {
	d := s.newWalletPage(c, "wallet_import_title")
	d.Wallet.Receive = &walletReceiveView{}
	return s.render(c, http.StatusOK, "wallet_import", d)
}

// walletImport keeps a QR card read from a photo.
func (s *Server) walletImport(c echo.Context) error {
	d := s.newWalletPage(c, "wallet_import_title")
	v := &walletReceiveView{}
	d.Wallet.Receive = v
	text, status, ie := s.uploadedText(c, "card")
	if ie != nil {
		d.Message = d.T.Get("wallet_receive_photo_" + ie.Fields[0].Code)
		return s.render(c, status, "wallet_import", d)
	}
	if _, err := s.importCard(c, text); err != nil {
		var se *oid4vci.StepError
		if !errors.As(err, &se) {
			return err
		}
		d.Message = d.T.Get("wallet_import_not_card")
		v.Detail = se.Detail
		return s.render(c, http.StatusUnprocessableEntity, "wallet_import", d)
	}
	return c.Redirect(http.StatusSeeOther, "/wallet/")
}

// importCard checks a card's text and keeps it.
func (s *Server) importCard(c echo.Context, text string) (apiReceivedCredential, error) {
	ctx := c.Request().Context()
	r, err := s.receiveClient().CheckCard(ctx, text)
	if err != nil {
		return apiReceivedCredential{}, err
	}
	org, _ := s.localOrg(ctx, r.Issuer)
	hc, err := walletOf(c).AddCredential(ctx, holder.Credential{
		Format: r.Format, Raw: r.Raw, Issuer: r.Issuer, IssuerName: org.Name,
		Type: r.Type, Name: cardName(r.Type), Source: "card-photo", Unverified: !r.Verified,
	})
	return apiReceivedCredential{Credential: hc, Verified: r.Verified}, err
}

// cardName is a card's display name: its type without the vocabulary's
// prefix.
func cardName(t string) string {
	if i := strings.LastIndexAny(t, "/#"); i >= 0 {
		t = t[i+1:]
	}
	return t
}

// --- the wallet API's receiving routes ---

// apiReceivedCredential is a credential received, as the API shows it:
// holder.Credential without its text (GET …/credentials/:id has it).
type apiReceivedCredential struct {
	holder.Credential
	Raw      string `json:"raw,omitempty"`
	Verified bool   `json:"verified"`
}

type apiOfferIn struct {
	Offer  string `json:"offer"`
	TxCode string `json:"tx_code"`
}

// apiOfferPreview is what an offer offers, before accepting it.
type apiOfferPreview struct {
	CredentialIssuer string                 `json:"credential_issuer"`
	IssuerName       string                 `json:"issuer_name"`
	Credentials      []apiOfferedCredential `json:"credentials"`
	TxCode           *oid4vci.TxCode        `json:"tx_code,omitempty"`
}

type apiOfferedCredential struct {
	ConfigurationID string `json:"credential_configuration_id"`
	Name            string `json:"name"`
	Format          string `json:"format"`
}

// receiveAPIError is a receiving error as the API answers it: the step's
// message and the detail, with field "offer" for a bad offer.
func (s *Server) receiveAPIError(c echo.Context, err error) error {
	var se *oid4vci.StepError
	if !errors.As(err, &se) {
		return err
	}
	m := s.cat.pick(c.Request())
	status := stepStatus(se)
	body := apiErrorBody{Status: status, Code: "receive_" + string(se.Step), Message: m.Get("wallet_receive_step_" + string(se.Step)), Detail: se.Detail}
	if se.IssuerError == "invalid_grant" || se.IssuerError == "tx_code_missing" {
		body.Code, body.Message = "tx_code", m.Get("wallet_receive_wrong_code")
		body.Fields = []issuer.FieldError{{Field: "tx_code", Code: "invalid", Message: se.Detail}}
	} else if status == http.StatusBadRequest {
		body.Fields = []issuer.FieldError{{Field: "offer", Code: "invalid", Message: se.Detail}}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(status, apiError{Error: body})
}

// apiWalletOfferPreview resolves an offer and says who offers what,
// before the holder accepts it. It is a POST with the offer in the body:
// an offer link carries the pre-authorized code, a secret that has no
// place in a URL.
func (s *Server) apiWalletOfferPreview(c echo.Context) error {
	var in struct {
		Offer string `json:"offer"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Offer) == "" {
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "offer", Code: "required", Message: "give the credential offer link"}}}
	}
	p, err := s.receiveClient().Resolve(c.Request().Context(), in.Offer)
	if err != nil {
		return s.receiveAPIError(c, err)
	}
	lang := holderLang(c)
	out := apiOfferPreview{CredentialIssuer: p.Offer.CredentialIssuer, IssuerName: p.IssuerName(lang), TxCode: p.Grant().TxCode, Credentials: []apiOfferedCredential{}}
	for _, id := range p.Offer.CredentialConfigurationIDs {
		out.Credentials = append(out.Credentials, apiOfferedCredential{ConfigurationID: id, Name: p.ConfigurationName(id, lang), Format: p.Metadata.CredentialConfigurationsSupported[id].Format})
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, out)
}

// apiWalletReceive accepts an offer: 201 with the credentials kept.
func (s *Server) apiWalletReceive(c echo.Context) error {
	var in apiOfferIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Offer) == "" {
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "offer", Code: "required", Message: "give the credential offer link"}}}
	}
	p, err := s.receiveClient().Resolve(c.Request().Context(), in.Offer)
	if err != nil {
		return s.receiveAPIError(c, err)
	}
	kept, err := s.receive(c, p, in.TxCode, holderLang(c))
	if err != nil {
		return s.receiveAPIError(c, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, map[string]any{"credentials": kept})
}

type apiCardIn struct {
	Card string `json:"card"`
}

// apiWalletCard keeps a QR card: JSON {"card": text}, or a form with the
// text in "card" or a photo in "photo".
func (s *Server) apiWalletCard(c echo.Context) error {
	var text string
	if ct := c.Request().Header.Get(echo.HeaderContentType); strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		var in apiCardIn
		if err := decodeJSON(c, &in); err != nil {
			return err
		}
		if text = strings.TrimSpace(in.Card); text == "" {
			return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "card", Code: "required", Message: "give the card's text"}}}
		}
	} else {
		t, status, ie := s.uploadedText(c, "card")
		if ie != nil {
			m := s.cat.pick(c.Request())
			return c.JSON(status, apiError{Error: apiErrorBody{Status: status, Code: "invalid", Message: m.Get("wallet_receive_photo_" + ie.Fields[0].Code), Fields: ie.Fields}})
		}
		text = t
	}
	kept, err := s.importCard(c, text)
	if err != nil {
		var se *oid4vci.StepError
		if errors.As(err, &se) {
			m := s.cat.pick(c.Request())
			return c.JSON(http.StatusUnprocessableEntity, apiError{Error: apiErrorBody{Status: http.StatusUnprocessableEntity, Code: "not_a_card", Message: m.Get("wallet_import_not_card"), Detail: se.Detail,
				Fields: []issuer.FieldError{{Field: "card", Code: "invalid", Message: se.Detail}}}})
		}
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, kept)
}
