package http

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
)

// This file serves an organisation's settings page and API: its name,
// default languages and contact, its DID and keys, key rotation, and the
// declaration of a compromised key.

// orgPage shows the organisation's settings and keys.
func (s *Server) orgPage(c echo.Context) error {
	return s.renderOrg(c, http.StatusOK, nil, nil)
}

func (s *Server) renderOrg(c echo.Context, status int, form map[string]string, ie *issuer.InvalidError) error {
	d := s.newPage(c, "org_title")
	if d.Org == nil {
		return issuer.ErrNotFound
	}
	keys, err := s.svc.Keys(c.Request().Context(), d.Org.Slug)
	if err != nil {
		return err
	}
	d.Title = d.T.Get("org_title", d.Org.Name)
	d.Keys = keys
	d.Form = form
	if d.Form == nil {
		set := d.Org.SettingsOf()
		d.Form = map[string]string{"name": set.Name, "languages": strings.Join(set.Languages, ", "), "contact": set.Contact}
	}
	d.Notice = orgNotice(c, d.T)
	if ie != nil {
		d.Message = d.T.Get("form_fix")
		d.Errors = fieldMessages(d.T, ie)
	}
	return s.render(c, status, "organisation", d)
}

// orgNotice is the notice of the settings page after a change.
func orgNotice(c echo.Context, m *Messages) string {
	switch c.QueryParam("done") {
	case "saved":
		return m.Get("done_saved")
	case "rotated", "compromised":
		return m.Get("done_" + c.QueryParam("done"))
	}
	return ""
}

// settingsForm reads the settings form.
func settingsForm(c echo.Context) (issuer.Settings, map[string]string) {
	form := map[string]string{"name": c.FormValue("name"), "languages": c.FormValue("languages"), "contact": c.FormValue("contact")}
	in := issuer.Settings{Name: form["name"], Contact: form["contact"]}
	in.Languages = strings.FieldsFunc(form["languages"], func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
	return in, form
}

// orgUpdate saves the organisation's settings.
func (s *Server) orgUpdate(c echo.Context) error {
	p := mustPrincipal(c)
	in, form := settingsForm(c)
	_, err := s.svc.UpdateSettings(c.Request().Context(), p, p.Org, in)
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		return s.renderOrg(c, http.StatusBadRequest, form, ie)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/organisation?done=saved")
}

// keyRotate makes a new signing key the current one.
func (s *Server) keyRotate(c echo.Context) error {
	p := mustPrincipal(c)
	alg := c.FormValue("alg")
	k, err := s.svc.RotateKey(c.Request().Context(), p, p.Org, issuer.RotateInput{Alg: alg})
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		o, oerr := s.svc.Organisation(c.Request().Context(), p.Org)
		if oerr != nil {
			return oerr
		}
		set := o.SettingsOf()
		form := map[string]string{"name": set.Name, "languages": strings.Join(set.Languages, ", "), "contact": set.Contact, "alg": alg}
		return s.renderOrg(c, http.StatusBadRequest, form, ie)
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "key rotated", "org", p.Org, "key", k.ID, "by", p.StaffID+p.TokenID)
	return c.Redirect(http.StatusSeeOther, "/admin/organisation?done=rotated#keys")
}

// orgKey returns the key of the organisation named by the path's :key.
func (s *Server) orgKey(c echo.Context, org string) (issuer.KeyInfo, error) {
	keys, err := s.svc.Keys(c.Request().Context(), org)
	if err != nil {
		return issuer.KeyInfo{}, err
	}
	for _, k := range keys {
		if k.Fragment == c.Param("key") {
			return k, nil
		}
	}
	return issuer.KeyInfo{}, issuer.ErrNotFound
}

// compromiseForm asks to confirm that a key is compromised, and why.
func (s *Server) compromiseForm(c echo.Context) error {
	return s.renderCompromise(c, http.StatusOK, nil, nil)
}

