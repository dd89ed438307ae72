package http

// --- desk (issue 7): the scanning page, the answer, the service points'
// settings, and the JSON verify API for integrators.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/internal/scan"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
	"github.com/tally-id/tally/verifier/servicepoint"
)

// Limits of the uploads of QR codes (the desk's, the web wallet's): a
// phone photo or a PDF, and a camera frame (at most 1280 px, a JPEG of a
// few hundred KB).
const (
	maxPhotoUpload = 8 << 20
	maxFrame       = 2 << 20
	// deskUploadTimeout bounds the decoding of an uploaded photo or PDF:
	// longer than a camera frame's (scan.DefaultTimeout), as a person
	// waits for its answer, and a frame that fails is followed by another.
	deskUploadTimeout = 10 * time.Second
	// deskCookie remembers the service point and programme a device scans
	// for: no personal data.
	deskCookie = "tally_desk"
)

// deskReady answers 404 when the verifier service is not wired.
func (s *Server) deskReady() error {
	if s.trust == nil || s.desk == nil {
		return issuer.ErrNotFound
	}
	return nil
}

// deskError turns the desk's domain errors into the issuer's, which
// problemOf maps: bad input names its field.
func deskError(err error) error {
	var ie *servicepoint.InputError
	switch {
	case errors.As(err, &ie):
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: ie.Field, Code: ie.Code, Message: ie.Problem}}}
	case errors.Is(err, servicepoint.ErrNoDomain):
		return fmt.Errorf("%w: %w", issuer.ErrConflict, err)
	}
	return err
}

func invalidField(field, code, msg string) *issuer.InvalidError {
	return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: field, Code: code, Message: msg}}}
}

// deskChoice is the service point and programme a device last used.
func deskChoice(c echo.Context) (servicePoint, programme string) {
	ck, err := c.Cookie(deskCookie)
	if err != nil {
		return "", ""
	}
	v, err := url.ParseQuery(ck.Value)
	if err != nil {
		return "", ""
	}
	return v.Get("sp"), v.Get("prog")
}

