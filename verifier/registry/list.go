package registry

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ListHeader is the first line of a token list, version 1 of the format
// (docs/consortium.md). It never changes: a later version gets another
// header.
const ListHeader = "domain,token,programme,month,count"

var listColumns = strings.Split(ListHeader, ",")

// Limits on a token list, so that a list cannot exhaust the machine that
// reads it: a row is about 60 bytes.
const (
	MaxListRows  = 2_000_000
	MaxListBytes = 256 << 20
	maxRowCount  = 1_000_000
)

// List is a domain's token list: what reconciliation needs and nothing
// more. Every row is one token in one programme and month, with the
// number of scans; no personal data, no service point, no time finer
// than the month.
type List struct {
	Domain string
	Rows   []ListRow
}

// ListRow is one token seen under one programme in one month.
type ListRow struct {
	Token     string
	Programme string
	Month     Month
	Count     int
}

func compareRows(a, b ListRow) int {
	return cmp.Or(strings.Compare(a.Token, b.Token), strings.Compare(a.Programme, b.Programme), strings.Compare(string(a.Month), string(b.Month)))
}

// Check reports the first bad row of a list built in code (ParseList
// checks as it reads): line numbers count the header as line 1.
func (l List) Check() error {
	if err := checkIdentifier(l.Domain); err != nil {
		return invalid("domain", "%v", err)
	}
	if len(l.Rows) > MaxListRows {
		return invalid("rows", "a list has at most %d rows", MaxListRows)
	}
	seen := make(map[ListRow]int, len(l.Rows))
	for i, r := range l.Rows {
		line := i + 2
		if err := r.check(line, seen); err != nil {
			return err
		}
	}
	return nil
}

// check reports a bad row at line; seen maps each row's key (its count
// zeroed) to its line, to find a row given twice.
func (r ListRow) check(line int, seen map[ListRow]int) error {
	bad := func(col int, format string, args ...any) error {
		return &CSVError{Line: line, Column: col + 1, Field: listColumns[col], Problem: fmt.Sprintf(format, args...)}
	}
	if err := CheckToken(r.Token); err != nil {
		return bad(1, "%v", err)
	}
	if err := checkProgramme(r.Programme); err != nil {
		return bad(2, "the programme code is wrong: %v", err)
	}
	if err := checkMonth(string(r.Month)); err != nil {
		return bad(3, "%v", err)
	}
	if r.Count < 1 || r.Count > maxRowCount {
		return bad(4, "the count must be a whole number from 1 to %d", maxRowCount)
	}
	key := r
	key.Count = 0
	if first, dup := seen[key]; dup {
		return bad(1, "this token, programme and month are on line %d already", first)
	}
	seen[key] = line
	return nil
}

// WriteCSV writes the list in the token list format: the header, then one
// line per row, in the list's order, each ending in a line feed.
func (l List) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(ListHeader + "\n")
	var buf []byte
	for _, r := range l.Rows {
		// Every field is an identifier, a token, a month or a number: none
		// needs quoting.
		buf = append(buf[:0], l.Domain...)
		buf = append(buf, ',')
		buf = append(buf, r.Token...)
		buf = append(buf, ',')
		buf = append(buf, r.Programme...)
		buf = append(buf, ',')
		buf = append(buf, r.Month...)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(r.Count), 10)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ParseList reads a token list in CSV. domain, when not empty, is the
// domain the list must be of. The first problem comes back as a *CSVError
// with its line and column; a list with a problem gives no rows at all.
func ParseList(r io.Reader, domain string) (List, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxListBytes+1))
	if err != nil {
		return List{}, err
	}
	if len(data) > MaxListBytes {
		return List{}, &CSVError{Line: 1, Column: 1, Problem: fmt.Sprintf("the list is larger than %d MiB", MaxListBytes>>20)}
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF")) // a spreadsheet's byte order mark
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = len(listColumns)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return List{}, &CSVError{Line: 1, Column: 1, Problem: "the file is empty: a token list starts with the line " + ListHeader}
	}
	if err != nil {
		return List{}, csvError(data, err)
	}
	for i, name := range listColumns {
		if header[i] != name {
			return List{}, &CSVError{Line: 1, Column: i + 1, Problem: fmt.Sprintf("column %d of the header must be %q, not %q: a token list starts with the line %s", i+1, name, clip(header[i]), ListHeader)}
		}
	}
	l := List{Domain: domain}
	seen := map[ListRow]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return List{}, csvError(data, err)
		}
		line, _ := cr.FieldPos(0)
		if len(l.Rows) == MaxListRows {
			return List{}, &CSVError{Line: line, Column: 1, Problem: fmt.Sprintf("a list has at most %d rows", MaxListRows)}
		}
		if err := checkIdentifier(rec[0]); err != nil {
			return List{}, &CSVError{Line: line, Column: 1, Field: listColumns[0], Problem: "the domain id is wrong: " + err.Error()}
		}
		if l.Domain == "" {
			l.Domain = rec[0]
		} else if rec[0] != l.Domain {
			return List{}, &CSVError{Line: line, Column: 1, Field: listColumns[0], Problem: fmt.Sprintf("this row is of domain %q, but the list is of domain %q: tokens of two domains cannot be compared", clip(rec[0]), l.Domain)}
		}
		row := ListRow{Token: rec[1], Programme: rec[2], Month: Month(rec[3])}
		count, err := strconv.Atoi(rec[4])
		if err != nil || rec[4] == "" || rec[4][0] < '0' || rec[4][0] > '9' {
			return List{}, &CSVError{Line: line, Column: 5, Field: listColumns[4], Problem: fmt.Sprintf("the count must be a whole number from 1 to %d", maxRowCount)}
		}
		row.Count = count
		if err := row.check(line, seen); err != nil {
			return List{}, err
		}
		l.Rows = append(l.Rows, row)
	}
	if l.Domain == "" {
		return List{}, &CSVError{Line: 2, Column: 1, Problem: "the list has a header but no rows, so it names no domain"}
	}
	return l, nil
}

// csvError turns encoding/csv's error into a *CSVError. encoding/csv
// counts columns in bytes; a CSVError counts fields.
func csvError(data []byte, err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	column := 1
	if lines := bytes.SplitN(data, []byte("\n"), pe.Line+1); pe.Line >= 1 && pe.Line <= len(lines) {
		line := lines[pe.Line-1]
		column += bytes.Count(line[:min(max(pe.Column-1, 0), len(line))], []byte(","))
	}
	problem := pe.Err.Error()
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		problem = fmt.Sprintf("a line has %d fields: %s", len(listColumns), ListHeader)
	case errors.Is(pe.Err, csv.ErrBareQuote), errors.Is(pe.Err, csv.ErrQuote):
		problem = "a quote (\") is out of place: no field of a token list needs quotes"
	}
	return &CSVError{Line: pe.Line, Column: column, Problem: problem}
}

// clip shortens what a bad input quoted back, so that an error stays one
// readable line.
func clip(s string) string {
	const n = 40
	if len(s) <= n {
		return strings.ToValidUTF8(s, "?")
	}
	return strings.ToValidUTF8(s[:n], "?") + "…"
}
