package issuer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer/bulk"
)

// ErrImportBusy: the job is running in this process already.
var ErrImportBusy = errors.New("this import is running already")

// How often a running job saves its rows' outcomes: every saveEvery rows,
// or saveInterval, whichever comes first. A row done but not yet saved is
// done again after a crash, finding its registration and credential.
const (
	saveEvery    = 64
	saveInterval = 250 * time.Millisecond
)

// Run does a running job's work, from where it stopped: each row not yet
// handled is registered (with the declared consent) and its credential
// issued, or refused with its problems. It is idempotent: a row's
// registration has an id derived from the job and the row's key, so a row
// done again finds its registration, and a credential it already has is
// not issued again. Registrations are made one at a time, in the file's
// order, so a person twice in the file, or already registered, is found
// as a likely duplicate; credentials are signed by Workers at once.
// progress, when not nil, is called after each save with the job.
//
// When ctx ends, Run returns its error and the job stays running, to be
// resumed. A job that cannot go on (its file damaged, a key that does not
// open) is marked failed.
func (im *Importer) Run(ctx context.Context, org, id string, progress func(ImportJob)) (ImportJob, error) {
	key := org + "\x00" + id
	im.mu.Lock()
	if im.running[key] {
		im.mu.Unlock()
		return ImportJob{}, ErrImportBusy
	}
	im.running[key] = true
	im.mu.Unlock()
	defer func() {
		im.mu.Lock()
		delete(im.running, key)
		im.mu.Unlock()
	}()
	job, err := im.store.Import(ctx, org, id)
	if err != nil {
		return ImportJob{}, err
	}
	switch job.State {
	case ImportDone:
		return job, nil
	case ImportRunning:
	default:
		return job, fmt.Errorf("import %s is %s, not running: start it first: %w", id, job.State, ErrStateChange)
	}
	job, err = im.run(ctx, job, progress)
	if err != nil && ctx.Err() == nil {
		job.State, job.Error = ImportFailed, err.Error()
		if uerr := im.store.UpdateImport(context.WithoutCancel(ctx), job); uerr != nil {
			return job, errors.Join(err, uerr)
		}
	}
	return job, err
}

// rowWork is one good row on its way from registration to issuance.
type rowWork struct {
	line  int
	regID string
}

