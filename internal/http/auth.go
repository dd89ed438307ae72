package http

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
)

// sessionCookie names the session cookie. Under TLS it is
// __Host-tally_session: the prefix makes browsers insist on Secure, Path=/
// and no Domain, so that no other host can plant one.
func (s *Server) sessionCookie() string {
	if s.secure {
		return "__Host-tally_session"
	}
	return "tally_session"
}

// authenticate returns who the request acts for: the holder of an
// Authorization: Bearer API token, or of a session cookie. A request with
// a Bearer token is judged on the token alone.
func (s *Server) authenticate(c echo.Context) (issuer.Principal, error) {
	r := c.Request()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return issuer.Principal{}, issuer.ErrUnauthenticated
		}
		return s.svc.TokenPrincipal(r.Context(), strings.TrimSpace(token))
	}
	ck, err := r.Cookie(s.sessionCookie())
	if err != nil {
		return issuer.Principal{}, issuer.ErrUnauthenticated
	}
	return s.svc.SessionPrincipal(r.Context(), ck.Value)
}

// setSession gives the browser its session cookie: HttpOnly, so scripts
// cannot read it; SameSite=Strict, so other sites cannot make the browser
// send it; Secure under TLS. It lasts until the browser closes; the
// server ends it sooner when it is idle or old.
func (s *Server) setSession(c echo.Context, id string) {
	c.SetCookie(&http.Cookie{
		Name: s.sessionCookie(), Value: id, Path: "/",
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
}

// clearSession removes the session cookie.
func (s *Server) clearSession(c echo.Context) {
	c.SetCookie(&http.Cookie{
		Name: s.sessionCookie(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
}

// sessionID is the session cookie's value, or "".
func (s *Server) sessionID(c echo.Context) string {
	if ck, err := c.Request().Cookie(s.sessionCookie()); err == nil {
		return ck.Value
	}
	return ""
}

// localPath returns next if it is a path on this site, and the site's
// root otherwise (which sends each role to its home): the sign-in form
// must not redirect anywhere else.
func localPath(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.Contains(next, `\`) || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
