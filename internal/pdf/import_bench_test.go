package pdf

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/internal/peopletest"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
)

// BenchmarkImport10000RowsToPDF is the bulk target with everything an
// import does: a 10,000-row spreadsheet checked, each row registered
// (duplicate check, sealed record, blind indexes, consent, audit entry)
// and its card issued (status entry, signature, audit entry) in bbolt on
// disk, then every card signed again and printed on A4 sheets. Target:
// ≤ 20 s on two cores.
//
//	go test ./internal/pdf -run '^$' -bench Import10000RowsToPDF -benchtime 1x
func BenchmarkImport10000RowsToPDF(b *testing.B) {
	rows := benchImportRows
	data := peopletest.CSV("KE-B", rows)
	p, err := NewPrinter()
	if err != nil {
		b.Fatal(err)
	}
	var written countingWriter
	var importing, printing time.Duration
	for b.Loop() {
		b.StopTimer()
		ctx := context.Background()
		db, err := bolt.Open(filepath.Join(b.TempDir(), bolt.FileName))
		if err != nil {
			b.Fatal(err)
		}
		now := func() time.Time { return time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC) }
		opts := issuer.Options{MasterKey: []byte("river lantern cobalt pepper"), Now: now, ScryptN: credentials.LowestScryptN,
			Password: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}, BaseURL: "https://tally.example"}
		desk, err := issuer.New(db.Stores(), opts)
		if err != nil {
			b.Fatal(err)
		}
		sys := issuer.SystemPrincipal("bench")
		if _, _, _, err := desk.CreateOrganisation(ctx, issuer.NewOrganisation{Slug: "demo", Name: "Dadaab Humanitarian Service Point", Host: "tally.example",
			Admin: issuer.NewStaff{Name: "Admin", Username: "admin"}}); err != nil {
			b.Fatal(err)
		}
		if _, err := desk.CreateProgramme(ctx, sys, "demo", issuer.ProgrammeInput{Code: "MPCA-2026", Name: "Cash", Languages: []string{"en", "so", "ar"}, RetentionMonths: 24,
			CredentialTypes: []string{"RegistrationCredential"}, Purpose: "Monthly cash assistance."}); err != nil {
			b.Fatal(err)
		}
		st, _, err := desk.CreateStaff(ctx, sys, "demo", issuer.NewStaff{Name: "Rania", Username: "rania", Role: issuer.RoleRegistrar})
		if err != nil {
			b.Fatal(err)
		}
		auditStore, err := bolt.NewAuditStore(db.Bolt())
		if err != nil {
			b.Fatal(err)
		}
		opts.Audit = audit.NewLog(auditStore.Batched(), audit.Options{Now: now, Programmes: db})
		svc, err := issuer.New(db.Batched().Stores(), opts)
		if err != nil {
			b.Fatal(err)
		}
		store, err := bolt.NewImportStore(db)
		if err != nil {
			b.Fatal(err)
		}
		im := issuer.NewImporter(svc, store, issuer.ImporterOptions{})
		by := issuer.Principal{Org: "demo", Role: issuer.RoleRegistrar, StaffID: st.ID}
		written = countingWriter{}
		b.StartTimer()

		start := time.Now()
		job, _, _, err := im.Check(ctx, by, "demo", issuer.ImportInput{Programme: "MPCA-2026",
			Consent: issuer.ConsentInput{Given: true, Method: issuer.ConsentWritten, Language: "so"}}, data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := im.Start(ctx, by, "demo", job.ID); err != nil {
			b.Fatal(err)
		}
		if job, err = im.Run(ctx, "demo", job.ID, nil); err != nil {
			b.Fatal(err)
		}
		if job.Issued != rows {
			b.Fatalf("issued %d of %d (%d refused)", job.Issued, rows, job.Failed)
		}
		importing += time.Since(start)
		start = time.Now()
		n, err := p.WriteImportCards(ctx, &written, im, "demo", job.ID)
		if err != nil || n != rows {
			b.Fatalf("printed %d cards: %v", n, err)
		}
		printing += time.Since(start)

		b.StopTimer()
		im.Close()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(written.n)/1e6, "MB-pdf")
	b.ReportMetric(importing.Seconds()/float64(b.N), "s-import")
	b.ReportMetric(printing.Seconds()/float64(b.N), "s-pdf")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/10000-rows")
}

var benchImportRows = 10000