func (im *Importer) run(ctx context.Context, job ImportJob, progress func(ImportJob)) (ImportJob, error) {
	s := im.s
	sealed, err := im.store.ImportFile(ctx, job.Org, job.ID)
	if err != nil {
		return job, fmt.Errorf("the import's file: %w", err)
	}
	k, err := s.secrets(ctx, job.Org)
	if err != nil {
		return job, err
	}
	// The file was sealed under the data key current at upload: during a
	// rotation that key is an older one of the ring.
	ring, err := s.keyring(ctx, job.Org)
	if err != nil {
		return job, err
	}
	var file []byte
	for _, rk := range ring.all() {
		if file, err = rk.open(sealed, importFileAD(job.Org, job.ID)); err == nil {
			break
		}
	}
	if err != nil {
		return job, fmt.Errorf("the import's file does not open (sealed under a data key rotated since): upload the same file again, then start the import: %w", err)
	}
	sheet, err := bulk.Open(ctx, bytes.NewReader(file), int64(len(file)), bulk.Options{Encoding: job.Encoding, DateOrder: job.DateOrder, Now: s.now})
	if err != nil {
		return job, fmt.Errorf("the import's file: %w", err)
	}
	done := map[int]bool{}
	if err := im.store.ImportRows(ctx, job.Org, job.ID, func(r ImportRow) error {
		done[r.Line] = true
		return nil
	}); err != nil {
		return job, err
	}
	by := job.StartedBy.principal(job.Org)
	// The workers read this copy: job itself changes as rows are saved.
	fixed := job
	consent := ConsentInput{Given: true, Method: job.Consent.Method, Language: job.Consent.Language, Date: job.Consent.Date, StaffID: job.Consent.StaffID}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	outcomes := make(chan ImportRow, 2*saveEvery)
	work := make(chan bulk.Row, im.workers)
	var locks nameLocks

	// The rows, in the file's order, to the workers.
	var producers sync.WaitGroup
	producers.Add(1)
	go func() {
		defer producers.Done()
		defer close(work)
		for row, err := range sheet.Rows(ctx) {
			if err != nil {
				cancel(err)
				return
			}
			if done[row.Line] {
				continue
			}
			if !row.OK() {
				out := ImportRow{Line: row.Line, Outcome: RowFailed}
				for _, e := range row.Problems {
					out.Problems = append(out.Problems, problemOf(e))
				}
				if !send(ctx, outcomes, out) {
					return
				}
				continue
			}
			select {
			case work <- row:
			case <-ctx.Done():
				return
			}
		}
	}()
	// Each worker registers a row and issues its credential. Rows that
	// share a part of a name or a registration ID are registered one at a
	// time, so that the second finds the first as a likely duplicate.
	for range im.workers {
		producers.Add(1)
		go func() {
			defer producers.Done()
			for row := range work {
				regID := importRegistrationID(fixed.ID, row.Key)
				unlock := locks.lock(k.nameStripes(row))
				failed, err := im.registerRow(ctx, by, fixed, consent, row, regID)
				unlock()
				if err != nil {
					cancel(fmt.Errorf("line %d: %w", row.Line, err))
					return
				}
				out := ImportRow{}
				if failed != nil {
					out = *failed
				} else if out, err = im.issueRow(ctx, by, fixed, rowWork{line: row.Line, regID: regID}); err != nil {
					cancel(fmt.Errorf("line %d: %w", row.Line, err))
					return
				}
				if !send(ctx, outcomes, out) {
					return
				}
			}
		}()
	}
	go func() {
		producers.Wait()
		close(outcomes)
	}()

	// Saves, in batches.
	var batch []ImportRow
	save := func() error {
		if len(batch) == 0 {
			return nil
		}
		next := job
		for _, r := range batch {
			next.Done++
			if r.Outcome == RowIssued {
				next.Issued++
			} else {
				next.Failed++
			}
		}
		if err := im.store.SaveImportRows(context.WithoutCancel(ctx), next, batch); err != nil {
			return err
		}
		job, batch = next, batch[:0]
		if progress != nil {
			progress(job)
		}
		return nil
	}
	tick := time.NewTicker(saveInterval)
	defer tick.Stop()
	for open := true; open; {
		select {
		case r, ok := <-outcomes:
			if !ok {
				open = false
				break
			}
			batch = append(batch, r)
			if len(batch) >= saveEvery {
				if err := save(); err != nil {
					cancel(err)
					return job, err
				}
			}
		case <-tick.C:
			if err := save(); err != nil {
				cancel(err)
				return job, err
			}
		}
	}
	if err := save(); err != nil {
		return job, err
	}
	if err := context.Cause(ctx); err != nil {
		return job, err
	}
	job.State, job.Finished = ImportDone, s.now().UTC()
	if err := im.store.SaveImportRows(context.WithoutCancel(ctx), job, nil); err != nil {
		return job, err
	}
	if progress != nil {
		progress(job)
	}
	return job, nil
}

func send(ctx context.Context, ch chan<- ImportRow, r ImportRow) bool {
	select {
	case ch <- r:
		return true
	case <-ctx.Done():
		return false
	}
}

