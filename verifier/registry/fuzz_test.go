package registry_test

import (
	"bytes"
	"flag"
	"strings"
	"testing"

	"github.com/tally-id/tally/internal/fuzzcorpus"
	"github.com/tally-id/tally/verifier/registry"
)

// The seed corpus of FuzzParseList is kept in testdata/fuzz/FuzzParseList.
// Refresh it with
//
//	go test ./verifier/registry -run TestListFuzzCorpus -update-list-fuzz
var updateListFuzz = flag.Bool("update-list-fuzz", false, "rewrite the seed corpus of FuzzParseList")

func listSeeds() map[string][]byte {
	a, b := tok(1), tok(2)
	head := registry.ListHeader + "\n"
	return map[string][]byte{
		"good":        []byte(head + "d," + a + ",P,2026-03,2\nd," + b + ",,2026-04,1\n"),
		"crlf-bom":    []byte("\uFEFF" + strings.ReplaceAll(head+"d,"+a+",P,2026-03,2\n", "\n", "\r\n")),
		"header-only": []byte(head),
		"empty":       {},
		"quoted":      []byte(head + "\"d\"," + a + ",\"P\",2026-03,1\n"),
		"bare-quote":  []byte(head + "d," + a + ",P\"Q,2026-03,1\n"),
		"two-domains": []byte(head + "d," + a + ",P,2026-03,1\ne," + b + ",P,2026-03,1\n"),
		"duplicate":   []byte(head + "d," + a + ",P,2026-03,1\nd," + a + ",P,2026-03,1\n"),
		"bad-month":   []byte(head + "d," + a + ",P,2026-00,1\n"),
		"bad-count":   []byte(head + "d," + a + ",P,2026-03,-1\n"),
		"short-row":   []byte(head + "d," + a + "\n"),
		"multiline":   []byte(head + "\"d\nd\"," + a + ",P,2026-03,1\n"),
	}
}

func TestListFuzzCorpus(t *testing.T) {
	corpus := map[string]fuzzcorpus.Seed{}
	for name, data := range listSeeds() {
		corpus[name] = fuzzcorpus.Seed{data}
	}
	fuzzcorpus.Keep(t, "FuzzParseList", *updateListFuzz, "go test ./verifier/registry -run TestListFuzzCorpus -update-list-fuzz", corpus)
}

// FuzzParseList: ParseList never panics; what it accepts passes Check,
// and writes back to a list that parses to the same rows. An error is a
// *CSVError with a line and column from 1.
func FuzzParseList(f *testing.F) {
	for _, data := range listSeeds() {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := registry.ParseList(bytes.NewReader(data), "")
		if err != nil {
			ce, ok := err.(*registry.CSVError)
			if !ok || ce.Line < 1 || ce.Column < 1 {
				t.Fatalf("error %#v", err)
			}
			if len(l.Rows) != 0 {
				t.Fatal("rows with an error")
			}
			return
		}
		if err := l.Check(); err != nil {
			t.Fatalf("an accepted list fails Check: %v", err)
		}
		var buf bytes.Buffer
		if err := l.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := registry.ParseList(&buf, l.Domain)
		if err != nil {
			t.Fatalf("a written list does not parse: %v\n%s", err, buf.String())
		}
		if len(back.Rows) != len(l.Rows) {
			t.Fatalf("%d rows became %d", len(l.Rows), len(back.Rows))
		}
		for i := range l.Rows {
			if back.Rows[i] != l.Rows[i] {
				t.Fatalf("row %d: %+v became %+v", i, l.Rows[i], back.Rows[i])
			}
		}
	})
}
