package http

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
)

// The routes of retention: erasure on request, data key rotation, the
// audit page and signed anchors.

// eraseForm asks a supervisor or an administrator to confirm the erasure
// of a registration. It shows nothing personal: the registration's id,
// programme and dates.
func (s *Server) eraseForm(c echo.Context) error {
	return s.renderErase(c, http.StatusOK, nil)
}

func (s *Server) renderErase(c echo.Context, status int, ie *issuer.InvalidError) error {
	p := mustPrincipal(c)
	reg, err := s.svc.Registration(c.Request().Context(), p.Org, c.Param("id"))
	if err != nil {
		return err
	}
	d := s.newPage(c, "erase_title")
	d.Registration = &reg
	if d.StaffNames, err = s.staffNames(c, p.Org); err != nil {
		return err
	}
	d.Notice = doneNotice(c, d.T)
	if ie != nil {
		d.Message = d.T.Get("form_fix")
		d.Errors = fieldMessages(d.T, ie)
	}
	return s.render(c, status, "erase", d)
}

// erase erases a registration's personal data at the person's request,
// once confirmed.
func (s *Server) erase(c echo.Context) error {
	p := mustPrincipal(c)
	id := c.Param("id")
	reg, err := s.svc.EraseRegistration(c.Request().Context(), p, p.Org, id, issuer.EraseInput{Confirm: c.FormValue("confirm") == "yes"})
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		return s.renderErase(c, http.StatusBadRequest, ie)
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "erased", "registration", reg.ID, "org", reg.Org, "by", p.Ref())
	return c.Redirect(http.StatusSeeOther, "/issuer/registrations/"+reg.ID+"/erase?done=erased")
}

func (s *Server) apiErase(c echo.Context) error {
	var in issuer.EraseInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p := mustPrincipal(c)
	reg, err := s.svc.EraseRegistration(c.Request().Context(), p, c.Param("org"), c.Param("id"), in)
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "erased", "registration", reg.ID, "org", reg.Org, "by", p.Ref())
	return registrationJSON(c, http.StatusOK, reg)
}

// apiRotateDataKey rotates the organisation's data key, or goes on with a
// rotation left unfinished.
func (s *Server) apiRotateDataKey(c echo.Context) error {
	p := mustPrincipal(c)
	rep, err := s.svc.RotateDataKey(c.Request().Context(), p, c.Param("org"))
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "data key rotated", "org", c.Param("org"), "version", rep.Version, "resealed", rep.Resealed, "done", rep.Done, "by", p.Ref())
	return c.JSON(http.StatusOK, rep)
}

// auditView is what the audit page shows besides the entries.
type auditView struct {
	Query   issuer.AuditQuery
	Actions []audit.Action
	// Verified says the chain was checked: OK, with Summary, or Broken.
	Verified bool
	Summary  audit.Summary
	Broken   string
	Next     uint64
}

// auditPage lists the organisation's audit entries, newest first, with
// filters, and verifies the whole chain on request.
func (s *Server) auditPage(c echo.Context) error {
	p := mustPrincipal(c)
	ctx := c.Request().Context()
	q := issuer.AuditQuery{Action: c.QueryParam("action"), Actor: c.QueryParam("actor"), From: c.QueryParam("from"), To: c.QueryParam("to")}
	d := s.newPage(c, "audit_title")
	v := &auditView{Actions: audit.Actions()}
	d.Audit = v
	// Staff are named beside their ids, and offered to the actor filter.
	var err error
	if d.StaffNames, err = s.staffNames(c, p.Org); err != nil {
		return err
	}
	status := http.StatusOK
	var ie *issuer.InvalidError
	if b := c.QueryParam("before"); b != "" {
		n, err := strconv.ParseUint(b, 10, 64)
		if err != nil {
			ie = &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "before", Code: "format", Message: "a page is named by an entry's number"}}}
		}
		q.Before = n
	}
	if ie == nil {
		var page issuer.AuditPage
		page, err = s.svc.AuditEntries(ctx, p.Org, q)
		if !errors.As(err, &ie) && err != nil {
			return err
		}
		d.AuditEntries, v.Next = page.Entries, page.Next
	}
	v.Query = q
	if ie != nil {
		status = http.StatusBadRequest
		d.Message = d.T.Get("form_fix")
		d.Errors = fieldMessages(d.T, ie)
	}
	if c.QueryParam("verify") != "" {
		v.Verified = true
		sum, err := s.svc.VerifyAudit(ctx)
		var ce *audit.ChainError
		switch {
		case errors.As(err, &ce):
			v.Broken = ce.Error()
		case err != nil:
			return err
		}
		v.Summary = sum
	}
	return s.render(c, status, "audit", d)
}

// apiAuditAnchor returns the audit log's head, verified and signed by the
// organisation's key.
func (s *Server) apiAuditAnchor(c echo.Context) error {
	a, err := s.svc.AuditAnchor(c.Request().Context(), c.Param("org"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, a)
}

// referralFormKey is where issueCredential leaves a refused referral
// form's values for the registration page to show again.
const referralFormKey = "tally.referralForm"

// referralForm reads the referral form of a registration's page.
func referralForm(c echo.Context) *issuer.ReferralInput {
	_ = c.Request().ParseForm()
	return &issuer.ReferralInput{
		ReferredTo: c.FormValue("referral.referredTo"), Service: c.FormValue("referral.service"), Urgency: c.FormValue("referral.urgency"),
		Consent: issuer.ReferralConsent{Given: c.FormValue("referral.consent.given") == "yes", Purpose: c.FormValue("referral.consent.purpose"),
			Method: c.FormValue("referral.consent.method"), Date: c.FormValue("referral.consent.date"),
			Fields: c.Request().PostForm["referral.consent.fields"]},
	}
}

// referralFormValues are the values a referral form was sent with, to
// show it again.
func referralFormValues(c echo.Context) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"programme", "format", "referral.referredTo", "referral.service", "referral.urgency",
		"referral.consent.purpose", "referral.consent.method", "referral.consent.date"} {
		out[k] = c.FormValue(k)
	}
	for _, f := range c.Request().PostForm["referral.consent.fields"] {
		out["field:"+f] = "yes"
	}
	return out
}

// dataKeyPage shows the organisation's data key version, and the button
// that rotates it (or finishes a rotation left unfinished).
func (s *Server) dataKeyPage(c echo.Context) error {
	p := mustPrincipal(c)
	versions, err := s.svc.DataKeyVersions(c.Request().Context(), p.Org)
	if err != nil {
		return err
	}
	d := s.newPage(c, "datakey_title")
	d.DataKeyVersions = versions
	d.Notice = doneNotice(c, d.T)
	return s.render(c, http.StatusOK, "datakey", d)
}

// dataKeyRotate rotates the organisation's data key from its page.
func (s *Server) dataKeyRotate(c echo.Context) error {
	p := mustPrincipal(c)
	rep, err := s.svc.RotateDataKey(c.Request().Context(), p, p.Org)
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "data key rotated", "org", p.Org, "version", rep.Version, "resealed", rep.Resealed, "done", rep.Done, "by", p.Ref())
	done := "datakey_rotated"
	if !rep.Done {
		done = "rotation_unfinished"
	}
	return c.Redirect(http.StatusSeeOther, "/admin/datakey?done="+done)
}

// DataKeyVersion is the current data key's version: the last kept.
func (d *pageData) DataKeyVersion() int {
	if len(d.DataKeyVersions) == 0 {
		return 0
	}
	return d.DataKeyVersions[len(d.DataKeyVersions)-1]
}
