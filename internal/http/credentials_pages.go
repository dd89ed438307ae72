package http

import (
	"bytes"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/pdf"
	"github.com/tally-id/tally/issuer"
)

// cardPNGSize is the width, in pixels, of the card's QR image on its page.
const cardPNGSize = 384

// issueCredential issues a credential from a registration's page, and
// shows it.
func (s *Server) issueCredential(c echo.Context) error {
	p := mustPrincipal(c)
	in := issuer.IssueInput{Type: credentials.Type(c.FormValue("type")), Programme: strings.TrimSpace(c.FormValue("programme"))}
	if in.Type == credentials.TypeReferral {
		in.Referral, in.Format = referralForm(c), credentials.Format(c.FormValue("format")) // retention: referrals
	}
	out, err := s.svc.Issue(c.Request().Context(), p, p.Org, c.Param("id"), in)
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		if in.Referral != nil {
			c.Set(referralFormKey, referralFormValues(c))
		}
		return s.renderRegistration(c, http.StatusBadRequest, nil, ie)
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "issued", "credential", out.Record.ID, "registration", out.Record.Registration, "org", out.Record.Org, "by", p.Ref())
	return c.Redirect(http.StatusSeeOther, "/issuer/credentials/"+out.Record.ID+"?done=issued")
}

// credentialPage shows an issued credential: the card's QR code, a link
// to its printable PDF, its state, and the buttons that change it. The
// card is signed again from its record (Service.Reprint): tally keeps no
// copy.
func (s *Server) credentialPage(c echo.Context) error {
	p := mustPrincipal(c)
	ctx := c.Request().Context()
	out, err := s.svc.Reprint(ctx, p.Org, c.Param("cred"))
	if errors.Is(err, issuer.ErrStateChange) {
		return s.credentialRecordPage(c)
	}
	if err != nil {
		return err
	}
	d := s.newPage(c, "credential_title")
	d.Credential, d.CanRegister, d.CanRevoke = &out.Record, canRegister(p.Role), p.Role == issuer.RoleSupervisor
	d.Notice = doneNotice(c, d.T)
	if out.Record.Format == credentials.FormatQR {
		png, err := credentials.CardPNG(out.Credential, cardPNGSize)
		if err != nil {
			return err
		}
		d.CardImage = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	} else {
		d.CredentialText = out.Credential
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.render(c, http.StatusOK, "credential", d)
}

// credentialRecordPage shows a revoked credential's record: there is no
// card to show.
func (s *Server) credentialRecordPage(c echo.Context) error {
	p := mustPrincipal(c)
	rec, err := s.svc.CredentialRecord(c.Request().Context(), p.Org, c.Param("cred"))
	if err != nil {
		return err
	}
	d := s.newPage(c, "credential_title")
	d.Credential, d.CanRegister = &rec, canRegister(p.Role)
	d.Notice = doneNotice(c, d.T)
	return s.render(c, http.StatusOK, "credential", d)
}

// credentialPDF serves a card as a PDF of one ID-1 page, labelled in the
// programme's languages, never cached.
func (s *Server) credentialPDF(c echo.Context) error {
	p := mustPrincipal(c)
	out, err := s.svc.Reprint(c.Request().Context(), p.Org, c.Param("cred"))
	if err != nil {
		return err
	}
	if out.Record.Format != credentials.FormatQR {
		return echo.ErrNotFound
	}
	parsed, err := credentials.ParseCard([]byte(out.Credential))
	if err != nil {
		return err
	}
	var langs []string
	for _, l := range out.Languages {
		if slices.Contains(pdf.Languages(), l) {
			langs = append(langs, l)
		}
	}
	printer, err := s.printer()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := printer.WriteCard(&buf, pdf.CardFor(parsed.Credential(), out.Credential, out.OrgName, langs...)); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `inline; filename="card.pdf"`)
	return c.Blob(http.StatusOK, "application/pdf", buf.Bytes())
}

// cardPNGPrintSize is the width, in pixels, of a downloaded card's QR
// image: enough for 35 mm at 600 dpi.
const cardPNGPrintSize = 840

// credentialPNG serves a card's QR code as a PNG to save or send to a
// printer of one's own; like the PDF, it is signed again from the record.
func (s *Server) credentialPNG(c echo.Context) error {
	p := mustPrincipal(c)
	out, err := s.svc.Reprint(c.Request().Context(), p.Org, c.Param("cred"))
	if err != nil {
		return err
	}
	if out.Record.Format != credentials.FormatQR {
		return echo.ErrNotFound
	}
	png, err := credentials.CardPNG(out.Credential, cardPNGPrintSize)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="card.png"`)
	return c.Blob(http.StatusOK, "image/png", png)
}

// changeCredential changes a credential's state from its page, and goes
// back to it.
func (s *Server) changeCredential(change stateChange, done string) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := mustPrincipal(c)
		rec, err := change(c.Request().Context(), p, p.Org, c.Param("cred"))
		if err != nil {
			return err
		}
		s.log.InfoContext(c.Request().Context(), done, "credential", rec.ID, "org", rec.Org, "by", p.Ref())
		return c.Redirect(http.StatusSeeOther, "/issuer/credentials/"+rec.ID+"?done="+done)
	}
}
