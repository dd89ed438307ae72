package bulk_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/tally-id/tally/issuer/bulk"
)

// readAll opens a file and reads every row, as an import does.
func readAll(b *testing.B, data []byte) {
	s, err := bulk.Open(context.Background(), bytes.NewReader(data), int64(len(data)), bulk.Options{})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for row, err := range s.Rows(context.Background()) {
		if err != nil || !row.OK() {
			b.Fatalf("line %d: %v %v", row.Line, err, row.Problems)
		}
		n++
	}
	if n != 10_000 {
		b.Fatalf("%d rows", n)
	}
}

// benchRatio alternates the baseline and the read, and reports rows per
// second and the read's time as a multiple of the baseline's, from the
// best time of each: ratios, which a busy machine disturbs far less than
// times. ns/op is the two together.
func benchRatio(b *testing.B, data []byte, baseline func()) {
	bestBase, bestRead := time.Hour, time.Hour
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		baseline()
		bestBase = min(bestBase, time.Since(start))
		start = time.Now()
		readAll(b, data)
		bestRead = min(bestRead, time.Since(start))
	}
	b.ReportMetric(10_000/bestRead.Seconds(), "rows/s")
	b.ReportMetric(float64(bestRead)/float64(bestBase), "x-baseline")
}

// BenchmarkRead10000Rows reads a CSV file of 10,000 rows into drafts: Open
// (encoding, delimiter, header, a pass to count and check the rows) and
// Rows (a second pass, values read and validated). The baseline is
// encoding/csv splitting the same file into cells, once.
func BenchmarkRead10000Rows(b *testing.B) {
	data := generated(10_000, 0)
	benchRatio(b, data, func() {
		r := csv.NewReader(bytes.NewReader(data))
		r.ReuseRecord = true
		for {
			if _, err := r.Read(); err == io.EOF {
				return
			} else if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRead10000RowsXLSX reads the same rows from an XLSX workbook
// written by excelize. The baseline is excelize reading the sheet's cells
// with its row iterator.
func BenchmarkRead10000RowsXLSX(b *testing.B) {
	lines := strings.Split(strings.TrimSpace(string(generated(10_000, 0))), "\r\n")
	data := workbook(b, func(f *excelize.File) {
		sw, err := f.NewStreamWriter("Sheet1")
		must(b, err)
		for i, line := range lines {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			must(b, sw.SetRow(cell, anys(strings.Split(line, ","))))
		}
		must(b, sw.Flush())
	})
	benchRatio(b, data, func() {
		f, err := excelize.OpenReader(bytes.NewReader(data))
		must(b, err)
		defer f.Close()
		rows, err := f.Rows("Sheet1")
		must(b, err)
		for rows.Next() {
			if _, err := rows.Columns(); err != nil {
				b.Fatal(err)
			}
		}
		must(b, rows.Close())
	})
}
