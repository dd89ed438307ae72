package bulk_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/tally-id/tally/issuer/bulk"
)

// workbook writes an XLSX file with excelize: build fills it; its first
// sheet is "Sheet1".
func workbook(t testing.TB, build func(f *excelize.File)) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	build(f)
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// setRow writes one row of cells from column A.
func setRow(t testing.TB, f *excelize.File, sheet string, line int, cells ...any) {
	t.Helper()
	must(t, f.SetSheetRow(sheet, "A"+strconv.Itoa(line), &cells))
}

// sampleSheet writes the sample file into a sheet as Excel holds it: text
// cells, dates of birth as dates in the format style, household sizes as
// numbers.
func sampleSheet(t testing.TB, f *excelize.File, sheet string, style int) {
	t.Helper()
	setRow(t, f, sheet, 1, anys(sampleHeader)...)
	setRow(t, f, sheet, 2, anys(sampleTags)...)
	for i, line := range strings.Split(strings.TrimSpace(string(sampleCSV(t))), "\n")[2:] {
		cells := anys(strings.Split(line, ","))
		birth, err := time.Parse(time.DateOnly, cells[colBirth].(string))
		must(t, err)
		cells[colBirth] = birth
		cells[colHousehold], err = strconv.Atoi(cells[colHousehold].(string))
		must(t, err)
		setRow(t, f, sheet, 3+i, cells...)
		cell := fmt.Sprintf("E%d", 3+i)
		must(t, f.SetCellStyle(sheet, cell, cell, style))
	}
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// TestSampleXLSX reads the sample written by excelize as an Excel user
// would have it: the same drafts, lines and keys as the CSV file, whatever
// the date cells' format, the sheet's place or the workbook's date system.
func TestSampleXLSX(t *testing.T) {
	want := readRows(t, openSheet(t, sampleCSV(t), bulk.Options{}))
	ddmmyyyy := "dd/mm/yyyy"
	for _, c := range []struct {
		name  string
		build func(f *excelize.File)
		opts  bulk.Options
		sheet string
	}{
		{"dates in the short date format (14)", func(f *excelize.File) {
			style, err := f.NewStyle(&excelize.Style{NumFmt: 14})
			must(t, err)
			sampleSheet(t, f, "Sheet1", style)
		}, bulk.Options{}, "Sheet1"},
		{"dates in a custom format", func(f *excelize.File) {
			style, err := f.NewStyle(&excelize.Style{CustomNumFmt: &ddmmyyyy})
			must(t, err)
			sampleSheet(t, f, "Sheet1", style)
		}, bulk.Options{}, "Sheet1"},
		{"the 1904 date system", func(f *excelize.File) {
			yes := true
			must(t, f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}))
			style, err := f.NewStyle(&excelize.Style{NumFmt: 14})
			must(t, err)
			sampleSheet(t, f, "Sheet1", style)
		}, bulk.Options{}, "Sheet1"},
		{"a named sheet", func(f *excelize.File) {
			_, err := f.NewSheet("Beneficiaries")
			must(t, err)
			setRow(t, f, "Sheet1", 1, "Read me first")
			style, err := f.NewStyle(&excelize.Style{NumFmt: 14})
			must(t, err)
			sampleSheet(t, f, "Beneficiaries", style)
		}, bulk.Options{Sheet: "beneficiaries"}, "Beneficiaries"},
		{"the first sheet hidden", func(f *excelize.File) {
			_, err := f.NewSheet("Beneficiaries")
			must(t, err)
			style, err := f.NewStyle(&excelize.Style{NumFmt: 14})
			must(t, err)
			sampleSheet(t, f, "Beneficiaries", style)
			f.SetActiveSheet(1)
			must(t, f.SetSheetVisible("Sheet1", false))
		}, bulk.Options{}, "Beneficiaries"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openSheet(t, workbook(t, c.build), c.opts)
			if s.Format() != bulk.FormatXLSX || s.SheetName() != c.sheet || !s.HasHXL() || s.Total() != 3 {
				t.Fatalf("format %v, sheet %q, HXL %v, %d rows", s.Format(), s.SheetName(), s.HasHXL(), s.Total())
			}
			got := readRows(t, s)
			for i := range want {
				if got[i].Line != want[i].Line || got[i].Key != want[i].Key || !reflect.DeepEqual(got[i].Draft, want[i].Draft) {
					t.Fatalf("row %d: line %d, %v, %+v\nwant line %d, %+v", i, got[i].Line, got[i].Problems, got[i].Draft, want[i].Line, want[i].Draft.Subject)
				}
			}
			if p := got[len(got)-1].Progress; p.Bytes != p.TotalBytes || p.TotalBytes == 0 {
				t.Fatalf("progress at the end: %+v", p)
			}
		})
	}
}

