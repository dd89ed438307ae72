package http

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
)

// issuedJSON is the body of POST .../registrations/ID/credentials: the
// record kept, and the credential itself (a card's base45 text, or a
// VC-JWT), shown once.
type issuedJSON struct {
	Record     issuer.CredentialRecord `json:"record"`
	Credential string                  `json:"credential"`
}

func (s *Server) apiIssue(c echo.Context) error {
	var in issuer.IssueInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p := mustPrincipal(c)
	out, err := s.svc.Issue(c.Request().Context(), p, c.Param("org"), c.Param("id"), in)
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "issued", "credential", out.Record.ID, "registration", out.Record.Registration, "org", out.Record.Org, "by", p.Ref())
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, issuedJSON{out.Record, out.Credential})
}

// credentialList is the body of GET .../registrations/ID/credentials.
type credentialList struct {
	Credentials []issuer.CredentialRecord `json:"credentials"`
}

func (s *Server) apiCredentials(c echo.Context) error {
	list, err := s.svc.Credentials(c.Request().Context(), c.Param("org"), c.Param("id"))
	if err != nil {
		return err
	}
	if list == nil {
		list = []issuer.CredentialRecord{}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, credentialList{list})
}

// stateChange is one of Service.Revoke, Suspend and Reinstate.
type stateChange func(ctx context.Context, by issuer.Principal, org, id string) (issuer.CredentialRecord, error)

// apiState answers POST .../credentials/ID/{revoke,suspend,reinstate}
// with the record as it is now.
func (s *Server) apiState(change stateChange, what string) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := mustPrincipal(c)
		rec, err := change(c.Request().Context(), p, c.Param("org"), c.Param("cred"))
		if err != nil {
			return err
		}
		s.log.InfoContext(c.Request().Context(), what, "credential", rec.ID, "org", rec.Org, "by", p.Ref())
		return c.JSON(http.StatusOK, rec)
	}
}

// statusList serves an organisation's status list: a Bitstring Status
// List credential (revocation, suspension) or a Token Status List
// (token), signed now, cacheable for its ttl.
func (s *Server) statusList(c echo.Context) error {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 0 || strconv.Itoa(n) != c.Param("n") {
		return echo.ErrNotFound
	}
	kind := issuer.StatusListKind(c.Param("kind"))
	// A JSON-LD verifier asks for the list as JSON (docs/vc-api.md): the
	// same bits, secured with a Data Integrity proof.
	c.Response().Header().Add("Vary", "Accept")
	list := s.svc.StatusList
	if kind != issuer.ListToken && wantsJSONLD(c.Request().Header.Get("Accept")) {
		list = s.svc.StatusListDI
	}
	l, err := list(c.Request().Context(), c.Param("org"), kind, n)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(l.TTL/time.Second)))
	return c.Blob(http.StatusOK, l.MediaType, l.Body)
}
