package bulk_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tally-id/tally/issuer/bulk"
)

// wantProblem is one problem a bad row must be reported with.
type wantProblem struct {
	reason bulk.Reason
	letter string // the column's letter, or "" for none
	claim  string
}

// TestBadRows has a file with every kind of bad row, each value in it
// carrying the marker: the dry run reports every bad row with its line,
// column and reason, quotes no value, and the good rows still come.
func TestBadRows(t *testing.T) {
	long := strings.Repeat("x", 200) + marker
	cases := []struct {
		name string
		row  []string
		want []wantProblem
	}{
		{"good", fatima, nil},
		{"no registration ID", with(fatima, colID, ""), []wantProblem{{bulk.ReasonMissingValue, "A", "registrationId"}}},
		{"no full name", with(fatima, colID, "KE-3", colFull, "  "), []wantProblem{{bulk.ReasonMissingValue, "B", "fullName"}}},
		{"no such date", with(fatima, colID, "KE-4", colBirth, "31/04/"+marker), []wantProblem{{bulk.ReasonDate, "E", "dateOfBirth"}}},
		{"impossible date", with(fatima, colID, "KE-5", colBirth, "31/04/1991"), []wantProblem{{bulk.ReasonDate, "E", "dateOfBirth"}}},
		{"ambiguous date", with(fatima, colID, "KE-6", colBirth, "03/04/1991"), []wantProblem{{bulk.ReasonDateAmbiguous, "E", "dateOfBirth"}}},
		{"two-digit year", with(fatima, colID, "KE-7", colBirth, "14/03/91"), []wantProblem{{bulk.ReasonDate, "E", "dateOfBirth"}}},
		{"born tomorrow", with(fatima, colID, "KE-8", colBirth, "2026-11-04"), []wantProblem{{bulk.ReasonDateOutOfRange, "E", "dateOfBirth"}}},
		{"born before 1900", with(fatima, colID, "KE-9", colBirth, "1850"), []wantProblem{{bulk.ReasonDateOutOfRange, "E", "dateOfBirth"}}},
		{"Excel day number", with(fatima, colID, "KE-10", colBirth, "33311"), []wantProblem{{bulk.ReasonDate, "E", "dateOfBirth"}}},
		{"gender", with(fatima, colID, "KE-11", colGender, marker), []wantProblem{{bulk.ReasonGender, "F", "gender"}}},
		{"country", with(fatima, colID, "KE-12", colNationality, marker), []wantProblem{{bulk.ReasonCountry, "G", "nationality"}}},
		{"language", with(fatima, colID, "KE-13", colLanguage, marker), []wantProblem{{bulk.ReasonLanguage, "J", "language"}}},
		{"household not a number", with(fatima, colID, "KE-14", colHousehold, marker), []wantProblem{{bulk.ReasonNumber, "L", "householdSize"}}},
		{"household too large", with(fatima, colID, "KE-15", colHousehold, "500"), []wantProblem{{bulk.ReasonNumber, "L", "householdSize"}}},
		{"registration ID with spaces", with(fatima, colID, "KE 16 "+marker), []wantProblem{{bulk.ReasonInvalid, "A", "registrationId"}}},
		{"name too long", with(fatima, colID, "KE-17", colFull, long), []wantProblem{{bulk.ReasonInvalid, "B", "fullName"}}},
		{"same registration ID as line 3", with(fatima, colFull, "Another Person"), []wantProblem{{bulk.ReasonDuplicateRow, "A", "registrationId"}}},
		{"every problem of a row", with(fatima, colID, "KE-19", colBirth, marker, colGender, marker, colHousehold, "-1", colLanguage, ""),
			[]wantProblem{{bulk.ReasonDate, "E", "dateOfBirth"}, {bulk.ReasonGender, "F", "gender"}, {bulk.ReasonNumber, "L", "householdSize"}}},
		{"good, after them", with(fatima, colID, "KE-20"), nil},
	}
	rows := [][]string{sampleHeader, sampleTags}
	for _, c := range cases {
		rows = append(rows, c.row)
	}
	s := openSheet(t, csvOf(rows...), bulk.Options{})
	rep, err := s.DryRun(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := readRows(t, s)
	if len(got) != len(cases) || rep.Rows != len(cases) || rep.Good != 2 || rep.Bad != len(cases)-2 {
		t.Fatalf("%d rows, report %d rows (%d good, %d bad)", len(got), rep.Rows, rep.Good, rep.Bad)
	}
	var reported []*bulk.Error
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			row := got[i]
			line := i + 3
			if row.Line != line {
				t.Fatalf("line %d, want %d", row.Line, line)
			}
			if (row.Draft != nil) != (c.want == nil) || row.OK() != (c.want == nil) {
				t.Fatalf("draft %v, problems %v", row.Draft, row.Problems)
			}
			if len(row.Problems) != len(c.want) {
				t.Fatalf("problems %v, want %v", row.Problems, c.want)
			}
			for j, p := range row.Problems {
				w := c.want[j]
				if p.Reason != w.reason || p.Line != line || p.Column.Letter != w.letter || p.Claim != w.claim {
					t.Errorf("problem %d: %v (reason %v, line %d, column %q, claim %q); want %v in column %q, claim %q",
						j, p, p.Reason, p.Line, p.Column.Letter, p.Claim, w.reason, w.letter, w.claim)
				}
				if p.Reason.FileLevel() {
					t.Errorf("a row's problem has a file's reason: %v", p.Reason)
				}
				msg := p.Error()
				if !strings.HasPrefix(msg, "line ") || p.Column.Letter != "" && !strings.Contains(msg, "column "+p.Column.Letter+" (") {
					t.Errorf("%q does not say where", msg)
				}
				checkNoValue(t, p)
				reported = append(reported, p)
			}
		})
	}
	if !reflect.DeepEqual(reported, rep.Problems) {
		t.Fatalf("the report lists %d problems, the rows %d", len(rep.Problems), len(reported))
	}
	var text bytes.Buffer
	if _, err := rep.WriteTo(&text); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text.String(), marker) || strings.Contains(text.String(), "Fatima") || strings.Contains(text.String(), "KE-DAD") {
		t.Fatalf("the report quotes a value:\n%s", text.String())
	}
	if !strings.Contains(text.String(), "20 rows: 2 good, 18 with problems") {
		t.Fatalf("report:\n%s", text.String())
	}
	t.Logf("the dry run's report:\n%s", text.String())
}

