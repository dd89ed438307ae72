package registry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/verifier/registry"
)

func TestExportParseRoundTrip(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	april := t0.AddDate(0, 1, 0)
	for _, s := range []registry.Scan{scan(1, "MPCA-2026", t0), scan(1, "MPCA-2026", t0.Add(time.Hour)), scan(1, "MPCA-2026", april),
		scan(2, "", t0), scan(3, "HEALTH", april)} {
		if _, err := f.svc.Record(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	l, err := f.svc.Export(ctx, "consortium-x")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := l.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if lines[0] != registry.ListHeader || len(lines) != 5 {
		t.Fatalf("export:\n%s", text)
	}
	want := fmt.Sprintf("consortium-x,%s,MPCA-2026,2026-03,2", tok(1))
	if !strings.Contains(text, want+"\n") || !strings.Contains(text, fmt.Sprintf("consortium-x,%s,,2026-03,1\n", tok(2))) {
		t.Fatalf("export lacks %q:\n%s", want, text)
	}
	// Nothing but tokens, programmes, months and counts: no service point,
	// no day.
	if strings.Contains(text, "Point") || strings.Contains(text, "2026-03-02") {
		t.Fatalf("the export says more than it should:\n%s", text)
	}
	back, err := registry.ParseList(strings.NewReader(text), "consortium-x")
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	back.WriteCSV(&again)
	if again.String() != text {
		t.Fatalf("round trip:\n%s\nbecame\n%s", text, again.String())
	}
	if _, err := f.svc.Export(ctx, "nowhere"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("export of an unknown domain: %v", err)
	}
}

func TestParseListErrors(t *testing.T) {
	a, b := tok(1), tok(2)
	head := registry.ListHeader + "\n"
	cases := []struct {
		name, in     string
		line, column int
		says         string
	}{
		{"empty", "", 1, 1, "empty"},
		{"another header", "domain,token,programme,month,visits\n", 1, 5, `"count"`},
		{"a missing field", head + "d," + a + ",P,2026-03\n", 2, 1, "5 fields"},
		{"a bare quote", head + "d," + a + ",P\"Q,2026-03,1\n", 2, 3, "quote"},
		{"a bad domain", head + "d d," + a + ",P,2026-03,1\n", 2, 1, "domain id"},
		{"two domains", head + "d," + a + ",P,2026-03,1\ne," + b + ",P,2026-03,1\n", 3, 1, "two domains"},
		{"a bad token", head + "d,abc,P,2026-03,1\n", 2, 2, "26 characters"},
		{"a bad programme", head + "d," + a + ",P;Q,2026-03,1\n", 2, 3, "programme"},
		{"a bad month", head + "d," + a + ",P,2026-13,1\n", 2, 4, "01 to 12"},
		{"a date for a month", head + "d," + a + ",P,2026-03-01,1\n", 2, 4, "YYYY-MM"},
		{"a zero count", head + "d," + a + ",P,2026-03,0\n", 2, 5, "whole number"},
		{"a signed count", head + "d," + a + ",P,2026-03,+1\n", 2, 5, "whole number"},
		{"a huge count", head + "d," + a + ",P,2026-03,99999999999999999999\n", 2, 5, "whole number"},
		{"a row twice", head + "d," + a + ",P,2026-03,1\nd," + b + ",P,2026-03,1\r\nd," + a + ",P,2026-03,4\n", 4, 2, "line 2 already"},
		{"header only", head, 2, 1, "no rows"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := registry.ParseList(strings.NewReader(c.in), "")
			var ce *registry.CSVError
			if !errors.As(err, &ce) || !errors.Is(err, registry.ErrInvalid) {
				t.Fatalf("got %+v, %v; want a CSV error", l, err)
			}
			if ce.Line != c.line || ce.Column != c.column || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("error %q at line %d column %d; want line %d column %d saying %q", err, ce.Line, ce.Column, c.line, c.column, c.says)
			}
			if len(l.Rows) != 0 {
				t.Fatal("rows came back with an error")
			}
		})
	}
	// The domain asked for must be the list's.
	_, err := registry.ParseList(strings.NewReader(head+"other,"+a+",P,2026-03,1\n"), "consortium-x")
	if err == nil || !strings.Contains(err.Error(), "line 2, column 1") {
		t.Errorf("a list of another domain: %v", err)
	}
	// A spreadsheet's byte order mark and CRLF line ends are fine.
	l, err := registry.ParseList(strings.NewReader("\uFEFF"+strings.ReplaceAll(head+"d,"+a+",P,2026-03,3\n", "\n", "\r\n")), "")
	if err != nil || len(l.Rows) != 1 || l.Rows[0].Count != 3 || l.Domain != "d" {
		t.Errorf("a list saved by a spreadsheet: %+v, %v", l, err)
	}
}

