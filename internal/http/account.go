package http

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/holder"
	"github.com/tally-id/tally/issuer"
)

// This file serves staff accounts: a staff member's own password
// (/account/password, which a one-time password leads to before anything
// else), an administrator's reset of a password and disabling of staff,
// and the sign-in limit's answer.

// errMustChangePassword refuses a request of a staff member who signed in
// with a one-time password and has not chosen their own yet.
var errMustChangePassword = fmt.Errorf("choose your own password first: %w", issuer.ErrForbidden)

// passwordPath is the page where staff change their password.
const passwordPath = "/account/password"

// mustChangeFirst sends a staff member who must change their password to
// the page that does, and refuses anything else they ask.
func mustChangeFirst(c echo.Context, p issuer.Principal, r Route) error {
	if !p.MustChangePassword || r.Path == passwordPath || r.Public {
		return nil
	}
	if r.Kind == Page && c.Request().Method == http.MethodGet {
		return c.Redirect(http.StatusSeeOther, passwordPath+"?next="+urlQueryEscape(c.Request().URL.RequestURI()))
	}
	return errMustChangePassword
}

// clientIP is the address the request came from: the connection's, never
// a header a client can set. An IPv6 address stands for its /64: one
// machine commonly holds a whole /64, and would otherwise count as 2^64
// clients, each with its own sign-in limits.
func clientIP(c echo.Context) string {
	host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
	if err != nil {
		host = c.Request().RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.To4() != nil {
		return host
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// retryMinutes is how many whole minutes (at least one) a wait lasts.
func retryMinutes(d time.Duration) int {
	return max(1, int(math.Ceil(d.Minutes())))
}

// setRetryAfter says when to try again, in seconds.
func setRetryAfter(c echo.Context, err error) {
	var tm *issuer.TooManyAttemptsError
	if errors.As(err, &tm) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(tm.RetryAfter.Seconds())))))
	}
	var le *holder.LockedError
	if errors.As(err, &le) && !le.Until.IsZero() {
		c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(time.Until(le.Until).Seconds())))))
	}
}

// passwordForm shows the form that changes one's password.
func (s *Server) passwordForm(c echo.Context) error {
	return s.renderPassword(c, http.StatusOK, nil)
}

func (s *Server) renderPassword(c echo.Context, status int, ie *issuer.InvalidError) error {
	d := s.newPage(c, "password_title")
	d.Next = localPath(c.FormValue("next"))
	if c.QueryParam("done") == "changed" {
		d.Notice = d.T.Get("done_password")
	}
	if ie != nil {
		d.Message = d.T.Get("form_fix")
		d.Errors = fieldMessages(d.T, ie)
	}
	return s.render(c, status, "password", d)
}

// passwordChange changes the signed-in staff member's password, and goes
// on to where they were going.
func (s *Server) passwordChange(c echo.Context) error {
	p := mustPrincipal(c)
	in := issuer.PasswordChange{Current: c.FormValue("current"), New: c.FormValue("new")}
	err := s.changePassword(c, p, in)
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		return s.renderPassword(c, http.StatusBadRequest, ie)
	}
	if err != nil {
		return err
	}
	next := localPath(c.FormValue("next"))
	if c.FormValue("next") == "" {
		next = passwordPath + "?done=changed"
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// changePassword changes a staff member's password; an API token has
// none, which is said as a field error.
func (s *Server) changePassword(c echo.Context, p issuer.Principal, in issuer.PasswordChange) error {
	if p.StaffID == "" {
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "current", Code: "token", Message: "an API token has no password"}}}
	}
	return s.svc.ChangePassword(c.Request().Context(), p, s.sessionID(c), in)
}

// staffReset gives a staff member a new one-time password and shows it
// once.
func (s *Server) staffReset(c echo.Context) error {
	p := mustPrincipal(c)
	st, password, err := s.svc.ResetPassword(c.Request().Context(), p, p.Org, c.Param("staff"))
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "password reset", "staff", st.ID, "org", st.Org, "by", p.StaffID+p.TokenID)
	d := s.newPage(c, "staff_reset_title")
	d.Created, d.Password = &st, password
	return s.render(c, http.StatusOK, "staff_reset", d)
}

// staffDisable disables a staff member.
func (s *Server) staffDisable(c echo.Context) error {
	p := mustPrincipal(c)
	st, err := s.svc.DisableStaff(c.Request().Context(), p, p.Org, c.Param("staff"))
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		return s.renderStaffWith(c, http.StatusBadRequest, ie)
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "staff member disabled", "staff", st.ID, "org", st.Org, "by", p.StaffID+p.TokenID)
	return c.Redirect(http.StatusSeeOther, "/admin/staff?done=disabled")
}

// renderStaffWith shows the staff page with an error about a staff
// member.
func (s *Server) renderStaffWith(c echo.Context, status int, ie *issuer.InvalidError) error {
	return s.renderStaff(c, status, nil, ie)
}

// passwordReset is the body of a reset: the one-time password, once.
type passwordReset struct {
	Staff    issuer.Staff `json:"staff"`
	Password string       `json:"password"`
}

func (s *Server) apiStaffReset(c echo.Context) error {
	p := mustPrincipal(c)
	st, password, err := s.svc.ResetPassword(c.Request().Context(), p, c.Param("org"), c.Param("staff"))
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "password reset", "staff", st.ID, "org", st.Org, "by", p.StaffID+p.TokenID)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, passwordReset{st, password})
}

func (s *Server) apiStaffDisable(c echo.Context) error {
	p := mustPrincipal(c)
	st, err := s.svc.DisableStaff(c.Request().Context(), p, c.Param("org"), c.Param("staff"))
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "staff member disabled", "staff", st.ID, "org", st.Org, "by", p.StaffID+p.TokenID)
	return c.JSON(http.StatusOK, st)
}