// TestXLSXCells: numbers where text is wanted, years typed as numbers,
// day numbers without a date format, and IDs Excel rounded.
func TestXLSXCells(t *testing.T) {
	data := workbook(t, func(f *excelize.File) {
		setRow(t, f, "Sheet1", 1, "Registration ID", "Full name", "Date of birth", "Household size")
		setRow(t, f, "Sheet1", 2, 123456, "Fatima Abdi", 1991, 5.0)
		setRow(t, f, "Sheet1", 3, 12345678901234567890.0, "Amina Mohamed", "14/03/1991", "٥")
		setRow(t, f, "Sheet1", 4, "KE-3", "  Amina\u00a0Mohamed ", 33311, 2.5)
		setRow(t, f, "Sheet1", 6, "KE-5", "Abdi Ali", time.Date(1984, 7, 2, 0, 0, 0, 0, time.UTC), true)
	})
	rows := readRows(t, openSheet(t, data, bulk.Options{}))
	if len(rows) != 4 {
		t.Fatalf("%d rows", len(rows))
	}
	first := drafts(t, rows[:1])[0]
	if first.RegistrationID != "123456" || first.DateOfBirth != "1991" || first.HouseholdSize != 5 {
		t.Fatalf("row 2: %+v", first)
	}
	check := func(row bulk.Row, line int, want ...bulk.Reason) {
		t.Helper()
		var got []bulk.Reason
		for _, p := range row.Problems {
			got = append(got, p.Reason)
		}
		if row.Line != line || !reflect.DeepEqual(got, want) {
			t.Fatalf("line %d: %v, want line %d with %v", row.Line, row.Problems, line, want)
		}
	}
	check(rows[1], 3, bulk.ReasonDigitsLost)
	check(rows[2], 4, bulk.ReasonDate, bulk.ReasonNumber)
	if !strings.Contains(rows[2].Problems[0].Error(), "Excel day number") {
		t.Fatalf("a day number without a date format: %v", rows[2].Problems[0])
	}
	check(rows[3], 6, bulk.ReasonNumber) // TRUE is no household size
	if rows[3].Problems[0].Column.Letter != "D" {
		t.Fatalf("column %q", rows[3].Problems[0].Column.Letter)
	}
}

// TestNoSheet: a sheet that is not there is refused, naming the sheets.
func TestNoSheet(t *testing.T) {
	data := workbook(t, func(f *excelize.File) { setRow(t, f, "Sheet1", 1, "Registration ID", "Full name") })
	e := openError(t, data, bulk.Options{Sheet: "Data"})
	if e.Reason != bulk.ReasonNoSheet || e.Error() != `the workbook has no sheet named "Data"; its sheets are "Sheet1"` {
		t.Fatalf("%v", e)
	}
}

// part is one part of a handmade XLSX package.
type part struct{ name, body string }

const mainNS = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`

// handmade writes an XLSX package of one sheet whose sheetData is rows,
// with the parts given (shared strings, styles) and any others.
func handmade(t testing.TB, rows string, parts ...part) []byte {
	t.Helper()
	all := []part{
		{"_rels/.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<workbook ` + mainNS + `><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>` +
			`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", `<worksheet ` + mainNS + `><sheetData>` + rows + `</sheetData></worksheet>`},
	}
	return zipOf(t, append(all, parts...)...)
}

func zipOf(t testing.TB, parts ...part) []byte {
	t.Helper()
	// A later part of the same name replaces an earlier one.
	var order []string
	bodies := map[string]string{}
	for _, p := range parts {
		if _, ok := bodies[p.name]; !ok {
			order = append(order, p.name)
		}
		bodies[p.name] = p.body
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range order {
		w, err := zw.Create(name)
		must(t, err)
		_, err = w.Write([]byte(bodies[name]))
		must(t, err)
	}
	must(t, zw.Close())
	return b.Bytes()
}

// inlineRow writes a row of inline string cells.
func inlineRow(line int, cells ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<row r="%d">`, line)
	for i, c := range cells {
		if c == "" {
			continue
		}
		fmt.Fprintf(&b, `<c r="%c%d" t="inlineStr"><is><t>%s</t></is></c>`, 'A'+i, line, c)
	}
	b.WriteString("</row>")
	return b.String()
}

