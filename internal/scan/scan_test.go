package scan

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"
)

// smallPNG is a PNG of w × h white pixels.
func smallPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeBadInput(t *testing.T) {
	dec, err := New(Options{MaxBytes: 1 << 20, MaxPixels: 1000 * 1000})
	if err != nil {
		t.Fatal(err)
	}
	huge := smallPNG(t, 1, 1)
	// A PNG header that claims 100000 × 100000 pixels: refused before
	// anything is decoded.
	liar := append([]byte(nil), huge...)
	copy(liar[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	binary.BigEndian.PutUint32(liar[29:33], crc32.ChecksumIEEE(liar[12:29]))
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrEmpty},
		{"too large", make([]byte, 1<<20+1), ErrTooLarge},
		{"text", []byte("HC1:not an image"), ErrFormat},
		{"pdf with nothing", []byte("%PDF-1.7\n%\xe2\xe3\n"), ErrPDFNoCode},
		{"truncated png", huge[:30], ErrBadFile},
		{"lying header", liar, ErrTooBig},
		{"truncated jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), ErrBadFile},
		{"blank image", smallPNG(t, 300, 200), ErrNoCode},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := dec.Decode(context.Background(), c.data)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, %v; want %v", res, err, c.want)
			}
			if err.Error() == "" {
				t.Error("no message")
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{{MaxBytes: -1}, {MaxPixels: -1}, {MaxAttempts: -1}, {Timeout: -time.Second}} {
		if _, err := New(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// TestDecodeBounded checks that the attempts and the deadline bound the
// work on an image with no code.
func TestDecodeBounded(t *testing.T) {
	data := smallPNG(t, 1280, 720)
	dec, _ := New(Options{MaxAttempts: 3})
	_, err := dec.Decode(context.Background(), data)
	if !errors.Is(err, ErrNoCode) || !bytes.Contains([]byte(err.Error()), []byte("(3 attempts)")) {
		t.Errorf("got %v, want no code after 3 attempts", err)
	}
	dec, _ = New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := dec.Decode(ctx, data); !errors.Is(err, ErrGaveUp) {
		t.Errorf("got %v, want gave up", err)
	}
}

// TestDecodeImageTypes reads one card from each kind of decoded image the
// decoder has a fast path for, and from one it has not.
func TestDecodeImageTypes(t *testing.T) {
	cards := newTestCards(t)
	frame := photograph(t, cards.texts[0], shot{name: "types", frameW: 640, frameH: 480, cardW: 560, cx: 0.5, cy: 0.5, blur: 0.6})
	img, err := png.Decode(bytes.NewReader(frame))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	gray := image.NewGray(b)
	nrgba := image.NewNRGBA(b)
	paletted := image.NewPaletted(b, color.Palette{color.Black, color.White, color.Gray{128}})
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := img.At(x, y)
			gray.Set(x, y, c)
			nrgba.Set(x, y, c)
			paletted.Set(x, y, c)
		}
	}
	dec, _ := New(Options{Timeout: time.Minute})
	for name, m := range map[string]image.Image{"rgba": img, "gray": gray, "nrgba": nrgba, "paletted": paletted} {
		res, err := dec.DecodeImage(context.Background(), m)
		if err != nil || res.Text != cards.texts[0] {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzDecode feeds the decoder arbitrary files, with few attempts and a
// short deadline: it must return, not panic, and any text it reads must
// come with no error.
func FuzzDecode(f *testing.F) {
	// More seeds (a card frame in each format, broken files) are in
	// testdata/fuzz/FuzzDecode.
	f.Add(smallPNG(f, 2, 2))
	dec, err := New(Options{MaxBytes: 1 << 20, MaxPixels: 512 * 512, MaxAttempts: 4, Timeout: 2 * time.Second})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := dec.Decode(context.Background(), data)
		if err == nil && res.Text == "" {
			t.Error("no error and no text")
		}
		if err != nil && res != nil {
			t.Error("a result with an error")
		}
	})
}

// BenchmarkDecodeFrame is the time to read one 1280 × 720 JPEG camera
// frame of a card, straight, at a usual distance.
func BenchmarkDecodeFrame(b *testing.B) {
	cards := newTestCards(b)
	frame := photograph(b, cards.texts[0], shot{name: "bench", cardW: 760, cx: 0.5, cy: 0.5, angle: 8, tiltX: 0.05, blur: 0.8, noise: 4, jpeg: 80})
	dec, _ := New(Options{})
	if _, err := dec.Decode(context.Background(), frame); err != nil {
		b.Fatal(err)
	}
	// The CPU time is reported beside the wall time: on a busy machine
	// it is the steadier figure.
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		if _, err := dec.Decode(context.Background(), frame); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(n), "cpu-ns/op")
}
