package scan

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tally-id/tally/credentials"
)

// This file photographs cards synthetically: a card drawn with its QR
// code, laid in a frame at an angle and a slant (a perspective
// projection), then the troubles of a real camera added one by one. The
// pixel loops are marked go:norace: each frame is drawn by one goroutine
// into buffers of its own, and the race detector would make them ten
// times slower for nothing.

// shot describes one synthetic photograph.
type shot struct {
	name           string
	frameW, frameH int     // the frame; 1280 × 720 if zero
	cardW          float64 // the card's width in the frame, in pixels
	cx, cy         float64 // the code's centre, as fractions of the frame
	angle          float64 // the card's turn, in degrees, clockwise
	tiltX, tiltY   float64 // perspective: how much narrower the far edge is (0 to 1)
	blur           float64 // Gaussian blur, sigma in pixels
	contrast       float64 // 1 full (0 means 1); 0.2 a faint, grey frame
	bright         float64 // added to every pixel after the contrast, -1 to 1
	glare          float64 // a bright blob over the code, its radius in code widths
	glareX, glareY float64 // the blob's centre from the code's centre, in code widths
	noise          float64 // Gaussian sensor noise, sigma in grey levels
	jpeg           int     // JPEG quality; 0 means PNG
}

// cardImage draws a card cardW pixels wide: white, a grey header rule,
// dark bars where the text goes, and the QR code on the right.
func cardImage(t testing.TB, text string, cardW int) *image.RGBA {
	t.Helper()
	h := cardW * 54 / 86
	img := image.NewRGBA(image.Rect(0, 0, cardW, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{246, 244, 238, 255}), image.Point{}, draw.Src)
	ink := image.NewUniform(color.RGBA{40, 40, 48, 255})
	u := float64(cardW) / 86 // a millimetre
	rect := func(x, y, w, hh float64) image.Rectangle {
		return image.Rect(int(x*u), int(y*u), int((x+w)*u), int((y+hh)*u))
	}
	draw.Draw(img, rect(3, 3, 50, 4), ink, image.Point{}, draw.Src)
	draw.Draw(img, rect(3, 10.5, 80, 0.4), image.NewUniform(color.RGBA{150, 150, 150, 255}), image.Point{}, draw.Src)
	for i, w := range []float64{30, 22, 36, 18, 26} {
		draw.Draw(img, rect(3, 15+float64(i)*7, w, 2.5), ink, image.Point{}, draw.Src)
	}
	qrSide := int(40 * u)
	pngData, err := credentials.CardPNG(text, qrSide)
	if err != nil {
		t.Fatal(err)
	}
	qr, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		t.Fatal(err)
	}
	at := image.Pt(cardW-qrSide-int(1*u), h-qrSide-int(1*u))
	draw.Draw(img, qr.Bounds().Add(at), qr, qr.Bounds().Min, draw.Src)
	return img
}

// qrCentre is where cardImage puts the code's centre, and its width, in
// the card's pixels.
func qrCentre(cardW int) (x, y, w float64) {
	u := float64(cardW) / 86
	h := float64(cardW * 54 / 86)
	side := float64(int(40 * u))
	return float64(cardW) - side/2 - float64(int(u)), h - side/2 - float64(int(u)), side
}

// homography maps the plane with the 3×3 matrix m (m[8] = 1).
type homography [9]float64

func (m homography) apply(x, y float64) (float64, float64) {
	w := m[6]*x + m[7]*y + m[8]
	return (m[0]*x + m[1]*y + m[2]) / w, (m[3]*x + m[4]*y + m[5]) / w
}

// solveHomography returns the homography taking each from[i] to to[i], by
// Gaussian elimination on the eight unknowns.
func solveHomography(from, to [4][2]float64) homography {
	var a [8][9]float64
	for i := range 4 {
		x, y, u, v := from[i][0], from[i][1], to[i][0], to[i][1]
		a[2*i] = [9]float64{x, y, 1, 0, 0, 0, -u * x, -u * y, u}
		a[2*i+1] = [9]float64{0, 0, 0, x, y, 1, -v * x, -v * y, v}
	}
	for c := range 8 {
		p := c
		for r := c + 1; r < 8; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p] = a[p], a[c]
		for r := range 8 {
			if r == c {
				continue
			}
			f := a[r][c] / a[c][c]
			for k := c; k < 9; k++ {
				a[r][k] -= f * a[c][k]
			}
		}
	}
	var m homography
	for i := range 8 {
		m[i] = a[i][8] / a[i][i]
	}
	m[8] = 1
	return m
}

// photograph renders s of the card text: the frame's encoded bytes (JPEG
// or PNG), as a camera or a phone would send them.
func photograph(t testing.TB, text string, s shot) []byte {
	t.Helper()
	// The card is drawn near its size in the frame, so that sampling it
	// down does not alias.
	cw := max(int(s.cardW*1.2), 200)
	qx, qy, qw := qrCentre(cw)
	return photographCard(t, cardImage(t, text, cw), &[3]float64{qx, qy, qw}, s)
}

