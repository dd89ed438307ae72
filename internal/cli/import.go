package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/internal/config"
	"github.com/tally-id/tally/internal/pdf"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
	"github.com/tally-id/tally/issuer/bulk"
)

// importer builds the bulk importer over an open database: its own issuer
// service on the database's Batched stores (the rows' changes share
// transactions) and the audit log's one chain.
func importer(db *bolt.DB, opts issuer.Options) (*issuer.Importer, error) {
	auditStore, err := bolt.NewAuditStore(db.Bolt())
	if err != nil {
		return nil, err
	}
	opts.Audit = audit.NewLog(auditStore.Batched(), audit.Options{Now: opts.Now, Programmes: db})
	opts.OnCorrected = nil
	svc, err := issuer.New(db.Batched().Stores(), opts)
	if err != nil {
		return nil, err
	}
	store, err := bolt.NewImportStore(db)
	if err != nil {
		return nil, err
	}
	return issuer.NewImporter(svc, store, issuer.ImporterOptions{}), nil
}

// issuerImport is tally issuer import: the bulk import of a spreadsheet,
// on the data directory directly, with a progress bar.
func issuerImport(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "issuer import", "FILE.csv|FILE.xlsx [--dry-run] [--pdf OUT.pdf] [--programme CODE] [--org SLUG] [--data DIR] --consent-staff USERNAME --consent-method verbal|written|guardian --consent-language TAG [--consent-date YYYY-MM-DD] --consent-given")
	dryRun := fs.Bool("dry-run", false, "check the file and list every bad row; register and issue nothing")
	pdfOut := fs.String("pdf", "", "write the cards of the import to this PDF (A4 sheets), once it is done")
	programme := fs.String("programme", "", "the programme to register people for (default: the organisation's only one)")
	org := fs.String("org", "", "the organisation's slug (default: the only one)")
	staff := fs.String("consent-staff", "", "the user name of the registrar or supervisor who took the consent in the field, and runs the import")
	method := fs.String("consent-method", "", "how consent was given: verbal, written or guardian")
	lang := fs.String("consent-language", "", "the language the purpose was explained in (BCP 47, like so or ar)")
	date := fs.String("consent-date", "", "the day consent was taken, YYYY-MM-DD (default: today)")
	given := fs.Bool("consent-given", false, "declare that every person in the file heard the programme's purpose and consented")
	dayFirst := fs.Bool("day-first", false, "read dates like 03/04/1991 as day first")
	monthFirst := fs.Bool("month-first", false, "read dates like 03/04/1991 as month first")
	loader := config.NewLoader(fs, "data")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("give one CSV or Excel file to import")
	}
	if *dayFirst && *monthFirst {
		return usagef("--day-first and --month-first cannot both be given")
	}
	if *staff == "" && !*dryRun {
		return usagef("--consent-staff is required: the registrar or supervisor who took the consent")
	}
	cfg, err := loader.Load(env.Getenv, os.ReadFile)
	if err != nil {
		return &usageError{err.Error()}
	}
	file, err := os.ReadFile(rest[0])
	if err != nil {
		return err
	}
	if int64(len(file)) > issuer.MaxImportBytes {
		return fmt.Errorf("%s is larger than %d MB: split it into smaller files", rest[0], issuer.MaxImportBytes>>20)
	}
	master, err := os.ReadFile(cfg.MasterKeyPath())
	if err != nil {
		return fmt.Errorf("read the master key %s: %w (the import seals what it keeps with the organisation's keys)", cfg.MasterKeyPath(), err)
	}
	db, err := bolt.Open(cfg.DatabasePath())
	if errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("%w: stop tally serve, or import the file on its page /issuer/imports", err)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	baseURL := strings.TrimSuffix(cfg.BaseURL, "/")
	if baseURL == "" {
		scheme := "http"
		if cfg.TLS() {
			scheme = "https"
		}
		baseURL = scheme + "://" + cfg.Addr
	}
	im, err := importer(db, issuer.Options{MasterKey: []byte(strings.TrimRight(string(master), "\r\n")), Now: env.Now, ScryptN: env.ScryptN, BaseURL: baseURL})
	if err != nil {
		return err
	}
	defer im.Close()

	slug, err := onlyOrg(ctx, db, *org, cfg.DatabasePath())
	if err != nil {
		return err
	}
	by := issuer.Principal{Org: slug, System: "cli-import"}
	if *staff != "" {
		st, err := db.StaffByUsername(ctx, issuer.NormaliseUsername(*staff))
		if err != nil || st.Org != slug || st.Disabled || (st.Role != issuer.RoleRegistrar && st.Role != issuer.RoleSupervisor) {
			return usagef("--consent-staff: %q is not a registrar or supervisor of %s", *staff, slug)
		}
		by = issuer.Principal{Org: slug, Role: st.Role, StaffID: st.ID}
	}
	code := *programme
	if code == "" {
		progs, err := db.Programmes(ctx, slug)
		if err != nil {
			return err
		}
		if len(progs) != 1 {
			return usagef("choose the programme with --programme (%s has %d)", slug, len(progs))
		}
		code = progs[0].Code
	}
	in := issuer.ImportInput{Programme: code, FileName: filepath.Base(rest[0]), DryRun: *dryRun,
		Consent: issuer.ConsentInput{Given: *given || *dryRun, Method: issuer.ConsentMethod(*method), Language: *lang, Date: *date}}
	if *dryRun && in.Consent.Method == "" {
		in.Consent.Method, in.Consent.Language = issuer.ConsentVerbal, "en"
	}
	switch {
	case *dayFirst:
		in.DateOrder = bulk.DayFirst
	case *monthFirst:
		in.DateOrder = bulk.MonthFirst
	}
	job, rep, existing, err := im.Check(ctx, by, slug, in, file)
	var ie *issuer.InvalidError
	if errors.As(err, &ie) {
		for _, f := range ie.Fields {
			fmt.Fprintf(env.Stderr, "tally issuer import: %s: %s\n", importFlagOf(f.Field), f.Message)
		}
		return &invalidError{err}
	}
	if err != nil {
		return err
	}
	if *dryRun {
		rep.WriteTo(env.Stdout)
		fmt.Fprintf(env.Stdout, "Dry run: nothing was registered or issued. Without --dry-run, %d credentials would be issued.\n", rep.Good)
		return nil
	}
	if existing {
		fmt.Fprintf(env.Stderr, "tally: this file was imported before (import %s, %s): going on with it\n", job.ID, job.State)
	}
	if job, err = im.Start(ctx, by, slug, job.ID); err != nil {
		return err
	}
	progress, finish := progressOf(env, job.Rows)
	job, err = im.Run(ctx, slug, job.ID, progress)
	finish()
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(env.Stderr, "tally: stopped after %d of %d rows: run the same command again to go on where it stopped\n", job.Done, job.Rows)
			return &invalidError{err}
		}
		return fmt.Errorf("import %s stopped: %w", job.ID, err)
	}
	fmt.Fprintf(env.Stdout, "import %s: %d rows: %d credentials issued, %d rows refused\n", job.ID, job.Rows, job.Issued, job.Failed)
	fails, err := im.Failures(ctx, slug, job.ID, 50)
	if err != nil {
		return err
	}
	for _, f := range fails {
		fmt.Fprintf(env.Stdout, "  %s\n", f.Message)
	}
	if job.Failed > len(fails) {
		fmt.Fprintf(env.Stdout, "  ... and more: see the import's page\n")
	}
	if *pdfOut != "" {
		n, err := writeCardsPDF(ctx, im, slug, job.ID, *pdfOut)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%d cards written to %s\n", n, *pdfOut)
	}
	return nil
}

