package pdf

import (
	"strings"
	"testing"
	"unicode"
)

// TestLabels checks that every language has all its labels and that the
// embedded fonts draw every character of them, so that a language added
// in a script the fonts lack fails here rather than printing empty boxes.
func TestLabels(t *testing.T) {
	fonts, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	ts := newTypesetter(fonts)
	for _, lang := range Languages() {
		l := labels[lang]
		for field, text := range map[string]string{"IssuedBy": l.IssuedBy, "Name": l.Name, "ValidUntil": l.ValidUntil, "ID": l.ID} {
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s: no %s label", lang, field)
			}
			for _, r := range text {
				if unicode.IsSpace(r) {
					continue
				}
				_, latin := ts.faces[latinRegular].NominalGlyph(r)
				_, arabic := ts.faces[arabicRegular].NominalGlyph(r)
				if !latin && !arabic {
					t.Errorf("%s %s: no font draws %q (U+%04X)", lang, field, r, r)
				}
			}
		}
	}
	if _, err := labelsFor([]string{"EN", "ar"}); err != nil {
		t.Fatal(err)
	}
	if _, err := labelsFor([]string{"tlh"}); err == nil {
		t.Fatal("labels in an unknown language")
	}
}

// TestShapeArabic checks that Arabic letters take their joined forms and
// run right to left, and that digits and Latin words inside Arabic keep
// their own order (UAX #9).
func TestShapeArabic(t *testing.T) {
	fonts, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	ts := newTypesetter(fonts)
	isolated := func(r rune) uint16 {
		gid, _ := ts.faces[arabicRegular].NominalGlyph(r)
		return uint16(gid)
	}
	l := ts.line("فاطمة", false)
	if !l.rtl || len(l.runs) != 1 || l.runs[0].font != arabicRegular {
		t.Fatalf("فاطمة: %+v", l)
	}
	g := l.runs[0].glyphs
	// Left to right on the page: ة م ط ا ف, each in its joined form
	// where it joins (ط and م join on both sides: neither is isolated).
	var text []string
	for _, x := range g {
		text = append(text, x.text)
	}
	if strings.Join(text, "") != "ةمطاف" {
		t.Fatalf("glyph order %q, want ة م ط ا ف from the left", text)
	}
	if g[1].gid == isolated('م') || g[2].gid == isolated('ط') {
		t.Fatal("medial letters are drawn in their isolated forms: the text is not shaped")
	}
	// "Camp 12 مخيم" in an Arabic paragraph: the Arabic word on the
	// right, the Latin and the digits left of it, each left to right.
	l = ts.line("مخيم Camp 12", false)
	var order []string
	for _, r := range l.runs {
		var s string
		for _, x := range r.glyphs {
			s += x.text
		}
		order = append(order, strings.TrimSpace(s))
	}
	got := strings.Join(order, "|")
	if !strings.HasPrefix(got, "Camp 12|") || !strings.HasSuffix(got, "ميخم") {
		t.Fatalf("runs from the left: %q", got)
	}
}