// Importing a list with an error anywhere imports nothing, and leaves the
// peer's list from before as it was.
func TestImportAllOrNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	good := registry.ListHeader + "\nconsortium-x," + tok(1) + ",P,2026-03,1\nconsortium-x," + tok(2) + ",P,2026-03,2\n"
	l, err := registry.ParseList(strings.NewReader(good), "consortium-x")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ImportPeerList(ctx, "org-b", l); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(good, "2026-03,2", "2026-03,x", 1)
	if _, err := registry.ParseList(strings.NewReader(bad), "consortium-x"); err == nil {
		t.Fatal("a bad list parsed")
	}
	// A list built in code is checked the same way.
	l2 := registry.List{Domain: "consortium-x", Rows: []registry.ListRow{{Token: tok(3), Programme: "P", Month: "2026-04", Count: 1}, {Token: "nope", Month: "2026-04", Count: 1}}}
	var ce *registry.CSVError
	if err := f.svc.ImportPeerList(ctx, "org-b", l2); !errors.As(err, &ce) || ce.Line != 3 || ce.Column != 2 {
		t.Fatalf("a bad list: %v", err)
	}
	if err := f.svc.ImportPeerList(ctx, "org b", l); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("a bad peer name: %v", err)
	}
	l3 := l
	l3.Domain = "elsewhere"
	if err := f.svc.ImportPeerList(ctx, "org-b", l3); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("a list of an unknown domain: %v", err)
	}
	got, err := f.st.PeerList(ctx, "consortium-x", "org-b")
	counts := map[string]int{}
	for _, r := range got.Rows {
		counts[r.Token] = r.Count
	}
	if err != nil || len(got.Rows) != 2 || counts[tok(1)] != 1 || counts[tok(2)] != 2 {
		t.Fatalf("the list from before: %+v, %v", got, err)
	}
	// A new list replaces the old one whole.
	l4 := registry.List{Domain: "consortium-x", Rows: []registry.ListRow{{Token: tok(5), Month: "2026-05", Count: 1}}}
	if err := f.svc.ImportPeerList(ctx, "org-b", l4); err != nil {
		t.Fatal(err)
	}
	got, _ = f.st.PeerList(ctx, "consortium-x", "org-b")
	if len(got.Rows) != 1 || got.Rows[0].Token != tok(5) || got.Rows[0].Programme != "" {
		t.Fatalf("after replacing: %+v", got)
	}
	if _, err := f.st.PeerList(ctx, "consortium-x", "org-a"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("a peer that sent nothing: %v", err)
	}
	// Only a member of the domain can have sent a list of it.
	var ie *registry.InputError
	if err := f.svc.ImportPeerList(ctx, "org-c", l4); !errors.As(err, &ie) || ie.Field != "peer" || !strings.Contains(err.Error(), "not a member") {
		t.Errorf("a list from a non-member: %v", err)
	}
	// An empty list is a list: the peer served no one.
	if err := f.svc.ImportPeerList(ctx, "org-a", registry.List{Domain: "consortium-x"}); err != nil {
		t.Fatal(err)
	}
	if got, err := f.st.PeerList(ctx, "consortium-x", "org-a"); err != nil || len(got.Rows) != 0 {
		t.Errorf("an empty list: %+v, %v", got, err)
	}
}