// importFlagOf names the flag of an input field, for errors.
func importFlagOf(field string) string {
	switch field {
	case "programme":
		return "--programme"
	case "consent.given":
		return "--consent-given"
	case "consent.method":
		return "--consent-method"
	case "consent.language":
		return "--consent-language"
	case "consent.date":
		return "--consent-date"
	case "consent.staffId":
		return "--consent-staff"
	}
	return field
}

// onlyOrg is the organisation given, or the instance's only one.
func onlyOrg(ctx context.Context, db *bolt.DB, slug, path string) (string, error) {
	orgs, err := db.Organisations(ctx)
	if err != nil {
		return "", err
	}
	var names []string
	for _, o := range orgs {
		if o.Slug == slug {
			return slug, nil
		}
		names = append(names, o.Slug)
	}
	switch {
	case slug != "":
		return "", usagef("no organisation %q in %s", slug, path)
	case len(orgs) == 0:
		return "", fmt.Errorf("%s has no organisation yet: run tally serve once first", path)
	case len(orgs) > 1:
		return "", usagef("this instance has several organisations: choose one with --org (%s)", strings.Join(names, ", "))
	}
	return orgs[0].Slug, nil
}

// progressOf shows a job's progress on stderr: a bar on a terminal, else
// a line a second (for logs and scripts: "imported 120 of 400 rows").
func progressOf(env Env, total int) (func(issuer.ImportJob), func()) {
	if f, ok := env.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetDescription("importing"),
			progressbar.OptionShowCount(), progressbar.OptionSetItsString("rows"), progressbar.OptionShowIts(),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionFullWidth(), progressbar.OptionClearOnFinish())
		return func(j issuer.ImportJob) { bar.Set(j.Done) }, func() { bar.Finish() }
	}
	var last time.Time
	return func(j issuer.ImportJob) {
		if time.Since(last) >= time.Second || j.Done == j.Rows {
			last = time.Now()
			fmt.Fprintf(env.Stderr, "imported %d of %d rows\n", j.Done, j.Rows)
		}
	}, func() {}
}

// writeCardsPDF writes the cards to path, readable by its owner only (they
// are personal data), through a temporary file.
func writeCardsPDF(ctx context.Context, im *issuer.Importer, org, id, path string) (int, error) {
	p, err := pdf.NewPrinter()
	if err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tally-cards-*.pdf")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return 0, err
	}
	n, err := p.WriteImportCards(ctx, tmp, im, org, id)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	return n, os.Rename(tmp.Name(), path)
}