// registerRow makes a good row's registration, unless a run before made
// it. It returns the row's outcome when the row is refused; an error stops
// the job.
func (im *Importer) registerRow(ctx context.Context, by Principal, job ImportJob, consent ConsentInput, row bulk.Row, regID string) (*ImportRow, error) {
	s := im.s
	if _, err := s.registrations.Registration(ctx, job.Org, regID); err == nil {
		return nil, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	person, ok := row.Draft.Subject.(*credentials.Registration)
	if !ok {
		return nil, fmt.Errorf("the row's draft is not a registration")
	}
	p := *person
	fail := func(code, column, msg string) *ImportRow {
		return &ImportRow{Line: row.Line, Outcome: RowFailed, Registration: "",
			Problems: []ImportProblem{{Line: row.Line, Column: column, Code: code, Message: msg}}}
	}
	switch {
	case p.Programme == "":
		p.Programme = job.Programme
	case p.Programme != job.Programme:
		return fail("programme", "", fmt.Sprintf("line %d: the row is for another programme than the import's (%s): import it into its own programme", row.Line, job.Programme)), nil
	}
	_, err := s.register(ctx, by, job.Org, NewRegistration{Person: p, Consent: consent}, regID)
	var de *DuplicatesError
	var ie *InvalidError
	switch {
	case errors.As(err, &de):
		ids := make([]string, len(de.Matches))
		for i, m := range de.Matches {
			ids[i] = m.Registration.ID
		}
		if de.Matches[0].Has(ReasonRegistrationID) {
			// Most often the same person from an earlier file.
			return fail("registered-already", "", fmt.Sprintf("line %d: this registration ID is registered already (registration %s): not issued again; to issue a new card, open the registration",
				row.Line, ids[0])), nil
		}
		return fail("likely-duplicate", "", fmt.Sprintf("line %d: the person may be registered already (registration %s): open it and link the visit, or register the person by hand",
			row.Line, strings.Join(ids, ", "))), nil
	case errors.As(err, &ie):
		if _, ok := ie.Field("programme"); ok {
			return nil, err
		}
		if f, ok := ie.Field("consent.staffId"); ok {
			return nil, fmt.Errorf("consent: %s", f.Message)
		}
		out := &ImportRow{Line: row.Line, Outcome: RowFailed}
		for _, f := range ie.Fields {
			out.Problems = append(out.Problems, ImportProblem{Line: row.Line, Code: "invalid", Message: fmt.Sprintf("line %d, %s: %s", row.Line, f.Field, f.Message)})
		}
		return out, nil
	}
	return nil, err
}

// issueRow issues a registered row's credential, unless a run before
// issued it.
func (im *Importer) issueRow(ctx context.Context, by Principal, job ImportJob, w rowWork) (ImportRow, error) {
	s := im.s
	recs, err := s.status.RegistrationCredentials(ctx, job.Org, w.regID)
	if err != nil {
		return ImportRow{}, err
	}
	for _, r := range recs {
		if r.Type == job.Type && r.Programme == job.Programme && r.State != StateRevoked {
			return ImportRow{Line: w.line, Outcome: RowIssued, Registration: w.regID, Credential: r.ID}, nil
		}
	}
	out, err := s.Issue(ctx, by, job.Org, w.regID, IssueInput{Type: job.Type, Programme: job.Programme, Format: job.Format})
	var ie *InvalidError
	switch {
	case errors.As(err, &ie):
		return ImportRow{Line: w.line, Outcome: RowFailed, Registration: w.regID,
			Problems: []ImportProblem{{Line: w.line, Code: "invalid", Message: fmt.Sprintf("line %d: %s", w.line, ie.Error())}}}, nil
	case err != nil:
		return ImportRow{}, err
	}
	return ImportRow{Line: w.line, Outcome: RowIssued, Registration: w.regID, Credential: out.Record.ID}, nil
}

// Go runs a running job in the background, on the Importer's own
// context (ended by Close); errors end up in the job's record. It does
// nothing when the job is running in this process already.
func (im *Importer) Go(org, id string) {
	im.wg.Add(1)
	go func() {
		defer im.wg.Done()
		_, _ = im.Run(im.ctx, org, id, nil)
	}()
}

// Resume runs, in the background, every job that was running when the
// process stopped, and returns how many.
func (im *Importer) Resume(ctx context.Context) (int, error) {
	jobs, err := im.store.RunningImports(ctx)
	if err != nil {
		return 0, err
	}
	for _, j := range jobs {
		im.Go(j.Org, j.ID)
	}
	return len(jobs), nil
}

// Close stops the background jobs (they stay running, to resume) and
// waits for them to save what they did.
func (im *Importer) Close() {
	im.cancel()
	im.wg.Wait()
}

// Cards calls fn with each credential of a done job, signed again, in the
// order of the file's lines; credentials revoked since, and those of
// people whose data was erased since, are left out. The
// signing is shared among the workers.
func (im *Importer) Cards(ctx context.Context, org, id string, fn func(Issued) error) error {
	job, err := im.store.Import(ctx, org, id)
	if err != nil {
		return err
	}
	if job.State != ImportDone {
		return fmt.Errorf("import %s is %s: its cards are printed once it is done: %w", id, job.State, ErrStateChange)
	}
	var ids []string
	if err := im.store.ImportRows(ctx, org, id, func(r ImportRow) error {
		if r.Credential != "" {
			ids = append(ids, r.Credential)
		}
		return nil
	}); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		out Issued
		err error
	}
	type task struct {
		id  string
		res chan result
	}
	tasks := make(chan task)
	order := make(chan chan result, 64)
	var wg sync.WaitGroup
	// Reading and signing again: a few workers a core keep the printer
	// fed while some wait for the database.
	for range min(im.workers, 16*runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range tasks {
				out, err := im.s.Reprint(ctx, org, t.id)
				t.res <- result{out, err}
			}
		}()
	}
	go func() {
		defer close(order)
		defer close(tasks)
		for _, cid := range ids {
			t := task{id: cid, res: make(chan result, 1)}
			select {
			case order <- t.res:
			case <-ctx.Done():
				return
			}
			select {
			case tasks <- t:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer wg.Wait()
	for res := range order {
		var r result
		select {
		case r = <-res:
		case <-ctx.Done():
			for range order {
			}
			return ctx.Err()
		}
		switch {
		case errors.Is(r.err, ErrStateChange), errors.Is(r.err, ErrErased):
			// Revoked since, or the person's data erased: no card.
			continue
		case r.err != nil:
			cancel()
			for range order {
			}
			return r.err
		}
		if err := fn(r.out); err != nil {
			cancel()
			for range order {
			}
			return err
		}
	}
	return ctx.Err()
}

// nameLocks are striped locks over what can make two people likely
// duplicates of each other (see compare): the registration ID, the whole
// name, the date of birth, and each pair of name parts (a similar name,
// with the same year of birth). A name of one part locks that part.
type nameLocks [nameStripes]sync.Mutex

const nameStripes = 4096

// lock takes the stripes, in order, and returns what releases them.
func (l *nameLocks) lock(stripes []int) func() {
	for _, i := range stripes {
		l[i].Lock()
	}
	return func() {
		for _, i := range stripes {
			l[i].Unlock()
		}
	}
}

// nameStripes are the stripes of a row, sorted, each once.
func (k *orgSecrets) nameStripes(row bulk.Row) []int {
	person, ok := row.Draft.Subject.(*credentials.Registration)
	if !ok {
		return nil
	}
	var out []int
	add := func(v ...[]byte) {
		h := sha256.New()
		for _, b := range v {
			h.Write(b)
		}
		sum := h.Sum(nil)
		if i := (int(sum[0])<<8 | int(sum[1])) % nameStripes; !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	var parts [][]byte
	for _, key := range k.indexKeys(*person) {
		switch key.Kind {
		case IndexRegistrationID, IndexName, IndexDateOfBirth:
			add([]byte(key.Kind), key.Value)
		case IndexNamePart:
			parts = append(parts, key.Value)
		}
	}
	slices.SortFunc(parts, bytes.Compare)
	if len(parts) == 1 {
		add([]byte(IndexNamePart), parts[0])
	}
	for i := range parts {
		for j := i + 1; j < len(parts); j++ {
			add([]byte("pair"), parts[i], parts[j])
		}
	}
	slices.Sort(out)
	return out
}
