package http

// The dedup registry's administration (issue 7, domains): the consortium
// administrator's pages for dedup domains, their token lists and the
// reconciliation reports between member agencies. Nothing here shows a
// domain key (but once, as a download, right after it was drawn), a
// credential or anything personal: tokens travel in the CSV lists, and
// reports hold counts only.

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
	"github.com/tally-id/tally/verifier/registry"
)

// domainManagers manage dedup domains: add them, export and import token
// lists. domainReaders also read the pages and reports (counts only).
func domainManagers() []issuer.Role { return []issuer.Role{issuer.RoleConsortium} }
func domainReaders() []issuer.Role {
	return []issuer.Role{issuer.RoleConsortium, issuer.RoleAdmin}
}

// maxTokenListUpload bounds the body of a peer's token list upload: about
// 550,000 rows. Larger lists go through tally registry import (the
// server stopped), which takes registry.MaxListBytes.
const maxTokenListUpload = 32 << 20

// isTokenListUpload tells whether a request uploads a token list, whose
// body may be larger than maxBody.
func isTokenListUpload(c echo.Context) bool {
	m := c.Request().Method
	return (m == http.MethodPost && c.Path() == "/admin/domains/:domain/peers") ||
		(m == http.MethodPut && c.Path() == "/api/v1/domains/:domain/peers/:peer")
}

// oneTimeKeyTTL is how long a fresh domain key waits for its one download.
const oneTimeKeyTTL = 15 * time.Minute

// maxPendingKeys bounds the fresh keys waiting for their download; the
// oldest is dropped first.
const maxPendingKeys = 64

// domainsState is the registry pages' state in memory: fresh domain keys
// waiting for their one download, and the one token list parsed at a
// time (a list of 32 MiB takes a few hundred MB to check). Its zero value
// is ready.
type domainsState struct {
	mu      sync.Mutex
	pending map[string]pendingKey
	parsing chan struct{}
}

// pendingKey is a fresh domain key file, for one download by the
// organisation whose consortium administrator made it.
type pendingKey struct {
	domain, org string
	file        []byte
	expires     time.Time
}

// keep holds a fresh key file for one download and returns its id.
func (st *domainsState) keep(domain, org string, file []byte, now time.Time) (string, error) {
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pending == nil {
		st.pending = map[string]pendingKey{}
	}
	st.prune(now)
	for len(st.pending) >= maxPendingKeys {
		oldest := ""
		for k, p := range st.pending {
			if oldest == "" || p.expires.Before(st.pending[oldest].expires) {
				oldest = k
			}
		}
		clear(st.pending[oldest].file)
		delete(st.pending, oldest)
	}
	st.pending[id] = pendingKey{domain: domain, org: org, file: file, expires: now.Add(oneTimeKeyTTL)}
	return id, nil
}

// take returns a fresh key file and forgets it: a second take of the same
// id, however close, finds nothing.
func (st *domainsState) take(id, org string, now time.Time) (pendingKey, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.prune(now)
	p, ok := st.pending[id]
	if !ok || p.org != org {
		return pendingKey{}, false
	}
	delete(st.pending, id)
	return p, true
}

// putBack keeps again a key taken but not handed over, until it expires
// as it would have.
func (st *domainsState) putBack(id string, k pendingKey) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pending == nil {
		st.pending = map[string]pendingKey{}
	}
	st.pending[id] = k
}

func (st *domainsState) prune(now time.Time) {
	for k, p := range st.pending {
		if !now.Before(p.expires) {
			clear(p.file)
			delete(st.pending, k)
		}
	}
}

// parseSlot waits for the one token list parse allowed at a time; release
// it with the function returned.
func (st *domainsState) parseSlot(c echo.Context) (func(), error) {
	st.mu.Lock()
	if st.parsing == nil {
		st.parsing = make(chan struct{}, 1)
	}
	ch := st.parsing
	st.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-c.Request().Context().Done():
		return nil, c.Request().Context().Err()
	}
}

// domainsView is what the registry's pages show.
type domainsView struct {
	// CanManage says the viewer may add domains and move token lists.
	CanManage bool
	List      []domainRow
	Domain    *domainRow
	Peers     []peerRow
	// Choices are the members whose lists may be uploaded: every member but
	// the viewer's own organisation.
	Choices []string
	// OnceID is a fresh key's one-time download; Joined says the key was
	// uploaded (nothing to download).
	OnceID string
	Joined bool
	// The report page.
	Report *registry.Report
	Peer   *peerRow
	Chart  template.HTML
}

type domainRow struct {
	registry.DomainInfo
	Age string
}

