package bulk

import (
	"fmt"
	"io"
	"strings"
)

// Report says what an import of a file would do, or did: which columns it
// read, how many rows were good, and every problem of every bad row, by
// line. A dry run (Sheet.DryRun) fills one and issues nothing; an import
// that ranges over Sheet.Rows can fill one too, with Add.
type Report struct {
	Format    Format
	Encoding  Encoding // CSV only
	Delimiter rune     // CSV only
	SheetName string   // XLSX only
	HasHXL    bool
	// Columns are all the file's columns; Unknown those that match no
	// claim and are not read.
	Columns, Unknown []Column
	// Rows counts the rows of data read; Good those with a draft; Bad
	// those with problems.
	Rows, Good, Bad int
	// Problems lists every problem of every bad row, in the order of the
	// lines.
	Problems []*Error
	// Dates counts the dates of birth written with slashes by what they
	// say about the file's date order.
	Dates DateEvidence
}

// DateEvidence counts dates written like 14/03/1991 (only day-first reads
// them), 03/14/1991 (only month-first), and 03/04/1991 (either).
type DateEvidence struct {
	DayFirst, MonthFirst, Ambiguous int
}

// Suggest returns the date order the unambiguous dates agree on, when some
// dates are ambiguous and at least one says which order the file uses, and
// none says the other; else DateOrderUnknown. An import may offer it to
// the officer: it is not applied without being asked for.
func (d DateEvidence) Suggest() DateOrder {
	switch {
	case d.Ambiguous == 0:
		return DateOrderUnknown
	case d.DayFirst > 0 && d.MonthFirst == 0:
		return DayFirst
	case d.MonthFirst > 0 && d.DayFirst == 0:
		return MonthFirst
	}
	return DateOrderUnknown
}

// NewReport returns an empty report of the sheet, for Add.
func (s *Sheet) NewReport() *Report {
	return &Report{
		Format:    s.Format(),
		Encoding:  s.Encoding(),
		Delimiter: s.Delimiter(),
		SheetName: s.SheetName(),
		HasHXL:    s.HasHXL(),
		Columns:   s.Columns(),
		Unknown:   s.Unknown(),
	}
}

// Add counts one row.
func (r *Report) Add(row Row) {
	r.Rows++
	if row.OK() {
		r.Good++
	} else {
		r.Bad++
		r.Problems = append(r.Problems, row.Problems...)
	}
	switch row.dates {
	case dateDayFirst:
		r.Dates.DayFirst++
	case dateMonthFirst:
		r.Dates.MonthFirst++
	case dateAmbiguous:
		r.Dates.Ambiguous++
	}
}

// WriteTo writes the report in plain words, for a terminal or a log: no
// value from the file, only its headers.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	switch r.Format {
	case FormatCSV:
		fmt.Fprintf(&b, "CSV file, %s, columns separated by %s", r.Encoding, delimiterName(r.Delimiter))
	case FormatXLSX:
		fmt.Fprintf(&b, "Excel workbook, sheet %q", r.SheetName)
	}
	if r.HasHXL {
		b.WriteString(", with an HXL hashtag row")
	}
	b.WriteString(".\n")
	for _, c := range r.Columns {
		if c.Claim != "" {
			fmt.Fprintf(&b, "  column %s: %s\n", c, claimLabel(c.Claim))
		}
	}
	for _, c := range r.Unknown {
		fmt.Fprintf(&b, "  column %s: not read (it matches nothing a registration holds)\n", c)
	}
	fmt.Fprintf(&b, "%d rows: %d good, %d with problems.\n", r.Rows, r.Good, r.Bad)
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "  %s\n", p)
	}
	switch r.Dates.Suggest() {
	case DayFirst:
		fmt.Fprintf(&b, "The dates of birth look day-first (DD/MM/YYYY): import again saying so to read the %d that could be either.\n", r.Dates.Ambiguous)
	case MonthFirst:
		fmt.Fprintf(&b, "The dates of birth look month-first (MM/DD/YYYY): import again saying so to read the %d that could be either.\n", r.Dates.Ambiguous)
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

func delimiterName(d rune) string {
	switch d {
	case ',':
		return "commas"
	case ';':
		return "semicolons"
	case '\t':
		return "tabs"
	}
	return fmt.Sprintf("%q", d)
}