func (s *Server) renderCompromise(c echo.Context, status int, form map[string]string, ie *issuer.InvalidError) error {
	p := mustPrincipal(c)
	k, err := s.orgKey(c, p.Org)
	if err != nil {
		return err
	}
	d := s.newPage(c, "compromise_title")
	d.Key, d.Form = &k, form
	if ie != nil {
		d.Message = d.T.Get("form_fix")
		d.Errors = fieldMessages(d.T, ie)
	}
	return s.render(c, status, "compromise", d)
}

// compromise declares a key compromised, once confirmed: it leaves the
// DID document and everything it signed is revoked.
func (s *Server) compromise(c echo.Context) error {
	p := mustPrincipal(c)
	in := issuer.CompromiseInput{Reason: c.FormValue("reason"), Confirm: c.FormValue("confirm") == "yes"}
	out, err := s.svc.CompromiseKey(c.Request().Context(), p, p.Org, c.Param("key"), in)
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		return s.renderCompromise(c, http.StatusBadRequest, map[string]string{"reason": in.Reason}, ie)
	}
	if err != nil {
		return err
	}
	s.log.WarnContext(c.Request().Context(), "key declared compromised", "org", p.Org, "key", out.Key.ID, "revoked", out.Key.Revoked, "by", p.StaffID+p.TokenID)
	return c.Redirect(http.StatusSeeOther, "/admin/organisation?done=compromised#keys")
}

// orgBody is the body of GET and PUT /api/v1/orgs/ORG: the organisation,
// its settings and its keys.
type orgBody struct {
	Organisation issuer.Organisation `json:"organisation"`
	Settings     issuer.Settings     `json:"settings"`
	Keys         []issuer.KeyInfo    `json:"keys"`
}

func (s *Server) orgBodyOf(c echo.Context, org string) (orgBody, error) {
	o, err := s.svc.Organisation(c.Request().Context(), org)
	if err != nil {
		return orgBody{}, err
	}
	keys, err := s.svc.Keys(c.Request().Context(), org)
	if err != nil {
		return orgBody{}, err
	}
	return orgBody{Organisation: o, Settings: o.SettingsOf(), Keys: keys}, nil
}

func (s *Server) apiOrg(c echo.Context) error {
	body, err := s.orgBodyOf(c, c.Param("org"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, body)
}

func (s *Server) apiOrgUpdate(c echo.Context) error {
	var in issuer.Settings
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if _, err := s.svc.UpdateSettings(c.Request().Context(), mustPrincipal(c), c.Param("org"), in); err != nil {
		return err
	}
	return s.apiOrg(c)
}

// keyList is the body of GET /api/v1/orgs/ORG/keys.
type keyList struct {
	Keys []issuer.KeyInfo `json:"keys"`
}

func (s *Server) apiKeys(c echo.Context) error {
	keys, err := s.svc.Keys(c.Request().Context(), c.Param("org"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, keyList{keys})
}

func (s *Server) apiKeyRotate(c echo.Context) error {
	var in issuer.RotateInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p := mustPrincipal(c)
	k, err := s.svc.RotateKey(c.Request().Context(), p, c.Param("org"), in)
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "key rotated", "org", c.Param("org"), "key", k.ID, "by", p.StaffID+p.TokenID)
	return c.JSON(http.StatusCreated, k)
}

func (s *Server) apiCompromise(c echo.Context) error {
	var in issuer.CompromiseInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p := mustPrincipal(c)
	out, err := s.svc.CompromiseKey(c.Request().Context(), p, c.Param("org"), c.Param("key"), in)
	if err != nil {
		return err
	}
	s.log.WarnContext(c.Request().Context(), "key declared compromised", "org", c.Param("org"), "key", out.Key.ID, "revoked", out.Key.Revoked, "by", p.StaffID+p.TokenID)
	return c.JSON(http.StatusOK, out)
}
