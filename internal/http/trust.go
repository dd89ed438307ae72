package http

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
	"github.com/tally-id/tally/verifier/trustsync"
)

// This file serves the verifier's trust pages and API (issue 7, trust):
// what the verifier trusts and what it has kept (/verify/trust), and the
// consortium administrator's anchors and trust lists (/admin/trust). The
// trust state is the instance's: routes with :org only admit the
// organisation's own staff, like every route.

// trustView is what the trust pages and GET .../trust show.
type trustView struct {
	Offline      bool         `json:"offline"`
	MaxStatusAge string       `json:"maxStatusAge"`
	Issuers      int          `json:"issuers"`
	Anchors      []anchorView `json:"anchors"`
	Lists        []listView   `json:"lists"`
	StatusLists  []statusView `json:"statusLists"`
	NextRefresh  time.Time    `json:"nextRefresh,omitzero"`
	now          time.Time
}

type anchorView struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	JWK        json.RawMessage `json:"jwk"`
	AddedAt    time.Time       `json:"addedAt,omitzero"`
	FromConfig bool            `json:"fromConfig"`
}

type listView struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	URL        string    `json:"url,omitempty"`
	Interval   string    `json:"interval,omitempty"`
	Anchor     string    `json:"anchor,omitempty"`
	Issued     time.Time `json:"issued,omitzero"`
	ValidUntil time.Time `json:"validUntil,omitzero"`
	Issuers    int       `json:"issuers"`
	FetchedAt  time.Time `json:"fetchedAt,omitzero"`
	NextFetch  time.Time `json:"nextFetch,omitzero"`
	Lapsed     bool      `json:"lapsed"`
	InForce    bool      `json:"inForce"`
	LastError  string    `json:"lastError,omitempty"`
	FromConfig bool      `json:"fromConfig"`
}

type statusView struct {
	URL        string    `json:"url"`
	Issuer     string    `json:"issuer"`
	IssuerName string    `json:"issuerName,omitempty"`
	SignedAt   time.Time `json:"signedAt"`
	FetchedAt  time.Time `json:"fetchedAt"`
	MaxAge     string    `json:"maxAge,omitempty"`
	Stale      bool      `json:"stale"`
	NextFetch  time.Time `json:"nextFetch,omitzero"`
	LastError  string    `json:"lastError,omitempty"`
}

// trustOf builds the view of the trust service's state now.
func (s *Server) trustOf() *trustView {
	t := s.trust
	now := time.Now()
	v := &trustView{Offline: t.Offline(), MaxStatusAge: t.MaxStatusAge().String(), now: now}
	if list := t.TrustList(); list != nil {
		v.Issuers = len(list.Issuers)
	}
	for _, a := range t.Anchors() {
		v.Anchors = append(v.Anchors, anchorView{ID: a.ID, Name: a.Name, JWK: a.JWK, AddedAt: a.AddedAt, FromConfig: a.FromConfig})
	}
	for _, l := range t.Lists() {
		lv := listView{ID: l.ID, Name: l.Name, URL: l.URL, Anchor: l.Anchor, Issued: l.Issued, ValidUntil: l.ValidUntil, Issuers: l.Issuers,
			FetchedAt: l.FetchedAt, NextFetch: l.NextFetch, LastError: l.LastError, FromConfig: l.FromConfig}
		if l.URL != "" {
			lv.Interval = l.Interval.String()
		}
		lv.Lapsed = !l.ValidUntil.IsZero() && now.After(l.ValidUntil)
		// A list whose newest version was refused (an older --trust file,
		// a fetch that failed) stays in force with the version kept.
		lv.InForce = l.Issuers > 0 && !lv.Lapsed && !strings.HasPrefix(l.LastError, "not in force")
		v.Lists = append(v.Lists, lv)
		if l.URL != "" && !v.Offline && (v.NextRefresh.IsZero() || l.NextFetch.Before(v.NextRefresh)) {
			v.NextRefresh = l.NextFetch
		}
	}
	list := t.TrustList()
	for _, r := range t.StatusLists() {
		sv := statusView{URL: r.URL, Issuer: r.Issuer, SignedAt: r.SignedAt, FetchedAt: r.FetchedAt, NextFetch: r.NextFetch, LastError: r.LastError}
		if r.MaxAge > 0 {
			sv.MaxAge = r.MaxAge.String()
		}
		if list != nil {
			if iss, ok := list.Issuer(r.Issuer); ok {
				sv.IssuerName = iss.Name
			}
		}
		sv.Stale = r.Stale(now)
		v.StatusLists = append(v.StatusLists, sv)
		if v.NextRefresh.IsZero() || r.NextFetch.Before(v.NextRefresh) {
			v.NextRefresh = r.NextFetch
		}
	}
	return v
}

