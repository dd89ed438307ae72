package bulk_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer/bulk"
)

func encode(t testing.TB, e encoding.Encoding, data []byte) []byte {
	t.Helper()
	out, err := e.NewEncoder().Bytes(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSampleFile reads the shared sample: three good rows, the first of
// them the registration of ../../testdata/samples/registration.json.
func TestSampleFile(t *testing.T) {
	s := openSheet(t, sampleCSV(t), bulk.Options{})
	if s.Format() != bulk.FormatCSV || s.Encoding() != bulk.EncodingUTF8 || s.Delimiter() != ',' || !s.HasHXL() || s.Total() != 3 {
		t.Fatalf("format %v, encoding %v, delimiter %q, HXL %v, %d rows", s.Format(), s.Encoding(), s.Delimiter(), s.HasHXL(), s.Total())
	}
	if u := s.Unknown(); len(u) != 0 {
		t.Fatalf("unknown columns: %v", u)
	}
	rows := readRows(t, s)
	got := drafts(t, rows)
	want := sampleRegistration(t)
	want.HouseholdSize = 5 // in the file, not in the sample credential
	if !reflect.DeepEqual(got[0], want) {
		t.Fatalf("first row = %+v\nwant %+v", got[0], want)
	}
	for i, r := range rows {
		if r.Line != i+3 {
			t.Fatalf("row %d is on line %d, want %d (header, HXL row, then data)", i, r.Line, i+3)
		}
		if err := r.Draft.Validate(); err == nil || !strings.Contains(err.Error(), "issuer") {
			t.Fatalf("a draft validates without an issuer: %v", err)
		}
		if err := credentials.Prepare(r.Draft, "did:web:dadaab.example.org", nil); err != nil {
			t.Fatalf("line %d: Prepare: %v", r.Line, err)
		}
	}
}

// TestSampleEncodings reads the sample file as each encoding and layout an
// export gives it, made here from the UTF-8 file: the same drafts, on the
// same lines, every time.
func TestSampleEncodings(t *testing.T) {
	sample := sampleCSV(t)
	want := readRows(t, openSheet(t, sample, bulk.Options{}))
	le := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)
	be := unicode.UTF16(unicode.BigEndian, unicode.UseBOM)
	leNoBOM := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	semicolons := bytes.ReplaceAll(sample, []byte(","), []byte(";"))
	for _, c := range []struct {
		name  string
		data  []byte
		opts  bulk.Options
		enc   bulk.Encoding
		comma rune
	}{
		{"UTF-8", sample, bulk.Options{}, bulk.EncodingUTF8, ','},
		{"UTF-8 with BOM", append([]byte("\xEF\xBB\xBF"), sample...), bulk.Options{}, bulk.EncodingUTF8, ','},
		{"UTF-16LE with BOM", encode(t, le, sample), bulk.Options{}, bulk.EncodingUTF16LE, ','},
		{"UTF-16BE with BOM", encode(t, be, sample), bulk.Options{}, bulk.EncodingUTF16BE, ','},
		{"UTF-16LE without BOM", encode(t, leNoBOM, sample), bulk.Options{}, bulk.EncodingUTF16LE, ','},
		{"UTF-16LE tab-separated (Excel's Unicode text)", encode(t, le, bytes.ReplaceAll(sample, []byte(","), []byte("\t"))), bulk.Options{}, bulk.EncodingUTF16LE, '\t'},
		// The sample is ASCII, which Windows-1256 writes as it is: UTF-8.
		{"Windows-1256, detected", encode(t, charmap.Windows1256, sample), bulk.Options{}, bulk.EncodingUTF8, ','},
		{"Windows-1256, said", encode(t, charmap.Windows1256, sample), bulk.Options{Encoding: bulk.EncodingWindows1256}, bulk.EncodingWindows1256, ','},
		{"UTF-8 BOM beats the caller", append([]byte("\xEF\xBB\xBF"), sample...), bulk.Options{Encoding: bulk.EncodingWindows1256}, bulk.EncodingUTF8, ','},
		{"semicolons (European Excel)", semicolons, bulk.Options{}, bulk.EncodingUTF8, ';'},
		{"sep= line", append([]byte("sep=;\r\n"), semicolons...), bulk.Options{}, bulk.EncodingUTF8, ';'},
		{"tabs", bytes.ReplaceAll(sample, []byte(","), []byte("\t")), bulk.Options{}, bulk.EncodingUTF8, '\t'},
		{"CRLF", bytes.ReplaceAll(sample, []byte("\n"), []byte("\r\n")), bulk.Options{}, bulk.EncodingUTF8, ','},
		{"CR (old Mac)", bytes.ReplaceAll(sample, []byte("\n"), []byte("\r")), bulk.Options{}, bulk.EncodingUTF8, ','},
		{"no final line break", bytes.TrimRight(sample, "\n"), bulk.Options{}, bulk.EncodingUTF8, ','},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openSheet(t, c.data, c.opts)
			if s.Encoding() != c.enc || s.Delimiter() != c.comma {
				t.Fatalf("encoding %v, delimiter %q; want %v, %q", s.Encoding(), s.Delimiter(), c.enc, c.comma)
			}
			got := readRows(t, s)
			if len(got) != len(want) {
				t.Fatalf("%d rows, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i].Line != want[i].Line || got[i].Key != want[i].Key || got[i].Fingerprint != want[i].Fingerprint ||
					!reflect.DeepEqual(got[i].Draft, want[i].Draft) {
					t.Fatalf("row %d: line %d, draft %+v\nwant line %d, draft %+v", i, got[i].Line, got[i].Draft.Subject, want[i].Line, want[i].Draft.Subject)
				}
			}
			last := got[len(got)-1].Progress
			if last.Bytes != int64(len(c.data)) || last.TotalBytes != int64(len(c.data)) {
				t.Fatalf("progress at the end: %+v, want all %d bytes", last, len(c.data))
			}
		})
	}
}

