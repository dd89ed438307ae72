package issuer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/internal/peopletest"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
)

// peopleCSV is a spreadsheet of n people (the sample's columns), each a
// different name and date of birth, so that none is a likely duplicate of
// another; from is the number of the first.
func peopleCSV(from, n int) []byte {
	var b bytes.Buffer
	b.WriteString("Registration ID,Full name,First name,Last name,Date of birth,Gender,Nationality,Legal status,Location,Language,Programme,Household size\n")
	b.WriteString("#beneficiary+id,#beneficiary+name,#beneficiary+name+first,#beneficiary+name+last,#date+birth,#beneficiary+gender,#country+code+nationality,#status+legal,#loc+code,#meta+lang,#activity+code,#household+size\n")
	for i := from; i < from+n; i++ {
		f, l := peopletest.Name(i), peopletest.Name(i+500000)
		fmt.Fprintf(&b, "KE-IMP-%06d,%s %s,%s,%s,%s,%s,SO,refugee,KE-DADAAB-HSP1,som,MPCA-2026,%d\n",
			i, f, l, f, l, peopletest.Born(i), peopletest.Gender(i), 1+i%9)
	}
	return b.Bytes()
}

// count is how many keys a bucket of the database holds.
func count(t *testing.T, db *bolt.DB, bucket string) int {
	t.Helper()
	n := 0
	if err := db.Bolt().View(func(tx *bbolt.Tx) error {
		n = tx.Bucket([]byte(bucket)).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func (d *desk) importer(t *testing.T) (*issuer.Importer, *bolt.ImportStore) {
	t.Helper()
	store, err := bolt.NewImportStore(d.db)
	if err != nil {
		t.Fatal(err)
	}
	// The importer's service shares transactions among its workers; its
	// audit log is the same chain as the desk's.
	auditStore, err := bolt.NewAuditStore(d.db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := issuer.New(d.db.Batched().Stores(), issuer.Options{
		MasterKey: []byte("river lantern cobalt pepper"),
		Now:       func() time.Time { return d.now },
		Password:  issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1},
		ScryptN:   credentials.LowestScryptN,
		Audit:     audit.NewLog(auditStore.Batched(), audit.Options{Now: func() time.Time { return d.now }, Programmes: d.db}),
		BaseURL:   "https://tally.example:8443",
	})
	if err != nil {
		t.Fatal(err)
	}
	im := issuer.NewImporter(svc, store, issuer.ImporterOptions{})
	t.Cleanup(im.Close)
	return im, store
}

func importInput() issuer.ImportInput {
	return issuer.ImportInput{Programme: "MPCA-2026", FileName: "people.csv",
		Consent: issuer.ConsentInput{Given: true, Method: issuer.ConsentWritten, Language: "so", Date: "2026-10-30"}}
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	im, store := d.importer(t)
	// Fatima is registered already; the file holds her again (line 5), a
	// bad date (line 6) and the same person twice (lines 7 and 8).
	if _, err := d.register(t, fatima(), false); err != nil {
		t.Fatal(err)
	}
	file := peopleCSV(1, 2)
	file = append(file, "KE-DAD-2026-000123,Fatima Hassan Abdi,Fatima,Abdi,1991-03-14,female,SO,asylum-seeker,KE-DADAAB-HSP1,som,MPCA-2026,5\n"...)
	file = append(file, "KE-IMP-900001,Ba Ka,Ba,Ka,31/31/1990,female,SO,refugee,KE-DADAAB-HSP1,som,MPCA-2026,1\n"...)
	file = append(file, peopleCSV(50, 1)[strings.Index(string(peopleCSV(50, 1)), "\nKE")+1:]...)
	file = append(file, peopleCSV(50, 1)[strings.Index(string(peopleCSV(50, 1)), "\nKE")+1:]...)
	file = append(file, peopleCSV(3, 3)[strings.Index(string(peopleCSV(3, 3)), "\nKE")+1:]...)

	job, rep, existing, err := im.Check(ctx, d.registrar, "demo", importInput(), file)
	if err != nil {
		t.Fatal(err)
	}
	if existing || job.State != issuer.ImportChecked || rep.Rows != 9 || rep.Good != 7 || rep.Bad != 2 || len(job.Problems) != 2 {
		t.Fatalf("check: existing %v, job %+v, report %d rows %d good %d bad", existing, job, rep.Rows, rep.Good, rep.Bad)
	}
	for _, p := range job.Problems {
		if strings.Contains(p.Message, "Ba Ka") || strings.Contains(p.Message, "31/31") {
			t.Errorf("a problem quotes a value: %q", p.Message)
		}
	}
	if regs := count(t, d.db, "registrations"); regs != 1 {
		t.Fatalf("the dry run registered someone: %d registrations", regs)
	}
	// Not started: Run refuses.
	if _, err := im.Run(ctx, "demo", job.ID, nil); !errors.Is(err, issuer.ErrStateChange) {
		t.Fatalf("Run before Start = %v", err)
	}
	if _, err := im.Start(ctx, d.registrar, "demo", job.ID); err != nil {
		t.Fatal(err)
	}
	var seen []int
	job, err = im.Run(ctx, "demo", job.ID, func(j issuer.ImportJob) { seen = append(seen, j.Done) })
	if err != nil {
		t.Fatal(err)
	}
	if job.State != issuer.ImportDone || job.Done != 9 || job.Issued != 6 || job.Failed != 3 || len(seen) == 0 || job.Percent() != 100 {
		t.Fatalf("job = %+v, progress %v", job, seen)
	}
	if _, err := store.ImportFile(ctx, "demo", job.ID); !errors.Is(err, issuer.ErrNotFound) {
		t.Errorf("the uploaded file is kept after the job is done: %v", err)
	}
	fails, err := im.Failures(ctx, "demo", job.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{5: "registered-already", 6: "date", 8: "duplicate-row"}
	if len(fails) != 3 {
		t.Fatalf("failures = %+v", fails)
	}
	for _, f := range fails {
		if !strings.HasPrefix(f.Code, want[f.Line]) {
			t.Errorf("line %d: code %q, want %q (%s)", f.Line, f.Code, want[f.Line], f.Message)
		}
	}
	if regs, creds := count(t, d.db, "registrations"), count(t, d.db, "credentials"); regs != 7 || creds != 6 {
		t.Fatalf("%d registrations, %d credentials; want 7 and 6", regs, creds)
	}

	// Everything again: the same job, nothing new.
	again, _, existing, err := im.Check(ctx, d.registrar, "demo", importInput(), file)
	if err != nil || !existing || again.ID != job.ID || again.State != issuer.ImportDone {
		t.Fatalf("the same file again: %+v, existing %v, %v", again, existing, err)
	}
	if _, err := im.Start(ctx, d.registrar, "demo", job.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := im.Run(ctx, "demo", job.ID, nil); err != nil {
		t.Fatal(err)
	}
	if regs, creds := count(t, d.db, "registrations"), count(t, d.db, "credentials"); regs != 7 || creds != 6 {
		t.Fatalf("after the same file again: %d registrations, %d credentials", regs, creds)
	}

	// The cards, in the file's order, signed as issued.
	key, err := d.svc.SigningKey(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	err = im.Cards(ctx, "demo", job.ID, func(out issuer.Issued) error {
		c, err := credentials.ParseCard([]byte(out.Credential))
		if err != nil {
			return err
		}
		if err := c.VerifySignature(key.Public); err != nil {
			return err
		}
		ids = append(ids, credentials.SubjectRegistrationID(c.Credential().Subject))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids, " "); got != "KE-IMP-000001 KE-IMP-000002 KE-IMP-000050 KE-IMP-000003 KE-IMP-000004 KE-IMP-000005" {
		t.Errorf("cards = %s", got)
	}
	var imports int
	for _, e := range d.entries(t) {
		if e.Action == audit.ActionImport {
			imports++
		}
	}
	if imports != 1 {
		t.Errorf("%d import entries in the audit log, want 1", imports)
	}
	jobs, err := im.Jobs(ctx, "demo")
	if err != nil || len(jobs) != 1 {
		t.Errorf("Jobs = %v, %v", jobs, err)
	}
	if jobs, _ := im.Jobs(ctx, "other"); len(jobs) != 0 {
		t.Errorf("organisation other sees demo's jobs")
	}
}

// TestImportResume stops a job part-way, as a crash would, and runs it
// again: every row ends with exactly one registration and one credential.
func TestImportResume(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	im, _ := d.importer(t)
	const rows = 400
	file := peopleCSV(1, rows)
	job, _, _, err := im.Check(ctx, d.registrar, "demo", importInput(), file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Start(ctx, d.registrar, "demo", job.ID); err != nil {
		t.Fatal(err)
	}
	stop, cancel := context.WithCancel(ctx)
	job, err = im.Run(stop, "demo", job.ID, func(j issuer.ImportJob) {
		if j.Done >= 100 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a stopped run = %v", err)
	}
	if job.State != issuer.ImportRunning || job.Done < 100 || job.Done >= rows {
		t.Fatalf("stopped job = %+v", job)
	}
	// The same job cannot run twice at once.
	running, err := im.Resume(ctx)
	if err != nil || running != 1 {
		t.Fatalf("Resume = %d, %v", running, err)
	}
	im.Close()
	im, _ = d.importer(t)
	job, err = im.Run(ctx, "demo", job.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if job.State != issuer.ImportDone || job.Done != rows || job.Issued != rows || job.Failed != 0 {
		t.Fatalf("resumed job = %+v", job)
	}
	if regs, creds := count(t, d.db, "registrations"), count(t, d.db, "credentials"); regs != rows || creds != rows {
		t.Fatalf("%d registrations, %d credentials; want %d each", regs, creds, rows)
	}
}

func TestImportRefuses(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	im, _ := d.importer(t)
	good := peopleCSV(1, 3)
	cases := []struct {
		name   string
		change func(in *issuer.ImportInput)
		file   []byte
		field  string
	}{
		{"no consent declared", func(in *issuer.ImportInput) { in.Consent.Given = false }, good, "consent.given"},
		{"no consent method", func(in *issuer.ImportInput) { in.Consent.Method = "" }, good, "consent.method"},
		{"consent in the future", func(in *issuer.ImportInput) { in.Consent.Date = "2027-01-01" }, good, "consent.date"},
		{"unknown programme", func(in *issuer.ImportInput) { in.Programme = "NOPE" }, good, "programme"},
		{"no programme", func(in *issuer.ImportInput) { in.Programme = "" }, good, "programme"},
		{"unknown type", func(in *issuer.ImportInput) { in.Type = "PassportCredential" }, good, "type"},
		{"no file", func(*issuer.ImportInput) {}, nil, "file"},
		{"garbage", func(*issuer.ImportInput) {}, []byte("\x00\x01\x02 not a spreadsheet \xff\xfe\x00"), "file"},
		{"an old Excel file", func(*issuer.ImportInput) {}, append([]byte{0xD0, 0xCF, 0x11, 0xE0}, make([]byte, 600)...), "file"},
		{"no name column", func(*issuer.ImportInput) {}, []byte("Registration ID,Colour\nA-1,blue\n"), "file"},
		{"too large", func(*issuer.ImportInput) {}, make([]byte, issuer.MaxImportBytes+1), "file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := importInput()
			tc.change(&in)
			_, _, _, err := im.Check(ctx, d.registrar, "demo", in, tc.file)
			var ie *issuer.InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an invalid input", err)
			}
			if _, ok := ie.Field(tc.field); !ok {
				t.Fatalf("err = %v, want a problem with %s", err, tc.field)
			}
			if jobs, _ := im.Jobs(ctx, "demo"); len(jobs) != 0 {
				t.Fatalf("a refused file made a job")
			}
		})
	}
	// A dry run stores nothing.
	in := importInput()
	in.DryRun = true
	job, rep, _, err := im.Check(ctx, d.registrar, "demo", in, good)
	if err != nil || rep.Good != 3 || job.ID == "" {
		t.Fatalf("dry run = %+v, %v", job, err)
	}
	if jobs, _ := im.Jobs(ctx, "demo"); len(jobs) != 0 {
		t.Fatal("a dry run made a job")
	}
}

// TestImportAfterDataKeyRotation: a job's file sealed under a data key a
// rotation has since deleted fails cleanly, saying what to do, and goes on
// once the same file is uploaded again.
func TestImportAfterDataKeyRotation(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	im, _ := d.importer(t)
	file := peopleCSV(1, 3)
	job, _, _, err := im.Check(ctx, d.registrar, "demo", importInput(), file)
	if err != nil {
		t.Fatal(err)
	}
	admin := issuer.Principal{Org: "demo", Role: issuer.RoleAdmin, StaffID: "admin-id"}
	rep, err := d.svc.RotateDataKey(ctx, admin, "demo")
	if err != nil || !rep.Done || len(rep.Deleted) != 1 {
		t.Fatalf("rotate: %+v, %v", rep, err)
	}
	if _, err := im.Start(ctx, d.registrar, "demo", job.ID); err != nil {
		t.Fatal(err)
	}
	failed, err := im.Run(ctx, "demo", job.ID, nil)
	if err == nil || failed.State != issuer.ImportFailed || !strings.Contains(failed.Error, "upload the same file again") {
		t.Fatalf("run with the key rotated away: %+v, %v", failed, err)
	}
	again, _, existing, err := im.Check(ctx, d.registrar, "demo", importInput(), file)
	if err != nil || !existing || again.ID != job.ID {
		t.Fatalf("upload again: %+v, existing %v, %v", again, existing, err)
	}
	if _, err := im.Start(ctx, d.registrar, "demo", job.ID); err != nil {
		t.Fatal(err)
	}
	done, err := im.Run(ctx, "demo", job.ID, nil)
	if err != nil || done.State != issuer.ImportDone || done.Issued != 3 {
		t.Fatalf("run after the upload again: %+v, %v", done, err)
	}
}

// TestImportCardsSkipErased: a person of a done import erased since gets
// no card, and the others' cards still print.
func TestImportCardsSkipErased(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	im, _ := d.importer(t)
	job, _, _, err := im.Check(ctx, d.registrar, "demo", importInput(), peopleCSV(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Start(ctx, d.registrar, "demo", job.ID); err != nil {
		t.Fatal(err)
	}
	if job, err = im.Run(ctx, "demo", job.ID, nil); err != nil || job.Issued != 3 {
		t.Fatalf("run: %+v, %v", job, err)
	}
	var regs []string
	if err := im.Rows(ctx, "demo", job.ID, func(r issuer.ImportRow) error {
		regs = append(regs, r.Registration)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.EraseRegistration(ctx, d.registrar, "demo", regs[1], issuer.EraseInput{Confirm: true}); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := im.Cards(ctx, "demo", job.ID, func(out issuer.Issued) error {
		if out.Record.Registration == regs[1] {
			t.Errorf("a card for the erased registration %s", regs[1])
		}
		n++
		return nil
	}); err != nil || n != 2 {
		t.Fatalf("cards: %d, %v", n, err)
	}
}

// TestImportStartTwiceAtOnce: start pressed many times at once starts
// the job, and audits it, once.
func TestImportStartTwiceAtOnce(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	im, _ := d.importer(t)
	job, _, _, err := im.Check(ctx, d.registrar, "demo", importInput(), peopleCSV(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := im.Start(ctx, d.registrar, "demo", job.ID); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n := 0
	for _, e := range d.entries(t) {
		if e.Action == audit.ActionImport {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d import entries in the audit log, want 1", n)
	}
}

// TestImportDiscardStale: the file of a job checked and never started is
// deleted a week on (its record stays); a running job's is not; uploading
// the same file again takes the job up.
func TestImportDiscardStale(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	im, store := d.importer(t)
	file := peopleCSV(1, 2)
	job, _, _, err := im.Check(ctx, d.registrar, "demo", importInput(), file)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := im.DiscardStale(ctx, d.now.Add(-time.Minute)); err != nil || n != 0 {
		t.Fatalf("a fresh job's file discarded: %d, %v", n, err)
	}
	if n, err := im.DiscardStale(ctx, d.now.Add(issuer.ImportFileKeep)); err != nil || n != 1 {
		t.Fatalf("a stale job's file: %d discarded, %v", n, err)
	}
	if _, err := store.ImportFile(ctx, "demo", job.ID); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("the file is still there: %v", err)
	}
	if kept, err := im.Job(ctx, "demo", job.ID); err != nil || kept.State != issuer.ImportChecked {
		t.Fatalf("the record: %+v, %v", kept, err)
	}
	if n, err := im.DiscardStale(ctx, d.now.Add(issuer.ImportFileKeep)); err != nil || n != 0 {
		t.Fatalf("discarded again: %d, %v", n, err)
	}
	if _, _, existing, err := im.Check(ctx, d.registrar, "demo", importInput(), file); err != nil || !existing {
		t.Fatalf("upload again: existing %v, %v", existing, err)
	}
	if _, err := im.Start(ctx, d.registrar, "demo", job.ID); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteImportFile(ctx, "demo", job.ID); !errors.Is(err, issuer.ErrStateChange) {
		t.Fatalf("a running job's file deleted: %v", err)
	}
	done, err := im.Run(ctx, "demo", job.ID, nil)
	if err != nil || done.State != issuer.ImportDone || done.Issued != 2 {
		t.Fatalf("run: %+v, %v", done, err)
	}
}
