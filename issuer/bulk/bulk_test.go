package bulk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer/bulk"
)

// today is the day the tests run on, for dates of birth in the future.
var today = time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)

// marker is in every bad value of the tests: no error may quote it.
const marker = "SECRETVALUE"

func sampleCSV(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "samples", "beneficiaries.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sampleRegistration is the subject of ../../testdata/samples/registration.json:
// the first row of the sample file.
func sampleRegistration(t testing.TB) *credentials.Registration {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "samples", "registration.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c credentials.Credential
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c.Subject.(*credentials.Registration)
}

func withToday(opts bulk.Options) bulk.Options {
	if opts.Now == nil {
		opts.Now = func() time.Time { return today }
	}
	return opts
}

func openSheet(t testing.TB, data []byte, opts bulk.Options) *bulk.Sheet {
	t.Helper()
	s, err := bulk.Open(context.Background(), bytes.NewReader(data), int64(len(data)), withToday(opts))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// openError opens a file that must be refused, and returns the problem.
func openError(t testing.TB, data []byte, opts bulk.Options) *bulk.Error {
	t.Helper()
	_, err := bulk.Open(context.Background(), bytes.NewReader(data), int64(len(data)), withToday(opts))
	var fe *bulk.FileError
	if !errors.As(err, &fe) || len(fe.Problems) == 0 {
		t.Fatalf("Open: err = %v, want a *FileError", err)
	}
	var e *bulk.Error
	if !errors.As(err, &e) || e != fe.Problems[0] {
		t.Fatal("errors.As does not find the first problem of a FileError")
	}
	checkNoValue(t, err)
	return e
}

func readRows(t testing.TB, s *bulk.Sheet) []bulk.Row {
	t.Helper()
	var rows []bulk.Row
	for row, err := range s.Rows(context.Background()) {
		if err != nil {
			t.Fatalf("Rows: %v", err)
		}
		rows = append(rows, row)
	}
	return rows
}

// drafts returns the subjects of the good rows, and fails on a bad one.
func drafts(t testing.TB, rows []bulk.Row) []*credentials.Registration {
	t.Helper()
	var out []*credentials.Registration
	for _, r := range rows {
		if !r.OK() {
			t.Fatalf("line %d: %v", r.Line, r.Problems)
		}
		if r.Draft.Type != credentials.TypeRegistration || r.Draft.Issuer != "" {
			t.Fatalf("line %d: draft of type %s, issuer %q", r.Line, r.Draft.Type, r.Draft.Issuer)
		}
		out = append(out, r.Draft.Subject.(*credentials.Registration))
	}
	return out
}

// checkNoValue fails when an error's words hold the marker.
func checkNoValue(t testing.TB, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), marker) {
		t.Fatalf("an error quotes a value: %v", err)
	}
}

// csvOf writes rows as CSV with commas, quoting what needs it.
func csvOf(rows ...[]string) []byte {
	var b bytes.Buffer
	for _, r := range rows {
		for i, c := range r {
			if i > 0 {
				b.WriteByte(',')
			}
			if strings.ContainsAny(c, ",\"\n\r") {
				c = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
			}
			b.WriteString(c)
		}
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// The sample's header, HXL row and first data row.
var (
	sampleHeader = []string{"Registration ID", "Full name", "First name", "Last name", "Date of birth", "Gender",
		"Nationality", "Legal status", "Location", "Language", "Programme", "Household size"}
	sampleTags = []string{"#beneficiary+id", "#beneficiary+name", "#beneficiary+name+first", "#beneficiary+name+last",
		"#date+birth", "#beneficiary+gender", "#country+code+nationality", "#status+legal", "#loc+code", "#meta+lang",
		"#activity+code", "#household+size"}
	fatima = []string{"KE-DAD-2026-000123", "Fatima Hassan Abdi", "Fatima", "Abdi", "1991-03-14", "female", "SO",
		"asylum-seeker", "KE-DADAAB-HSP1", "som", "MPCA-2026", "5"}
)

// with returns a copy of row with the cells at the given indexes replaced.
func with(row []string, kv ...any) []string {
	out := append([]string(nil), row...)
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(int)] = kv[i+1].(string)
	}
	return out
}

// The columns of the sample, by index.
const (
	colID = iota
	colFull
	colFirst
	colLast
	colBirth
	colGender
	colNationality
	colLegal
	colLocation
	colLanguage
	colProgramme
	colHousehold
)

func openSheetErr(data []byte) (*bulk.Sheet, error) {
	return bulk.Open(context.Background(), bytes.NewReader(data), int64(len(data)), withToday(bulk.Options{}))
}
