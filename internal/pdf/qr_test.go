package pdf

import (
	"image"
	"image/color"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/tally-id/tally/internal/qrtest"
)

// qrTestText returns n characters of alphanumeric text with no run of
// digits (skip2/go-qrcode switches to numeric mode for a long run, which
// this encoder does not do, and the matrices would differ for that reason).
func qrTestText(r *rand.Rand, n int) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
	var b strings.Builder
	for i := range n {
		if i%5 == 4 {
			b.WriteByte(byte('0' + r.IntN(10)))
			continue
		}
		b.WriteByte(letters[r.IntN(len(letters))])
	}
	return b.String()
}

// TestQRLevelQTable checks the block table against the symbol geometry:
// every version's codewords fill its data modules, less 0 to 7 remainder
// bits.
func TestQRLevelQTable(t *testing.T) {
	for v := 1; v <= 40; v++ {
		b := qrLevelQ[v]
		total := b.dataCodewords() + (b.n1+b.n2)*b.ec
		if raw := qrRawModules(v); raw/8 != total {
			t.Errorf("version %d: %d codewords in the table, %d in the symbol", v, total, raw/8)
		}
	}
}

// skip2Matrix draws text with skip2/go-qrcode at level Q, without a quiet
// zone.
func skip2Matrix(t *testing.T, text string) (int, [][]bool) {
	t.Helper()
	q, err := qrcode.New(text, qrcode.High)
	if err != nil {
		t.Fatal(err)
	}
	q.DisableBorder = true
	return q.VersionNumber, q.Bitmap()
}

// TestQRMatchesSkip2 checks the encoder against skip2/go-qrcode, the QR
// library credentials.CardPNG uses: for texts of every version, in
// alphanumeric and byte mode, the same version, and the same module matrix
// under one of the eight masks.
func TestQRMatchesSkip2(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sameMask := 0
	cases := 0
	for _, n := range []int{1, 10, 27, 50, 100, 200, 340, 352, 353, 500, 800, 1200, 1663, 1800, 2420} {
		for _, byteMode := range []bool{false, true} {
			text := qrTestText(r, n)
			if byteMode {
				text = strings.ToLower(text)
				if len(text) > 1663 {
					continue
				}
			}
			version, want := skip2Matrix(t, text)
			got, err := encodeQR(text)
			if err != nil {
				t.Fatalf("%d characters: %v", n, err)
			}
			if got.size != 4*version+17 {
				t.Fatalf("%d characters (byte mode %v): size %d, skip2 draws version %d", n, byteMode, got.size, version)
			}
			data := qrDataCodewords(text, !byteMode, version)
			codewords := qrInterleave(data, qrLevelQ[version])
			matched := -1
			for mask := range 8 {
				if sameModules(qrDraw(version, codewords, mask), want) {
					matched = mask
					break
				}
			}
			if matched < 0 {
				t.Fatalf("%d characters (byte mode %v), version %d: no mask draws skip2's matrix", n, byteMode, version)
			}
			cases++
			if sameModules(got, want) {
				sameMask++
			}
		}
	}
	// The mask is the encoder's choice (any mask decodes); the two
	// libraries score penalties a little differently.
	t.Logf("%d of %d codes chose skip2's mask", sameMask, cases)
}

func sameModules(m *qrMatrix, want [][]bool) bool {
	if len(want) != m.size {
		return false
	}
	for y, row := range want {
		for x, d := range row {
			if m.at(x, y) != d {
				return false
			}
		}
	}
	return true
}

// qrImage draws m with a four-module quiet zone, scale pixels a module.
func qrImage(m *qrMatrix, scale int) image.Image {
	n := (m.size + 8) * scale
	img := image.NewGray(image.Rect(0, 0, n, n))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for y := range m.size {
		for x := range m.size {
			if !m.at(x, y) {
				continue
			}
			for dy := range scale {
				for dx := range scale {
					img.SetGray((x+4)*scale+dx, (y+4)*scale+dy, color.Gray{})
				}
			}
		}
	}
	return img
}

// TestQRDecodes reads codes of several versions back with gozxing, at
// level Q.
func TestQRDecodes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, text := range []string{"HELLO", qrTestText(r, 340), "https://example.org/offer?id=1", qrTestText(r, 1500)} {
		m, err := encodeQR(text)
		if err != nil {
			t.Fatal(err)
		}
		res, err := qrtest.Read(qrImage(m, 3))
		if err != nil {
			t.Fatalf("%d characters: %v", len(text), err)
		}
		if res.GetText() != text {
			t.Fatalf("read %q, want %q", res.GetText(), text)
		}
		if level := res.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL]; level != "Q" {
			t.Fatalf("error correction level %v, want Q", level)
		}
	}
	if _, err := encodeQR(strings.Repeat("A", 4000)); err == nil {
		t.Fatal("4,000 characters fit a QR code at level Q")
	}
}

func BenchmarkQREncode(b *testing.B) {
	text := qrTestText(rand.New(rand.NewPCG(5, 6)), 340)
	for b.Loop() {
		if _, err := encodeQR(text); err != nil {
			b.Fatal(err)
		}
	}
}

// refPenalty scores a matrix module by module, as ISO/IEC 18004 section
// 7.8.3 words the rules, to check the bit-set scoring against.
func refPenalty(size int, dark func(x, y int) bool) int {
	p := 0
	line := func(get func(i int) bool) {
		run := 1
		for i := 1; i <= size; i++ {
			if i < size && get(i) == get(i-1) {
				run++
				continue
			}
			if run >= 5 {
				p += 3 + run - 5
			}
			run = 1
		}
		light := func(i int) bool { return i < 0 || i >= size || !get(i) }
		for i := 0; i+7 <= size; i++ {
			if !(get(i) && !get(i+1) && get(i+2) && get(i+3) && get(i+4) && !get(i+5) && get(i+6)) {
				continue
			}
			if light(i-1) && light(i-2) && light(i-3) && light(i-4) {
				p += 40
			}
			if light(i+7) && light(i+8) && light(i+9) && light(i+10) {
				p += 40
			}
		}
	}
	n := 0
	for a := range size {
		line(func(i int) bool { return dark(i, a) })
		line(func(i int) bool { return dark(a, i) })
		for b := range size {
			if dark(b, a) {
				n++
			}
			if a+1 < size && b+1 < size && dark(b, a) == dark(b+1, a) && dark(b, a) == dark(b, a+1) && dark(b, a) == dark(b+1, a+1) {
				p += 3
			}
		}
	}
	total := size * size
	k := (abs(n*20-total*10)+total-1)/total - 1
	return p + max(k, 0)*10
}

// TestQRPenalty checks the bit-set mask penalty against refPenalty, for
// every mask of codes of several versions.
func TestQRPenalty(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{5, 60, 340, 900, 2420} {
		text := qrTestText(r, n)
		m, err := encodeQR(text)
		if err != nil {
			t.Fatal(err)
		}
		version := (m.size - 17) / 4
		codewords := qrInterleave(qrDataCodewords(text, true, version), qrLevelQ[version])
		for mask := range 8 {
			drawn := qrDraw(version, codewords, mask)
			cols := make([]qrRow, drawn.size)
			for y := range drawn.size {
				for x := range drawn.size {
					if drawn.at(x, y) {
						cols[x].set(y)
					}
				}
			}
			got := qrScore(drawn.size, drawn.rows, cols)
			want := refPenalty(drawn.size, drawn.at)
			if got != want {
				t.Fatalf("version %d mask %d: penalty %d, want %d", version, mask, got, want)
			}
		}
	}
}
