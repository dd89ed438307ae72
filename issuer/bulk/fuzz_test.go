package bulk_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/fuzzcorpus"
	"github.com/tally-id/tally/issuer/bulk"
)

// The seed corpora of FuzzReadCSV, FuzzReadXLSX and FuzzXLSXSheet live in
// testdata/fuzz/. Refresh them with
//
//	go test ./issuer/bulk -run TestFuzzCorpus -update-bulk-fuzz
var updateFuzz = flag.Bool("update-bulk-fuzz", false, "rewrite the seed corpora of the fuzz targets of issuer/bulk")

// csvSeeds are CSV files: the sample in each encoding and layout, the bad
// rows and bad files of the tests.
func csvSeeds(t testing.TB) map[string][]byte {
	sample := sampleCSV(t)
	semicolons := bytes.ReplaceAll(sample, []byte(","), []byte(";"))
	bad := [][]string{sampleHeader, sampleTags, fatima, with(fatima, colBirth, "03/04/1991"), with(fatima, colID, "KE 2", colGender, "x"),
		with(fatima, colID, ""), with(fatima, colID, "KE-3", colHousehold, "٥"), with(fatima, colID, "KE-4", colBirth, "١٤/٠٣/١٩٩١")}
	return map[string][]byte{
		"sample":         sample,
		"sample-bom":     append([]byte("\xEF\xBB\xBF"), sample...),
		"sample-utf16le": encode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), sample),
		"sample-utf16be": encode(t, unicode.UTF16(unicode.BigEndian, unicode.UseBOM), sample),
		"sample-tabs":    bytes.ReplaceAll(sample, []byte(","), []byte("\t")),
		"sample-cr":      bytes.ReplaceAll(sample, []byte("\n"), []byte("\r")),
		"semicolons":     semicolons,
		"sep-line":       append([]byte("sep=;\r\n"), semicolons...),
		"arabic-1256":    encode(t, charmap.Windows1256, arabicCSV()),
		"arabic-utf8":    arabicCSV(),
		"french-1252":    encode(t, charmap.Windows1252, frenchCSV()),
		"bad-rows":       csvOf(bad...),
		"first-last":     csvOf([]string{"Registration ID", "First name", "Last name"}, []string{"KE-1", "Fatima", "Abdi"}),
		"hxl-only":       csvOf(sampleTags, fatima),
		"unclosed-quote": []byte(strings.Join(sampleHeader, ",") + "\nKE-1,\"Fatima,x\n"),
		"bare-quote":     []byte(strings.Join(sampleHeader, ",") + "\nKE-1,Fatima \"F\" Abdi\n"),
		"blank-lines":    []byte("\n\n" + strings.Join(sampleHeader, ",") + "\n\n" + strings.Join(fatima, ",") + "\n,,,\n"),
		"duplicates":     csvOf(sampleHeader, fatima, fatima),
		"generated":      generated(20, 7),
		"empty":          {},
	}
}

// xlsxSeeds are XLSX files: the sample written by excelize, handmade
// packages of other writers' ways, and damaged ones.
func xlsxSeeds(t testing.TB) map[string][]byte {
	rows := inlineRow(1, "Registration ID", "Full name", "Date of birth", "Household size") +
		`<row r="2"><c r="A2" t="s"><v>0</v></c><c t="s"><v>1</v></c><c s="1"><v>33311</v></c><c><v>5</v></c></row>` +
		`<row><c r="A3" t="inlineStr"><is><t>KE-2</t></is></c><c r="C3" t="d"><v>1991-03-14</v></c><c r="D3" t="e"><v>#N/A</v></c></row>`
	shared := part{"xl/sharedStrings.xml", `<sst ` + mainNS + `><si><t>KE-1</t></si><si><r><t>Fatima</t></r><r><t> Abdi_x000D_</t></r><rPh><t>x</t></rPh></si></sst>`}
	styles := part{"xl/styles.xml", `<styleSheet ` + mainNS + `><numFmts><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs></styleSheet>`}
	return map[string][]byte{
		"sample": workbook(t, func(f *excelize.File) {
			style, err := f.NewStyle(&excelize.Style{NumFmt: 14})
			must(t, err)
			sampleSheet(t, f, "Sheet1", style)
		}),
		"handmade": handmade(t, rows, shared, styles),
		"broken":   handmade(t, rows+`<row r="4" <<<`, shared, styles),
		"lying":    lyingZip(t, handmade(t, rows, shared, styles)),
		"ods":      zipOf(t, part{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}),
	}
}

// sheetSeeds are the sheetData and shared strings of FuzzXLSXSheet.
func sheetSeeds() map[string][2]string {
	head := inlineRow(1, "Registration ID", "Full name", "Date of birth", "Gender")
	return map[string][2]string{
		"inline":   {head + inlineRow(2, "KE-1", "Fatima Abdi", "1991-03-14", "F"), ""},
		"shared":   {head + `<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c><c r="C2" s="1"><v>33311.5</v></c></row>`, `<si><t>KE-1</t></si><si><r><t>Fatima</t></r><r><t> Abdi</t></r></si>`},
		"hxl":      {inlineRow(1, "#beneficiary+id", "#beneficiary+name") + inlineRow(2, "KE-1", "Fatima Abdi"), ""},
		"no-refs":  {`<row><c t="inlineStr"><is><t>Registration ID</t></is></c><c t="inlineStr"><is><t>Name</t></is></c></row><row><c t="str"><v>KE-1</v></c><c t="inlineStr"><is><t>x</t></is></c></row>`, ""},
		"types":    {head + `<row r="3"><c r="A3" t="b"><v>1</v></c><c r="B3" t="e"><v>#REF!</v></c><c r="C3" t="d"><v>1991-03-14T00:00:00Z</v></c><c r="D3"><v>1.5E+20</v></c></row>`, ""},
		"far":      {head + `<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>`, ""},
		"disorder": {head + inlineRow(3, "a", "b") + inlineRow(2, "c", "d"), ""},
	}
}