type peerRow struct {
	registry.PeerListInfo
	Age string
}

// registryOr404 is the registry, or a 404 on a server without the
// verifier service.
func (s *Server) registryOr404() (*registry.Service, error) {
	if s.trust == nil || s.registry == nil {
		return nil, issuer.ErrNotFound
	}
	return s.registry, nil
}

// domainsError turns the registry's errors into the issuer's, which
// problemOf maps to statuses: bad input names its field, in plain words.
func domainsError(err error) error {
	var ce *registry.CSVError
	var ie *registry.InputError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "file", Code: "format", Message: ce.Error() + " (nothing was imported)"}}}
	case errors.As(err, &ie):
		field := ie.Field
		if field == "agencies" {
			field = "peer"
		}
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: field, Code: "format", Message: ie.Problem}}}
	case errors.Is(err, registry.ErrConflict):
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "id", Code: "taken", Message: "a dedup domain with this id exists already"}}}
	case errors.Is(err, registry.ErrNotFound):
		return fmt.Errorf("%v: %w", err, issuer.ErrNotFound)
	}
	return err
}

// domainFieldMessages are each bad field's message on a page: the
// catalogue's domains_err_FIELD_CODE when it has one, else the plain
// English words of the check (a token list's line and column).
func domainFieldMessages(m *Messages, ie *issuer.InvalidError) map[string]string {
	out := map[string]string{}
	for _, f := range ie.Fields {
		key := "domains_err_" + f.Field + "_" + f.Code
		if msg := m.Get(key); msg != key {
			out[f.Field] = msg
		} else {
			out[f.Field] = f.Message
		}
	}
	return out
}

// selfName is the viewer's agency in a report: its organisation, unless
// the peer has that name.
func selfName(p issuer.Principal, peer string) string {
	if p.Org == peer {
		return "ours"
	}
	return p.Org
}

// domainsPage lists the domains, with the form to add one.
func (s *Server) domainsPage(c echo.Context) error {
	return s.renderDomains(c, http.StatusOK, nil, nil)
}

func (s *Server) renderDomains(c echo.Context, status int, form map[string]string, ie *issuer.InvalidError) error {
	reg, err := s.registryOr404()
	if err != nil {
		return err
	}
	d := s.newPage(c, "domains_title")
	infos, err := reg.DomainInfos(c.Request().Context())
	if err != nil {
		return err
	}
	infos = domainsOfCaller(c, infos)
	now := s.svc.Now()
	v := &domainsView{CanManage: mustPrincipal(c).Role == issuer.RoleConsortium}
	for _, in := range infos {
		v.List = append(v.List, domainRow{in, ago(d.T, now, in.Created)})
	}
	d.Domains, d.Form = v, form
	if d.Form == nil {
		d.Form = map[string]string{"kind": registry.KindConsortium, "keySource": "new"}
	}
	if ie != nil {
		d.Message = d.T.Get("form_fix")
		d.Errors = domainFieldMessages(d.T, ie)
	}
	return s.render(c, status, "domains", d)
}

// newDomainInput checks a new domain's fields that the registry does not:
// what is missing, and where the key comes from. The viewer's
// organisation is always a member.
func newDomainInput(p issuer.Principal, id, name, kind, members, keySource string, keyFile []byte) (registry.NewDomain, *issuer.InvalidError) {
	var bad []issuer.FieldError
	if strings.TrimSpace(id) == "" {
		bad = append(bad, issuer.FieldError{Field: "id", Code: "required", Message: "give the domain an id, which every member uses"})
	}
	if strings.TrimSpace(name) == "" {
		bad = append(bad, issuer.FieldError{Field: "name", Code: "required", Message: "give the domain a name"})
	}
	if kind != registry.KindOwn && kind != registry.KindConsortium {
		bad = append(bad, issuer.FieldError{Field: "kind", Code: "unknown", Message: "a domain is own (this agency's key) or consortium (a key shared by a consortium)"})
	}
	switch keySource {
	case "new":
		if len(keyFile) > 0 {
			bad = append(bad, issuer.FieldError{Field: "key", Code: "unexpected", Message: "a new key is drawn here: send no key file, or choose to upload the consortium's key"})
		}
	case "file":
		if len(keyFile) == 0 {
			bad = append(bad, issuer.FieldError{Field: "key", Code: "required", Message: "choose the consortium's key file (64 hex digits)"})
		}
	default:
		bad = append(bad, issuer.FieldError{Field: "keySource", Code: "unknown", Message: "choose a new key, or upload the consortium's key file"})
	}
	in := registry.NewDomain{ID: strings.TrimSpace(id), Name: strings.TrimSpace(name), Kind: kind, Members: []string{p.Org}, KeyFile: keyFile}
	if kind == registry.KindConsortium {
		for _, m := range strings.FieldsFunc(members, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
			if !slices.Contains(in.Members, m) {
				in.Members = append(in.Members, m)
			}
		}
	}
	if bad != nil {
		return in, &issuer.InvalidError{Fields: bad}
	}
	return in, nil
}