// TestDuplicateRows: a row repeated without a registration ID is told by
// its values; the first of two rows is the one kept.
func TestDuplicateRows(t *testing.T) {
	noID := with(fatima, colID, "")
	s := openSheet(t, csvOf(sampleHeader, noID, with(noID, colFull, " Fatima  Hassan Abdi ", colGender, "F")), bulk.Options{})
	rows := readRows(t, s)
	if rows[0].Key != rows[1].Key || !strings.HasPrefix(rows[0].Key, "row-") {
		t.Fatalf("keys %s and %s", rows[0].Key, rows[1].Key)
	}
	last := rows[1].Problems[len(rows[1].Problems)-1]
	if last.Reason != bulk.ReasonDuplicateRow || last.Other != 2 || !strings.Contains(last.Error(), "repeats line 2") {
		t.Fatalf("problems of the repeated row: %v", rows[1].Problems)
	}
}

// TestKeys: a person's Key and Fingerprint do not depend on how the values
// are written; the Key is the registration ID's, so a changed row keeps its
// Key and changes its Fingerprint.
func TestKeys(t *testing.T) {
	tidy := readRows(t, openSheet(t, csvOf(sampleHeader, fatima), bulk.Options{}))[0]
	messy := readRows(t, openSheet(t, csvOf(sampleHeader,
		with(fatima, colFull, "  Fatima Hassan  Abdi", colBirth, "14/03/1991", colGender, "F", colNationality, "som", colLegal, "Asylum seeker", colLanguage, "SOM", colHousehold, "5.0"),
	), bulk.Options{}))[0]
	changed := readRows(t, openSheet(t, csvOf(sampleHeader, with(fatima, colLocation, "KE-KAKUMA-1")), bulk.Options{}))[0]
	other := readRows(t, openSheet(t, csvOf(sampleHeader, with(fatima, colID, "KE-DAD-2026-000124")), bulk.Options{}))[0]
	if tidy.Key != messy.Key || tidy.Fingerprint != messy.Fingerprint || !reflect.DeepEqual(tidy.Draft, messy.Draft) {
		t.Fatalf("the same person written two ways: %s %s, %s %s", tidy.Key, tidy.Fingerprint, messy.Key, messy.Fingerprint)
	}
	if changed.Key != tidy.Key || changed.Fingerprint == tidy.Fingerprint {
		t.Fatal("a changed row must keep its key and change its fingerprint")
	}
	if other.Key == tidy.Key || other.Fingerprint == tidy.Fingerprint {
		t.Fatal("two people share a key")
	}
	if strings.Contains(tidy.Key, "KE-DAD") || !strings.HasPrefix(tidy.Key, "id-") || len(tidy.Key) != 35 {
		t.Fatalf("key %q", tidy.Key)
	}
}

