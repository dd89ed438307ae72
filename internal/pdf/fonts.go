package pdf

import (
	"bytes"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/go-text/typesetting/font"
)

// The fonts are subsets of Noto Sans and Noto Sans Arabic UI (SIL Open Font
// License 1.1, fonts/OFL.txt), made by fonts/subset.sh: about 180 KB in
// all, embedded so that printing works on a machine with no fonts.
//
//go:embed fonts/*.ttf
var fontFiles embed.FS

// fontID names one embedded font.
type fontID int

const (
	latinRegular fontID = iota
	latinBold
	arabicRegular
	arabicBold
	numFonts
)

var fontFileNames = [numFonts]string{
	latinRegular:  "NotoSans-Regular.ttf",
	latinBold:     "NotoSans-Bold.ttf",
	arabicRegular: "NotoSansArabicUI-Regular.ttf",
	arabicBold:    "NotoSansArabicUI-Bold.ttf",
}

// embeddedFont is a parsed font with what a PDF font dictionary needs, in
// glyph space units (1/1000 em).
type embeddedFont struct {
	postScriptName string
	data           []byte
	font           *font.Font // safe for concurrent use; its Faces are not
	widths         []int      // advance width of each glyph
	ascent         int
	descent        int
	capHeight      int
	bbox           [4]int
	bold           bool
}

// fontSet holds the embedded fonts.
type fontSet [numFonts]*embeddedFont

func loadFonts() (*fontSet, error) {
	var fs fontSet
	for id, name := range fontFileNames {
		data, err := fontFiles.ReadFile("fonts/" + name)
		if err != nil {
			return nil, fmt.Errorf("pdf: font %s: %w", name, err)
		}
		f, err := parseFont(strings.TrimSuffix(name, ".ttf"), data)
		if err != nil {
			return nil, fmt.Errorf("pdf: font %s: %w", name, err)
		}
		f.bold = id == int(latinBold) || id == int(arabicBold)
		fs[id] = f
	}
	return &fs, nil
}

func parseFont(postScriptName string, data []byte) (*embeddedFont, error) {
	ft, err := font.ParseTTF(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	n, err := ttfNumGlyphs(data)
	if err != nil {
		return nil, err
	}
	f := &embeddedFont{postScriptName: postScriptName, data: data, font: ft.Font}
	scale := 1000 / float64(ft.Upem())
	units := func(v float32) int { return int(float64(v)*scale + 0.5*sign(v)) }
	f.widths = make([]int, n)
	for g := range n {
		f.widths[g] = units(ft.HorizontalAdvance(font.GID(g)))
	}
	ext, _ := ft.FontHExtents()
	f.ascent, f.descent = units(ext.Ascender), units(ext.Descender)
	f.capHeight = f.ascent * 7 / 10
	if gid, ok := ft.NominalGlyph('H'); ok {
		if e, ok := ft.GlyphExtents(gid); ok {
			f.capHeight = units(e.YBearing)
		}
	}
	// The bounding box of all glyphs, from the glyph extents.
	first := true
	for g := range n {
		e, ok := ft.GlyphExtents(font.GID(g))
		if !ok || e.Width == 0 {
			continue
		}
		box := [4]int{units(e.XBearing), units(e.YBearing + e.Height), units(e.XBearing + e.Width), units(e.YBearing)}
		if first {
			f.bbox, first = box, false
			continue
		}
		f.bbox[0], f.bbox[1] = min(f.bbox[0], box[0]), min(f.bbox[1], box[1])
		f.bbox[2], f.bbox[3] = max(f.bbox[2], box[2]), max(f.bbox[3], box[3])
	}
	return f, nil
}

func sign(v float32) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

// ttfNumGlyphs reads the number of glyphs from a TrueType font's maxp table.
func ttfNumGlyphs(data []byte) (int, error) {
	if len(data) < 12 {
		return 0, errors.New("not a TrueType font")
	}
	tables := int(binary.BigEndian.Uint16(data[4:]))
	for i := range tables {
		rec := 12 + 16*i
		if rec+16 > len(data) {
			break
		}
		if string(data[rec:rec+4]) != "maxp" {
			continue
		}
		off := int(binary.BigEndian.Uint32(data[rec+8:]))
		if off+6 > len(data) {
			break
		}
		return int(binary.BigEndian.Uint16(data[off+4:])), nil
	}
	return 0, errors.New("no maxp table")
}
