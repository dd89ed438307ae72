package bulk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrChanged is the error of a pass of Rows over bytes that are not the
// ones Open read: the caller changed the file while the Sheet was in use.
var ErrChanged = errors.New("bulk: the file changed since it was opened")

// Sheet is a spreadsheet of people to register whose shape Open has
// checked: its columns match claims, and every row is within the limits.
// Its rows are read by Rows, as often as wanted, from the same bytes: the
// caller must not change them while the Sheet is in use. Passes may run
// at the same time when src allows concurrent ReadAt calls, as
// *os.File and *bytes.Reader do.
type Sheet struct {
	opts     Options
	limits   Limits
	format   Format
	csv      *csvFile
	book     *workbook
	head     *header
	headEnd  int // the line of the last header row
	hasHXL   bool
	total    int
	today    time.Time
	newTable func() (table, error)
}

// Open reads a CSV or XLSX file of size bytes from src: it tells the
// format from the bytes, the encoding and delimiter of a CSV file, finds
// the header (and an HXL hashtag row below it, or in its place), matches
// the columns to claims, and reads every row once to count them and check
// them against the limits. A file it cannot import is refused with a
// *FileError, before any row is handed out: an import never stops
// half-way for a reason of the file's shape.
//
// The rows' values are checked later, by Rows and DryRun: a bad value
// makes a bad row, not a bad file.
func Open(ctx context.Context, src io.ReaderAt, size int64, opts Options) (*Sheet, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	limits := opts.Limits.withDefaults()
	if size < 0 {
		return nil, errors.New("bulk: negative file size")
	}
	if size > limits.MaxFileBytes {
		return nil, fileError(ReasonFileTooLarge, 0, Column{}, sizeWords(limits.MaxFileBytes))
	}
	s := &Sheet{opts: opts, limits: limits, today: opts.now()}
	magic := make([]byte, min(size, 8))
	if _, err := src.ReadAt(magic, 0); err != nil && err != io.EOF {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(magic, []byte("PK\x03\x04")), bytes.HasPrefix(magic, []byte("PK\x05\x06")):
		s.format = FormatXLSX
		var err error
		if s.book, err = openXLSX(src, size, opts, limits); err != nil {
			return nil, err
		}
		s.newTable = s.book.table
	case bytes.HasPrefix(magic, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return nil, fileError(ReasonUnsupportedFormat, 0, Column{}, "an old Excel file (.xls), or a workbook with a password")
	default:
		s.format = FormatCSV
		f, err := openCSV(src, size, opts, limits)
		if err != nil {
			return nil, err
		}
		s.csv, s.newTable = f, f.table
	}
	if err := s.survey(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// survey is Open's pass over the rows: the header, the HXL row, the
// columns that hold data, the count of rows, and every limit.
func (s *Sheet) survey(ctx context.Context) error {
	t, err := s.newTable()
	if err != nil {
		return err
	}
	defer t.close()
	var head, hxl []cell
	headLine := 0
	var filled []bool
	for n := 0; ; n++ {
		if n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec, err := t.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := s.checkText(rec); err != nil {
			return err
		}
		if rec.blank() {
			continue
		}
		switch {
		case head == nil && hxl == nil:
			s.headEnd, headLine = rec.line, rec.line
			if isHXLRow(rec.cells) {
				hxl, s.hasHXL = slices.Clone(rec.cells), true
			} else {
				head = slices.Clone(rec.cells)
			}
			continue
		case hxl == nil && s.total == 0 && isHXLRow(rec.cells):
			hxl, s.hasHXL, s.headEnd = slices.Clone(rec.cells), true, rec.line
			continue
		}
		s.total++
		if s.total > s.limits.MaxRows {
			return fileError(ReasonTooManyRows, rec.line, Column{}, strconv.Itoa(s.limits.MaxRows))
		}
		for i, c := range rec.cells {
			if !c.blank() {
				for len(filled) <= i {
					filled = append(filled, false)
				}
				filled[i] = true
			}
		}
	}
	if head == nil && hxl == nil {
		return fileError(ReasonNoHeader, 0, Column{}, "")
	}
	s.head, err = matchColumns(head, hxl, headLine, filled)
	return err
}

// checkText refuses a CSV cell that holds U+FFFD, the mark of bytes that
// were not text in the file's encoding (here, or in an earlier conversion).
func (s *Sheet) checkText(rec record) error {
	if s.format != FormatCSV {
		return nil
	}
	for i, c := range rec.cells {
		if strings.ContainsRune(c.text, '\uFFFD') {
			return fileError(ReasonBadEncoding, rec.line, Column{Index: i, Letter: columnLetter(i)}, s.csv.enc.String())
		}
	}
	return nil
}

// Format is the file's format.
func (s *Sheet) Format() Format { return s.format }

// Encoding is a CSV file's encoding (zero for XLSX).
func (s *Sheet) Encoding() Encoding {
	if s.csv == nil {
		return 0
	}
	return s.csv.enc
}

// Delimiter is a CSV file's delimiter: ',', ';' or '\t' (zero for XLSX).
func (s *Sheet) Delimiter() rune {
	if s.csv == nil {
		return 0
	}
	return s.csv.comma
}

// SheetName is the name of the XLSX sheet read (empty for CSV).
func (s *Sheet) SheetName() string {
	if s.book == nil {
		return ""
	}
	return s.book.sheetName
}

// Columns lists the file's columns, from A to the last that has a header,
// a tag or a value.
func (s *Sheet) Columns() []Column { return slices.Clone(s.head.columns) }

// Unknown lists the columns that match no claim but hold a header, a tag
// or values: they are not read.
func (s *Sheet) Unknown() []Column { return s.head.unknown() }

// HasHXL reports whether the file has an HXL hashtag row.
func (s *Sheet) HasHXL() bool { return s.hasHXL }

// Total is the number of rows of data, blank rows aside.
func (s *Sheet) Total() int { return s.total }

func (s *Sheet) date1904() bool { return s.book != nil && s.book.date1904 }

// Progress is how far a pass over the rows has gone.
type Progress struct {
	// Rows counts the rows of data read so far, of TotalRows.
	Rows, TotalRows int
	// Bytes counts the bytes read so far, of TotalBytes: of the file for
	// CSV, of the unpacked sheet for XLSX. Reading runs a little ahead of
	// the rows handed out.
	Bytes, TotalBytes int64
}

// Percent is Rows of TotalRows, from 0 to 100 (100 for a file of no rows).
func (p Progress) Percent() float64 {
	if p.TotalRows == 0 {
		return 100
	}
	return 100 * float64(p.Rows) / float64(p.TotalRows)
}

// String is "1234 of 10000 rows".
func (p Progress) String() string { return fmt.Sprintf("%d of %d rows", p.Rows, p.TotalRows) }

// Rows reads the rows of data, in order, as Row values: a draft
// registration for a good row, the problems of a bad one. Blank rows are
// skipped. The error is not nil only when reading cannot go on — ctx is
// done, or the bytes changed since Open (ErrChanged, or the *FileError
// that Open would now return) — and then ends the sequence.
//
// A range over Rows can stop at any row; a new range starts again from
// the first.
func (s *Sheet) Rows(ctx context.Context) iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		t, err := s.newTable()
		if err != nil {
			yield(Row{}, err)
			return
		}
		defer t.close()
		seen := map[string]int{}
		n := 0
		for {
			if n%64 == 0 {
				if err := ctx.Err(); err != nil {
					yield(Row{}, err)
					return
				}
			}
			rec, err := t.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				yield(Row{}, err)
				return
			}
			if rec.line <= s.headEnd || rec.blank() {
				continue
			}
			n++
			if n > s.total {
				break
			}
			row := s.row(rec, seen)
			done, total := t.progress()
			row.Progress = Progress{Rows: n, TotalRows: s.total, Bytes: done, TotalBytes: total}
			if !yield(row, nil) {
				return
			}
		}
		if n != s.total {
			yield(Row{}, fmt.Errorf("%w (%d rows, then %d)", ErrChanged, s.total, n))
		}
	}
}

// DryRun reads every row and reports what an import would do, issuing
// nothing. progress, when not nil, is called after each row.
func (s *Sheet) DryRun(ctx context.Context, progress func(Progress)) (*Report, error) {
	rep := s.NewReport()
	for row, err := range s.Rows(ctx) {
		if err != nil {
			return nil, err
		}
		rep.Add(row)
		if progress != nil {
			progress(row.Progress)
		}
	}
	return rep, nil
}
