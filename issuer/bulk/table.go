package bulk

import "strings"

// cellKind is what a cell holds. CSV cells are all text; XLSX cells carry
// the type the workbook gives them.
type cellKind uint8

const (
	cellText    cellKind = iota
	cellNumber           // an XLSX number; text is the number as stored ("5", "1.5E+17")
	cellDate             // an XLSX number in a date format; text is the serial day number
	cellISODate          // an XLSX date cell (t="d"); text is ISO 8601
	cellBool             // an XLSX boolean; text is TRUE or FALSE
	cellError            // an XLSX formula error; text is like #N/A
)

// cell is one cell of a row.
type cell struct {
	kind cellKind
	text string
}

func (c cell) blank() bool { return strings.TrimSpace(c.text) == "" }

// record is one row of a file: the line a spreadsheet shows, and its cells
// up to the last that is not empty. A table may reuse cells' backing array
// on its next call.
type record struct {
	line  int
	cells []cell
}

func (r record) blank() bool {
	for _, c := range r.cells {
		if !c.blank() {
			return false
		}
	}
	return true
}

// table is one pass over the rows of a file.
type table interface {
	// next returns the next row, or io.EOF after the last. Other errors
	// are *FileError.
	next() (record, error)
	// progress returns the bytes read so far and the bytes to read.
	progress() (done, total int64)
	close() error
}

// trimCells drops the blank cells at the end of a row.
func trimCells(cells []cell) []cell {
	n := len(cells)
	for n > 0 && cells[n-1].blank() {
		n--
	}
	return cells[:n]
}
