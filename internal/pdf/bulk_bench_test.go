package pdf

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer/bulk"
)

// bulkCSV writes a spreadsheet of n people to register, with the header
// and HXL rows of ../shared/samples/beneficiaries.csv.
func bulkCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("Registration ID,Full name,First name,Last name,Date of birth,Gender,Nationality,Legal status,Location,Language,Programme,Household size\n")
	b.WriteString("#beneficiary+id,#beneficiary+name,#beneficiary+name+first,#beneficiary+name+last,#date+birth,#beneficiary+gender,#country+code+nationality,#status+legal,#loc+code,#meta+lang,#activity+code,#household+size\n")
	first := []string{"Fatima", "Amina", "Cabdiraxmaan", "Hodan", "Mohamed", "Asha", "Yusuf", "Abdirahman"}
	last := []string{"Abdi", "Warsame", "Mohamed", "Osman", "Cumar", "Xuseen"}
	genders := []string{"female", "female", "male", "female", "male", "female", "male", "male"}
	for i := range n {
		f, l := first[i%len(first)], last[i/len(first)%len(last)]
		fmt.Fprintf(&b, "KE-DAD-2026-%06d,%s Hassan %s,%s,%s,19%02d-%02d-%02d,%s,SO,refugee,KE-DADAAB-HSP1,som,MPCA-2026,%d\n",
			i+1, f, l, f, l, 60+i%40, 1+i%12, 1+i%28, genders[i%len(genders)], 1+i%9)
	}
	return b.Bytes()
}

// BenchmarkBulk10000RowsToPDF is the issue's bulk target end to end: a
// 10,000-row spreadsheet read and checked, every row made a registration
// credential with a fresh dedup seed, signed as a QR card (on every core),
// and all the cards printed on A4 sheets. Target: ≤ 20 s on two cores.
//
//	go test ./internal/pdf -run '^$' -bench Bulk10000RowsToPDF -benchtime 1x
func BenchmarkBulk10000RowsToPDF(b *testing.B) {
	const rows = 10000
	data := bulkCSV(rows)
	key := testIssuer(b)
	p, err := NewPrinter()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	var written countingWriter
	for b.Loop() {
		written = countingWriter{}
		ctx := context.Background()
		sheet, err := bulk.Open(ctx, bytes.NewReader(data), int64(len(data)), bulk.Options{Now: func() time.Time { return now }})
		if err != nil {
			b.Fatal(err)
		}
		// Rows are read in order, signed by one worker a core, and printed in
		// the order they were read.
		type job struct {
			draft *credentials.Credential
			out   chan Card
		}
		jobs := make(chan job, 64)
		order := make(chan chan Card, 256)
		var wg sync.WaitGroup
		var failed error
		var once sync.Once
		for range runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range jobs {
					c := j.draft
					c.ValidFrom, c.ValidUntil = now, now.AddDate(1, 0, 0)
					if err := credentials.Prepare(c, key.DID, rand.Reader); err != nil {
						once.Do(func() { failed = err })
						close(j.out)
						continue
					}
					qr, err := credentials.IssueCard(c, key, now)
					if err != nil {
						once.Do(func() { failed = err })
						close(j.out)
						continue
					}
					j.out <- CardFor(c, qr, "Dadaab Humanitarian Service Point", "en", "so", "ar")
				}
			}()
		}
		printed := make(chan error, 1)
		go func() {
			s := p.NewSheetWriter(&written)
			n := 0
			for ch := range order {
				card, ok := <-ch
				if !ok {
					continue
				}
				if err := s.Add(card); err != nil {
					printed <- err
					for range order {
					}
					return
				}
				n++
			}
			if n != rows {
				printed <- fmt.Errorf("printed %d cards of %d", n, rows)
				return
			}
			printed <- s.Close()
		}()
		for row, err := range sheet.Rows(ctx) {
			if err != nil {
				b.Fatal(err)
			}
			if !row.OK() {
				b.Fatalf("line %d: %v", row.Line, row.Problems[0])
			}
			ch := make(chan Card, 1)
			order <- ch
			jobs <- job{draft: row.Draft, out: ch}
		}
		close(jobs)
		close(order)
		wg.Wait()
		if err := <-printed; err != nil {
			b.Fatal(err)
		}
		if failed != nil {
			b.Fatal(failed)
		}
	}
	b.ReportMetric(float64(written.n)/1e6, "MB-pdf")
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/10000-rows")
}
