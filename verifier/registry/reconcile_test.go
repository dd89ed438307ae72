package registry_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/tally-id/tally/verifier/registry"
)

func row(i int, programme, month string) registry.ListRow {
	return registry.ListRow{Token: tok(i), Programme: programme, Month: registry.Month(month), Count: 1}
}

// twoLists: t1 and t3 are in both lists in March, t1 in April too; t2 is
// in both, but in different months; t4 and t5 are in one list only.
func twoLists() (registry.List, registry.List) {
	a := registry.List{Domain: "consortium-x", Rows: []registry.ListRow{
		row(1, "P1", "2026-03"), row(2, "P1", "2026-03"), row(3, "P2", "2026-03"), row(1, "P1", "2026-04"), row(4, "P1", "2026-05")}}
	b := registry.List{Domain: "consortium-x", Rows: []registry.ListRow{
		row(1, "H", "2026-03"), row(3, "H", "2026-03"), row(5, "H", "2026-03"), row(1, "H", "2026-04"), row(2, "H", "2026-06")}}
	return a, b
}

func TestReconcile(t *testing.T) {
	a, b := twoLists()
	r, err := registry.Reconcile("org-a", a, "org-b", b)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	want := registry.ReportHeader + "\n" +
		"2026-03,P1,H,2,3,1\n" +
		"2026-03,P2,H,1,3,1\n" +
		"2026-04,P1,H,1,1,1\n"
	if buf.String() != want {
		t.Fatalf("report:\n%s\nwant:\n%s", buf.String(), want)
	}
	if r.TokensA != 4 || r.TokensB != 4 || r.Overlap != 3 {
		t.Errorf("totals %d %d %d, want 4 4 3", r.TokensA, r.TokensB, r.Overlap)
	}
	// Swapping the lists swaps the columns.
	r2, _ := registry.Reconcile("org-b", b, "org-a", a)
	if len(r2.Rows) != 3 || r2.Rows[0].ProgrammeA != "H" || r2.Rows[0].TokensA != 3 || r2.Overlap != 3 {
		t.Errorf("swapped: %+v", r2)
	}
	other := b
	other.Domain = "another"
	if _, err := registry.Reconcile("org-a", a, "org-b", other); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("lists of two domains: %v", err)
	}
	if _, err := registry.Reconcile("org-a", a, "org-a", b); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("two lists of one name: %v", err)
	}
}

// The registry's own list against a peer's imported one.
func TestReconcileWithPeer(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for _, s := range []registry.Scan{scan(1, "P1", t0), scan(1, "P1", t0), scan(2, "P1", t0)} {
		if _, err := f.svc.Record(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	_, b := twoLists()
	if err := f.svc.ImportPeerList(ctx, "org-b", b); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.ReconcileWithPeer(ctx, "consortium-x", "org-a", "org-b")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rows) != 1 || r.Rows[0] != (registry.ReportRow{Month: "2026-03", ProgrammeA: "P1", ProgrammeB: "H", TokensA: 2, TokensB: 3, Overlap: 1}) {
		t.Fatalf("report %+v", r.Rows)
	}
	if _, err := f.svc.ReconcileWithPeer(ctx, "consortium-x", "org-a", "org-z"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("a peer that sent nothing: %v", err)
	}
}

// svgBars parses an SVG document with encoding/xml (so it must be well
// formed) and returns its bars (rect elements after the background) and
// its texts.
func svgBars(t *testing.T, doc []byte) (bars int, texts []string) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	rects := 0
	inText := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v\n%s", err, doc)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if e.Name.Local == "script" || strings.HasPrefix(e.Name.Local, "on") {
				t.Fatal("the chart holds a script")
			}
			if e.Name.Local == "rect" {
				rects++
			}
			inText = e.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts = append(texts, string(e))
			}
		case xml.EndElement:
			inText = false
		}
	}
	return rects - 1, texts
}

func TestReportSVG(t *testing.T) {
	a, b := twoLists()
	r, _ := registry.Reconcile("org-a", a, "org-b <&>", b)
	bars, texts := svgBars(t, r.SVG(registry.EnglishChartLabels()))
	if bars != 3 {
		t.Fatalf("%d bars, want 3", bars)
	}
	// The title and the summary wrap: their lines join with spaces.
	all := strings.Join(texts, " ")
	for _, want := range []string{"org-b <&>", "2026-03 · P1 ↔ H", "1 in both (of 2 and 3)", "in both: 3"} {
		if !strings.Contains(all, want) {
			t.Errorf("the chart does not say %q:\n%s", want, all)
		}
	}
	// Right to left: the same bars, mirrored.
	l := registry.EnglishChartLabels()
	l.RTL = true
	rtl := r.SVG(l)
	if n, _ := svgBars(t, rtl); n != 3 || !bytes.Contains(rtl, []byte(`direction="rtl"`)) {
		t.Errorf("right to left: %d bars\n%s", n, rtl)
	}
	// No overlap: no bar, and a sentence that says so.
	empty, _ := registry.Reconcile("org-a", registry.List{Domain: "d"}, "org-b", registry.List{Domain: "d"})
	n, texts := svgBars(t, empty.SVG(registry.EnglishChartLabels()))
	if n != 0 || !strings.Contains(strings.Join(texts, " "), "No token") {
		t.Errorf("an empty report: %d bars, %q", n, texts)
	}
	// Many pairs: at most 40 bars, and the rest pointed to.
	var many registry.List
	many.Domain = "d"
	for m := 1; m <= 12; m++ {
		for p := range 5 {
			many.Rows = append(many.Rows, row(m*10+p, fmt.Sprintf("P%d", p), fmt.Sprintf("2026-%02d", m)))
		}
	}
	big, _ := registry.Reconcile("a", many, "b", many)
	n, texts = svgBars(t, big.SVG(registry.EnglishChartLabels()))
	if n != 40 || !strings.Contains(strings.Join(texts, " "), "20 more rows") {
		t.Errorf("a large report: %d bars, %q", n, texts[len(texts)-1])
	}
}