// TestHandmadeXLSX reads what other writers than excelize put in a
// workbook: inline strings, rich text and phonetic runs, escaped
// characters, booleans, ISO date cells, formula errors, rows and cells
// without references, the strict namespaces, absolute targets.
func TestHandmadeXLSX(t *testing.T) {
	rows := inlineRow(1, "Registration ID", "Full name", "Date of birth", "Gender", "Household size") +
		`<row r="2"><c r="A2" t="s"><v>0</v></c><c t="s"><v>1</v></c><c t="d"><v>1991-03-14T00:00:00</v></c>` +
		`<c><f>LOWER("F")</f><v>ignored</v></c><c t="str"><f>2+3</f><v>5</v></c></row>` +
		`<row><c r="A3" t="inlineStr"><is><t>KE-2</t></is></c><c r="B3" t="inlineStr"><is><r><t>Amina</t></r><r><rPr/><t xml:space="preserve"> Mohamed_x000D_</t></r></is></c>` +
		`<c r="C3" s="1"><v>33311</v></c><c r="D3" t="e"><v>#N/A</v></c><c r="E3" t="b"><v>1</v></c></row>`
	shared := part{"xl/sharedStrings.xml", `<sst ` + mainNS + `><si><t>KE-1</t></si>` +
		`<si><r><t>Fatima </t></r><r><t>Abdi</t></r><rPh sb="0" eb="1"><t>ふぁてぃま</t></rPh></si></sst>`}
	styles := part{"xl/styles.xml", `<styleSheet ` + mainNS + `><numFmts count="1"><numFmt numFmtId="164" formatCode="[$-409]d\-mmm\-yyyy;@"/></numFmts>` +
		`<cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>`}
	check := func(t *testing.T, data []byte) {
		t.Helper()
		got := readRows(t, openSheet(t, data, bulk.Options{}))
		if len(got) != 2 {
			t.Fatalf("%d rows", len(got))
		}
		first := drafts(t, got[:1])[0]
		if first.RegistrationID != "KE-1" || first.FullName != "Fatima Abdi" || first.DateOfBirth != "1991-03-14" || first.HouseholdSize != 5 {
			t.Fatalf("line 2: %+v", first)
		}
		p := got[1].Problems
		if len(p) != 2 || p[0].Reason != bulk.ReasonFormulaError || p[0].Column.Letter != "D" || p[1].Reason != bulk.ReasonNumber {
			t.Fatalf("line 3: %v", p)
		}
	}
	t.Run("transitional", func(t *testing.T) {
		// The first row's gender comes from a formula's cached value:
		// LOWER("F") cached as "ignored" is not a gender.
		data := handmade(t, strings.Replace(rows, `<c><f>LOWER("F")</f><v>ignored</v></c>`, `<c t="str"><f>LOWER("F")</f><v>f</v></c>`, 1), shared, styles)
		check(t, data)
	})
	t.Run("strict, absolute targets", func(t *testing.T) {
		strict := strings.NewReplacer(
			"http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main",
			"http://schemas.openxmlformats.org/officeDocument/2006/relationships", "http://purl.oclc.org/ooxml/officeDocument/relationships",
			`Target="worksheets/`, `Target="/xl/worksheets/`,
		)
		var parts []part
		base := handmade(t, strings.Replace(rows, `<c><f>LOWER("F")</f><v>ignored</v></c>`, `<c t="str"><f>LOWER("F")</f><v>f</v></c>`, 1), shared, styles)
		zr, err := zip.NewReader(bytes.NewReader(base), int64(len(base)))
		must(t, err)
		for _, f := range zr.File {
			rc, err := f.Open()
			must(t, err)
			var b bytes.Buffer
			_, err = b.ReadFrom(rc)
			must(t, err)
			parts = append(parts, part{f.Name, strict.Replace(b.String())})
		}
		check(t, zipOf(t, parts...))
	})
}

