package http

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
)

// healthz says the process is up.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether the server can serve: the database answers.
func (s *Server) readyz(c echo.Context) error {
	if err := s.ready(c.Request().Context()); err != nil {
		s.log.WarnContext(c.Request().Context(), "not ready", logError, err.Error())
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// didDocument serves an organisation's DID document, where did:web
// resolves did:web:HOST:orgs:SLUG.
func (s *Server) didDocument(c echo.Context) error {
	doc, err := s.svc.DIDDocument(c.Request().Context(), c.Param("org"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	c.Response().Header().Set(echo.HeaderContentType, "application/did+json")
	return json.NewEncoder(c.Response()).Encode(doc)
}

// apiWhoami tells the caller who it is.
func (s *Server) apiWhoami(c echo.Context) error {
	return c.JSON(http.StatusOK, mustPrincipal(c))
}

// staffList is the body of GET /api/v1/orgs/ORG/staff.
type staffList struct {
	Staff []issuer.Staff `json:"staff"`
}

func (s *Server) apiStaffList(c echo.Context) error {
	list, err := s.svc.ListStaff(c.Request().Context(), c.Param("org"))
	if err != nil {
		return err
	}
	if list == nil {
		list = []issuer.Staff{}
	}
	return c.JSON(http.StatusOK, staffList{list})
}

// staffCreated is the body of a 201 from POST /api/v1/orgs/ORG/staff: the
// one-time password is in it, once.
type staffCreated struct {
	Staff    issuer.Staff `json:"staff"`
	Password string       `json:"password"`
}

func (s *Server) apiStaffCreate(c echo.Context) error {
	var in issuer.NewStaff
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p := mustPrincipal(c)
	st, password, err := s.svc.CreateStaff(c.Request().Context(), p, c.Param("org"), in)
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "staff member added", "staff", st.ID, "role", string(st.Role), "org", st.Org, "by", p.StaffID+p.TokenID)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, staffCreated{st, password})
}

// decodeJSON reads a request's JSON body into v: one object, no unknown
// fields. Anything else is an InvalidError naming the body.
func decodeJSON(c echo.Context, v any) error {
	bad := func(msg string) error {
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "body", Code: "format", Message: msg}}}
	}
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if mt != echo.MIMEApplicationJSON {
		return bad("send a JSON object, with Content-Type: application/json")
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return bad("the body is not the JSON object expected: " + err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("send one JSON object, and nothing after it")
	}
	return nil
}
