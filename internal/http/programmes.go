package http

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
)

// programmesPage lists the organisation's programmes, with the form to
// add one.
func (s *Server) programmesPage(c echo.Context) error {
	return s.renderProgrammes(c, http.StatusOK, nil, nil)
}

func (s *Server) renderProgrammes(c echo.Context, status int, form map[string]string, ie *issuer.InvalidError) error {
	d := s.newPage(c, "nav_programmes")
	if d.Org == nil {
		return issuer.ErrNotFound
	}
	list, err := s.svc.Programmes(c.Request().Context(), d.Org.Slug)
	if err != nil {
		return err
	}
	d.Title = d.T.Get("programmes_title", d.Org.Name)
	d.Programmes, d.CredentialTypes = list, credentials.Types()
	d.Form = form
	if d.Form == nil {
		d.Form = map[string]string{"retentionMonths": "24", "type_" + string(credentials.TypeRegistration): "on",
			// keys: a new programme starts with the organisation's default languages.
			"languages": strings.Join(d.Org.SettingsOf().Languages, ", ")}
	}
	if ie != nil {
		d.Message = d.T.Get("form_fix")
		d.Errors = fieldMessages(d.T, ie)
	}
	return s.render(c, status, "programmes", d)
}

// programmeForm reads a programme's form, and keeps what was sent to show
// it again.
func programmeForm(c echo.Context) (issuer.ProgrammeInput, map[string]string, *issuer.InvalidError) {
	form := map[string]string{}
	for _, name := range []string{"code", "name", "languages", "retentionMonths", "purpose"} {
		form[name] = c.FormValue(name)
	}
	in := issuer.ProgrammeInput{Code: form["code"], Name: form["name"], Purpose: form["purpose"]}
	in.Languages = append(in.Languages, strings.FieldsFunc(form["languages"], func(r rune) bool { return r == ',' || r == ' ' || r == ';' })...)
	for _, t := range credentials.Types() {
		if c.FormValue("type_"+string(t)) != "" {
			in.CredentialTypes = append(in.CredentialTypes, string(t))
			form["type_"+string(t)] = "on"
		}
	}
	var ie *issuer.InvalidError
	if v := strings.TrimSpace(form["retentionMonths"]); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			ie = &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "retentionMonths", Code: "format", Message: "give a whole number of months"}}}
		}
		in.RetentionMonths = n
	}
	return in, form, ie
}

// programmeCreate adds a programme.
func (s *Server) programmeCreate(c echo.Context) error {
	p := mustPrincipal(c)
	in, form, ie := programmeForm(c)
	if ie != nil {
		return s.renderProgrammes(c, http.StatusBadRequest, form, ie)
	}
	prog, err := s.svc.CreateProgramme(c.Request().Context(), p, p.Org, in)
	if errors.As(err, &ie) {
		return s.renderProgrammes(c, http.StatusBadRequest, form, ie)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/programmes/"+prog.Code+"?done=created")
}

// programmePage shows a programme's form, to change it.
func (s *Server) programmePage(c echo.Context) error {
	return s.renderProgramme(c, http.StatusOK, nil, nil)
}

func (s *Server) renderProgramme(c echo.Context, status int, form map[string]string, ie *issuer.InvalidError) error {
	p := mustPrincipal(c)
	prog, err := s.svc.Programme(c.Request().Context(), p.Org, c.Param("code"))
	if err != nil {
		return err
	}
	d := s.newPage(c, "programme_title")
	d.Title = d.T.Get("programme_title", prog.Name)
	d.Programme, d.CredentialTypes = &prog, credentials.Types()
	d.Form = form
	if d.Form == nil {
		d.Form = map[string]string{"code": prog.Code, "name": prog.Name, "languages": strings.Join(prog.Languages, ", "),
			"retentionMonths": strconv.Itoa(prog.RetentionMonths), "purpose": prog.Purpose}
		for _, t := range prog.CredentialTypes {
			d.Form["type_"+string(t)] = "on"
		}
	}
	d.Notice = doneNotice(c, d.T)
	if ie != nil {
		d.Message = d.T.Get("form_fix")
		d.Errors = fieldMessages(d.T, ie)
	}
	return s.render(c, status, "programme", d)
}

// programmeUpdate changes a programme.
func (s *Server) programmeUpdate(c echo.Context) error {
	p := mustPrincipal(c)
	in, form, ie := programmeForm(c)
	in.Code = ""
	if ie != nil {
		return s.renderProgramme(c, http.StatusBadRequest, form, ie)
	}
	prog, err := s.svc.UpdateProgramme(c.Request().Context(), p, p.Org, c.Param("code"), in)
	if errors.As(err, &ie) {
		return s.renderProgramme(c, http.StatusBadRequest, form, ie)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/programmes/"+prog.Code+"?done=saved")
}

// programmeList is the body of GET /api/v1/orgs/ORG/programmes.
type programmeList struct {
	Programmes []issuer.Programme `json:"programmes"`
}

func (s *Server) apiProgrammes(c echo.Context) error {
	list, err := s.svc.Programmes(c.Request().Context(), c.Param("org"))
	if err != nil {
		return err
	}
	if list == nil {
		list = []issuer.Programme{}
	}
	return c.JSON(http.StatusOK, programmeList{list})
}

func (s *Server) apiProgramme(c echo.Context) error {
	prog, err := s.svc.Programme(c.Request().Context(), c.Param("org"), c.Param("code"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, prog)
}

func (s *Server) apiProgrammeCreate(c echo.Context) error {
	var in issuer.ProgrammeInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	prog, err := s.svc.CreateProgramme(c.Request().Context(), mustPrincipal(c), c.Param("org"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, prog)
}

func (s *Server) apiProgrammeUpdate(c echo.Context) error {
	var in issuer.ProgrammeInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	prog, err := s.svc.UpdateProgramme(c.Request().Context(), mustPrincipal(c), c.Param("org"), c.Param("code"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, prog)
}

// doneNotice is the notice of a page reached after a change (?done=...):
// the catalogue's done_... message, or nothing for an unknown one.
func doneNotice(c echo.Context, m *Messages) string {
	done := c.QueryParam("done")
	switch done {
	case "created", "saved", "registered", "linked", "corrected", "issued", "revoked", "suspended", "reinstated", "erased", "datakey_rotated", "rotation_unfinished":
		return m.Get("done_" + done)
	}
	return ""
}
