package bulk

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxSheetRows is the last row a sheet can have (Excel's 1,048,576).
const maxSheetRows = 1 << 20

// xlsxTable is one pass over a worksheet's rows (ECMA-376 Part 1, 18.3.1:
// sheetData, row, c, v, is).
type xlsxTable struct {
	wb      *workbook
	rc      io.ReadCloser
	counter *countingReader
	d       *xml.Decoder
	total   int64
	row     int // the number of the last row read
	cells   []cell
	done    bool
}

func (wb *workbook) table() (table, error) {
	rc, err := wb.open(wb.sheetPart)
	if err != nil {
		return nil, err
	}
	counter := &countingReader{r: rc}
	return &xlsxTable{
		wb:      wb,
		rc:      rc,
		counter: counter,
		d:       xml.NewDecoder(bufio.NewReaderSize(counter, 32<<10)),
		total:   int64(wb.files[wb.sheetPart].UncompressedSize64),
	}, nil
}

func (t *xlsxTable) progress() (int64, int64) { return t.counter.n, t.total }

func (t *xlsxTable) close() error { return t.rc.Close() }

func (t *xlsxTable) malformed(what string) error {
	return fileError(ReasonMalformedXLSX, t.row, Column{}, what)
}

func (t *xlsxTable) next() (record, error) {
	if t.done {
		return record{}, io.EOF
	}
	for {
		tok, err := t.d.Token()
		if err == io.EOF {
			t.done = true
			return record{}, io.EOF
		}
		if err != nil {
			return record{}, partError(t.wb.sheetPart, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Local == "row" {
				return t.readRow(tok)
			}
		case xml.EndElement:
			if tok.Name.Local == "sheetData" {
				// What follows the cells (merges, filters, drawings)
				// is not read.
				t.done = true
				return record{}, io.EOF
			}
		}
	}
}

// readRow reads one row element, its start already read.
func (t *xlsxTable) readRow(start xml.StartElement) (record, error) {
	n := t.row + 1
	if r := attr(start, "r"); r != "" {
		v, err := strconv.Atoi(r)
		if err != nil || v <= t.row || v > maxSheetRows {
			return record{}, t.malformed(fmt.Sprintf("the rows of %s are out of order after line %d", t.wb.sheetPart, t.row))
		}
		n = v
	}
	t.row = n
	t.cells = t.cells[:0]
	col := -1
	for {
		tok, err := t.d.Token()
		if err != nil {
			if err == io.EOF {
				return record{}, t.malformed(t.wb.sheetPart + " ends inside a row")
			}
			return record{}, partError(t.wb.sheetPart, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Local != "c" {
				if err := t.d.Skip(); err != nil {
					return record{}, partError(t.wb.sheetPart, err)
				}
				continue
			}
			col++
			if ref := attr(tok, "r"); ref != "" {
				letters := strings.TrimRight(ref, "0123456789")
				i, ok := columnIndex(letters, maxSheetColumns)
				if !ok || i < col {
					return record{}, t.malformed(fmt.Sprintf("a cell of %s names no column, or its columns are out of order", t.wb.sheetPart))
				}
				col = i
			}
			c, err := t.readCell(tok)
			if err != nil {
				return record{}, err
			}
			if c.blank() {
				continue
			}
			if col >= t.wb.limits.MaxColumns {
				return record{}, fileError(ReasonTooManyColumns, t.row, Column{Index: col, Letter: columnLetter(col)}, strconv.Itoa(t.wb.limits.MaxColumns))
			}
			if len(c.text) > t.wb.limits.MaxCellBytes {
				return record{}, fileError(ReasonCellTooLong, t.row, Column{Index: col, Letter: columnLetter(col)}, sizeWords(int64(t.wb.limits.MaxCellBytes)))
			}
			for len(t.cells) < col {
				t.cells = append(t.cells, cell{})
			}
			t.cells = append(t.cells, c)
		case xml.EndElement:
			return record{line: t.row, cells: t.cells}, nil
		}
	}
}

// maxSheetColumns is the last column a sheet can have (Excel's XFD).
const maxSheetColumns = 16384

// readCell reads one c element, its start already read: its value <v>, or
// its inline string <is>, typed by its t attribute and, for numbers, by
// whether its format (s) shows a date.
func (t *xlsxTable) readCell(start xml.StartElement) (cell, error) {
	typ := attr(start, "t")
	var v, inline strings.Builder
	depth, phonetic := 0, 0
	var in string // the element whose text is being read: v, or t inside is
	for depth >= 0 {
		tok, err := t.d.Token()
		if err != nil {
			if err == io.EOF {
				return cell{}, t.malformed(t.wb.sheetPart + " ends inside a cell")
			}
			return cell{}, partError(t.wb.sheetPart, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			switch tok.Name.Local {
			case "v":
				in = "v"
			case "t":
				if phonetic == 0 {
					in = "t"
				}
			case "rPh":
				phonetic++
			}
		case xml.EndElement:
			depth--
			switch tok.Name.Local {
			case "v", "t":
				in = ""
			case "rPh":
				phonetic--
			}
		case xml.CharData:
			switch in {
			case "v":
				v.Write(tok)
			case "t":
				inline.Write(tok)
			}
		}
		// Cells far over the limit are refused before they are all read.
		if v.Len() > t.wb.limits.MaxCellBytes || inline.Len() > t.wb.limits.MaxCellBytes {
			return cell{}, fileError(ReasonCellTooLong, t.row, Column{}, sizeWords(int64(t.wb.limits.MaxCellBytes)))
		}
	}
	switch typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(v.String()))
		if v.Len() == 0 {
			return cell{}, nil
		}
		if err != nil || i < 0 || i >= t.wb.shared.len() {
			return cell{}, t.malformed(fmt.Sprintf("a cell of %s refers to a shared string that is not there", t.wb.sheetPart))
		}
		return cell{text: t.wb.shared.get(i)}, nil
	case "inlineStr":
		return cell{text: unescapeOOXML(inline.String())}, nil
	case "str":
		return cell{text: unescapeOOXML(v.String())}, nil
	case "b":
		if strings.TrimSpace(v.String()) == "1" {
			return cell{kind: cellBool, text: "TRUE"}, nil
		}
		if v.Len() == 0 {
			return cell{}, nil
		}
		return cell{kind: cellBool, text: "FALSE"}, nil
	case "e":
		return cell{kind: cellError, text: v.String()}, nil
	case "d":
		return cell{kind: cellISODate, text: strings.TrimSpace(v.String())}, nil
	}
	num := strings.TrimSpace(v.String())
	if num == "" {
		return cell{}, nil
	}
	kind := cellNumber
	if s, err := strconv.Atoi(attr(start, "s")); err == nil && s >= 0 && s < len(t.wb.dateStyle) && t.wb.dateStyle[s] {
		kind = cellDate
	}
	return cell{kind: kind, text: num}, nil
}
