package pdf

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// document writes a PDF (ISO 32000-1) as it goes: each page is written
// when it is done, and what the pages share (fonts, the page tree) at the
// end, so a document of any length needs the memory of one page. Text is
// shown with the embedded TrueType fonts as CID fonts (Identity-H, so a
// character code is a glyph index), which lets shaped glyphs be placed as
// they are, and a ToUnicode map gives each glyph back its text.
type document struct {
	w       *bufio.Writer
	n       int64   // bytes written
	offsets []int64 // of each object; object 0 is the free list head
	err     error

	fonts *fontSet
	used  [numFonts]map[uint16]string // glyphs shown, with their text
	pages []int                       // page object numbers

	catalog, pageTree, resources int
}

func newDocument(w io.Writer, fonts *fontSet) *document {
	d := &document{w: bufio.NewWriterSize(w, 64<<10), fonts: fonts, offsets: []int64{0}}
	d.catalog, d.pageTree, d.resources = d.reserve(), d.reserve(), d.reserve()
	d.printf("%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n")
	return d
}

func (d *document) printf(format string, args ...any) {
	if d.err != nil {
		return
	}
	n, err := fmt.Fprintf(d.w, format, args...)
	d.n += int64(n)
	d.err = err
}

func (d *document) write(b []byte) {
	if d.err != nil {
		return
	}
	n, err := d.w.Write(b)
	d.n += int64(n)
	d.err = err
}

// reserve returns a new object number, for an object written later.
func (d *document) reserve() int {
	d.offsets = append(d.offsets, -1)
	return len(d.offsets) - 1
}

// object starts object n; the caller writes its body and then "endobj".
func (d *document) object(n int) {
	d.offsets[n] = d.n
	d.printf("%d 0 obj\n", n)
}

// stream writes object n as a stream of data compressed with zlib, which
// PDF calls FlateDecode; dict holds the stream's other entries.
func (d *document) stream(n int, dict string, data []byte) {
	d.streamCompressed(n, dict, deflate(data, zlib.DefaultCompression))
}

func (d *document) streamCompressed(n int, dict string, z []byte) {
	d.object(n)
	d.printf("<<%s/Filter/FlateDecode/Length %d>>\nstream\n", dict, len(z))
	d.write(z)
	d.printf("\nendstream\nendobj\n")
}

func deflate(data []byte, level int) []byte {
	var b bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&b, level) // the level is a valid constant
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

// page is one rendered page: its size in points, its content stream
// compressed, and the glyphs it shows.
type page struct {
	width, height float64
	content       []byte // zlib
	glyphs        glyphUse
}

// glyphUse records the glyphs a page shows, with their text.
type glyphUse [numFonts]map[uint16]string

func (g *glyphUse) add(f fontID, gid uint16, text string) {
	if g[f] == nil {
		g[f] = make(map[uint16]string)
	}
	if old, ok := g[f][gid]; !ok || old == "" {
		g[f][gid] = text
	}
}

// addPage writes a page.
func (d *document) addPage(p *page) {
	for f, m := range p.glyphs {
		for gid, text := range m {
			if d.used[f] == nil {
				d.used[f] = make(map[uint16]string)
			}
			if old, ok := d.used[f][gid]; !ok || old == "" {
				d.used[f][gid] = text
			}
		}
	}
	contents := d.reserve()
	d.streamCompressed(contents, "", p.content)
	n := d.reserve()
	d.object(n)
	d.printf("<</Type/Page/Parent %d 0 R/MediaBox[0 0 %s %s]/Resources %d 0 R/Contents %d 0 R>>\nendobj\n",
		d.pageTree, num(p.width), num(p.height), d.resources, contents)
	d.pages = append(d.pages, n)
}

