package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"strings"
	"testing"
)

// cardCell crops card i of a sheet rendered at dpi.
func cardCell(img image.Image, i, dpi int) image.Image {
	px := func(v float64) int { return int(math.Round(v / 25.4 * float64(dpi))) }
	col, row := i%sheetColumns, i/sheetColumns
	r := image.Rect(px(sheetLeft+float64(col)*cardWidth), px(sheetTop+float64(row)*cardHeight),
		px(sheetLeft+float64(col+1)*cardWidth), px(sheetTop+float64(row+1)*cardHeight))
	return img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(r.Add(img.Bounds().Min))
}

// TestSheets prints 23 cards on A4 sheets, reads every QR code of the
// first and the last sheet back from the rendering, and finds every name
// in the PDF's text.
func TestSheets(t *testing.T) {
	p, err := NewPrinter()
	if err != nil {
		t.Fatal(err)
	}
	k := testIssuer(t)
	names := []string{"Fatima Hassan Abdi", "فاطمة حسن عبدي", "Cabdiraxmaan Maxamed Cumar Xuseen", "Amina Yusuf", "Jean-Baptiste Habimana"}
	langs := [][]string{{"en", "fr", "ar", "so"}, {"ar", "en"}, {"so", "en"}, {"sw", "en"}, {"fr", "en"}}
	var cards []Card
	for i := range 23 {
		name := fmt.Sprintf("%s %d", names[i%len(names)], i+1)
		c, text := issueTestCard(t, k, name)
		cards = append(cards, CardFor(c, text, "Dadaab Humanitarian Service Point", langs[i%len(langs)]...))
	}
	var out bytes.Buffer
	s := p.NewSheetWriter(&out)
	for _, c := range cards {
		if err := s.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkStructure(t, out.Bytes())
	if n := bytes.Count(out.Bytes(), []byte("/Type/Page/")); n != 3 {
		t.Fatalf("%d pages for 23 cards, want 3", n)
	}
	const dpi = 200
	for _, sheet := range []int{1, 3} {
		img := rasterize(t, out.Bytes(), sheet, dpi)
		if b := img.Bounds(); math.Abs(float64(b.Dx())/dpi*25.4-sheetWidth) > 0.5 || math.Abs(float64(b.Dy())/dpi*25.4-sheetHeight) > 0.5 {
			t.Errorf("sheet %d is %d × %d pixels at %d dpi, not A4", sheet, b.Dx(), b.Dy(), dpi)
		}
		for i := range CardsPerSheet {
			n := (sheet-1)*CardsPerSheet + i
			if n >= len(cards) {
				break
			}
			got, width := readQR(t, cardCell(img, i, dpi), dpi)
			if got != cards[n].QR {
				t.Errorf("sheet %d card %d: the QR code reads another card", sheet, i+1)
			}
			if width < minQRWidth-0.5 {
				t.Errorf("sheet %d card %d: the QR code is %.1f mm wide", sheet, i+1, width)
			}
		}
	}
	text := extractText(t, out.Bytes())
	for _, c := range cards {
		// A long name is broken over two lines.
		for _, word := range strings.Fields(c.Name) {
			if !strings.Contains(text, word) {
				t.Errorf("the PDF's text lacks %q of %q", word, c.Name)
			}
		}
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(b []byte) (int, error) {
	if w.n -= len(b); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(b), nil
}

func TestSheetWriterErrors(t *testing.T) {
	p, err := NewPrinter()
	if err != nil {
		t.Fatal(err)
	}
	ok := Card{QR: "HELLO", Name: "A"}
	t.Run("no cards", func(t *testing.T) {
		if err := p.NewSheetWriter(io.Discard).Close(); err == nil {
			t.Fatal("an empty document closed without error")
		}
	})
	t.Run("closed", func(t *testing.T) {
		s := p.NewSheetWriter(io.Discard)
		s.Add(ok)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if s.Add(ok) == nil || s.Close() == nil {
			t.Fatal("a closed sheet writer took more")
		}
	})
	t.Run("bad card", func(t *testing.T) {
		s := p.NewSheetWriter(io.Discard)
		s.Add(ok)
		err := s.Add(Card{Name: "B"})
		if !errors.Is(err, ErrNoQR) || !strings.Contains(err.Error(), "card 2") {
			t.Fatalf("error %v, want card 2 without QR text", err)
		}
		if err := s.Add(ok); err == nil {
			t.Fatal("a card was added after an error")
		}
		if err := s.Close(); err == nil {
			t.Fatal("Close forgot the error")
		}
	})
	t.Run("too long", func(t *testing.T) {
		s := p.NewSheetWriter(io.Discard)
		for range 12 {
			s.Add(ok)
		}
		s.Add(Card{QR: strings.Repeat("A", 3000)})
		if err := s.Close(); err == nil || !strings.Contains(err.Error(), "card 13") {
			t.Fatalf("error %v, want card 13 too long", err)
		}
	})
	t.Run("write fails", func(t *testing.T) {
		s := p.NewSheetWriter(&failingWriter{n: 20 << 10})
		var err error
		for i := 0; i < 200 && err == nil; i++ {
			err = s.Add(ok)
		}
		if err := s.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("error %v, want disk full", err)
		}
	})
}
