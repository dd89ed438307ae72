package scan

import (
	"errors"
	"image"

	"github.com/makiuchi-d/gozxing"
)

// plane is a grey image, one byte of luminance per pixel (0 black, 255
// white), rows packed with no padding. Every view the decoder tries is one.
type plane struct {
	w, h int
	pix  []byte
}

func newPlane(w, h int) *plane { return &plane{w: w, h: h, pix: make([]byte, w*h)} }

// grey converts img to a plane, reading the pixel buffers of the common
// decoded types directly. Transparent pixels become white, as on paper.
func grey(img image.Image) *plane {
	b := img.Bounds()
	p := newPlane(b.Dx(), b.Dy())
	switch m := img.(type) {
	case *image.YCbCr: // JPEG, WebP (lossy)
		for y := 0; y < p.h; y++ {
			off := m.YOffset(b.Min.X, b.Min.Y+y)
			copy(p.pix[y*p.w:(y+1)*p.w], m.Y[off:off+p.w])
		}
	case *image.Gray:
		for y := 0; y < p.h; y++ {
			off := m.PixOffset(b.Min.X, b.Min.Y+y)
			copy(p.pix[y*p.w:(y+1)*p.w], m.Pix[off:off+p.w])
		}
	case *image.NRGBA:
		for y := 0; y < p.h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			row := p.pix[y*p.w : (y+1)*p.w]
			for x := range row {
				s := src[4*x : 4*x+4 : 4*x+4]
				l := luma(uint32(s[0]), uint32(s[1]), uint32(s[2]))
				a := uint32(s[3])
				row[x] = byte((l*a + 255*(255-a)) / 255)
			}
		}
	case *image.RGBA: // premultiplied: add white behind what is transparent
		for y := 0; y < p.h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			row := p.pix[y*p.w : (y+1)*p.w]
			for x := range row {
				s := src[4*x : 4*x+4 : 4*x+4]
				row[x] = byte(luma(uint32(s[0]), uint32(s[1]), uint32(s[2])) + 255 - uint32(s[3]))
			}
		}
	default:
		i := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, a := img.At(x, y).RGBA() // premultiplied, 16 bits
				l := luma(r>>8, g>>8, bl>>8) + 255 - a>>8
				p.pix[i] = byte(min(l, 255))
				i++
			}
		}
	}
	return p
}

// luma is the Rec. 601 luminance of an 8-bit colour.
func luma(r, g, b uint32) uint32 { return (299*r + 587*g + 114*b + 500) / 1000 }

// shrink returns p made at most side pixels on its longest side by
// averaging blocks of f×f pixels (f a whole number), or p itself when it is
// small enough.
func (p *plane) shrink(side int) *plane {
	long := max(p.w, p.h)
	if long <= side {
		return p
	}
	f := (long + side - 1) / side
	q := newPlane(p.w/f, p.h/f)
	sums := make([]uint32, q.w)
	for qy := 0; qy < q.h; qy++ {
		clear(sums)
		for y := qy * f; y < (qy+1)*f; y++ {
			row := p.pix[y*p.w:]
			for qx := range sums {
				for _, v := range row[qx*f : (qx+1)*f] {
					sums[qx] += uint32(v)
				}
			}
		}
		n := uint32(f * f)
		for qx, s := range sums {
			q.pix[qy*q.w+qx] = byte((s + n/2) / n)
		}
	}
	return q
}

// crop returns the rectangle r of p, as a new plane.
func (p *plane) crop(r image.Rectangle) *plane {
	r = r.Intersect(image.Rect(0, 0, p.w, p.h))
	q := newPlane(r.Dx(), r.Dy())
	for y := 0; y < q.h; y++ {
		copy(q.pix[y*q.w:(y+1)*q.w], p.pix[(r.Min.Y+y)*p.w+r.Min.X:])
	}
	return q
}

// enlarge returns p twice as wide and high, by bilinear interpolation.
func (p *plane) enlarge() *plane {
	q := newPlane(2*p.w, 2*p.h)
	for y := 0; y < q.h; y++ {
		// Pixel centres: q's y maps to p's (y+0.5)/2-0.5 = y/2 - 0.25.
		fy := float32(y)/2 - 0.25
		for x := 0; x < q.w; x++ {
			q.pix[y*q.w+x] = p.sample(float32(x)/2-0.25, fy)
		}
	}
	return q
}

// sample returns the bilinear interpolation of p at (x, y), clamped to
// the edges.
func (p *plane) sample(x, y float32) byte {
	x = min(max(x, 0), float32(p.w-1))
	y = min(max(y, 0), float32(p.h-1))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, p.w-1), min(y0+1, p.h-1)
	ax, ay := x-float32(x0), y-float32(y0)
	top := float32(p.pix[y0*p.w+x0])*(1-ax) + float32(p.pix[y0*p.w+x1])*ax
	bottom := float32(p.pix[y1*p.w+x0])*(1-ax) + float32(p.pix[y1*p.w+x1])*ax
	return byte(top*(1-ay) + bottom*ay + 0.5)
}

