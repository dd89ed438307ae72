package http

import (
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
)

// The W3C CCG VC API issuer endpoints: POST /credentials/issue and POST
// /credentials/status (docs/vc-api.md). They act on the caller's own
// organisation; in open conformance mode (Options.VCAPIOpenOrg) on that
// organisation, for anyone, with no credentials.

// maxVCAPIBody bounds a VC API request: a credential is at most 64 KiB
// (dataintegrity.MaxSize), and the options are small.
const maxVCAPIBody = 96 << 10

// openPrincipal is who acts in open conformance mode, in records and the
// audit log.
var openPrincipal = issuer.SystemPrincipal("vc-api-open")

// vcIssueRequest is the body of POST /credentials/issue.
type vcIssueRequest struct {
	Credential json.RawMessage        `json:"credential"`
	Options    *issuer.VCIssueOptions `json:"options,omitempty"`
}

// vcIssueResponse is the body of its 201.
type vcIssueResponse struct {
	VerifiableCredential json.RawMessage `json:"verifiableCredential"`
}

// vcActor is who a VC API request acts for, and on which organisation.
// In open conformance mode only a request made on this machine acts, for
// the open organisation: see localRequest.
func (s *Server) vcActor(c echo.Context) (issuer.Principal, string, error) {
	if s.vcOpenOrg != "" {
		if !localRequest(c.Request()) {
			s.log.WarnContext(c.Request().Context(), "the open VC API refused a request that was not made on this machine", logRoute, c.Path())
			return issuer.Principal{}, "", fmt.Errorf("the open VC API answers only requests made on this machine: %w", issuer.ErrForbidden)
		}
		return openPrincipal, s.vcOpenOrg, nil
	}
	p := mustPrincipal(c)
	return p, p.Org, nil
}

// localRequest tells whether a request was made on this machine, directly:
// from a loopback address, to a loopback host name (a web page whose
// host name was made to resolve to 127.0.0.1 names its own host, so
// DNS rebinding fails), and not relayed by a proxy (a reverse proxy on
// the same machine connects from loopback, but says whom it relays).
// Listening on a loopback address alone does not ensure this.
func localRequest(r *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "X-Client-Ip", "True-Client-Ip", "Via"} {
		if _, ok := r.Header[h]; ok {
			return false
		}
	}
	return loopbackHost(r.RemoteAddr) && loopbackHost(r.Host)
}

// loopbackHost tells whether a HOST[:PORT] names this machine's loopback:
// localhost, 127.0.0.0/8 or ::1.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// readVCBody decodes a VC API request body, of at most maxVCAPIBody bytes.
func readVCBody(c echo.Context, v any) error {
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxVCAPIBody)
	return decodeJSON(c, v)
}

func (s *Server) vcIssue(c echo.Context) error {
	by, org, err := s.vcActor(c)
	if err != nil {
		return err
	}
	var in vcIssueRequest
	if err := readVCBody(c, &in); err != nil {
		return err
	}
	var opts issuer.VCIssueOptions
	if in.Options != nil {
		opts = *in.Options
	}
	out, err := s.svc.IssueVC(c.Request().Context(), by, org, in.Credential, opts)
	if err != nil {
		return err
	}
	attrs := []any{"org", org, "by", by.Ref(), "format", opts.Format}
	if out.Record != nil {
		attrs = append(attrs, "credential", s.svc.AuditCredentialID(out.Record.ID))
	}
	s.log.InfoContext(c.Request().Context(), "issued through the VC API", attrs...)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, vcIssueResponse{out.Credential})
}

func (s *Server) vcStatus(c echo.Context) error {
	by, org, err := s.vcActor(c)
	if err != nil {
		return err
	}
	var in issuer.VCStatusUpdate
	if err := readVCBody(c, &in); err != nil {
		return err
	}
	rec, err := s.svc.UpdateVCStatus(c.Request().Context(), by, org, in)
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "status updated through the VC API", "credential", s.svc.AuditCredentialID(rec.ID), "org", org, "by", by.Ref(), "state", string(rec.State))
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, rec)
}

// wantsJSONLD tells whether a status list request asks for the JSON-LD
// form (a Data Integrity secured credential): its Accept header names a
// JSON credential media type (application/vc+ld+json, application/vc,
// application/ld+json, application/json) and no JWT one. Without such an
// Accept, the list is a VC-JWT, as before.
func wantsJSONLD(accept string) bool {
	jsonLD := false
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "application/vc+ld+json", "application/vc", "application/ld+json", "application/json":
			jsonLD = true
		case "application/vc+jwt", "application/jwt", "application/statuslist+jwt":
			return false
		}
	}
	return jsonLD
}