// Ago says how long ago t was, in words: "3 hours ago".
func (d *pageData) Ago(t time.Time) string {
	if t.IsZero() {
		return d.T.Get("trust_never")
	}
	return ago(d.T, time.Now(), t)
}

// In says how long until t, in words: "in 5 minutes", or "now".
func (d *pageData) In(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	dur := time.Until(t)
	if dur <= 0 {
		return d.T.Get("trust_due_now")
	}
	n, unit := ageUnits(dur)
	return d.T.Get("trust_in_"+unit, n)
}

// ageUnits is a duration in its largest whole unit.
func ageUnits(dur time.Duration) (int, string) {
	switch {
	case dur >= 48*time.Hour:
		return int(dur / (24 * time.Hour)), "days"
	case dur >= 2*time.Hour:
		return int(dur / time.Hour), "hours"
	default:
		return max(int(dur/time.Minute), 1), "minutes"
	}
}

// Date formats a time for people: its date and time, UTC.
func (d *pageData) Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// requireTrust answers 404 when the instance serves no verifier.
func (s *Server) requireTrust() error {
	if s.trust == nil {
		return echo.ErrNotFound
	}
	return nil
}

// trustPage shows what the verifier trusts and what it has kept.
func (s *Server) trustPage(c echo.Context) error {
	if err := s.requireTrust(); err != nil {
		return err
	}
	d := s.newPage(c, "trust_title")
	d.Trust = s.trustOf()
	d.Notice = trustNotice(c, d.T)
	return s.render(c, http.StatusOK, "trust", d)
}

// adminTrustPage is the consortium administrator's page: the same, with
// the forms that change it.
func (s *Server) adminTrustPage(c echo.Context) error {
	return s.renderAdminTrust(c, http.StatusOK, nil, nil)
}

func (s *Server) renderAdminTrust(c echo.Context, status int, form map[string]string, fe *trustsync.FieldError) error {
	if err := s.requireTrust(); err != nil {
		return err
	}
	d := s.newPage(c, "trust_admin_title")
	d.Trust = s.trustOf()
	d.Form = form
	d.Notice = trustNotice(c, d.T)
	if fe != nil {
		d.Message = d.T.Get("form_fix")
		d.Errors = map[string]string{fe.Field: d.T.Get("trust_bad_"+fe.Field) + " " + fe.Err.Error()}
	}
	return s.render(c, status, "trust_admin", d)
}

func trustNotice(c echo.Context, m *Messages) string {
	switch done := c.QueryParam("done"); done {
	case "anchor_added", "anchor_removed", "list_added", "list_removed", "refreshed":
		return m.Get("trust_done_" + done)
	}
	return ""
}

// formFileOr reads an uploaded file field, or else the text field.
func formFileOr(c echo.Context, file, text string) ([]byte, error) {
	if fh, err := c.FormFile(file); err == nil {
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(f)
	} else if !errors.Is(err, http.ErrMissingFile) && !strings.Contains(err.Error(), "multipart") {
		return nil, err
	}
	return []byte(c.FormValue(text)), nil
}

// trustFieldError is the FieldError in err, if any.
func trustFieldError(err error) *trustsync.FieldError {
	var fe *trustsync.FieldError
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}

// trustProblem maps the trust service's errors that are not about a field.
func trustProblem(err error) error {
	switch {
	case errors.Is(err, trustsync.ErrNotFound):
		return issuer.ErrNotFound
	case errors.Is(err, trustsync.ErrFromConfig):
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "id", Code: "config", Message: err.Error()}}}
	}
	return err
}

