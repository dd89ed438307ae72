package http

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
)

// pages are the page templates, each with the layout and the parts. All
// are parsed once at start, so that a broken template stops the start; a
// page is then kept parsed from its first use, so that a service that
// never shows a page does not hold it in memory (the verifier service
// alone shows a few of them).
type pages struct {
	files fs.FS
	// base is the layout with the parts, parsed once at start and again
	// at the first page shown; a page is a clone of it with its body.
	base *template.Template
	// names are the page templates' names.
	names map[string]bool

	mu     sync.Mutex
	byName map[string]*template.Template
}

func loadPages(files fs.FS) (*pages, error) {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{files: files, names: map[string]bool{}, byName: map[string]*template.Template{}}
	for _, name := range names {
		if base := strings.TrimSuffix(path.Base(name), ".html"); base != "layout" && !strings.HasPrefix(base, "_") {
			p.names[base] = true
		}
	}
	for name := range p.names {
		if _, err := p.parse(name); err != nil {
			return nil, err
		}
	}
	// Checked; the base is parsed again at the first page shown, so that
	// a service that shows none does not hold it.
	p.base = nil
	return p, nil
}

// parseBase parses the layout and the parts (files named _*.html).
func (p *pages) parseBase() (*template.Template, error) {
	layout, err := fs.ReadFile(p.files, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	t, err := template.New("layout").Option("missingkey=zero").Funcs(templateFuncs).Parse(string(layout))
	if err != nil {
		return nil, fmt.Errorf("layout.html: %w", err)
	}
	parts, err := fs.Glob(p.files, "templates/_*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range parts {
		part, err := fs.ReadFile(p.files, name)
		if err != nil {
			return nil, err
		}
		if _, err := t.Parse(string(part)); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return t, nil
}

// parse parses page name's body, read from the embedded files (kept
// there, not in memory, until a page is used), on a clone of the layout
// with the parts. Its caller holds p.mu, or has p to itself.
func (p *pages) parse(name string) (*template.Template, error) {
	if p.base == nil {
		base, err := p.parseBase()
		if err != nil {
			return nil, err
		}
		p.base = base
	}
	body, err := fs.ReadFile(p.files, "templates/"+name+".html")
	if err != nil {
		return nil, err
	}
	t, err := p.base.Clone()
	if err != nil {
		return nil, err
	}
	if _, err := t.Parse(string(body)); err != nil {
		return nil, fmt.Errorf("templates/%s.html: %w", name, err)
	}
	return t, nil
}

// page returns page name, parsed on its first use.
func (p *pages) page(name string) (*template.Template, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.byName[name]; ok {
		return t, nil
	}
	if !p.names[name] {
		return nil, fmt.Errorf("no page template %q", name)
	}
	t, err := p.parse(name)
	if err != nil {
		return nil, err
	}
	p.byName[name] = t
	return t, nil
}

// templateFuncs are the functions templates may call.
var templateFuncs = template.FuncMap{
	"join": strings.Join,
	// field returns "" or the error of a form field, so that templates can
	// say {{with field $ "name"}}.
	"field": func(d *pageData, name string) string { return d.Errors[name] },
	// scanner gives the camera scanner (_scan.html) its frame route, its
	// text field, whether it sends the form, and its start button's words.
	"scanner": func(d *pageData, url, target string, submit bool, startKey string) scanView {
		return scanView{T: d.T, URL: url, Target: target, Submit: submit, StartKey: startKey}
	},
}

// scanView is what the camera scanner of a page is given.
type scanView struct {
	T           *Messages
	URL, Target string
	Submit      bool
	StartKey    string
}

// pageData is what every page template gets.
type pageData struct {
	T         *Messages
	Lang, Dir string
	Languages []Language
	Title     string
	// Who is the signed-in staff member or token, if any.
	Who *issuer.Principal
	// Org is the principal's organisation, if any.
	Org *issuer.Organisation
	// Message is a notice or an error above a form.
	Message string
	// Form holds the values a form was sent with, to show them again;
	// Errors each field's problem, in words.
	Form   map[string]string
	Errors map[string]string
	// Next is where the sign-in form goes after signing in.
	Next string

	// Notice says what a change just did (?done=...).
	Notice string

	Staff    []issuer.Staff
	Roles    []issuer.Role
	Created  *issuer.Staff
	Password string

	Programmes      []issuer.Programme
	Programme       *issuer.Programme
	CredentialTypes []credentials.Type

	// Registration is the registration shown; StaffNames names the staff
	// by id; CanRegister says the viewer may correct and link.
	Registration *issuer.Registration
	StaffNames   map[string]string
	CanRegister  bool
	// Matches are a search's results, or the likely duplicates of a
	// person being registered; Searched says a search was made.
	Matches  []issuer.Match
	Searched bool
	Methods  []issuer.ConsentMethod
	Genders  []string

	// Credentials are a registration's issued credentials; Credential is
	// the one shown, with its card's QR image (CardImage, a data: URL) or
	// its text (CredentialText). CanRevoke says the viewer may revoke.
	Credentials    []issuer.CredentialRecord
	Credential     *issuer.CredentialRecord
	CardImage      template.URL
	CredentialText string
	CanRevoke      bool

	// Offer is an OpenID4VCI offer just made (oid4vci.go).
	Offer *offerView
	// keys: an organisation's signing keys, and the key a page is about.
	Keys []issuer.KeyInfo
	Key  *issuer.KeyInfo
	// --- retention ---
	// CanErase says the viewer may erase a registration on request.
	CanErase bool
	// AuditEntries are a page of the audit log; Audit its filters and
	// the chain's verification.
	AuditEntries []audit.Entry
	Audit        *auditView
	// ReferralForm holds the referral form's values sent (checked fields
	// as "field:NAME"); ReferralFields, ReferralMethods and Urgencies are
	// its choices.
	ReferralForm    map[string]string
	ReferralFields  []string
	ReferralMethods []string
	Urgencies       []string
	// DataKeyVersions are the organisation's data key versions kept, the
	// current one last.
	DataKeyVersions []int
	// Bulk imports: the list, the one shown, its problems (the dry run's,
	// or its refused rows'); Refresh reloads a running one's page every so
	// many seconds, and Script is the page's script, if any.
	Imports        []issuer.ImportJob
	Import         *issuer.ImportJob
	ImportProblems []issuer.ImportProblem
	Refresh        int
	Script         string
	// Issuing and Verifying say which services this server runs (the
	// menu links only to pages it serves).
	Issuing, Verifying bool
	// Holding says this server runs the wallet (the sign-in page points
	// beneficiaries to it).
	Holding bool
	// --- domains (issue 7): the dedup registry's pages ---
	Domains *domainsView
	// VP is an OpenID4VP presentation request (oid4vp.go).
	VP *vpPage
	// Referrals is what the referral pages show (issue 7, referrals.go).
	Referrals *referralsView
	// --- trust (issue 7): the verifier's trust lists and caches ---
	Trust *trustView
	// --- end trust ---
	// --- desk (issue 7): the scanning, answer and settings pages.
	Desk *deskView
	// --- end desk
	// Wallet is set on the web wallet's pages (wallet_pages.go): they
	// have the wallet's header, not the staff menu.
	Wallet *walletView
}

// Reasons says in words why a registration was found.
func (d *pageData) Reasons(m issuer.Match) []string {
	out := make([]string, len(m.Reasons))
	for i, r := range m.Reasons {
		if r == issuer.ReasonSimilarName {
			out[i] = d.T.Get("reason_similar-name", m.SharedParts, m.OfParts)
		} else {
			out[i] = d.T.Get("reason_" + string(r))
		}
	}
	return out
}

// StaffName names who did something, from a record's reference (a staff
// member's id, or token: and an API token's id).
func (d *pageData) StaffName(ref string) string {
	if name, ok := d.StaffNames[ref]; ok {
		return name
	}
	if strings.HasPrefix(ref, "token:") {
		return d.T.Get("by_token")
	}
	if strings.HasPrefix(ref, "system:") {
		return d.T.Get("by_system")
	}
	return ref
}

// newPage starts a page's data for a request: its language, and who is
// signed in.
func (s *Server) newPage(c echo.Context, titleKey string) *pageData {
	m := s.cat.pick(c.Request())
	if lang := c.QueryParam("lang"); lang == m.Lang() {
		c.SetCookie(&http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, Secure: s.secure})
	}
	d := &pageData{T: m, Lang: m.Lang(), Dir: m.Dir(), Languages: s.cat.list, Title: m.Get(titleKey),
		Issuing: s.parts&PartIssuer != 0, Verifying: s.parts&PartVerifier != 0 && s.trust != nil,
		Holding: s.parts&PartWallet != 0 && s.holders != nil}
	if p, ok := principalOf(c); ok {
		d.Who = &p
		if org, err := s.svc.Organisation(c.Request().Context(), p.Org); err == nil {
			d.Org = &org
		}
	}
	return d
}

// render writes a page. Pages for signed-in staff are never cached.
func (s *Server) render(c echo.Context, status int, name string, d *pageData) error {
	t, err := s.pages.page(name)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, d); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// renderError shows an error page.
func (s *Server) renderError(c echo.Context, status int, msg string) error {
	d := s.newPage(c, "err_title")
	d.Message = msg
	return s.render(c, status, "error", d)
}

// fieldMessages turns an InvalidError into each field's message, in the
// page's language: field_FIELD_CODE if the catalogue has it, else the
// general field_CODE.
func fieldMessages(m *Messages, ie *issuer.InvalidError) map[string]string {
	out := map[string]string{}
	for _, f := range ie.Fields {
		key := "field_" + f.Field + "_" + f.Code
		if msg := m.Get(key); msg != key {
			out[f.Field] = msg
		} else {
			out[f.Field] = m.Get("field_" + f.Code)
		}
	}
	return out
}
