package scan

import (
	"context"
	"math"
	"sort"
	"strconv"
)

// This file interprets a PDF content stream far enough to paint its filled
// rectangles: the graphics state's matrix (q, Q, cm) and fill colour (g,
// rg, k, sc, scn), rectangles (re), and the fill operators. Everything
// else (text, strokes, curves, images) is skipped.

// shape is a filled rectangle on the page: its four corners in default
// user space (points), and its grey (0 black, 1 white).
type shape struct {
	pts  [4][2]float64
	grey float64
}

// matrix is a PDF transformation matrix [a b c d e f].
type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// mul returns m × n: m applied first, then n.
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

func (m matrix) apply(x, y float64) [2]float64 {
	return [2]float64{m[0]*x + m[2]*y + m[4], m[1]*x + m[3]*y + m[5]}
}

// contentShapes interprets a content stream and returns the rectangles it
// fills, within the operator and shape limits.
func contentShapes(ctx context.Context, content []byte) []shape {
	type state struct {
		ctm  matrix
		grey float64
	}
	st := state{ctm: identity}
	var stack []state
	var nums []float64
	var path [][4][2]float64
	var shapes []shape
	lx := lexer{data: content}
	for ops := 0; ops < maxOperators && len(shapes) < maxShapes; {
		tok, kind := lx.next()
		switch kind {
		case tokEOF:
			return shapes
		case tokNumber:
			v, err := strconv.ParseFloat(string(tok), 64)
			if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
				v = 0
			}
			if len(nums) < 16 {
				nums = append(nums, v)
			}
			continue
		case tokOther:
			nums = nums[:0]
			continue
		}
		ops++
		if ops%4096 == 0 && ctx.Err() != nil {
			return shapes
		}
		op := string(tok)
		switch op {
		case "q":
			if len(stack) < maxGraphicsDepth {
				stack = append(stack, st)
			}
		case "Q":
			if n := len(stack); n > 0 {
				st, stack = stack[n-1], stack[:n-1]
			}
		case "cm":
			if len(nums) == 6 {
				st.ctm = matrix(nums[:6]).mul(st.ctm)
			}
		case "g":
			if len(nums) == 1 {
				st.grey = clamp01(nums[0])
			}
		case "rg":
			if len(nums) == 3 {
				st.grey = clamp01(0.299*nums[0] + 0.587*nums[1] + 0.114*nums[2])
			}
		case "k":
			if len(nums) == 4 {
				st.grey = cmykGrey(nums)
			}
		case "sc", "scn":
			switch len(nums) {
			case 1:
				st.grey = clamp01(nums[0])
			case 3:
				st.grey = clamp01(0.299*nums[0] + 0.587*nums[1] + 0.114*nums[2])
			case 4:
				st.grey = cmykGrey(nums)
			}
		case "re":
			if len(nums) == 4 {
				x, y, w, h := nums[0], nums[1], nums[2], nums[3]
				path = append(path, [4][2]float64{
					st.ctm.apply(x, y), st.ctm.apply(x+w, y), st.ctm.apply(x+w, y+h), st.ctm.apply(x, y+h),
				})
			}
		case "f", "F", "f*", "B", "B*", "b", "b*":
			for _, r := range path {
				shapes = append(shapes, shape{pts: r, grey: st.grey})
			}
			path = path[:0]
		case "n", "S", "s":
			path = path[:0]
		case "BI":
			lx.skipInlineImage()
		}
		nums = nums[:0]
	}
	return shapes
}

func clamp01(v float64) float64 { return math.Min(math.Max(v, 0), 1) }

func cmykGrey(v []float64) float64 {
	c, m, y, k := clamp01(v[0]), clamp01(v[1]), clamp01(v[2]), clamp01(v[3])
	return clamp01((1 - k) * (1 - (0.299*c + 0.587*m + 0.114*y)))
}

// Token kinds of the content-stream lexer.
const (
	tokEOF = iota
	tokNumber
	tokOperator
	tokOther // names, strings, arrays, dictionaries: operands not used here
)

// lexer splits a content stream into tokens (ISO 32000-1 section 7.2).
type lexer struct {
	data []byte
	i    int
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' || c == '}' || c == '/' || c == '%'
}

