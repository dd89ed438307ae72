package http

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
)

// registrationBody is the body of POST /api/v1/orgs/ORG/registrations:
// the registration claims (as in a RegistrationCredential's subject), the
// consent, and confirm, to register even though likely duplicates exist.
type registrationBody struct {
	credentials.Registration
	Consent issuer.ConsentInput `json:"consent"`
	Confirm bool                `json:"confirm"`
}

func (s *Server) apiRegister(c echo.Context) error {
	var body registrationBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	p := mustPrincipal(c)
	reg, err := s.svc.Register(c.Request().Context(), p, c.Param("org"),
		issuer.NewRegistration{Person: body.Registration, Consent: body.Consent, Confirm: body.Confirm})
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "registered", "registration", reg.ID, "org", reg.Org, "by", p.Ref())
	return registrationJSON(c, http.StatusCreated, reg)
}

// registrationJSON writes a registration: personal data, never cached.
func registrationJSON(c echo.Context, status int, reg issuer.Registration) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(status, reg)
}

func (s *Server) apiRegistration(c echo.Context) error {
	reg, err := s.svc.Registration(c.Request().Context(), c.Param("org"), c.Param("id"))
	if err != nil {
		return err
	}
	return registrationJSON(c, http.StatusOK, reg)
}

func (s *Server) apiCorrect(c echo.Context) error {
	var in issuer.PersonCorrection
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p := mustPrincipal(c)
	reg, err := s.svc.Correct(c.Request().Context(), p, c.Param("org"), c.Param("id"), in)
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "corrected", "registration", reg.ID, "org", reg.Org, "by", p.Ref())
	return registrationJSON(c, http.StatusOK, reg)
}

func (s *Server) apiLink(c echo.Context) error {
	var in issuer.LinkInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p := mustPrincipal(c)
	reg, err := s.svc.Link(c.Request().Context(), p, c.Param("org"), c.Param("id"), in)
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "linked", "registration", reg.ID, "org", reg.Org, "by", p.Ref())
	return registrationJSON(c, http.StatusCreated, reg)
}

// searchResult is the body of POST /api/v1/orgs/ORG/registrations/search.
type searchResult struct {
	Matches []issuer.Match `json:"matches"`
}

func (s *Server) apiSearch(c echo.Context) error {
	var q issuer.SearchQuery
	if err := decodeJSON(c, &q); err != nil {
		return err
	}
	matches, err := s.svc.Search(c.Request().Context(), c.Param("org"), q)
	if err != nil {
		return err
	}
	if matches == nil {
		matches = []issuer.Match{}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, searchResult{matches})
}