func (s *Server) adminTrustAnchorAdd(c echo.Context) error {
	if err := s.requireTrust(); err != nil {
		return err
	}
	jwk, err := formFileOr(c, "jwkfile", "jwk")
	if err != nil {
		return err
	}
	form := map[string]string{"name": c.FormValue("name"), "jwk": c.FormValue("jwk")}
	a, err := s.trust.AddAnchor(c.Request().Context(), form["name"], jwk)
	if fe := trustFieldError(err); fe != nil {
		return s.renderAdminTrust(c, http.StatusBadRequest, form, fe)
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "trust anchor added", "anchor", a.ID, "by", mustPrincipal(c).Ref())
	if err := s.svc.RecordAdministration(c.Request().Context(), mustPrincipal(c), audit.ActionTrustChange, audit.ObjectTrustAnchor, a.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/trust?done=anchor_added")
}

func (s *Server) adminTrustAnchorRemove(c echo.Context) error {
	if err := s.requireTrust(); err != nil {
		return err
	}
	id := c.FormValue("anchor")
	if err := s.trust.RemoveAnchor(c.Request().Context(), id); err != nil {
		if errors.Is(err, trustsync.ErrNotFound) || errors.Is(err, trustsync.ErrFromConfig) {
			return s.renderAdminTrust(c, http.StatusBadRequest, nil, &trustsync.FieldError{Field: "anchor", Err: err})
		}
		return err
	}
	s.log.InfoContext(c.Request().Context(), "trust anchor removed", "anchor", id, "by", mustPrincipal(c).Ref())
	if err := s.svc.RecordAdministration(c.Request().Context(), mustPrincipal(c), audit.ActionTrustChange, audit.ObjectTrustAnchor, id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/trust?done=anchor_removed")
}

// newListOf reads a trust list to follow from a form or JSON.
func newListOf(raw []byte, url, interval string) (trustsync.NewList, error) {
	in := trustsync.NewList{Raw: raw, URL: strings.TrimSpace(url)}
	if len(strings.TrimSpace(string(raw))) == 0 {
		in.Raw = nil
	}
	if interval = strings.TrimSpace(interval); interval != "" {
		d, err := time.ParseDuration(interval)
		if err != nil {
			return in, &trustsync.FieldError{Field: "interval", Err: errors.New("give a duration like 30m or 6h")}
		}
		in.Interval = d
	}
	return in, nil
}

func (s *Server) adminTrustListAdd(c echo.Context) error {
	if err := s.requireTrust(); err != nil {
		return err
	}
	raw, err := formFileOr(c, "listfile", "list")
	if err != nil {
		return err
	}
	form := map[string]string{"url": c.FormValue("url"), "interval": c.FormValue("interval")}
	in, err := newListOf(raw, form["url"], form["interval"])
	var added trustsync.ListSource
	if err == nil {
		added, err = s.trust.AddList(c.Request().Context(), in)
	}
	if fe := trustFieldError(err); fe != nil {
		return s.renderAdminTrust(c, http.StatusBadRequest, form, fe)
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "trust list added", "url", in.URL, "by", mustPrincipal(c).Ref())
	if err := s.svc.RecordAdministration(c.Request().Context(), mustPrincipal(c), audit.ActionTrustChange, audit.ObjectTrustList, added.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/trust?done=list_added")
}

func (s *Server) adminTrustListRemove(c echo.Context) error {
	if err := s.requireTrust(); err != nil {
		return err
	}
	id := c.FormValue("list")
	if err := s.trust.RemoveList(c.Request().Context(), id); err != nil {
		if errors.Is(err, trustsync.ErrNotFound) || errors.Is(err, trustsync.ErrFromConfig) {
			return s.renderAdminTrust(c, http.StatusBadRequest, nil, &trustsync.FieldError{Field: "list", Err: err})
		}
		return err
	}
	s.log.InfoContext(c.Request().Context(), "trust list removed", "list", id, "by", mustPrincipal(c).Ref())
	if err := s.svc.RecordAdministration(c.Request().Context(), mustPrincipal(c), audit.ActionTrustChange, audit.ObjectTrustList, id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/trust?done=list_removed")
}

// refreshTimeout bounds "refresh now".
const refreshTimeout = 20 * time.Second

func (s *Server) refreshTrust(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	s.trust.RefreshNow(ctx)
}

func (s *Server) adminTrustRefresh(c echo.Context) error {
	if err := s.requireTrust(); err != nil {
		return err
	}
	s.refreshTrust(c.Request().Context())
	return c.Redirect(http.StatusSeeOther, "/admin/trust?done=refreshed")
}

// --- JSON API ---

func (s *Server) apiTrust(c echo.Context) error {
	if err := s.requireTrust(); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.trustOf())
}

// apiTrustInvalid is a FieldError as the API's invalid error.
func apiTrustInvalid(fe *trustsync.FieldError) error {
	return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: fe.Field, Code: "invalid", Message: fe.Err.Error()}}}
}