func (l *lexer) next() ([]byte, int) {
	for l.i < len(l.data) {
		c := l.data[l.i]
		switch {
		case isSpace(c):
			l.i++
		case c == '%': // a comment, to the end of the line
			for l.i < len(l.data) && l.data[l.i] != '\n' && l.data[l.i] != '\r' {
				l.i++
			}
		case c == '(':
			l.skipString()
			return nil, tokOther
		case c == '<' && l.i+1 < len(l.data) && l.data[l.i+1] == '<', c == '>' && l.i+1 < len(l.data) && l.data[l.i+1] == '>':
			l.i += 2
			return nil, tokOther
		case c == '<': // a hex string
			for l.i < len(l.data) && l.data[l.i] != '>' {
				l.i++
			}
			l.i++
			return nil, tokOther
		case c == '/' || c == '[' || c == ']' || c == '{' || c == '}' || c == ')' || c == '>':
			l.i++
			if c == '/' {
				l.word()
			}
			return nil, tokOther
		default:
			w := l.word()
			if len(w) == 0 {
				l.i++
				return nil, tokOther
			}
			if c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9') {
				return w, tokNumber
			}
			return w, tokOperator
		}
	}
	return nil, tokEOF
}

// word reads up to the next space or delimiter.
func (l *lexer) word() []byte {
	start := l.i
	for l.i < len(l.data) && !isSpace(l.data[l.i]) && !isDelim(l.data[l.i]) {
		l.i++
	}
	return l.data[start:l.i]
}

// skipString skips a literal string, with its nested parentheses and
// escapes.
func (l *lexer) skipString() {
	depth := 0
	for ; l.i < len(l.data); l.i++ {
		switch l.data[l.i] {
		case '\\':
			l.i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				l.i++
				return
			}
		}
	}
}

// skipInlineImage skips the data of an inline image, to its "EI".
func (l *lexer) skipInlineImage() {
	for ; l.i+2 < len(l.data); l.i++ {
		if isSpace(l.data[l.i]) && l.data[l.i+1] == 'E' && l.data[l.i+2] == 'I' &&
			(l.i+3 == len(l.data) || isSpace(l.data[l.i+3])) {
			l.i += 3
			return
		}
	}
	l.i = len(l.data)
}

// paintVectors paints the filled rectangles of a content stream: one grey
// image per cluster of dark rectangles (a QR code), at pdfModulePixels
// pixels per module, within maxPixels, with a white quiet zone.
func paintVectors(ctx context.Context, content []byte, maxPixels int) []*plane {
	shapes := contentShapes(ctx, content)
	var dark []int
	module := math.Inf(1)
	for i, s := range shapes {
		if s.grey >= 0.5 {
			continue
		}
		w, h := side(s.pts[0], s.pts[1]), side(s.pts[1], s.pts[2])
		if w < 1e-3 || h < 1e-3 {
			continue
		}
		dark = append(dark, i)
		module = math.Min(module, math.Min(w, h))
	}
	if len(dark) < 3 {
		return nil
	}
	var out []*plane
	for _, box := range clusters(shapes, dark, module) {
		if len(out) >= 64 || ctx.Err() != nil {
			break
		}
		// A quiet zone of four modules, and a little more.
		m := 5 * module
		x0, y0, x1, y1 := box[0]-m, box[1]-m, box[2]+m, box[3]+m
		scale := pdfModulePixels / module
		budget := float64(min(maxPixels, maxRenderPixels))
		if area := (x1 - x0) * (y1 - y0) * scale * scale; area > budget {
			scale *= math.Sqrt(budget / area)
		}
		w, h := int((x1-x0)*scale)+1, int((y1-y0)*scale)+1
		if w < 21 || h < 21 {
			continue
		}
		p := newPlane(w, h)
		for i := range p.pix {
			p.pix[i] = 255
		}
		// Painting is bounded too: twenty times the image's pixels, as many
		// large shapes drawn over each other would otherwise cost.
		paint := 20 * w * h
		for i, s := range shapes {
			if paint <= 0 || i%1024 == 0 && ctx.Err() != nil {
				break
			}
			var q [4][2]float64
			for k, pt := range s.pts {
				// PDF's y grows upwards; the image's downwards.
				q[k] = [2]float64{(pt[0] - x0) * scale, (y1 - pt[1]) * scale}
			}
			paint -= fillQuad(p, q, byte(math.Round(s.grey*255)))
		}
		out = append(out, p)
	}
	return out
}

func side(a, b [2]float64) float64 { return math.Hypot(b[0]-a[0], b[1]-a[1]) }

