package issuer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer/audit"
	"github.com/tally-id/tally/issuer/bulk"
)

// ImportState is where an import job stands.
type ImportState string

// The states of an import job: checked (the dry run was shown, nothing is
// issued), running (rows are being registered and issued; a job found
// running at start is resumed), done (every row handled, the uploaded file
// deleted), failed (it stopped for a reason of its own, like a key that
// does not open; starting it again goes on where it stopped).
const (
	ImportChecked ImportState = "checked"
	ImportRunning ImportState = "running"
	ImportDone    ImportState = "done"
	ImportFailed  ImportState = "failed"
)

// MaxImportBytes is the largest file an import takes.
const MaxImportBytes = bulk.DefaultMaxFileBytes

// maxStoredProblems caps the dry-run problems kept in a job's record.
const maxStoredProblems = 1000

// ImportActor is who started an import, by id only: a staff member, an
// API token, or tally itself.
type ImportActor struct {
	StaffID string `json:"staffId,omitempty"`
	TokenID string `json:"tokenId,omitempty"`
	System  string `json:"system,omitempty"`
}

func (a ImportActor) principal(org string) Principal {
	return Principal{Org: org, StaffID: a.StaffID, TokenID: a.TokenID, System: a.System}
}

// ImportJob is one spreadsheet imported into one programme: registering
// each good row with the consent the starter declared for the whole file,
// and issuing its credential. Its id is derived from the organisation and
// the file's SHA-256, so the same file again is the same job. It holds no
// personal data: counts, and problems that name lines and columns only.
type ImportJob struct {
	ID        string             `json:"id"`
	Org       string             `json:"org"`
	Programme string             `json:"programme"`
	Type      credentials.Type   `json:"type"`
	Format    credentials.Format `json:"format"`
	// FileName is the uploaded file's base name, as given; FileSHA256 its
	// hash (hex), FileBytes its size, FileFormat csv or xlsx.
	FileName   string `json:"fileName,omitempty"`
	FileSHA256 string `json:"fileSha256"`
	FileBytes  int64  `json:"fileBytes"`
	FileFormat string `json:"fileFormat"`
	// Encoding and DateOrder are how the file is read, the same on every
	// run.
	Encoding  bulk.Encoding  `json:"encoding,omitempty"`
	DateOrder bulk.DateOrder `json:"dateOrder,omitempty"`
	// Consent is the consent the starter declared for every row: how it
	// was taken in the field, in which language, on which day, by whom.
	Consent   ImportConsent `json:"consent"`
	StartedBy ImportActor   `json:"startedBy"`
	State     ImportState   `json:"state"`
	Created   time.Time     `json:"created"`
	Started   time.Time     `json:"started,omitzero"`
	Finished  time.Time     `json:"finished,omitzero"`
	// Rows, Good and Bad are the dry run's counts.
	Rows int `json:"rows"`
	Good int `json:"good"`
	Bad  int `json:"bad"`
	// Done counts the rows handled so far, Issued those with a credential,
	// Failed those refused (bad rows, likely duplicates, refused values).
	Done   int `json:"done"`
	Issued int `json:"issued"`
	Failed int `json:"failed"`
	// Problems are the dry run's, the first thousand.
	Problems []ImportProblem `json:"problems,omitempty"`
	// Error says why a failed job stopped.
	Error string `json:"error,omitempty"`
}

// ImportConsent is the consent declared for a whole file.
type ImportConsent struct {
	Method   ConsentMethod `json:"method"`
	Language string        `json:"language"`
	Date     string        `json:"date"`
	StaffID  string        `json:"staffId"`
}

// Percent is how far the job has gone, 0 to 100.
func (j ImportJob) Percent() int {
	if j.Rows == 0 {
		if j.State == ImportDone {
			return 100
		}
		return 0
	}
	return 100 * j.Done / j.Rows
}

// ImportOutcome is what became of one row.
type ImportOutcome string

// The outcomes of a row.
const (
	RowIssued ImportOutcome = "issued"
	RowFailed ImportOutcome = "failed"
)

// ImportRow is what an import did with one row: the registration and
// credential it made, or why it refused the row.
type ImportRow struct {
	Line         int             `json:"line"`
	Outcome      ImportOutcome   `json:"outcome"`
	Registration string          `json:"registration,omitempty"`
	Credential   string          `json:"credential,omitempty"`
	Problems     []ImportProblem `json:"problems,omitempty"`
}

