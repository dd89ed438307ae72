package pdf

import (
	"math"
	"strconv"
)

// canvas builds a page's content stream (ISO 32000-1 section 8 and 9), in
// points, from the bottom left corner.
type canvas struct {
	buf    []byte
	fonts  *fontSet
	glyphs glyphUse
}

// mm is one millimetre in points.
const mm = 72 / 25.4

func (c *canvas) num(v float64) {
	if v == math.Trunc(v) && math.Abs(v) < 1e9 {
		c.buf = strconv.AppendInt(c.buf, int64(v), 10)
	} else {
		c.buf = append(c.buf, num(v)...)
	}
}

func (c *canvas) nums(vs ...float64) {
	for _, v := range vs {
		c.num(v)
		c.buf = append(c.buf, ' ')
	}
}

func (c *canvas) op(s string) { c.buf = append(c.buf, s...) }

// gray sets the fill and stroke colour: 0 is black, 1 white.
func (c *canvas) gray(g float64) {
	c.nums(g)
	c.op("g ")
	c.nums(g)
	c.op("G\n")
}

// line strokes a straight line width points wide.
func (c *canvas) line(x1, y1, x2, y2, width float64) {
	c.nums(width)
	c.op("w ")
	c.nums(x1, y1)
	c.op("m ")
	c.nums(x2, y2)
	c.op("l S\n")
}

// qr fills the dark modules of m as rectangles, the symbol size points
// wide with its top left corner at x, top. A run of dark modules in a row
// is a rectangle, stretched down over the rows below that have the same
// run; all are one path, filled once, so that no seam shows between
// neighbours.
func (c *canvas) qr(m *qrMatrix, x, top, size float64) {
	s := size / float64(m.size)
	c.op("q 0 g ")
	c.nums(s, 0, 0, -s, x, top)
	c.op("cm\n")
	type run struct{ x, w, y int } // y: the first row
	var open, next []run
	emit := func(r run, end int) {
		c.nums(float64(r.x), float64(r.y), float64(r.w), float64(end-r.y))
		c.op("re\n")
	}
	for y := 0; y <= m.size; y++ {
		next = next[:0]
		k := 0 // the open run to compare with
		for i := 0; y < m.size && i < m.size; {
			if !m.rows[y].has(i) {
				i++
				continue
			}
			j := i + 1
			for j < m.size && m.rows[y].has(j) {
				j++
			}
			for k < len(open) && open[k].x < i {
				emit(open[k], y)
				k++
			}
			if k < len(open) && open[k].x == i && open[k].w == j-i {
				next = append(next, open[k])
				k++
			} else {
				next = append(next, run{i, j - i, y})
			}
			i = j
		}
		for ; k < len(open); k++ {
			emit(open[k], y)
		}
		open, next = next, open
	}
	c.op("f Q\n")
}

// text draws a shaped line at size points, its left end at x and its
// baseline at y, hscale times its natural width.
func (c *canvas) text(l *shapedLine, size, hscale, x, y float64) {
	if len(l.runs) == 0 {
		return
	}
	k := size / emUnits
	kx := k * hscale
	c.op("BT\n")
	if hscale != 1 {
		c.nums(hscale * 100)
		c.op("Tz\n")
	}
	for _, run := range l.runs {
		if len(run.glyphs) == 0 {
			continue
		}
		widths := c.fonts[run.font].widths
		c.op("/F")
		c.buf = strconv.AppendInt(c.buf, int64(run.font), 10)
		c.op(" ")
		c.nums(size)
		c.op("Tf\n")
		open := false
		var penX, penY float64
		for _, g := range run.glyphs {
			c.glyphs.add(run.font, g.gid, g.text)
			gx, gy := x+g.x*kx, y+g.y*k
			if !open || gy != penY {
				if open {
					c.op("]TJ\n")
				}
				c.nums(1, 0, 0, 1, gx, gy)
				c.op("Tm[")
				open, penX, penY = true, gx, gy
			} else if d := math.Round((penX - gx) / kx); d != 0 {
				// A number in a TJ array moves the next glyph left by
				// that many thousandths of the font size.
				c.buf = strconv.AppendInt(c.buf, int64(d), 10)
				penX -= d * kx
			}
			c.buf = append(c.buf, '<', hex[g.gid>>12], hex[g.gid>>8&15], hex[g.gid>>4&15], hex[g.gid&15], '>')
			w := 0
			if int(g.gid) < len(widths) {
				w = widths[g.gid]
			}
			penX += float64(w) * kx
		}
		c.op("]TJ\n")
	}
	if hscale != 1 {
		c.op("100 Tz\n")
	}
	c.op("ET\n")
}

const hex = "0123456789ABCDEF"