// arabicCSV is the sample with Arabic headers and names, as an Arabic
// Excel exports it.
func arabicCSV() []byte {
	return csvOf(
		[]string{"رقم التسجيل", "الاسم الكامل", "الاسم الأول", "اسم العائلة", "تاريخ الميلاد", "الجنس", "الجنسية",
			"الوضع القانوني", "الموقع", "اللغة", "البرنامج", "حجم الأسرة"},
		[]string{"KE-DAD-2026-000123", "فاطمة حسن عبدي", "فاطمة", "عبدي", "14/03/1991", "أنثى", "SO", "طالب لجوء", "KE-DADAAB-HSP1", "som", "MPCA-2026", "5"},
		[]string{"KE-DAD-2026-000124", "عبد الرحمن علي ورسمه", "عبد الرحمن", "ورسمه", "22/07/1984", "ذكر", "SO", "لاجئ", "KE-DADAAB-HSP1", "som", "MPCA-2026", "7"},
	)
}

// frenchCSV is a French Excel export: semicolons, French headers and
// words, day-first dates.
func frenchCSV() []byte {
	return bytes.ReplaceAll(csvOf(
		[]string{"Numéro d'enregistrement", "Nom complet", "Prénom", "Nom", "Date de naissance", "Sexe", "Nationalité",
			"Statut juridique", "Lieu", "Langue", "Programme", "Taille du ménage"},
		[]string{"ML-MOP-2026-000001", "Aïssata Diallo", "Aïssata", "Diallo", "14/03/1991", "Féminin", "ML", "Réfugiée", "ML-MOPTI-1", "fra", "MPCA-2026", "5"},
		[]string{"ML-MOP-2026-000002", "Hervé Koné", "Hervé", "Koné", "22/07/1984", "Homme", "BF", "Déplacé interne", "ML-MOPTI-1", "fra", "MPCA-2026", "3"},
	), []byte(","), []byte(";"))
}

// TestArabicAndFrenchExports reads an Arabic file in UTF-8, UTF-16 and
// Windows-1256, and a French one in UTF-8 and Windows-1252, the legacy
// encodings told by the heuristic of bulk.Encoding.
func TestArabicAndFrenchExports(t *testing.T) {
	for _, c := range []struct {
		name  string
		utf8  []byte
		codec encoding.Encoding
		enc   bulk.Encoding
		comma rune
	}{
		{"Arabic", arabicCSV(), charmap.Windows1256, bulk.EncodingWindows1256, ','},
		{"Arabic UTF-16", arabicCSV(), unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), bulk.EncodingUTF16LE, ','},
		{"French", frenchCSV(), charmap.Windows1252, bulk.EncodingWindows1252, ';'},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := drafts(t, readRows(t, openSheet(t, c.utf8, bulk.Options{})))
			s := openSheet(t, encode(t, c.codec, c.utf8), bulk.Options{})
			if s.Encoding() != c.enc || s.Delimiter() != c.comma {
				t.Fatalf("encoding %v, delimiter %q; want %v, %q", s.Encoding(), s.Delimiter(), c.enc, c.comma)
			}
			got := drafts(t, readRows(t, s))
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v\nwant %+v", got[0], want[0])
			}
		})
	}
	ar := drafts(t, readRows(t, openSheet(t, arabicCSV(), bulk.Options{})))
	if ar[0].FullName != "فاطمة حسن عبدي" || ar[0].Gender != "female" || ar[0].DateOfBirth != "1991-03-14" ||
		ar[0].LegalStatus != "asylum-seeker" || ar[1].LegalStatus != "refugee" || ar[1].Gender != "male" {
		t.Fatalf("Arabic row read as %+v, %+v", ar[0], ar[1])
	}
	fr := drafts(t, readRows(t, openSheet(t, frenchCSV(), bulk.Options{})))
	if fr[0].FullName != "Aïssata Diallo" || fr[0].Gender != "female" || fr[0].LegalStatus != "refugee" ||
		fr[1].Gender != "male" || fr[1].LegalStatus != "idp" || fr[1].DateOfBirth != "1984-07-22" {
		t.Fatalf("French rows read as %+v, %+v", fr[0], fr[1])
	}
}

