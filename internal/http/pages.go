package http

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
)

// root sends visitors to the staff home, which sends them on to sign in.
func (s *Server) root(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, s.home0(c))
}

// home0 is where a visitor starts: the scanning page for verifying staff
// (and everyone, on a verifier service alone), the dedup domains for a
// consortium administrator, else the issuer's home; on the wallet alone,
// the web wallet (or, for staff, the help for holders).
func (s *Server) home0(c echo.Context) string {
	p, signedIn := principalOf(c)
	verifying := s.parts&PartVerifier != 0
	switch {
	case s.parts&(PartIssuer|PartVerifier) == 0:
		// The wallet alone: staff help holders, everyone else holds.
		if signedIn {
			return "/admin/wallets"
		}
		return "/wallet/"
	case s.parts&PartIssuer == 0 && signedIn && p.Role == issuer.RoleConsortium:
		return "/admin/domains"
	case s.parts&PartIssuer == 0:
		return "/verify/"
	case !signedIn || !verifying:
		// An issuer service alone: everyone's home is its own.
		return "/issuer/"
	case p.Role == issuer.RoleVerifier:
		return "/verify/"
	case p.Role == issuer.RoleConsortium:
		return "/admin/domains"
	}
	return "/issuer/"
}

// signinForm shows the sign-in form.
func (s *Server) signinForm(c echo.Context) error {
	d := s.newPage(c, "signin_title")
	d.Next = localPath(c.QueryParam("next"))
	return s.render(c, http.StatusOK, "signin", d)
}

// signin checks the user name and password, opens a session and goes on
// to the page asked for. A failure shows the form again, with the user
// name kept and one message for every kind of failure.
func (s *Server) signin(c echo.Context) error {
	username, password := c.FormValue("username"), c.FormValue("password")
	next := localPath(c.FormValue("next"))
	id, who, err := s.svc.SignInFrom(c.Request().Context(), clientIP(c), username, password)
	var tm *issuer.TooManyAttemptsError
	if errors.As(err, &tm) {
		d := s.newPage(c, "signin_title")
		d.Message = d.T.Get("err_too_many_signins", retryMinutes(tm.RetryAfter))
		d.Form = map[string]string{"username": username}
		d.Next = next
		setRetryAfter(c, err)
		return s.render(c, http.StatusTooManyRequests, "signin", d)
	}
	if errors.Is(err, issuer.ErrUnauthenticated) {
		d := s.newPage(c, "signin_title")
		d.Message = d.T.Get("err_wrong_password")
		d.Form = map[string]string{"username": username}
		d.Next = next
		return s.render(c, http.StatusUnauthorized, "signin", d)
	}
	if err != nil {
		return err
	}
	// A session from before signing in is ended: a fixed session id must
	// not survive a sign-in.
	if old := s.sessionID(c); old != "" {
		if err := s.svc.SignOut(c.Request().Context(), old); err != nil {
			return err
		}
	}
	s.setSession(c, id)
	if who.MustChangePassword {
		return c.Redirect(http.StatusSeeOther, passwordPath+"?next="+urlQueryEscape(next))
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// signout ends the session, if any, and shows the sign-in form.
func (s *Server) signout(c echo.Context) error {
	if err := s.svc.SignOut(c.Request().Context(), s.sessionID(c)); err != nil {
		return err
	}
	s.clearSession(c)
	return c.Redirect(http.StatusSeeOther, "/signin")
}

// home is the staff home page: who is signed in, for which organisation.
func (s *Server) home(c echo.Context) error {
	d := s.newPage(c, "home_title")
	if d.Org == nil {
		return issuer.ErrNotFound
	}
	return s.render(c, http.StatusOK, "home", d)
}

// staffPage lists the organisation's staff, with the form to add one.
func (s *Server) staffPage(c echo.Context) error {
	return s.renderStaff(c, http.StatusOK, nil, nil)
}

// staffNotice is the staff page's notice after a change (keys part).
func staffNotice(c echo.Context, m *Messages) string {
	if c.QueryParam("done") == "disabled" {
		return m.Get("done_disabled")
	}
	return ""
}

func (s *Server) renderStaff(c echo.Context, status int, form map[string]string, ie *issuer.InvalidError) error {
	d := s.newPage(c, "nav_staff")
	p := mustPrincipal(c)
	list, err := s.svc.ListStaff(c.Request().Context(), p.Org)
	if err != nil {
		return err
	}
	if d.Org == nil {
		return issuer.ErrNotFound
	}
	d.Title = d.T.Get("staff_title", d.Org.Name)
	d.Staff, d.Roles, d.Form = list, issuer.AllRoles(), form
	if d.Form == nil {
		d.Form = map[string]string{"role": string(issuer.RoleRegistrar)}
	}
	d.Notice = staffNotice(c, d.T)
	if ie != nil {
		d.Message = d.T.Get("form_fix")
		d.Errors = fieldMessages(d.T, ie)
	}
	return s.render(c, status, "staff", d)
}

// staffCreate adds a staff member to the administrator's organisation and
// shows the one-time password, once.
func (s *Server) staffCreate(c echo.Context) error {
	p := mustPrincipal(c)
	in := issuer.NewStaff{Name: c.FormValue("name"), Username: c.FormValue("username"), Role: issuer.Role(c.FormValue("role"))}
	st, password, err := s.svc.CreateStaff(c.Request().Context(), p, p.Org, in)
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		form := map[string]string{"name": in.Name, "username": in.Username, "role": string(in.Role)}
		return s.renderStaff(c, http.StatusBadRequest, form, ie)
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "staff member added", "staff", st.ID, "role", string(st.Role), "org", st.Org, "by", p.StaffID+p.TokenID)
	d := s.newPage(c, "staff_created_title")
	d.Created, d.Password = &st, password
	return s.render(c, http.StatusCreated, "staff_created", d)
}
