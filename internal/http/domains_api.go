package http

import (
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier/registry"
)

// The dedup registry's JSON API (issue 7, domains), documented in
// docs/openapi.yaml: the same as the pages, for scripts that move token
// lists between member agencies.

// apiDomainList is the body of GET /api/v1/domains.
type apiDomainList struct {
	Domains []registry.DomainInfo `json:"domains"`
}

// apiDomainCreate is the body of POST /api/v1/domains. Key is the
// consortium's key file's 64 hex digits; without it a fresh key is drawn.
type apiDomainCreate struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Members []string `json:"members"`
	Key     string   `json:"key"`
}

// apiDomainCreated is the answer to POST /api/v1/domains: the fresh key
// (64 hex digits), in this answer only.
type apiDomainCreated struct {
	Domain registry.DomainInfo `json:"domain"`
	Key    string              `json:"key,omitempty"`
}

// apiDomain is the body of GET /api/v1/domains/{domain}.
type apiDomain struct {
	Domain    registry.DomainInfo     `json:"domain"`
	PeerLists []registry.PeerListInfo `json:"peerLists"`
}

// apiPeerList is the answer to a peer list's import.
type apiPeerList struct {
	PeerList registry.PeerListInfo `json:"peerList"`
}

// apiReport is a reconciliation report: counts only, never a token.
type apiReport struct {
	Report apiReportBody `json:"report"`
}

type apiReportBody struct {
	Domain  string         `json:"domain"`
	A       string         `json:"a"`
	B       string         `json:"b"`
	TokensA int            `json:"tokensA"`
	TokensB int            `json:"tokensB"`
	Overlap int            `json:"overlap"`
	Rows    []apiReportRow `json:"rows"`
}

type apiReportRow struct {
	Month      string `json:"month"`
	ProgrammeA string `json:"programmeA"`
	ProgrammeB string `json:"programmeB"`
	TokensA    int    `json:"tokensA"`
	TokensB    int    `json:"tokensB"`
	Overlap    int    `json:"overlap"`
}

func (s *Server) apiDomains(c echo.Context) error {
	reg, err := s.registryOr404()
	if err != nil {
		return err
	}
	infos, err := reg.DomainInfos(c.Request().Context())
	if err != nil {
		return err
	}
	infos = domainsOfCaller(c, infos)
	if infos == nil {
		infos = []registry.DomainInfo{}
	}
	return c.JSON(http.StatusOK, apiDomainList{infos})
}

func (s *Server) apiDomainCreate(c echo.Context) error {
	if _, err := s.registryOr404(); err != nil {
		return err
	}
	var in apiDomainCreate
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p := mustPrincipal(c)
	source := "new"
	var keyFile []byte
	if in.Key != "" {
		source, keyFile = "file", []byte(in.Key)
	}
	nd, ie := newDomainInput(p, in.ID, in.Name, in.Kind, "", source, keyFile)
	if ie != nil {
		return ie
	}
	if in.Kind == registry.KindConsortium {
		for _, m := range in.Members {
			if m != p.Org {
				nd.Members = append(nd.Members, m)
			}
		}
	}
	d, file, err := s.addDomain(c, p, nd)
	if err != nil {
		return err
	}
	out := apiDomainCreated{Domain: registry.DomainInfo{ID: d.ID, Name: d.Name, Kind: d.Kind, Members: d.Members, Created: d.Created}}
	if file != nil {
		out.Key = strings.TrimSpace(string(file))
		clear(file)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) apiDomain(c echo.Context) error {
	reg, err := s.registryOr404()
	if err != nil {
		return err
	}
	info, err := s.domainOfCaller(c, reg)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	peers, err := reg.PeerLists(ctx, info.ID)
	if err != nil {
		return domainsError(err)
	}
	if peers == nil {
		peers = []registry.PeerListInfo{}
	}
	return c.JSON(http.StatusOK, apiDomain{info, peers})
}

// apiPeerListPut imports a peer's token list, sent as text/csv, in place
// of its earlier one: all of it, or nothing.
func (s *Server) apiPeerListPut(c echo.Context) error {
	reg, err := s.registryOr404()
	if err != nil {
		return err
	}
	info, err := s.domainOfCaller(c, reg)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); mt != "text/csv" {
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "body", Code: "format", Message: "send the token list as CSV, with Content-Type: text/csv"}}}
	}
	release, err := s.domains.parseSlot(c)
	if err != nil {
		return err
	}
	defer release()
	l, err := registry.ParseList(c.Request().Body, info.ID)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	if err != nil {
		return domainsError(err)
	}
	peer := c.Param("peer")
	if err := s.importPeerList(c, mustPrincipal(c), peer, l); err != nil {
		return err
	}
	peers, err := reg.PeerLists(ctx, info.ID)
	if err != nil {
		return err
	}
	for _, pl := range peers {
		if pl.Peer == peer {
			return c.JSON(http.StatusOK, apiPeerList{pl})
		}
	}
	return errors.New("the imported list is not found")
}

func (s *Server) apiReport(c echo.Context) error {
	r, err := s.reconcile(c)
	if err != nil {
		return err
	}
	out := apiReportBody{Domain: r.Domain, A: r.A, B: r.B, TokensA: r.TokensA, TokensB: r.TokensB, Overlap: r.Overlap, Rows: make([]apiReportRow, 0, len(r.Rows))}
	for _, row := range r.Rows {
		out.Rows = append(out.Rows, apiReportRow{Month: string(row.Month), ProgrammeA: row.ProgrammeA, ProgrammeB: row.ProgrammeB,
			TokensA: row.TokensA, TokensB: row.TokensB, Overlap: row.Overlap})
	}
	return c.JSON(http.StatusOK, apiReport{out})
}