func (s *Server) rememberDeskChoice(c echo.Context, servicePoint, programme string) {
	v := url.Values{"sp": {servicePoint}, "prog": {programme}}
	c.SetCookie(&http.Cookie{Name: deskCookie, Value: v.Encode(), Path: "/verify/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secure})
}

// deskPoint checks the programme against the organisation's and resolves
// the point (its dedup domain).
func (s *Server) deskPoint(ctx context.Context, org, servicePoint, programme string) (servicepoint.Point, error) {
	if programme != "" {
		progs, err := s.svc.Programmes(ctx, org)
		if err != nil {
			return servicepoint.Point{}, err
		}
		if !slices.ContainsFunc(progs, func(p issuer.Programme) bool { return p.Code == programme }) {
			return servicepoint.Point{}, invalidField("programme", "unknown", "no programme of this organisation has this code")
		}
	}
	p, err := s.desk.Point(ctx, org, strings.TrimSpace(servicePoint), programme)
	return p, deskError(err)
}

// deskPage is the scanning page.
func (s *Server) deskPage(c echo.Context) error {
	if err := s.deskReady(); err != nil {
		return err
	}
	sp, prog := deskChoice(c)
	return s.renderDesk(c, http.StatusOK, map[string]string{"servicePoint": sp, "programme": prog}, nil)
}

func (s *Server) renderDesk(c echo.Context, status int, form map[string]string, ie *issuer.InvalidError) error {
	ctx := c.Request().Context()
	p := mustPrincipal(c)
	d := s.newPage(c, "desk_title")
	st, err := s.desk.Settings(ctx, p.Org)
	if err != nil {
		return err
	}
	progs, err := s.svc.Programmes(ctx, p.Org)
	if err != nil {
		return err
	}
	d.Desk = &deskView{T: d.T, Settings: st, Programmes: progs}
	d.Form = form
	if ie != nil {
		d.Message = d.T.Get("form_fix")
		d.Errors = fieldMessages(d.T, ie)
	}
	return s.render(c, status, "desk", d)
}

// deskCheck checks a credential sent from the scanning page: a photo or
// PDF of the card (decoded here), or its text.
func (s *Server) deskCheck(c echo.Context) error {
	if err := s.deskReady(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := mustPrincipal(c)
	// The whole body (at most maxPhotoUpload, see headers) is kept in
	// memory: a photo of a card is personal data, never written to disk.
	if err := c.Request().ParseMultipartForm(maxPhotoUpload); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return s.renderDesk(c, http.StatusBadRequest, nil, invalidField("credential", "format", "the form could not be read"))
	}
	form := map[string]string{"servicePoint": c.FormValue("servicePoint"), "programme": c.FormValue("programme")}
	point, err := s.deskPoint(ctx, p.Org, form["servicePoint"], form["programme"])
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		return s.renderDesk(c, http.StatusBadRequest, form, ie)
	}
	if err != nil {
		return err
	}
	raw := []byte(c.FormValue("credential"))
	if fh, err := c.FormFile("photo"); err == nil && fh.Size > 0 {
		text, status, ie := s.decodeUpload(ctx, fh)
		if ie != nil {
			return s.renderDesk(c, status, form, ie)
		}
		raw = []byte(text)
	}
	a, err := s.desk.Check(ctx, raw, point)
	if errors.As(deskError(err), &ie) {
		form["credential"] = ""
		return s.renderDesk(c, http.StatusBadRequest, form, ie)
	}
	if err != nil {
		return deskError(err)
	}
	s.rememberDeskChoice(c, point.ServicePoint, point.Programme)
	s.log.InfoContext(ctx, "credential checked", "org", p.Org, "verdict", a.Verdict, "reason", a.ReasonCode, "by", p.StaffID+p.TokenID)
	d := s.newPage(c, "desk_answer_title")
	d.Desk = &deskView{T: d.T, Answer: a, Now: s.svc.Now()}
	return s.render(c, http.StatusOK, "desk_answer", d)
}

// decodeUpload reads the QR code of an uploaded photo or PDF; on failure
// it says why, as a field error on "photo", with its status.
func (s *Server) decodeUpload(ctx context.Context, fh *multipart.FileHeader) (string, int, *issuer.InvalidError) {
	f, err := fh.Open()
	if err != nil {
		return "", http.StatusBadRequest, invalidField("photo", "format", "the file could not be read")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPhotoUpload+1))
	if err != nil {
		return "", http.StatusBadRequest, invalidField("photo", "format", "the file could not be read")
	}
	return decodeImage(ctx, s.scanner, data)
}

// decodeImage reads a QR code from an image or a PDF.
func decodeImage(ctx context.Context, d *scan.Decoder, data []byte) (string, int, *issuer.InvalidError) {
	res, err := d.Decode(ctx, data)
	if err == nil {
		return res.Text, http.StatusOK, nil
	}
	code, status := "nocode", http.StatusUnprocessableEntity
	switch {
	case errors.Is(err, scan.ErrEmpty):
		code, status = "required", http.StatusBadRequest
	case errors.Is(err, scan.ErrTooLarge), errors.Is(err, scan.ErrTooBig):
		code, status = "too_long", http.StatusRequestEntityTooLarge
	case errors.Is(err, scan.ErrFormat), errors.Is(err, scan.ErrPDF):
		code = "image_format"
	case errors.Is(err, scan.ErrBadFile):
		code = "damaged"
	}
	// scan's errors name no content of the image.
	return "", status, invalidField("photo", code, strings.TrimPrefix(err.Error(), "scan: "))
}

// deskFrame reads a QR code from one camera frame (web/static/scan.js):
// 200 {"text"} when one was read, 422 when none was.
func (s *Server) deskFrame(c echo.Context) error {
	if err := s.deskReady(); err != nil {
		return err
	}
	return s.scanFrame(c)
}