// clusters groups the dark shapes that lie within two modules of each
// other, and returns each group's bounding box (x0, y0, x1, y1), the
// largest groups first.
func clusters(shapes []shape, dark []int, module float64) [][4]float64 {
	type box = [4]float64
	boxes := make([]box, len(dark))
	for i, k := range dark {
		b := box{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
		for _, pt := range shapes[k].pts {
			b[0], b[1] = math.Min(b[0], pt[0]), math.Min(b[1], pt[1])
			b[2], b[3] = math.Max(b[2], pt[0]), math.Max(b[3], pt[1])
		}
		boxes[i] = b
	}
	// Union-find over a grid of cells two modules wide: shapes that share
	// or touch a cell are one group.
	parent := make([]int, len(boxes))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	cell := 2 * module
	owner := map[[2]int]int{}
	cells := 0 // bounded: a code's modules touch a few cells each
	for i, b := range boxes {
		cx0, cy0 := int(math.Floor(b[0]/cell))-1, int(math.Floor(b[1]/cell))-1
		cx1, cy1 := int(math.Floor(b[2]/cell))+1, int(math.Floor(b[3]/cell))+1
		n := (cx1 - cx0 + 1) * (cy1 - cy0 + 1)
		if n > 4096 {
			continue // a huge dark shape (a background) is not part of a code
		}
		if cells += n; cells > 8_000_000 {
			break
		}
		for cy := cy0; cy <= cy1; cy++ {
			for cx := cx0; cx <= cx1; cx++ {
				if j, ok := owner[[2]int{cx, cy}]; ok {
					parent[find(i)] = find(j)
				} else {
					owner[[2]int{cx, cy}] = i
				}
			}
		}
	}
	groups := map[int]box{}
	counts := map[int]int{}
	for i, b := range boxes {
		r := find(i)
		g, ok := groups[r]
		if !ok {
			g = b
		}
		g[0], g[1] = math.Min(g[0], b[0]), math.Min(g[1], b[1])
		g[2], g[3] = math.Max(g[2], b[2]), math.Max(g[3], b[3])
		groups[r] = g
		counts[r]++
	}
	roots := make([]int, 0, len(groups))
	for r := range groups {
		if counts[r] >= 3 {
			roots = append(roots, r)
		}
	}
	sort.Slice(roots, func(a, b int) bool {
		if counts[roots[a]] != counts[roots[b]] {
			return counts[roots[a]] > counts[roots[b]]
		}
		return roots[a] < roots[b]
	})
	out := make([][4]float64, len(roots))
	for i, r := range roots {
		out[i] = groups[r]
	}
	return out
}

// fillQuad paints the convex quadrilateral q (in pixels) with v, at pixel
// centres, and returns the number of pixels it looked at.
func fillQuad(p *plane, q [4][2]float64, v byte) int {
	minX, minY, maxX, maxY := q[0][0], q[0][1], q[0][0], q[0][1]
	for _, pt := range q[1:] {
		minX, minY = math.Min(minX, pt[0]), math.Min(minY, pt[1])
		maxX, maxY = math.Max(maxX, pt[0]), math.Max(maxY, pt[1])
	}
	x0, y0 := max(int(math.Floor(minX)), 0), max(int(math.Floor(minY)), 0)
	x1, y1 := min(int(math.Ceil(maxX)), p.w), min(int(math.Ceil(maxY)), p.h)
	if x0 >= x1 || y0 >= y1 {
		return 0
	}
	// The sign of the quad's winding, so that inside is one side of every edge.
	area := 0.0
	for k := range 4 {
		a, b := q[k], q[(k+1)%4]
		area += a[0]*b[1] - b[0]*a[1]
	}
	if area == 0 {
		return 0
	}
	sign := 1.0
	if area < 0 {
		sign = -1
	}
	axisAligned := q[0][1] == q[1][1] && q[1][0] == q[2][0] || q[0][0] == q[1][0] && q[1][1] == q[2][1]
	for y := y0; y < y1; y++ {
		cy := float64(y) + 0.5
		if axisAligned && (cy < minY || cy >= maxY) {
			continue
		}
		row := p.pix[y*p.w:]
		for x := x0; x < x1; x++ {
			cx := float64(x) + 0.5
			if axisAligned {
				if cx >= minX && cx < maxX {
					row[x] = v
				}
				continue
			}
			inside := true
			for k := range 4 {
				a, b := q[k], q[(k+1)%4]
				if sign*((b[0]-a[0])*(cy-a[1])-(b[1]-a[1])*(cx-a[0])) < 0 {
					inside = false
					break
				}
			}
			if inside {
				row[x] = v
			}
		}
	}
	return (x1 - x0) * (y1 - y0)
}