// ImportProblem is one problem of a row, without any value from it.
type ImportProblem struct {
	Line int `json:"line"`
	// Column is the column's letter and header, like `E ("Date of
	// birth")`, or empty.
	Column string `json:"column,omitempty"`
	// Code is a stable name: bulk's reasons (date-ambiguous, ...), or
	// likely-duplicate, invalid.
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ImportStore keeps import jobs, their rows' outcomes and, until a job is
// done, its sealed file.
type ImportStore interface {
	// CreateImport stores a new job and its sealed file; ErrConflict if
	// the id is taken.
	CreateImport(ctx context.Context, job ImportJob, sealedFile []byte) error
	// Import returns one job, or ErrNotFound.
	Import(ctx context.Context, org, id string) (ImportJob, error)
	// Imports lists an organisation's jobs, newest first.
	Imports(ctx context.Context, org string) ([]ImportJob, error)
	// RunningImports lists every organisation's running jobs.
	RunningImports(ctx context.Context) ([]ImportJob, error)
	// UpdateImport replaces a job's record.
	UpdateImport(ctx context.Context, job ImportJob) error
	// SaveImportRows stores rows' outcomes and the job's record in one
	// step; with the job done, its file is deleted in the same step.
	SaveImportRows(ctx context.Context, job ImportJob, rows []ImportRow) error
	// ImportRows calls fn with each stored row of a job, by line.
	ImportRows(ctx context.Context, org, id string, fn func(ImportRow) error) error
	// ImportFile returns a job's sealed file, or ErrNotFound once deleted.
	ImportFile(ctx context.Context, org, id string) ([]byte, error)
	// ReplaceImportFile replaces the sealed file of a job not done;
	// ErrNotFound if there is no such job, or it is done.
	ReplaceImportFile(ctx context.Context, org, id string, sealedFile []byte) error
	// DeleteImportFile deletes the sealed file of a job that is checked
	// or failed; ErrNotFound if it has none, ErrStateChange if it runs.
	DeleteImportFile(ctx context.Context, org, id string) error
}

// Importer runs bulk imports: the dry run, then registering and issuing
// every good row, idempotently and resumably.
type Importer struct {
	s       *Service
	store   ImportStore
	workers int

	mu      sync.Mutex
	running map[string]bool
	startMu sync.Mutex
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
}

// ImporterOptions configure an Importer.
type ImporterOptions struct {
	// Workers is how many rows are handled at once; 128 if zero. Most of
	// a row's time is spent waiting for the disk, and stores that share
	// one transaction among changes made at the same time (internal/bolt's
	// Batched) make many workers fast.
	Workers int
}

// NewImporter returns an Importer over the service and its store.
func NewImporter(s *Service, store ImportStore, opts ImporterOptions) *Importer {
	if opts.Workers <= 0 {
		opts.Workers = 128
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Importer{s: s, store: store, workers: opts.Workers, running: map[string]bool{}, ctx: ctx, cancel: cancel}
}

// ImportInput is what starts an import.
type ImportInput struct {
	Programme string `json:"programme"`
	// Type is RegistrationCredential (the default) or
	// EligibilityCredential; Format qr (the default, printable) or jwt.
	Type   credentials.Type   `json:"type,omitempty"`
	Format credentials.Format `json:"format,omitempty"`
	// Consent is the consent recorded in the field for every row of the
	// file: Given is the starter's declaration that each person consented.
	Consent   ConsentInput   `json:"consent"`
	FileName  string         `json:"fileName,omitempty"`
	Encoding  bulk.Encoding  `json:"encoding,omitempty"`
	DateOrder bulk.DateOrder `json:"dateOrder,omitempty"`
	// DryRun checks the file and stores nothing.
	DryRun bool `json:"dryRun,omitempty"`
}

// ImportID is the id of the job that imports a file of this SHA-256 (hex)
// into an organisation.
func ImportID(org, fileSHA256 string) string {
	sum := sha256.Sum256([]byte("tally-import-v1\x00" + org + "\x00" + fileSHA256))
	return strings.ToLower(base32NoPad.EncodeToString(sum[:10]))
}

// importRegistrationID is the internal id of the registration a job makes
// from the row of key: the same on every run.
func importRegistrationID(job, key string) string {
	sum := sha256.Sum256([]byte("tally-import-row-v1\x00" + job + "\x00" + key))
	return strings.ToLower(base32NoPad.EncodeToString(sum[:10]))
}

func importFileAD(org, id string) []byte {
	return []byte("tally-import-file-v1\x00" + org + "\x00" + id)
}

// Check reads a file for an import: the programme, the consent
// declaration and the file's shape are checked, and every row is read
// (the dry run). Unless in.DryRun, the job is stored, checked and not yet
// started, with the file sealed under the organisation's data key. The
// same file (same organisation, same bytes) returns the job it made
// before, with existing true, whatever its state.
func (im *Importer) Check(ctx context.Context, by Principal, org string, in ImportInput, file []byte) (job ImportJob, rep *bulk.Report, existing bool, err error) {
	s := im.s
	var p problems
	if in.Type == "" {
		in.Type = credentials.TypeRegistration
	}
	if in.Format == "" {
		in.Format = credentials.FormatQR
	}
	if in.Type != credentials.TypeRegistration && in.Type != credentials.TypeEligibility {
		p.add("type", "unknown", "choose RegistrationCredential or EligibilityCredential")
	}
	if in.Format != credentials.FormatQR && in.Format != credentials.FormatJWT {
		p.add("format", "unknown", "choose qr or jwt")
	}
	in.Programme = strings.TrimSpace(in.Programme)
	cby := by
	if in.DryRun && cby.StaffID == "" && strings.TrimSpace(in.Consent.StaffID) == "" {
		// A dry run records no consent: no one need be named.
		cby.StaffID = "dry-run"
	}
	prog, consent, err := s.checkConsent(ctx, &p, cby, org, in.Programme, in.Consent)
	if err != nil {
		return ImportJob{}, nil, false, err
	}
	if prog.Code != "" && in.Type != "" && !prog.Issues(in.Type) && !p.has("type") {
		p.add("type", "unknown", "the programme does not issue this credential")
	}
	var sheet *bulk.Sheet
	switch {
	case len(file) == 0:
		p.add("file", "required", "choose the CSV or Excel file to import")
	case int64(len(file)) > MaxImportBytes:
		p.add("file", "too_long", fmt.Sprintf("the file is larger than %d MB: split it into smaller files", MaxImportBytes>>20))
	default:
		sheet, err = bulk.Open(ctx, bytes.NewReader(file), int64(len(file)), bulk.Options{Encoding: in.Encoding, DateOrder: in.DateOrder, Now: s.now})
		var fe *bulk.FileError
		if errors.As(err, &fe) {
			p.add("file", "format", fe.Error())
		} else if err != nil {
			p.add("file", "format", err.Error())
		}
	}
	if err := p.err(); err != nil {
		return ImportJob{}, nil, false, err
	}
	sum := sha256.Sum256(file)
	hash := hex.EncodeToString(sum[:])
	id := ImportID(org, hash)
	if rep, err = sheet.DryRun(ctx, nil); err != nil {
		return ImportJob{}, nil, false, err
	}
	if old, err := im.store.Import(ctx, org, id); err == nil {
		if err := im.resealFile(ctx, old, file); err != nil {
			return ImportJob{}, nil, false, err
		}
		return old, rep, true, nil
	} else if !errors.Is(err, ErrNotFound) {
		return ImportJob{}, nil, false, err
	}
	job = ImportJob{
		ID: id, Org: org, Programme: prog.Code, Type: in.Type, Format: in.Format,
		FileName: cleanFileName(in.FileName), FileSHA256: hash, FileBytes: int64(len(file)), FileFormat: strings.ToLower(sheet.Format().String()),
		Encoding: in.Encoding, DateOrder: in.DateOrder,
		Consent:   ImportConsent{Method: consent.Method, Language: consent.Language, Date: consent.Date, StaffID: consent.StaffID},
		StartedBy: ImportActor{StaffID: by.StaffID, TokenID: by.TokenID, System: by.System},
		State:     ImportChecked, Created: s.now().UTC(),
		Rows: rep.Rows, Good: rep.Good, Bad: rep.Bad,
	}
	for _, e := range rep.Problems {
		if len(job.Problems) == maxStoredProblems {
			break
		}
		job.Problems = append(job.Problems, problemOf(e))
	}
	if in.DryRun {
		return job, rep, false, nil
	}
	k, err := s.secrets(ctx, org)
	if err != nil {
		return ImportJob{}, nil, false, err
	}
	sealed, err := k.seal(s.rand, file, importFileAD(org, id))
	if err != nil {
		return ImportJob{}, nil, false, err
	}
	if err := im.store.CreateImport(ctx, job, sealed); err != nil {
		if isConflict(err) {
			old, err := im.store.Import(ctx, org, id)
			return old, rep, true, err
		}
		return ImportJob{}, nil, false, err
	}
	return job, rep, false, nil
}

// resealFile seals the same file, uploaded again for a job checked or
// failed, under the organisation's current data key: a job whose file
// was sealed under a key a rotation has since deleted goes on when the
// file is uploaded again.
func (im *Importer) resealFile(ctx context.Context, job ImportJob, file []byte) error {
	if job.State != ImportChecked && job.State != ImportFailed {
		return nil
	}
	k, err := im.s.secrets(ctx, job.Org)
	if err != nil {
		return err
	}
	sealed, err := k.seal(im.s.rand, file, importFileAD(job.Org, job.ID))
	if err != nil {
		return err
	}
	if err := im.store.ReplaceImportFile(ctx, job.Org, job.ID, sealed); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// problemOf is a bulk problem as a job keeps it.
func problemOf(e *bulk.Error) ImportProblem {
	p := ImportProblem{Line: e.Line, Code: e.Reason.String(), Message: e.Error()}
	if e.Column.Letter != "" {
		p.Column = e.Column.String()
	}
	return p
}

// cleanFileName keeps a file name's base, at most 100 characters, without
// control or format characters (a right-to-left override would show
// "people\u202Evsc.exe" as "peopleexe.csv").
func cleanFileName(name string) string {
	name = path.Base(strings.ReplaceAll(strings.TrimSpace(name), "\\", "/"))
	if name == "." || name == ".." || name == "/" || !utf8.ValidString(name) {
		return ""
	}
	name = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name))
	if r := []rune(name); len(r) > 100 {
		name = string(r[:100])
	}
	return name
}

// Start starts a checked job, or a failed one again: it becomes running,
// and Run (or Go) does the work.
func (im *Importer) Start(ctx context.Context, by Principal, org, id string) (ImportJob, error) {
	// Start pressed twice at once (or the page and the API) starts and
	// audits the job once: the read and the change are one step here, and
	// another process cannot open the same database.
	im.startMu.Lock()
	defer im.startMu.Unlock()
	job, err := im.store.Import(ctx, org, id)
	if err != nil {
		return ImportJob{}, err
	}
	switch job.State {
	case ImportRunning, ImportDone:
		return job, nil
	}
	job.State, job.Started, job.Error = ImportRunning, im.s.now().UTC(), ""
	if err := im.store.UpdateImport(ctx, job); err != nil {
		return ImportJob{}, err
	}
	if err := im.s.record(ctx, audit.Entry{Actor: by.Actor(), Org: org, Action: audit.ActionImport,
		Objects: []audit.Object{{Kind: audit.ObjectBatch, ID: id}}, Purpose: audit.ProgrammePurpose(job.Programme)}); err != nil {
		return ImportJob{}, err
	}
	return job, nil
}

// Job returns one job.
func (im *Importer) Job(ctx context.Context, org, id string) (ImportJob, error) {
	return im.store.Import(ctx, org, id)
}

// ImportFileKeep is how long the file of an import that was checked but
// not started, or that stopped, is kept: personal data is not kept for a
// job nobody finishes. Uploading the same file again takes the job up.
const ImportFileKeep = 7 * 24 * time.Hour

// DiscardStale deletes the sealed files of the jobs, of every
// organisation, that were checked or stopped and have not moved since
// before: their personal data goes, their records (counts and problems,
// no personal data) stay. It returns how many files it deleted.
func (im *Importer) DiscardStale(ctx context.Context, before time.Time) (int, error) {
	orgs, err := im.s.orgs.Organisations(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range orgs {
		jobs, err := im.store.Imports(ctx, o.Slug)
		if err != nil {
			return n, err
		}
		for _, job := range jobs {
			if job.State != ImportChecked && job.State != ImportFailed {
				continue
			}
			last := job.Created
			for _, t := range []time.Time{job.Started, job.Finished} {
				if t.After(last) {
					last = t
				}
			}
			if !last.Before(before) {
				continue
			}
			switch err := im.store.DeleteImportFile(ctx, job.Org, job.ID); {
			case err == nil:
				n++
			case errors.Is(err, ErrNotFound), errors.Is(err, ErrStateChange):
			default:
				return n, err
			}
		}
	}
	return n, nil
}

// Jobs lists an organisation's jobs, newest first.
func (im *Importer) Jobs(ctx context.Context, org string) ([]ImportJob, error) {
	return im.store.Imports(ctx, org)
}

// Rows calls fn with each handled row of a job, by line.
func (im *Importer) Rows(ctx context.Context, org, id string, fn func(ImportRow) error) error {
	if _, err := im.store.Import(ctx, org, id); err != nil {
		return err
	}
	return im.store.ImportRows(ctx, org, id, fn)
}

// Failures returns the problems of a job's refused rows, by line, at most
// limit.
func (im *Importer) Failures(ctx context.Context, org, id string, limit int) ([]ImportProblem, error) {
	var out []ImportProblem
	errEnough := errors.New("enough")
	err := im.Rows(ctx, org, id, func(r ImportRow) error {
		for _, p := range r.Problems {
			if len(out) == limit {
				return errEnough
			}
			out = append(out, p)
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	return out, err
}