// scanFrame reads the QR code of one camera frame for the camera scanner
// (web/static/scan.js) of the desk and of the web wallet: 200 {"text"},
// or 422 when no code was read, said in the page's language.
func (s *Server) scanFrame(c echo.Context) error {
	data, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return issuer.ErrInvalid
	}
	text, status, ie := decodeImage(c.Request().Context(), s.frames, data)
	c.Response().Header().Set("Cache-Control", "no-store")
	if ie != nil {
		m := s.cat.pick(c.Request())
		if walletOf(c) != nil {
			m = s.newWalletPage(c, "").T // the holder's language
		}
		return c.JSON(status, apiError{Error: apiErrorBody{Status: status, Code: "invalid", Message: m.Get("field_photo_" + ie.Fields[0].Code), Fields: ie.Fields}})
	}
	return c.JSON(http.StatusOK, map[string]string{"text": text})
}

// deskSettingsPage shows the organisation's verification settings.
func (s *Server) deskSettingsPage(c echo.Context) error {
	if err := s.deskReady(); err != nil {
		return err
	}
	return s.renderDeskSettings(c, http.StatusOK, nil, nil)
}

func (s *Server) renderDeskSettings(c echo.Context, status int, form map[string]string, ie *issuer.InvalidError) error {
	ctx := c.Request().Context()
	p := mustPrincipal(c)
	d := s.newPage(c, "desk_settings_title")
	st, err := s.desk.Settings(ctx, p.Org)
	if err != nil {
		return err
	}
	domains, err := s.desk.Domains(ctx, p.Org)
	if err != nil {
		return err
	}
	d.Desk = &deskView{T: d.T, Settings: st, Domains: domains, Now: s.svc.Now()}
	if form == nil {
		form = map[string]string{"domain": st.Domain, "servicePoints": strings.Join(st.ServicePoints, "\n")}
	}
	d.Form = form
	if c.QueryParam("done") == "saved" {
		d.Notice = d.T.Get("desk_settings_saved")
	}
	if ie != nil {
		d.Message = d.T.Get("form_fix")
		d.Errors = fieldMessages(d.T, ie)
	}
	return s.render(c, status, "desk_settings", d)
}

// deskSaveSettings stores a supervisor's change of the settings.
func (s *Server) deskSaveSettings(c echo.Context) error {
	if err := s.deskReady(); err != nil {
		return err
	}
	p := mustPrincipal(c)
	form := map[string]string{"domain": c.FormValue("domain"), "servicePoints": c.FormValue("servicePoints")}
	in := servicepoint.SettingsInput{Domain: strings.TrimSpace(form["domain"]), ServicePoints: strings.Split(form["servicePoints"], "\n")}
	_, err := s.desk.SaveSettings(c.Request().Context(), p.Org, in)
	var ie *issuer.InvalidError
	if errors.As(deskError(err), &ie) {
		return s.renderDeskSettings(c, http.StatusBadRequest, form, ie)
	}
	if err != nil {
		return deskError(err)
	}
	s.log.InfoContext(c.Request().Context(), "verification settings changed", "org", p.Org, "by", p.StaffID+p.TokenID)
	if err := s.svc.RecordAdministration(c.Request().Context(), p, audit.ActionSettingsChange, audit.ObjectOrganisation, p.Org); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/verify/settings?done=saved")
}

// verifyRequest is the body of POST /api/v1/orgs/ORG/verify.
type verifyRequest struct {
	// Credential is the credential as text: a QR card's content, a JWT,
	// an SD-JWT, or a JSON credential.
	Credential   string `json:"credential"`
	ServicePoint string `json:"servicePoint"`
	Programme    string `json:"programme"`
}

// apiVerify checks a credential for an integrator and answers the Answer.
func (s *Server) apiVerify(c echo.Context) error {
	if err := s.deskReady(); err != nil {
		return err
	}
	var in verifyRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := mustPrincipal(c)
	point, err := s.deskPoint(ctx, c.Param("org"), in.ServicePoint, in.Programme)
	if err != nil {
		return err
	}
	a, err := s.desk.Check(ctx, []byte(in.Credential), point)
	if err != nil {
		return deskError(err)
	}
	s.log.InfoContext(ctx, "credential checked", "org", p.Org, "verdict", a.Verdict, "reason", a.ReasonCode, "by", p.StaffID+p.TokenID)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, a)
}

// --- end desk
