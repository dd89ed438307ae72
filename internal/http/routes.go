package http

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
)

// Kind is what a route serves: a page for people, or JSON for machines.
// It decides how a missing sign-in is answered: a page redirects to the
// sign-in form, the API says 401.
type Kind int

// The kinds of route.
const (
	Page Kind = iota
	API
)

// Route is one entry of the route table.
type Route struct {
	Method string
	// Path is echo's pattern. A route whose path has :org acts on that
	// organisation, and admits only its staff and tokens; other routes act
	// on the caller's own organisation.
	Path string
	Kind Kind
	// Public routes need no sign-in. Otherwise Roles lists the roles
	// admitted.
	Public  bool
	Roles   []issuer.Role
	Handler echo.HandlerFunc
}

// OrgScoped tells whether the route names an organisation in its path.
func (r Route) OrgScoped() bool { return strings.Contains(r.Path, "/:org") }

// Routes returns the route table, for tests and documentation.
func (s *Server) Routes() []Route { return s.routes() }

// routes is the route table: every route tally serves, with the roles it
// admits. Nothing is routed anywhere else.
func (s *Server) routes() []Route {
	staff := issuer.AllRoles()
	admin := []issuer.Role{issuer.RoleAdmin}
	return []Route{
		{Method: http.MethodGet, Path: "/healthz", Kind: API, Public: true, Handler: s.healthz},
		{Method: http.MethodGet, Path: "/readyz", Kind: API, Public: true, Handler: s.readyz},
		{Method: http.MethodGet, Path: "/orgs/:org/did.json", Kind: API, Public: true, Handler: s.didDocument},
		{Method: http.MethodGet, Path: "/static/*", Kind: Page, Public: true, Handler: echo.WrapHandler(s.static)},
		{Method: http.MethodGet, Path: "/", Kind: Page, Public: true, Handler: s.root},
		{Method: http.MethodGet, Path: "/signin", Kind: Page, Public: true, Handler: s.signinForm},
		{Method: http.MethodPost, Path: "/signin", Kind: Page, Public: true, Handler: s.signin},
		{Method: http.MethodPost, Path: "/signout", Kind: Page, Public: true, Handler: s.signout},

		{Method: http.MethodGet, Path: "/issuer/", Kind: Page, Roles: staff, Handler: s.home},
		{Method: http.MethodGet, Path: "/admin/staff", Kind: Page, Roles: admin, Handler: s.staffPage},
		{Method: http.MethodPost, Path: "/admin/staff", Kind: Page, Roles: admin, Handler: s.staffCreate},

		{Method: http.MethodGet, Path: "/api/v1/whoami", Kind: API, Roles: staff, Handler: s.apiWhoami},
		{Method: http.MethodGet, Path: "/api/v1/orgs/:org/staff", Kind: API, Roles: admin, Handler: s.apiStaffList},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/staff", Kind: API, Roles: admin, Handler: s.apiStaffCreate},
	}
}

// principalKey is where guard leaves the request's principal in echo's
// context.
const principalKey = "tally.principal"

func principalOf(c echo.Context) (issuer.Principal, bool) {
	p, ok := c.Get(principalKey).(issuer.Principal)
	return p, ok
}

// mustPrincipal is the principal of a guarded route's request.
func mustPrincipal(c echo.Context) issuer.Principal {
	p, _ := principalOf(c)
	return p
}

// guard is the one place where requests are authenticated and checked
// against their route's roles and organisation.
func (s *Server) guard(r Route) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r.Public {
			// A signed-in visitor is still known on public pages (the
			// sign-in page, the layout's menu).
			if p, err := s.authenticate(c); err == nil {
				c.Set(principalKey, p)
			}
			return r.Handler(c)
		}
		p, err := s.authenticate(c)
		if err != nil {
			if r.Kind == Page && c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusSeeOther, "/signin?next="+urlQueryEscape(c.Request().URL.RequestURI()))
			}
			return err
		}
		c.Set(principalKey, p)
		if !slices.Contains(r.Roles, p.Role) {
			return issuer.ErrForbidden
		}
		if r.OrgScoped() && c.Param("org") != p.Org {
			return issuer.ErrForbidden
		}
		return r.Handler(c)
	}
}
