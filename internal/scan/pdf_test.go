package scan

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/internal/pdf"
)

// cardPDF prints the card of text with tally's own printer.
func cardPDF(t testing.TB, text, name string) []byte {
	t.Helper()
	p, err := pdf.NewPrinter()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	card := pdf.Card{QR: text, Name: name, ID: "KE-DAD-2026-000123", Organisation: "Scan test issuer",
		Expiry: time.Date(2027, 11, 1, 0, 0, 0, 0, time.UTC), Languages: []string{"en", "ar"}}
	if err := p.WriteCard(&buf, card); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodePDFCard(t *testing.T) {
	cards := newTestCards(t)
	dec, _ := New(Options{Timeout: time.Minute})
	for i, text := range cards.texts {
		data := cardPDF(t, text, "Fatima Hassan Abdi")
		res, err := dec.Decode(context.Background(), data)
		if err != nil {
			t.Fatalf("card %d: %v", i, err)
		}
		if res.Text != text {
			t.Fatalf("card %d: read another text", i)
		}
		if res.Attempts != 1 {
			t.Errorf("card %d: %d attempts, want the first view to read a drawn code", i, res.Attempts)
		}
		cards.verify(t, res.Text)
	}
}

// TestDecodePDFSheet reads an A4 sheet of cards: each code is painted on
// its own, and one of them reads.
func TestDecodePDFSheet(t *testing.T) {
	cards := newTestCards(t)
	p, err := pdf.NewPrinter()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	sw := p.NewSheetWriter(&buf)
	for _, text := range cards.texts {
		if err := sw.Add(pdf.Card{QR: text, Name: "Amina Yusuf", Organisation: "Scan test issuer"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	content := firstContent(t, buf.Bytes())
	if n := len(paintVectors(context.Background(), content, DefaultMaxPixels)); n != len(cards.texts) {
		t.Errorf("%d codes painted, want %d", n, len(cards.texts))
	}
	dec, _ := New(Options{Timeout: time.Minute})
	res, err := dec.Decode(context.Background(), buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cards.texts, res.Text) {
		t.Fatal("read a text that is none of the cards'")
	}
	cards.verify(t, res.Text)
}

// firstContent is the inflated first page content stream of a PDF.
func firstContent(t *testing.T, data []byte) []byte {
	t.Helper()
	inf := &inflater{left: maxFileInflated}
	for _, s := range pdfStreams(data) {
		if has(s.dict, "Length1", "") || has(s.dict, "Type", "") || has(s.dict, "Subtype", "") {
			continue
		}
		out, err := inf.inflate(s.data)
		if err == nil && bytes.Contains(out, []byte(" re\n")) {
			return out
		}
	}
	t.Fatal("no content stream")
	return nil
}

// minimalPDF writes a one-page PDF whose page shows one image stream.
func minimalPDF(imageDict string, imageData []byte) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	b.WriteString("1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n")
	b.WriteString("2 0 obj\n<</Type/Pages/Kids[3 0 R]/Count 1>>\nendobj\n")
	b.WriteString("3 0 obj\n<</Type/Page/Parent 2 0 R/MediaBox[0 0 400 300]/Resources<</XObject<</Im1 4 0 R>>>>/Contents 5 0 R>>\nendobj\n")
	fmt.Fprintf(&b, "4 0 obj\n<<%s/Length %d>>\nstream\n", imageDict, len(imageData))
	b.Write(imageData)
	b.WriteString("\nendstream\nendobj\n")
	page := "q 400 0 0 300 0 0 cm /Im1 Do Q\n"
	fmt.Fprintf(&b, "5 0 obj\n<</Length %d>>\nstream\n%s\nendstream\nendobj\ntrailer\n<</Root 1 0 R>>\n%%%%EOF\n", len(page), page)
	return b.Bytes()
}

// TestDecodePDFImage reads a photographed card a PDF carries as a JPEG,
// and as grey samples compressed with FlateDecode.
func TestDecodePDFImage(t *testing.T) {
	cards := newTestCards(t)
	frame := photograph(t, cards.texts[1], shot{name: "pdf-image", frameW: 800, frameH: 600, cardW: 700, cx: 0.5, cy: 0.5, angle: 12, blur: 0.6, jpeg: 85})
	img, err := jpeg.Decode(bytes.NewReader(frame))
	if err != nil {
		t.Fatal(err)
	}
	g := grey(img)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(g.pix)
	zw.Close()
	dec, _ := New(Options{Timeout: time.Minute})
	for name, data := range map[string][]byte{
		"jpeg":  minimalPDF("/Type/XObject/Subtype/Image/Width 800/Height 600/ColorSpace/DeviceRGB/BitsPerComponent 8/Filter/DCTDecode", frame),
		"flate": minimalPDF("/Type/XObject/Subtype/Image/Width 800/Height 600/ColorSpace/DeviceGray/BitsPerComponent 8/Filter/FlateDecode", z.Bytes()),
	} {
		res, err := dec.Decode(context.Background(), data)
		if err != nil || res.Text != cards.texts[1] {
			t.Errorf("%s: %v", name, err)
			continue
		}
		cards.verify(t, res.Text)
	}
}

// TestDecodePDFBounded: a stream that inflates past the limit is refused
// without inflating all of it, and an encrypted PDF says so.
func TestDecodePDFBounded(t *testing.T) {
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	chunk := bytes.Repeat([]byte("0 0 1 1 re f\n"), 1<<16)
	for range 21 { // 17.9 MB of content, 40 kB compressed
		zw.Write(chunk)
	}
	zw.Close()
	var b bytes.Buffer
	fmt.Fprintf(&b, "%%PDF-1.4\n1 0 obj\n<</Filter/FlateDecode/Length %d>>\nstream\n", z.Len())
	b.Write(z.Bytes())
	b.WriteString("\nendstream\nendobj\n")
	dec, _ := New(Options{})
	if _, err := dec.Decode(context.Background(), b.Bytes()); !errors.Is(err, errInflated) {
		t.Errorf("bomb: %v", err)
	}
	// Many large shapes painted over each other: painting stops at its
	// bound, and the file is answered within the decoder's time.
	var content bytes.Buffer
	content.WriteString("0 g 0 0 1 1 re 300 0 1 1 re 0 300 1 1 re f 1 g\n")
	for range 100_000 {
		content.WriteString("0 0 301 301 re f\n")
	}
	z.Reset()
	zw, _ = zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write(content.Bytes())
	zw.Close()
	b.Reset()
	fmt.Fprintf(&b, "%%PDF-1.4\n1 0 obj\n<</Filter/FlateDecode/Length %d>>\nstream\n", z.Len())
	b.Write(z.Bytes())
	b.WriteString("\nendstream\nendobj\n")
	start := time.Now()
	if _, err := dec.Decode(context.Background(), b.Bytes()); !errors.Is(err, ErrPDFNoCode) && !errors.Is(err, ErrGaveUp) {
		t.Errorf("overpainted: %v", err)
	}
	if el := time.Since(start); el > 4*DefaultTimeout { // generous: a busy machine, the race detector
		t.Errorf("overpainted: took %s", el)
	}
	enc := []byte("%PDF-1.4\ntrailer\n<</Root 1 0 R/Encrypt 9 0 R>>\n")
	if _, err := dec.Decode(context.Background(), enc); !errors.Is(err, ErrPDFNoCode) || !strings.Contains(err.Error(), "encrypted") {
		t.Errorf("encrypted: %v", err)
	}
}

// TestDecodeRenderedCard photographs tally's printed card as poppler
// renders it (the PDF a person prints), at a slant and in poor light.
func TestDecodeRenderedCard(t *testing.T) {
	tool, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Skip("pdftoppm is not installed (Debian: poppler-utils); the rendered card is not photographed")
	}
	cards := newTestCards(t)
	data := cardPDF(t, cards.texts[0], "فاطمة حسن عبدي")
	cmd := exec.Command(tool, "-png", "-r", "200", "-singlefile", "-")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	rendered, _, err := image.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	dec, _ := New(Options{Timeout: time.Minute})
	for _, s := range []shot{
		{name: "rendered-straight", frameW: 800, frameH: 600, cardW: 640, cx: 0.5, cy: 0.5, blur: 0.7, jpeg: 85},
		{name: "rendered-slant", frameW: 800, frameH: 600, cardW: 620, cx: 0.5, cy: 0.5, angle: -25, tiltX: 0.12, blur: 0.9, noise: 6, jpeg: 60},
		{name: "rendered-dim", frameW: 800, frameH: 600, cardW: 560, cx: 0.5, cy: 0.5, angle: 100, contrast: 0.35, bright: -0.15, blur: 0.8, noise: 4, jpeg: 70},
	} {
		frame := photographCard(t, toRGBA(rendered), nil, s)
		res, err := dec.Decode(context.Background(), frame)
		if err != nil || res.Text != cards.texts[0] {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		cards.verify(t, res.Text)
	}
}

// TestContentShapes interprets a hand-made content stream: the matrix
// stack, the fill colours of each colour space, the rectangles of a fill,
// and the operands skipped (strings with parentheses, hex strings, names,
// an inline image).
func TestContentShapes(t *testing.T) {
	content := "q 1 0 0 1 10 10 cm 0 g 0 0 7 7 re 1 1 5 5 re f* (a (nested) \\) string) Tj <414243> Tj /Name BI /W 1 /H 1 ID \x00\x01 EI " +
		"0.2 0.3 0.4 rg 20 20 3 3 re f Q 0 0 0 1 k 30 30 3 3 re f 1 g 0 0 1 1 re S 40 40 2 2 re n"
	shapes := contentShapes(context.Background(), []byte(content))
	if len(shapes) != 4 {
		t.Fatalf("%d shapes, want 4: %+v", len(shapes), shapes)
	}
	want := []struct{ x, y, grey float64 }{{10, 10, 0}, {11, 11, 0}, {30, 30, 0.2*0.299 + 0.3*0.587 + 0.4*0.114}, {30, 30, 0}}
	for i, w := range want {
		s := shapes[i]
		if math.Abs(s.pts[0][0]-w.x) > 1e-9 || math.Abs(s.pts[0][1]-w.y) > 1e-9 || math.Abs(s.grey-w.grey) > 1e-9 {
			t.Errorf("shape %d: %+v, want corner (%g, %g) grey %g", i, s, w.x, w.y, w.grey)
		}
	}
}
