package bulk

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
)

// workbook is what Open learnt about an XLSX file (ECMA-376 Part 1,
// SpreadsheetML): the sheet to read and what its cells refer to.
type workbook struct {
	files  map[string]*zip.File // by part name, lower case
	limits Limits
	// unzipped counts the bytes of the parts read, against
	// Limits.MaxUnzippedBytes.
	unzipped int64
	shared   stringTable
	// dateStyle says which cell formats (by index in cellXfs) show a
	// number as a date.
	dateStyle []bool
	date1904  bool
	sheetName string
	sheetPart string
}

// maxParts bounds the parts of a workbook: a real one has a few dozen.
const maxParts = 10_000

// Relationship types end with these names, in the transitional and the
// strict namespaces alike.
const (
	relOfficeDocument = "/officeDocument"
	relWorksheet      = "/worksheet"
	relSharedStrings  = "/sharedStrings"
	relStyles         = "/styles"
)

func openXLSX(src io.ReaderAt, size int64, opts Options, limits Limits) (*workbook, error) {
	zr, err := zip.NewReader(src, size)
	if err != nil {
		return nil, fileError(ReasonMalformedXLSX, 0, Column{}, "it is not a readable zip archive")
	}
	if len(zr.File) > maxParts {
		return nil, fileError(ReasonMalformedXLSX, 0, Column{}, fmt.Sprintf("it has more than %d parts", maxParts))
	}
	wb := &workbook{files: map[string]*zip.File{}, limits: limits}
	for _, f := range zr.File {
		wb.files[strings.ToLower(strings.ReplaceAll(f.Name, `\`, "/"))] = f
	}
	if err := wb.checkNotODS(); err != nil {
		return nil, err
	}
	rootRels, err := wb.readRels("_rels/.rels", "")
	if err != nil {
		return nil, err
	}
	book := "xl/workbook.xml"
	for _, r := range rootRels {
		if strings.HasSuffix(r.typ, relOfficeDocument) {
			book = r.target
			break
		}
	}
	if strings.HasSuffix(book, ".bin") {
		return nil, fileError(ReasonUnsupportedFormat, 0, Column{}, "a binary Excel workbook (.xlsb)")
	}
	if wb.files[book] == nil {
		return nil, fileError(ReasonMalformedXLSX, 0, Column{}, "it holds no workbook")
	}
	sheets, err := wb.readWorkbook(book)
	if err != nil {
		return nil, err
	}
	rels, err := wb.readRels(path.Join(path.Dir(book), "_rels", path.Base(book)+".rels"), book)
	if err != nil {
		return nil, err
	}
	byID := map[string]relationship{}
	for _, r := range rels {
		byID[r.id] = r
		if wb.files[r.target] == nil {
			// A part named and not there: a shared string would be
			// missed when a cell asks for it, a date format would not.
			continue
		}
		switch {
		case strings.HasSuffix(r.typ, relSharedStrings):
			if wb.shared, err = wb.readSharedStrings(r.target); err != nil {
				return nil, err
			}
		case strings.HasSuffix(r.typ, relStyles):
			if wb.dateStyle, err = wb.readStyles(r.target); err != nil {
				return nil, err
			}
		}
	}
	if err := wb.chooseSheet(sheets, byID, opts.Sheet); err != nil {
		return nil, err
	}
	// The sheet is read twice (Open counts its rows, then Rows reads
	// them); it is counted once against the limit, as one reading costs
	// what the other does.
	if err := wb.reserve(wb.sheetPart); err != nil {
		return nil, err
	}
	return wb, nil
}

// checkNotODS refuses an OpenDocument spreadsheet, which is a zip too.
func (wb *workbook) checkNotODS() error {
	f := wb.files["mimetype"]
	if f == nil || f.UncompressedSize64 > 128 {
		return nil
	}
	rc, err := f.Open()
	if err != nil {
		return nil
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, 128))
	if bytes.HasPrefix(b, []byte("application/vnd.oasis.opendocument")) {
		return fileError(ReasonUnsupportedFormat, 0, Column{}, "an OpenDocument spreadsheet (.ods)")
	}
	return nil
}

// reserve counts a part's declared size against the limit.
func (wb *workbook) reserve(name string) error {
	f := wb.files[name]
	if f == nil {
		return fileError(ReasonMalformedXLSX, 0, Column{}, name+" is missing")
	}
	size := f.UncompressedSize64
	if size > uint64(wb.limits.MaxUnzippedBytes-wb.unzipped) {
		return fileError(ReasonUnzippedTooLarge, 0, Column{}, sizeWords(wb.limits.MaxUnzippedBytes))
	}
	wb.unzipped += int64(size)
	return nil
}

// open unpacks a part. archive/zip refuses to unpack more than the size the
// archive declares, which reserve counted.
func (wb *workbook) open(name string) (io.ReadCloser, error) {
	rc, err := wb.files[name].Open()
	if err != nil {
		return nil, partError(name, err)
	}
	return rc, nil
}

// readPart reserves, unpacks and parses one part with parse.
func (wb *workbook) readPart(name string, parse func(d *xml.Decoder) error) error {
	if err := wb.reserve(name); err != nil {
		return err
	}
	rc, err := wb.open(name)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := parse(xml.NewDecoder(rc)); err != nil {
		return partError(name, err)
	}
	return nil
}

// partError says which part of the workbook is damaged, without quoting
// it: XML errors may quote the text they stumbled on.
func partError(name string, err error) error {
	var fe *FileError
	if errors.As(err, &fe) {
		return err
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fileError(ReasonMalformedXLSX, 0, Column{}, fmt.Sprintf("the XML of %s is broken at its line %d", name, se.Line))
	}
	return fileError(ReasonMalformedXLSX, 0, Column{}, fmt.Sprintf("%s cannot be unpacked", name))
}

type relationship struct {
	id, typ, target string
}

// readRels reads a relationships part; source is the part the targets are
// relative to ("" for the package root). A missing part has none.
func (wb *workbook) readRels(name, source string) ([]relationship, error) {
	if wb.files[name] == nil {
		return nil, nil
	}
	var out []relationship
	err := wb.readPart(name, func(d *xml.Decoder) error {
		return eachStart(d, func(se xml.StartElement) error {
			if se.Name.Local != "Relationship" || attr(se, "TargetMode") == "External" {
				return nil
			}
			target := strings.ReplaceAll(attr(se, "Target"), `\`, "/")
			if strings.HasPrefix(target, "/") {
				target = strings.TrimPrefix(path.Clean(target), "/")
			} else {
				target = path.Join(path.Dir(source), target)
			}
			out = append(out, relationship{id: attr(se, "Id"), typ: attr(se, "Type"), target: strings.ToLower(target)})
			return nil
		})
	})
	return out, err
}

type sheetEntry struct {
	name, state, rid string
}

func (wb *workbook) readWorkbook(name string) ([]sheetEntry, error) {
	var sheets []sheetEntry
	err := wb.readPart(name, func(d *xml.Decoder) error {
		return eachStart(d, func(se xml.StartElement) error {
			switch se.Name.Local {
			case "workbookPr":
				v := attr(se, "date1904")
				wb.date1904 = v == "1" || v == "true"
			case "sheet":
				e := sheetEntry{name: attr(se, "name"), state: attr(se, "state")}
				for _, a := range se.Attr {
					if a.Name.Local == "id" && a.Name.Space != "" {
						e.rid = a.Value
					}
				}
				sheets = append(sheets, e)
			}
			return nil
		})
	})
	return sheets, err
}

// chooseSheet finds the sheet named want (exactly, else ignoring case), or
// the first visible worksheet.
func (wb *workbook) chooseSheet(sheets []sheetEntry, rels map[string]relationship, want string) error {
	isWorksheet := func(s sheetEntry) bool {
		r, ok := rels[s.rid]
		return ok && strings.HasSuffix(r.typ, relWorksheet) && wb.files[r.target] != nil
	}
	var names []string
	for _, s := range sheets {
		names = append(names, strconv.Quote(s.name))
	}
	pick := -1
	if want != "" {
		for i, s := range sheets {
			if s.name == want {
				pick = i
				break
			}
		}
		for i, s := range sheets {
			if pick < 0 && strings.EqualFold(strings.TrimSpace(s.name), strings.TrimSpace(want)) {
				pick = i
			}
		}
		if pick < 0 {
			return fileError(ReasonNoSheet, 0, Column{}, fmt.Sprintf("the workbook has no sheet named %q; its sheets are %s", want, strings.Join(names, ", ")))
		}
		if !isWorksheet(sheets[pick]) {
			return fileError(ReasonNoSheet, 0, Column{}, fmt.Sprintf("the sheet %q holds no cells (it may be a chart): choose another", want))
		}
	} else {
		for i, s := range sheets {
			if (s.state == "" || s.state == "visible") && isWorksheet(s) {
				pick = i
				break
			}
		}
		if pick < 0 {
			return fileError(ReasonNoSheet, 0, Column{}, "the workbook has no visible sheet of cells")
		}
	}
	wb.sheetName = sheets[pick].name
	wb.sheetPart = rels[sheets[pick].rid].target
	return nil
}

// stringTable holds a workbook's shared strings in one buffer: a string
// costs its text and four bytes, so that a table of many tiny items (<si/>)
// costs little more than its XML.
type stringTable struct {
	text []byte
	ends []uint32
}

func (st *stringTable) len() int { return len(st.ends) }

func (st *stringTable) get(i int) string {
	start := uint32(0)
	if i > 0 {
		start = st.ends[i-1]
	}
	return string(st.text[start:st.ends[i]])
}

// readSharedStrings reads the shared string table: the text of each si
// item, its runs joined, its phonetic runs (rPh) left out.
func (wb *workbook) readSharedStrings(name string) (stringTable, error) {
	var st stringTable
	if wb.files[name].UncompressedSize64 >= math.MaxUint32 {
		return st, fileError(ReasonUnzippedTooLarge, 0, Column{}, sizeWords(1<<32))
	}
	err := wb.readPart(name, func(d *xml.Decoder) error {
		var b []byte
		inT, phonetic := false, 0
		return eachToken(d, func(tok xml.Token) error {
			switch tok := tok.(type) {
			case xml.StartElement:
				switch tok.Name.Local {
				case "si":
					b = b[:0]
				case "rPh":
					phonetic++
				case "t":
					inT = phonetic == 0
				}
			case xml.EndElement:
				switch tok.Name.Local {
				case "si":
					st.text = append(st.text, unescapeOOXML(string(b))...)
					st.ends = append(st.ends, uint32(len(st.text)))
				case "rPh":
					phonetic--
				case "t":
					inT = false
				}
			case xml.CharData:
				if inT {
					b = append(b, tok...)
				}
			}
			return nil
		})
	})
	return st, err
}

// readStyles reads which cell formats show numbers as dates.
func (wb *workbook) readStyles(name string) ([]bool, error) {
	custom := map[int]string{}
	var xfs []int
	err := wb.readPart(name, func(d *xml.Decoder) error {
		var in string // numFmts or cellXfs, the lists read
		return eachToken(d, func(tok xml.Token) error {
			switch tok := tok.(type) {
			case xml.StartElement:
				switch tok.Name.Local {
				case "numFmts", "cellXfs":
					in = tok.Name.Local
				case "numFmt":
					if in == "numFmts" {
						if id, err := strconv.Atoi(attr(tok, "numFmtId")); err == nil {
							custom[id] = attr(tok, "formatCode")
						}
					}
				case "xf":
					if in == "cellXfs" {
						id, _ := strconv.Atoi(attr(tok, "numFmtId"))
						xfs = append(xfs, id)
					}
				}
			case xml.EndElement:
				if tok.Name.Local == in {
					in = ""
				}
			}
			return nil
		})
	})
	dates := make([]bool, len(xfs))
	for i, id := range xfs {
		code, ok := custom[id]
		dates[i] = isDateFormat(id, code, ok)
	}
	return dates, err
}

// isDateFormat reports whether a number format shows a date: one of the
// built-in date formats (ECMA-376 Part 1, 18.8.30), or a format code with a
// day or a year in it once its quoted text, escaped characters and
// bracketed parts (colours, locales, conditions) are left out.
func isDateFormat(id int, code string, custom bool) bool {
	if !custom {
		return id >= 14 && id <= 17 || id == 22 || id >= 27 && id <= 36 || id >= 50 && id <= 58
	}
	section, _, _ := strings.Cut(code, ";")
	var b strings.Builder
	for i := 0; i < len(section); i++ {
		switch c := section[i]; c {
		case '"':
			if j := strings.IndexByte(section[i+1:], '"'); j >= 0 {
				i += j + 1
			} else {
				i = len(section)
			}
		case '\\', '_', '*':
			i++ // the next character is shown as it is, or is padding
		case '[':
			if j := strings.IndexByte(section[i+1:], ']'); j >= 0 {
				i += j + 1
			} else {
				i = len(section)
			}
		default:
			b.WriteByte(c | 0x20)
		}
	}
	s := b.String()
	return strings.ContainsAny(s, "dy")
}

// unescapeOOXML decodes the _xHHHH_ escapes that SpreadsheetML writes for
// characters XML cannot hold (ECMA-376 Part 1, 22.9.2.19).
func unescapeOOXML(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if i+7 <= len(s) && s[i] == '_' && s[i+1] == 'x' && s[i+6] == '_' {
			if v, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteRune(rune(v))
				i += 6
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// eachToken calls f for every token of a part.
func eachToken(d *xml.Decoder, f func(xml.Token) error) error {
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := f(tok); err != nil {
			return err
		}
	}
}

// eachStart calls f for every start element of a part.
func eachStart(d *xml.Decoder, f func(xml.StartElement) error) error {
	return eachToken(d, func(tok xml.Token) error {
		if se, ok := tok.(xml.StartElement); ok {
			return f(se)
		}
		return nil
	})
}

// attr returns the value of the attribute of se with the local name name.
func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