// addDomain adds a domain: with a fresh key, kept for one download, or
// with the key file uploaded. It returns the fresh key's file, if any.
func (s *Server) addDomain(c echo.Context, p issuer.Principal, in registry.NewDomain) (registry.Domain, []byte, error) {
	reg, err := s.registryOr404()
	if err != nil {
		return registry.Domain{}, nil, err
	}
	ctx := c.Request().Context()
	if len(in.KeyFile) > 0 {
		d, err := reg.AddDomain(ctx, in)
		clear(in.KeyFile)
		if err != nil {
			return registry.Domain{}, nil, domainsError(err)
		}
		s.log.InfoContext(ctx, "dedup domain joined", "domain", d.ID, "kind", d.Kind, "by", p.Ref())
		return d, nil, s.svc.RecordAdministration(ctx, p, audit.ActionDomainCreate, audit.ObjectDomain, d.ID)
	}
	d, file, err := reg.AddDomainWithNewKey(ctx, in)
	if err != nil {
		return registry.Domain{}, nil, domainsError(err)
	}
	s.log.InfoContext(ctx, "dedup domain added with a fresh key", "domain", d.ID, "kind", d.Kind, "by", p.Ref())
	return d, file, s.svc.RecordAdministration(ctx, p, audit.ActionDomainCreate, audit.ObjectDomain, d.ID)
}

// domainCreate adds a domain from the form, and shows the fresh key's
// one-time download.
func (s *Server) domainCreate(c echo.Context) error {
	if _, err := s.registryOr404(); err != nil {
		return err
	}
	p := mustPrincipal(c)
	form := map[string]string{}
	var keyFile []byte
	if err := c.Request().ParseMultipartForm(maxBody); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return s.renderDomains(c, http.StatusBadRequest, form, &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "key", Code: "format", Message: "send the form as multipart/form-data"}}})
	}
	for _, name := range []string{"id", "name", "kind", "members", "keySource"} {
		form[name] = c.FormValue(name)
	}
	if fh, err := c.FormFile("key"); err == nil && fh.Filename != "" {
		f, err := fh.Open()
		if err != nil {
			return err
		}
		keyFile, err = io.ReadAll(io.LimitReader(f, 4096))
		f.Close()
		if err != nil {
			return err
		}
	}
	in, ie := newDomainInput(p, form["id"], form["name"], form["kind"], form["members"], form["keySource"], keyFile)
	if ie != nil {
		clear(keyFile)
		return s.renderDomains(c, http.StatusBadRequest, form, ie)
	}
	d, file, err := s.addDomain(c, p, in)
	if errors.As(err, &ie) {
		return s.renderDomains(c, http.StatusBadRequest, form, ie)
	}
	if err != nil {
		return err
	}
	v := &domainsView{CanManage: true, Domain: &domainRow{DomainInfo: registry.DomainInfo{ID: d.ID, Name: d.Name, Kind: d.Kind, Members: d.Members, Created: d.Created}}, Joined: file == nil}
	if file != nil {
		if v.OnceID, err = s.domains.keep(d.ID, p.Org, file, s.svc.Now()); err != nil {
			clear(file)
			return err
		}
	}
	pd := s.newPage(c, "domains_created_title")
	pd.Domains = v
	return s.render(c, http.StatusCreated, "domain_created", pd)
}

// domainKeyDownload hands a fresh domain key over, once, to the
// organisation that made it.
func (s *Server) domainKeyDownload(c echo.Context) error {
	if _, err := s.registryOr404(); err != nil {
		return err
	}
	p := mustPrincipal(c)
	k, ok := s.domains.take(c.FormValue("once"), p.Org, s.svc.Now())
	if !ok {
		return fmt.Errorf("this key was downloaded already, or its 15 minutes are over: %w", issuer.ErrNotFound)
	}
	if err := s.svc.RecordAdministration(c.Request().Context(), p, audit.ActionDomainKeyDownload, audit.ObjectDomain, k.domain); err != nil {
		// Not handed over: the key waits for the next try (the only
		// copy of it that can leave the instance).
		s.domains.putBack(c.FormValue("once"), k)
		return err
	}
	defer clear(k.file)
	s.log.InfoContext(c.Request().Context(), "dedup domain key downloaded", "domain", k.domain, "by", p.Ref())
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": k.domain + ".key"}))
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", k.file)
}

