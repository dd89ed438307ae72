package bulk_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tally-id/tally/issuer/bulk"
)

// TestFileRefused: a file whose shape is wrong, or that passes a limit, is
// refused by Open with the reason, the line and the column when there is
// one, and words that quote nothing from it.
func TestFileRefused(t *testing.T) {
	small := bulk.Limits{MaxFileBytes: 4096, MaxRows: 5, MaxColumns: 14, MaxCellBytes: 300}
	header := strings.Join(sampleHeader, ",") + "\n"
	row := strings.Join(fatima, ",") + "\n"
	for _, c := range []struct {
		name   string
		data   string
		limits bulk.Limits
		reason bulk.Reason
		line   int
		letter string
		words  string
	}{
		{"too large", header + strings.Repeat(row, 40), small, bulk.ReasonFileTooLarge, 0, "", "larger than 4 KB"},
		{"too many rows", header + strings.Repeat(row, 6), small, bulk.ReasonTooManyRows, 7, "", "more than 5 rows"},
		{"too many columns", header + row[:len(row)-1] + ",a,b,c\n", small, bulk.ReasonTooManyColumns, 2, "", "more than 14 columns"},
		{"trailing empty cells do not count", header + row[:len(row)-1] + ",,,,,,,,,,\n", small, 0, 0, "", ""},
		{"a quote never closed", header + row + `KE-2,"` + marker + ",x\n" + strings.Repeat(row, 3), small, bulk.ReasonMalformedCSV, 3, "", "not closed"},
		{"a long quoted cell", header + `KE-2,"` + strings.Repeat(marker, 40) + "\"\n", small, bulk.ReasonCellTooLong, 2, "B", "longer than 300 bytes"},
		{"a bare quote", header + row + `KE-2,Fatima "` + marker + `" Abdi` + "\n", small, bulk.ReasonMalformedCSV, 3, "", "does not start with one"},
		{"empty", "", small, bulk.ReasonNoHeader, 0, "", "no header"},
		{"blank lines only", "\n\r\n,,,\n", small, bulk.ReasonNoHeader, 0, "", "no header"},
		{"a header and no rows", header, small, 0, 0, "", ""},
		{"an old Excel file", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1" + strings.Repeat("\x00", 100), small, bulk.ReasonUnsupportedFormat, 0, "", ".xls"},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := bulk.Options{Limits: c.limits}
			if c.reason == 0 {
				openSheet(t, []byte(c.data), opts)
				return
			}
			e := openError(t, []byte(c.data), opts)
			if e.Reason != c.reason || e.Line != c.line || e.Column.Letter != c.letter || !strings.Contains(e.Error(), c.words) {
				t.Fatalf("%v\n(reason %v, line %d, column %q); want %v, line %d, column %q, with %q", e, e.Reason, e.Line, e.Column.Letter, c.reason, c.line, c.letter, c.words)
			}
			if !e.Reason.FileLevel() {
				t.Fatalf("reason %v is not a file's", e.Reason)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []bulk.Options{
		{Encoding: 99}, {DateOrder: -1}, {Limits: bulk.Limits{MaxRows: -1}},
	} {
		if o.Validate() == nil {
			t.Errorf("%+v validates", o)
		}
		if _, err := openSheetErrOpts(sampleCSV(t), o); err == nil {
			t.Errorf("Open takes %+v", o)
		}
	}
}

func openSheetErrOpts(data []byte, o bulk.Options) (*bulk.Sheet, error) {
	return bulk.Open(context.Background(), bytes.NewReader(data), int64(len(data)), o)
}