// photographCard renders s of a card image. The person aims at the code,
// at qr (its centre and width in the card's pixels), or at the card's
// centre when qr is nil.
//
//go:norace
func photographCard(t testing.TB, card *image.RGBA, qr *[3]float64, s shot) []byte {
	t.Helper()
	fw, fh := s.frameW, s.frameH
	if fw == 0 {
		fw, fh = 1280, 720
	}
	rng := rand.New(rand.NewPCG(uint64(len(s.name)), uint64(s.cardW*1000+s.angle)))
	cw, ch := card.Bounds().Dx(), card.Bounds().Dy()
	qx, qy, qw := float64(cw)/2, float64(ch)/2, float64(ch)/2
	if qr != nil {
		qx, qy, qw = qr[0], qr[1], qr[2]
	}

	// Where the card's corners land: centred, scaled, the far edges
	// foreshortened, turned, moved to its place.
	scale := s.cardW / float64(cw)
	var to [4][2]float64
	corners := [4][2]float64{{0, 0}, {float64(cw), 0}, {float64(cw), float64(ch)}, {0, float64(ch)}}
	rad := s.angle * math.Pi / 180
	for i, c := range corners {
		x, y := (c[0]-float64(cw)/2)*scale, (c[1]-float64(ch)/2)*scale
		if y < 0 { // the top edge is farther away
			x *= 1 - s.tiltX
		}
		if x > 0 { // the right edge is farther away
			y *= 1 - s.tiltY
		}
		to[i] = [2]float64{
			s.cx*float64(fw) + x*math.Cos(rad) - y*math.Sin(rad),
			s.cy*float64(fh) + x*math.Sin(rad) + y*math.Cos(rad),
		}
	}
	// Move the card so that the aimed point is at (cx, cy).
	ax, ay := solveHomography(corners, to).apply(qx, qy)
	for i := range to {
		to[i][0] += s.cx*float64(fw) - ax
		to[i][1] += s.cy*float64(fh) - ay
	}
	toCard := solveHomography(to, corners)
	toFrame := solveHomography(corners, to)

	// The desk under the card: a soft gradient with a few patches.
	frame := make([][3]float64, fw*fh)
	patches := make([][5]float64, 6)
	for i := range patches {
		patches[i] = [5]float64{rng.Float64() * float64(fw), rng.Float64() * float64(fh), 40 + rng.Float64()*200, rng.Float64() * 60, rng.Float64()}
	}
	for y := range fh {
		for x := range fw {
			g := 90 + 60*float64(x)/float64(fw) + 30*float64(y)/float64(fh)
			for _, p := range patches {
				if math.Abs(float64(x)-p[0]) < p[2] && math.Abs(float64(y)-p[1]) < p[2]/2 {
					g -= p[3]
				}
			}
			px := [3]float64{g * 0.95, g * 0.85, g * 0.7}
			cx, cy := toCard.apply(float64(x)+0.5, float64(y)+0.5)
			if cx >= 0 && cy >= 0 && cx < float64(cw) && cy < float64(ch) {
				px = bilinearRGB(card, cx-0.5, cy-0.5)
			}
			frame[y*fw+x] = px
		}
	}
	if s.blur > 0 {
		gaussianBlur(frame, fw, fh, s.blur)
	}
	contrast := s.contrast
	if contrast == 0 {
		contrast = 1
	}
	gx, gy := toFrame.apply(qx+s.glareX*qw, qy+s.glareY*qw)
	gr := s.glare * qw * scale
	out := image.NewRGBA(image.Rect(0, 0, fw, fh))
	for y := range fh {
		for x := range fw {
			px := frame[y*fw+x]
			glare := 0.0
			if gr > 0 {
				d2 := (float64(x)-gx)*(float64(x)-gx) + (float64(y)-gy)*(float64(y)-gy)
				glare = 320 * math.Exp(-d2/(2*gr*gr/4)) // saturated at the centre, fading by the radius
			}
			for c := range 3 {
				v := 128 + (px[c]-128)*contrast + s.bright*255 + glare
				if s.noise > 0 {
					v += rng.NormFloat64() * s.noise
				}
				out.Pix[(y*fw+x)*4+c] = byte(math.Min(math.Max(v, 0), 255))
			}
			out.Pix[(y*fw+x)*4+3] = 255
		}
	}
	var buf bytes.Buffer
	var err error
	if s.jpeg > 0 {
		err = jpeg.Encode(&buf, out, &jpeg.Options{Quality: s.jpeg})
	} else {
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// toRGBA converts an image to RGBA.
func toRGBA(img image.Image) *image.RGBA {
	if m, ok := img.(*image.RGBA); ok {
		return m
	}
	out := image.NewRGBA(img.Bounds().Sub(img.Bounds().Min))
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min, draw.Src)
	return out
}

// bilinearRGB samples img at (x, y), in pixel-centre coordinates.
//
//go:norace
func bilinearRGB(img *image.RGBA, x, y float64) [3]float64 {
	b := img.Bounds()
	x = math.Min(math.Max(x, 0), float64(b.Dx()-1))
	y = math.Min(math.Max(y, 0), float64(b.Dy()-1))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, b.Dx()-1), min(y0+1, b.Dy()-1)
	ax, ay := x-float64(x0), y-float64(y0)
	var px [3]float64
	at := func(x, y, c int) float64 { return float64(img.Pix[y*img.Stride+x*4+c]) }
	for c := range 3 {
		top := at(x0, y0, c)*(1-ax) + at(x1, y0, c)*ax
		bottom := at(x0, y1, c)*(1-ax) + at(x1, y1, c)*ax
		px[c] = top*(1-ay) + bottom*ay
	}
	return px
}

// gaussianBlur blurs the frame in place, separably.
//
//go:norace
func gaussianBlur(frame [][3]float64, w, h int, sigma float64) {
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	sum := 0.0
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	tmp := make([][3]float64, len(frame))
	for y := range h {
		for x := range w {
			var s [3]float64
			for i, kv := range k {
				xx := min(max(x+i-r, 0), w-1)
				for c := range 3 {
					s[c] += kv * frame[y*w+xx][c]
				}
			}
			tmp[y*w+x] = s
		}
	}
	for y := range h {
		for x := range w {
			var s [3]float64
			for i, kv := range k {
				yy := min(max(y+i-r, 0), h-1)
				for c := range 3 {
					s[c] += kv * tmp[yy*w+x][c]
				}
			}
			frame[y*w+x] = s
		}
	}
}