// domainPage shows a domain: its members and tokens, its own list to
// download, the lists imported from peers, and the form to import one.
func (s *Server) domainPage(c echo.Context) error {
	return s.renderDomain(c, http.StatusOK, nil, nil)
}

func (s *Server) renderDomain(c echo.Context, status int, form map[string]string, ie *issuer.InvalidError) error {
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
	d := s.newPage(c, "domains_title")
	d.Title = d.T.Get("domains_domain_title", info.Name)
	p := mustPrincipal(c)
	now := s.svc.Now()
	v := &domainsView{CanManage: p.Role == issuer.RoleConsortium, Domain: &domainRow{info, ago(d.T, now, info.Created)}}
	for _, pl := range peers {
		v.Peers = append(v.Peers, peerRow{pl, ago(d.T, now, pl.Imported)})
	}
	for _, m := range info.Members {
		if m != p.Org {
			v.Choices = append(v.Choices, m)
		}
	}
	d.Domains, d.Form = v, form
	if d.Form == nil {
		d.Form = map[string]string{}
	}
	if c.QueryParam("done") == "imported" {
		d.Notice = d.T.Get("domains_imported")
	}
	if ie != nil {
		d.Message = d.T.Get("form_fix")
		d.Errors = domainFieldMessages(d.T, ie)
	}
	return s.render(c, status, "domain", d)
}

// domainExport sends the domain's own token list as CSV: tokens,
// programmes, months and counts, nothing personal.
func (s *Server) domainExport(c echo.Context) error {
	reg, err := s.registryOr404()
	if err != nil {
		return err
	}
	if _, err := s.domainOfCaller(c, reg); err != nil {
		return err
	}
	l, err := reg.Export(c.Request().Context(), c.Param("domain"))
	if err != nil {
		return domainsError(err)
	}
	s.log.InfoContext(c.Request().Context(), "token list exported", "domain", l.Domain, "rows", len(l.Rows), "by", mustPrincipal(c).Ref())
	if err := s.svc.RecordAdministration(c.Request().Context(), mustPrincipal(c), audit.ActionExport, audit.ObjectDomain, l.Domain); err != nil {
		return err
	}
	return writeCSV(c, l.Domain+"-tokens.csv", l.WriteCSV)
}

// writeCSV sends a CSV download, never cached.
func writeCSV(c echo.Context, name string, write func(io.Writer) error) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	c.Response().WriteHeader(http.StatusOK)
	return write(c.Response())
}

// readPeerUpload reads the peer list form as a stream, so that the list
// is checked as it comes, never spilled to disk: the peer's name and the
// file (registry.ParseList bounds and checks it).
func readPeerUpload(c echo.Context, domain string, form map[string]string) (registry.List, error) {
	notForm := &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "file", Code: "format", Message: "send the form as multipart/form-data, the list in the field named file"}}}
	mr, err := c.Request().MultipartReader()
	if err != nil {
		return registry.List{}, notForm
	}
	var list registry.List
	var listErr error
	gotFile := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return registry.List{}, err
		}
		if err != nil {
			return registry.List{}, notForm
		}
		switch part.FormName() {
		case "peer":
			v, err := io.ReadAll(io.LimitReader(part, 256))
			if errors.As(err, &tooLarge) {
				return registry.List{}, err
			}
			if err != nil {
				return registry.List{}, notForm
			}
			form["peer"] = strings.TrimSpace(string(v))
		case "file":
			if part.FileName() == "" {
				continue
			}
			gotFile = true
			list, listErr = registry.ParseList(part, domain)
			var ce *registry.CSVError
			if errors.As(listErr, &tooLarge) {
				return registry.List{}, listErr
			}
			if listErr != nil && !errors.As(listErr, &ce) {
				// A form cut short, or broken inside the file.
				return registry.List{}, notForm
			}
		}
		part.Close()
	}
	var bad []issuer.FieldError
	if form["peer"] == "" {
		bad = append(bad, issuer.FieldError{Field: "peer", Code: "required", Message: "choose the member agency that sent the list"})
	}
	if !gotFile {
		bad = append(bad, issuer.FieldError{Field: "file", Code: "required", Message: "choose the token list file (CSV) the member sent"})
	} else if listErr != nil {
		var ie *issuer.InvalidError
		if !errors.As(domainsError(listErr), &ie) {
			return registry.List{}, notForm
		}
		bad = append(bad, ie.Fields...)
	}
	if bad != nil {
		return registry.List{}, &issuer.InvalidError{Fields: bad}
	}
	return list, nil
}