// TestXLSXRefused: a damaged workbook is refused, never read in part — a
// sheet whose XML breaks half-way must not pass for a shorter sheet —, and
// so are workbooks that pass a limit, and files that are not XLSX.
func TestXLSXRefused(t *testing.T) {
	header := inlineRow(1, "Registration ID", "Full name")
	good := header + inlineRow(2, "KE-1", "Fatima Abdi") + inlineRow(3, "KE-2", "Amina Mohamed")
	small := bulk.Limits{MaxUnzippedBytes: 64 << 10, MaxColumns: 20, MaxCellBytes: 100}
	for _, c := range []struct {
		name   string
		data   []byte
		reason bulk.Reason
		line   int
		words  string
	}{
		{"XML broken half-way", handmade(t, header+inlineRow(2, "KE-1", "Fatima Abdi")+`<row r="3" <<<`+inlineRow(4, "KE-3", "x")),
			bulk.ReasonMalformedXLSX, 0, "the XML of xl/worksheets/sheet1.xml is broken at its line 1"},
		{"cut in a row", handmade(t, header+`<row r="2"><c r="A2" t="inlineStr"><is><t>KE-1</t></is></c>`), bulk.ReasonMalformedXLSX, 0, "is broken"},
		{"rows out of order", handmade(t, header+inlineRow(3, "KE-1", "Fatima")+inlineRow(2, "KE-2", "Amina")), bulk.ReasonMalformedXLSX, 3, "out of order"},
		{"cells out of order", handmade(t, header+`<row r="2"><c r="B2" t="inlineStr"><is><t>x</t></is></c><c r="A2" t="inlineStr"><is><t>y</t></is></c></row>`),
			bulk.ReasonMalformedXLSX, 2, "out of order"},
		{"a shared string that is not there", handmade(t, header+`<row r="2"><c r="A2" t="s"><v>7</v></c></row>`), bulk.ReasonMalformedXLSX, 2, "shared string"},
		{"a value in column XFD", handmade(t, good+`<row r="4"><c r="XFD4" t="inlineStr"><is><t>x</t></is></c></row>`), bulk.ReasonTooManyColumns, 4, "more than 20 columns"},
		{"a long cell", handmade(t, good+inlineRow(4, "KE-3", strings.Repeat(marker, 20))), bulk.ReasonCellTooLong, 4, "longer than 100 bytes"},
		{"a sheet that unpacks too large", handmade(t, good+strings.Repeat(" ", 100<<10)), bulk.ReasonUnzippedTooLarge, 0, "more than 64 KB"},
		{"a sheet larger than the zip says", lyingZip(t, handmade(t, good)), bulk.ReasonMalformedXLSX, 0, "cannot be unpacked"},
		{"no workbook", zipOf(t, part{"hello.txt", "hello"}), bulk.ReasonMalformedXLSX, 0, "no workbook"},
		{"not a zip", []byte("PK\x03\x04" + strings.Repeat("x", 100)), bulk.ReasonMalformedXLSX, 0, "not a readable zip"},
		{"OpenDocument", zipOf(t, part{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}), bulk.ReasonUnsupportedFormat, 0, ".ods"},
		{"binary workbook", zipOf(t, part{"_rels/.rels", `<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.bin"/></Relationships>`}),
			bulk.ReasonUnsupportedFormat, 0, ".xlsb"},
		{"no visible sheet", handmade(t, good, part{"xl/workbook.xml", `<workbook ` + mainNS + `><sheets><sheet name="S" sheetId="1" state="hidden" r:id="rId1"/></sheets></workbook>`}),
			bulk.ReasonNoSheet, 0, "no visible sheet"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := openError(t, c.data, bulk.Options{Limits: small})
			if e.Reason != c.reason || e.Line != c.line || !strings.Contains(e.Error(), c.words) {
				t.Fatalf("%v\n(reason %v, line %d); want %v, line %d, with %q", e, e.Reason, e.Line, c.reason, c.line, c.words)
			}
		})
	}
}

// lyingZip rewrites an XLSX package so that its sheet says it unpacks to
// 100 bytes, and holds a megabyte of spaces: a zip bomb that lies about
// its size.
func lyingZip(t testing.TB, data []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	must(t, err)
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range zr.File {
		rc, err := f.Open()
		must(t, err)
		var body bytes.Buffer
		_, err = body.ReadFrom(rc)
		must(t, err)
		if f.Name != "xl/worksheets/sheet1.xml" {
			w, err := zw.Create(f.Name)
			must(t, err)
			_, err = w.Write(body.Bytes())
			must(t, err)
			continue
		}
		bomb := append(body.Bytes(), bytes.Repeat([]byte(" "), 1<<20)...)
		var packed bytes.Buffer
		fw, err := flate.NewWriter(&packed, flate.BestCompression)
		must(t, err)
		_, err = fw.Write(bomb)
		must(t, err)
		must(t, fw.Close())
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name: f.Name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(bomb),
			CompressedSize64: uint64(packed.Len()), UncompressedSize64: 100,
		})
		must(t, err)
		_, err = w.Write(packed.Bytes())
		must(t, err)
	}
	must(t, zw.Close())
	return b.Bytes()
}