// TestFuzzCorpus writes the seed corpora with -update-bulk-fuzz, and
// otherwise checks that they are there.
func TestFuzzCorpus(t *testing.T) {
	regenerate := "go test ./issuer/bulk -run TestFuzzCorpus -update-bulk-fuzz"
	for target, seeds := range map[string]map[string][]byte{"FuzzReadCSV": csvSeeds(t), "FuzzReadXLSX": xlsxSeeds(t)} {
		corpus := map[string]fuzzcorpus.Seed{}
		for name, data := range seeds {
			corpus[name] = fuzzcorpus.Seed{data}
		}
		fuzzcorpus.Keep(t, target, *updateFuzz, regenerate, corpus)
	}
	corpus := map[string]fuzzcorpus.Seed{}
	for name, s := range sheetSeeds() {
		corpus[name] = fuzzcorpus.Seed{s[0], s[1]}
	}
	fuzzcorpus.Keep(t, "FuzzXLSXSheet", *updateFuzz, regenerate, corpus)
}

// FuzzReadCSV: any bytes are a CSV file that Open refuses with a
// *FileError, or whose rows all come, each a draft that validates (but for
// its issuer) or a list of the row's problems.
func FuzzReadCSV(f *testing.F) {
	for _, data := range csvSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkRead(t, data) })
}

// FuzzReadXLSX: the same, for bytes that are mostly XLSX packages.
func FuzzReadXLSX(f *testing.F) {
	for _, data := range xlsxSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkRead(t, data) })
}

// FuzzXLSXSheet fuzzes the XML of a sheet and of its shared strings inside
// a well-formed package, where the zip would hide most mutations.
func FuzzXLSXSheet(f *testing.F) {
	for _, s := range sheetSeeds() {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, rows, shared string) {
		styles := part{"xl/styles.xml", `<styleSheet ` + mainNS + `><cellXfs><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs></styleSheet>`}
		checkRead(t, handmade(t, rows, part{"xl/sharedStrings.xml", `<sst ` + mainNS + `>` + shared + `</sst>`}, styles))
	})
}

// fuzzLimits keep each input cheap.
var fuzzLimits = bulk.Limits{MaxFileBytes: 1 << 20, MaxRows: 200, MaxColumns: 32, MaxCellBytes: 1 << 10, MaxUnzippedBytes: 1 << 20}

func checkRead(t *testing.T, data []byte) {
	opts := bulk.Options{Limits: fuzzLimits, Now: func() time.Time { return today }}
	s, err := bulk.Open(context.Background(), bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		var fe *bulk.FileError
		if !errors.As(err, &fe) || len(fe.Problems) == 0 {
			t.Fatalf("Open: %v is not a *FileError", err)
		}
		for _, p := range fe.Problems {
			if !p.Reason.FileLevel() || p.Error() == "" || p.Line < 0 {
				t.Fatalf("Open: problem %#v", p)
			}
		}
		return
	}
	if s.Total() > fuzzLimits.MaxRows || len(s.Columns()) > fuzzLimits.MaxColumns {
		t.Fatalf("%d rows, %d columns, past the limits", s.Total(), len(s.Columns()))
	}
	letters := map[string]bool{"": true}
	for _, c := range s.Columns() {
		letters[c.Letter] = true
	}
	line, n := 0, 0
	for row, err := range s.Rows(context.Background()) {
		if err != nil {
			t.Fatalf("Rows: %v", err)
		}
		n++
		if row.Line <= line || row.Progress.Rows != n || row.Progress.TotalRows != s.Total() || row.Progress.Bytes > row.Progress.TotalBytes {
			t.Fatalf("row %d: line %d after %d, progress %+v", n, row.Line, line, row.Progress)
		}
		line = row.Line
		if row.Key == "" || row.Fingerprint == "" {
			t.Fatalf("line %d: no key", row.Line)
		}
		if row.OK() != (row.Draft != nil) {
			t.Fatalf("line %d: draft %v with problems %v", row.Line, row.Draft, row.Problems)
		}
		for _, p := range row.Problems {
			if p.Reason.FileLevel() || p.Line != row.Line || !letters[p.Column.Letter] || p.Error() == "" {
				t.Fatalf("line %d: problem %#v", row.Line, p)
			}
		}
		if row.Draft != nil {
			err := row.Draft.Validate()
			var ve *credentials.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Field != "issuer" {
				t.Fatalf("line %d: a draft that does not validate: %v", row.Line, err)
			}
		}
	}
	if n != s.Total() {
		t.Fatalf("%d rows of %d", n, s.Total())
	}
}