// importPeerList stores a peer's list in place of its earlier one, all
// of it or nothing. A list cannot be imported under the viewer's own
// organisation: its tokens are the ones it compares against.
func (s *Server) importPeerList(c echo.Context, p issuer.Principal, peer string, l registry.List) error {
	if peer == p.Org {
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "peer", Code: "self", Message: "this is your own organisation: import the list another member sent"}}}
	}
	if err := s.registry.ImportPeerList(c.Request().Context(), peer, l); err != nil {
		return domainsError(err)
	}
	s.log.InfoContext(c.Request().Context(), "peer token list imported", "domain", l.Domain, "peer", peer, "rows", len(l.Rows), "by", p.Ref())
	return s.svc.RecordAdministration(c.Request().Context(), p, audit.ActionImport, audit.ObjectDomain, l.Domain)
}

// domainPeerUpload imports a peer's token list from the domain page.
func (s *Server) domainPeerUpload(c echo.Context) error {
	reg, err := s.registryOr404()
	if err != nil {
		return err
	}
	info, err := s.domainOfCaller(c, reg)
	if err != nil {
		return err
	}
	release, err := s.domains.parseSlot(c)
	if err != nil {
		return err
	}
	defer release()
	p := mustPrincipal(c)
	form := map[string]string{}
	l, err := readPeerUpload(c, info.ID, form)
	if err == nil {
		err = s.importPeerList(c, p, form["peer"], l)
	}
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		return s.renderDomain(c, http.StatusBadRequest, form, ie)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/domains/"+info.ID+"/peers/"+form["peer"]+"?done=imported")
}

// reconcile compares the domain's own list with a peer's.
func (s *Server) reconcile(c echo.Context) (*registry.Report, error) {
	reg, err := s.registryOr404()
	if err != nil {
		return nil, err
	}
	if _, err := s.domainOfCaller(c, reg); err != nil {
		return nil, err
	}
	peer := c.Param("peer")
	r, err := reg.ReconcileWithPeer(c.Request().Context(), c.Param("domain"), selfName(mustPrincipal(c), peer), peer)
	if err != nil {
		var ie *registry.InputError
		if errors.As(err, &ie) {
			// A peer in the path that cannot be one has no list.
			return nil, fmt.Errorf("no list from this peer: %w", issuer.ErrNotFound)
		}
		return nil, domainsError(err)
	}
	return r, nil
}

// chartLabelsOf are the chart's words in the page's language.
func chartLabelsOf(m *Messages) registry.ChartLabels {
	return registry.ChartLabels{
		Title: m.Get("registry_chart_title"), Summary: m.Get("registry_chart_summary"), Bar: m.Get("registry_chart_bar"),
		Value: m.Get("registry_chart_value"), Empty: m.Get("registry_chart_empty"), More: m.Get("registry_chart_more"),
		NoProgramme: m.Get("registry_chart_no_programme"), RTL: m.Dir() == "rtl",
	}
}

// domainReportPage shows the reconciliation with a peer: the chart
// (SVG, drawn here), the table, and the CSV to download. Counts only.
func (s *Server) domainReportPage(c echo.Context) error {
	r, err := s.reconcile(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	info, err := s.registry.DomainInfo(ctx, r.Domain)
	if err != nil {
		return domainsError(err)
	}
	peers, err := s.registry.PeerLists(ctx, r.Domain)
	if err != nil {
		return domainsError(err)
	}
	d := s.newPage(c, "domains_report_title")
	d.Title = d.T.Get("domains_report_title", r.B, info.Name)
	now := s.svc.Now()
	v := &domainsView{CanManage: mustPrincipal(c).Role == issuer.RoleConsortium, Domain: &domainRow{info, ago(d.T, now, info.Created)}, Report: r}
	for _, pl := range peers {
		if pl.Peer == r.B {
			v.Peer = &peerRow{pl, ago(d.T, now, pl.Imported)}
		}
	}
	// The SVG is drawn by registry.Report.SVG, which escapes every text.
	v.Chart = template.HTML(r.SVG(chartLabelsOf(d.T)))
	d.Domains = v
	if c.QueryParam("done") == "imported" {
		d.Notice = d.T.Get("domains_imported")
	}
	return s.render(c, http.StatusOK, "domain_report", d)
}

// domainReportCSV sends the reconciliation as CSV.
func (s *Server) domainReportCSV(c echo.Context) error {
	r, err := s.reconcile(c)
	if err != nil {
		return err
	}
	return writeCSV(c, r.Domain+"-"+r.B+"-reconciliation.csv", r.WriteCSV)
}