// close writes the fonts, the page tree, the catalogue and the
// cross-reference table, and flushes.
func (d *document) close(title string) error {
	var res strings.Builder
	res.WriteString("<</Font<<")
	for f := range numFonts {
		if len(d.used[f]) == 0 {
			continue
		}
		fmt.Fprintf(&res, "/F%d %d 0 R", f, d.writeFont(f))
	}
	res.WriteString(">>>>")
	d.object(d.resources)
	d.printf("%s\nendobj\n", res.String())

	d.object(d.pageTree)
	d.printf("<</Type/Pages/Count %d/Kids[", len(d.pages))
	for i, p := range d.pages {
		if i > 0 && i%16 == 0 {
			d.printf("\n")
		}
		d.printf("%d 0 R ", p)
	}
	d.printf("]>>\nendobj\n")

	d.object(d.catalog)
	d.printf("<</Type/Catalog/Pages %d 0 R>>\nendobj\n", d.pageTree)
	info := d.reserve()
	d.object(info)
	d.printf("<</Title %s/Producer(tally)>>\nendobj\n", textString(title))

	xref := d.n
	d.printf("xref\n0 %d\n0000000000 65535 f \n", len(d.offsets))
	for _, off := range d.offsets[1:] {
		d.printf("%010d 00000 n \n", off)
	}
	d.printf("trailer\n<</Size %d/Root %d 0 R/Info %d 0 R>>\nstartxref\n%d\n%%%%EOF\n", len(d.offsets), d.catalog, info, xref)
	if d.err != nil {
		return fmt.Errorf("pdf: write: %w", d.err)
	}
	if err := d.w.Flush(); err != nil {
		return fmt.Errorf("pdf: write: %w", err)
	}
	return nil
}

// writeFont writes font f as a Type 0 font over a CIDFontType2 font, and
// returns the Type 0 font's object number.
func (d *document) writeFont(f fontID) int {
	ef := d.fonts[f]
	type0, cidFont, descriptor, file, toUnicode := d.reserve(), d.reserve(), d.reserve(), d.reserve(), d.reserve()
	gids := make([]uint16, 0, len(d.used[f]))
	for gid := range d.used[f] {
		gids = append(gids, gid)
	}
	slices.Sort(gids)

	d.object(type0)
	d.printf("<</Type/Font/Subtype/Type0/BaseFont/%s/Encoding/Identity-H/DescendantFonts[%d 0 R]/ToUnicode %d 0 R>>\nendobj\n",
		ef.postScriptName, cidFont, toUnicode)

	var w strings.Builder
	for _, gid := range gids {
		width := 0
		if int(gid) < len(ef.widths) {
			width = ef.widths[gid]
		}
		fmt.Fprintf(&w, "%d[%d]", gid, width)
	}
	d.object(cidFont)
	d.printf("<</Type/Font/Subtype/CIDFontType2/BaseFont/%s/CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>/FontDescriptor %d 0 R/CIDToGIDMap/Identity/DW 0/W[%s]>>\nendobj\n",
		ef.postScriptName, descriptor, w.String())

	flags := 32 // nonsymbolic
	stemV := 80
	if ef.bold {
		flags |= 1 << 18
		stemV = 140
	}
	d.object(descriptor)
	d.printf("<</Type/FontDescriptor/FontName/%s/Flags %d/FontBBox[%d %d %d %d]/ItalicAngle 0/Ascent %d/Descent %d/CapHeight %d/StemV %d/FontFile2 %d 0 R>>\nendobj\n",
		ef.postScriptName, flags, ef.bbox[0], ef.bbox[1], ef.bbox[2], ef.bbox[3], ef.ascent, ef.descent, ef.capHeight, stemV, file)
	d.stream(file, fmt.Sprintf("/Length1 %d", len(ef.data)), ef.data)
	d.stream(toUnicode, "", toUnicodeCMap(gids, d.used[f]))
	return type0
}

// toUnicodeCMap maps each glyph shown to its text (ISO 32000-1 9.10.3).
func toUnicodeCMap(gids []uint16, text map[uint16]string) []byte {
	var b bytes.Buffer
	b.WriteString("/CIDInit/ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo<</Registry(Adobe)/Ordering(UCS)/Supplement 0>>def\n" +
		"/CMapName/Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000><FFFF>\nendcodespacerange\n")
	var mapped []uint16
	for _, gid := range gids {
		if text[gid] != "" {
			mapped = append(mapped, gid)
		}
	}
	for chunk := range slices.Chunk(mapped, 100) {
		fmt.Fprintf(&b, "%d beginbfchar\n", len(chunk))
		for _, gid := range chunk {
			fmt.Fprintf(&b, "<%04X><", gid)
			for _, u := range utf16.Encode([]rune(text[gid])) {
				fmt.Fprintf(&b, "%04X", u)
			}
			b.WriteString(">\n")
		}
		b.WriteString("endbfchar\n")
	}
	b.WriteString("endcmap\nCMapName currentdict/CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}

// textString writes s as a PDF text string, in UTF-16BE with a byte order
// mark, so that any script survives.
func textString(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteString(">")
	return b.String()
}

// num formats a length in points with at most three decimals.
func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		return "0"
	}
	return s
}