// TestEncodingRefused: a file that is not UTF-8 and whose encoding cannot
// be told with confidence is refused, and so are bytes that are not text
// in the encoding the file has or the caller names.
func TestEncodingRefused(t *testing.T) {
	russian := encode(t, charmap.Windows1251, csvOf(sampleHeader, with(fatima, colFull, "Фатима Хасан Абди", colFirst, "Фатима", colLast, "Абди")))
	badUTF8 := csvOf(sampleHeader, fatima, with(fatima, colID, "KE-2", colFull, "Fatima \xff"))
	badUTF16 := append(encode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), csvOf(sampleHeader, fatima)), 0x00, 0xD8)
	for _, c := range []struct {
		name   string
		data   []byte
		opts   bulk.Options
		reason bulk.Reason
		line   int
	}{
		{"Cyrillic Windows-1251", russian, bulk.Options{}, bulk.ReasonUnknownEncoding, 0},
		{"invalid UTF-8, said UTF-8", badUTF8, bulk.Options{Encoding: bulk.EncodingUTF8}, bulk.ReasonBadEncoding, 3},
		{"invalid UTF-8 after a BOM", append([]byte("\xEF\xBB\xBF"), badUTF8...), bulk.Options{}, bulk.ReasonBadEncoding, 3},
		{"a lone surrogate in UTF-16", badUTF16, bulk.Options{}, bulk.ReasonBadEncoding, 3},
		{"a replacement character", csvOf(sampleHeader, with(fatima, colFull, "Fatima \uFFFD")), bulk.Options{}, bulk.ReasonBadEncoding, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := openError(t, c.data, c.opts)
			if e.Reason != c.reason || e.Line != c.line {
				t.Fatalf("%v (reason %v, line %d), want reason %v on line %d", e, e.Reason, e.Line, c.reason, c.line)
			}
		})
	}
}

// TestLineNumbers: lines are counted as a spreadsheet shows them: a blank
// line is a row, a cell with line breaks is one row, a sep= line is not
// shown.
func TestLineNumbers(t *testing.T) {
	data := []byte("sep=,\n" + strings.Join(sampleHeader, ",") + "\n" +
		strings.Join(fatima, ",") + "\n" +
		"\n\n" +
		strings.Join(with(fatima, colID, "KE-2", colLocation, "\"Camp\nBlock 4\""), ",") + "\n" +
		",,,,,,\n" +
		strings.Join(with(fatima, colID, "KE-3", colBirth, "31/04/1991"), ",") + "\n")
	s := openSheet(t, data, bulk.Options{})
	if s.Total() != 3 {
		t.Fatalf("%d rows, want 3 (blank rows aside)", s.Total())
	}
	rows := readRows(t, s)
	var lines []int
	for _, r := range rows {
		lines = append(lines, r.Line)
	}
	if !reflect.DeepEqual(lines, []int{2, 5, 7}) {
		t.Fatalf("lines %v, want [2 5 7]", lines)
	}
	if rows[1].Draft.Subject.(*credentials.Registration).LocationCode != "Camp Block 4" {
		t.Fatalf("a cell with a line break reads %q", rows[1].Draft.Subject.(*credentials.Registration).LocationCode)
	}
	if len(rows[2].Problems) != 1 || rows[2].Problems[0].Line != 7 || rows[2].Problems[0].Column.Letter != "E" {
		t.Fatalf("problems of line 7: %v", rows[2].Problems)
	}
}
