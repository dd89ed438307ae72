package http

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/bulk"
)

// maxUpload is the largest body of an import's upload: the file and the
// form around it.
const maxUpload = issuer.MaxImportBytes + 1<<20

// isUpload tells whether a request is an import's upload, whose body may
// be larger than maxBody.
func isUpload(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && (strings.HasSuffix(c.Path(), "/imports") ||
		strings.HasSuffix(c.Path(), "/trust/lists")) // trust: a trust list upload
}

// maxFailuresShown bounds the refused rows a page or the API lists.
const maxFailuresShown = 500

// importForm reads an import's multipart form: the file, the programme
// and the consent declared for the whole file.
func importForm(c echo.Context, form map[string]string) (issuer.ImportInput, []byte, error) {
	// The whole body (at most maxUpload bytes, see headers) is kept in
	// memory: with net/http's default of 32 MB, a file part a little
	// larger would be written to a temporary file, personal data in clear
	// on disk, left behind if the process is killed.
	if err := c.Request().ParseMultipartForm(maxUpload); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return issuer.ImportInput{}, nil, err
		}
		return issuer.ImportInput{}, nil, &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "file", Code: "format", Message: "send the file as multipart/form-data, in the field named file"}}}
	}
	for _, name := range []string{"programme", "consent.given", "consent.method", "consent.language", "consent.date", "consent.staffId", "dryRun", "dateOrder"} {
		form[name] = c.FormValue(name)
	}
	in := issuer.ImportInput{Programme: form["programme"], Consent: issuer.ConsentInput{
		Given: form["consent.given"] == "yes" || form["consent.given"] == "true", Method: issuer.ConsentMethod(form["consent.method"]),
		Language: form["consent.language"], Date: form["consent.date"], StaffID: form["consent.staffId"]},
		DryRun: form["dryRun"] == "true" || form["dryRun"] == "yes"}
	switch form["dateOrder"] {
	case "day-first":
		in.DateOrder = bulk.DayFirst
	case "month-first":
		in.DateOrder = bulk.MonthFirst
	}
	fh, err := c.FormFile("file")
	if errors.Is(err, http.ErrMissingFile) {
		return in, nil, nil
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return in, nil, err
	}
	if err != nil {
		return in, nil, &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "file", Code: "format", Message: "send the file as multipart/form-data, in the field named file"}}}
	}
	in.FileName = fh.Filename
	f, err := fh.Open()
	if err != nil {
		return in, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, issuer.MaxImportBytes+1))
	return in, data, err
}

// importsPage lists the organisation's imports, with the upload form.
func (s *Server) importsPage(c echo.Context) error {
	return s.renderImports(c, http.StatusOK, nil, nil)
}

func (s *Server) renderImports(c echo.Context, status int, form map[string]string, ie *issuer.InvalidError) error {
	if s.imports == nil {
		return issuer.ErrNotFound
	}
	d := s.newPage(c, "imports_title")
	if d.Org == nil {
		return issuer.ErrNotFound
	}
	ctx := c.Request().Context()
	jobs, err := s.imports.Jobs(ctx, d.Org.Slug)
	if err != nil {
		return err
	}
	progs, err := s.svc.Programmes(ctx, d.Org.Slug)
	if err != nil {
		return err
	}
	d.Imports, d.Programmes, d.Methods = jobs, progs, issuer.ConsentMethods()
	d.CanRegister = canRegister(mustPrincipal(c).Role)
	d.Form = form
	if d.Form == nil {
		d.Form = map[string]string{"consent.date": time.Now().UTC().Format(time.DateOnly)}
	}
	if ie != nil {
		d.Message = d.T.Get("form_fix")
		d.Errors = fieldMessages(d.T, ie)
		if f, ok := ie.Field("file"); ok && f.Code == "format" {
			// The file's problems name lines and columns, never values.
			d.Errors["file"] = f.Message
		}
	}
	return s.render(c, status, "imports", d)
}

