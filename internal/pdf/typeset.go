package pdf

import (
	"unicode"

	"github.com/go-text/typesetting/bidi"
	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"
)

// A line of text is shaped in three steps: the Unicode bidirectional
// algorithm (UAX #9, go-text's bidi package) splits it into runs of one
// direction and gives each its embedding level; the segmenter splits runs
// further by script and font; HarfBuzz's algorithm (go-text's shaping
// package) turns each run into positioned glyphs, joining Arabic letters
// and choosing their contextual forms. The runs are then put in visual
// order (UAX #9 rule L2), so the line draws left to right.

// emUnits is the size text is shaped at: positions come out in glyph space
// units, 1/1000 of the font size, as PDF text operators take them.
const emUnits = 1000

// shapedLine is one line of text, ready to draw from its left end.
type shapedLine struct {
	runs  []shapedRun // left to right
	width float64     // in 1/1000 em
	rtl   bool        // the paragraph direction
}

// shapedRun is a sequence of glyphs from one font.
type shapedRun struct {
	font   fontID
	glyphs []placedGlyph
}

// placedGlyph is a glyph and where it goes, in 1/1000 em from the line's
// left end and baseline.
type placedGlyph struct {
	gid  uint16
	x, y float64
	// text is what the glyph's cluster stands for, on the cluster's first
	// glyph, for the PDF's ToUnicode map (so the text can be copied and
	// searched).
	text string
}

// typesetter shapes text. It is not safe for concurrent use: each
// goroutine that renders has its own.
type typesetter struct {
	fonts  *fontSet
	faces  [numFonts]*font.Face
	shaper shaping.HarfbuzzShaper
	seg    shaping.Segmenter
	para   bidi.Paragraph
	fmap   fontMap
	cache  map[lineKey]*shapedLine
}

type lineKey struct {
	text string
	bold bool
}

// maxCachedLines bounds the cache of shaped lines: labels and organisation
// names repeat on every card of a batch; names do not.
const maxCachedLines = 256

func newTypesetter(fonts *fontSet) *typesetter {
	t := &typesetter{fonts: fonts, cache: make(map[lineKey]*shapedLine)}
	for i, f := range fonts {
		t.faces[i] = font.NewFace(f.font)
	}
	t.fmap.t = t
	return t
}

// fontMap chooses the font for each rune: the Arabic font for Arabic
// script and for neutral characters inside Arabic runs, the Latin font
// otherwise, and whichever has the glyph when one lacks it.
type fontMap struct {
	t      *typesetter
	bold   bool
	arabic bool
}

func (m *fontMap) SetScript(s language.Script) { m.arabic = s == language.Arabic }

func (m *fontMap) ResolveFace(r rune) *font.Face {
	latin, arabic := m.t.faces[latinRegular], m.t.faces[arabicRegular]
	if m.bold {
		latin, arabic = m.t.faces[latinBold], m.t.faces[arabicBold]
	}
	first, second := latin, arabic
	if m.arabic {
		first, second = arabic, latin
	}
	if _, ok := first.NominalGlyph(r); ok {
		return first
	}
	if _, ok := second.NominalGlyph(r); ok {
		return second
	}
	return first
}

func (t *typesetter) fontOf(f *font.Face) fontID {
	for i, face := range t.faces {
		if face == f {
			return fontID(i)
		}
	}
	return latinRegular
}

// paragraphRTL reports whether text is a right-to-left paragraph: whether
// its first letter is of a right-to-left script (UAX #9 rules P2 and P3).
func paragraphRTL(text string) bool {
	for _, r := range text {
		if unicode.In(r, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana, unicode.Nko) {
			return true
		}
		if unicode.IsLetter(r) {
			return false
		}
	}
	return false
}

// line shapes text as one line.
func (t *typesetter) line(text string, bold bool) *shapedLine {
	key := lineKey{text, bold}
	if l, ok := t.cache[key]; ok {
		return l
	}
	l := t.shape(text, bold)
	if len(t.cache) >= maxCachedLines {
		clear(t.cache)
	}
	t.cache[key] = l
	return l
}

func (t *typesetter) shape(text string, bold bool) *shapedLine {
	runes := []rune(text)
	l := &shapedLine{rtl: paragraphRTL(text)}
	if len(runes) == 0 {
		return l
	}
	base, dir := bidi.LeftToRight, di.DirectionLTR
	if l.rtl {
		base, dir = bidi.RightToLeft, di.DirectionRTL
	}
	// Embedding levels of each rune, for the visual order.
	levels := make([]bidi.Level, len(runes))
	bidiRuns := t.para.Segment(runes, base)
	for i := range bidiRuns.NumRuns() {
		r := bidiRuns.Run(i)
		for j := r.Start; j < r.End; j++ {
			levels[j] = r.Level
		}
	}
	t.fmap.bold = bold
	inputs := t.seg.Split(shaping.Input{
		Text:      runes,
		RunEnd:    len(runes),
		Direction: dir,
		Size:      fixed.I(emUnits),
		Language:  language.NewLanguage("und"),
	}, &t.fmap)
	type piece struct {
		out   shaping.Output
		level bidi.Level
	}
	pieces := make([]piece, 0, len(inputs))
	for _, in := range inputs {
		pieces = append(pieces, piece{t.shaper.Shape(in), levels[in.RunStart]})
	}
	// UAX #9 rule L2: from the highest level down to the lowest odd
	// level, reverse each sequence of runs at that level or higher.
	var highest, lowestOdd bidi.Level = 0, 127
	for _, p := range pieces {
		highest = max(highest, p.level)
		if p.level%2 == 1 {
			lowestOdd = min(lowestOdd, p.level)
		}
	}
	for lvl := highest; lvl >= lowestOdd && lvl > 0; lvl-- {
		for i := 0; i < len(pieces); {
			if pieces[i].level < lvl {
				i++
				continue
			}
			j := i
			for j < len(pieces) && pieces[j].level >= lvl {
				j++
			}
			for a, b := i, j-1; a < b; a, b = a+1, b-1 {
				pieces[a], pieces[b] = pieces[b], pieces[a]
			}
			i = j
		}
	}
	x := 0.0
	for _, p := range pieces {
		run := shapedRun{font: t.fontOf(p.out.Face)}
		// HarfBuzz returns the glyphs of a right-to-left run in visual
		// order already, left to right.
		for _, g := range p.out.Glyphs {
			pg := placedGlyph{
				gid: uint16(g.GlyphID),
				x:   x + fixedUnits(g.XOffset),
				y:   fixedUnits(g.YOffset),
			}
			if isClusterStart(p.out.Glyphs, g) {
				pg.text = string(runes[g.TextIndex() : g.TextIndex()+g.RunesCount()])
			}
			run.glyphs = append(run.glyphs, pg)
			x += fixedUnits(g.Advance)
		}
		l.runs = append(l.runs, run)
	}
	l.width = x
	return l
}

// isClusterStart reports whether g is the first glyph of its cluster in
// logical order, which carries the cluster's text.
func isClusterStart(glyphs []shaping.Glyph, g shaping.Glyph) bool {
	for _, o := range glyphs {
		if o.TextIndex() == g.TextIndex() {
			return o == g
		}
	}
	return true
}

func fixedUnits(v fixed.Int26_6) float64 { return float64(v) / 64 }
