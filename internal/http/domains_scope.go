package http

// review (issue 7): a dedup domain is its members' business. On an
// instance that hosts several organisations, the consortium
// administrators and administrators of one organisation see, export,
// import into and reconcile only the domains whose members name their
// organisation: another organisation's own domain (its tokens, its counts
// per programme and month, its members' lists) is not theirs to read.

import (
	"fmt"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier/registry"
)

// domainOfCaller answers 404 for the path's domain unless the caller's
// organisation is one of its members (as for a domain that does not
// exist: its existence is not told either), and returns it otherwise.
func (s *Server) domainOfCaller(c echo.Context, reg *registry.Service) (registry.DomainInfo, error) {
	info, err := reg.DomainInfo(c.Request().Context(), c.Param("domain"))
	if err != nil {
		return registry.DomainInfo{}, domainsError(err)
	}
	if !slices.Contains(info.Members, mustPrincipal(c).Org) {
		return registry.DomainInfo{}, fmt.Errorf("no such dedup domain for this organisation: %w", issuer.ErrNotFound)
	}
	return info, nil
}

// domainsOfCaller keeps the domains whose members name the caller's
// organisation.
func domainsOfCaller(c echo.Context, infos []registry.DomainInfo) []registry.DomainInfo {
	org := mustPrincipal(c).Org
	return slices.DeleteFunc(infos, func(d registry.DomainInfo) bool { return !slices.Contains(d.Members, org) })
}