// turn returns p turned a quarter clockwise.
func (p *plane) turn() *plane {
	q := newPlane(p.h, p.w)
	for y := 0; y < p.h; y++ {
		for x := 0; x < p.w; x++ {
			q.pix[x*q.w+(p.h-1-y)] = p.pix[y*p.w+x]
		}
	}
	return q
}

// turn45 returns p turned an eighth of a turn clockwise, in a frame large
// enough to hold all of it, the corners white.
func (p *plane) turn45() *plane {
	const c = 0.70710678
	side := int(float32(p.w+p.h)*c) + 2
	q := newPlane(side, side)
	cx, cy := float32(p.w-1)/2, float32(p.h-1)/2
	half := float32(side-1) / 2
	for y := 0; y < side; y++ {
		dy := float32(y) - half
		for x := 0; x < side; x++ {
			dx := float32(x) - half
			// The inverse turn, counter-clockwise.
			sx, sy := cx+c*(dx+dy), cy+c*(dy-dx)
			if sx < 0 || sy < 0 || sx > float32(p.w-1) || sy > float32(p.h-1) {
				q.pix[y*side+x] = 255
				continue
			}
			q.pix[y*side+x] = p.sample(sx, sy)
		}
	}
	return q
}

// stretch spreads p's luminance so that its darkest and lightest percent
// of pixels become black and white: a faded print or a grey photo.
func (p *plane) stretch() *plane {
	var hist [256]int
	for _, v := range p.pix {
		hist[v]++
	}
	cut := len(p.pix) / 100
	lo, hi := 0, 255
	for n := 0; lo < 255 && n+hist[lo] <= cut; lo++ {
		n += hist[lo]
	}
	for n := 0; hi > 0 && n+hist[hi] <= cut; hi-- {
		n += hist[hi]
	}
	if hi-lo < 8 {
		return p
	}
	var lut [256]byte
	for i := range lut {
		v := (i - lo) * 255 / (hi - lo)
		lut[i] = byte(min(max(v, 0), 255))
	}
	q := newPlane(p.w, p.h)
	for i, v := range p.pix {
		q.pix[i] = lut[v]
	}
	return q
}

// smooth returns p blurred by a 3×3 box: sensor noise and JPEG blocks.
func (p *plane) smooth() *plane {
	q := newPlane(p.w, p.h)
	for y := 0; y < p.h; y++ {
		y0, y1 := max(y-1, 0), min(y+1, p.h-1)
		for x := 0; x < p.w; x++ {
			x0, x1 := max(x-1, 0), min(x+1, p.w-1)
			s, n := 0, 0
			for yy := y0; yy <= y1; yy++ {
				for _, v := range p.pix[yy*p.w+x0 : yy*p.w+x1+1] {
					s += int(v)
				}
				n += x1 - x0 + 1
			}
			q.pix[y*p.w+x] = byte((s + n/2) / n)
		}
	}
	return q
}

// sharpen returns p with its edges steepened (an unsharp mask on the 3×3
// box): a slightly out-of-focus frame.
func (p *plane) sharpen() *plane {
	blur := p.smooth()
	q := newPlane(p.w, p.h)
	for i, v := range p.pix {
		s := 2*int(v) - int(blur.pix[i])
		q.pix[i] = byte(min(max(s, 0), 255))
	}
	return q
}

// invert returns p with black and white swapped: a light code on a dark
// ground, as some phone screens show it.
func (p *plane) invert() *plane {
	q := newPlane(p.w, p.h)
	for i, v := range p.pix {
		q.pix[i] = 255 - v
	}
	return q
}

var errRow = errors.New("scan: row out of the image")

// source is a plane seen by gozxing.
type source struct {
	gozxing.LuminanceSourceBase
	p *plane
}

func newSource(p *plane) *source {
	return &source{gozxing.LuminanceSourceBase{Width: p.w, Height: p.h}, p}
}

func (s *source) GetRow(y int, row []byte) ([]byte, error) {
	if y < 0 || y >= s.p.h {
		return nil, errRow
	}
	if len(row) < s.p.w {
		row = make([]byte, s.p.w)
	}
	copy(row, s.p.pix[y*s.p.w:(y+1)*s.p.w])
	return row, nil
}

func (s *source) GetMatrix() []byte { return s.p.pix }

func (s *source) Invert() gozxing.LuminanceSource { return gozxing.LuminanceSourceInvert(s) }

func (s *source) String() string { return gozxing.LuminanceSourceString(s) }