func (s *Server) apiTrustAnchorAdd(c echo.Context) error {
	if err := s.requireTrust(); err != nil {
		return err
	}
	var in struct {
		Name string          `json:"name"`
		JWK  json.RawMessage `json:"jwk"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	a, err := s.trust.AddAnchor(c.Request().Context(), in.Name, in.JWK)
	if fe := trustFieldError(err); fe != nil {
		return apiTrustInvalid(fe)
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "trust anchor added", "anchor", a.ID, "by", mustPrincipal(c).Ref())
	if err := s.svc.RecordAdministration(c.Request().Context(), mustPrincipal(c), audit.ActionTrustChange, audit.ObjectTrustAnchor, a.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, anchorView{ID: a.ID, Name: a.Name, JWK: a.JWK, AddedAt: a.AddedAt})
}

func (s *Server) apiTrustAnchorRemove(c echo.Context) error {
	if err := s.requireTrust(); err != nil {
		return err
	}
	var in struct {
		Anchor string `json:"anchor"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.trust.RemoveAnchor(c.Request().Context(), in.Anchor); err != nil {
		if errors.Is(err, trustsync.ErrNotFound) || errors.Is(err, trustsync.ErrFromConfig) {
			return apiTrustInvalid(&trustsync.FieldError{Field: "anchor", Err: err})
		}
		return err
	}
	s.log.InfoContext(c.Request().Context(), "trust anchor removed", "anchor", in.Anchor, "by", mustPrincipal(c).Ref())
	if err := s.svc.RecordAdministration(c.Request().Context(), mustPrincipal(c), audit.ActionTrustChange, audit.ObjectTrustAnchor, in.Anchor); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.trustOf())
}

func (s *Server) apiTrustListAdd(c echo.Context) error {
	if err := s.requireTrust(); err != nil {
		return err
	}
	var in struct {
		// List is the trust list: a signed JWS as a string, or a plain
		// list as a JSON object.
		List     json.RawMessage `json:"list"`
		URL      string          `json:"url"`
		Interval string          `json:"interval"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	raw := []byte(in.List)
	var jws string
	if json.Unmarshal(in.List, &jws) == nil {
		raw = []byte(jws)
	}
	nl, err := newListOf(raw, in.URL, in.Interval)
	var src trustsync.ListSource
	if err == nil {
		src, err = s.trust.AddList(c.Request().Context(), nl)
	}
	if fe := trustFieldError(err); fe != nil {
		return apiTrustInvalid(fe)
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "trust list added", "list", src.ID, "url", src.URL, "by", mustPrincipal(c).Ref())
	if err := s.svc.RecordAdministration(c.Request().Context(), mustPrincipal(c), audit.ActionTrustChange, audit.ObjectTrustList, src.ID); err != nil {
		return err
	}
	for _, l := range s.trustOf().Lists {
		if l.ID == src.ID {
			return c.JSON(http.StatusCreated, l)
		}
	}
	return c.JSON(http.StatusCreated, listView{ID: src.ID, Name: src.Name, URL: src.URL, Issuers: src.Issuers})
}

func (s *Server) apiTrustListRemove(c echo.Context) error {
	if err := s.requireTrust(); err != nil {
		return err
	}
	var in struct {
		List string `json:"list"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.trust.RemoveList(c.Request().Context(), in.List); err != nil {
		if errors.Is(err, trustsync.ErrNotFound) || errors.Is(err, trustsync.ErrFromConfig) {
			return apiTrustInvalid(&trustsync.FieldError{Field: "list", Err: err})
		}
		return err
	}
	s.log.InfoContext(c.Request().Context(), "trust list removed", "list", in.List, "by", mustPrincipal(c).Ref())
	if err := s.svc.RecordAdministration(c.Request().Context(), mustPrincipal(c), audit.ActionTrustChange, audit.ObjectTrustList, in.List); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.trustOf())
}

func (s *Server) apiTrustRefresh(c echo.Context) error {
	if err := s.requireTrust(); err != nil {
		return err
	}
	s.refreshTrust(c.Request().Context())
	return c.JSON(http.StatusOK, s.trustOf())
}