// TestDateOrder: the caller's date order reads dates that could be either,
// and the report suggests the order the other dates show.
func TestDateOrder(t *testing.T) {
	data := csvOf(sampleHeader,
		with(fatima, colID, "KE-1", colBirth, "14/03/1991"),
		with(fatima, colID, "KE-2", colBirth, "03/04/1991"),
		with(fatima, colID, "KE-3", colBirth, "1991-03-04"))
	rep, err := openSheet(t, data, bulk.Options{}).DryRun(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Bad != 1 || rep.Dates != (bulk.DateEvidence{DayFirst: 1, Ambiguous: 1}) || rep.Dates.Suggest() != bulk.DayFirst {
		t.Fatalf("report: %d bad, dates %+v", rep.Bad, rep.Dates)
	}
	for order, want := range map[bulk.DateOrder]string{bulk.DayFirst: "1991-04-03", bulk.MonthFirst: "1991-03-04"} {
		rows := readRows(t, openSheet(t, data, bulk.Options{DateOrder: order}))
		if rows[0].OK() != (order == bulk.DayFirst) {
			t.Fatalf("%v: 14/03/1991 read: %v", order, rows[0].Problems)
		}
		if got := drafts(t, rows[1:2])[0].DateOfBirth; got != want {
			t.Fatalf("%v: 03/04/1991 read as %s, want %s", order, got, want)
		}
	}
}

// TestResume: an import that stops half-way (a crash) and runs again,
// skipping the keys it issued, issues each person once.
func TestResume(t *testing.T) {
	data := generated(1000, 0)
	issued := map[string]int{}
	issue := func(stopAt int) {
		s := openSheet(t, data, bulk.Options{})
		for row, err := range s.Rows(context.Background()) {
			if err != nil {
				t.Fatal(err)
			}
			if _, done := issued[row.Key]; done || !row.OK() {
				continue
			}
			issued[row.Key]++
			if len(issued) == stopAt {
				return // the crash
			}
		}
	}
	issue(400)
	issue(-1)
	issue(-1) // the same file again
	if len(issued) != 1000 {
		t.Fatalf("%d people issued, want 1000", len(issued))
	}
	for k, n := range issued {
		if n != 1 {
			t.Fatalf("%s issued %d times", k, n)
		}
	}
}

// TestCancel: a done context ends Open and Rows with its error.
func TestCancel(t *testing.T) {
	data := generated(1000, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := openSheet(t, data, bulk.Options{})
	n := 0
	var last error
	for _, err := range s.Rows(ctx) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 100 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) || n > 200 {
		t.Fatalf("after cancel: %d rows, err %v", n, last)
	}
	if _, err := bulk.Open(ctx, bytes.NewReader(data), int64(len(data)), bulk.Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Open with a done context: %v", err)
	}
}

// TestComposedFullName: a file with first and last names and no full name
// gets the full name from them.
func TestComposedFullName(t *testing.T) {
	data := csvOf([]string{"Registration ID", "First name", "Last name"}, []string{"KE-1", "Fatima", "Abdi"}, []string{"KE-2", "Fatima", ""})
	rows := readRows(t, openSheet(t, data, bulk.Options{}))
	if got := drafts(t, rows[:1])[0].FullName; got != "Fatima Abdi" {
		t.Fatalf("full name %q", got)
	}
	p := rows[1].Problems
	if len(p) != 1 || p[0].Reason != bulk.ReasonMissingValue || p[0].Claim != "fullName" || p[0].Column.Letter != "" ||
		p[0].Error() != "line 3, full name: is empty, and a registration needs it: fill it in" {
		t.Fatalf("problems: %v", p)
	}
}

// changingFile is a file whose bytes the test changes after Open.
type changingFile struct{ data []byte }

func (f *changingFile) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(f.data).ReadAt(p, off)
}

// TestFileChanged: a pass over bytes that changed since Open ends with an
// error, rather than rows Open did not check.
func TestFileChanged(t *testing.T) {
	data := csvOf(sampleHeader, fatima, with(fatima, colID, "KE-2"))
	f := &changingFile{data: data}
	s, err := bulk.Open(context.Background(), f, int64(len(data)), withToday(bulk.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	f.data = csvOf(sampleHeader, fatima)
	var last error
	for _, err := range s.Rows(context.Background()) {
		last = err
	}
	if !errors.Is(last, bulk.ErrChanged) {
		t.Fatalf("err = %v, want ErrChanged", last)
	}
}

// TestConcurrentPasses: two passes over one Sheet at the same time read
// the same rows (run with -race).
func TestConcurrentPasses(t *testing.T) {
	s := openSheet(t, generated(500, 50), bulk.Options{})
	keys := make([][]string, 2)
	done := make(chan struct{})
	for i := range keys {
		go func() {
			defer func() { done <- struct{}{} }()
			for row, err := range s.Rows(context.Background()) {
				if err != nil {
					return
				}
				keys[i] = append(keys[i], row.Key)
			}
		}()
	}
	<-done
	<-done
	if len(keys[0]) != 500 || !reflect.DeepEqual(keys[0], keys[1]) {
		t.Fatalf("passes read %d and %d rows, or different ones", len(keys[0]), len(keys[1]))
	}
}
