package bulk

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
)

// csvFile is what Open learnt about a CSV file: enough to read it again
// from the start, any number of times.
type csvFile struct {
	src    io.ReaderAt
	size   int64
	enc    Encoding
	bom    int
	comma  rune
	limits Limits
}

// headBytes is how much of the decoded file the delimiter is told from.
const headBytes = 64 << 10

// openCSV tells the encoding and the delimiter of a CSV file.
func openCSV(src io.ReaderAt, size int64, opts Options, limits Limits) (*csvFile, error) {
	st, err := scanText(io.NewSectionReader(src, 0, size))
	if err != nil {
		return nil, err
	}
	head := make([]byte, min(size, 4))
	if _, err := src.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, err
	}
	enc, bom, err := detectEncoding(head, st, opts.Encoding)
	if err != nil {
		return nil, err
	}
	f := &csvFile{src: src, size: size, enc: enc, bom: bom, limits: limits}
	br, _, err := f.text()
	if err != nil {
		return nil, err
	}
	peek, _ := br.Peek(headBytes)
	if comma, ok := sepLine(peek); ok {
		f.comma = comma
	} else {
		f.comma = detectComma(peek)
	}
	return f, nil
}

// text returns the file decoded to UTF-8, after its byte order mark, and
// the reader that counts the file's bytes read.
func (f *csvFile) text() (*bufio.Reader, *countingReader, error) {
	counter := &countingReader{r: io.NewSectionReader(f.src, int64(f.bom), f.size-int64(f.bom))}
	br := bufio.NewReaderSize(decoder(counter, f.enc), headBytes)
	peek, err := br.Peek(headBytes)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, nil, err
	}
	if bytes.IndexByte(peek, '\r') >= 0 && bytes.IndexByte(peek, '\n') < 0 {
		// Lines end in a lone CR: read them as LF.
		br = bufio.NewReaderSize(crToLF{br}, headBytes)
	}
	return br, counter, nil
}

// sepLine reads Excel's "sep=;" first line, which names the delimiter.
func sepLine(head []byte) (rune, bool) {
	line, _, _ := bytes.Cut(head, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if len(line) != 5 || !strings.EqualFold(string(line[:4]), "sep=") {
		return 0, false
	}
	switch c := rune(line[4]); c {
	case ',', ';', '\t', '|':
		return c, true
	}
	return 0, false
}

// detectComma returns the delimiter that occurs most, outside quotes, in
// the first row: tab, then semicolon, then comma when they tie, as a
// comma is the likeliest of the three inside a header's words.
func detectComma(head []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, b := range head {
		if b == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		if b == '\n' {
			break
		}
		counts[b]++
	}
	best, n := byte(','), 0
	for _, c := range []byte{'\t', ';', ','} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return rune(best)
}

// csvTable is one pass over a CSV file.
type csvTable struct {
	f       *csvFile
	r       *csv.Reader
	counter *countingReader
	// row is the spreadsheet line of the last record, and end the physical
	// line it ended on: a spreadsheet shows each blank line as a row, and
	// a cell with line breaks in one row.
	row, end int
	cells    []cell
}

func (f *csvFile) table() (table, error) {
	br, counter, err := f.text()
	if err != nil {
		return nil, err
	}
	t := &csvTable{f: f, counter: counter}
	if peek, _ := br.Peek(headBytes); len(peek) > 0 {
		if _, ok := sepLine(peek); ok {
			// Excel hides the sep= line: the header is still line 1, and
			// encoding/csv counts lines from the one after it.
			if _, err := br.ReadString('\n'); err != nil && err != io.EOF {
				return nil, err
			}
		}
	}
	t.r = csv.NewReader(br)
	t.r.Comma = f.comma
	t.r.FieldsPerRecord = -1
	t.r.ReuseRecord = true
	return t, nil
}

func (t *csvTable) next() (record, error) {
	fields, err := t.r.Read()
	if err == io.EOF {
		return record{}, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			line := t.row + pe.StartLine - t.end
			detail := "a quote mark (\") is out of place"
			switch {
			case errors.Is(pe.Err, csv.ErrQuote):
				detail = "a cell opens with a quote mark (\") that is not closed where the cell ends"
			case errors.Is(pe.Err, csv.ErrBareQuote):
				detail = "a quote mark (\") stands inside a cell that does not start with one"
			}
			return record{}, fileError(ReasonMalformedCSV, line, Column{}, detail)
		}
		return record{}, err
	}
	start, _ := t.r.FieldPos(0)
	last, _ := t.r.FieldPos(len(fields) - 1)
	t.row += start - t.end
	t.end = last + strings.Count(fields[len(fields)-1], "\n")
	t.cells = t.cells[:0]
	for i, s := range fields {
		if len(s) > t.f.limits.MaxCellBytes {
			return record{}, fileError(ReasonCellTooLong, t.row, Column{Index: i, Letter: columnLetter(i)}, sizeWords(int64(t.f.limits.MaxCellBytes)))
		}
		t.cells = append(t.cells, cell{text: s})
	}
	t.cells = trimCells(t.cells)
	if len(t.cells) > t.f.limits.MaxColumns {
		return record{}, fileError(ReasonTooManyColumns, t.row, Column{}, strconv.Itoa(t.f.limits.MaxColumns))
	}
	return record{line: t.row, cells: t.cells}, nil
}

func (t *csvTable) progress() (int64, int64) { return int64(t.f.bom) + t.counter.n, t.f.size }

func (t *csvTable) close() error { return nil }