// importUpload checks an uploaded file (the dry run) and keeps it, sealed,
// for the import the job page starts.
func (s *Server) importUpload(c echo.Context) error {
	if s.imports == nil {
		return issuer.ErrNotFound
	}
	p := mustPrincipal(c)
	form := map[string]string{}
	in, file, err := importForm(c, form)
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		return s.renderImports(c, http.StatusBadRequest, form, ie)
	}
	if err != nil {
		return err
	}
	in.DryRun = false
	job, _, existing, err := s.imports.Check(c.Request().Context(), p, p.Org, in, file)
	if errors.As(err, &ie) {
		return s.renderImports(c, http.StatusBadRequest, form, ie)
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "import checked", "import", job.ID, "org", p.Org, "by", p.Ref(), "rows", job.Rows)
	to := "/issuer/imports/" + job.ID
	if existing {
		to += "?done=existing"
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// importPage shows one import: the dry run's report and the button that
// starts it; its live progress (a meta refresh every 2 s, and a script
// that polls the API); its outcome and the link to its cards.
func (s *Server) importPage(c echo.Context) error {
	p := mustPrincipal(c)
	ctx := c.Request().Context()
	job, err := s.importOf(c)
	if err != nil {
		return err
	}
	d := s.newPage(c, "import_title")
	d.Import, d.CanRegister = &job, canRegister(p.Role)
	switch job.State {
	case issuer.ImportChecked:
		d.ImportProblems = job.Problems
	case issuer.ImportRunning:
		d.Refresh, d.Script = 2, "/static/import.js"
	}
	if job.State != issuer.ImportChecked {
		if d.ImportProblems, err = s.imports.Failures(ctx, p.Org, job.ID, maxFailuresShown); err != nil {
			return err
		}
	}
	if c.QueryParam("done") == "existing" {
		d.Notice = d.T.Get("import_existing")
	}
	return s.render(c, http.StatusOK, "import", d)
}

// importOf is the caller's organisation's import the route's :id names.
func (s *Server) importOf(c echo.Context) (issuer.ImportJob, error) {
	if s.imports == nil {
		return issuer.ImportJob{}, issuer.ErrNotFound
	}
	return s.imports.Job(c.Request().Context(), mustPrincipal(c).Org, c.Param("id"))
}

// importStart starts a checked import, in the background.
func (s *Server) importStart(c echo.Context) error {
	if s.imports == nil {
		return issuer.ErrNotFound
	}
	p := mustPrincipal(c)
	job, err := s.imports.Start(c.Request().Context(), p, p.Org, c.Param("id"))
	if err != nil {
		return err
	}
	if job.State == issuer.ImportRunning {
		s.imports.Go(job.Org, job.ID)
	}
	s.log.InfoContext(c.Request().Context(), "import started", "import", job.ID, "org", p.Org, "by", p.Ref())
	return c.Redirect(http.StatusSeeOther, "/issuer/imports/"+job.ID)
}

// importCards streams the PDF of a done import's cards: A4 sheets, each
// card signed again, nothing kept.
func (s *Server) importCards(c echo.Context) error {
	p := mustPrincipal(c)
	ctx := c.Request().Context()
	job, err := s.importOf(c)
	if err != nil {
		return err
	}
	if job.State != issuer.ImportDone || job.Issued == 0 {
		// No cards yet, or none at all.
		return issuer.ErrNotFound
	}
	// Thousands of cards take longer than the server's write timeout.
	_ = http.NewResponseController(c.Response().Writer).SetWriteDeadline(time.Now().Add(10 * time.Minute))
	printer, err := s.printer()
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="cards-`+job.ID+`.pdf"`)
	c.Response().WriteHeader(http.StatusOK)
	n, err := printer.WriteImportCards(ctx, c.Response(), s.imports, p.Org, job.ID)
	if err != nil {
		// The response has started: the error can only be logged, and the
		// PDF is left without its end, which readers refuse.
		s.log.ErrorContext(ctx, "import cards", "import", job.ID, "org", p.Org, "cards", n, logError, err.Error())
	}
	return nil
}

// apiImportBody is an import as the API shows it.
type apiImportBody struct {
	Import issuer.ImportJob `json:"import"`
	// Percent is how far it has gone.
	Percent int `json:"percent"`
	// Failures are the refused rows' problems (the dry run's, for a dry
	// run or a job not yet started), the first 500.
	Failures []issuer.ImportProblem `json:"failures"`
	// Existing says the same file was imported before: this is its job.
	Existing bool `json:"existing,omitempty"`
}

// apiImportCreate checks a file (dryRun=true: nothing stored), or checks,
// keeps and starts it: 202 with the job, whose progress GET shows.
func (s *Server) apiImportCreate(c echo.Context) error {
	if s.imports == nil {
		return issuer.ErrNotFound
	}
	p := mustPrincipal(c)
	ctx := c.Request().Context()
	in, file, err := importForm(c, map[string]string{})
	if err != nil {
		return err
	}
	job, _, existing, err := s.imports.Check(ctx, p, p.Org, in, file)
	if err != nil {
		return err
	}
	if in.DryRun {
		return c.JSON(http.StatusOK, apiImportBody{Import: job, Failures: nonNil(job.Problems), Existing: existing})
	}
	if job, err = s.imports.Start(ctx, p, p.Org, job.ID); err != nil {
		return err
	}
	if job.State == issuer.ImportRunning {
		s.imports.Go(job.Org, job.ID)
	}
	status := http.StatusAccepted
	if existing {
		status = http.StatusOK
	}
	return c.JSON(status, apiImportBody{Import: job, Percent: job.Percent(), Failures: []issuer.ImportProblem{}, Existing: existing})
}

// apiImport is one import's progress.
func (s *Server) apiImport(c echo.Context) error {
	p := mustPrincipal(c)
	ctx := c.Request().Context()
	job, err := s.importOf(c)
	if err != nil {
		return err
	}
	fails := job.Problems
	if job.State != issuer.ImportChecked {
		if fails, err = s.imports.Failures(ctx, p.Org, job.ID, maxFailuresShown); err != nil {
			return err
		}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, apiImportBody{Import: job, Percent: job.Percent(), Failures: nonNil(fails)})
}

func nonNil(p []issuer.ImportProblem) []issuer.ImportProblem {
	if p == nil {
		return []issuer.ImportProblem{}
	}
	return p
}
