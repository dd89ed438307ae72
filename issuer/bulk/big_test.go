package bulk_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/tally-id/tally/issuer/bulk"
)

// generated is a CSV file of n people like the sample's, with a bad date
// of birth on every badEvery-th row (none when badEvery is 0).
func generated(n, badEvery int) []byte {
	var b bytes.Buffer
	b.Write(csvOf(sampleHeader, sampleTags))
	genders := []string{"female", "male", "F", "M", "Female"}
	for i := 1; i <= n; i++ {
		birth := fmt.Sprintf("%04d-%02d-%02d", 1940+i%70, 1+i%12, 1+i%28)
		if i%3 == 0 {
			birth = fmt.Sprintf("%02d/%02d/%04d", 13+i%16, 1+i%12, 1940+i%70) // day-first, unambiguous
		}
		if badEvery > 0 && i%badEvery == 0 {
			birth = "31/02/1990"
		}
		first, last := fmt.Sprintf("Given%d", i), fmt.Sprintf("Family%d", i%97)
		fmt.Fprintf(&b, "KE-DAD-2026-%06d,%s Hassan %s,%s,%s,%s,%s,SO,refugee,KE-DADAAB-HSP%d,som,MPCA-2026,%d\r\n",
			i, first, last, first, last, birth, genders[i%len(genders)], 1+i%4, 1+i%9)
	}
	return b.Bytes()
}

// TestTenThousandRows reads a generated file of 10,000 rows, one in 500
// bad: every bad row is reported on its line, the good ones come with
// distinct keys, and the progress rises to the whole file.
func TestTenThousandRows(t *testing.T) {
	const n, badEvery = 10_000, 500
	data := generated(n, badEvery)
	s := openSheet(t, data, bulk.Options{})
	if s.Total() != n {
		t.Fatalf("Total %d, want %d", s.Total(), n)
	}
	var calls int
	var prev bulk.Progress
	rep, err := s.DryRun(context.Background(), func(p bulk.Progress) {
		calls++
		if p.Rows != prev.Rows+1 || p.TotalRows != n || p.Bytes < prev.Bytes || p.TotalBytes != int64(len(data)) {
			t.Fatalf("progress %+v after %+v", p, prev)
		}
		prev = p
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != n || prev.Bytes != int64(len(data)) || prev.Percent() != 100 {
		t.Fatalf("%d progress calls, last %+v", calls, prev)
	}
	if rep.Good != n-n/badEvery || rep.Bad != n/badEvery || len(rep.Problems) != n/badEvery {
		t.Fatalf("%d good, %d bad, %d problems", rep.Good, rep.Bad, len(rep.Problems))
	}
	for i, p := range rep.Problems {
		if line := 2 + (i+1)*badEvery; p.Line != line || p.Reason != bulk.ReasonDate || p.Column.Letter != "E" {
			t.Fatalf("problem %d: %v, want a date on line %d", i, p, line)
		}
	}
	keys := map[string]bool{}
	for row, err := range s.Rows(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if keys[row.Key] {
			t.Fatalf("line %d: key %s again", row.Line, row.Key)
		}
		keys[row.Key] = true
	}
}
